//! Goals, plans, diagnosis and alerts over the store (DESIGN §7): the figures each needs,
//! computed with the report and funnel engines, handed to the arithmetic of `kpiflow-goals`.

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use kpiflow_catalog::Kpi;
use kpiflow_goals::anomaly::{self, AnomalyRule, Point};
use kpiflow_goals::diagnosis::{self, Diagnosis, Expectation, FunnelFigures};
use kpiflow_goals::goals::{self, Accrual, Bucket, GoalInputs, GoalResult};
use kpiflow_goals::plan::{self, Override, Plan, PlanInputs, PlanTarget};
use kpiflow_goals::slices;
use kpiflow_model::{AlertConfig, AlertRule, GoalConfig, GoalTest};
use serde::Serialize;

use crate::funnel::{CountBy, FunnelMode, FunnelRequest};
use crate::time::{Grain, Period};
use crate::{Engine, EngineError, ReportRequest, Result};

/// Every goal of the configuration, evaluated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoalsReport {
    /// The last day counted.
    pub as_of: NaiveDate,
    pub goals: Vec<GoalResult>,
}

/// A plan request.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRequest {
    pub target: PlanTarget,
    pub period: Period,
    /// Rates given instead of the trailing ones (later ones win).
    pub overrides: Vec<Override>,
}

/// What a diagnosis compares with.
#[derive(Debug, Clone, PartialEq)]
pub enum Against {
    /// The 12 months before the period, scaled to its length.
    History,
    /// A plan whose period covers the diagnosed one.
    Plan(PlanRequest),
}

/// A diagnosis of one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiagnosisReport {
    pub period: String,
    pub period_from: NaiveDate,
    /// Last day included.
    pub period_to: NaiveDate,
    #[serde(flatten)]
    pub diagnosis: Diagnosis,
    pub notes: Vec<String>,
}

/// One bucket an alert looked at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertCheck {
    pub bucket: String,
    pub start: NaiveDate,
    pub value: Option<f64>,
    pub fired: bool,
    pub reason: String,
    /// Anomaly rules: what the history expects (its trend line) and the robust z-score.
    pub expected: Option<f64>,
    pub z: Option<f64>,
}

/// One alert rule, evaluated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertResult {
    pub id: String,
    pub kpi: String,
    pub kpi_name: String,
    pub unit: kpiflow_catalog::Unit,
    pub filters: Vec<(String, String)>,
    pub grain: &'static str,
    pub rule: AlertRule,
    /// The buckets checked, oldest first (the last complete one, or every one since a date).
    pub checks: Vec<AlertCheck>,
    pub notes: Vec<String>,
}

impl AlertResult {
    pub fn fired(&self) -> impl Iterator<Item = &AlertCheck> {
        self.checks.iter().filter(|c| c.fired)
    }
}

fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    d.checked_add_signed(chrono::Duration::days(n)).unwrap_or(d)
}

fn months_back(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_sub_months(Months::new(n)).unwrap_or(d)
}

fn range(from: NaiveDate, to: NaiveDate) -> Period {
    Period { label: format!("{from}..{}", add_days(to, -1)), from, to }
}

fn ratio_of(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b != 0.0 => Some(a / b),
        _ => None,
    }
}

fn month_label(p: &Period) -> String {
    format!("{}..{}", p.from.format("%Y-%m"), add_days(p.to, -1).format("%Y-%m"))
}

impl Engine {
    /// A KPI usable for goals and alerts: known, and not one that is always split.
    fn tracked_kpi(&self, id: &str, what: &str) -> Result<&Kpi> {
        let kpi = self.catalog.resolve_kpi(id)?;
        if !kpi.by.is_empty() {
            return Err(EngineError::Request(format!(
                "{what}: KPI `{id}` is always split by {}; pick a KPI with a single value",
                kpi.by.join(", ")
            )));
        }
        Ok(kpi)
    }

