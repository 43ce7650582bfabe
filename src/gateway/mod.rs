//! The gateway: `ANY /gw/{api_slug}/{*path}` checks the caller's `X-API-Key` exactly as
//! `POST /api/v1/keys/verify` does, then forwards the call to the API's upstream with
//! streaming bodies, and answers with the upstream's response plus rate-limit fields.
//!
//! It sits outside the portal's layers: no sessions, no CSRF check (a cross-site browser call
//! is legitimate here and is governed by CORS and the key's allowed origins) and its own body
//! cap instead of the API's 1 MiB.

pub mod headers;
pub mod metered;

use crate::api::error::{render, request_id_of};
use crate::domain::apis::directory::ApiRoute;
use crate::domain::keys::verify::{Call, VerifyCode, VerifyRequest, VerifyResponse, verify_call};
use crate::domain::to_millis;
use crate::error::{AppError, ErrorCode};
use crate::server::state::AppState;
use axum::{
    Router,
    body::Body,
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::any,
};
use metered::{CappedBody, ReportingBody, RequestMeter};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;
use time::OffsetDateTime;

pub const PREFIX: &str = "/gw/";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/gw/{slug}", any(forward))
        .route("/gw/{slug}/", any(forward))
        .route("/gw/{slug}/{*path}", any(forward))
}

/// The part of the path after `/gw/{slug}`, still percent-encoded, and the query.
fn split_target(uri: &axum::http::Uri) -> Option<(&str, &str)> {
    let rest = uri.path().strip_prefix(PREFIX)?;
    let (slug, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    Some((slug, path))
}

/// `.` and `..` segments (also percent-encoded) could climb out of the upstream's base path.
fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|seg| {
        let s = seg.to_ascii_lowercase().replace("%2e", ".");
        s == "." || s == ".."
    })
}

fn error_code_of(code: VerifyCode) -> ErrorCode {
    match code {
        VerifyCode::Valid | VerifyCode::ApiKeyInvalid => ErrorCode::ApiKeyInvalid,
        VerifyCode::ApiKeyRevoked => ErrorCode::ApiKeyRevoked,
        VerifyCode::ApiKeyExpired => ErrorCode::ApiKeyExpired,
        VerifyCode::ApiKeyDisabled => ErrorCode::ApiKeyDisabled,
        VerifyCode::RateLimitExceeded => ErrorCode::RateLimitExceeded,
        VerifyCode::QuotaExceeded => ErrorCode::QuotaExceeded,
        VerifyCode::UsageExceeded => ErrorCode::UsageExceeded,
        VerifyCode::PermissionDenied => ErrorCode::PermissionDenied,
        VerifyCode::IpNotAllowed => ErrorCode::IpNotAllowed,
        VerifyCode::OriginNotAllowed => ErrorCode::OriginNotAllowed,
    }
}

fn refusal_detail(code: VerifyCode) -> &'static str {
    match code {
        VerifyCode::Valid | VerifyCode::ApiKeyInvalid => {
            "Send a valid API key in the X-API-Key header."
        }
        VerifyCode::ApiKeyRevoked => "This API key has been revoked.",
        VerifyCode::ApiKeyExpired => "This API key has expired.",
        VerifyCode::ApiKeyDisabled => "This API key is disabled.",
        VerifyCode::RateLimitExceeded => "Rate limit exceeded; retry after the time given.",
        VerifyCode::QuotaExceeded => "The key's quota for this period is used up.",
        VerifyCode::UsageExceeded => "The key has no credits left.",
        VerifyCode::PermissionDenied => "This key may not call this API.",
        VerifyCode::IpNotAllowed => "This key may not be used from this address.",
        VerifyCode::OriginNotAllowed => "This key may not be used from this origin.",
    }
}

/// One gateway call, as the usage record will describe it.
#[derive(Clone, Debug)]
pub struct CallRecord {
    pub started: Instant,
    pub at_ms: i64,
    pub key_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub api_id: Option<i64>,
    pub endpoint: String,
    pub code: &'static str,
    pub status: u16,
    pub request_bytes: u64,
    pub ip: String,
    pub user_agent: String,
}

