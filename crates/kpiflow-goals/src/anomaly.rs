//! Alert rules (DESIGN §7): thresholds, and anomalies by robust z-score.
//!
//! The robust z-score measures how far a value lies from what its history expects, in units of
//! the history's spread, with medians instead of means so that one spike in the history does not
//! hide the next (Iglewicz and Hoaglin's modified z-score, `0.6745 × (x − median) ÷ MAD`, is the
//! plain form; [`robust_z`]). A monitored business series needs three refinements, each measured
//! on simulated daily leads (Poisson-like noise around 120 a weekday and 30 a weekend day, a
//! ±25 % yearly wave, 30 % growth over two years):
//! - **seasonality**: a day is compared with the same weekday of the `window` weeks before (a
//!   quiet Sunday with Sundays); weeks and months with the `window` before them;
//! - **trend**: the expected value is not the history's median — which lags a growing or
//!   seasonal series by half the window — but the value at the bucket of Siegel's repeated-median
//!   line through the history (robust to half of it being odd);
//! - **spread**: the scale comes from the differences between consecutive buckets of the history,
//!   pooled over every weekday (`7 × (window − 1)` of them; MAD ÷ (0.6745 × √2)), so a trend does
//!   not widen it and twelve points do not make it swing; the z-score then allows for the line's
//!   own uncertainty (`√(1 + π²/4 × (1/n + k̄²/Sₖₖ))`: a regression prediction's, for a line
//!   whose efficiency at normal noise is 4/π² of least squares');
//! - **counts**: series without negative values are compared on a square-root scale, which evens
//!   out the noise of counts (a Poisson count's square root has about the same spread at any
//!   level), so quiet weekends and busy weekdays share one scale.
//!
//! With a full 12-week window, normal days pass z = 5 about once in 10,000 (against once in 15
//! past 3.5 for the plain z-score of eight same-weekday points), hence the defaults z = 5 and
//! window = 12; a weekday doubling or a drop to a fifth scores about 8 to 12. A bucket is judged
//! only with its full window of history, and when the history's median volume reaches the rule's
//! minimum (a conversion rate on three visitors is noise, not news). When every difference is 0
//! the mean absolute difference stands in, and a history that is entirely flat makes any
//! different value an anomaly.

use chrono::NaiveDate;
use kpiflow_model::AnomalyDirection;
use serde::Serialize;

use crate::median;

/// One bucket of a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    pub label: String,
    pub start: NaiveDate,
    pub value: Option<f64>,
    /// The volume the minimum applies to (the KPI itself, or the rule's volume KPI).
    pub volume: Option<f64>,
}

/// The robust z-score of `x` against `history`; `None` without history. A flat history gives
/// ±∞ for a different value and 0 for the same one.
pub fn robust_z(history: &[f64], x: f64) -> Option<f64> {
    let med = median(history)?;
    let deviations: Vec<f64> = history.iter().map(|v| (v - med).abs()).collect();
    scaled_deviation(&deviations, x - med)
}

/// How a bucket fared against an anomaly rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judgement {
    pub index: usize,
    pub value: Option<f64>,
    /// What the history expects at this bucket (its trend line, on the original scale).
    pub expected: Option<f64>,
    /// `None` when not computed, or infinite (flat history).
    pub z: Option<f64>,
    pub fired: bool,
    /// Why it fired, or why it was not judged.
    pub reason: String,
}

/// The anomaly rule's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnomalyRule {
    pub z: f64,
    /// Buckets of history (for days: weeks of the same weekday).
    pub window: usize,
    /// 7 for days (same weekday), 1 otherwise.
    pub step: usize,
    pub min_volume: f64,
    pub direction: AnomalyDirection,
}

