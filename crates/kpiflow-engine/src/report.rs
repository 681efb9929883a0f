//! Reports: KPIs × dimensions × grain × period × filters × comparison (DESIGN §4).
//!
//! A request is resolved first (KPIs and dimensions checked against the catalog, period and
//! grain settled), then its measures are grouped by source, time column, snapshot rule and split:
//! each group is **one** aggregate plan over one scan, with every measure as a filtered aggregate.
//! KPI formulas are then evaluated per bucket and split from those measures.
//!
//! Rules that hold for every figure:
//! - an outcome counts in the bucket of its own time column, in the reporting timezone;
//! - counts and sums over a source that exists but has no rows in a bucket are 0; a KPI whose
//!   source tables are missing has no value (never 0);
//! - division by zero is no value;
//! - a stage rate is a period ratio, or with [`RateKind::Cohort`] the share of the entities that
//!   entered the first stage in the bucket and reached the second within the window.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Date32Type, Float64Type, TimeUnit};
use chrono::{NaiveDate, TimeZone};
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn::{coalesce, date_trunc, nullif, to_local_time, trim};
use datafusion::functions_aggregate::expr_fn::{avg, count, count_distinct, max, median, min, sum};
use datafusion::functions_aggregate::percentile_cont::percentile_cont;
use datafusion::logical_expr::{ExprFunctionExt, JoinType};
use datafusion::prelude::*;
use kpiflow_catalog::{Agg, Direction, Kpi, Measure, Snapshot, Unit};
use kpiflow_model::UnknownName;
use sqlparser::ast::ExprWithAlias;

use crate::eval::{self, Scope};
use crate::time::{Compare, Grain, Period};
use crate::{Engine, EngineError, Result};

/// How many measure-group results an engine keeps (a report uses about 20).
pub(crate) const RESULT_CACHE_ENTRIES: usize = 1024;

/// The label of an empty or missing dimension value.
pub const NOT_SET: &str = "(not set)";

/// How stage rates are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RateKind {
    /// Entries into the later stage in the period ÷ entries into the earlier stage in the period.
    #[default]
    Period,
    /// Of the entities entering the earlier stage in the period, the share that entered the
    /// later one within the window.
    Cohort,
}

impl RateKind {
    pub fn name(self) -> &'static str {
        match self {
            RateKind::Period => "period",
            RateKind::Cohort => "cohort",
        }
    }
}

/// A report request, as the CLI and the HTTP API give it.
#[derive(Debug, Clone, Default)]
pub struct ReportRequest {
    /// KPI ids; empty for the overview (every non-vanity KPI whose tables exist).
    pub kpis: Vec<String>,
    /// With an empty `kpis`: every KPI of the catalog, vanity ones and those without data too.
    pub all: bool,
    /// Dimensions to split by.
    pub by: Vec<String>,
    /// Default: `month` over the default period, `total` over a given one.
    pub grain: Option<Grain>,
    /// Default: the 12 months up to the last month with data.
    pub period: Option<Period>,
    /// `dimension = value` filters; several values of one dimension are alternatives.
    pub filters: Vec<(String, String)>,
    pub compare: Option<Compare>,
    pub rate: RateKind,
    /// Cohort conversion window in days (default 90).
    pub window_days: Option<u32>,
}

/// A KPI as it appears in a report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReportKpi {
    pub id: String,
    pub name: String,
    pub unit: Unit,
    pub direction: Direction,
    /// `period` or `cohort` for stage rates; `None` for other KPIs.
    pub rate: Option<&'static str>,
    /// The dimensions its rows are split by.
    pub by: Vec<String>,
    /// False when tables it needs are missing: its values are all empty.
    pub has_data: bool,
}

/// One figure: a KPI in one bucket of one split.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReportRow {
    pub kpi: String,
    pub period_start: NaiveDate,
    /// `2025-03`, `2025-Q1`, `FY2026`...
    pub period: String,
    /// Dimension name → value, for the KPI's split.
    pub dims: BTreeMap<String, String>,
    pub value: Option<f64>,
    pub previous_value: Option<f64>,
    pub change: Option<f64>,
    pub change_pct: Option<f64>,
    /// Whether the change is good given the KPI's direction (`None` without a change).
    pub good: Option<bool>,
}

/// A computed report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    pub grain: &'static str,
    pub period_from: NaiveDate,
    /// Last day included.
    pub period_to: NaiveDate,
    pub compare: Option<&'static str>,
    pub rate: &'static str,
    pub window_days: u32,
    /// Every dimension any row is split by, request's first.
    pub dimensions: Vec<String>,
    pub kpis: Vec<ReportKpi>,
    pub rows: Vec<ReportRow>,
    /// What the reader should know: KPIs left out and why, excluded records, open cohorts.
    pub warnings: Vec<String>,
}

/// A resolved KPI of the request.
struct Planned<'a> {
    kpi: &'a Kpi,
    dims: Vec<String>,
    cohort: Option<(String, String)>,
    available: bool,
}

/// Measures computed together: one source, one time column, one snapshot rule, one split.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct GroupKey {
    source: &'static str,
    time: String,
    snapshot: Option<SnapshotKey>,
    dims: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum SnapshotKey {
    First,
    Last,
}

/// The rows of one group: (bucket, dimension values) → one value per measure.
type Cells = HashMap<(NaiveDate, Vec<String>), Vec<Option<f64>>>;

pub(crate) struct GroupResult {
    measures: Vec<String>,
    cells: Cells,
    /// For `won_deal_cycles`: per bucket, the won deals closed before their first touch (left
    /// out of the cycle measures by their filter; counted for a warning).
    negative_cycles: HashMap<NaiveDate, f64>,
    /// Per measure, the index of its value among a cell's values.
    columns: Vec<usize>,
    /// For sums: the index of the value counting the rows they add up (0 rows → 0, not none).
    sum_counts: Vec<Option<usize>>,
}

