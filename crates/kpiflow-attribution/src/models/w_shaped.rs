use crate::models::{Family, Model, ModelContext};
use crate::position::{ends, keyed, lead_touch, rule_based};
use crate::{Attributed, AttributionError, Journeys};

/// W-shaped (30/30/30 + 10).
#[derive(Debug)]
pub struct WShaped;

impl Model for WShaped {
    fn id(&self) -> &'static str {
        "w_shaped"
    }
    fn title(&self) -> &'static str {
        "W-shaped (30/30/30 + 10)"
    }
    fn description(&self) -> &'static str {
        "30 % each to the first touch, the touch that created the lead and the last touch; 10 % spread evenly over the others. The lead-creation touch is the last touch at or before the contact was created when the journey comes from the store; for aggregated paths (no milestones) it is the middle touch (index ⌊n/2⌋). Roles on the same touch add up (a lead created on the first visit gives that touch 60 %). One touch: 100 %; two: 50/50; three: a third each; four: 30/10/30/30 with the lead at index 2 by position."
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
            let roles = [(first, 0.3), (lead_touch(j), 0.3), (last, 0.3)];
            keyed(n, &roles, 0.1, out);
        }))
    }
}