/// Judges bucket `i` of `points` against its history.
pub fn judge(points: &[Point], i: usize, rule: &AnomalyRule) -> Judgement {
    let mut j = Judgement {
        index: i,
        value: points.get(i).and_then(|p| p.value),
        expected: None,
        z: None,
        fired: false,
        reason: String::new(),
    };
    let Some(x) = j.value.filter(|v| v.is_finite()) else {
        j.reason = "no value".into();
        return j;
    };
    let step = rule.step.max(1);
    // The history of offset `o` (0: the bucket's own weekday): `window` buckets back.
    let history = |o: usize| -> Vec<usize> {
        (1..=rule.window).filter_map(|k| i.checked_sub(o + k * step)).collect()
    };
    let values_of = |idx: &[usize]| -> Vec<f64> {
        idx.iter().filter_map(|h| points[*h].value).filter(|v| v.is_finite()).collect()
    };
    let own = history(0);
    let own_values = values_of(&own);
    // A short history makes a poor scale: only a full window is judged.
    let needed = rule.window;
    if own_values.len() < needed {
        j.reason = format!("not judged: {} buckets of history, {needed} needed", own_values.len());
        return j;
    }
    let volumes: Vec<f64> =
        own.iter().filter_map(|h| points[*h].volume.or(points[*h].value)).collect();
    let volume = median(&volumes).unwrap_or(0.0);
    if volume < rule.min_volume {
        j.reason = format!(
            "not judged: history volume {} is below the minimum {}",
            round(volume),
            round(rule.min_volume)
        );
        return j;
    }
    // Square roots for series without negative values (see the module documentation).
    let sqrt = (0..step).flat_map(|o| values_of(&history(o))).chain([x]).all(|v| v >= 0.0);
    let t = |v: f64| if sqrt { v.sqrt() } else { v };
    let line: Vec<(f64, f64)> = own
        .iter()
        .zip(1..)
        .filter_map(|(h, k)| points[*h].value.filter(|v| v.is_finite()).map(|v| (k as f64, t(v))))
        .collect();
    let Some((center, _)) = repeated_median_line(&line) else { return j };
    j.expected = Some(if sqrt { center.max(0.0).powi(2) } else { center });
    // Differences between consecutive buckets of each weekday's history, pooled.
    let mut differences = Vec::new();
    for o in 0..step {
        let h: Vec<f64> = history(o).iter().filter_map(|i| points[*i].value).map(t).collect();
        if h.len() < needed {
            continue;
        }
        differences.extend(h.windows(2).map(|w| (w[0] - w[1]).abs() / std::f64::consts::SQRT_2));
    }
    // The line's own uncertainty at k = 0, as for a regression prediction, scaled by the
    // repeated median's efficiency at normal noise (4/π² of least squares').
    let n = line.len() as f64;
    let mean_k = line.iter().map(|p| p.0).sum::<f64>() / n;
    let skk: f64 = line.iter().map(|p| (p.0 - mean_k).powi(2)).sum();
    let line_variance = 1.0 / n + mean_k * mean_k / skk.max(f64::MIN_POSITIVE);
    let widen = (1.0 + line_variance * std::f64::consts::PI.powi(2) / 4.0).sqrt();
    let z = scaled_deviation(&differences, t(x) - center).map(|z| z / widen);
    j.z = z.filter(|z| z.is_finite());
    let Some(z) = z else { return j };
    let up = z >= rule.z;
    let down = z <= -rule.z;
    j.fired = match rule.direction {
        AnomalyDirection::Both => up || down,
        AnomalyDirection::Up => up,
        AnomalyDirection::Down => down,
    };
    let expected = j.expected.unwrap_or(0.0);
    j.reason = if z.is_infinite() {
        format!("{} against a flat history of {}", round(x), round(expected))
    } else {
        format!(
            "{} against {} expected (robust z {z:+.1}, limit ±{})",
            round(x),
            round(expected),
            rule.z
        )
    };
    j
}

/// `distance` in units of the spread of `deviations` (absolute values of centred normal noise):
/// 0.6745 × d ÷ their median, or d ÷ (1.2533 × their mean) when more than half are 0; ±∞ (or 0)
/// when every one is 0.
fn scaled_deviation(deviations: &[f64], distance: f64) -> Option<f64> {
    let mad = median(deviations)?;
    if mad > 0.0 {
        return Some(0.6745 * distance / mad);
    }
    let mean_ad = deviations.iter().sum::<f64>() / deviations.len() as f64;
    if mean_ad > 0.0 {
        return Some(distance / (1.253314 * mean_ad));
    }
    Some(if distance == 0.0 { 0.0 } else { f64::INFINITY.copysign(distance) })
}

fn round(v: f64) -> String {
    // Whole numbers from 100 up, one decimal from 1, four decimals below.
    let text = if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.4}")
    };
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// Siegel's repeated-median line through `(k, y)` points: `(value at k = 0, slope)`. Each point's
/// median slope to the others, then their median: half the points can be wild before it moves.
pub fn repeated_median_line(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    if points.len() < 2 {
        return points.first().map(|p| (p.1, 0.0));
    }
    let slopes: Vec<f64> = points
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let s: Vec<f64> = points
                .iter()
                .enumerate()
                .filter(|(j, b)| *j != i && b.0 != a.0)
                .map(|(_, b)| (b.1 - a.1) / (b.0 - a.0))
                .collect();
            median(&s)
        })
        .collect();
    let slope = median(&slopes).unwrap_or(0.0);
    let intercepts: Vec<f64> = points.iter().map(|p| p.1 - slope * p.0).collect();
    Some((median(&intercepts)?, slope))
}

/// Indices of every bucket of `points` the rule fires on.
pub fn detect(points: &[Point], rule: &AnomalyRule) -> Vec<usize> {
    (0..points.len()).filter(|i| judge(points, *i, rule).fired).collect()
}

/// Whether a value crosses a threshold rule, and how it is told.
pub fn threshold(value: Option<f64>, above: Option<f64>, below: Option<f64>) -> Option<String> {
    let v = value?;
    if let Some(a) = above
        && v > a
    {
        return Some(format!("{} is above {}", round(v), round(a)));
    }
    if let Some(b) = below
        && v < b
    {
        return Some(format!("{} is below {}", round(v), round(b)));
    }
    None
}

