//! Header rules of the gateway: what is not forwarded, the rate-limit fields every answer
//! carries, and CORS.

use crate::domain::keys::verify::RateLimitInfo;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

/// Hop-by-hop headers (RFC 9110 §7.6.1) and the ones the gateway sets itself.
const NOT_FORWARDED: [&str; 10] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
];

pub const API_KEY: &str = "x-api-key";

/// Headers named in `Connection` are hop-by-hop too.
fn connection_named(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .collect()
}

/// The headers to pass on, without hop-by-hop ones and without `extra_drop`.
pub fn forwardable(headers: &HeaderMap, extra_drop: &[&str]) -> HeaderMap {
    let named = connection_named(headers);
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let n = name.as_str();
        if NOT_FORWARDED.contains(&n) || extra_drop.contains(&n) || named.iter().any(|c| c == n) {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

fn set(headers: &mut HeaderMap, name: &'static str, value: impl ToString) {
    if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
        headers.insert(HeaderName::from_static(name), v);
    }
}

/// `X-RateLimit-*` and the IETF `RateLimit-Policy` / `RateLimit` fields
/// (draft-ietf-httpapi-ratelimit-headers) for the key's tightest limit.
pub fn rate_limit_fields(headers: &mut HeaderMap, limit: &RateLimitInfo, now_s: i64) {
    let until_reset = (limit.reset - now_s).max(0);
    set(headers, "x-ratelimit-limit", limit.limit);
    set(headers, "x-ratelimit-remaining", limit.remaining);
    set(headers, "x-ratelimit-reset", limit.reset);
    set(headers, "x-ratelimit-window", limit.window);
    let name = quoted(&limit.name);
    set(
        headers,
        "ratelimit-policy",
        format!("{name};q={};w={}", limit.limit, limit.window),
    );
    set(
        headers,
        "ratelimit",
        format!("{name};r={};t={until_reset}", limit.remaining),
    );
}

/// A structured-field string; limit names are `[a-z0-9_-]`, so there is nothing to escape.
fn quoted(name: &str) -> String {
    format!("\"{name}\"")
}

pub fn retry_after(headers: &mut HeaderMap, seconds: i64) {
    set(headers, "retry-after", seconds.max(1));
}

const EXPOSED: &str = "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, \
    X-RateLimit-Window, RateLimit, RateLimit-Policy, Retry-After, X-Request-Id";

/// Lets the browser page at `origin` read this answer.
pub fn allow_origin(headers: &mut HeaderMap, origin: &HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED),
    );
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
}

/// The answer to a CORS preflight. A preflight carries no key, so it cannot be checked
/// against the key's allowed origins; the real request that follows is.
pub fn preflight(request: &HeaderMap, origin: &HeaderValue) -> HeaderMap {
    let mut out = HeaderMap::new();
    allow_origin(&mut out, origin);
    out.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"),
    );
    let asked = request
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("X-API-Key, Content-Type"));
    out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked);
    out.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_and_connection_named_headers_stay_behind() {
        let mut h = HeaderMap::new();
        h.insert(
            "connection",
            HeaderValue::from_static("keep-alive, X-Secret-Hop"),
        );
        h.insert("x-secret-hop", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("x-api-key", HeaderValue::from_static("kp_secret"));
        h.insert("host", HeaderValue::from_static("keyport"));
        h.insert("accept", HeaderValue::from_static("application/json"));
        h.append("x-multi", HeaderValue::from_static("a"));
        h.append("x-multi", HeaderValue::from_static("b"));
        let out = forwardable(&h, &[API_KEY]);
        let names: Vec<_> = out.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["accept", "x-multi"]);
        assert_eq!(out.get_all("x-multi").iter().count(), 2);
    }

    #[test]
    fn rate_limit_fields_follow_both_conventions() {
        let mut h = HeaderMap::new();
        let info = RateLimitInfo {
            name: "default".into(),
            limit: 100,
            remaining: 42,
            reset: 1_000_030,
            window: 60,
        };
        rate_limit_fields(&mut h, &info, 1_000_000);
        let get = |n: &str| h.get(n).unwrap().to_str().unwrap().to_string();
        assert_eq!(get("x-ratelimit-limit"), "100");
        assert_eq!(get("x-ratelimit-remaining"), "42");
        assert_eq!(get("x-ratelimit-reset"), "1000030");
        assert_eq!(get("x-ratelimit-window"), "60");
        assert_eq!(get("ratelimit-policy"), "\"default\";q=100;w=60");
        assert_eq!(get("ratelimit"), "\"default\";r=42;t=30");
    }
}
