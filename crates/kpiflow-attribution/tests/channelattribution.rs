//! The ChannelAttribution package's example paths (`shared/datasets/channelattribution/Data.csv`,
//! GPL-3, used here as a test fixture only): the totals and the first-touch, last-touch and linear
//! figures its README states, to the precision printed there.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use kpiflow_attribution::paths::{PathsFile, read_paths};
use kpiflow_attribution::{ModelSpec, Settings, attribute};

fn data() -> PathsFile {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/channelattribution/Data.csv");
    assert!(file.is_file(), "the test dataset is missing: expected {}", file.display());
    read_paths(&file).unwrap()
}

/// Per channel, `model`'s conversions (or value) rounded to `decimals`.
fn credited(paths: &PathsFile, model: &str, value: bool, decimals: i32) -> BTreeMap<String, f64> {
    let spec = ModelSpec::parse_list(model).unwrap();
    let (results, _) = attribute(&paths.journeys, &spec, &Settings::default(), false).unwrap();
    let scale = 10f64.powi(decimals);
    results[0]
        .channels
        .iter()
        .map(|c| {
            (
                c.channel.clone(),
                ((if value { c.value } else { c.conversions }) * scale).round() / scale,
            )
        })
        .collect()
}

fn expected(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|&(c, x)| (c.to_owned(), x)).collect()
}

#[test]
fn totals_match_the_readme() {
    let p = data();
    // Fact 1: 10,000 rows, 5,408 distinct paths, 19,785 conversions, 68,602 non-conversions,
    // value 74,802.9716.
    assert_eq!(p.rows, 10_000);
    assert_eq!(p.journeys.len(), 5_408);
    assert_eq!(p.journeys.total_conversions(), 19_785.0);
    assert_eq!(p.journeys.total_nulls(), 68_602.0);
    assert!((p.journeys.total_value() - 74_802.971_6).abs() < 5e-5, "{}", p.journeys.total_value());
    assert_eq!(p.journeys.channels().len(), 12);
}

#[test]
fn first_touch_matches_the_readme() {
    let want = expected(&[
        ("alpha", 6308.0),
        ("iota", 4606.0),
        ("eta", 3164.0),
        ("beta", 2831.0),
        ("theta", 1606.0),
        ("lambda", 902.0),
        ("gamma", 165.0),
        ("epsilon", 99.0),
        ("kappa", 74.0),
        ("zeta", 27.0),
        ("mi", 2.0),
        ("delta", 1.0),
    ]);
    assert_eq!(credited(&data(), "first", false, 6), want);
}

#[test]
fn last_touch_matches_the_readme() {
    let p = data();
    let want = expected(&[
        ("alpha", 8447.0),
        ("eta", 4167.0),
        ("iota", 3355.0),
        ("lambda", 1207.0),
        ("beta", 989.0),
        ("theta", 653.0),
        ("epsilon", 531.0),
        ("kappa", 230.0),
        ("zeta", 107.0),
        ("gamma", 92.0),
        ("delta", 5.0),
        ("mi", 2.0),
    ]);
    assert_eq!(credited(&p, "last", false, 6), want);
    // Fact 5: last-touch value, to the thousandth.
    let want = expected(&[
        ("alpha", 28414.214),
        ("eta", 16754.204),
        ("iota", 13487.974),
        ("lambda", 5249.950),
        ("beta", 3850.021),
        ("theta", 2799.092),
        ("epsilon", 2202.612),
        ("kappa", 1069.384),
        ("gamma", 506.014),
        ("zeta", 453.261),
        ("delta", 10.972),
        ("mi", 5.273),
    ]);
    assert_eq!(credited(&p, "last", true, 3), want);
}

#[test]
fn linear_matches_the_readme() {
    let want = expected(&[
        ("alpha", 7574.719),
        ("iota", 3857.096),
        ("eta", 3539.951),
        ("beta", 2083.500),
        ("lambda", 1035.258),
        ("theta", 1022.801),
        ("epsilon", 272.170),
        ("kappa", 137.964),
        ("zeta", 136.552),
        ("gamma", 121.042),
        ("mi", 2.222),
        ("delta", 1.725),
    ]);
    assert_eq!(credited(&data(), "linear", false, 3), want);
}

/// Every model runs on the file (time decay is left out: paths have no times) and credits exactly
/// the file's conversions; the order-1 chain's conversion probability is the journey-level rate.
#[test]
fn every_model_credits_all_conversions() {
    let p = data();
    let specs = ModelSpec::parse_list("all").unwrap();
    let (results, skipped) = attribute(&p.journeys, &specs, &Settings::default(), true).unwrap();
    assert_eq!(skipped, ["time_decay left out: it needs touch times (aggregated paths have none)"]);
    assert_eq!(results.len(), specs.len() - 1);
    for r in &results {
        let sum: f64 = r.channels.iter().map(|c| c.conversions).sum();
        assert!((sum - 19_785.0).abs() < 1e-6, "{}: {sum}", r.label);
        let value: f64 = r.channels.iter().map(|c| c.value).sum();
        assert!((value - p.journeys.total_value()).abs() < 1e-6, "{}: {value}", r.label);
    }
    let markov = results.iter().find(|r| r.label == "markov").unwrap();
    // 19,785 / 88,387 = 0.223844...
    assert!(markov.notes[0].contains("conversion probability 0.223845"), "{:?}", markov.notes);
    for order in 2..=4 {
        let spec = ModelSpec::parse_list(&format!("markov:{order}")).unwrap();
        let (r, _) = attribute(&p.journeys, &spec, &Settings::default(), false).unwrap();
        let sum: f64 = r[0].channels.iter().map(|c| c.conversions).sum();
        assert!((sum - 19_785.0).abs() < 1e-6, "order {order}: {sum}");
        assert!(r[0].notes[0].contains("residual"), "{:?}", r[0].notes);
    }
}