    /// The KPI per bucket of `grain` over `period` (buckets without a row are absent).
    async fn series(
        &self,
        kpi: &str,
        period: &Period,
        grain: Grain,
        filters: &[(String, String)],
    ) -> Result<(bool, BTreeMap<NaiveDate, Option<f64>>)> {
        if period.to <= period.from {
            return Ok((true, BTreeMap::new()));
        }
        let report = self
            .report(&ReportRequest {
                kpis: vec![kpi.to_owned()],
                grain: Some(grain),
                period: Some(period.clone()),
                filters: filters.to_vec(),
                ..ReportRequest::default()
            })
            .await?;
        let has_data = report.kpis.first().is_some_and(|k| k.has_data);
        // Keyed by the bucket's calendar start, also for a first bucket the period cuts short.
        let values = report
            .rows
            .iter()
            .filter(|r| r.kpi == kpi)
            .map(|r| {
                let key = if grain == Grain::Total {
                    r.period_start
                } else {
                    self.calendar.bucket_start(grain, r.period_start)
                };
                (key, r.value)
            })
            .collect();
        Ok((has_data, values))
    }

    /// The KPI over a whole period.
    async fn total(
        &self,
        kpi: &str,
        period: &Period,
        filters: &[(String, String)],
    ) -> Result<Option<f64>> {
        if !self
            .catalog
            .kpi(kpi)
            .is_some_and(|k| k.sources.iter().all(|s| self.source_available(s)))
        {
            return Ok(None);
        }
        let (_, v) = self.series(kpi, period, Grain::Total, filters).await?;
        Ok(v.into_values().next().flatten())
    }

    /// The last day counted by default: the last day with data (today in an empty store).
    pub async fn default_as_of(&self) -> Result<NaiveDate> {
        Ok(self.data_end().await?.unwrap_or_else(|| chrono::Utc::now().date_naive()))
    }

    /// What one goal's KPI did, for [`goals::evaluate`].
    async fn goal_inputs(&self, goal: &GoalConfig, as_of: NaiveDate) -> Result<Option<GoalInputs>> {
        let Some(kpi_id) = goal.kpi.as_deref() else { return Ok(None) };
        let kpi = self.tracked_kpi(kpi_id, &format!("goal `{}`", goal.id))?;
        let accrual = if self.catalog.adds_up(kpi) { Accrual::Total } else { Accrual::Level };
        let period = &goal.period;
        let cutoff = add_days(as_of, 1).clamp(period.from, period.to);
        let so_far = range(period.from, cutoff);
        let filters = &goal.filters;
        let available = kpi.sources.iter().all(|s| self.source_available(s));
        let mut inputs = GoalInputs {
            kpi_name: kpi.name.clone(),
            unit: Some(kpi.unit),
            direction: Some(kpi.direction),
            accrual: Some(accrual),
            has_data: available,
            ..GoalInputs::default()
        };
        // Check the filters even when nothing is computed yet, so a typo is found today.
        if !available || cutoff <= period.from {
            if !filters.is_empty() && available {
                self.series(kpi_id, period, Grain::Total, filters).await?;
            }
            return Ok(Some(inputs));
        }
        let months = slices::months(&self.calendar, period);
        let quarters = slices::quarters(&self.calendar, period);
        match accrual {
            Accrual::Total => {
                let (has, daily) = self.series(kpi_id, &so_far, Grain::Day, filters).await?;
                inputs.has_data = has;
                let mut d = period.from;
                while d < cutoff {
                    inputs.daily.push(daily.get(&d).copied().unwrap_or(Some(0.0)));
                    d = add_days(d, 1);
                }
                // The KPI over [from, to) up to the cutoff; none for a slice not begun.
                let sum_between = |from: NaiveDate, to: NaiveDate| -> Option<f64> {
                    let end = to.min(cutoff);
                    (from < end).then(|| daily.range(from..end).filter_map(|(_, v)| *v).sum())
                };
                inputs.to_date = sum_between(period.from, cutoff);
                inputs.months = months.iter().map(|m| sum_between(m.from, m.to)).collect();
                inputs.quarters = quarters.iter().map(|q| sum_between(q.from, q.to)).collect();
                if goal.split == kpiflow_model::SplitRule::Seasonal
                    && let (Some(first), Some(last)) = (months.first(), months.last())
                {
                    let year_before = range(
                        months_back(first.bucket, 12),
                        months_back(self.calendar.bucket_end(Grain::Month, last.bucket), 12),
                    );
                    let start = self.data_start().await?;
                    let (_, ly) = self.series(kpi_id, &year_before, Grain::Month, filters).await?;
                    inputs.months_last_year = months
                        .iter()
                        .map(|m| {
                            let b = months_back(m.bucket, 12);
                            // A month before the data began is no history, not a zero.
                            if start.is_none_or(|s| s > b) {
                                return None;
                            }
                            ly.get(&b).copied().flatten().or(Some(0.0))
                        })
                        .collect();
                }
            }
            Accrual::Level => {
                let (has, total) = self.series(kpi_id, &so_far, Grain::Total, filters).await?;
                inputs.has_data = has;
                inputs.to_date = total.into_values().next().flatten();
                if goal.test == GoalTest::Reach {
                    let before = period.previous();
                    let (_, b) = self.series(kpi_id, &before, Grain::Total, filters).await?;
                    inputs.baseline = b.into_values().next().flatten();
                }
                let (_, by_month) = self.series(kpi_id, &so_far, Grain::Month, filters).await?;
                inputs.months = months
                    .iter()
                    .map(|m| {
                        if m.from < cutoff {
                            by_month.get(&m.bucket).copied().flatten()
                        } else {
                            None
                        }
                    })
                    .collect();
                let (_, by_quarter) =
                    self.series(kpi_id, &so_far, Grain::FiscalQuarter, filters).await?;
                inputs.quarters = quarters
                    .iter()
                    .map(|q| {
                        if q.from < cutoff {
                            by_quarter.get(&q.bucket).copied().flatten()
                        } else {
                            None
                        }
                    })
                    .collect();
                let grain = if period.days() <= 92 { Grain::Week } else { Grain::Month };
                let (_, buckets) = self.series(kpi_id, &so_far, grain, filters).await?;
                inputs.buckets = self
                    .calendar
                    .buckets(grain, &so_far)
                    .into_iter()
                    .map(|start| Bucket {
                        label: self.calendar.label(grain, start, &so_far),
                        start,
                        value: buckets.get(&start).copied().flatten(),
                    })
                    .collect();
            }
        }
        Ok(Some(inputs))
    }

