//! Markov-chain attribution with the removal effect, solved exactly on the absorbing chain.
//!
//! Every journey is a walk `start → s₁ → … → sₙ → conversion | null`, where for order k a state is
//! the last k channels seen (the first k − 1 states are the shorter prefixes). Transition
//! probabilities are the observed frequencies, each journey weighted by the conversions and
//! non-conversions it stands for. The conversion probability from `start` is the chain's absorption
//! probability into *conversion*; removing a channel (every state that contains it becomes a dead
//! end) lowers it, and that relative drop is the channel's removal effect. Conversions are split in
//! proportion to the removal effects. Value is split the same way on the expected value absorbed
//! (each conversion edge carrying the value of the conversions that ended there), so a channel on
//! paths to large deals earns more value than conversions.
//!
//! Both are linear systems solved by [`crate::linalg`]: no simulation, the same input always gives
//! the same answer.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::linalg::{SparseRows, solve_absorbing};
use crate::models::{Family, Model, ModelContext, ParameterDoc};
use crate::{Attributed, AttributionError, Credit, Journeys};

/// Markov chain of order 1 to 4 with the removal effect.
#[derive(Debug)]
pub struct Markov;

/// Highest order accepted: states are packed four channels to a `u64`.
const MAX_ORDER: usize = 4;

impl Model for Markov {
    fn id(&self) -> &'static str {
        "markov"
    }
    fn title(&self) -> &'static str {
        "Markov chain (removal effect)"
    }
    fn description(&self) -> &'static str {
        "Data-driven. Journeys, converting or not, form a Markov chain whose states are the last k \
         channels (order k = 1 unless given: `markov:3`, up to 4). A channel's removal effect is the \
         relative drop of the chain's conversion probability when every state containing it leads \
         nowhere; conversions are split in proportion to removal effects, value likewise on the chain's \
         expected value. Solved exactly on the absorbing chain (LU decomposition, or Gauss–Seidel to \
         machine precision for large high-order chains): deterministic, no simulation. One-, two- and \
         three-touch journeys are simply shorter walks; a channel only ever seen alone on converting \
         journeys gets the full removal effect."
    }
    fn family(&self) -> Family {
        Family::DataDriven
    }
    fn parameter(&self) -> Option<ParameterDoc> {
        Some(ParameterDoc { name: "order", default: 1.0 })
    }
    fn check_parameter(&self, parameter: Option<f64>) -> Result<(), AttributionError> {
        match parameter {
            Some(k) if !(1.0..=MAX_ORDER as f64).contains(&k) || k.fract() != 0.0 => {
                Err(AttributionError::BadParameter {
                    model: self.id().to_owned(),
                    message: format!("the order must be 1, 2, 3 or 4, not {k}"),
                })
            }
            _ => Ok(()),
        }
    }
    fn attribute(
        &self,
        journeys: &Journeys,
        parameter: Option<f64>,
        _: &ModelContext,
    ) -> Result<Attributed, AttributionError> {
        self.check_parameter(parameter)?;
        let order = parameter.map_or(1, |k| k as usize);
        let channels = journeys.channels().len();
        if channels >= usize::from(u16::MAX) {
            return Err(AttributionError::Unsupported {
                model: self.id().to_owned(),
                what: format!("fewer than 65,535 channels, not {channels}"),
            });
        }
        let chain = Chain::build(journeys, order);
        let not_converged = |e: crate::linalg::NotConverged| AttributionError::NotConverged {
            model: self.id().to_owned(),
            message: e.to_string(),
        };
        let rhs = [chain.conversion.as_slice(), chain.value.as_slice()];
        let full =
            solve_absorbing(&chain.q, &rhs, &vec![false; chain.q.len()]).map_err(not_converged)?;
        let (p, v) = (full.x[0][0], full.x[1][0]);
        let mut removal = vec![0.0; channels];
        let mut removal_value = vec![0.0; channels];
        let mut method = full.method;
        let mut residual = full.residual;
        for c in 0..channels {
            if chain.states_with[c].is_empty() {
                continue;
            }
            let mut removed = vec![false; chain.q.len()];
            for &s in &chain.states_with[c] {
                removed[s as usize] = true;
            }
            let without = solve_absorbing(&chain.q, &rhs, &removed).map_err(not_converged)?;
            residual = residual.max(without.residual);
            if let crate::linalg::Method::GaussSeidel { sweeps } = without.method
                && matches!(method, crate::linalg::Method::GaussSeidel { sweeps: s } if s < sweeps)
            {
                method = without.method;
            }
            if p > 0.0 {
                removal[c] = (1.0 - without.x[0][0] / p).max(0.0);
            }
            if v != 0.0 {
                removal_value[c] = (1.0 - without.x[1][0] / v).max(0.0);
            }
        }
        let credit = Credit {
            conversions: split(journeys.total_conversions(), &removal),
            value: split(journeys.total_value(), &removal_value),
        };
        let effects: Vec<String> = journeys
            .channels()
            .iter()
            .zip(&removal)
            .map(|(name, re)| format!("{name} {re:.4}"))
            .collect();
        Ok(Attributed {
            credit,
            notes: vec![
                format!(
                    "order {order}: {} states, {} transitions, conversion probability {p:.6}; solved by {method}, residual {residual:.1e}",
                    chain.q.len() - 1,
                    chain.q.entries(),
                ),
                format!("removal effects: {}", effects.join(", ")),
            ],
        })
    }
}

