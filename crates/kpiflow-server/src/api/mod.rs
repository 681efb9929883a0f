//! The JSON API under `/api`, described by the OpenAPI document the same code generates.
//!
//! Each handler is registered through `utoipa_axum::routes!`, so a route cannot exist without
//! its entry in `/api/openapi.json`, and the document's schemas are the response types'.

mod attribution;
mod catalog;
mod data;
mod query;
pub mod tracking;

use axum::Json;
use axum::extract::DefaultBodyLimit;
use serde::Serialize;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ErrorBody;
use crate::state::AppState;

pub use query::{FunnelDoc, ReportDoc};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kpiflow",
        description = "B2B marketing KPIs: reports, funnel, attribution, goals, plans, diagnosis, catalog, tables and imports. Reads are \
                       open; writes (imports) need `Authorization: Bearer <token>` and are off \
                       when the server has no token. Every error is `{code, message, hints}`."
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

#[derive(Debug)]
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every API route with its documentation.
pub fn router(max_body_bytes: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(catalog::list_kpis))
        .routes(routes!(catalog::get_kpi))
        .routes(routes!(query::get_report, query::post_report))
        .routes(routes!(query::get_funnel))
        .routes(routes!(attribution::get_attribution))
        .routes(routes!(tracking::get_goals))
        .routes(routes!(tracking::get_plan))
        .routes(routes!(tracking::get_diagnosis))
        .routes(routes!(data::list_tables))
        .routes(routes!(data::list_imports))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(data::post_import))
                .routes(routes!(data::post_import_preview))
                .layer(DefaultBodyLimit::max(max_body_bytes)),
        )
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` when the server answers.
    status: &'static str,
    version: &'static str,
    project: String,
    /// Whether write endpoints (imports) are on.
    writes: bool,
}

/// Whether the server is up, and what it serves.
#[utoipa::path(get, path = "/api/health", tag = "meta",
    responses((status = 200, description = "The server answers", body = Health)))]
async fn health(state: axum::extract::State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        project: state.config().name.clone(),
        writes: state.options().token.is_some(),
    })
}
