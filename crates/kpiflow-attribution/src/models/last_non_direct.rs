use crate::models::{Family, Model, ModelContext};
use crate::position::rule_based;
use crate::{Attributed, AttributionError, Journeys};

/// All credit to the last touch that was not direct (Google Analytics' default before GA4).
#[derive(Debug)]
pub struct LastNonDirect;

impl Model for LastNonDirect {
    fn id(&self) -> &'static str {
        "last_non_direct"
    }
    fn title(&self) -> &'static str {
        "Last non-direct touch"
    }
    fn description(&self) -> &'static str {
        "All of the conversion to the last touch whose channel is not Direct (a direct visit usually \
         follows the touch that did the work); when every touch is direct, to the last touch. One touch: \
         it gets 100 %. Two or three touches: the last non-direct one gets 100 %."
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
        Ok(rule_based(journeys, ctx, |j, ctx, out| {
            let n = j.channels.len();
            out.clear();
            out.resize(n, 0.0);
            let at = j.channels.iter().rposition(|&c| !ctx.is_direct[c as usize]).unwrap_or(n - 1);
            out[at] = 1.0;
        }))
    }
}
