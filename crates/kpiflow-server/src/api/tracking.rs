//! `/api/goals`, `/api/plan` and `/api/diagnosis`: the same answers as `kpiflow goals`, `plan`
//! and `diagnose` with `--format json`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use kpiflow_engine::Engine;
use kpiflow_engine::tracking::{Against, PlanRequest};
use kpiflow_goals::plan::{self, Override, PlanTarget};
use kpiflow_model::UnknownName;
use serde::Serialize;
use serde_json::Value;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::params::Params;
use crate::state::AppState;

/// Every goal of `kpiflow.toml`, evaluated.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GoalsDoc {
    /// The last day counted.
    pub as_of: String,
    /// One object per goal, in the file's order: `id`, `name`, `kpi`, `period`, `target`,
    /// `actual`, `expected` (pro-rated to date), `pace` (actual ÷ expected, inverted when lower
    /// is better), `progress`, `projection` (`run_rate`, `trend`, `trend_low`, `trend_high`),
    /// `status` (on_track, at_risk, off_track, achieved, missed, not_started, no_data),
    /// `split_used`, `months` and `quarters` (each with `target`, `actual`, `status`), `pacing`
    /// (daily `expected` and `actual` running totals), `rollup` for parents, `notes`.
    #[schema(value_type = Vec<Object>)]
    pub goals: Vec<Value>,
}

/// A reverse-funnel plan.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanDoc {
    /// `{kind: won_revenue|customers, value}`.
    #[schema(value_type = Object)]
    pub target: Value,
    pub period: String,
    pub period_from: String,
    pub period_to: String,
    /// The trailing window the rates come from.
    pub window: String,
    pub quarters: Vec<String>,
    /// Sessions, each stage, won revenue and the media budget: `needed`, `trailing`,
    /// `trailing_same_length`, `change`, `quarters`.
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<Value>,
    /// Each rate's `value`, `trailing` value and `source`.
    #[schema(value_type = Vec<Object>)]
    pub rates: Vec<Value>,
    /// False when a rate of zero or without data stops the plan; `problems` say which.
    pub reachable: bool,
    pub problems: Vec<String>,
    pub notes: Vec<String>,
}

/// A diagnosis of one period.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DiagnosisDoc {
    pub period: String,
    pub period_from: String,
    pub period_to: String,
    /// What the period is compared with.
    pub against: String,
    pub tolerance: f64,
    /// `id`, `label`, `kind` (volume, rate, minutes), `actual`, `expected`, `gap`.
    #[schema(value_type = Vec<Object>)]
    pub checks: Vec<Value>,
    /// `check`, `title`, `advice`, `evidence`; null when nothing holds the funnel back.
    #[schema(value_type = Option<Object>)]
    pub bottleneck: Option<Value>,
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<Value>,
    pub notes: Vec<String>,
}

fn date(p: &mut Params, key: &str) -> ApiResult<Option<chrono::NaiveDate>> {
    p.take(key)
        .map(|v| {
            v.trim().parse().map_err(|_| {
                ApiError::bad_request(format!(
                    "parameter `{key}`: `{v}` is not a date; expected YYYY-MM-DD"
                ))
            })
        })
        .transpose()
}

/// Goals as of a day (`kpiflow goals`).
#[utoipa::path(get, path = "/api/goals", tag = "goals",
    params(("date" = Option<String>, Query, description = "count the days up to and including this one (YYYY-MM-DD); default the last day with data")),
    responses(
        (status = 200, description = "Every goal", body = GoalsDoc),
        (status = 400, description = "A bad parameter, or a goal naming an unknown KPI or dimension", body = ErrorBody),
    ))]
pub async fn get_goals(
    State(state): State<AppState>,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(raw) = query?;
    let mut p = Params::new(raw);
    let date = date(&mut p, "date")?;
    reject_rest(&p, &["date"])?;
    let engine = state.engine().await?;
    engine.check_tracking()?;
    let report = state.bounded(async { Ok(engine.goals(date).await?) }).await?;
    Ok(Json(serde_json::to_value(report).map_err(ApiError::internal)?))
}

fn reject_rest(p: &Params, allowed: &[&str]) -> ApiResult<()> {
    if let Some(key) = p.leftover() {
        return Err(UnknownName::new("parameter", key, allowed.iter().copied()).into());
    }
    Ok(())
}