#[cfg(test)]
mod tests {
    use rand_pcg::Pcg64Mcg;
    use rand_pcg::rand_core::Rng as _;

    use super::*;

    fn uniform(rng: &mut Pcg64Mcg) -> f64 {
        (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal draw (Box–Muller).
    fn normal(rng: &mut Pcg64Mcg) -> f64 {
        let (u1, u2) = (uniform(rng).max(1e-12), uniform(rng));
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// Two years of daily leads: a weekday rhythm (weekends at a quarter), a yearly wave of
    /// ±25 %, slow growth and Poisson-like noise.
    fn seasonal_series(seed: u64) -> Vec<Point> {
        let mut rng = Pcg64Mcg::new(seed as u128);
        let start: NaiveDate = "2024-01-01".parse().unwrap();
        (0..730)
            .map(|i| {
                let day = start + chrono::Duration::days(i);
                let weekday = chrono::Datelike::weekday(&day).num_days_from_monday();
                let week = if weekday >= 5 { 0.25 } else { 1.0 };
                let year = 1.0 + 0.25 * (2.0 * std::f64::consts::PI * i as f64 / 365.0).sin();
                let mean = 120.0 * week * year * (1.0 + 0.3 * i as f64 / 730.0);
                let v = (mean + mean.sqrt() * normal(&mut rng)).round().max(0.0);
                Point { label: day.to_string(), start: day, value: Some(v), volume: None }
            })
            .collect()
    }

    /// The defaults of `[[alerts]] kind = "anomaly"` on a daily series.
    const RULE: AnomalyRule = AnomalyRule {
        z: 5.0,
        window: 12,
        step: 7,
        min_volume: 10.0,
        direction: AnomalyDirection::Both,
    };

    #[test]
    fn a_seasonal_but_normal_series_raises_nothing() {
        for seed in 1..=5 {
            let points = seasonal_series(seed);
            let fired = detect(&points, &RULE);
            assert!(
                fired.is_empty(),
                "seed {seed}: {:?}",
                fired.iter().map(|i| &points[*i].label).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn injected_spikes_and_dips_are_found() {
        let mut points = seasonal_series(7);
        // Weekday spikes of 2.5× and dips to a fifth, weekend spikes of 4× (small in absolute
        // terms, large for a weekend day).
        let injected = [(200usize, 2.5), (333, 0.2), (405, 4.0), (509, 0.2), (600, 4.0)];
        let mut saturday = 0;
        for (i, p) in points.iter().enumerate().skip(100) {
            if chrono::Datelike::weekday(&p.start) == chrono::Weekday::Sat {
                saturday = i;
                break;
            }
        }
        let mut all: Vec<(usize, f64)> = injected.to_vec();
        all.push((saturday, 4.0));
        for (i, factor) in &all {
            let v = points[*i].value.unwrap();
            points[*i].value = Some((v * factor).round());
        }
        let fired = detect(&points, &RULE);
        let mut wanted: Vec<usize> = all.iter().map(|(i, _)| *i).collect();
        wanted.sort();
        assert_eq!(fired, wanted);
        // Up only: the dips are left out.
        let up = AnomalyRule { direction: AnomalyDirection::Up, ..RULE };
        assert!(!detect(&points, &up).contains(&333));
    }

    #[test]
    fn flat_histories_and_small_volumes() {
        assert_eq!(robust_z(&[5.0; 8], 5.0), Some(0.0));
        assert_eq!(robust_z(&[5.0; 8], 6.0), Some(f64::INFINITY));
        // Five of eight equal: MAD 0, the mean absolute deviation decides.
        let z = robust_z(&[5.0, 5.0, 5.0, 5.0, 5.0, 6.0, 7.0, 8.0], 9.0).unwrap();
        assert!((z - 4.0 / (1.253314 * 0.75)).abs() < 1e-9, "{z}");
        let points: Vec<Point> = (0..10)
            .map(|i| Point {
                label: i.to_string(),
                start: NaiveDate::MIN,
                value: Some(if i == 9 { 30.0 } else { 1.0 + (i % 2) as f64 }),
                volume: None,
            })
            .collect();
        let rule = AnomalyRule { window: 8, step: 1, min_volume: 5.0, z: 3.5, ..RULE };
        let j = judge(&points, 9, &rule);
        assert!(!j.fired && j.reason.contains("below the minimum"), "{j:?}");
        assert!(judge(&points, 9, &AnomalyRule { min_volume: 0.0, ..rule }).fired);
        assert_eq!(threshold(Some(260.0), Some(250.0), None).as_deref(), Some("260 is above 250"));
        assert_eq!(threshold(Some(0.12), None, Some(0.2)).as_deref(), Some("0.12 is below 0.2"));
        assert_eq!(threshold(None, Some(1.0), None), None);
    }
}