/// A cohort conversion: (bucket, dims) → (entered, converted).
type CohortCells = HashMap<(NaiveDate, Vec<String>), (f64, f64)>;

/// Where the buckets are computed: a set of disjoint date ranges cut by the grain, or (for
/// `total`) one range as a single bucket.
#[derive(Debug, Clone)]
struct Scope0 {
    ranges: Vec<(NaiveDate, NaiveDate)>,
    constant: Option<NaiveDate>,
}

impl Engine {
    /// The last local date with data in any table (`None` for an empty store).
    pub async fn data_end(&self) -> Result<Option<NaiveDate>> {
        let mut cached = self.data_end.lock().await;
        if let Some(v) = *cached {
            return Ok(v);
        }
        let mut end: Option<NaiveDate> = None;
        for table in kpiflow_model::TABLES {
            if !self.has_table(table.name) || table.name == "fx_rates" {
                continue;
            }
            let time = table.time_column;
            let df = self.ctx.table(table.name).await?.aggregate(
                vec![],
                vec![max(cast(self.local_time(time, table)?, DataType::Date32)).alias("last")],
            )?;
            for batch in df.collect().await? {
                let a = batch.column(0).as_primitive::<Date32Type>();
                if !a.is_empty() && !a.is_null(0) {
                    let d = a.value_as_date(0);
                    end = end.max(d);
                }
            }
        }
        *cached = Some(end);
        Ok(end)
    }

    /// The first local date with data in any table (`None` for an empty store).
    pub async fn data_start(&self) -> Result<Option<NaiveDate>> {
        let mut cached = self.data_start.lock().await;
        if let Some(v) = *cached {
            return Ok(v);
        }
        let mut start: Option<NaiveDate> = None;
        for table in kpiflow_model::TABLES {
            if !self.has_table(table.name) || table.name == "fx_rates" {
                continue;
            }
            let time = table.time_column;
            let df = self.ctx.table(table.name).await?.aggregate(
                vec![],
                vec![min(cast(self.local_time(time, table)?, DataType::Date32)).alias("first")],
            )?;
            for batch in df.collect().await? {
                let a = batch.column(0).as_primitive::<Date32Type>();
                if !a.is_empty() && !a.is_null(0) {
                    let d = a.value_as_date(0);
                    start = match (start, d) {
                        (Some(s), Some(d)) => Some(s.min(d)),
                        (s, d) => s.or(d),
                    };
                }
            }
        }
        *cached = Some(start);
        Ok(start)
    }

    /// The 12 months up to the last month with data (up to this month in an empty store).
    pub async fn default_period(&self) -> Result<Period> {
        let end = self.data_end().await?.unwrap_or_else(|| chrono::Utc::now().date_naive());
        let last_month = self.calendar.bucket_start(Grain::Month, end);
        let from = last_month.checked_sub_months(chrono::Months::new(11)).unwrap_or(last_month);
        let to = last_month.checked_add_months(chrono::Months::new(1)).unwrap_or(last_month);
        let label = format!("{}..{}", from.format("%Y-%m"), last_month.format("%Y-%m"));
        Ok(Period { from, to, label })
    }

    /// A timestamp or date column as local wall-clock time (timestamp without zone).
    fn local_time(&self, column: &str, table: &kpiflow_model::Table) -> Result<Expr> {
        let ty = table.column(column).map(|c| c.ty);
        self.local_time_of(column, ty.is_some_and(|t| t == kpiflow_model::ColumnType::Timestamp))
    }

    pub(crate) fn local_time_of(&self, column: &str, is_timestamp: bool) -> Result<Expr> {
        let naive = DataType::Timestamp(TimeUnit::Microsecond, None);
        if !is_timestamp {
            return Ok(cast(col(column), naive));
        }
        let tz = self.config.timezone;
        if tz == chrono_tz::UTC {
            return Ok(cast(col(column), naive));
        }
        let zoned = DataType::Timestamp(TimeUnit::Microsecond, Some(tz.name().into()));
        Ok(to_local_time(vec![cast(col(column), zoned)]))
    }

    /// The UTC instant of local midnight starting `d`.
    pub(crate) fn utc_midnight(&self, d: NaiveDate) -> ScalarValue {
        let tz = self.config.timezone;
        let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default();
        let instant = tz
            .from_local_datetime(&midnight)
            .earliest()
            .or_else(|| tz.from_local_datetime(&(midnight + chrono::Duration::hours(1))).earliest())
            .map(|t| t.timestamp_micros())
            .unwrap_or_else(|| midnight.and_utc().timestamp_micros());
        ScalarValue::TimestampMicrosecond(Some(instant), Some("UTC".into()))
    }

    /// Rows of `column` inside one of `ranges` (local dates, end exclusive).
    pub(crate) fn in_ranges(
        &self,
        column: &str,
        is_timestamp: bool,
        ranges: &[(NaiveDate, NaiveDate)],
    ) -> Expr {
        let bound = |d: NaiveDate| {
            if is_timestamp {
                lit(self.utc_midnight(d))
            } else {
                lit(ScalarValue::Date32(Some(date32(d))))
            }
        };
        ranges
            .iter()
            .map(|(a, b)| col(column).gt_eq(bound(*a)).and(col(column).lt(bound(*b))))
            .reduce(Expr::or)
            .unwrap_or(lit(false))
    }

