//! `/l/{code}`: a short link's redirect, which first records the click in the store.
//!
//! The click is committed to `_link_clicks` before the redirect is answered: a browser that was
//! redirected has a recorded click. When the store cannot take it, the answer is a 503 that says
//! so and no redirect happens (the visitor can retry), rather than a redirect whose click is lost.
//! `?c=CONTACT` and `?v=VISITOR` on the short URL name who clicked (personal links in emails or
//! DMs), which makes the click a touch of that contact's or visitor's journeys.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use kpiflow_store::Click;

use crate::error::ApiError;
use crate::state::AppState;

/// Distinguishes clicks recorded in the same microsecond by this process.
static CLICKS: AtomicU64 = AtomicU64::new(0);

fn click_id(code: &str) -> String {
    let n = CLICKS.fetch_add(1, Ordering::Relaxed);
    let now = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    format!("{code}-{now:x}-{}-{n:x}", std::process::id())
}

/// A non-empty, trimmed, bounded query value.
fn param(q: &BTreeMap<String, String>, key: &str) -> Option<String> {
    q.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()).map(|v| v.chars().take(200).collect())
}

pub async fn follow(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
    method: axum::http::Method,
    headers: HeaderMap,
) -> Response {
    let link = match state.store().link(&code).await {
        Ok(Some(link)) => link,
        Ok(None) => {
            return ApiError::not_found(format!("no short link `{code}`")).html().into_response();
        }
        Err(e) => return ApiError::internal(e).html().into_response(),
    };
    if method == axum::http::Method::HEAD {
        // Link previews and checkers ask with HEAD: answered, not counted as a click.
        return (StatusCode::FOUND, [(header::LOCATION, link.tagged_target(&[]))]).into_response();
    }
    let click = Click {
        click_id: click_id(&link.code),
        code: link.code.clone(),
        clicked_at: Utc::now(),
        visitor_id: param(&query, "v"),
        contact_id: param(&query, "c"),
        referrer: headers
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(500).collect()),
    };
    if let Err(e) = state.store().record_click(&click).await {
        tracing::error!(error = %e, code = %link.code, "a short-link click could not be recorded");
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "click_not_recorded",
            "the click could not be recorded, so it was not redirected; please try again",
        )
        .html()
        .into_response();
    }
    let target = link.tagged_target(&[("kpiflow_click", &click.click_id)]);
    // 302 and no caching: every click comes back here and is counted.
    (
        StatusCode::FOUND,
        [(header::LOCATION, target), (header::CACHE_CONTROL, "no-store".to_owned())],
    )
        .into_response()
}
