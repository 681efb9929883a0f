//! `/api/report` and `/api/funnel`: the same requests as `kpiflow report` and `kpiflow funnel`,
//! answered with the same JSON documents as their `--format json`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ApiResult, ErrorBody};
use crate::params::{self, Params};
use crate::state::AppState;

/// A report: its settings, notes, and one row per KPI × bucket × split.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportDoc {
    /// `day`, `week`, `month`, `quarter`, `year`, `fiscal_quarter`, `fiscal_year` or `total`.
    pub grain: String,
    /// First day of the period (local date).
    pub from: String,
    /// Last day of the period, inclusive.
    pub to: String,
    /// `previous`, `yoy` or null.
    pub compare: Option<String>,
    /// `period` or `cohort`.
    pub rate: String,
    /// Conversion window of cohort rates, in days.
    pub window_days: u32,
    /// The split dimensions, in order (each row has one key per dimension).
    pub dimensions: Vec<String>,
    /// Notes: KPIs without data (and the tables to import), rows left out, open cohorts.
    pub warnings: Vec<String>,
    pub rows: Vec<ReportRowDoc>,
}

/// One value. Besides these keys, a row has one key per split dimension with its value.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportRowDoc {
    pub kpi: String,
    /// First day of the bucket.
    pub period_start: String,
    /// The bucket's label (`2025-03`, `2025-Q1`, `FY2026`).
    pub period: String,
    /// Null when there is no value (no data, or a division by zero): never a silent 0. Rates
    /// are fractions, money is in the reporting currency.
    pub value: Option<f64>,
    pub unit: String,
    /// `higher` or `lower`: which way is good.
    pub direction: String,
    /// For rates: `period` or `cohort`.
    pub rate: Option<String>,
    /// With a comparison: the value in the compared bucket.
    pub previous_value: Option<f64>,
    pub change: Option<f64>,
    pub change_pct: Option<f64>,
    /// With a comparison: whether the change goes the KPI's good way.
    pub good: Option<bool>,
}

/// The report request as JSON (POST): lists are arrays, filters map a dimension to the values
/// that count (alternatives).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    #[serde(default)]
    pub kpis: Vec<String>,
    /// Every KPI of the catalog with data (vanity ones too).
    #[serde(default)]
    pub all: bool,
    #[serde(default)]
    pub by: Vec<String>,
    pub grain: Option<String>,
    pub period: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub compare: Option<String>,
    pub rate: Option<String>,
    pub window: Option<u32>,
    #[serde(default)]
    pub filters: BTreeMap<String, Vec<String>>,
}

/// Stage counts, conversions and the time between stages.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FunnelDoc {
    pub period_from: String,
    pub period_to: String,
    /// `ordered` or `any`.
    pub mode: String,
    /// `contact` or `account`.
    pub count_by: String,
    pub window_days: u32,
    /// The breakdown dimension, if any.
    pub by: Option<String>,
    pub stages: Vec<FunnelStageDoc>,
    pub velocity: Vec<FunnelVelocityDoc>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FunnelStageDoc {
    pub stage: String,
    /// The breakdown value, with `by`.
    pub group: Option<String>,
    pub count: u64,
    pub conversion_from_previous: Option<f64>,
    pub conversion_from_first: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FunnelVelocityDoc {
    /// `from → to`.
    pub transition: String,
    pub group: Option<String>,
    pub count: u64,
    pub mean_days: Option<f64>,
    pub median_days: Option<f64>,
    pub p75_days: Option<f64>,
    pub p90_days: Option<f64>,
}

/// KPIs over a period, split and compared (`kpiflow report`).
///
/// Any parameter other than the settings below is a filter `dimension=value`
/// (e.g. `channel=Paid Search`, `region=EMEA`).
#[utoipa::path(get, path = "/api/report", tag = "kpis",
    params(
        ("kpi" = Option<String>, Query, description = "KPI ids, comma-separated; none: the overview (every non-vanity KPI with data)"),
        ("all" = Option<bool>, Query, description = "every KPI with data, vanity ones too"),
        ("by" = Option<String>, Query, description = "split dimensions, comma-separated (channel, campaign, region, segment, ...)"),
        ("grain" = Option<String>, Query, description = "day, week, month, quarter, year, fiscal_quarter, fiscal_year, total"),
        ("period" = Option<String>, Query, description = "2025, 2025-Q1, 2025-03, 2025-W05, 2025-03-14, FY2026, FY2026-Q1; default the last 12 months with data"),
        ("from" = Option<String>, Query, description = "first day YYYY-MM-DD (with `to`)"),
        ("to" = Option<String>, Query, description = "last day YYYY-MM-DD, inclusive (with `from`)"),
        ("compare" = Option<String>, Query, description = "previous, yoy or none"),
        ("rate" = Option<String>, Query, description = "period (default) or cohort"),
        ("window" = Option<u32>, Query, description = "cohort conversion window in days (default 90)"),
        ("filters" = Option<BTreeMap<String, String>>, Query, style = Form, explode,
            description = "any other parameter: a filter dimension=value"),
    ),
    responses(
        (status = 200, description = "The report", body = ReportDoc),
        (status = 400, description = "A bad parameter, unknown KPI or dimension", body = ErrorBody),
        (status = 503, description = "The query ran past the server's time bound", body = ErrorBody),
    ))]
