//! Multi-touch attribution (DESIGN §6): how much of each conversion every channel earned.
//!
//! The input is a set of [`Journeys`] — touchpoints in order, with the conversions, value and
//! non-conversions at their end — built from the store by the engine or read from aggregated
//! paths ([`paths`], the ChannelAttribution format). Every model is one implementation of
//! [`Model`] in [`models`], listed in [`models::MODELS`]; [`attribute`] runs the requested ones side
//! by side and returns one [`ModelResult`] each.
//!
//! This crate is light on purpose (no DataFusion): the models are plain arithmetic over journeys,
//! and the Markov chains are solved with the small linear-algebra module [`linalg`].

pub mod journeys;
pub mod linalg;
pub mod models;
pub mod paths;
mod position;
mod spec;

use std::collections::HashMap;
use std::time::{Duration, Instant};

pub use journeys::{ChannelId, Journey, Journeys, Milestones};
pub use models::{MODELS, Model, ModelContext, find_model, reference_markdown};
pub use spec::ModelSpec;

/// Errors of attribution; all are the caller's (bad input or settings).
#[derive(Debug, thiserror::Error)]
pub enum AttributionError {
    #[error("journey {}: {reason}", journey + 1)]
    InvalidJourney { journey: usize, reason: String },
    #[error("unknown attribution model `{name}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownModel { name: String, suggestion: Option<String>, known: Vec<&'static str> },
    #[error("model `{model}`: {message}")]
    BadParameter { model: String, message: String },
    #[error("model `{model}` needs {what}")]
    Unsupported { model: String, what: String },
    #[error("{file}: {message}")]
    Paths { file: String, message: String },
    #[error("{file}, line {line}, column `{column}`: {message}")]
    PathsCell { file: String, line: u64, column: String, message: String },
    #[error("model `{model}`: the Markov chain did not converge ({message})")]
    NotConverged { model: String, message: String },
}

/// Settings every model may read.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Channel names that count as "direct" for last non-direct touch (case-insensitive).
    pub direct_channels: Vec<String>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings { direct_channels: vec!["Direct".to_owned(), "(direct)".to_owned()] }
    }
}

/// Credit given to each channel by one model, indexed by [`ChannelId`].
#[derive(Debug, Clone, PartialEq)]
pub struct Credit {
    pub conversions: Vec<f64>,
    pub value: Vec<f64>,
}

impl Credit {
    /// No credit yet for `channels` channels.
    pub fn zero(channels: usize) -> Credit {
        Credit { conversions: vec![0.0; channels], value: vec![0.0; channels] }
    }
}

/// What a model computed, and what the reader should know about how.
#[derive(Debug, Clone)]
pub struct Attributed {
    pub credit: Credit,
    /// Method notes (e.g. "order 3: 1,204 states, solved by Gauss–Seidel, residual 3e-15").
    pub notes: Vec<String>,
}

/// One channel's figures under one model.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelCredit {
    pub channel: String,
    pub conversions: f64,
    pub value: f64,
    /// Fraction of all conversions credited to the channel (0 when there were none).
    pub share: f64,
}

/// One model's result: every channel of the journeys, in the journeys' channel order.
#[derive(Debug, Clone)]
pub struct ModelResult {
    /// The spec as requested (`markov:3`), the model column of the output.
    pub label: String,
    pub model_id: &'static str,
    pub channels: Vec<ChannelCredit>,
    pub notes: Vec<String>,
    /// Time the model took.
    pub elapsed: Duration,
}

/// Runs each model of `specs` over `journeys`.
///
/// A model that cannot run on this input (time decay without touch times) is an error when it was
/// asked for by name; with `skip_unsupported` (used for `--model all`) it is left out with a note
/// returned in the second element.
pub fn attribute(
    journeys: &Journeys,
    specs: &[ModelSpec],
    settings: &Settings,
    skip_unsupported: bool,
) -> Result<(Vec<ModelResult>, Vec<String>), AttributionError> {
    let ctx = ModelContext::new(journeys, settings);
    let total = journeys.total_conversions();
    let mut results = Vec::with_capacity(specs.len());
    let mut skipped = Vec::new();
    for spec in specs {
        let started = Instant::now();
        let attributed = match spec.model.attribute(journeys, spec.parameter, &ctx) {
            Ok(a) => a,
            Err(AttributionError::Unsupported { model, what }) if skip_unsupported => {
                skipped.push(format!("{model} left out: it needs {what}"));
                continue;
            }
            Err(e) => return Err(e),
        };
        let elapsed = started.elapsed();
        let channels = journeys
            .channels()
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let conversions = attributed.credit.conversions[i];
                ChannelCredit {
                    channel: name.clone(),
                    conversions,
                    value: attributed.credit.value[i],
                    share: if total > 0.0 { conversions / total } else { 0.0 },
                }
            })
            .collect();
        results.push(ModelResult {
            label: spec.label.clone(),
            model_id: spec.model.id(),
            channels,
            notes: attributed.notes,
            elapsed,
        });
    }
    Ok((results, skipped))
}

/// Media spend per channel, for the cost figures of [`CostFigures`].
pub type SpendByChannel = HashMap<String, f64>;

/// A channel's cost figures under one model, when its spend is known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostFigures {
    pub spend: f64,
    /// Spend per credited conversion (`None` when no conversion was credited).
    pub cost_per_conversion: Option<f64>,
    /// Credited value per unit of spend (`None` without spend).
    pub roas: Option<f64>,
    /// (credited value − spend) / spend (`None` without spend).
    pub roi: Option<f64>,
}

impl CostFigures {
    /// The figures of a channel with `spend` and the credit it got.
    pub fn new(spend: f64, credit: &ChannelCredit) -> CostFigures {
        let per = |x: f64, by: f64| (by > 0.0).then(|| x / by);
        CostFigures {
            spend,
            cost_per_conversion: per(spend, credit.conversions),
            roas: per(credit.value, spend),
            roi: per(credit.value - spend, spend),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_figures_leave_undefined_ratios_empty() {
        let credit =
            ChannelCredit { channel: "x".into(), conversions: 4.0, value: 300.0, share: 0.5 };
        let f = CostFigures::new(100.0, &credit);
        assert_eq!(f.cost_per_conversion, Some(25.0));
        assert_eq!(f.roas, Some(3.0));
        assert_eq!(f.roi, Some(2.0));
        let none = ChannelCredit { conversions: 0.0, ..credit };
        let f = CostFigures::new(0.0, &none);
        assert_eq!((f.cost_per_conversion, f.roas, f.roi), (None, None, None));
    }
}
