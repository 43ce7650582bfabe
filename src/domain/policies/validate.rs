//! Input rules for a policy's fields; every problem is reported at once, per field. The
//! checks that need the database (does this API, user or key exist?) are in `mod.rs`.

use super::pattern::PathPattern;
use crate::app::policy_types::PolicyScope;
use crate::domain::traffic::spec::MAX_LIMIT;
use crate::error::Validator;
use ipnet::IpNet;
use std::net::IpAddr;

pub const MAX_NAME: usize = 100;
use crate::app::policy_types::METHODS;

/// A target as sent: JSON strings and numbers are both accepted (`"7"` or `7` for a user).
pub fn target_text(v: &mut Validator, value: Option<&serde_json::Value>) -> Option<String> {
    match value {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.trim().to_string()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(_) => {
            v.check(false, "body.target", "must be a string or a number");
            None
        }
    }
}

/// What a target names once checked: an API slug (looked up later), an id (looked up later for
/// users and keys) or a network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckedTarget {
    Every,
    Slug(String),
    Id(i64),
    Net(IpNet),
}

/// Checks `target` for `scope`.
pub fn target(v: &mut Validator, scope: PolicyScope, target: Option<&str>) -> CheckedTarget {
    const FIELD: &str = "body.target";
    let Some(text) = target.filter(|t| !t.is_empty()) else {
        return CheckedTarget::Every;
    };
    match scope {
        PolicyScope::Global => {
            v.check(false, FIELD, "must be empty for scope global");
            CheckedTarget::Every
        }
        PolicyScope::Api | PolicyScope::Endpoint => {
            let ok = crate::domain::apis::validate::is_slug(text);
            v.check(ok, FIELD, "must be the slug of a registered API");
            CheckedTarget::Slug(text.to_string())
        }
        PolicyScope::User | PolicyScope::Org | PolicyScope::Key => {
            match text.parse::<i64>().ok().filter(|id| *id > 0) {
                Some(id) => CheckedTarget::Id(id),
                None => {
                    v.check(false, FIELD, "must be a positive whole number (an id)");
                    CheckedTarget::Every
                }
            }
        }
        PolicyScope::Ip => match parse_net(text) {
            Some(net) => CheckedTarget::Net(net),
            None => {
                v.check(
                    false,
                    FIELD,
                    "must be an IP address or a CIDR range such as 203.0.113.0/24",
                );
                CheckedTarget::Every
            }
        },
    }
}

/// An address or a network, normalised (host bits cleared: `10.1.2.3/8` is `10.0.0.0/8`).
pub fn parse_net(text: &str) -> Option<IpNet> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(IpNet::from(ip));
    }
    text.parse::<IpNet>().ok().map(|n| n.trunc())
}

/// Checks a method and returns it in upper case.
pub fn method(v: &mut Validator, scope: PolicyScope, method: Option<&str>) -> Option<String> {
    let method = method.map(str::trim).filter(|m| !m.is_empty())?;
    let upper = method.to_ascii_uppercase();
    v.check(
        METHODS.contains(&upper.as_str()),
        "body.method",
        "must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
    );
    request_filter_allowed(v, scope, "body.method");
    Some(upper)
}

pub fn path_pattern(v: &mut Validator, scope: PolicyScope, text: Option<&str>) -> Option<String> {
    let text = text.map(str::trim).filter(|t| !t.is_empty())?;
    if let Err(why) = PathPattern::parse(text) {
        v.check(false, "body.path_pattern", why);
    }
    request_filter_allowed(v, scope, "body.path_pattern");
    Some(text.to_string())
}

/// Global and API policies count everything they match; narrowing them by method or path is
/// what an endpoint policy is for.
fn request_filter_allowed(v: &mut Validator, scope: PolicyScope, field: &str) {
    v.check(
        !matches!(scope, PolicyScope::Global | PolicyScope::Api),
        field,
        "is not used with scope global or api (use scope endpoint)",
    );
}

