//! Model specs as users write them: `markov`, `markov:3`, `time_decay:14`, `all`.

use crate::AttributionError;
use crate::models::{MODELS, Model, find_model};

/// A model with its parameter, as requested.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    pub model: &'static dyn Model,
    /// The value after `:` (Markov order, time-decay half-life), checked by the model.
    pub parameter: Option<f64>,
    /// The spec as written, trimmed (`markov:3`): the model column of every output.
    pub label: String,
}

impl std::fmt::Debug for dyn Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl ModelSpec {
    /// Parses one spec `id[:parameter]`.
    pub fn parse(spec: &str) -> Result<ModelSpec, AttributionError> {
        let spec = spec.trim();
        let (name, parameter) = match spec.split_once(':') {
            Some((name, p)) => (name.trim(), Some(p.trim())),
            None => (spec, None),
        };
        let model = find_model(name)?;
        let parameter = match parameter {
            None => None,
            Some(p) => {
                let Some(doc) = model.parameter() else {
                    return Err(AttributionError::BadParameter {
                        model: model.id().to_owned(),
                        message: format!("it takes no parameter, but `{spec}` gives one"),
                    });
                };
                let value: f64 = p.parse().map_err(|_| AttributionError::BadParameter {
                    model: model.id().to_owned(),
                    message: format!("`{p}` is not a number (expected the {})", doc.name),
                })?;
                Some(value)
            }
        };
        model.check_parameter(parameter)?;
        let label = if parameter.is_some() { spec.replace(' ', "") } else { model.id().to_owned() };
        Ok(ModelSpec { model, parameter, label })
    }

    /// Parses a comma-separated list, or `all` (every registered model with its default
    /// parameter). Repeated specs are kept once.
    pub fn parse_list(list: &str) -> Result<Vec<ModelSpec>, AttributionError> {
        if list.trim().eq_ignore_ascii_case("all") {
            return Ok(MODELS
                .iter()
                .map(|&model| ModelSpec { model, parameter: None, label: model.id().to_owned() })
                .collect());
        }
        let mut specs: Vec<ModelSpec> = Vec::new();
        for part in list.split(',').filter(|p| !p.trim().is_empty()) {
            let spec = ModelSpec::parse(part)?;
            if !specs.iter().any(|s| s.label == spec.label) {
                specs.push(spec);
            }
        }
        if specs.is_empty() {
            return Err(AttributionError::BadParameter {
                model: list.to_owned(),
                message: "no model named; give ids like `first,last,markov` or `all`".to_owned(),
            });
        }
        Ok(specs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ids_parameters_and_all() {
        let specs = ModelSpec::parse_list("first, markov:3,markov:3 ,time_decay:14").unwrap();
        let labels: Vec<_> = specs.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["first", "markov:3", "time_decay:14"]);
        assert_eq!(specs[1].parameter, Some(3.0));
        assert_eq!(ModelSpec::parse_list("ALL").unwrap().len(), MODELS.len());
    }

    #[test]
    fn explains_bad_specs() {
        let err = |s: &str| ModelSpec::parse_list(s).unwrap_err().to_string();
        assert_eq!(err("markow"), "unknown attribution model `markow` (did you mean `markov`?)");
        assert!(err("markov:5").contains("order must be 1, 2, 3 or 4"), "{}", err("markov:5"));
        assert!(err("markov:x").contains("not a number"), "{}", err("markov:x"));
        assert!(err("first:2").contains("takes no parameter"), "{}", err("first:2"));
        assert!(err("time_decay:0").contains("half-life"), "{}", err("time_decay:0"));
        assert!(err(",").contains("no model named"), "{}", err(","));
    }
}
