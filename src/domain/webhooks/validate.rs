//! Input rules for an endpoint's fields; every problem is reported at once, per field.

use crate::app::webhook_types::EVENT_TYPES;
use crate::error::Validator;
use reqwest::Url;
use std::collections::BTreeMap;

pub const MAX_URL: usize = 2_048;
pub const MAX_DESCRIPTION: usize = 500;
pub const MAX_HEADERS: usize = 20;
pub const MAX_HEADER_NAME: usize = 100;
pub const MAX_HEADER_VALUE: usize = 1_000;

/// Checks a target URL and returns it normalised with its host (IPv6 without brackets) and
/// port, the form deliveries use.
pub fn url(v: &mut Validator, text: &str) -> Option<(String, String, u16)> {
    const FIELD: &str = "body.url";
    let text = text.trim();
    if text.is_empty() {
        v.check(false, FIELD, "is required");
        return None;
    }
    if text.len() > MAX_URL {
        v.check(false, FIELD, "must be at most 2048 characters");
        return None;
    }
    // The URL parser silently drops tabs and new lines; refuse rather than store a surprise.
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        v.check(
            false,
            FIELD,
            "must not contain spaces or control characters",
        );
        return None;
    }
    let Ok(url) = Url::parse(text) else {
        v.check(
            false,
            FIELD,
            "must be an absolute URL such as https://example.com/webhooks",
        );
        return None;
    };
    let mut ok = true;
    let mut check = |good: bool, message: &str| {
        v.check(good, FIELD, message);
        ok &= good;
    };
    check(
        matches!(url.scheme(), "http" | "https"),
        "must use http or https",
    );
    // Credentials in a URL end up in logs and audit records: custom headers carry auth.
    check(
        url.username().is_empty() && url.password().is_none(),
        "must not contain a user name or password (send credentials in a custom header)",
    );
    check(url.fragment().is_none(), "must not have a fragment");
    // IPv6 literals come bracketed; resolution wants the bare address.
    let host = url
        .host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string())
        .filter(|h| !h.is_empty());
    check(host.is_some(), "must name a host");
    let port = url.port_or_known_default();
    check(port.is_some(), "must use http or https");
    let normalized = url.to_string();
    check(
        normalized.len() <= MAX_URL,
        "must be at most 2048 characters",
    );
    match (ok, host, port) {
        (true, Some(h), Some(p)) => Some((normalized, h, p)),
        _ => None,
    }
}

pub fn description(v: &mut Validator, text: &str) -> String {
    let text = text.trim();
    v.check(
        text.chars().count() <= MAX_DESCRIPTION,
        "body.description",
        "must be at most 500 characters",
    );
    v.check(
        !text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "body.description",
        "must not contain control characters",
    );
    text.to_string()
}

/// Whether an endpoint subscribed to `types` receives events of `kind`.
pub fn subscribed(types: &[String], kind: &str) -> bool {
    types.iter().any(|t| {
        t == "*"
            || t == kind
            || t.strip_suffix(".*").is_some_and(|family| {
                kind.strip_prefix(family)
                    .is_some_and(|r| r.starts_with('.'))
            })
    })
}