/// Stores the usage record of a finished call.
fn finish(state: &AppState, record: CallRecord, response_bytes: u64) {
    state.metrics.verification("gateway", record.code);
    state.usage.record(crate::domain::usage::UsageEvent {
        at_ms: record.at_ms,
        key_id: record.key_id,
        owner_user_id: record.owner_user_id,
        api_id: record.api_id,
        source: crate::domain::usage::UsageSource::Gateway,
        endpoint: record.endpoint,
        code: record.code,
        status: record.status,
        latency_us: i64::try_from(record.started.elapsed().as_micros()).unwrap_or(i64::MAX),
        request_bytes: i64::try_from(record.request_bytes).unwrap_or(i64::MAX),
        response_bytes: i64::try_from(response_bytes).unwrap_or(i64::MAX),
        ip: record.ip,
        user_agent: record.user_agent,
    });
}

/// Decorates an answer the gateway made itself (an error) and records it.
fn answer_here(
    state: &AppState,
    mut record: CallRecord,
    err: &AppError,
    path: &str,
    request_id: &str,
    extra: impl FnOnce(&mut HeaderMap),
) -> Response {
    let mut res = render(err, path, request_id);
    extra(res.headers_mut());
    record.status = res.status().as_u16();
    record.code = err.code.as_str();
    finish(state, record, 0);
    res
}

/// Documented as GET; every method is accepted and forwarded as it is.
#[utoipa::path(get, path = "/gw/{api_slug}/{path}", tag = "gateway",
    params(
        ("api_slug" = String, Path, description = "The API's slug"),
        ("path" = String, Path, description = "Forwarded to the upstream base URL + `/path`, with the query"),
        ("X-API-Key" = String, Header, description = "The caller's API key (not forwarded)"),
    ),
    responses(
        (status = 200, description = "The upstream's answer (any status), with X-RateLimit-Limit/-Remaining/-Reset/-Window, RateLimit-Policy and RateLimit when a rate limit applies"),
        (status = 400, description = "A `.` or `..` path segment", body = crate::api::error::ErrorBody),
        (status = 401, description = "API_KEY_INVALID, API_KEY_REVOKED, API_KEY_EXPIRED or API_KEY_DISABLED", body = crate::api::error::ErrorBody),
        (status = 403, description = "PERMISSION_DENIED (key bound to another API), IP_NOT_ALLOWED or ORIGIN_NOT_ALLOWED", body = crate::api::error::ErrorBody),
        (status = 404, description = "No API mounted at this slug", body = crate::api::error::ErrorBody),
        (status = 413, description = "Body over the gateway's cap", body = crate::api::error::ErrorBody),
        (status = 429, description = "RATE_LIMIT_EXCEEDED, QUOTA_EXCEEDED or USAGE_EXCEEDED, with Retry-After", body = crate::api::error::ErrorBody),
        (status = 502, description = "BAD_GATEWAY: the upstream could not be reached", body = crate::api::error::ErrorBody),
        (status = 504, description = "GATEWAY_TIMEOUT: no answer within the API's timeout", body = crate::api::error::ErrorBody),
    ))]