    /// The bucket (its first day) of a local time at `grain`.
    pub(crate) fn bucket(&self, local: Expr, grain: Grain) -> Expr {
        let trunc = |unit: &str, e: Expr| date_trunc(lit(unit), e);
        let shift = self.calendar.fiscal_start_month as i32 - 1;
        let months = |n: i32| lit(ScalarValue::IntervalYearMonth(Some(n)));
        let start = match grain {
            Grain::Day | Grain::Total => local,
            Grain::Week => trunc("week", local),
            Grain::Month => trunc("month", local),
            Grain::Quarter => trunc("quarter", local),
            Grain::Year => trunc("year", local),
            Grain::FiscalQuarter | Grain::FiscalYear if shift == 0 => {
                trunc(if grain == Grain::FiscalQuarter { "quarter" } else { "year" }, local)
            }
            Grain::FiscalQuarter => trunc("quarter", local - months(shift)) + months(shift),
            Grain::FiscalYear => trunc("year", local - months(shift)) + months(shift),
        };
        cast(start, DataType::Date32)
    }

    /// Computes a report.
    pub async fn report(&self, request: &ReportRequest) -> Result<Report> {
        self.on_cluster(self.compute_report(request).await)
    }

    async fn compute_report(&self, request: &ReportRequest) -> Result<Report> {
        let catalog = self.catalog.clone();
        let mut warnings = Vec::new();

        // KPIs.
        let overview = request.kpis.is_empty();
        let mut chosen: Vec<&Kpi> = Vec::new();
        if overview {
            for k in &catalog.kpis {
                let available = k.sources.iter().all(|s| self.source_available(s));
                if request.all || (!k.vanity && available) {
                    chosen.push(k);
                }
            }
        } else {
            for id in &request.kpis {
                let k = catalog.resolve_kpi(id)?;
                if !chosen.iter().any(|c| c.id == k.id) {
                    chosen.push(k);
                }
            }
        }

        // Dimensions and filters.
        let known_dims: BTreeSet<&str> =
            catalog.kpis.iter().flat_map(|k| k.dimensions.iter().copied()).collect();
        for d in request.by.iter().chain(request.filters.iter().map(|(d, _)| d)) {
            if !known_dims.contains(d.as_str()) {
                return Err(UnknownName::new("dimension", d, known_dims.iter().copied()).into());
            }
        }
        let filter_dims: BTreeSet<&str> = request.filters.iter().map(|(d, _)| d.as_str()).collect();
        let mut planned: Vec<Planned> = Vec::new();
        let mut skipped: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for k in chosen {
            let lacking: Vec<&str> = request
                .by
                .iter()
                .map(String::as_str)
                .chain(filter_dims.iter().copied())
                .filter(|d| !k.dimensions.contains(d))
                .collect();
            if let Some(first) = lacking.first() {
                if overview {
                    skipped.entry((*first).to_owned()).or_default().push(&k.id);
                    continue;
                }
                return Err(cannot_split(k, first));
            }
            let dims = split_dims(&request.by, k);
            let cohort = match (request.rate, &k.cohort) {
                (RateKind::Cohort, Some(c)) => Some(c.clone()),
                _ => None,
            };
            let available = match &cohort {
                Some(_) => self.source_available("stage_entries"),
                None => k.sources.iter().all(|s| self.source_available(s)),
            };
            planned.push(Planned { kpi: k, dims, cohort, available });
        }
        for (dim, ids) in skipped {
            warnings.push(format!(
                "left out because their sources have no `{dim}`: {}",
                ids.join(", ")
            ));
        }
        if planned.is_empty() {
            return Err(EngineError::Request(
                "no KPI to report: the store has no data for any (import tables first) or none \
                 can be split or filtered as asked"
                    .into(),
            ));
        }
        let missing: Vec<&str> =
            planned.iter().filter(|p| !p.available).map(|p| p.kpi.id.as_str()).collect();
        if !missing.is_empty() {
            warnings.push(format!(
                "no data (tables missing) for {}: import {} to get them",
                missing.join(", "),
                self.missing_tables(&planned).join(", ")
            ));
        }

        // Period and grain.
        let data_end = self.data_end().await?;
        let (period, grain) = match &request.period {
            Some(p) => (p.clone(), request.grain.unwrap_or(Grain::Total)),
            None => (self.default_period().await?, request.grain.unwrap_or(Grain::Month)),
        };
        let buckets = self.calendar.buckets(grain, &period);
        let window = request.window_days.unwrap_or(90);

        // Which buckets are needed: the period's, the compared ones, and for previous() the one
        // before each of those.
        let uses_previous = planned.iter().any(|p| self.uses_previous(p.kpi));
        let (scopes, covered) =
            self.scopes(grain, &period, &buckets, request.compare, uses_previous);

        // Measure groups.
        let mut groups: BTreeMap<GroupKey, Vec<String>> = BTreeMap::new();
        for p in planned.iter().filter(|p| p.available && p.cohort.is_none()) {
            for m in &p.kpi.measures {
                let measure = catalog
                    .measure(m)
                    .ok_or_else(|| EngineError::Internal(format!("measure {m} vanished")))?;
                let key = GroupKey {
                    source: measure.source,
                    time: measure.time.clone(),
                    snapshot: measure.snapshot.map(|s| match s {
                        Snapshot::First => SnapshotKey::First,
                        Snapshot::Last => SnapshotKey::Last,
                    }),
                    dims: p.dims.clone(),
                };
                let list = groups.entry(key).or_default();
                if !list.contains(m) {
                    list.push(m.clone());
                }
            }
        }
        let plans = groups.iter().map(|(key, measures)| {
            self.cached_group(key, measures, &scopes, grain, &request.filters)
        });
        let results: Vec<Arc<GroupResult>> = futures::future::try_join_all(plans).await?;
        let results: HashMap<GroupKey, Arc<GroupResult>> =
            groups.into_keys().zip(results).collect();

        let mut cohorts: HashMap<usize, CohortCells> = HashMap::new();
        for (i, p) in planned.iter().enumerate() {
            if let (Some((from, to)), true) = (&p.cohort, p.available) {
                let cells = self
                    .run_cohort(from, to, &p.dims, window, &scopes, grain, &request.filters)
                    .await?;
                cohorts.insert(i, cells);
            }
        }
        if planned.iter().any(|p| p.cohort.is_some())
            && let (Some(end), Some(last)) = (data_end, buckets.last())
        {
            let last_end = self.calendar.bucket_end(grain, *last).min(period.to);
            let open_from = end - chrono::Duration::days(window as i64);
            if last_end > open_from {
                warnings.push(format!(
                    "cohort rates of entries after {open_from} are not final: their {window}-day \
                     window runs past the data's last day ({end})"
                ));
            }
        }

        // Rows.
        let mut rows = Vec::new();
        let mut kpis = Vec::new();
        let mut dimensions: Vec<String> = request.by.clone();
        for (i, p) in planned.iter().enumerate() {
            for d in &p.dims {
                if !dimensions.contains(d) {
                    dimensions.push(d.clone());
                }
            }
            kpis.push(ReportKpi {
                id: p.kpi.id.clone(),
                name: p.kpi.name.clone(),
                unit: p.kpi.unit,
                direction: p.kpi.direction,
                rate: p.kpi.cohort.as_ref().map(|_| request.rate.name()),
                by: p.dims.clone(),
                has_data: p.available,
            });
            let combos = self.combos(p, &results, cohorts.get(&i), &buckets, &catalog);
            for b in &buckets {
                for combo in &combos {
                    let value = self.kpi_value(
                        p,
                        &results,
                        cohorts.get(&i),
                        grain,
                        &period,
                        &covered,
                        *b,
                        combo,
                    );
                    let (previous_value, change, change_pct, good) = match request.compare {
                        None => (None, None, None, None),
                        Some(c) => {
                            let (s, _) = self.calendar.shifted(grain, *b, &period, c);
                            let prev = self.kpi_value(
                                p,
                                &results,
                                cohorts.get(&i),
                                grain,
                                &period,
                                &covered,
                                s,
                                combo,
                            );
                            let change = value.zip(prev).map(|(v, q)| v - q);
                            let pct = value
                                .zip(prev)
                                .and_then(|(v, q)| (q != 0.0).then(|| (v - q) / q.abs()));
                            let good =
                                change.filter(|c| *c != 0.0).map(|c| match p.kpi.direction {
                                    Direction::Higher => c > 0.0,
                                    Direction::Lower => c < 0.0,
                                });
                            (prev, change, pct, good)
                        }
                    };
                    rows.push(ReportRow {
                        kpi: p.kpi.id.clone(),
                        period_start: (*b).max(period.from),
                        period: self.calendar.label(grain, *b, &period),
                        dims: p.dims.iter().cloned().zip(combo.iter().cloned()).collect(),
                        value,
                        previous_value,
                        change,
                        change_pct,
                        good,
                    });
                }
            }
        }

        self.cycle_warning(&planned, &results, &buckets, &mut warnings);

        Ok(Report {
            grain: grain.name(),
            period_from: period.from,
            period_to: period.to - chrono::Duration::days(1),
            compare: request.compare.map(|c| match c {
                Compare::Previous => "previous",
                Compare::YearOverYear => "yoy",
            }),
            rate: request.rate.name(),
            window_days: window,
            dimensions,
            kpis,
            rows,
            warnings,
        })
    }

