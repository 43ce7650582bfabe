//! Input rules for an API's fields; every problem is reported at once, per field.

use crate::error::Validator;
use reqwest::Url;

pub const MAX_NAME: usize = 100;
pub const MAX_SLUG: usize = 40;
pub const MAX_UPSTREAM_URL: usize = 2_048;
pub const MIN_TIMEOUT_MS: i64 = 100;
pub const MAX_TIMEOUT_MS: i64 = 300_000;
pub const DEFAULT_TIMEOUT_MS: i64 = 30_000;

/// Checks a name and returns it trimmed.
pub fn name(v: &mut Validator, name: &str) -> String {
    let name = name.trim();
    v.check(!name.is_empty(), "body.name", "is required");
    v.check(
        name.chars().count() <= MAX_NAME,
        "body.name",
        "must be at most 100 characters",
    );
    v.check(
        !name.chars().any(char::is_control),
        "body.name",
        "must not contain control characters",
    );
    name.to_string()
}

/// `^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$`. The slug is a path segment of every gateway URL,
/// so it is kept to characters that never need escaping and never change under case folding.
pub fn is_slug(slug: &str) -> bool {
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = slug.as_bytes();
    (1..=MAX_SLUG).contains(&bytes.len())
        && bytes.iter().all(|b| alnum(b) || *b == b'-')
        && bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
}

pub fn slug(v: &mut Validator, slug: &str) {
    v.check(
        is_slug(slug),
        "body.slug",
        "must be 1-40 characters of a-z and 0-9, with hyphens only inside (such as tickets-v2)",
    );
}

/// Checks an upstream base URL and returns it normalised (lower-case scheme and host,
/// punycode, percent-encoded path), the form the gateway will call.
pub fn upstream_url(v: &mut Validator, text: &str) -> String {
    const FIELD: &str = "body.upstream_url";
    let text = text.trim();
    if text.is_empty() {
        v.check(false, FIELD, "is required");
        return String::new();
    }
    if text.len() > MAX_UPSTREAM_URL {
        v.check(false, FIELD, "must be at most 2048 characters");
        return String::new();
    }
    // The URL parser silently drops tabs and new lines inside a URL; refuse them instead of
    // storing something other than what was sent.
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        v.check(
            false,
            FIELD,
            "must not contain spaces or control characters",
        );
        return String::new();
    }
    let Ok(url) = Url::parse(text) else {
        v.check(
            false,
            FIELD,
            "must be an absolute URL such as https://api.example.com/v1",
        );
        return String::new();
    };
    v.check(
        matches!(url.scheme(), "http" | "https"),
        FIELD,
        "must use http or https",
    );
    v.check(
        url.host_str().is_some_and(|h| !h.is_empty()),
        FIELD,
        "must name a host",
    );
    // Credentials in a URL end up in logs and audit records; upstream auth belongs elsewhere.
    v.check(
        url.username().is_empty() && url.password().is_none(),
        FIELD,
        "must not contain a user name or password",
    );
    // The gateway appends the caller's path and query; a base with its own would be ambiguous.
    v.check(url.query().is_none(), FIELD, "must not have a query string");
    v.check(url.fragment().is_none(), FIELD, "must not have a fragment");
    let normalized = url.to_string();
    v.check(
        normalized.len() <= MAX_UPSTREAM_URL,
        FIELD,
        "must be at most 2048 characters",
    );
    normalized
}

pub fn timeout_ms(v: &mut Validator, ms: i64) {
    v.check(
        (MIN_TIMEOUT_MS..=MAX_TIMEOUT_MS).contains(&ms),
        "body.timeout_ms",
        "must be between 100 and 300000",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages a rule reported.
    fn problems(f: impl FnOnce(&mut Validator)) -> Vec<String> {
        let mut v = Validator::default();
        f(&mut v);
        match v.finish() {
            Ok(()) => vec![],
            Err(e) => e.errors.into_iter().map(|e| e.message).collect(),
        }
    }

    fn url_problems(text: &str) -> Vec<String> {
        problems(|v| {
            upstream_url(v, text);
        })
    }

    fn name_problems(text: &str) -> Vec<String> {
        problems(|v| {
            name(v, text);
        })
    }

    #[test]
    fn slugs() {
        for ok in ["a", "0", "tickets", "tickets-v2", "a-b-c", &"a".repeat(40)] {
            assert!(is_slug(ok), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "-",
            "Tickets",
            "tick ets",
            "tick_ets",
            "tick.ets",
            "tïckets",
            "a/b",
            &"a".repeat(41),
        ] {
            assert!(!is_slug(bad), "{bad}");
        }
    }

    #[test]
    fn upstream_urls() {
        let mut v = Validator::default();
        assert_eq!(
            upstream_url(&mut v, " HTTPS://API.Example.com/v1 "),
            "https://api.example.com/v1"
        );
        assert_eq!(
            upstream_url(&mut v, "http://127.0.0.1:8080"),
            "http://127.0.0.1:8080/"
        );
        assert!(v.finish().is_ok());
        for bad in [
            "",
            "api.example.com",
            "/relative",
            "ftp://files.example.com",
            "https://user:pass@api.example.com",
            "https://user@api.example.com",
            "https://api.example.com/?a=1",
            "https://api.example.com/?",
            "https://api.example.com/#top",
            "https://api.exa\tmple.com",
            "https://api.example.com/a b",
            "https://",
            "mailto:a@example.com",
            "javascript:alert(1)",
        ] {
            assert!(!url_problems(bad).is_empty(), "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(2048));
        assert_eq!(url_problems(&long), ["must be at most 2048 characters"]);
        assert_eq!(
            url_problems("ftp://user:pw@x.example/?q#f").len(),
            4,
            "every problem at once"
        );
    }

    #[test]
    fn names_and_timeouts() {
        let mut v = Validator::default();
        assert_eq!(name(&mut v, "  Tickets  "), "Tickets");
        assert_eq!(name(&mut v, &format!(" {} ", "n".repeat(100))).len(), 100);
        timeout_ms(&mut v, 100);
        timeout_ms(&mut v, 300_000);
        assert!(v.finish().is_ok());
        assert_eq!(name_problems("   "), ["is required"]);
        assert_eq!(name_problems("a\u{7}b").len(), 1);
        assert_eq!(name_problems(&"n".repeat(101)).len(), 1);
        assert_eq!(problems(|v| timeout_ms(v, 99)).len(), 1);
        assert_eq!(problems(|v| timeout_ms(v, 300_001)).len(), 1);
    }
}