pub async fn forward(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let started = Instant::now();
    let now = OffsetDateTime::now_utc();
    let now_ms = to_millis(now);
    let request_id = request_id_of(&req).unwrap_or_else(|| Arc::from(""));
    let uri = req.uri().clone();
    let method = req.method().clone();
    let origin = req.headers().get(header::ORIGIN).cloned();
    let Some((slug, rest)) = split_target(&uri) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut record = CallRecord {
        started,
        at_ms: now_ms,
        key_id: None,
        owner_user_id: None,
        api_id: None,
        endpoint: format!("{method} {}", if rest.is_empty() { "/" } else { rest }),
        code: "",
        status: 0,
        request_bytes: 0,
        ip: peer.ip().to_canonical().to_string(),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(512)
            .collect(),
    };
    let path = uri.path();
    let cors = |h: &mut HeaderMap| {
        if let Some(o) = &origin {
            headers::allow_origin(h, o);
        }
    };

    let route = match state.apis.by_slug(&state.db, slug).await {
        Ok(Some(route)) if route.enabled => route,
        Ok(_) => {
            let err = AppError::new(ErrorCode::NotFound, "No API is mounted at this path.");
            return answer_here(&state, record, &err, path, &request_id, cors);
        }
        Err(err) => return answer_here(&state, record, &err, path, &request_id, cors),
    };
    record.api_id = Some(route.id);

    // A CORS preflight: answered here, without a key (browsers send none with it).
    if method == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        && let Some(o) = &origin
    {
        let mut res = StatusCode::NO_CONTENT.into_response();
        *res.headers_mut() = headers::preflight(req.headers(), o);
        record.status = 204;
        record.code = "PREFLIGHT";
        finish(&state, record, 0);
        return res;
    }

    if has_dot_segment(rest) {
        let err = AppError::new(
            ErrorCode::BadRequest,
            "Path segments `.` and `..` are not allowed.",
        );
        return answer_here(&state, record, &err, path, &request_id, cors);
    }

    let key = req
        .headers()
        .get(headers::API_KEY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_string();
    let verify = VerifyRequest {
        key,
        scopes: Vec::new(),
        endpoint: Some(record.endpoint.clone()),
        ip: None,
        cost: None,
    };
    let origin_text = origin.as_ref().and_then(|o| o.to_str().ok());
    let call = Call {
        api: Some(&route),
        origin: origin_text,
    };
    let verdict = match verify_call(&state.key_ctx(), &verify, Some(peer.ip()), now_ms, &call).await
    {
        Ok(v) => v.response,
        Err(err) => return answer_here(&state, record, &err, path, &request_id, cors),
    };
    record.key_id = verdict.key_id;
    record.owner_user_id = verdict.owner_user_id;
    let now_s = now.unix_timestamp();
    // The rate-limit fields and CORS go on every answer from here on; a refused origin
    // gets no CORS grant.
    let decorate = |h: &mut HeaderMap, v: &VerifyResponse| {
        if let Some(limit) = &v.ratelimit {
            headers::rate_limit_fields(h, limit, now_s);
        }
        if let Some(secs) = v.retry_after {
            headers::retry_after(h, secs);
        }
        if v.code != VerifyCode::OriginNotAllowed
            && let Some(o) = &origin
        {
            headers::allow_origin(h, o);
        }
    };
    if !verdict.valid {
        let err = AppError::new(error_code_of(verdict.code), refusal_detail(verdict.code));
        return answer_here(&state, record, &err, path, &request_id, |h| {
            decorate(h, &verdict)
        });
    }

    let upstream = upstream_url(&route, rest, uri.query());
    let meter = Arc::new(RequestMeter::default());
    let mut pending = Unanswered {
        state: &state,
        record: Some(record),
        meter: meter.clone(),
    };
    let sent = send(
        &state,
        &route,
        req,
        &upstream,
        peer,
        &request_id,
        meter.clone(),
    )
    .await;
    let Some(mut record) = pending.record.take() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    match sent {
        Ok(up) => {
            record.request_bytes = meter.bytes.load(Ordering::Relaxed);
            record.status = up.status().as_u16();
            record.code = VerifyCode::Valid.as_str();
            let mut res = Response::builder()
                .status(up.status())
                .body(Body::empty())
                .unwrap_or_default();
            *res.headers_mut() = headers::forwardable(up.headers(), &[]);
            decorate(res.headers_mut(), &verdict);
            let finished = state.clone();
            let body = ReportingBody::new(
                Box::pin(up.bytes_stream()),
                Box::new(move |n| finish(&finished, record, n)),
            );
            *res.body_mut() = Body::from_stream(body);
            res
        }
        Err(failure) => {
            record.request_bytes = meter.bytes.load(Ordering::Relaxed);
            let err = match failure {
                _ if meter.too_large.load(Ordering::Relaxed) => AppError::new(
                    ErrorCode::PayloadTooLarge,
                    format!(
                        "The request body is larger than the gateway's {} byte limit.",
                        state.config.gateway_max_body_bytes
                    ),
                ),
                Failure::Timeout => AppError::new(
                    ErrorCode::GatewayTimeout,
                    "The upstream did not answer in time.",
                ),
                Failure::Unreachable => {
                    AppError::new(ErrorCode::BadGateway, "The upstream could not be reached.")
                }
            };
            answer_here(&state, record, &err, path, &request_id, |h| {
                decorate(h, &verdict)
            })
        }
    }
}

/// A forwarded call whose client may hang up before the upstream answers: axum then drops
/// the handler, and this records the call anyway (the upstream may well have served it),
/// with status 499 as proxies log a client that closed the connection.
struct Unanswered<'a> {
    state: &'a AppState,
    record: Option<CallRecord>,
    meter: Arc<RequestMeter>,
}

