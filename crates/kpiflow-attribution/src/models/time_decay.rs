use crate::models::{Family, Model, ModelContext, ParameterDoc};
use crate::position::rule_based;
use crate::{Attributed, AttributionError, Journeys};

/// Credit halving with every half-life between a touch and the conversion.
#[derive(Debug)]
pub struct TimeDecay;

/// Default half-life in days (DESIGN §6).
const DEFAULT_HALF_LIFE_DAYS: f64 = 7.0;

impl Model for TimeDecay {
    fn id(&self) -> &'static str {
        "time_decay"
    }
    fn title(&self) -> &'static str {
        "Time decay"
    }
    fn description(&self) -> &'static str {
        "Each touch weighs 2^(−age / half-life), its age being the days from the touch to the conversion \
         (half-life 7 days unless given: `time_decay:14`); weights are normalised to 1. One touch: 100 %; \
         two or three touches: by their ages (touches at the same time share equally). Needs touch times, \
         so it runs on journeys from the store, not on aggregated paths."
    }
    fn family(&self) -> Family {
        Family::RuleBased
    }
    fn parameter(&self) -> Option<ParameterDoc> {
        Some(ParameterDoc { name: "half-life in days", default: DEFAULT_HALF_LIFE_DAYS })
    }
    fn check_parameter(&self, parameter: Option<f64>) -> Result<(), AttributionError> {
        match parameter {
            Some(h) if !(h.is_finite() && h > 0.0) => Err(AttributionError::BadParameter {
                model: self.id().to_owned(),
                message: format!("the half-life must be a number of days > 0, not {h}"),
            }),
            _ => Ok(()),
        }
    }
    fn attribute(
        &self,
        journeys: &Journeys,
        parameter: Option<f64>,
        ctx: &ModelContext,
    ) -> Result<Attributed, AttributionError> {
        if !journeys.has_times() {
            return Err(AttributionError::Unsupported {
                model: self.id().to_owned(),
                what: "touch times (aggregated paths have none)".to_owned(),
            });
        }
        let half_life = parameter.unwrap_or(DEFAULT_HALF_LIFE_DAYS);
        let mut attributed = rule_based(journeys, ctx, |j, _, out| {
            out.clear();
            let ages = j.ages_days.unwrap_or_default();
            // Relative to the youngest touch, so a journey whose touches are all old still has
            // weights far from underflow; normalising removes the common factor.
            let youngest = ages.iter().copied().fold(f64::INFINITY, f64::min);
            out.extend(ages.iter().map(|a| (-(a - youngest) / half_life).exp2()));
            let sum: f64 = out.iter().sum();
            out.iter_mut().for_each(|w| *w /= sum);
        });
        attributed.notes.push(format!("half-life {half_life} days"));
        Ok(attributed)
    }
}
