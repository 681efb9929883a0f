//! Goals: where each KPI stands against its target (DESIGN §7).
//!
//! Two kinds of KPI, two kinds of goal:
//! - a **total** ([`Accrual::Total`]: leads, won revenue, ad cost) accrues over the period: the
//!   target is a sum, split over the months evenly (by days) or by last year's seasonality, and
//!   the *expected to date* is the share of the target the split puts before the cutoff (a month
//!   half gone counts half of its share);
//! - a **level** ([`Accrual::Level`]: a rate, a cost per lead, MRR) is a value: its *actual to
//!   date* is the KPI over the period so far; a `reach` goal expects a straight path from the
//!   value of the period before to the target, `stay_above`/`stay_below` expect the target all
//!   along.
//!
//! Every goal is judged in one orientation: *at least* (more is better: reach on a
//! higher-is-better KPI, stay above) or *at most* (reach on a lower-is-better KPI, stay below). The
//! **pace** is actual ÷ expected (at least) or expected ÷ actual (at most), so 100 % is exactly on
//! plan whichever way is good; **progress** is actual ÷ target, likewise inverted for *at most*
//! goals. The status compares the pace with the goal's thresholds: on track, at risk, off track;
//! once the period is over, achieved or missed. A parent's progress rolls up its children's:
//! the mean of their paces, each capped at 100 % so one child's excess does not hide another's
//! shortfall.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kpiflow_catalog::{Direction, Unit};
use kpiflow_model::time::{Calendar, Period};
use kpiflow_model::{GoalConfig, GoalTest, SplitRule, StatusThresholds};
use serde::Serialize;

use crate::slices::{self, Slice};
use crate::{linear_fit, ratio};

/// How a KPI behaves over time (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Accrual {
    Total,
    Level,
}

/// Which side of the target is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Orientation {
    AtLeast,
    AtMost,
}

impl Orientation {
    pub fn of(test: GoalTest, direction: Direction) -> Orientation {
        match (test, direction) {
            (GoalTest::StayAbove, _) | (GoalTest::Reach, Direction::Higher) => Orientation::AtLeast,
            (GoalTest::StayBelow, _) | (GoalTest::Reach, Direction::Lower) => Orientation::AtMost,
        }
    }

    /// `actual` measured against `wanted`, so that 1 is exactly as wanted and more is better.
    fn score(self, actual: Option<f64>, wanted: Option<f64>) -> Option<f64> {
        match self {
            Orientation::AtLeast => ratio(actual, wanted),
            Orientation::AtMost => match (actual, wanted) {
                // Nothing spent against a budget: as good as it gets, but not a number.
                (Some(a), Some(w)) if a == 0.0 && w >= 0.0 => None,
                _ => ratio(wanted, actual),
            },
        }
    }

    fn meets(self, actual: f64, target: f64) -> bool {
        match self {
            Orientation::AtLeast => actual >= target,
            Orientation::AtMost => actual <= target,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    OffTrack,
    Missed,
    AtRisk,
    OnTrack,
    Achieved,
    /// The period has not begun (or no data reaches it yet).
    NotStarted,
    /// The KPI has no value: its tables are missing or empty for the period.
    NoData,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::OnTrack => "on track",
            Status::AtRisk => "at risk",
            Status::OffTrack => "off track",
            Status::Achieved => "achieved",
            Status::Missed => "missed",
            Status::NotStarted => "not started",
            Status::NoData => "no data",
        }
    }

    fn from_pace(pace: Option<f64>, t: StatusThresholds, ended: bool) -> Status {
        match pace {
            None => Status::NoData,
            Some(p) if ended => {
                if p >= 1.0 - 1e-12 {
                    Status::Achieved
                } else {
                    Status::Missed
                }
            }
            Some(p) if p >= t.on_track - 1e-12 => Status::OnTrack,
            Some(p) if p >= t.at_risk - 1e-12 => Status::AtRisk,
            Some(_) => Status::OffTrack,
        }
    }
}

/// Where a goal's period stands at the cutoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    NotStarted,
    Running,
    Ended,
}

/// A trend bucket of a level KPI (a week or a month).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    pub label: String,
    pub start: NaiveDate,
    pub value: Option<f64>,
}

