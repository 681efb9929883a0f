//! The lifecycle funnel and its velocity (DESIGN §5).
//!
//! Two modes, as HubSpot's funnel reports:
//! - **ordered** (default): the cohort is every contact (or account) that entered the first
//!   stage in the period; a stage counts those that reached it and every earlier stage in order
//!   (each entry at or after the previous one), within the conversion window counted from the
//!   first stage's entry.
//! - **any order**: each stage counts who entered it in the period, whatever they did before.
//!
//! Conversions are from the previous stage and from the first; a stage after an empty one has no
//! conversion (not 0). Counting by account, an account enters a stage when its first contact does;
//! contacts without an account count as their own account.
//!
//! Velocity: for each pair of consecutive stages, the days between the two entries (mean, median,
//! p75, p90) over the moves whose later entry falls in the period. With the default forward-only
//! funnel this is also the time spent in the earlier stage.

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type};
use chrono::NaiveDate;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn::{coalesce, concat};
use datafusion::functions_aggregate::expr_fn::{
    avg, count, count_distinct, first_value, median, min,
};
use datafusion::functions_aggregate::percentile_cont::percentile_cont;
use datafusion::logical_expr::{ExprFunctionExt, JoinType};
use datafusion::prelude::*;
use kpiflow_model::UnknownName;

use crate::report::NOT_SET;
use crate::time::Period;
use crate::{Engine, EngineError, Result};

/// How the funnel is walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FunnelMode {
    #[default]
    Ordered,
    AnyOrder,
}

/// What one funnel unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CountBy {
    #[default]
    Contact,
    Account,
}

