//! Invariants every model keeps, on random journeys (proptest), and the position weights each
//! rule-based model states for journeys of one, two, three and many touches.
#![allow(clippy::unwrap_used)]

use kpiflow_attribution::{
    Journeys, MODELS, Milestones, ModelContext, ModelSpec, Settings, attribute, find_model,
};
use proptest::prelude::*;

/// One random journey: channels (0..6), ages in days (oldest first), milestones, conversions,
/// value, non-conversions.
type RawJourney = (Vec<(u32, f64)>, Option<usize>, Option<usize>, u8, f64, u8);

fn raw_journey() -> impl Strategy<Value = RawJourney> {
    (
        prop::collection::vec((0u32..6, 0.0f64..120.0), 1..9),
        prop::option::of(0usize..8),
        prop::option::of(0usize..8),
        0u8..4,
        0.0f64..5000.0,
        0u8..4,
    )
}

fn build(raw: &[RawJourney]) -> Journeys {
    let names = ["Direct", "Paid Search", "Email", "Organic Search", "Referral", "Paid Social"];
    let mut j = Journeys::new(true);
    let ids: Vec<u32> = names.iter().map(|n| j.channel_id(n)).collect();
    for (touches, lead, opportunity, conversions, value, nulls) in raw {
        let channels: Vec<u32> = touches.iter().map(|&(c, _)| ids[c as usize]).collect();
        let mut ages: Vec<f64> = touches.iter().map(|&(_, a)| a).collect();
        ages.sort_by(|a, b| b.total_cmp(a));
        let within = |m: &Option<usize>| m.filter(|&i| i < channels.len()).map(|i| i as u32);
        let milestones =
            Milestones { lead: within(lead), opportunity: within(opportunity), known: false };
        let value = if *conversions == 0 { 0.0 } else { *value };
        j.push(
            &channels,
            Some(&ages),
            milestones,
            f64::from(*conversions),
            value,
            f64::from(*nulls),
        )
        .unwrap();
    }
    j
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Each model's credit sums to the conversions and the value it was given, and none is negative.
    #[test]
    fn credit_sums_to_what_was_given(raw in prop::collection::vec(raw_journey(), 1..40)) {
        let journeys = build(&raw);
        let mut specs = ModelSpec::parse_list("all").unwrap();
        specs.extend(ModelSpec::parse_list("markov:2,markov:3,markov:4,time_decay:1").unwrap());
        let (results, skipped) = attribute(&journeys, &specs, &Settings::default(), false).unwrap();
        prop_assert!(skipped.is_empty());
        let (conversions, value) = (journeys.total_conversions(), journeys.total_value());
        for r in &results {
            let got: f64 = r.channels.iter().map(|c| c.conversions).sum();
            let got_value: f64 = r.channels.iter().map(|c| c.value).sum();
            prop_assert!((got - conversions).abs() <= 1e-9 * conversions.max(1.0), "{}: {} vs {}", r.label, got, conversions);
            prop_assert!((got_value - value).abs() <= 1e-9 * value.max(1.0), "{}: {} vs {}", r.label, got_value, value);
            for c in &r.channels {
                prop_assert!(c.conversions >= 0.0 && c.value >= 0.0, "{}: {:?}", r.label, c);
            }
        }
    }

    /// Order-1 Markov credit equals a direct computation written here: the chain's transition
    /// matrix from the journeys, absorption probabilities by plain value iteration, removal effects.
    #[test]
    fn markov_equals_a_direct_computation(raw in prop::collection::vec(raw_journey(), 1..25)) {
        let journeys = build(&raw);
        let channels = journeys.channels().len();
        // States: 0 = start, 1 + c = channel c.
        let n = channels + 1;
        let mut counts = vec![vec![0.0; n]; n];
        let (mut conv, mut null) = (vec![0.0; n], vec![0.0; n]);
        for j in journeys.iter() {
            let w = j.conversions + j.nulls;
            if w == 0.0 { continue; }
            let mut from = 0;
            for &c in j.channels {
                counts[from][1 + c as usize] += w;
                from = 1 + c as usize;
            }
            conv[from] += j.conversions;
            null[from] += j.nulls;
        }
        let p_convert = |removed: Option<usize>| {
            let mut x = vec![0.0; n];
            for _ in 0..20_000 {
                let mut next = vec![0.0; n];
                for s in 0..n {
                    if Some(s) == removed { continue; }
                    let out: f64 = counts[s].iter().sum::<f64>() + conv[s] + null[s];
                    if out == 0.0 { continue; }
                    next[s] = (conv[s] + (0..n).map(|t| counts[s][t] * x[t]).sum::<f64>()) / out;
                }
                x = next;
            }
            x[0]
        };
        let p = p_convert(None);
        let total = journeys.total_conversions();
        prop_assume!(total > 0.0);
        let effects: Vec<f64> = (0..channels).map(|c| 1.0 - p_convert(Some(1 + c)) / p).collect();
        let sum: f64 = effects.iter().sum();
        let ctx = ModelContext::new(&journeys, &Settings::default());
        let got = find_model("markov").unwrap().attribute(&journeys, None, &ctx).unwrap();
        for (c, effect) in effects.iter().enumerate() {
            let want = total * effect / sum;
            prop_assert!((got.credit.conversions[c] - want).abs() < 1e-6 * total, "channel {}: {} vs {}", c, got.credit.conversions[c], want);
        }
    }

    /// Re-reading the same journeys twice (a second identical set appended) doubles every credit:
    /// the models are homogeneous, so nothing depends on the order or the count of identical journeys
    /// beyond their weight.
    #[test]
    fn doubling_the_journeys_doubles_the_credit(raw in prop::collection::vec(raw_journey(), 1..15)) {
        let once = build(&raw);
        let twice = build(&[raw.clone(), raw].concat());
        let specs = ModelSpec::parse_list("all").unwrap();
        let (a, _) = attribute(&once, &specs, &Settings::default(), false).unwrap();
        let (b, _) = attribute(&twice, &specs, &Settings::default(), false).unwrap();
        for (a, b) in a.iter().zip(&b) {
            for (x, y) in a.channels.iter().zip(&b.channels) {
                prop_assert!((2.0 * x.conversions - y.conversions).abs() < 1e-9 * y.conversions.max(1.0), "{}: {:?} {:?}", a.label, x, y);
            }
        }
    }
}

