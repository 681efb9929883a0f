use crate::models::{Family, Model, ModelContext};
use crate::position::{ends, keyed, rule_based};
use crate::{Attributed, AttributionError, Journeys};

/// U-shaped (40/20/40).
#[derive(Debug)]
pub struct UShaped;

impl Model for UShaped {
    fn id(&self) -> &'static str {
        "u_shaped"
    }
    fn title(&self) -> &'static str {
        "U-shaped (40/20/40)"
    }
    fn description(&self) -> &'static str {
        "40 % to the first touch, 40 % to the last, 20 % spread evenly over the touches between. One touch: 100 %; two: 50/50 (no middle, so the 20 % goes to the ends in proportion); three: 40/20/40."
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
            let roles = [(first, 0.4), (last, 0.4)];
            keyed(n, &roles, 0.2, out);
        }))
    }
}
