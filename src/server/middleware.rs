//! Cross-cutting layers: request ids and request logs, security headers with a per-response
//! CSP nonce, and cross-site request refusal (CSRF).

use crate::error::{AppError, ErrorCode};
use axum::{
    extract::{ConnectInfo, Request},
    http::{HeaderMap, HeaderValue, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use std::{net::SocketAddr, sync::Arc, time::Instant};
use tracing::Instrument;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

#[derive(Clone, Debug)]
pub struct RequestId(pub Arc<str>);

/// The nonce that this response's inline scripts carry and its CSP allows. Made on first use,
/// so responses that render no page (API answers, files) skip the work.
#[derive(Clone, Debug, Default)]
pub struct CspNonce(Arc<std::sync::OnceLock<Arc<str>>>);

impl CspNonce {
    pub fn value(&self) -> Arc<str> {
        self.0
            .get_or_init(|| {
                Arc::from(URL_SAFE_NO_PAD.encode(crate::domain::crypto::random_bytes::<16>()))
            })
            .clone()
    }

    fn used(&self) -> Option<&Arc<str>> {
        self.0.get()
    }
}

/// For responses that carry no page: nothing may load, nothing may frame them.
const STRICT_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// A client-supplied id is kept if it is short and plain; otherwise we make one.
fn acceptable_request_id(value: &HeaderValue) -> Option<&str> {
    let text = value.to_str().ok()?;
    let ok = !text.is_empty()
        && text.len() <= 128
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    ok.then_some(text)
}

/// A method label from a fixed set: any other method would add a series per spelling.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

pub async fn request_id_and_log(
    axum::extract::State(state): axum::extract::State<super::state::AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    // The route pattern, not the path: ids and probes must not make new series.
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .cloned();
    let method = method_label(req.method());
    let id: Arc<str> = match req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(acceptable_request_id)
    {
        Some(given) => Arc::from(given),
        None => Arc::from(crate::domain::crypto::random_hex(12)),
    };
    req.extensions_mut().insert(RequestId(id.clone()));
    // The path only: query strings can carry tokens.
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path());
    let started = Instant::now();
    let mut res = next.run(req).instrument(span.clone()).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    let route = route.as_ref().map_or("unmatched", |m| m.as_str());
    state.metrics.http_request(route, method, status, elapsed);
    let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(status, elapsed_ms, "response");
        } else {
            tracing::info!(status, elapsed_ms, "response");
        }
    });
    res
}

pub async fn security_headers(mut req: Request, next: Next) -> Response {
    let nonce = CspNonce::default();
    req.extensions_mut().insert(nonce.clone());
    let mut res = next.run(req).await;
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let headers = res.headers_mut();
    let csp = match nonce.used() {
        Some(nonce) => HeaderValue::from_str(&format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'"
        ))
        .ok(),
        // An HTML answer that rendered no inline script still gets the page policy, minus nonces.
        None if is_html => Some(HeaderValue::from_static(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'",
        )),
        None => Some(HeaderValue::from_static(STRICT_CSP)),
    };
    if let Some(value) = csp {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // same-origin keeps the Referer that no-JS form posts are redirected back to.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Static assets may be cached briefly; they are not fingerprinted yet.
pub async fn static_cache(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    if res.status().is_success() {
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        );
    }
    res
}

pub fn has_session_cookie(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|cookies| {
            cookies.split(';').any(|c| {
                c.trim_start()
                    .strip_prefix(crate::server::SESSION_COOKIE)
                    .is_some_and(|rest| rest.starts_with('='))
            })
        })
}

/// Decides whether a state-changing request came from another site. Browsers label every
/// request with Sec-Fetch-Site (and Origin on POST); requests with neither come from
/// non-browser clients, which carry no ambient cookies to abuse.
pub fn is_cross_site(method: &Method, headers: &HeaderMap) -> bool {
    if matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) {
        return false;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.to_str(), Ok("same-origin") | Ok("none"));
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://").map(|(_, rest)| rest.to_string()));
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (origin_host, host) {
        (Some(o), Some(h)) => !o.eq_ignore_ascii_case(h),
        _ => true,
    }
}

/// Refuses cross-site state changes: every portal form and server function, and REST calls
/// that would ride on the session cookie.
pub async fn csrf_guard(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let is_api = path.starts_with("/api/");
    let checked = !is_api || has_session_cookie(req.headers());
    if checked && is_cross_site(req.method(), req.headers()) {
        tracing::warn!("cross-site request refused");
        let err = AppError::new(ErrorCode::CsrfFailed, "Cross-site request refused.");
        if is_api {
            return err.into_response();
        }
        return (axum::http::StatusCode::FORBIDDEN, err.detail).into_response();
    }
    next.run(req).await
}

/// Peer address and user agent of a request, for sign-in records.
pub fn client_info(
    headers: &HeaderMap,
    peer: Option<&ConnectInfo<SocketAddr>>,
) -> crate::domain::ClientInfo {
    crate::domain::ClientInfo {
        ip: peer
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(512)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cross_site_detection() {
        let post = Method::POST;
        assert!(!is_cross_site(
            &Method::GET,
            &headers(&[("sec-fetch-site", "cross-site")])
        ));
        assert!(!is_cross_site(
            &post,
            &headers(&[("sec-fetch-site", "same-origin")])
        ));
        assert!(!is_cross_site(
            &post,
            &headers(&[("sec-fetch-site", "none")])
        ));
        assert!(is_cross_site(
            &post,
            &headers(&[("sec-fetch-site", "same-site")])
        ));
        assert!(is_cross_site(
            &post,
            &headers(&[("sec-fetch-site", "cross-site")])
        ));
        assert!(!is_cross_site(
            &post,
            &headers(&[
                ("origin", "http://127.0.0.1:3000"),
                ("host", "127.0.0.1:3000")
            ])
        ));
        assert!(is_cross_site(
            &post,
            &headers(&[
                ("origin", "https://evil.example"),
                ("host", "127.0.0.1:3000")
            ])
        ));
        assert!(is_cross_site(
            &post,
            &headers(&[("origin", "null"), ("host", "127.0.0.1:3000")])
        ));
        assert!(
            !is_cross_site(&post, &headers(&[])),
            "non-browser clients send neither header"
        );
    }

    #[test]
    fn request_ids_from_clients_are_sanitised() {
        assert_eq!(
            acceptable_request_id(&HeaderValue::from_static("abc-123_x.y:z")),
            Some("abc-123_x.y:z")
        );
        assert_eq!(
            acceptable_request_id(&HeaderValue::from_static("has space")),
            None
        );
        assert_eq!(acceptable_request_id(&HeaderValue::from_static("")), None);
        let long = "a".repeat(129);
        assert_eq!(
            acceptable_request_id(&HeaderValue::from_str(&long).unwrap()),
            None
        );
    }
}