#[derive(Debug, Clone, Default)]
pub struct FunnelRequest {
    /// Default: the 12 months up to the last month with data.
    pub period: Option<Period>,
    pub mode: FunnelMode,
    /// Conversion window in days for the ordered mode (default 90).
    pub window_days: Option<u32>,
    /// One dimension of contacts to break the funnel down by.
    pub by: Option<String>,
    pub filters: Vec<(String, String)>,
    pub count_by: CountBy,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FunnelStage {
    pub stage: String,
    /// The breakdown value (`None` without `by`).
    pub group: Option<String>,
    pub count: u64,
    pub conversion_from_previous: Option<f64>,
    pub conversion_from_first: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FunnelVelocity {
    /// `mql→sql`.
    pub transition: String,
    pub group: Option<String>,
    /// Moves measured.
    pub count: u64,
    pub mean_days: Option<f64>,
    pub median_days: Option<f64>,
    pub p75_days: Option<f64>,
    pub p90_days: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Funnel {
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub mode: &'static str,
    pub count_by: &'static str,
    pub window_days: u32,
    pub by: Option<String>,
    pub stages: Vec<FunnelStage>,
    pub velocity: Vec<FunnelVelocity>,
    pub warnings: Vec<String>,
}

impl Engine {
    /// Computes the funnel; a request already answered on this snapshot is answered from
    /// memory (the result cache, as for reports).
    pub async fn funnel(&self, request: &FunnelRequest) -> Result<Funnel> {
        if !self.result_cache_enabled() {
            return self.on_cluster(self.compute_funnel(request).await);
        }
        let key = format!("{request:?}");
        if let Some(f) = self.funnels.lock().await.get(&key) {
            return Ok(f.clone());
        }
        let funnel = self.on_cluster(self.compute_funnel(request).await)?;
        let mut cache = self.funnels.lock().await;
        if cache.len() >= crate::report::RESULT_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, funnel.clone());
        Ok(funnel)
    }

    async fn compute_funnel(&self, request: &FunnelRequest) -> Result<Funnel> {
        let source = self
            .catalog
            .source("stage_entries")
            .ok_or_else(|| EngineError::Internal("no stage_entries source".into()))?;
        for d in request.by.iter().chain(request.filters.iter().map(|(d, _)| d)) {
            if !source.dimensions.contains(&d.as_str()) {
                return Err(UnknownName::new(
                    "funnel dimension",
                    d,
                    source.dimensions.iter().copied(),
                )
                .into());
            }
        }
        let Some(entries) = self.source_frame("stage_entries").await? else {
            return Err(EngineError::Request(
                "the funnel needs the stage_changes table (contacts' lifecycle stages): import it \
                 first, or contacts with wide stage-date columns"
                    .into(),
            ));
        };
        let period = match &request.period {
            Some(p) => p.clone(),
            None => self.default_period().await?,
        };
        let window = request.window_days.unwrap_or(90);
        let stages = self.config.funnel.stages.clone();
        let mut warnings = Vec::new();

        let mut entries = entries;
        if let Some(f) = Self::filter_expr(&request.filters, source) {
            entries = entries.filter(f)?;
        }
        let group = match &request.by {
            Some(d) => Self::dim_expr("stage_entries", d),
            None => lit(""),
        };
        let entries = entries.with_column("__g", group)?;

        // The unit: the contact, or its account (contacts without one stand for themselves).
        let units = match request.count_by {
            CountBy::Contact => entries.with_column("__unit", col("entity_id"))?,
            CountBy::Account => {
                let Some(contacts) = self.source_frame("contacts").await? else {
                    return Err(EngineError::Request(
                        "counting by account needs the contacts table (their account_id)".into(),
                    ));
                };
                let accounts = contacts.select(vec![
                    col("contact_id").alias("a_contact"),
                    col("account_id").alias("a_account"),
                ])?;
                let without = accounts
                    .clone()
                    .filter(Self::dim_expr("contacts", "a_account").eq(lit(NOT_SET)))?
                    .aggregate(vec![], vec![count(lit(1i64)).alias("n")])?
                    .collect()
                    .await?;
                let n = first_number(&without).unwrap_or(0.0);
                if n > 0.0 {
                    warnings.push(format!(
                        "{n} contact(s) without an account count as their own account"
                    ));
                }
                entries
                    .join(accounts, JoinType::Left, &["entity_id"], &["a_contact"], None)?
                    .with_column(
                        "__unit",
                        coalesce(vec![
                            datafusion::functions::expr_fn::nullif(col("a_account"), lit("")),
                            concat(vec![lit("contact:"), col("entity_id")]),
                        ]),
                    )?
                    .aggregate(
                        vec![col("__unit"), col("stage_index")],
                        vec![
                            min(col("entered_at")).alias("entered_at"),
                            // Ties (two contacts of an account entering at the same
                            // instant) go to the first group by name: the same answer
                            // however the rows are partitioned.
                            first_value(
                                col("__g"),
                                vec![
                                    col("entered_at").sort(true, false),
                                    col("__g").sort(true, false),
                                ],
                            )
                            .alias("__g"),
                        ],
                    )?
            }
        };

        let in_period = self.in_ranges("entered_at", true, &[(period.from, period.to)]);
        let mut counts: BTreeMap<(String, usize), u64> = BTreeMap::new();
        match request.mode {
            FunnelMode::AnyOrder => {
                let batches = units
                    .filter(in_period)?
                    .aggregate(
                        vec![col("__g"), col("stage_index")],
                        vec![count_distinct(col("__unit")).alias("n")],
                    )?
                    .collect()
                    .await?;
                for b in &batches {
                    let g = kpiflow_store::store::as_strings(b.column(0))
                        .ok_or_else(|| EngineError::Internal("funnel group".into()))?;
                    let i = arrow::compute::cast(b.column(1), &DataType::Int64)?;
                    let i = i.as_primitive::<arrow::datatypes::Int64Type>();
                    let n = arrow::compute::cast(b.column(2), &DataType::Float64)?;
                    let n = n.as_primitive::<Float64Type>();
                    for r in 0..b.num_rows() {
                        counts.insert(
                            (g.value(r).to_owned(), i.value(r) as usize),
                            n.value(r) as u64,
                        );
                    }
                }
            }
            FunnelMode::Ordered => {
                // One row per unit: its first entry into each stage.
                let per_unit = units.aggregate(
                    vec![col("__unit")],
                    (0..stages.len())
                        .map(|i| {
                            min(col("entered_at"))
                                .filter(col("stage_index").eq(lit(i as i64)))
                                .build()
                                .map(|e| e.alias(format!("__t{i}")))
                        })
                        .chain(std::iter::once(Ok(first_value(
                            col("__g"),
                            vec![col("entered_at").sort(true, false), col("__g").sort(true, false)],
                        )
                        .alias("__g"))))
                        .collect::<datafusion::error::Result<Vec<_>>>()?,
                )?;
                let t0_in_period = {
                    let start = lit(self.utc_midnight(period.from));
                    let end = lit(self.utc_midnight(period.to));
                    col("__t0").gt_eq(start).and(col("__t0").lt(end))
                };
                let deadline = col("__t0") + lit(ScalarValue::new_interval_dt(window as i32, 0));
                let mut reached = vec![t0_in_period.clone()];
                for i in 1..stages.len() {
                    let t = col(format!("__t{i}"));
                    let prev = col(format!("__t{}", i - 1));
                    let cond = reached[i - 1]
                        .clone()
                        .and(t.clone().is_not_null())
                        .and(t.clone().gt_eq(prev))
                        .and(t.lt_eq(deadline.clone()));
                    reached.push(cond);
                }
                let aggs = reached
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        count(lit(1i64))
                            .filter(c.clone())
                            .build()
                            .map(|e| e.alias(format!("__n{i}")))
                    })
                    .collect::<datafusion::error::Result<Vec<_>>>()?;
                let batches = per_unit
                    .filter(t0_in_period)?
                    .aggregate(vec![col("__g")], aggs)?
                    .collect()
                    .await?;
                for b in &batches {
                    let g = kpiflow_store::store::as_strings(b.column(0))
                        .ok_or_else(|| EngineError::Internal("funnel group".into()))?;
                    for i in 0..stages.len() {
                        let n = arrow::compute::cast(b.column(1 + i), &DataType::Float64)?;
                        let n = n.as_primitive::<Float64Type>();
                        for r in 0..b.num_rows() {
                            counts.insert((g.value(r).to_owned(), i), n.value(r) as u64);
                        }
                    }
                }
                if let Some(end) = self.data_end().await?
                    && end < period.to + chrono::Duration::days(window as i64)
                {
                    warnings.push(format!(
                        "entries after {} have not had their full {window}-day window by the \
                         data's last day ({end}): later stages may still grow",
                        end - chrono::Duration::days(window as i64)
                    ));
                }
            }
        }

        let groups: BTreeSet<String> = counts.keys().map(|(g, _)| g.clone()).collect();
        let groups: Vec<String> =
            if groups.is_empty() { vec![String::new()] } else { groups.into_iter().collect() };
        let mut out_stages = Vec::new();
        for g in &groups {
            let first = counts.get(&(g.clone(), 0)).copied().unwrap_or(0);
            let mut previous: Option<u64> = None;
            for (i, s) in stages.iter().enumerate() {
                let n = counts.get(&(g.clone(), i)).copied().unwrap_or(0);
                let ratio = |d: u64| (d > 0).then(|| n as f64 / d as f64);
                out_stages.push(FunnelStage {
                    stage: s.clone(),
                    group: request.by.as_ref().map(|_| g.clone()),
                    count: n,
                    conversion_from_previous: previous.and_then(ratio),
                    conversion_from_first: ratio(first),
                });
                previous = Some(n);
            }
        }

        let velocity = self.velocity(request, &period).await?;
        Ok(Funnel {
            period_from: period.from,
            period_to: period.to - chrono::Duration::days(1),
            mode: match request.mode {
                FunnelMode::Ordered => "ordered",
                FunnelMode::AnyOrder => "any",
            },
            count_by: match request.count_by {
                CountBy::Contact => "contact",
                CountBy::Account => "account",
            },
            window_days: window,
            by: request.by.clone(),
            stages: out_stages,
            velocity,
            warnings,
        })
    }

