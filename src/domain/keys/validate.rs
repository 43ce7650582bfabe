//! Input rules for key fields; every problem is reported at once, per field.

use super::material::is_valid_prefix;
use crate::error::Validator;

pub const MAX_NAME: usize = 100;
pub const MAX_DESCRIPTION: usize = 1_000;
pub const MAX_SCOPES: usize = 100;
pub const MAX_TAGS: usize = 50;
pub const MAX_ALLOWLIST: usize = 100;
pub const MAX_ORIGINS: usize = 50;
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

pub fn name(v: &mut Validator, name: &str) {
    v.check(!name.trim().is_empty(), "body.name", "is required");
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
}

pub fn description(v: &mut Validator, text: &str) {
    v.check(
        text.chars().count() <= MAX_DESCRIPTION,
        "body.description",
        "must be at most 1000 characters",
    );
    v.check(
        !text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "body.description",
        "must not contain control characters",
    );
}

fn is_scope(s: &str) -> bool {
    (1..=100).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'_' | b'-' | b'*'))
}

fn is_tag(s: &str) -> bool {
    (1..=50).contains(&s.len())
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b':' | b'.' | b'_' | b'-')
        })
}

/// Sorted, without duplicates.
pub fn normalized(list: &[String]) -> Vec<String> {
    let mut out: Vec<String> = list.iter().map(|s| s.trim().to_string()).collect();
    out.sort();
    out.dedup();
    out
}

pub fn scopes(v: &mut Validator, scopes: &[String]) {
    v.check(
        scopes.len() <= MAX_SCOPES,
        "body.scopes",
        "must have at most 100 entries",
    );
    v.check(
        scopes.iter().all(|s| is_scope(s)),
        "body.scopes",
        "entries are 1-100 characters of letters, digits and : . _ - *",
    );
}

pub fn tags(v: &mut Validator, tags: &[String]) {
    v.check(
        tags.len() <= MAX_TAGS,
        "body.tags",
        "must have at most 50 entries",
    );
    v.check(
        tags.iter().all(|t| is_tag(t)),
        "body.tags",
        "entries are 1-50 characters of lowercase letters, digits and : . _ -",
    );
}

pub fn metadata(v: &mut Validator, value: &serde_json::Value) {
    v.check(value.is_object(), "body.metadata", "must be a JSON object");
    v.check(
        value.to_string().len() <= MAX_METADATA_BYTES,
        "body.metadata",
        "must be at most 16 KiB",
    );
}

/// Parses IPs and CIDR ranges, returning them normalised (`203.0.113.7` → `203.0.113.7/32`).
pub fn ip_allowlist(v: &mut Validator, entries: &[String]) -> Vec<String> {
    v.check(
        entries.len() <= MAX_ALLOWLIST,
        "body.ip_allowlist",
        "must have at most 100 entries",
    );
    let mut out = Vec::new();
    let mut ok = true;
    for e in entries {
        let e = e.trim();
        let net = e
            .parse::<ipnet::IpNet>()
            .ok()
            .or_else(|| e.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from));
        match net {
            Some(n) => out.push(n.trunc().to_string()),
            None => ok = false,
        }
    }
    v.check(
        ok,
        "body.ip_allowlist",
        "entries must be IPv4/IPv6 addresses or CIDR ranges",
    );
    normalized(&out)
}

fn is_origin(s: &str) -> bool {
    let Some(rest) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    else {
        return false;
    };
    !rest.is_empty()
        && rest.len() <= 253
        && !rest.contains('/')
        && rest.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'*')
        })
}

pub fn allowed_origins(v: &mut Validator, origins: &[String]) -> Vec<String> {
    v.check(
        origins.len() <= MAX_ORIGINS,
        "body.allowed_origins",
        "must have at most 50 entries",
    );
    let out: Vec<String> = origins
        .iter()
        .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
        .collect();
    v.check(
        out.iter().all(|o| is_origin(o)),
        "body.allowed_origins",
        "entries look like https://app.example.com (scheme and host, no path)",
    );
    normalized(&out)
}

pub fn prefix(v: &mut Validator, prefix: &str) {
    v.check(
        is_valid_prefix(prefix),
        "body.prefix",
        "must be 2-12 lowercase letters or digits",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(list: &[&str]) -> Vec<String> {
        list.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn allowlists_are_parsed_and_normalised() {
        let mut v = Validator::default();
        let out = ip_allowlist(
            &mut v,
            &s(&[
                "203.0.113.9/24",
                "198.51.100.7",
                "2001:db8::/32",
                "198.51.100.7",
            ]),
        );
        assert!(v.finish().is_ok());
        assert_eq!(
            out,
            s(&["198.51.100.7/32", "2001:db8::/32", "203.0.113.0/24"])
        );
        let mut v = Validator::default();
        ip_allowlist(&mut v, &s(&["300.1.1.1"]));
        assert!(v.finish().is_err());
    }

    #[test]
    fn origins_scopes_tags() {
        let mut v = Validator::default();
        let o = allowed_origins(
            &mut v,
            &s(&["https://App.example.com/", "http://localhost:8080"]),
        );
        assert!(v.finish().is_ok());
        assert_eq!(o, s(&["http://localhost:8080", "https://app.example.com"]));
        for bad in ["ftp://x", "https://x/path", "example.com", "https://"] {
            let mut v = Validator::default();
            allowed_origins(&mut v, &s(&[bad]));
            assert!(v.finish().is_err(), "{bad}");
        }
        assert!(
            is_scope("tickets:write") && is_scope("*") && !is_scope("a b") && !is_scope("\"x\"")
        );
        assert!(is_tag("mobile") && !is_tag("Mobile") && !is_tag("a\"b") && !is_tag(""));
    }
}