    /// Every goal of the configuration as of `as_of` (default: the last day with data), parents
    /// rolled up from their children.
    pub async fn goals(&self, as_of: Option<NaiveDate>) -> Result<GoalsReport> {
        let as_of = match as_of {
            Some(d) => d,
            None => self.default_as_of().await?,
        };
        let mut results = Vec::new();
        for goal in &self.config.goals {
            let inputs = self.goal_inputs(goal, as_of).await?;
            results.push(goals::evaluate(goal, inputs.as_ref(), as_of, &self.calendar));
        }
        goals::roll_up(&mut results);
        Ok(GoalsReport { as_of, goals: results })
    }

    /// Entries into each funnel stage over a period (the any-order funnel); `None` per stage
    /// without the stage tables.
    async fn stage_counts(&self, period: &Period) -> Result<Vec<Option<f64>>> {
        let stages = &self.config.funnel.stages;
        if !self.source_available("stage_entries") {
            return Ok(vec![None; stages.len()]);
        }
        let funnel = self
            .funnel(&FunnelRequest {
                period: Some(period.clone()),
                mode: FunnelMode::AnyOrder,
                window_days: None,
                by: None,
                filters: vec![],
                count_by: CountBy::Contact,
            })
            .await?;
        Ok(stages
            .iter()
            .map(|s| funnel.stages.iter().find(|x| &x.stage == s).map(|x| x.count as f64))
            .collect())
    }

    /// The trailing window plans and diagnoses start from: the 12 months up to the last month
    /// with data, and the days it covers.
    async fn trailing_window(&self) -> Result<(Period, i64)> {
        let window = self.default_period().await?;
        let end = self.data_end().await?.map_or(window.to, |d| add_days(d, 1).min(window.to));
        let start = self.data_start().await?.map_or(window.from, |d| d.max(window.from));
        Ok((window, (end - start).num_days().max(1)))
    }