/// At least one known type; duplicates dropped, order kept.
pub fn event_types(v: &mut Validator, types: &[String]) -> Vec<String> {
    const FIELD: &str = "body.event_types";
    v.check(
        !types.is_empty(),
        FIELD,
        "must name at least one event type (\"*\" for every type)",
    );
    v.check(types.len() <= 50, FIELD, "must name at most 50 types");
    let mut out: Vec<String> = Vec::new();
    for t in types.iter().take(50) {
        let t = t.trim();
        if !EVENT_TYPES.iter().any(|(known, _)| *known == t) {
            let shown: String = t.chars().take(60).filter(|c| !c.is_control()).collect();
            v.check(
                false,
                FIELD,
                &format!(
                    "has an unknown event type {shown:?} (known: {})",
                    EVENT_TYPES
                        .iter()
                        .map(|(k, _)| *k)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        } else if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    out
}

/// Header names a delivery must control itself: hop-by-hop and framing headers, the host,
/// and the signature headers.
fn reserved(name: &str) -> bool {
    const RESERVED: &[&str] = &[
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "content-type",
        "content-encoding",
        "expect",
        "user-agent",
    ];
    RESERVED.contains(&name) || name.starts_with("proxy-") || name.starts_with("webhook-")
}

/// Custom headers, names lower-cased.
pub fn headers(v: &mut Validator, headers: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    const FIELD: &str = "body.headers";
    v.check(
        headers.len() <= MAX_HEADERS,
        FIELD,
        "must hold at most 20 headers",
    );
    let mut out = BTreeMap::new();
    for (name, value) in headers.iter().take(MAX_HEADERS) {
        let lower = name.trim().to_ascii_lowercase();
        let token = !lower.is_empty()
            && lower.len() <= MAX_HEADER_NAME
            && lower
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            v.check(
                false,
                FIELD,
                "has a header name that is not a token of at most 100 letters, digits and -",
            );
            continue;
        }
        if reserved(&lower) {
            v.check(
                false,
                FIELD,
                &format!(
                    "may not set {lower} (hop-by-hop, framing or webhook-* headers are Keyport's)"
                ),
            );
            continue;
        }
        let value = value.trim();
        let fine = value.len() <= MAX_HEADER_VALUE
            && value
                .bytes()
                .all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f));
        v.check(
            fine,
            FIELD,
            &format!("has a value for {lower} that is too long or holds control characters"),
        );
        if fine {
            out.insert(lower, value.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fails(f: impl FnOnce(&mut Validator)) -> bool {
        let mut v = Validator::default();
        f(&mut v);
        v.finish().is_err()
    }

    #[test]
    fn urls() {
        let mut v = Validator::default();
        assert_eq!(
            url(&mut v, " HTTPS://Hooks.Example.com/in?x=1 "),
            Some((
                "https://hooks.example.com/in?x=1".into(),
                "hooks.example.com".into(),
                443
            ))
        );
        assert_eq!(
            url(&mut v, "http://[::1]:8080/h").map(|u| (u.1, u.2)),
            Some(("::1".into(), 8080))
        );
        assert!(v.finish().is_ok());
        for bad in [
            "",
            "hooks.example.com",
            "ftp://example.com",
            "https://u:p@example.com",
            "https://example.com/#x",
            "https://exa mple.com",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "gopher://example.com",
        ] {
            assert!(
                fails(|v| {
                    url(v, bad);
                }),
                "{bad}"
            );
        }
        let long = format!("https://example.com/{}", "a".repeat(2048));
        assert!(fails(|v| {
            url(v, &long);
        }));
    }

    #[test]
    fn event_types_are_known_and_matched() {
        let mut v = Validator::default();
        let t = event_types(
            &mut v,
            &["key.created".into(), "key.created".into(), "*".into()],
        );
        assert_eq!(t, ["key.created", "*"]);
        assert!(v.finish().is_ok());
        assert!(fails(|v| {
            event_types(v, &[]);
        }));
        assert!(fails(|v| {
            event_types(v, &["key.*".into()]);
        }));
        assert!(subscribed(&["*".into()], "key.created"));
        assert!(subscribed(&["security.*".into()], "security.login_failed"));
        assert!(!subscribed(&["security.*".into()], "securityx.a"));
        assert!(!subscribed(&["key.created".into()], "key.revoked"));
    }

    #[test]
    fn headers_refuse_reserved_names_and_bad_values() {
        let mut v = Validator::default();
        let h = headers(
            &mut v,
            &BTreeMap::from([("X-Api-Token".to_string(), " abc ".to_string())]),
        );
        assert_eq!(h, BTreeMap::from([("x-api-token".into(), "abc".into())]));
        assert!(v.finish().is_ok());
        for (name, value) in [
            ("Connection", "close"),
            ("Transfer-Encoding", "chunked"),
            ("Webhook-Signature", "v1,x"),
            ("Proxy-Authorization", "x"),
            ("Host", "evil"),
            ("bad name", "x"),
            ("x-a", "line\r\nInjected: 1"),
            ("", "x"),
        ] {
            assert!(
                fails(|v| {
                    headers(v, &BTreeMap::from([(name.to_string(), value.to_string())]));
                }),
                "{name}"
            );
        }
    }
}
