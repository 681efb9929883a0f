use crate::models::{Family, Model, ModelContext};
use crate::position::{ends, keyed, rule_based};
use crate::{Attributed, AttributionError, Journeys};

/// Inverse J (60/20/20).
#[derive(Debug)]
pub struct InverseJ;

impl Model for InverseJ {
    fn id(&self) -> &'static str {
        "inverse_j"
    }
    fn title(&self) -> &'static str {
        "Inverse J (60/20/20)"
    }
    fn description(&self) -> &'static str {
        "60 % to the first touch, 20 % to the last, 20 % spread evenly over the touches between. One touch: 100 %; two: 75/25; three: 60/20/20."
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
            let roles = [(first, 0.6), (last, 0.2)];
            keyed(n, &roles, 0.2, out);
        }))
    }
}