impl Drop for Unanswered<'_> {
    fn drop(&mut self) {
        if let Some(mut record) = self.record.take() {
            record.request_bytes = self.meter.bytes.load(Ordering::Relaxed);
            record.status = 499;
            record.code = "CLIENT_CLOSED";
            finish(self.state, record, 0);
        }
    }
}

fn upstream_url(route: &ApiRoute, rest: &str, query: Option<&str>) -> String {
    let mut url = String::with_capacity(route.upstream.len() + rest.len() + 16);
    url.push_str(&route.upstream);
    url.push_str(if rest.is_empty() { "/" } else { rest });
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

enum Failure {
    Timeout,
    Unreachable,
}

/// Sends the call upstream; waits for the response head at most the API's timeout (the
/// body then streams at its own pace).
async fn send(
    state: &AppState,
    route: &ApiRoute,
    req: Request,
    url: &str,
    peer: SocketAddr,
    request_id: &str,
    meter: Arc<RequestMeter>,
) -> Result<reqwest::Response, Failure> {
    let (parts, body) = req.into_parts();
    if let Some(len) = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > state.config.gateway_max_body_bytes
    {
        meter.too_large.store(true, Ordering::Relaxed);
        return Err(Failure::Unreachable);
    }
    let mut out = headers::forwardable(&parts.headers, &[headers::API_KEY]);
    let forwarded_for = match parts
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
    {
        Some(chain) => format!("{chain}, {}", peer.ip()),
        None => peer.ip().to_string(),
    };
    let proto = if state.config.public_url.starts_with("https://") {
        "https"
    } else {
        "http"
    };
    for (name, value) in [
        ("x-forwarded-for", forwarded_for.as_str()),
        ("x-forwarded-proto", proto),
        ("x-request-id", request_id),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            out.insert(name, v);
        }
    }
    if let Some(host) = parts.headers.get(header::HOST) {
        out.insert("x-forwarded-host", host.clone());
    }
    let stream = CappedBody::new(
        Box::pin(body.into_data_stream()),
        state.config.gateway_max_body_bytes,
        meter,
    );
    let request = state
        .http
        .request(parts.method, url)
        .headers(out)
        .body(reqwest::Body::wrap_stream(stream));
    let timeout = std::time::Duration::from_millis(route.timeout_ms.max(1));
    match tokio::time::timeout(timeout, request.send()).await {
        Err(_) => Err(Failure::Timeout),
        Ok(Err(e)) if e.is_timeout() => Err(Failure::Timeout),
        Ok(Err(e)) => {
            tracing::warn!(api = %route.slug, error = %e, "upstream call failed");
            Err(Failure::Unreachable)
        }
        Ok(Ok(res)) => Ok(res),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_split_and_dot_segments_are_refused() {
        let uri: axum::http::Uri = "/gw/tickets/v1/a%20b?x=1".parse().unwrap();
        assert_eq!(split_target(&uri), Some(("tickets", "/v1/a%20b")));
        let uri: axum::http::Uri = "/gw/tickets".parse().unwrap();
        assert_eq!(split_target(&uri), Some(("tickets", "")));
        assert!(has_dot_segment("/v1/../admin"));
        assert!(has_dot_segment("/v1/%2E%2e/admin"));
        assert!(has_dot_segment("/./x"));
        assert!(!has_dot_segment("/v1/..hidden/file.txt"));
    }

    #[test]
    fn upstream_urls_keep_the_base_path_and_query() {
        let route = ApiRoute {
            id: 1,
            slug: "t".into(),
            upstream: "http://127.0.0.1:9/base".into(),
            timeout_ms: 1000,
            enabled: true,
            default_rates: vec![],
        };
        assert_eq!(
            upstream_url(&route, "/v1/x", Some("a=1&b=2")),
            "http://127.0.0.1:9/base/v1/x?a=1&b=2"
        );
        assert_eq!(upstream_url(&route, "", None), "http://127.0.0.1:9/base/");
    }
}
