use crate::models::{Family, Model, ModelContext};
use crate::position::{ends, keyed, lead_and_opportunity_touches, rule_based};
use crate::{Attributed, AttributionError, Journeys};

/// Full path (22.5 × 4 + 10).
#[derive(Debug)]
pub struct FullPath;

impl Model for FullPath {
    fn id(&self) -> &'static str {
        "full_path"
    }
    fn title(&self) -> &'static str {
        "Full path (22.5 × 4 + 10)"
    }
    fn description(&self) -> &'static str {
        "22.5 % each to the first touch, the lead-creation touch, the opportunity-creation touch and the last touch; 10 % spread evenly over the others. From the store the two middle roles are the last touches at or before the contact's and the opportunity's creation; for aggregated paths they are the touches a third and two thirds of the way (rounded). Roles on the same touch add up; roles a journey does not have drop out and the rest is renormalised. One touch: 100 %; two: 50/50; three: a third each; four: 25 % each."
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
            let (lead, opportunity) = lead_and_opportunity_touches(j);
            let roles = [(first, 0.225), (lead, 0.225), (opportunity, 0.225), (last, 0.225)];
            keyed(n, &roles, 0.1, out);
        }))
    }
}