pub async fn get_report(
    State(state): State<AppState>,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(raw) = query?;
    let engine = state.engine().await?;
    let request = params::report_request(Params::new(raw), state.catalog(), &engine.calendar())?;
    let report = state.bounded(async { Ok(engine.report(&request).await?) }).await?;
    Ok(Json(report.to_json()))
}

/// The same report with the request as a JSON body (several values per filter).
#[utoipa::path(post, path = "/api/report", tag = "kpis",
    request_body = ReportBody,
    responses(
        (status = 200, description = "The report", body = ReportDoc),
        (status = 400, description = "A bad body, unknown KPI or dimension", body = ErrorBody),
        (status = 503, description = "The query ran past the server's time bound", body = ErrorBody),
    ))]
pub async fn post_report(
    State(state): State<AppState>,
    body: Result<Json<ReportBody>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let Json(body) = body?;
    let engine = state.engine().await?;
    let mut raw = BTreeMap::new();
    raw.insert("kpi".to_owned(), body.kpis.join(","));
    raw.insert("all".to_owned(), body.all.to_string());
    raw.insert("by".to_owned(), body.by.join(","));
    for (key, value) in [
        ("grain", body.grain),
        ("period", body.period),
        ("from", body.from),
        ("to", body.to),
        ("compare", body.compare),
        ("rate", body.rate),
        ("window", body.window.map(|w| w.to_string())),
    ] {
        if let Some(v) = value {
            raw.insert(key.to_owned(), v);
        }
    }
    let mut request =
        params::report_request(Params::new(raw), state.catalog(), &engine.calendar())?;
    let dims = params::dimensions(state.catalog());
    for (dim, values) in body.filters {
        if !dims.contains(&dim.as_str()) {
            return Err(
                kpiflow_model::UnknownName::new("dimension", &dim, dims.iter().copied()).into()
            );
        }
        request.filters.extend(values.into_iter().map(|v| (dim.clone(), v)));
    }
    let report = state.bounded(async { Ok(engine.report(&request).await?) }).await?;
    Ok(Json(report.to_json()))
}

/// The lifecycle funnel (`kpiflow funnel`). Any other parameter is a filter `dimension=value`.
#[utoipa::path(get, path = "/api/funnel", tag = "kpis",
    params(
        ("period" = Option<String>, Query, description = "as for /api/report; default the last 12 months with data"),
        ("from" = Option<String>, Query, description = "first day YYYY-MM-DD (with `to`)"),
        ("to" = Option<String>, Query, description = "last day YYYY-MM-DD, inclusive"),
        ("mode" = Option<String>, Query, description = "ordered (default: stages in order within the window) or any"),
        ("window" = Option<u32>, Query, description = "conversion window in days (default 90)"),
        ("by" = Option<String>, Query, description = "one contact dimension to break the funnel down by"),
        ("count" = Option<String>, Query, description = "contact (default) or account"),
        ("filters" = Option<BTreeMap<String, String>>, Query, style = Form, explode,
            description = "any other parameter: a filter dimension=value"),
    ),
    responses(
        (status = 200, description = "The funnel", body = FunnelDoc),
        (status = 400, description = "A bad parameter", body = ErrorBody),
        (status = 503, description = "The query ran past the server's time bound", body = ErrorBody),
    ))]
pub async fn get_funnel(
    State(state): State<AppState>,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(raw) = query?;
    let engine = state.engine().await?;
    let request = params::funnel_request(Params::new(raw), state.catalog(), &engine.calendar())?;
    let funnel = state.bounded(async { Ok(engine.funnel(&request).await?) }).await?;
    serde_json::to_value(&funnel).map(Json).map_err(crate::error::ApiError::internal)
}