    fn missing_tables(&self, planned: &[Planned]) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for p in planned.iter().filter(|p| !p.available) {
            for s in &p.kpi.sources {
                let table = match *s {
                    "stage_entries" | "stage_transitions" => "stage_changes",
                    "won_deal_cycles" => "deals",
                    "mrr_movements" | "mrr_retention" => "revenue",
                    t => t,
                };
                if !self.has_table(table) && !out.contains(&table) {
                    out.push(table);
                }
            }
        }
        out
    }

    /// Whether a KPI (or a KPI it uses) calls `previous()`.
    pub(crate) fn uses_previous(&self, kpi: &Kpi) -> bool {
        let mut seen = Vec::new();
        self.uses_previous_inner(kpi, &mut seen)
    }

    fn uses_previous_inner<'a>(&'a self, kpi: &'a Kpi, seen: &mut Vec<&'a str>) -> bool {
        if seen.contains(&kpi.id.as_str()) {
            return false;
        }
        seen.push(&kpi.id);
        eval::calls(&kpi.formula.expr, "previous")
            || kpi.formula.names.iter().any(|n| {
                self.catalog.measure(n).is_none()
                    && self.catalog.kpi(n).is_some_and(|k| self.uses_previous_inner(k, seen))
            })
    }

    /// The scopes to aggregate over, and every bucket they compute: the period's buckets, the
    /// buckets they are compared with, and with `previous()` the bucket before each of those.
    fn scopes(
        &self,
        grain: Grain,
        period: &Period,
        buckets: &[NaiveDate],
        compare: Option<Compare>,
        uses_previous: bool,
    ) -> (Vec<Scope0>, BTreeSet<NaiveDate>) {
        // (bucket key, first day, end): the period's buckets are cut to the period.
        let mut windows: Vec<(NaiveDate, NaiveDate, NaiveDate)> = buckets
            .iter()
            .map(|b| {
                if grain == Grain::Total {
                    (period.from, period.from, period.to)
                } else {
                    let end = self.calendar.bucket_end(grain, *b).min(period.to);
                    (*b, (*b).max(period.from), end)
                }
            })
            .collect();
        let shift = |windows: &[(NaiveDate, NaiveDate, NaiveDate)], c: Compare| {
            windows
                .iter()
                .map(|(b, _, _)| {
                    let (s, e) = self.calendar.shifted(grain, *b, period, c);
                    (s, s, e)
                })
                .collect::<Vec<_>>()
        };
        if let Some(c) = compare {
            let shifted = shift(&windows, c);
            windows.extend(shifted);
        }
        if uses_previous {
            let shifted = shift(&windows, Compare::Previous);
            windows.extend(shifted);
        }
        windows.sort();
        windows.dedup_by_key(|w| w.0);
        let covered: BTreeSet<NaiveDate> = windows.iter().map(|w| w.0).collect();
        if grain == Grain::Total {
            let scopes = windows
                .into_iter()
                .map(|(k, a, b)| Scope0 { ranges: vec![(a, b)], constant: Some(k) })
                .collect();
            return (scopes, covered);
        }
        let mut ranges: Vec<(NaiveDate, NaiveDate)> = windows.iter().map(|w| (w.1, w.2)).collect();
        ranges.sort();
        let mut merged: Vec<(NaiveDate, NaiveDate)> = Vec::new();
        for (a, b) in ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        (vec![Scope0 { ranges: merged, constant: None }], covered)
    }

    /// The source's column as a dimension value: empty and missing become `(not set)`.
    pub(crate) fn dim_expr(source: &str, name: &str) -> Expr {
        // Derived by the engine, never empty: no need to clean millions of values. (`costs` has a
        // channel column of its own, as exported.)
        if name == "transition" || (name == "channel" && source != "costs") {
            return col(name);
        }
        coalesce(vec![nullif(trim(vec![cast(col(name), DataType::Utf8)]), lit("")), lit(NOT_SET)])
    }

    pub(crate) fn filter_expr(
        filters: &[(String, String)],
        source: &kpiflow_catalog::Source,
    ) -> Option<Expr> {
        let mut by_dim: BTreeMap<&str, Vec<Expr>> = BTreeMap::new();
        for (d, v) in filters {
            if source.column(d).is_some() {
                by_dim.entry(d.as_str()).or_default().push(lit(v.as_str()));
            }
        }
        by_dim
            .into_iter()
            .map(|(d, values)| Self::dim_expr(source.name, d).in_list(values, false))
            .reduce(Expr::and)
    }

    pub(crate) fn to_df_expr(
        &self,
        formula: &kpiflow_catalog::Formula,
        schema: &datafusion::common::DFSchema,
    ) -> Result<Expr> {
        let state = self.ctx.state();
        Ok(state.create_logical_expr_from_sql_expr(
            ExprWithAlias { expr: formula.expr.clone(), alias: None },
            schema,
        )?)
    }

    fn aggregate(&self, m: &Measure, schema: &datafusion::common::DFSchema) -> Result<Expr> {
        let value = match &m.value {
            Some(v) => Some(self.to_df_expr(v, schema)?),
            None => None,
        };
        let agg = measure_aggregate(m, value, lit(1i64))?;
        match &m.filter {
            None => Ok(agg),
            Some(f) => Ok(agg.filter(self.to_df_expr(f, schema)?).build()?),
        }
    }

    /// A measure group's result, from the engine's result cache when the same group was computed
    /// before: an engine reads one snapshot of the store, so a result never goes stale.
    async fn cached_group(
        &self,
        key: &GroupKey,
        measures: &[String],
        scopes: &[Scope0],
        grain: Grain,
        filters: &[(String, String)],
    ) -> Result<Arc<GroupResult>> {
        if !self.result_cache_enabled() {
            return Ok(Arc::new(self.run_group(key, measures, scopes, grain, filters).await?));
        }
        let id = format!("{key:?}|{measures:?}|{scopes:?}|{grain:?}|{filters:?}");
        if let Some(hit) = self.results.lock().await.get(&id) {
            return Ok(hit.clone());
        }
        let result = Arc::new(self.run_group(key, measures, scopes, grain, filters).await?);
        let mut cache = self.results.lock().await;
        if cache.len() >= RESULT_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(id, result.clone());
        Ok(result)
    }

    /// Runs one measure group: one scan per scope, every measure a filtered aggregate.
    async fn run_group(
        &self,
        key: &GroupKey,
        measures: &[String],
        scopes: &[Scope0],
        grain: Grain,
        filters: &[(String, String)],
    ) -> Result<GroupResult> {
        let catalog = &self.catalog;
        let source = catalog
            .source(key.source)
            .ok_or_else(|| EngineError::Internal(format!("unknown source {}", key.source)))?;
        let is_ts =
            source.column(&key.time).is_some_and(|c| c.ty == kpiflow_model::ColumnType::Timestamp);
        let mut cells: Cells = HashMap::new();
        let mut negative_cycles = HashMap::new();
        let mut sum_counts = Vec::new();
        let mut columns = Vec::new();
        for scope in scopes {
            let Some(frame) = self.source_frame(key.source).await? else {
                break;
            };
            let local = self.local_time_of(&key.time, is_ts)?;
            let mut f = frame.filter(self.in_ranges(&key.time, is_ts, &scope.ranges))?;
            if let Some(x) = Self::filter_expr(filters, source) {
                f = f.filter(x)?;
            }
            let bucket = match scope.constant {
                Some(b) => lit(ScalarValue::Date32(Some(date32(b)))),
                None => self.bucket(local.clone(), grain),
            };
            let mut f = f.with_column("__bucket", bucket)?;
            let mut group = vec![col("__bucket")];
            for (i, d) in key.dims.iter().enumerate() {
                let name = format!("__d{i}");
                f = f.with_column(&name, Self::dim_expr(key.source, d))?;
                group.push(col(name));
            }
            if key.snapshot.is_some() {
                f = f.with_column("__t", cast(local, DataType::Date32))?;
                group.push(col("__t"));
            }
            if key.source == "mrr_retention" {
                f = Self::retention_frame(f, &group)?;
            }
            let schema = f.schema().clone();
            let mut aggs: Vec<Expr> = Vec::new();
            sum_counts.clear();
            columns.clear();
            for (i, id) in measures.iter().enumerate() {
                let m = catalog
                    .measure(id)
                    .ok_or_else(|| EngineError::Internal(format!("measure {id} vanished")))?;
                columns.push(aggs.len());
                aggs.push(self.aggregate(m, &schema)?.alias(format!("__m{i}")));
                if m.agg == Agg::Sum {
                    let mut n = count(lit(1i64));
                    if let Some(fl) = &m.filter {
                        n = n.filter(self.to_df_expr(fl, &schema)?).build()?;
                    }
                    sum_counts.push(Some(aggs.len()));
                    aggs.push(n.alias(format!("__n{i}")));
                } else {
                    sum_counts.push(None);
                }
            }
            let cycles = key.source == "won_deal_cycles";
            if cycles {
                aggs.push(
                    count(lit(1i64)).filter(col("cycle_days").lt(lit(0.0))).build()?.alias("__neg"),
                );
            }
            let started = std::time::Instant::now();
            let batches = f.aggregate(group, aggs)?.collect().await?;
            tracing::debug!(
                source = key.source,
                time = key.time.as_str(),
                dims = ?key.dims,
                measures = measures.len(),
                ms = started.elapsed().as_millis() as u64,
                "measure group computed"
            );
            let ndims = key.dims.len();
            let snap = key.snapshot.is_some();
            let mut rows: Vec<GroupRow> = Vec::new();
            for batch in &batches {
                read_group_batch(batch, ndims, snap, &mut rows)?;
            }
            if let Some(snapshot) = key.snapshot {
                // The stock at the first or last date of each bucket with any row.
                let mut pick: HashMap<NaiveDate, NaiveDate> = HashMap::new();
                for (b, _, t, _) in &rows {
                    let Some(t) = t else { continue };
                    let e = pick.entry(*b).or_insert(*t);
                    *e = match snapshot {
                        SnapshotKey::First => (*e).min(*t),
                        SnapshotKey::Last => (*e).max(*t),
                    };
                }
                rows.retain(|(b, _, t, _)| t.is_some() && pick.get(b) == t.as_ref());
            }
            for (b, dims, _, mut values) in rows {
                if cycles {
                    let n = values.pop().flatten().unwrap_or(0.0);
                    *negative_cycles.entry(b).or_insert(0.0) += n;
                }
                cells.insert((b, dims), values);
            }
        }
        Ok(GroupResult { measures: measures.to_vec(), cells, negative_cycles, columns, sum_counts })
    }

    /// Per bucket and account: the MRR just before the bucket's first month with data and at its
    /// last one (`start_mrr`, `end_mrr`), from the movements of the months in the bucket.
    fn retention_frame(movements: DataFrame, group: &[Expr]) -> Result<DataFrame> {
        let bounds = movements.clone().aggregate(
            vec![col("__bucket").alias("__b")],
            vec![min(col("month")).alias("__first"), max(col("month")).alias("__last")],
        )?;
        let mut per_account = group.to_vec();
        per_account.push(col("account_id"));
        let start = sum(col("previous_mrr")).filter(col("month").eq(col("__first"))).build()?;
        let end = sum(col("mrr")).filter(col("month").eq(col("__last"))).build()?;
        Ok(movements
            .join(bounds, JoinType::Inner, &["__bucket"], &["__b"], None)?
            .aggregate(
                per_account,
                vec![
                    start.alias("__start"),
                    end.alias("__end"),
                    min(col("__first")).alias("month"),
                ],
            )?
            .with_column("start_mrr", coalesce(vec![col("__start"), lit(0.0)]))?
            .with_column("end_mrr", coalesce(vec![col("__end"), lit(0.0)]))?)
    }

    /// Cohort conversion from stage `from` to stage `to` within `window` days.
    #[allow(clippy::too_many_arguments)]
    async fn run_cohort(
        &self,
        from: &str,
        to: &str,
        dims: &[String],
        window: u32,
        scopes: &[Scope0],
        grain: Grain,
        filters: &[(String, String)],
    ) -> Result<CohortCells> {
        let source = self
            .catalog
            .source("stage_entries")
            .ok_or_else(|| EngineError::Internal("no stage_entries source".into()))?;
        let mut out = CohortCells::new();
        for scope in scopes {
            let Some(entries) = self.source_frame("stage_entries").await? else {
                return Ok(out);
            };
            let mut first = entries
                .clone()
                .filter(col("stage").eq(lit(from)))?
                .filter(self.in_ranges("entered_at", true, &scope.ranges))?;
            if let Some(x) = Self::filter_expr(filters, source) {
                first = first.filter(x)?;
            }
            let bucket = match scope.constant {
                Some(b) => lit(ScalarValue::Date32(Some(date32(b)))),
                None => self.bucket(self.local_time_of("entered_at", true)?, grain),
            };
            let mut first = first.with_column("__bucket", bucket)?;
            let mut group = vec![col("__bucket")];
            for (i, d) in dims.iter().enumerate() {
                let name = format!("__d{i}");
                first = first.with_column(&name, Self::dim_expr("stage_entries", d))?;
                group.push(col(name));
            }
            let first = first.select(
                [col("entity_id"), col("entered_at").alias("t0")]
                    .into_iter()
                    .chain(group.iter().cloned())
                    .collect::<Vec<_>>(),
            )?;
            let later = entries
                .filter(col("stage").eq(lit(to)))?
                .select(vec![col("entity_id").alias("e2"), col("entered_at").alias("t1")])?;
            let within = col("t1").gt_eq(col("t0")).and(
                col("t1").lt_eq(col("t0") + lit(ScalarValue::new_interval_dt(window as i32, 0))),
            );
            let joined =
                first.join(later, JoinType::Left, &["entity_id"], &["e2"], Some(within))?;
            let converted =
                count_distinct(col("entity_id")).filter(col("t1").is_not_null()).build()?;
            let batches = joined
                .aggregate(
                    group,
                    vec![
                        count_distinct(col("entity_id")).alias("__entered"),
                        converted.alias("__converted"),
                    ],
                )?
                .collect()
                .await?;
            let mut rows = Vec::new();
            for batch in &batches {
                read_group_batch(batch, dims.len(), false, &mut rows)?;
            }
            for (b, d, _, v) in rows {
                let entered = v.first().copied().flatten().unwrap_or(0.0);
                let converted = v.get(1).copied().flatten().unwrap_or(0.0);
                out.insert((b, d), (entered, converted));
            }
        }
        Ok(out)
    }

    /// The dimension combinations a KPI's rows show: every combination any of its measures has
    /// in the requested buckets (one empty combination without a split).
    fn combos(
        &self,
        p: &Planned,
        results: &HashMap<GroupKey, Arc<GroupResult>>,
        cohort: Option<&CohortCells>,
        buckets: &[NaiveDate],
        catalog: &kpiflow_catalog::Catalog,
    ) -> Vec<Vec<String>> {
        if p.dims.is_empty() {
            return vec![Vec::new()];
        }
        let wanted: BTreeSet<NaiveDate> = buckets.iter().copied().collect();
        let mut set: BTreeSet<Vec<String>> = BTreeSet::new();
        if let Some(c) = cohort {
            set.extend(c.keys().filter(|(b, _)| wanted.contains(b)).map(|(_, d)| d.clone()));
        } else {
            for (key, r) in results {
                if key.dims != p.dims || !r.measures.iter().any(|m| p.kpi.measures.contains(m)) {
                    continue;
                }
                let _ = catalog;
                set.extend(
                    r.cells.keys().filter(|(b, _)| wanted.contains(b)).map(|(_, d)| d.clone()),
                );
            }
        }
        set.into_iter().collect()
    }

    /// A KPI's value in one bucket of one split.
    #[allow(clippy::too_many_arguments)]
    fn kpi_value(
        &self,
        p: &Planned,
        results: &HashMap<GroupKey, Arc<GroupResult>>,
        cohort: Option<&CohortCells>,
        grain: Grain,
        period: &Period,
        covered: &BTreeSet<NaiveDate>,
        bucket: NaiveDate,
        combo: &[String],
    ) -> Option<f64> {
        if !p.available || !covered.contains(&bucket) {
            return None;
        }
        if let Some(c) = cohort {
            let (entered, converted) =
                c.get(&(bucket, combo.to_vec())).copied().unwrap_or((0.0, 0.0));
            return (entered > 0.0).then(|| converted / entered);
        }
        let scope = BucketScope {
            engine: self,
            planned: p,
            results,
            grain,
            period,
            covered,
            bucket,
            combo,
        };
        eval::eval(&p.kpi.formula.expr, &scope, false)
    }

    fn cycle_warning(
        &self,
        planned: &[Planned],
        results: &HashMap<GroupKey, Arc<GroupResult>>,
        buckets: &[NaiveDate],
        warnings: &mut Vec<String>,
    ) {
        let users: Vec<&str> = planned
            .iter()
            .filter(|p| p.available && p.kpi.sources.contains(&"won_deal_cycles"))
            .map(|p| p.kpi.id.as_str())
            .collect();
        if users.is_empty() {
            return;
        }
        let wanted: BTreeSet<NaiveDate> = buckets.iter().copied().collect();
        let excluded = results
            .iter()
            .filter(|(key, _)| key.source == "won_deal_cycles")
            .map(|(_, r)| {
                r.negative_cycles
                    .iter()
                    .filter(|(b, _)| wanted.contains(b))
                    .map(|(_, n)| n)
                    .sum::<f64>()
            })
            .fold(0.0, f64::max);
        if excluded > 0.0 {
            warnings.push(format!(
                "{excluded} won deal(s) closed before their first touch are left out of {}",
                users.join(", ")
            ));
        }
    }
}