    /// The figures a plan needs.
    async fn plan_inputs(&self, quarters: &[slices::Slice]) -> Result<PlanInputs> {
        let (window, window_days) = self.trailing_window().await?;
        let stages = self.config.funnel.stages.clone();
        let mut inputs = PlanInputs {
            stage_counts: self.stage_counts(&window).await?,
            sessions: self.total("sessions", &window, &[]).await?,
            won_revenue: self.total("won_revenue", &window, &[]).await?,
            won_deals: self.total("closed_won_deals", &window, &[]).await?,
            ad_cost: self.total("ad_cost", &window, &[]).await?,
            window: month_label(&window),
            window_days,
            stages: stages.clone(),
            seasonal: BTreeMap::new(),
            seasonal_label: String::new(),
        };
        // Each quarter's seasonality: the same quarter in the latest year the data covers
        // entirely (a year earlier, else two or three).
        let (start, end) = (self.data_start().await?, self.data_end().await?);
        let earlier: Vec<Option<Period>> = quarters
            .iter()
            .map(|q| {
                [12, 24, 36].into_iter().find_map(|back| {
                    let p = range(months_back(q.from, back), months_back(q.to, back));
                    let covered = start.is_some_and(|s| s <= p.from)
                        && end.is_some_and(|e| add_days(e, 1) >= p.to);
                    covered.then_some(p)
                })
            })
            .collect();
        let covered: Vec<String> = earlier
            .iter()
            .flatten()
            .map(|p| self.calendar.label(Grain::FiscalQuarter, p.from, p))
            .collect();
        inputs.seasonal_label =
            if covered.is_empty() { "the years before".to_owned() } else { covered.join(", ") };
        let mut rows: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
        for p in &earlier {
            let Some(p) = p else {
                for id in ["sessions", "won_deals", "won_revenue", "ad_cost"]
                    .iter()
                    .map(|s| s.to_string())
                    .chain(stages.iter().cloned())
                {
                    rows.entry(id).or_default().push(None);
                }
                continue;
            };
            for (id, kpi) in [
                ("sessions", "sessions"),
                ("won_deals", "closed_won_deals"),
                ("won_revenue", "won_revenue"),
                ("ad_cost", "ad_cost"),
            ] {
                let v = self.total(kpi, p, &[]).await?;
                rows.entry(id.to_owned()).or_default().push(v);
            }
            let counts = self.stage_counts(p).await?;
            for (s, c) in stages.iter().zip(counts) {
                rows.entry(s.clone()).or_default().push(c);
            }
        }
        inputs.seasonal = rows;
        Ok(inputs)
    }

    /// The reverse-funnel plan.
    pub async fn plan(&self, request: &PlanRequest) -> Result<Plan> {
        let quarters = slices::quarters(&self.calendar, &request.period);
        let inputs = self.plan_inputs(&quarters).await?;
        Ok(plan::plan(request.target, &request.period, &quarters, &inputs, &request.overrides))
    }

    /// The period a diagnosis looks at by default: the last complete fiscal quarter.
    pub async fn default_diagnosis_period(&self) -> Result<Period> {
        let end = self.default_as_of().await?;
        let after = add_days(end, 1);
        let q = self.calendar.bucket_start(Grain::FiscalQuarter, after);
        let (from, to) = (months_back(q, 3), q);
        let p = Period { from, to, label: String::new() };
        Ok(Period { label: self.calendar.label(Grain::FiscalQuarter, from, &p), ..p })
    }

    async fn funnel_figures(&self, period: &Period) -> Result<FunnelFigures> {
        Ok(FunnelFigures {
            stage_counts: self.stage_counts(period).await?,
            sessions: self.total("sessions", period, &[]).await?,
            speed_to_lead: self.total("speed_to_lead", period, &[]).await?,
            answered_in_5_minutes: self.total("speed_to_lead_5min_share", period, &[]).await?,
        })
    }

