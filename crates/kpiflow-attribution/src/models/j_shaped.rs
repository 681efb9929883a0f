use crate::models::{Family, Model, ModelContext};
use crate::position::{ends, keyed, rule_based};
use crate::{Attributed, AttributionError, Journeys};

/// J-shaped (20/60/20).
#[derive(Debug)]
pub struct JShaped;

impl Model for JShaped {
    fn id(&self) -> &'static str {
        "j_shaped"
    }
    fn title(&self) -> &'static str {
        "J-shaped (20/60/20)"
    }
    fn description(&self) -> &'static str {
        "20 % to the first touch, 60 % to the last, 20 % spread evenly over the touches between. One touch: 100 %; two: 25/75 (the middle share goes to the ends in proportion); three: 20/20/60."
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
            let (first, last) = ends(n);
            let roles = [(first, 0.2), (last, 0.6)];
            keyed(n, &roles, 0.2, out);
        }))
    }
}