/// The plan parameters: `won_revenue` or `customers` (the target), `plan_period`, and any rate
/// by its id (`mql_to_sql_rate=0.25`).
pub fn plan_request(p: &mut Params, engine: &Engine) -> ApiResult<Option<PlanRequest>> {
    let stages = engine.config().funnel.stages.clone();
    let target = match (p.take("won_revenue"), p.take("customers")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request("give won_revenue or customers, not both"));
        }
        (Some(v), None) => Some(format!("won_revenue={v}")),
        (None, Some(v)) => Some(format!("customers={v}")),
        (None, None) => None,
    };
    let period = p.take("plan_period");
    let mut overrides = Vec::new();
    for def in plan::rate_defs(&stages) {
        for name in std::iter::once(def.id.clone()).chain(def.aliases.clone()) {
            if let Some(v) = p.take(&name) {
                if v.trim().is_empty() {
                    continue;
                }
                let value: f64 = v.trim().parse().map_err(|_| {
                    ApiError::bad_request(format!("parameter `{name}`: `{v}` is not a number"))
                })?;
                let id = plan::resolve_override(&stages, &name, value)
                    .map_err(|e| ApiError::bad_request(format!("parameter `{name}`: {e}")))?;
                overrides.push(Override { name: id, value, source: "what-if".into() });
            }
        }
    }
    let (Some(target), Some(period)) = (target, period) else {
        if !overrides.is_empty() {
            return Err(ApiError::bad_request(
                "rates need a plan: give won_revenue (or customers) and plan_period",
            ));
        }
        return Ok(None);
    };
    let target = PlanTarget::parse(&target).map_err(ApiError::bad_request)?;
    let period = kpiflow_engine::Period::parse(&period, &engine.calendar())
        .map_err(|e| ApiError::bad_request(format!("parameter `plan_period`: {e}")))?;
    Ok(Some(PlanRequest { target, period, overrides }))
}

/// The names `plan_request` reads.
pub fn plan_params(stages: &[String]) -> Vec<String> {
    let mut out = vec!["won_revenue".to_owned(), "customers".to_owned(), "plan_period".to_owned()];
    for def in plan::rate_defs(stages) {
        out.push(def.id);
        out.extend(def.aliases);
    }
    out
}

/// The reverse-funnel plan (`kpiflow plan`).
#[utoipa::path(get, path = "/api/plan", tag = "goals",
    params(
        ("won_revenue" = Option<f64>, Query, description = "the revenue target (or give customers)"),
        ("customers" = Option<f64>, Query, description = "the new-customers target"),
        ("plan_period" = String, Query, description = "the plan's period: FY2027, 2027-H1, 2027-Q1, ..."),
        ("mql_to_sql_rate" = Option<f64>, Query, description = "what-if: any rate by its id (session_to_lead_rate, lead_to_mql_rate, ..., avg_deal_size, cpl)"),
    ),
    responses(
        (status = 200, description = "The plan", body = PlanDoc),
        (status = 400, description = "A bad target, period or rate", body = ErrorBody),
    ))]
pub async fn get_plan(
    State(state): State<AppState>,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(raw) = query?;
    let mut p = Params::new(raw);
    let engine = state.engine().await?;
    let request = plan_request(&mut p, &engine)?.ok_or_else(|| {
        ApiError::bad_request(
            "give a target (won_revenue=AMOUNT or customers=COUNT) and plan_period",
        )
    })?;
    let allowed = plan_params(&engine.config().funnel.stages);
    reject_rest(&p, &allowed.iter().map(String::as_str).collect::<Vec<_>>())?;
    let plan = state.bounded(async { Ok(engine.plan(&request).await?) }).await?;
    Ok(Json(serde_json::to_value(plan).map_err(ApiError::internal)?))
}

/// The funnel's bottleneck in a period (`kpiflow diagnose`).
#[utoipa::path(get, path = "/api/diagnosis", tag = "goals",
    params(
        ("period" = Option<String>, Query, description = "the period diagnosed; default the last complete fiscal quarter"),
        ("from" = Option<String>, Query, description = "first day YYYY-MM-DD (with `to`)"),
        ("to" = Option<String>, Query, description = "last day YYYY-MM-DD, inclusive"),
        ("won_revenue" = Option<f64>, Query, description = "compare with the plan for this target (with plan_period) instead of the 12 months before"),
        ("plan_period" = Option<String>, Query, description = "the plan's period"),
    ),
    responses(
        (status = 200, description = "The diagnosis", body = DiagnosisDoc),
        (status = 400, description = "A bad parameter, or no history to compare with", body = ErrorBody),
    ))]
pub async fn get_diagnosis(
    State(state): State<AppState>,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(raw) = query?;
    let mut p = Params::new(raw);
    let engine = state.engine().await?;
    let period = p.period(&engine.calendar())?;
    let against = match plan_request(&mut p, &engine)? {
        Some(r) => Against::Plan(r),
        None => Against::History,
    };
    let mut allowed = plan_params(&engine.config().funnel.stages);
    allowed.extend(["period", "from", "to"].map(String::from));
    reject_rest(&p, &allowed.iter().map(String::as_str).collect::<Vec<_>>())?;
    let report = state
        .bounded(async {
            let period = match period {
                Some(p) => p,
                None => engine.default_diagnosis_period().await?,
            };
            Ok(engine.diagnose(&period, &against).await?)
        })
        .await?;
    Ok(Json(serde_json::to_value(report).map_err(ApiError::internal)?))
}