    /// Compares a period's funnel with history or a plan and names the bottleneck.
    pub async fn diagnose(&self, period: &Period, against: &Against) -> Result<DiagnosisReport> {
        let stages = self.config.funnel.stages.clone();
        let actual = self.funnel_figures(period).await?;
        let mut notes = Vec::new();
        let history = range(months_back(period.from, 12), period.from);
        let past = self.funnel_figures(&history).await?;
        let start = self.data_start().await?;
        let covered_from = start.map_or(history.from, |s| s.max(history.from));
        let history_days = (history.to - covered_from).num_days();
        let expected = match against {
            Against::History => {
                if history_days <= 0 {
                    return Err(EngineError::Request(format!(
                        "no history before {} to compare with; diagnose a later period or \
                         compare with a plan (--target)",
                        period.from
                    )));
                }
                if covered_from > history.from {
                    notes.push(format!(
                        "history covers only {covered_from}..{} ({history_days} days)",
                        add_days(history.to, -1)
                    ));
                }
                let scale = period.days() as f64 / history_days as f64;
                let mut rates =
                    vec![ratio_of(past.stage_counts.first().copied().flatten(), past.sessions)];
                for i in 0..stages.len().saturating_sub(1) {
                    rates.push(ratio_of(past.stage_counts[i + 1], past.stage_counts[i]));
                }
                Expectation {
                    label: format!(
                        "the {history_days} days before ({covered_from}..{}), scaled to the period's {} days",
                        add_days(history.to, -1),
                        period.days()
                    ),
                    stage_counts: past.stage_counts.iter().map(|c| c.map(|c| c * scale)).collect(),
                    sessions: past.sessions.map(|s| s * scale),
                    rates,
                    speed_to_lead: past.speed_to_lead,
                }
            }
            Against::Plan(request) => {
                let plan = self.plan(request).await?;
                if period.from < request.period.from || period.to > request.period.to {
                    return Err(EngineError::Request(format!(
                        "the diagnosed period {} is not inside the plan's {}",
                        period.label, request.period.label
                    )));
                }
                // The plan's quarters, pro-rated by the days the diagnosed period shares.
                let quarters = slices::quarters(&self.calendar, &request.period);
                let share = |row: &kpiflow_goals::plan::PlanRow| -> Option<f64> {
                    quarters
                        .iter()
                        .zip(&row.quarters)
                        .map(|(q, v)| {
                            let overlap =
                                (q.to.min(period.to) - q.from.max(period.from)).num_days().max(0);
                            v.map(|v| v * overlap as f64 / q.days().max(1) as f64)
                        })
                        .sum()
                };
                let row = |id: &str| plan.rows.iter().find(|r| r.id == id).and_then(share);
                let rate = |id: &str| plan.rates.iter().find(|r| r.id == id).and_then(|r| r.value);
                let mut rates = vec![rate(&format!("session_to_{}_rate", stages[0]))];
                for pair in stages.windows(2) {
                    rates.push(rate(&format!("{}_to_{}_rate", pair[0], pair[1])));
                }
                notes.extend(plan.problems.iter().cloned());
                Expectation {
                    label: format!(
                        "the plan for {} ({})",
                        plan.period,
                        match plan.target {
                            PlanTarget::WonRevenue(v) => format!("won revenue {v}"),
                            PlanTarget::Customers(v) => format!("{v} customers"),
                        }
                    ),
                    stage_counts: stages.iter().map(|s| row(s)).collect(),
                    sessions: row("sessions"),
                    rates,
                    speed_to_lead: past.speed_to_lead,
                }
            }
        };
        let diagnosis = diagnosis::diagnose(&stages, &actual, &expected, 0.10);
        Ok(DiagnosisReport {
            period: if period.label.is_empty() {
                format!("{}..{}", period.from, add_days(period.to, -1))
            } else {
                period.label.clone()
            },
            period_from: period.from,
            period_to: add_days(period.to, -1),
            diagnosis,
            notes,
        })
    }

    /// Evaluates the alert rules on the last complete bucket of each (or on every bucket from
    /// `since`), as of `as_of` (default: the last day with data).
    pub async fn alerts(
        &self,
        since: Option<NaiveDate>,
        as_of: Option<NaiveDate>,
    ) -> Result<Vec<AlertResult>> {
        let as_of = match as_of {
            Some(d) => d,
            None => self.default_as_of().await?,
        };
        let mut out = Vec::new();
        for alert in &self.config.alerts {
            out.push(self.alert(alert, since, as_of).await?);
        }
        Ok(out)
    }

