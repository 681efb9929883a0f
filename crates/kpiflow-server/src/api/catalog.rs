//! `/api/kpis`: the catalog, as the definitions the engine computes.

use axum::Json;
use axum::extract::{Path, State};
use kpiflow_catalog::Kpi;
use serde::Serialize;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// One KPI's definition.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KpiDoc {
    pub id: String,
    pub name: String,
    pub group: String,
    pub description: String,
    /// The question the KPI answers.
    pub question: String,
    /// The formula over measures and other KPIs, as written in the catalog.
    pub formula: String,
    /// `count`, `currency`, `percent` (a fraction), `ratio`, `days` or `minutes`.
    pub unit: &'static str,
    /// `higher` or `lower`: which way is good.
    pub direction: &'static str,
    /// Vanity KPIs are hidden on the dashboard unless asked for.
    pub vanity: bool,
    /// Dimensions the KPI can be split and filtered by.
    pub dimensions: Vec<&'static str>,
    /// Sources (tables and derived sources) its measures read.
    pub sources: Vec<&'static str>,
    /// Measures it needs, through other KPIs too.
    pub measures: Vec<String>,
    /// Whether the project's kpiflow.toml defines it.
    pub user: bool,
}

impl KpiDoc {
    pub fn of(k: &Kpi) -> KpiDoc {
        KpiDoc {
            id: k.id.clone(),
            name: k.name.clone(),
            group: k.group.clone(),
            description: k.description.clone(),
            question: k.question.clone(),
            formula: k.formula.text.clone(),
            unit: k.unit.name(),
            direction: kpiflow_engine::json::direction_name(k.direction),
            vanity: k.vanity,
            dimensions: k.dimensions.clone(),
            sources: k.sources.clone(),
            measures: k.measures.clone(),
            user: k.user,
        }
    }
}

/// Every KPI of the catalog (built-in and the project's), in catalog order.
#[utoipa::path(get, path = "/api/kpis", tag = "catalog",
    responses((status = 200, description = "The catalog", body = Vec<KpiDoc>)))]
pub async fn list_kpis(State(state): State<AppState>) -> Json<Vec<KpiDoc>> {
    Json(state.catalog().kpis.iter().map(KpiDoc::of).collect())
}

/// One KPI's definition.
#[utoipa::path(get, path = "/api/kpis/{id}", tag = "catalog",
    params(("id" = String, Path, description = "KPI id, such as `cpl`")),
    responses(
        (status = 200, description = "The KPI", body = KpiDoc),
        (status = 404, description = "No such KPI (with a did-you-mean hint)", body = ErrorBody),
    ))]
pub async fn get_kpi(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<KpiDoc>> {
    let k = state.catalog().resolve_kpi(&id).map_err(|e| ApiError::from(e).into_not_found())?;
    Ok(Json(KpiDoc::of(k)))
}
