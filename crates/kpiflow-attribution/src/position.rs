//! The position-weight family shared by the ten rule-based models.
//!
//! A rule-based model gives each touch of a journey a weight; the weights sum to 1 and the
//! journey's conversions and value are split by them. Most models name *key roles* (first touch,
//! lead creation, opportunity creation, last touch) with a share each and a *rest* share spread
//! evenly over the touches that hold no role. [`keyed`] states the family's rules once:
//!
//! - roles that fall on the same touch add up (a one-touch journey's first touch is also its last);
//! - a role with no touch (a two-touch journey has no middle) drops out;
//! - when no touch is left for the rest share, it is spread over the key touches in proportion to
//!   their shares — so the weights are always renormalised to sum to 1.

use crate::journeys::Journey;
use crate::models::ModelContext;
use crate::{Credit, Journeys};

/// Splits every journey's conversions and value by `weights(journey, out)`.
pub(crate) fn credit_by_weights(
    journeys: &Journeys,
    mut weights: impl FnMut(&Journey<'_>, &mut Vec<f64>),
) -> Credit {
    let mut credit = Credit::zero(journeys.channels().len());
    let mut w = Vec::new();
    for journey in journeys.iter() {
        if journey.conversions == 0.0 && journey.value == 0.0 {
            continue;
        }
        weights(&journey, &mut w);
        debug_assert_eq!(w.len(), journey.channels.len());
        for (&channel, &weight) in journey.channels.iter().zip(&w) {
            credit.conversions[channel as usize] += weight * journey.conversions;
            credit.value[channel as usize] += weight * journey.value;
        }
    }
    credit
}

/// The weights of `n` touches given key `roles` (touch index, share) and the `rest` share.
pub(crate) fn keyed(n: usize, roles: &[(Option<usize>, f64)], rest: f64, out: &mut Vec<f64>) {
    out.clear();
    out.resize(n, 0.0);
    for &(at, share) in roles {
        if let Some(i) = at {
            out[i] += share;
        }
    }
    let is_key = |i: usize| roles.iter().any(|&(at, _)| at == Some(i));
    let others = (0..n).filter(|&i| !is_key(i)).count();
    if others > 0 {
        let each = rest / others as f64;
        for (i, w) in out.iter_mut().enumerate() {
            if !is_key(i) {
                *w += each;
            }
        }
    }
    let sum: f64 = out.iter().sum();
    if sum > 0.0 {
        out.iter_mut().for_each(|w| *w /= sum);
    } else {
        // No role and no rest (cannot happen with the registered models): split evenly.
        out.iter_mut().for_each(|w| *w = 1.0 / n as f64);
    }
}

/// First touch 0, last touch n − 1.
pub(crate) fn ends(n: usize) -> (Option<usize>, Option<usize>) {
    (Some(0), Some(n - 1))
}

/// The lead-creation touch: the journey's milestone when it has any milestone, else the middle
/// touch (index ⌊n/2⌋) of a journey of three or more touches.
pub(crate) fn lead_touch(journey: &Journey<'_>) -> Option<usize> {
    let n = journey.channels.len();
    if knows_milestones(journey) {
        journey.milestones.lead.map(|i| i as usize)
    } else {
        (n >= 3).then_some(n / 2)
    }
}

/// The lead- and opportunity-creation touches for the full-path model: the milestones when the
/// journey has any, else the touches a third and two thirds of the way (rounded) for four or more
/// touches, and the middle touch as lead creation for three.
pub(crate) fn lead_and_opportunity_touches(
    journey: &Journey<'_>,
) -> (Option<usize>, Option<usize>) {
    let n = journey.channels.len();
    if knows_milestones(journey) {
        let m = journey.milestones;
        return (m.lead.map(|i| i as usize), m.opportunity.map(|i| i as usize));
    }
    match n {
        0..=2 => (None, None),
        3 => (Some(1), None),
        _ => {
            let third = (n - 1) as f64 / 3.0;
            (Some(third.round() as usize), Some((2.0 * third).round() as usize))
        }
    }
}

fn knows_milestones(journey: &Journey<'_>) -> bool {
    let m = journey.milestones;
    m.known || m.lead.is_some() || m.opportunity.is_some()
}

/// The position-weight models, all with the same shape: a weight function over one journey.
pub(crate) fn rule_based(
    journeys: &Journeys,
    ctx: &ModelContext,
    weights: impl Fn(&Journey<'_>, &ModelContext, &mut Vec<f64>),
) -> crate::Attributed {
    crate::Attributed {
        credit: credit_by_weights(journeys, |j, out| weights(j, ctx, out)),
        notes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(n: usize, roles: &[(Option<usize>, f64)], rest: f64) -> Vec<f64> {
        let mut out = Vec::new();
        keyed(n, roles, rest, &mut out);
        out.iter().map(|x| (x * 1e9).round() / 1e9).collect()
    }

    #[test]
    fn roles_add_up_drop_out_and_renormalise() {
        // U-shaped: 40 / 20 spread / 40.
        let u = |n: usize| w(n, &[(Some(0), 0.4), (Some(n - 1), 0.4)], 0.2);
        assert_eq!(u(1), [1.0]);
        assert_eq!(u(2), [0.5, 0.5]);
        assert_eq!(u(3), [0.4, 0.2, 0.4]);
        assert_eq!(u(4), [0.4, 0.1, 0.1, 0.4]);
        // A missing role drops out: W-shaped with two touches.
        assert_eq!(w(2, &[(Some(0), 0.3), (None, 0.3), (Some(1), 0.3)], 0.1), [0.5, 0.5]);
        // J-shaped with two touches keeps the 20:60 proportion.
        assert_eq!(w(2, &[(Some(0), 0.2), (Some(1), 0.6)], 0.2), [0.25, 0.75]);
    }
}
