//! `/api/attribution`: the same question as `kpiflow attribution`, answered with the same JSON
//! document as its `--format json`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Serialize;
use serde_json::Value;

use crate::error::{ApiResult, ErrorBody};
use crate::params::{self, Params};
use crate::state::AppState;

/// Credit per channel under each requested model, with spend and cost figures.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttributionDoc {
    /// `store`, or the paths file of the CLI.
    pub input: String,
    /// The conversion journeys end at: a funnel stage or `revenue`.
    pub target: Option<String>,
    pub period_from: Option<String>,
    /// Last day of the period, inclusive.
    pub period_to: Option<String>,
    pub lookback_days: Option<u32>,
    pub journeys: JourneysDoc,
    pub models: Vec<AttributionModelDoc>,
    /// One row per model × channel, models in request order.
    pub rows: Vec<AttributionRowDoc>,
    /// Models left out and why, method notes (Markov states, residual), records left out.
    pub notes: Vec<String>,
}

/// What the models ran on.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JourneysDoc {
    pub converting_journeys: u64,
    pub non_converting_journeys: u64,
    pub conversions: f64,
    pub non_conversions: f64,
    /// Value of the conversions (won amount for `revenue`); null when the target has none.
    pub value: Option<f64>,
    pub touches: u64,
    /// Conversions without a touch in the lookback window (credited to their original source).
    pub conversions_without_touch: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttributionModelDoc {
    /// The spec as requested (`markov:3`).
    pub model: String,
    /// The registry id (`markov`).
    pub id: String,
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttributionRowDoc {
    pub model: String,
    pub channel: String,
    /// Conversions credited to the channel (fractions of journeys).
    pub conversions: f64,
    /// Value credited; null when the target has no value.
    pub value: Option<f64>,
    /// Fraction of all conversions.
    pub share: f64,
    /// Media spend in the period; null without ad spend data.
    pub spend: Option<f64>,
    pub cost_per_conversion: Option<f64>,
    /// Credited value per unit of spend.
    pub roas: Option<f64>,
    /// (credited value − spend) / spend.
    pub roi: Option<f64>,
}

/// Multi-touch attribution (`kpiflow attribution`): conversions credited to channels by each
/// model, side by side.
#[utoipa::path(get, path = "/api/attribution", tag = "kpis",
    params(
        ("conversion" = Option<String>, Query, description = "what journeys end at: a funnel stage (lead, mql, sql, opportunity, customer) or revenue; default lead"),
        ("model" = Option<String>, Query, description = "model specs, comma-separated (first, last, last_non_direct, linear, time_decay[:DAYS], u_shaped, w_shaped, full_path, j_shaped, inverse_j, markov[:ORDER], shapley) or all; default first,last,linear,markov"),
        ("period" = Option<String>, Query, description = "as for /api/report; default the last 12 months with data"),
        ("from" = Option<String>, Query, description = "first day YYYY-MM-DD (with `to`)"),
        ("to" = Option<String>, Query, description = "last day YYYY-MM-DD, inclusive"),
        ("lookback" = Option<u32>, Query, description = "days of touches before a conversion (default [attribution] lookback_days)"),
    ),
    responses(
        (status = 200, description = "The attribution", body = AttributionDoc),
        (status = 400, description = "A bad parameter, model or conversion target", body = ErrorBody),
        (status = 503, description = "The query ran past the server's time bound", body = ErrorBody),
    ))]
pub async fn get_attribution(
    State(state): State<AppState>,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(raw) = query?;
    let engine = state.engine().await?;
    let request = params::attribution_request(
        Params::new(raw),
        &state.config().funnel.stages,
        &engine.calendar(),
        "first,last,linear,markov",
    )?;
    let report = state.bounded(async { Ok(engine.attribution(&request).await?) }).await?;
    Ok(Json(report.to_json()))
}
