//! kpiflow's HTTP server: the JSON API under `/api` (documented at `/api/openapi.json`) and the
//! dashboard, server-rendered HTML with SVG charts, over one [`kpiflow_engine::Engine`] per
//! snapshot of the store.
//!
//! [`router`] builds the whole application for a state, so tests drive it with `oneshot`
//! and [`serve`] runs it on a listener.

pub mod api;
pub mod charts;
pub mod dashboard;
mod error;
mod links;
pub mod params;
mod state;

use axum::Router;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use error::{ApiError, ApiResult, ErrorBody};
pub use state::{AppState, ServerOptions};

/// The whole application: API, OpenAPI document, dashboard, a JSON or HTML 404, panics turned
/// into a logged 500 without details.
pub fn router(state: AppState) -> Router {
    let max_body = usize::try_from(state.config().server.max_body_mib.saturating_mul(1 << 20))
        .unwrap_or(usize::MAX);
    let (api, openapi) = api::router(max_body).split_for_parts();
    let openapi = std::sync::Arc::new(openapi);
    Router::new()
        .merge(api)
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .route("/l/{code}", axum::routing::get(links::follow))
        .merge(dashboard::router())
        .fallback(not_found)
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| panicked()))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found(uri: Uri) -> Response {
    let err = ApiError::not_found(format!("no such path: {}", uri.path()));
    if uri.path().starts_with("/api/") || uri.path() == "/api" {
        err.hint("the API is described at /api/openapi.json").into_response()
    } else {
        err.html().into_response()
    }
}

fn panicked() -> Response {
    ApiError::internal("a request handler panicked (see the log above)").into_response()
}

/// Serves the application on `listener` until Ctrl-C (or SIGTERM).
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown()).await
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
