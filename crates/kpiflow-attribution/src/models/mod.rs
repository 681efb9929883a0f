//! The attribution models: one file per model, all listed in [`MODELS`].
//!
//! The rule-based models share one position-weight family ([`crate::position`]): each journey's
//! credit (1 per conversion) is split over its touches by weights that depend only on the touches'
//! positions, times and channels. The data-driven models (Markov, Shapley) look at all journeys
//! at once, including those that did not convert.

mod first;
mod full_path;
mod inverse_j;
mod j_shaped;
mod last;
mod last_non_direct;
mod linear;
mod markov;
mod shapley;
mod time_decay;
mod u_shaped;
mod w_shaped;

use crate::{Attributed, AttributionError, Journeys, Settings};

/// The two kinds of model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Credit split by the touches' positions (or times): the same journey always gets the same split.
    RuleBased,
    /// Credit learnt from all journeys, converting or not.
    DataDriven,
}

/// The parameter a model takes after `:` in its spec (`markov:3`).
#[derive(Debug, Clone, Copy)]
pub struct ParameterDoc {
    /// What the number is, for messages and docs ("order", "half-life in days").
    pub name: &'static str,
    pub default: f64,
}

/// What every model may read besides the journeys.
#[derive(Debug, Clone)]
pub struct ModelContext {
    /// Per channel id: whether the channel counts as direct (last non-direct touch skips it).
    pub is_direct: Vec<bool>,
}

impl ModelContext {
    pub fn new(journeys: &Journeys, settings: &Settings) -> ModelContext {
        let is_direct = journeys
            .channels()
            .iter()
            .map(|c| settings.direct_channels.iter().any(|d| d.eq_ignore_ascii_case(c)))
            .collect();
        ModelContext { is_direct }
    }
}

/// One attribution model.
///
/// Contract: [`Model::attribute`] gives every channel a credit ≥ 0, and the credits sum to the
/// journeys' total conversions and total value (up to floating-point rounding); the property tests
/// hold every registered model to it.
pub trait Model: Sync + Send {
    /// The id users type (`--model markov`) and outputs show.
    fn id(&self) -> &'static str;
    /// A short human name ("U-shaped (40/20/40)").
    fn title(&self) -> &'static str;
    /// How the credit is split, including journeys of one, two and three touches (the model
    /// reference in docs/ is generated from it).
    fn description(&self) -> &'static str;
    fn family(&self) -> Family;
    /// The parameter after `:`, if the model takes one.
    fn parameter(&self) -> Option<ParameterDoc> {
        None
    }
    /// Checks a parameter before any work starts.
    fn check_parameter(&self, parameter: Option<f64>) -> Result<(), AttributionError> {
        match parameter {
            None => Ok(()),
            Some(_) => Err(AttributionError::BadParameter {
                model: self.id().to_owned(),
                message: "it takes no parameter".to_owned(),
            }),
        }
    }
    /// Credits every channel of `journeys`.
    fn attribute(
        &self,
        journeys: &Journeys,
        parameter: Option<f64>,
        ctx: &ModelContext,
    ) -> Result<Attributed, AttributionError>;
}

/// Every model, in the order `--model all` runs and shows them.
pub static MODELS: &[&dyn Model] = &[
    &first::FirstTouch,
    &last::LastTouch,
    &last_non_direct::LastNonDirect,
    &linear::Linear,
    &time_decay::TimeDecay,
    &u_shaped::UShaped,
    &w_shaped::WShaped,
    &full_path::FullPath,
    &j_shaped::JShaped,
    &inverse_j::InverseJ,
    &markov::Markov,
    &shapley::Shapley,
];

/// The model called `name` (case-insensitive), or an error with a "did you mean".
pub fn find_model(name: &str) -> Result<&'static dyn Model, AttributionError> {
    let wanted = name.trim().to_ascii_lowercase().replace('-', "_");
    MODELS.iter().copied().find(|m| m.id() == wanted).ok_or_else(|| {
        AttributionError::UnknownModel {
            name: name.to_owned(),
            suggestion: kpiflow_model::suggest::did_you_mean(name, MODELS.iter().map(|m| m.id()))
                .map(str::to_owned),
            known: MODELS.iter().map(|m| m.id()).collect(),
        }
    })
}

/// `docs/attribution.md`: every registered model, generated from [`MODELS`].
pub fn reference_markdown() -> String {
    let mut out = String::from(
        "# Attribution models\n\nGenerated from the code (`crates/kpiflow-attribution/src/models/`); \
         `KPIFLOW_BLESS=1 cargo test --release --workspace reference_docs` rewrites it.\n\n\
         `kpiflow attribution --model ID[,ID...]` (or `all`) runs them side by side; `ID:PARAMETER` sets \
         a model's parameter (`markov:3`, `time_decay:14`). Every model gives each channel a credit ≥ 0, \
         and the credits sum to the conversions (and the value) of the journeys.\n\n\
         The rule-based models are one position-weight family: key roles (first touch, lead creation, \
         opportunity creation, last touch) get their share, the rest is spread evenly over the other \
         touches; roles on the same touch add up, a role a journey does not have drops out, and when \
         no other touch is left the rest goes to the key touches in proportion — so a journey's weights \
         always sum to 1.\n\n| id | model | kind | parameter |\n|---|---|---|---|\n",
    );
    for m in MODELS {
        let kind = match m.family() {
            Family::RuleBased => "rule-based",
            Family::DataDriven => "data-driven",
        };
        let parameter = m
            .parameter()
            .map_or("—".to_owned(), |p| format!("{} (default {})", p.name, p.default));
        out.push_str(&format!("| `{}` | {} | {kind} | {parameter} |\n", m.id(), m.title()));
    }
    for m in MODELS {
        out.push_str(&format!("\n## `{}` — {}\n\n{}\n", m.id(), m.title(), m.description()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn model_ids_are_unique_and_lowercase() {
        let mut seen = HashSet::new();
        for m in MODELS {
            assert!(seen.insert(m.id()), "duplicate model id {}", m.id());
            assert_eq!(m.id(), m.id().to_ascii_lowercase());
            assert!(!m.description().is_empty() && !m.title().is_empty());
        }
        assert_eq!(MODELS.iter().filter(|m| m.family() == Family::RuleBased).count(), 10);
    }

    #[test]
    fn finds_models_case_insensitively() {
        assert_eq!(find_model("Last-Non-Direct").unwrap().id(), "last_non_direct");
        assert!(find_model("nope").is_err());
    }
}