    /// Days between consecutive stages, for moves whose later entry is in the period.
    async fn velocity(
        &self,
        request: &FunnelRequest,
        period: &Period,
    ) -> Result<Vec<FunnelVelocity>> {
        let Some(moves) = self.source_frame("stage_transitions").await? else {
            return Ok(Vec::new());
        };
        let source = self
            .catalog
            .source("stage_transitions")
            .ok_or_else(|| EngineError::Internal("no stage_transitions source".into()))?;
        let mut moves =
            moves.filter(self.in_ranges("entered_at", true, &[(period.from, period.to)]))?;
        if let Some(f) = Self::filter_expr(&request.filters, source) {
            moves = moves.filter(f)?;
        }
        let group = match &request.by {
            Some(d) => Self::dim_expr("stage_transitions", d),
            None => lit(""),
        };
        let days = || cast(col("days"), DataType::Float64);
        let velocity = moves.with_column("__g", group)?.aggregate(
            vec![col("__g"), col("next_index"), col("transition")],
            vec![
                count(lit(1i64)).alias("n"),
                avg(days()).alias("mean"),
                median(days()).alias("median"),
                percentile_cont(days().sort(true, false), lit(0.75)).alias("p75"),
                percentile_cont(days().sort(true, false), lit(0.9)).alias("p90"),
            ],
        )?;
        let order = vec![col("__g").sort(true, false), col("next_index").sort(true, false)];
        let batches = self.sorted_collect(velocity, order).await?;
        let mut out = Vec::new();
        for b in &batches {
            let g = kpiflow_store::store::as_strings(b.column(0))
                .ok_or_else(|| EngineError::Internal("velocity group".into()))?;
            let t = kpiflow_store::store::as_strings(b.column(2))
                .ok_or_else(|| EngineError::Internal("velocity transition".into()))?;
            let nums: Vec<arrow::array::Float64Array> = (3..8)
                .map(|i| {
                    arrow::compute::cast(b.column(i), &DataType::Float64)
                        .map(|a| a.as_primitive::<Float64Type>().clone())
                })
                .collect::<std::result::Result<_, _>>()?;
            let v = |c: usize, r: usize| (!nums[c].is_null(r)).then(|| nums[c].value(r));
            for r in 0..b.num_rows() {
                out.push(FunnelVelocity {
                    transition: t.value(r).to_owned(),
                    group: request.by.as_ref().map(|_| g.value(r).to_owned()),
                    count: v(0, r).unwrap_or(0.0) as u64,
                    mean_days: v(1, r),
                    median_days: v(2, r),
                    p75_days: v(3, r),
                    p90_days: v(4, r),
                });
            }
        }
        Ok(out)
    }
}

/// The first value of a one-row answer (the row may come in any batch: a cluster returns one
/// per partition, some empty).
fn first_number(batches: &[arrow::array::RecordBatch]) -> Option<f64> {
    let b = batches.iter().find(|b| b.num_rows() > 0)?;
    let a = arrow::compute::cast(b.column(0), &DataType::Float64).ok()?;
    let a = a.as_primitive::<Float64Type>();
    (!a.is_null(0)).then(|| a.value(0))
}