/// The weights a model gives one converting journey over distinct channels `c0, c1, ...`.
fn weights(model: &str, n: usize, ages: Option<&[f64]>, milestones: Milestones) -> Vec<f64> {
    let mut j = Journeys::new(ages.is_some());
    let ids: Vec<u32> = (0..n).map(|i| j.channel_id(&format!("c{i}"))).collect();
    j.push(&ids, ages, milestones, 1.0, 0.0, 0.0).unwrap();
    let ctx = ModelContext::new(&j, &Settings::default());
    let spec = ModelSpec::parse(model).unwrap();
    let got = spec.model.attribute(&j, spec.parameter, &ctx).unwrap();
    got.credit.conversions.iter().map(|w| (w * 1e9).round() / 1e9).collect()
}

fn by_position(model: &str, n: usize) -> Vec<f64> {
    weights(model, n, None, Milestones::default())
}

#[test]
fn position_weights_for_one_two_three_and_many_touches() {
    let cases: &[(&str, [&[f64]; 4])] = &[
        ("first", [&[1.0], &[1.0, 0.0], &[1.0, 0.0, 0.0], &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0]]),
        ("last", [&[1.0], &[0.0, 1.0], &[0.0, 0.0, 1.0], &[0.0, 0.0, 0.0, 0.0, 0.0, 1.0]]),
        (
            "linear",
            [&[1.0], &[0.5, 0.5], &[0.333333333, 0.333333333, 0.333333333], &[0.166666667; 6]],
        ),
        ("u_shaped", [&[1.0], &[0.5, 0.5], &[0.4, 0.2, 0.4], &[0.4, 0.05, 0.05, 0.05, 0.05, 0.4]]),
        (
            "j_shaped",
            [&[1.0], &[0.25, 0.75], &[0.2, 0.2, 0.6], &[0.2, 0.05, 0.05, 0.05, 0.05, 0.6]],
        ),
        (
            "inverse_j",
            [&[1.0], &[0.75, 0.25], &[0.6, 0.2, 0.2], &[0.6, 0.05, 0.05, 0.05, 0.05, 0.2]],
        ),
        // Lead-creation touch by position: index ⌊n/2⌋ = 3 of 6; the other three share 10 %.
        (
            "w_shaped",
            [
                &[1.0],
                &[0.5, 0.5],
                &[0.333333333, 0.333333333, 0.333333333],
                &[0.3, 0.033333333, 0.033333333, 0.3, 0.033333333, 0.3],
            ],
        ),
        // Lead and opportunity touches by position: round(5/3) = 2 and round(10/3) = 3 of 6.
        (
            "full_path",
            [
                &[1.0],
                &[0.5, 0.5],
                &[0.333333333, 0.333333333, 0.333333333],
                &[0.225, 0.05, 0.225, 0.225, 0.05, 0.225],
            ],
        ),
        (
            "shapley",
            [&[1.0], &[0.5, 0.5], &[0.333333333, 0.333333333, 0.333333333], &[0.166666667; 6]],
        ),
    ];
    for (model, [one, two, three, six]) in cases {
        for (n, want) in [(1, *one), (2, *two), (3, *three), (6, *six)] {
            assert_eq!(by_position(model, n), want, "{model} with {n} touches");
        }
    }
    // Full path with four touches: a quarter each.
    assert_eq!(by_position("full_path", 4), [0.25; 4]);
}