/// Names in a formula, for one bucket of one split.
struct BucketScope<'a> {
    engine: &'a Engine,
    planned: &'a Planned<'a>,
    results: &'a HashMap<GroupKey, Arc<GroupResult>>,
    grain: Grain,
    period: &'a Period,
    /// The buckets computed: a measure outside them has no value (never a silent 0).
    covered: &'a BTreeSet<NaiveDate>,
    bucket: NaiveDate,
    combo: &'a [String],
}

impl BucketScope<'_> {
    fn measure(&self, id: &str, bucket: NaiveDate) -> Option<f64> {
        if !self.covered.contains(&bucket) {
            return None;
        }
        let catalog = &self.engine.catalog;
        let m = catalog.measure(id)?;
        let key = GroupKey {
            source: m.source,
            time: m.time.clone(),
            snapshot: m.snapshot.map(|s| match s {
                Snapshot::First => SnapshotKey::First,
                Snapshot::Last => SnapshotKey::Last,
            }),
            dims: self.planned.dims.clone(),
        };
        let r = self.results.get(&key)?;
        let m_index = r.measures.iter().position(|x| x == id)?;
        let i = *r.columns.get(m_index)?;
        let additive =
            m.snapshot.is_none() && matches!(m.agg, Agg::Count | Agg::CountDistinct | Agg::Sum);
        match r.cells.get(&(bucket, self.combo.to_vec())) {
            // The source has no row in this bucket and split: nothing happened.
            None => additive.then_some(0.0),
            Some(values) => match (values[i], r.sum_counts[m_index]) {
                (Some(v), _) => Some(v),
                // A sum over no rows is 0; over rows whose values are all missing, no value.
                (None, Some(n)) if values[n] == Some(0.0) => Some(0.0),
                (None, _) => None,
            },
        }
    }
}