    async fn alert(
        &self,
        alert: &AlertConfig,
        since: Option<NaiveDate>,
        as_of: NaiveDate,
    ) -> Result<AlertResult> {
        let what = format!("alert `{}`", alert.id);
        let kpi = self.tracked_kpi(&alert.kpi, &what)?;
        let grain = alert.grain;
        // The last complete bucket ends the day after `as_of` at the latest.
        let after = add_days(as_of, 1);
        let mut last = self.calendar.bucket_start(grain, as_of);
        if self.calendar.bucket_end(grain, last) > after {
            last = self.calendar.bucket_start(grain, add_days(last, -1));
        }
        let first = match since {
            Some(s) => self.calendar.bucket_start(grain, s).min(last),
            None => last,
        };
        let (window, step) = match &alert.rule {
            AlertRule::Anomaly { window, .. } => (*window, if grain == Grain::Day { 7 } else { 1 }),
            AlertRule::Threshold { .. } => (0, 1),
        };
        // History reaches `window × step` buckets before the first one checked, and the other
        // weekdays' histories (pooled for the scale) up to `step − 1` more.
        let mut history_start = first;
        let back = if window == 0 { 0 } else { window * step + step - 1 };
        for _ in 0..back {
            history_start = self.calendar.bucket_start(grain, add_days(history_start, -1));
        }
        let span = range(history_start, self.calendar.bucket_end(grain, last));
        let (has_data, values) = self.series(&alert.kpi, &span, grain, &alert.filters).await?;
        let mut notes = Vec::new();
        if !has_data {
            notes.push(format!("{} has no data: its tables are not imported", kpi.name));
        }
        let volumes = match &alert.rule {
            AlertRule::Anomaly { volume_kpi: Some(v), .. } => {
                self.tracked_kpi(v, &what)?;
                Some(self.series(v, &span, grain, &alert.filters).await?.1)
            }
            _ => None,
        };
        let starts = self.calendar.buckets(grain, &span);
        let points: Vec<Point> = starts
            .iter()
            .map(|s| Point {
                label: self.calendar.label(grain, *s, &span),
                start: *s,
                value: if has_data { values.get(s).copied().flatten() } else { None },
                volume: volumes.as_ref().map(|v| v.get(s).copied().flatten().unwrap_or(0.0)),
            })
            .collect();
        let mut checks = Vec::new();
        for (i, p) in points.iter().enumerate() {
            if p.start < first {
                continue;
            }
            let check = match &alert.rule {
                AlertRule::Threshold { above, below } => {
                    let crossed = anomaly::threshold(p.value, *above, *below);
                    AlertCheck {
                        bucket: p.label.clone(),
                        start: p.start,
                        value: p.value,
                        fired: crossed.is_some(),
                        reason: crossed.unwrap_or_else(|| {
                            if p.value.is_some() {
                                "within the limits".into()
                            } else {
                                "no value".into()
                            }
                        }),
                        expected: None,
                        z: None,
                    }
                }
                AlertRule::Anomaly { z, window, min_volume, direction, .. } => {
                    let rule = AnomalyRule {
                        z: *z,
                        window: *window,
                        step,
                        min_volume: *min_volume,
                        direction: *direction,
                    };
                    let j = anomaly::judge(&points, i, &rule);
                    AlertCheck {
                        bucket: p.label.clone(),
                        start: p.start,
                        value: p.value,
                        fired: j.fired,
                        reason: j.reason,
                        expected: j.expected,
                        z: j.z,
                    }
                }
            };
            checks.push(check);
        }
        Ok(AlertResult {
            id: alert.id.clone(),
            kpi: alert.kpi.clone(),
            kpi_name: kpi.name.clone(),
            unit: kpi.unit,
            filters: alert.filters.clone(),
            grain: grain.name(),
            rule: alert.rule.clone(),
            checks,
            notes,
        })
    }

    /// Checks every goal's and alert's KPI, dimensions and filters before work starts, so a
    /// typo in `kpiflow.toml` is an error with a "did you mean" rather than a silent gap.
    pub fn check_tracking(&self) -> Result<()> {
        let known_dims: std::collections::BTreeSet<&str> =
            self.catalog.kpis.iter().flat_map(|k| k.dimensions.iter().copied()).collect();
        let check_filters = |what: &str, kpi: &Kpi, filters: &[(String, String)]| -> Result<()> {
            for (d, _) in filters {
                if !known_dims.contains(d.as_str()) {
                    return Err(kpiflow_model::UnknownName::new(
                        "dimension",
                        d,
                        known_dims.iter().copied(),
                    )
                    .into());
                }
                if !kpi.dimensions.contains(&d.as_str()) {
                    return Err(EngineError::Request(format!(
                        "{what}: KPI `{}` cannot be filtered by `{d}`; it has {}",
                        kpi.id,
                        kpi.dimensions.join(", ")
                    )));
                }
            }
            Ok(())
        };
        for g in &self.config.goals {
            if let Some(k) = &g.kpi {
                let what = format!("goal `{}`", g.id);
                let kpi = self.tracked_kpi(k, &what)?;
                check_filters(&what, kpi, &g.filters)?;
            }
        }
        for a in &self.config.alerts {
            let what = format!("alert `{}`", a.id);
            let kpi = self.tracked_kpi(&a.kpi, &what)?;
            check_filters(&what, kpi, &a.filters)?;
            if let AlertRule::Anomaly { volume_kpi: Some(v), .. } = &a.rule {
                let vk = self.tracked_kpi(v, &what)?;
                check_filters(&what, vk, &a.filters)?;
            }
        }
        Ok(())
    }
}