#[test]
fn milestones_place_the_middle_roles_and_add_up_when_they_coincide() {
    let m = |lead, opportunity| Milestones { lead, opportunity, known: true };
    // W-shaped, five touches, lead created at touch 1: 30/30/10·⅓/10·⅓/30... the rest (10 %) over
    // touches 2 and 3.
    assert_eq!(weights("w_shaped", 5, None, m(Some(1), None)), [0.3, 0.3, 0.05, 0.05, 0.3]);
    // Lead created on the first touch: that touch holds two roles (60 %), the last 30 %, the rest
    // 10 % over the three between.
    assert_eq!(
        weights("w_shaped", 5, None, m(Some(0), None)),
        [0.6, 0.033333333, 0.033333333, 0.033333333, 0.3]
    );
    // Full path with both milestones given, six touches: lead 1, opportunity 4.
    assert_eq!(
        weights("full_path", 6, None, m(Some(1), Some(4))),
        [0.225, 0.225, 0.05, 0.05, 0.225, 0.225]
    );
    // A journey to a lead knows only its lead milestone: the opportunity role drops out and the
    // rest renormalise (22.5 × 3 + 10 = 77.5).
    let w = weights("full_path", 4, None, m(Some(3), None));
    let want = [0.225 / 0.775, 0.05 / 0.775, 0.05 / 0.775, 0.45 / 0.775]
        .map(|x: f64| (x * 1e9).round() / 1e9);
    assert_eq!(w, want);
    // A store journey whose lead was created before its window: no lead role, no positional
    // guess (30 + 30, and the 10 over the three others, renormalised over 70).
    let w = weights("w_shaped", 5, None, m(None, None));
    let want = [0.3 / 0.7, 0.1 / 2.1, 0.1 / 2.1, 0.1 / 2.1, 0.3 / 0.7]
        .map(|x: f64| (x * 1e9).round() / 1e9);
    assert_eq!(w, want);
}

#[test]
fn time_decay_halves_per_half_life_and_last_non_direct_skips_direct() {
    // Ages 14, 7 and 0 days with a 7-day half-life: weights 1/4, 1/2, 1 over 7/4.
    let w = weights("time_decay", 3, Some(&[14.0, 7.0, 0.0]), Milestones::default());
    assert_eq!(w, [0.142857143, 0.285714286, 0.571428571]);
    let w = weights("time_decay:14", 2, Some(&[14.0, 0.0]), Milestones::default());
    assert_eq!(w, [0.333333333, 0.666666667]);

    let mut j = Journeys::new(false);
    j.push_named(["Email", "Paid Search", "Direct", "direct"], 1.0, 0.0, 0.0).unwrap();
    j.push_named(["Direct"], 1.0, 0.0, 0.0).unwrap();
    let ctx = ModelContext::new(&j, &Settings::default());
    let got = find_model("last_non_direct").unwrap().attribute(&j, None, &ctx).unwrap();
    // Paid Search gets the first journey; the all-direct journey stays with Direct.
    assert_eq!(got.credit.conversions, [0.0, 1.0, 1.0, 0.0]);
    assert_eq!(MODELS.len(), 12);
}