pub fn endpoint_filters(
    v: &mut Validator,
    scope: PolicyScope,
    method: Option<&str>,
    pattern: Option<&str>,
) {
    v.check(
        scope != PolicyScope::Endpoint || method.is_some() || pattern.is_some(),
        "body.path_pattern",
        "is required with scope endpoint, unless a method is given",
    );
}

pub fn numbers(v: &mut Validator, limit: u32, burst: u32) {
    v.check(
        (1..=MAX_LIMIT).contains(&limit),
        "body.limit",
        "must be between 1 and 1000000000",
    );
    v.check(
        burst <= MAX_LIMIT,
        "body.burst",
        "must be between 0 and 1000000000",
    );
}

/// Checks a name and returns it trimmed; blank means "make one up" (None).
pub fn name(v: &mut Validator, name: Option<&str>) -> Option<String> {
    let name = name.map(str::trim).filter(|n| !n.is_empty())?;
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
    Some(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(f: impl FnOnce(&mut Validator)) -> Vec<String> {
        let mut v = Validator::default();
        f(&mut v);
        match v.finish() {
            Ok(()) => vec![],
            Err(e) => e.errors.into_iter().map(|e| e.field).collect(),
        }
    }

    #[test]
    fn targets_per_scope() {
        let mut v = Validator::default();
        assert_eq!(
            target(&mut v, PolicyScope::Ip, Some("10.1.2.3/8")),
            CheckedTarget::Net("10.0.0.0/8".parse().unwrap())
        );
        assert_eq!(
            target(&mut v, PolicyScope::Ip, Some("2001:db8::1")),
            CheckedTarget::Net("2001:db8::1/128".parse().unwrap())
        );
        assert_eq!(
            target(&mut v, PolicyScope::User, Some("7")),
            CheckedTarget::Id(7)
        );
        assert_eq!(
            target(&mut v, PolicyScope::Api, Some("tickets")),
            CheckedTarget::Slug("tickets".into())
        );
        assert_eq!(target(&mut v, PolicyScope::Key, None), CheckedTarget::Every);
        assert!(v.finish().is_ok());
        for (scope, text) in [
            (PolicyScope::Global, "x"),
            (PolicyScope::User, "-1"),
            (PolicyScope::Key, "seven"),
            (PolicyScope::Ip, "10.0.0.300"),
            (PolicyScope::Api, "Not A Slug"),
        ] {
            assert_eq!(
                fields(|v| {
                    target(v, scope, Some(text));
                }),
                vec!["body.target"],
                "{scope:?} {text}"
            );
        }
    }

    #[test]
    fn request_filters_only_where_they_mean_something() {
        assert_eq!(
            fields(|v| {
                method(v, PolicyScope::Global, Some("post"));
                path_pattern(v, PolicyScope::Api, Some("/x"));
            }),
            vec!["body.method", "body.path_pattern"]
        );
        let mut v = Validator::default();
        assert_eq!(
            method(&mut v, PolicyScope::Ip, Some(" post ")),
            Some("POST".into())
        );
        assert!(v.finish().is_ok());
        assert_eq!(
            fields(|v| {
                method(v, PolicyScope::Ip, Some("BREW"));
            }),
            vec!["body.method"]
        );
        assert_eq!(
            fields(|v| endpoint_filters(v, PolicyScope::Endpoint, None, None)),
            vec!["body.path_pattern"]
        );
        assert!(
            fields(|v| endpoint_filters(v, PolicyScope::Endpoint, Some("GET"), None)).is_empty()
        );
    }

    #[test]
    fn target_values_may_be_strings_or_numbers() {
        let mut v = Validator::default();
        assert_eq!(
            target_text(&mut v, Some(&serde_json::json!(7))),
            Some("7".into())
        );
        assert_eq!(
            target_text(&mut v, Some(&serde_json::json!(" 10.0.0.1 "))),
            Some("10.0.0.1".into())
        );
        assert_eq!(target_text(&mut v, Some(&serde_json::Value::Null)), None);
        assert!(v.finish().is_ok());
        assert_eq!(
            fields(|v| {
                target_text(v, Some(&serde_json::json!([1])));
            }),
            vec!["body.target"]
        );
    }
}
