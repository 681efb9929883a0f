//! Shapley-value attribution over the observed channel sets.
//!
//! The coalition game: the worth of a set S of channels is the conversions (or value) of the
//! journeys whose channels all lie in S — what S would have produced on its own. That game is the
//! sum, over every channel set T observed on a journey, of T's conversions times the unanimity game
//! of T (worth all of T's conversions exactly when S ⊇ T). A unanimity game's Shapley value gives
//! each member of T an equal part, and Shapley values add over games, so each channel's value is
//! `Σ conversions(T) / |T|` over the observed sets T that contain it (Zhao et al. 2018, "Shapley
//! value methods for attribution modeling in online advertising"). That sum is exact and takes one
//! pass over the journeys for any number of channels, which is why no sampling is needed: the
//! 2ⁿ-coalition enumeration (and a Monte Carlo estimate when n is large) is only required for
//! games that do not decompose this way.

use crate::models::{Family, Model, ModelContext};
use crate::{Attributed, AttributionError, ChannelId, Credit, Journeys};

/// Shapley value of the "conversions a channel set produces on its own" game.
#[derive(Debug)]
pub struct Shapley;

impl Model for Shapley {
    fn id(&self) -> &'static str {
        "shapley"
    }
    fn title(&self) -> &'static str {
        "Shapley value"
    }
    fn description(&self) -> &'static str {
        "Data-driven (cooperative game). A set of channels is worth the conversions of the journeys that \
         used only channels from it; each channel gets its Shapley value of that game, which is exactly \
         each journey's conversions split equally among its distinct channels (a channel touched twice \
         counts once, unlike linear). Exact for any number of channels, no sampling. One touch: 100 %; \
         two touches on different channels: 50/50; `a > b > a`: a and b half each."
    }
    fn family(&self) -> Family {
        Family::DataDriven
    }
    fn attribute(
        &self,
        journeys: &Journeys,
        _: Option<f64>,
        _: &ModelContext,
    ) -> Result<Attributed, AttributionError> {
        let mut credit = Credit::zero(journeys.channels().len());
        let mut members: Vec<ChannelId> = Vec::new();
        for journey in journeys.iter() {
            if journey.conversions == 0.0 && journey.value == 0.0 {
                continue;
            }
            members.clear();
            members.extend_from_slice(journey.channels);
            members.sort_unstable();
            members.dedup();
            let part = 1.0 / members.len() as f64;
            for &c in &members {
                credit.conversions[c as usize] += journey.conversions * part;
                credit.value[c as usize] += journey.value * part;
            }
        }
        Ok(Attributed {
            credit,
            notes: vec!["exact: Σ conversions(T)/|T| over the observed channel sets T".to_owned()],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Settings;

    /// The closed form equals the Shapley value computed from its definition, by enumerating every
    /// coalition of a three-channel game written out here.
    #[test]
    fn closed_form_equals_the_definition() {
        let mut j = Journeys::new(false);
        j.push_named(["a", "b"], 3.0, 0.0, 5.0).unwrap();
        j.push_named(["b", "c", "b"], 2.0, 0.0, 1.0).unwrap();
        j.push_named(["a"], 1.0, 0.0, 0.0).unwrap();
        j.push_named(["a", "b", "c"], 4.0, 0.0, 0.0).unwrap();
        // Journeys as channel bitmasks (a = 1, b = 2, c = 4) with their conversions.
        let sets = [(0b011, 3.0), (0b110, 2.0), (0b001, 1.0), (0b111, 4.0)];
        let worth = |s: u32| sets.iter().filter(|(t, _)| t & !s == 0).map(|(_, c)| c).sum::<f64>();
        let n = 3;
        let fact = |k: u32| (1..=k).product::<u32>() as f64;
        let mut phi = [0.0; 3];
        for (i, p) in phi.iter_mut().enumerate() {
            for s in 0u32..8 {
                if s & (1 << i) == 0 {
                    let k = s.count_ones();
                    *p += fact(k) * fact(n - k - 1) / fact(n) * (worth(s | (1 << i)) - worth(s));
                }
            }
        }
        let ctx = ModelContext::new(&j, &Settings::default());
        let got = Shapley.attribute(&j, None, &ctx).unwrap();
        for (g, w) in got.credit.conversions.iter().zip(phi) {
            assert!((g - w).abs() < 1e-12, "{:?} vs {phi:?}", got.credit.conversions);
        }
    }
}
