//! The contract's error body for everything under /api. Handlers return `AppError`; the
//! `envelope` middleware turns it (and any bare error from a layer, such as 405 or 413)
//! into `{detail, error_code, timestamp, path, request_id, errors?}`.

use crate::error::{AppError, ErrorCode, FieldError};
use crate::server::middleware::RequestId;
use axum::{
    Json,
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use std::sync::Arc;
use time::OffsetDateTime;

/// The error body of every failed /api call.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    #[schema(example = "Invalid email or password.")]
    pub detail: String,
    #[schema(example = "INVALID_CREDENTIALS")]
    pub error_code: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: OffsetDateTime,
    #[schema(example = "/api/v1/auth/login")]
    pub path: String,
    #[schema(example = "5f2b6c1e9a0d4b7c8e3f1a2b")]
    pub request_id: String,
    /// Field problems, on 422 answers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Marks a response as an error to be rendered by `envelope`.
#[derive(Clone)]
struct PendingError(AppError);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = status.into_response();
        res.extensions_mut().insert(PendingError(self));
        res
    }
}

pub(crate) fn render(err: &AppError, path: &str, request_id: &str) -> Response {
    let status =
        StatusCode::from_u16(err.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = ErrorBody {
        detail: err.detail.clone(),
        error_code: err.code.as_str(),
        timestamp: OffsetDateTime::now_utc(),
        path: path.to_string(),
        request_id: request_id.to_string(),
        errors: err.errors.clone(),
    };
    let mut res = (status, Json(body)).into_response();
    if let Some(secs) = err.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    res
}

pub(crate) fn request_id_of(req: &Request) -> Option<Arc<str>> {
    req.extensions().get::<RequestId>().map(|r| r.0.clone())
}

/// A bare error status from a layer or the router, given the contract's body.
fn from_status(status: StatusCode) -> AppError {
    let code = match status.as_u16() {
        400 => ErrorCode::BadRequest,
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        413 => ErrorCode::PayloadTooLarge,
        415 => ErrorCode::UnsupportedMediaType,
        422 => ErrorCode::ValidationError,
        429 => ErrorCode::TooManyAttempts,
        503 => ErrorCode::ServiceUnavailable,
        _ => ErrorCode::InternalError,
    };
    let detail = match code {
        ErrorCode::NotFound => "No such endpoint. See /api/v1/openapi.json.".to_string(),
        ErrorCode::MethodNotAllowed => {
            "This endpoint does not accept that HTTP method.".to_string()
        }
        ErrorCode::PayloadTooLarge => {
            "The request body is larger than the 1 MiB limit.".to_string()
        }
        ErrorCode::InternalError => AppError::internal().detail,
        _ => status
            .canonical_reason()
            .unwrap_or("Request failed")
            .to_string(),
    };
    AppError::new(code, detail)
}

/// Applied around the whole app so answers from outer layers (body limit, panics, CSRF) get
/// the contract's body too; it touches only /api paths.
pub async fn envelope(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    // /metrics and the live streams are read by programs too: their refusals are the
    // contract's JSON.
    if !(path == "/api"
        || path.starts_with("/api/")
        || path == "/metrics"
        || path == "/usage/live"
        || path == "/admin/system/live"
        || path == "/notifications/live")
    {
        return next.run(req).await;
    }
    // Cheap handles only; the strings are made when there is an error to render.
    let uri = req.uri().clone();
    let request_id = request_id_of(&req);
    let res = next.run(req).await;
    let render_here = |err: &AppError, res: &Response| {
        let id = request_id.as_deref().unwrap_or_default();
        let mut out = render(err, uri.path(), id);
        if let Some(allow) = res.headers().get(header::ALLOW) {
            out.headers_mut().insert(header::ALLOW, allow.clone());
        }
        out
    };
    if let Some(PendingError(err)) = res.extensions().get::<PendingError>() {
        return render_here(err, &res);
    }
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        return render_here(&from_status(status), &res);
    }
    res
}

pub async fn not_found() -> AppError {
    from_status(StatusCode::NOT_FOUND)
}