impl Scope for BucketScope<'_> {
    fn value(&self, name: &str, previous: bool) -> Option<f64> {
        let bucket = if previous {
            self.engine.calendar.shifted(self.grain, self.bucket, self.period, Compare::Previous).0
        } else {
            self.bucket
        };
        let catalog = &self.engine.catalog;
        if catalog.measure(name).is_some() {
            return self.measure(name, bucket);
        }
        if let Some(k) = catalog.kpi(name) {
            let scope = BucketScope { bucket, ..*self };
            return eval::eval(&k.formula.expr, &scope, false);
        }
        catalog.param(name).map(|p| p.value)
    }

    fn period_months(&self) -> f64 {
        match self.grain {
            Grain::Total => self.period.months(),
            Grain::Day => 1.0 / 30.4375,
            Grain::Week => 7.0 / 30.4375,
            Grain::Month => 1.0,
            Grain::Quarter | Grain::FiscalQuarter => 3.0,
            Grain::Year | Grain::FiscalYear => 12.0,
        }
    }
}

/// The aggregate of a measure over `value`, a row's value (missing outside the measure's filter
/// where the caller applies it that way). A count counts the rows where `counted` is present.
pub(crate) fn measure_aggregate(m: &Measure, value: Option<Expr>, counted: Expr) -> Result<Expr> {
    let number = |v: Expr| cast(v, DataType::Float64);
    let v = || value.clone().ok_or_else(|| EngineError::Internal(format!("{}: no value", m.id)));
    Ok(match m.agg {
        Agg::Count => count(counted),
        Agg::CountDistinct => count_distinct(v()?),
        Agg::Sum => sum(number(v()?)),
        Agg::Avg => avg(number(v()?)),
        Agg::Median => median(number(v()?)),
        Agg::P75 => percentile_cont(number(v()?).sort(true, false), lit(0.75)),
        Agg::P90 => percentile_cont(number(v()?).sort(true, false), lit(0.9)),
        Agg::Min => min(number(v()?)),
        Agg::Max => max(number(v()?)),
    })
}