/// What the engine computed for one goal.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GoalInputs {
    pub kpi_name: String,
    pub unit: Option<Unit>,
    pub direction: Option<Direction>,
    pub accrual: Option<Accrual>,
    /// False when the KPI's tables are missing: every figure is empty.
    pub has_data: bool,
    /// Totals: the KPI on each day from the period's start to the cutoff.
    pub daily: Vec<Option<f64>>,
    /// The KPI over the period up to the cutoff.
    pub to_date: Option<f64>,
    /// Levels with a reach test: the KPI over the period of the same length just before.
    pub baseline: Option<f64>,
    /// The KPI in each month of [`slices::months`] up to the cutoff.
    pub months: Vec<Option<f64>>,
    /// The KPI in the same (whole) months a year earlier, for the seasonal split.
    pub months_last_year: Vec<Option<f64>>,
    /// The KPI in each fiscal quarter of [`slices::quarters`] up to the cutoff.
    pub quarters: Vec<Option<f64>>,
    /// Levels: the KPI per week (periods up to a quarter) or month, to the cutoff.
    pub buckets: Vec<Bucket>,
}

/// A projection of the end value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Projection {
    /// Totals: actual ÷ the share of the target expected by now; levels: the value to date.
    pub run_rate: Option<f64>,
    /// A straight line through the daily values (totals) or the buckets (levels), carried to the
    /// period's end.
    pub trend: Option<f64>,
    /// About 95 % of outcomes under the trend's own scatter (±1.96 residual deviations; the
    /// uncertainty of the line itself is left out).
    pub trend_low: Option<f64>,
    pub trend_high: Option<f64>,
}

/// A month or quarter of a goal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubGoal {
    pub label: String,
    pub from: NaiveDate,
    /// Last day included.
    pub to: NaiveDate,
    /// Its share of the target (totals) or the target itself (levels).
    pub target: Option<f64>,
    pub actual: Option<f64>,
    pub status: Status,
}

/// A point of the cumulative pacing line (totals): the split's expected running total and the
/// actual one, at the end of `date`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PacePoint {
    pub date: NaiveDate,
    pub expected: f64,
    pub actual: Option<f64>,
}

/// The progress of a goal's children.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rollup {
    pub children: Vec<String>,
    /// Mean of the children's paces, each capped at 100 %.
    pub pace: Option<f64>,
    /// How many children have each status.
    pub statuses: BTreeMap<&'static str, usize>,
}

/// A goal, evaluated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoalResult {
    pub id: String,
    pub name: String,
    pub kpi: Option<String>,
    pub kpi_name: Option<String>,
    pub unit: Option<Unit>,
    pub accrual: Option<Accrual>,
    pub orientation: Option<Orientation>,
    pub test: GoalTest,
    pub filters: Vec<(String, String)>,
    pub parent: Option<String>,
    pub period: String,
    pub period_from: NaiveDate,
    /// Last day included.
    pub period_to: NaiveDate,
    /// The last day counted.
    pub as_of: NaiveDate,
    pub state: State,
    /// Share of the period's days gone by.
    pub elapsed: f64,
    pub target: Option<f64>,
    /// The split asked for and the one used (`seasonal` falls back to `even` without last year).
    pub split: SplitRule,
    pub split_used: SplitRule,
    pub actual: Option<f64>,
    pub expected: Option<f64>,
    pub progress: Option<f64>,
    pub pace: Option<f64>,
    pub status: Status,
    pub projection: Projection,
    /// Stay tests on levels: the buckets on the wrong side of the target.
    pub breaches: Vec<String>,
    pub months: Vec<SubGoal>,
    pub quarters: Vec<SubGoal>,
    pub pacing: Vec<PacePoint>,
    pub buckets: Vec<Bucket>,
    pub rollup: Option<Rollup>,
    pub thresholds: StatusThresholds,
    pub notes: Vec<String>,
}

/// Drops floating-point dust from a product of shares (302.00000000000006 → 302).
fn clean(v: f64) -> f64 {
    (v * 1e9).round() / 1e9
}

fn day_before(d: NaiveDate) -> NaiveDate {
    d.pred_opt().unwrap_or(d)
}

fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    d.checked_add_signed(chrono::Duration::days(n)).unwrap_or(d)
}

/// The split weights of the months (summing to 1) and the rule used.
fn split_weights(
    goal: &GoalConfig,
    months: &[Slice],
    last_year: &[Option<f64>],
    accrual: Accrual,
    notes: &mut Vec<String>,
) -> (Vec<f64>, SplitRule) {
    let total_days = months.iter().map(Slice::days).sum::<i64>().max(1) as f64;
    let even: Vec<f64> = months.iter().map(|m| m.days() as f64 / total_days).collect();
    if goal.split == SplitRule::Even || accrual == Accrual::Level {
        if goal.split == SplitRule::Seasonal {
            notes.push(
                "split: a level holds its target every month; seasonality does not apply".into(),
            );
        }
        return (even, SplitRule::Even);
    }
    let raw: Option<Vec<f64>> = months
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let v = last_year.get(i).copied().flatten().filter(|v| v.is_finite() && *v >= 0.0)?;
            Some(v * m.days() as f64 / slices::month_days(m.bucket) as f64)
        })
        .collect();
    match raw {
        Some(w) if w.iter().sum::<f64>() > 0.0 => {
            let sum: f64 = w.iter().sum();
            notes.push("split: seasonal, by the same months a year earlier".into());
            (w.into_iter().map(|x| x / sum).collect(), SplitRule::Seasonal)
        }
        _ => {
            notes.push(
                "split: seasonal was asked, but the year before has no complete data for these \
                 months; split evenly by days"
                    .into(),
            );
            (even, SplitRule::Even)
        }
    }
}

