use crate::models::{Family, Model, ModelContext};
use crate::position::rule_based;
use crate::{Attributed, AttributionError, Journeys};

/// Equal credit to every touch.
#[derive(Debug)]
pub struct Linear;

impl Model for Linear {
    fn id(&self) -> &'static str {
        "linear"
    }
    fn title(&self) -> &'static str {
        "Linear"
    }
    fn description(&self) -> &'static str {
        "Equal credit to every touch: 1/n each, a channel touched twice gets two shares. One touch: 100 %; \
         two: 50/50; three: a third each."
    }
    fn family(&self) -> Family {
        Family::RuleBased
    }
    fn attribute(
        &self,
        journeys: &Journeys,
        _: Option<f64>,
        ctx: &ModelContext,
    ) -> Result<Attributed, AttributionError> {
        Ok(rule_based(journeys, ctx, |j, _, out| {
            let n = j.channels.len();
            out.clear();
            out.resize(n, 1.0 / n as f64);
        }))
    }
}