/// The error for a KPI asked to be split or filtered by a dimension its sources lack.
pub(crate) fn cannot_split(k: &Kpi, dim: &str) -> EngineError {
    EngineError::Request(format!(
        "KPI `{}` cannot be split or filtered by `{dim}`: its sources ({}) have {}",
        k.id,
        k.sources.join(", "),
        if k.dimensions.is_empty() {
            "no dimensions".to_owned()
        } else {
            format!("only {}", k.dimensions.join(", "))
        }
    ))
}

/// The dimensions a KPI's rows are split by: those asked, then the KPI's own (`by`).
pub(crate) fn split_dims(by: &[String], k: &Kpi) -> Vec<String> {
    let mut dims = by.to_vec();
    for b in &k.by {
        if !dims.contains(b) {
            dims.push(b.clone());
        }
    }
    dims
}

pub(crate) fn date32(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days() as i32
}

type GroupRow = (NaiveDate, Vec<String>, Option<NaiveDate>, Vec<Option<f64>>);

/// Reads an aggregate's output: bucket, `ndims` dimension columns, the snapshot date when
/// `snap`, then numbers.
fn read_group_batch(
    batch: &RecordBatch,
    ndims: usize,
    snap: bool,
    out: &mut Vec<GroupRow>,
) -> Result<()> {
    let bad = |what: &str| EngineError::Internal(format!("aggregate output: {what}"));
    let buckets = batch.column(0).as_primitive_opt::<Date32Type>().ok_or_else(|| bad("bucket"))?;
    let dims: Vec<arrow::array::StringArray> = (0..ndims)
        .map(|i| {
            kpiflow_store::store::as_strings(batch.column(1 + i)).ok_or_else(|| bad("dimension"))
        })
        .collect::<Result<_>>()?;
    let first_value = 1 + ndims + usize::from(snap);
    let times = if snap {
        Some(batch.column(1 + ndims).as_primitive_opt::<Date32Type>().ok_or_else(|| bad("date"))?)
    } else {
        None
    };
    let values: Vec<arrow::array::Float64Array> = (first_value..batch.num_columns())
        .map(|i| {
            arrow::compute::cast(batch.column(i), &DataType::Float64)
                .map(|a| a.as_primitive::<Float64Type>().clone())
                .map_err(|e| bad(&e.to_string()))
        })
        .collect::<Result<_>>()?;
    for r in 0..batch.num_rows() {
        if buckets.is_null(r) {
            continue;
        }
        let b = buckets.value_as_date(r).ok_or_else(|| bad("date out of range"))?;
        let d: Vec<String> = dims
            .iter()
            .map(|a| if a.is_null(r) { NOT_SET.to_owned() } else { a.value(r).to_owned() })
            .collect();
        let t = times.and_then(|t| (!t.is_null(r)).then(|| t.value_as_date(r)).flatten());
        let v: Vec<Option<f64>> =
            values.iter().map(|a| (!a.is_null(r)).then(|| a.value(r))).collect();
        out.push((b, d, t, v));
    }
    Ok(())
}