/// Evaluates one goal with the KPI's figures (`None` for an objective, a goal without a KPI).
/// `as_of` is the last day counted: the cutoff is the day after, or the period's end.
pub fn evaluate(
    goal: &GoalConfig,
    inputs: Option<&GoalInputs>,
    as_of: NaiveDate,
    calendar: &Calendar,
) -> GoalResult {
    let period: &Period = &goal.period;
    let cutoff = add_days(as_of, 1).clamp(period.from, period.to);
    let state = if as_of < period.from {
        State::NotStarted
    } else if cutoff >= period.to {
        State::Ended
    } else {
        State::Running
    };
    let elapsed = (cutoff - period.from).num_days() as f64 / period.days().max(1) as f64;
    let month_slices = slices::months(calendar, period);
    let quarter_slices = slices::quarters(calendar, period);
    let mut notes = Vec::new();
    let mut result = GoalResult {
        id: goal.id.clone(),
        name: goal.name.clone().unwrap_or_else(|| goal.id.clone()),
        kpi: goal.kpi.clone(),
        kpi_name: inputs.map(|i| i.kpi_name.clone()),
        unit: inputs.and_then(|i| i.unit),
        accrual: inputs.and_then(|i| i.accrual),
        orientation: inputs.and_then(|i| i.direction).map(|d| Orientation::of(goal.test, d)),
        test: goal.test,
        filters: goal.filters.clone(),
        parent: goal.parent.clone(),
        period: period.label.clone(),
        period_from: period.from,
        period_to: day_before(period.to),
        as_of,
        state,
        elapsed,
        target: goal.target,
        split: goal.split,
        split_used: goal.split,
        actual: None,
        expected: None,
        progress: None,
        pace: None,
        status: if state == State::NotStarted { Status::NotStarted } else { Status::NoData },
        projection: Projection { run_rate: None, trend: None, trend_low: None, trend_high: None },
        breaches: Vec::new(),
        months: Vec::new(),
        quarters: Vec::new(),
        pacing: Vec::new(),
        buckets: Vec::new(),
        rollup: None,
        thresholds: goal.thresholds,
        notes: Vec::new(),
    };
    let (Some(inputs), Some(target)) = (inputs, goal.target) else {
        return result;
    };
    let (Some(accrual), Some(orientation)) = (result.accrual, result.orientation) else {
        return result;
    };
    if !inputs.has_data {
        notes.push(format!("{} has no data: its tables are not imported", inputs.kpi_name));
    }
    let (weights, split_used) =
        split_weights(goal, &month_slices, &inputs.months_last_year, accrual, &mut notes);
    result.split_used = split_used;
    let ended = state == State::Ended;
    let started = state != State::NotStarted;
    let actual = if started && inputs.has_data { inputs.to_date } else { None };
    result.actual = actual;

    // Share of the target the split puts before a date (exclusive), month by month.
    let share_before = |d: NaiveDate| -> f64 {
        month_slices
            .iter()
            .zip(&weights)
            .map(|(m, w)| w * m.days_before(d) as f64 / m.days().max(1) as f64)
            .sum()
    };

    match accrual {
        Accrual::Total => {
            let share = share_before(cutoff);
            let expected = started.then_some(clean(target * share));
            result.expected = expected;
            result.pace = orientation.score(actual, expected);
            if orientation == Orientation::AtMost && actual == Some(0.0) && started {
                // Nothing spent yet against a ceiling: fully on pace.
                result.pace = Some(1.0);
            }
            result.progress = orientation.score(actual, Some(target));
            if let Some(a) = actual {
                result.projection.run_rate = (share > 0.0).then(|| a / share);
                let days_total = period.days();
                let elapsed_days = (cutoff - period.from).num_days();
                let points: Vec<(f64, f64)> = inputs
                    .daily
                    .iter()
                    .take(elapsed_days as usize)
                    .enumerate()
                    .map(|(i, v)| (i as f64, v.unwrap_or(0.0)))
                    .collect();
                if points.len() >= 7 {
                    if let Some((a0, b, s)) = linear_fit(&points) {
                        let rest: f64 =
                            (elapsed_days..days_total).map(|j| (a0 + b * j as f64).max(0.0)).sum();
                        let remaining = (days_total - elapsed_days) as f64;
                        let spread = 1.96 * s * remaining.sqrt();
                        result.projection.trend = Some(a + rest);
                        result.projection.trend_low = Some((a + rest - spread).max(a));
                        result.projection.trend_high = Some(a + rest + spread);
                    }
                } else if started {
                    notes.push("trend: needs at least 7 days of the period".into());
                }
            }
            // The cumulative pacing line, one point per day.
            let mut running = 0.0;
            let mut d = period.from;
            let mut i = 0usize;
            while d < period.to {
                let next = add_days(d, 1);
                let actual_point = if d < cutoff && inputs.has_data && started {
                    running += inputs.daily.get(i).copied().flatten().unwrap_or(0.0);
                    Some(running)
                } else {
                    None
                };
                result.pacing.push(PacePoint {
                    date: d,
                    expected: clean(target * share_before(next)),
                    actual: actual_point,
                });
                d = next;
                i += 1;
            }
        }
        Accrual::Level => {
            let expected = match (goal.test, inputs.baseline) {
                (GoalTest::Reach, Some(b)) if started => Some(b + (target - b) * elapsed),
                (GoalTest::Reach, None) if started => {
                    notes.push(
                        "pacing: no value for the period before, so the target is expected from \
                         the start"
                            .into(),
                    );
                    Some(target)
                }
                _ if started => Some(target),
                _ => None,
            };
            result.expected = expected;
            result.pace = orientation.score(actual, expected);
            result.progress = orientation.score(actual, Some(target));
            result.projection.run_rate = actual;
            let values: Vec<(usize, f64)> = inputs
                .buckets
                .iter()
                .enumerate()
                .filter_map(|(i, b)| b.value.filter(|v| v.is_finite()).map(|v| (i, v)))
                .collect();
            if goal.test != GoalTest::Reach {
                result.breaches = inputs
                    .buckets
                    .iter()
                    .filter(|b| b.value.is_some_and(|v| !orientation.meets(v, target)))
                    .map(|b| b.label.clone())
                    .collect();
            }
            let points: Vec<(f64, f64)> = values.iter().map(|(i, v)| (*i as f64, *v)).collect();
            if let Some((a0, b, s)) = linear_fit(&points) {
                // The bucket holding the period's last day.
                let step =
                    inputs.buckets.get(1).map(|x| (x.start - inputs.buckets[0].start).num_days());
                let last_index = match (step, inputs.buckets.first()) {
                    (Some(step), Some(first)) if step > 0 => {
                        ((day_before(period.to) - first.start).num_days() / step) as f64
                    }
                    _ => (inputs.buckets.len().saturating_sub(1)) as f64,
                };
                let n = points.len() as f64;
                let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
                let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
                let t = a0 + b * last_index;
                let spread = 1.96 * s * (1.0 + 1.0 / n + (last_index - mx).powi(2) / sxx).sqrt();
                result.projection.trend = Some(t);
                result.projection.trend_low = Some(t - spread);
                result.projection.trend_high = Some(t + spread);
            } else if started {
                notes.push("trend: needs at least 3 weeks or months with a value".into());
            }
            result.buckets = inputs.buckets.clone();
        }
    }
    result.status = if !started {
        Status::NotStarted
    } else {
        Status::from_pace(result.pace, goal.thresholds, ended)
    };

    // Months and quarters: each slice's share of the target and where it stands.
    let sub = |slices: &[Slice], values: &[Option<f64>], weights: &[f64]| -> Vec<SubGoal> {
        slices
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let slice_target = match accrual {
                    Accrual::Total => weights.get(i).map(|w| clean(target * w)),
                    Accrual::Level => Some(target),
                };
                let slice_started = s.from < cutoff;
                let slice_actual = if slice_started && inputs.has_data {
                    values.get(i).copied().flatten()
                } else {
                    None
                };
                let slice_ended = s.to <= cutoff;
                // What the split expects of this slice by the cutoff (its months pro-rated).
                let wanted = match accrual {
                    Accrual::Total => Some(
                        target
                            * (share_before(cutoff.min(s.to).max(s.from)) - share_before(s.from)),
                    ),
                    Accrual::Level => slice_target,
                };
                let status = if !slice_started {
                    Status::NotStarted
                } else {
                    Status::from_pace(
                        orientation
                            .score(slice_actual, wanted)
                            .or((orientation == Orientation::AtMost && slice_actual == Some(0.0))
                                .then_some(1.0)),
                        goal.thresholds,
                        slice_ended,
                    )
                };
                SubGoal {
                    label: s.label.clone(),
                    from: s.from,
                    to: day_before(s.to),
                    target: slice_target,
                    actual: slice_actual,
                    status,
                }
            })
            .collect()
    };
    result.months = sub(&month_slices, &inputs.months, &weights);
    // A quarter's weight is the sum of its months' (quarters start on month starts).
    let quarter_weights: Vec<f64> = quarter_slices
        .iter()
        .map(|q| {
            month_slices
                .iter()
                .zip(&weights)
                .filter(|(m, _)| m.from >= q.from && m.to <= q.to)
                .map(|(_, w)| *w)
                .sum()
        })
        .collect();
    if quarter_slices.len() > 1 {
        result.quarters = sub(&quarter_slices, &inputs.quarters, &quarter_weights);
    }
    result.notes = notes;
    result
}

