use crate::models::{Family, Model, ModelContext};
use crate::position::rule_based;
use crate::{Attributed, AttributionError, Journeys};

/// All credit to the first touch.
#[derive(Debug)]
pub struct FirstTouch;

impl Model for FirstTouch {
    fn id(&self) -> &'static str {
        "first"
    }
    fn title(&self) -> &'static str {
        "First touch"
    }
    fn description(&self) -> &'static str {
        "All of the conversion to the journey's first touch. One, two or three touches: the first gets 100 %."
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
            out.clear();
            out.resize(j.channels.len(), 0.0);
            out[0] = 1.0;
        }))
    }
}