/// Formats a value for people: counts whole, money with two decimals, rates as percentages.
pub fn format_value(v: Option<f64>, unit: Unit, currency: &str) -> String {
    let Some(v) = v else { return "—".into() };
    let mut s = String::new();
    match unit {
        Unit::Count => {
            if v.fract() == 0.0 {
                let _ = write!(s, "{}", group_thousands(v as i64));
            } else {
                let _ = write!(s, "{v:.1}");
            }
        }
        Unit::Currency => {
            let whole = v.trunc() as i64;
            let cents = ((v - v.trunc()).abs() * 100.0).round() as i64;
            let (whole, cents) =
                if cents == 100 { (whole + v.signum() as i64, 0) } else { (whole, cents) };
            let sign = if v < 0.0 && whole == 0 { "-" } else { "" };
            let _ = write!(s, "{sign}{}.{cents:02} {currency}", group_thousands(whole));
        }
        Unit::Percent => {
            let _ = write!(s, "{:.1} %", v * 100.0);
        }
        Unit::Ratio => {
            let _ = write!(s, "{v:.2}");
        }
        Unit::Days => {
            let _ = write!(s, "{v:.1} d");
        }
        Unit::Minutes => {
            let _ = write!(s, "{v:.1} min");
        }
    }
    s
}

pub fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}
