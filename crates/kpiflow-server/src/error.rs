//! One error shape for every endpoint: `{code, message, hints}`.
//!
//! User errors (a bad parameter, an unknown KPI, a missing token) answer 4xx with the message
//! that says what to fix. Bugs and failures of the store answer 5xx: they are logged with their
//! details, and the response carries only a generic message, so internals never leak.

use axum::extract::multipart::MultipartError;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kpiflow_engine::EngineError;
use kpiflow_model::UnknownName;
use serde::Serialize;

/// The body of every error response.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code: `bad_request`, `unknown_name`, `not_found`, `unauthorized`,
    /// `writes_disabled`, `payload_too_large`, `unsupported_media_type`, `timeout`, `internal`.
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
    /// What to do about it (a "did you mean", the accepted values).
    pub hints: Vec<String>,
}

/// An error answer. `html` selects the dashboard's rendering of the same error.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    pub html: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: ErrorBody { code: code.into(), message: message.into(), hints: Vec::new() },
            html: false,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// A bug or a failure the user cannot fix: logged in full, answered without details.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "internal error while answering a request");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the details are in the server's log",
        )
    }

    /// The same error as a 404 (an unknown KPI or page in the path, rather than a parameter).
    pub fn into_not_found(mut self) -> ApiError {
        self.status = StatusCode::NOT_FOUND;
        self.body.code = "not_found".into();
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> ApiError {
        self.body.hints.push(hint.into());
        self
    }

    /// The same error, rendered as a dashboard page.
    pub fn html(mut self) -> ApiError {
        self.html = true;
        self
    }
}

impl From<UnknownName> for ApiError {
    fn from(e: UnknownName) -> ApiError {
        let mut err = ApiError::new(StatusCode::BAD_REQUEST, "unknown_name", e.to_string());
        if let Some(s) = &e.suggestion {
            err = err.hint(format!("did you mean `{s}`?"));
        }
        err
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        match e {
            EngineError::Unknown(u) => u.into(),
            EngineError::Cluster(message) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "cluster_unavailable", message)
            }
            e if e.is_user_error() => ApiError::bad_request(e.to_string()),
            e => ApiError::internal(e),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> ApiError {
        ApiError::bad_request(e.body_text())
    }
}

impl From<JsonRejection> for ApiError {
    /// Malformed JSON and JSON of the wrong shape are both 400 (as bad query parameters are);
    /// a body over the limit is 413, a body that is not JSON 415.
    fn from(e: JsonRejection) -> ApiError {
        match e.status() {
            StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", e.body_text())
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                e.body_text(),
            )
            .hint("send the header `Content-Type: application/json`"),
            _ => ApiError::bad_request(e.body_text()),
        }
    }
}

impl From<MultipartError> for ApiError {
    fn from(e: MultipartError) -> ApiError {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, "payload_too_large", e.body_text()).hint(
                "raise [server] max_body_mib in kpiflow.toml, or import the file with the CLI",
            )
        } else if status.is_client_error() {
            ApiError::new(status, "bad_request", e.body_text())
        } else {
            ApiError::internal(e.body_text())
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = if self.html {
            (self.status, crate::dashboard::error_page(self.status, &self.body)).into_response()
        } else {
            (self.status, axum::Json(&self.body)).into_response()
        };
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