/// `total` split in proportion to `weights` (all zero: nothing to split).
fn split(total: f64, weights: &[f64]) -> Vec<f64> {
    let sum: f64 = weights.iter().sum();
    if sum > 0.0 {
        weights.iter().map(|w| total * w / sum).collect()
    } else {
        vec![0.0; weights.len()]
    }
}

/// The chain of transient states; state 0 is `start`.
struct Chain {
    /// Transition probabilities between transient states.
    q: SparseRows,
    /// One-step probability of converting from each state.
    conversion: Vec<f64>,
    /// One-step expected value absorbed from each state.
    value: Vec<f64>,
    /// Per channel: the states whose window contains it.
    states_with: Vec<Vec<u32>>,
}

/// A multiplicative hasher for the chain's integer keys (SipHash would double the build time on
/// millions of touches; the keys are not attacker-chosen).
#[derive(Default)]
struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;

impl Chain {
    fn build(journeys: &Journeys, order: usize) -> Chain {
        let bits = 16 * order as u32;
        let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
        let mut state_of: IntMap<u64, u32> = IntMap::default();
        let mut keys: Vec<u64> = vec![0];
        state_of.insert(0, 0);
        let mut counts: IntMap<u64, f64> = IntMap::default();
        let mut ends: Vec<[f64; 3]> = vec![[0.0; 3]];
        for journey in journeys.iter() {
            let weight = journey.conversions + journey.nulls;
            if weight <= 0.0 {
                continue;
            }
            let (mut key, mut from) = (0u64, 0u32);
            for &c in journey.channels {
                key = ((key << 16) | u64::from(c + 1)) & mask;
                let to = *state_of.entry(key).or_insert_with(|| {
                    keys.push(key);
                    ends.push([0.0; 3]);
                    (keys.len() - 1) as u32
                });
                *counts.entry((u64::from(from) << 32) | u64::from(to)).or_insert(0.0) += weight;
                from = to;
            }
            let end = &mut ends[from as usize];
            end[0] += journey.conversions;
            end[1] += journey.value;
            end[2] += journey.nulls;
        }
        let n = keys.len();
        let mut out: Vec<f64> = ends.iter().map(|e| e[0] + e[2]).collect();
        let mut edges: Vec<(u32, u32, f64)> =
            counts.into_iter().map(|(k, w)| ((k >> 32) as u32, k as u32, w)).collect();
        // Sorted so the matrix (and every floating-point sum over it) is the same on every run.
        edges.sort_unstable_by_key(|&(from, to, _)| (from, to));
        for &(from, _, w) in &edges {
            out[from as usize] += w;
        }
        let mut q = SparseRows {
            starts: Vec::with_capacity(n + 1),
            cols: Vec::with_capacity(edges.len()),
            vals: Vec::with_capacity(edges.len()),
        };
        q.starts.push(0);
        let mut at = 0;
        for (row, &total) in out.iter().enumerate() {
            while at < edges.len() && edges[at].0 as usize == row {
                q.cols.push(edges[at].1);
                q.vals.push(edges[at].2 / total);
                at += 1;
            }
            q.starts.push(q.cols.len());
        }
        let per_state = |i: usize| if out[i] > 0.0 { 1.0 / out[i] } else { 0.0 };
        let conversion = (0..n).map(|i| ends[i][0] * per_state(i)).collect();
        let value = (0..n).map(|i| ends[i][1] * per_state(i)).collect();
        let mut states_with = vec![Vec::new(); journeys.channels().len()];
        for (s, &key) in keys.iter().enumerate().skip(1) {
            let mut seen: Vec<u64> =
                (0..order).map(|g| (key >> (16 * g)) & 0xffff).filter(|&c| c != 0).collect();
            seen.sort_unstable();
            seen.dedup();
            for c in seen {
                states_with[(c - 1) as usize].push(s as u32);
            }
        }
        Chain { q, conversion, value, states_with }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Settings;

    fn run(journeys: &Journeys, order: f64) -> Attributed {
        let ctx = ModelContext::new(journeys, &Settings::default());
        Markov.attribute(journeys, Some(order), &ctx).unwrap()
    }

    /// The classic three-path example, worked by hand.
    ///
    /// Paths: `a > b` converts once, `a` does not convert once, `b` converts once.
    /// Order-1 chain: start → a (2 of 3), start → b (1 of 3); a → b (1 of 2), a → null (1 of 2);
    /// b → conversion (2 of 2). P(conversion) = 2/3 · 1/2 · 1 + 1/3 · 1 = 2/3.
    /// Without a: only start → b converts: 1/3, removal effect 1 − (1/3)/(2/3) = 1/2.
    /// Without b: nothing converts: removal effect 1.
    /// Credit of the 2 conversions: a 2 · 0.5/1.5 = 2/3, b 2 · 1/1.5 = 4/3.
    #[test]
    fn removal_effects_match_the_hand_computation() {
        let mut j = Journeys::new(false);
        j.push_named(["a", "b"], 1.0, 10.0, 0.0).unwrap();
        j.push_named(["a"], 0.0, 0.0, 1.0).unwrap();
        j.push_named(["b"], 1.0, 30.0, 0.0).unwrap();
        let got = run(&j, 1.0);
        assert!((got.credit.conversions[0] - 2.0 / 3.0).abs() < 1e-12, "{:?}", got.credit);
        assert!((got.credit.conversions[1] - 4.0 / 3.0).abs() < 1e-12);
        // Value at order 1: state b absorbs (10 + 30) / 2 = 20 per visit whatever came before, so
        // value splits like conversions: a 40/3, b 80/3.
        assert!((got.credit.value[0] - 40.0 / 3.0).abs() < 1e-12, "{:?}", got.credit);
        // At order 2 the states (a,b) and (b) absorb 10 and 30: value from start = 2/3 · 1/2 · 10
        // + 1/3 · 30 = 40/3; without a: 10, effect 1/4; without b: 0, effect 1 → a 8, b 32.
        let order2 = run(&j, 2.0);
        assert!((order2.credit.value[0] - 8.0).abs() < 1e-12, "{:?}", order2.credit);
        assert!((order2.credit.value[1] - 32.0).abs() < 1e-12);
        assert!(got.notes[0].contains("conversion probability 0.666667"), "{:?}", got.notes);
    }

    /// Order 2 on paths where order 1 cannot tell `a > b` from `c > b`.
    ///
    /// `a > b` always converts (2 journeys), `c > b` never (2 journeys).
    /// Order 2: states (a), (c), (a,b), (c,b): (a,b) converts always, (c,b) never; removing c
    /// changes nothing (effect 0), removing a or b loses everything (effect 1 each), so a and b
    /// get one conversion each.
    #[test]
    fn higher_orders_see_which_channel_came_before() {
        let mut j = Journeys::new(false);
        j.push_named(["a", "b"], 2.0, 2.0, 0.0).unwrap();
        j.push_named(["c", "b"], 0.0, 0.0, 2.0).unwrap();
        let order2 = run(&j, 2.0);
        assert_eq!(order2.credit.conversions, [1.0, 1.0, 0.0]);
        let order1 = run(&j, 1.0);
        // Order 1: P = 1/2 (b converts half the time). Without a: P = 1/2 · 1/2 = 1/4, effect 1/2.
        // Without b: 0, effect 1. Without c: 1/2 · 1/2 = 1/4, effect 1/2. Split 2 as 1/2 : 1 : 1/2.
        let want = [0.5, 1.0, 0.5];
        for (got, want) in order1.credit.conversions.iter().zip(want) {
            assert!((got - want).abs() < 1e-12, "{:?}", order1.credit);
        }
    }
}
