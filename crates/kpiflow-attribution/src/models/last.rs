use crate::models::{Family, Model, ModelContext};
use crate::position::rule_based;
use crate::{Attributed, AttributionError, Journeys};

/// All credit to the last touch.
#[derive(Debug)]
pub struct LastTouch;

impl Model for LastTouch {
    fn id(&self) -> &'static str {
        "last"
    }
    fn title(&self) -> &'static str {
        "Last touch"
    }
    fn description(&self) -> &'static str {
        "All of the conversion to the journey's last touch before it converted. One, two or three touches: the last gets 100 %."
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
            out.resize(n, 0.0);
            out[n - 1] = 1.0;
        }))
    }
}