/// Fills each parent's roll-up from its children (deepest first), and gives objectives (goals
/// without a KPI) the roll-up's pace and status.
pub fn roll_up(results: &mut [GoalResult]) {
    // Depth of each goal, so children are complete before their parents.
    let parents: BTreeMap<String, Option<String>> =
        results.iter().map(|r| (r.id.clone(), r.parent.clone())).collect();
    let depth = |id: &str| {
        let mut d = 0;
        let mut next = parents.get(id).cloned().flatten();
        while let Some(p) = next {
            d += 1;
            next = parents.get(&p).cloned().flatten();
            if d > parents.len() {
                break;
            }
        }
        d
    };
    let mut order: Vec<(usize, usize)> =
        results.iter().enumerate().map(|(i, r)| (depth(&r.id), i)).collect();
    order.sort_by_key(|o| std::cmp::Reverse(o.0));
    for (_, i) in order {
        let id = results[i].id.clone();
        let children: Vec<&GoalResult> =
            results.iter().filter(|c| c.parent.as_deref() == Some(id.as_str())).collect();
        if children.is_empty() {
            continue;
        }
        let paces: Vec<f64> = children.iter().filter_map(|c| c.pace).map(|p| p.min(1.0)).collect();
        let pace = (!paces.is_empty()).then(|| paces.iter().sum::<f64>() / paces.len() as f64);
        let mut statuses = BTreeMap::new();
        for c in &children {
            *statuses.entry(c.status.label()).or_insert(0) += 1;
        }
        let all_ended = children.iter().all(|c| c.state == State::Ended);
        let none_started = children.iter().all(|c| c.state == State::NotStarted);
        let rollup =
            Rollup { children: children.iter().map(|c| c.id.clone()).collect(), pace, statuses };
        let r = &mut results[i];
        if r.kpi.is_none() {
            r.pace = pace;
            r.progress = pace;
            r.status = if none_started {
                Status::NotStarted
            } else {
                Status::from_pace(pace, r.thresholds, all_ended)
            };
        }
        r.rollup = Some(rollup);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn goal(kpi: &str, target: f64, period: &str, test: GoalTest) -> GoalConfig {
        GoalConfig {
            id: "g".into(),
            name: None,
            kpi: Some(kpi.into()),
            target: Some(target),
            period: Period::parse(period, &Calendar::default()).unwrap(),
            test,
            filters: vec![],
            parent: None,
            split: SplitRule::Even,
            thresholds: StatusThresholds::default(),
        }
    }

    fn total(daily: Vec<Option<f64>>) -> GoalInputs {
        let to_date = daily.iter().flatten().sum::<f64>();
        GoalInputs {
            kpi_name: "Leads".into(),
            unit: Some(Unit::Count),
            direction: Some(Direction::Higher),
            accrual: Some(Accrual::Total),
            has_data: true,
            to_date: Some(to_date),
            daily,
            ..GoalInputs::default()
        }
    }

    #[test]
    fn a_total_is_pro_rated_by_days_at_mid_period() {
        // April 2026 has 30 days; 300 leads wanted, 10 a day expected. 15 days gone with 120
        // leads: expected 150, pace 120 ÷ 150 = 80 % (below at_risk 85 %: off track), progress
        // 120 ÷ 300 = 40 %, run rate 120 ÷ 0.5 = 240.
        let g = goal("leads", 300.0, "2026-04", GoalTest::Reach);
        let inputs = total(vec![Some(8.0); 15]);
        let r = evaluate(&g, Some(&inputs), d("2026-04-15"), &Calendar::default());
        assert_eq!(r.state, State::Running);
        assert_eq!(r.expected, Some(150.0));
        assert_eq!(r.pace, Some(0.8));
        assert_eq!(r.progress, Some(0.4));
        assert_eq!(r.projection.run_rate, Some(240.0));
        assert_eq!(r.status, Status::OffTrack);
        // A flat 8 a day carries on: the trend ends at 240 with no scatter.
        assert!((r.projection.trend.unwrap() - 240.0).abs() < 1e-9);
        assert_eq!(r.pacing.len(), 30);
        assert_eq!(r.pacing[14].actual, Some(120.0));
        assert!((r.pacing[14].expected - 150.0).abs() < 1e-9);
        assert_eq!(r.pacing[15].actual, None);
    }

    #[test]
    fn a_budget_ceiling_inverts_the_pace() {
        // Ad cost is lower-is-better: spending 60 of a 100 budget half way is 50 ÷ 60 = 83 %,
        // below at_risk (85 %): off track.
        let mut g = goal("ad_cost", 100.0, "2026-04", GoalTest::Reach);
        g.test = GoalTest::StayBelow;
        let mut inputs = total(vec![Some(4.0); 15]);
        inputs.direction = Some(Direction::Lower);
        let r = evaluate(&g, Some(&inputs), d("2026-04-15"), &Calendar::default());
        assert_eq!(r.orientation, Some(Orientation::AtMost));
        assert!((r.pace.unwrap() - 50.0 / 60.0).abs() < 1e-12);
        assert_eq!(r.status, Status::OffTrack);
    }

    #[test]
    fn a_goal_before_its_period_has_not_started() {
        let g = goal("leads", 300.0, "2026-05", GoalTest::Reach);
        let r = evaluate(&g, Some(&total(vec![])), d("2026-04-15"), &Calendar::default());
        assert_eq!(
            (r.state, r.status, r.actual, r.expected),
            (State::NotStarted, Status::NotStarted, None, None)
        );
    }
}
