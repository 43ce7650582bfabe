//! Naming templates such as `{team}-{env}-{date}`: parsed when a key template is saved,
//! rendered when a key is created from it. Pure functions; time and the counter are inputs.

use crate::domain::Timestamp;
use crate::error::FieldError;
use std::collections::BTreeMap;

/// Placeholders the server fills: `{date}` (YYYYMMDD), `{datetime}` (YYYYMMDDTHHMMSSZ), `{user}`
/// (the creator's name as a slug), `{email_local}` (before the @), `{seq}` (the template's
/// counter: 1, 2, …). Any other lowercase name is a variable the caller sends in `name_vars`.
pub const BUILTINS: [&str; 5] = ["date", "datetime", "user", "email_local", "seq"];
pub const MAX_TEMPLATE: usize = 100;
pub const MAX_PLACEHOLDERS: usize = 10;
pub const MAX_VAR_VALUE: usize = 40;
pub const MAX_VARS: usize = 20;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Text(String),
    Placeholder(String),
}

/// A variable's name: a lowercase letter, then lowercase letters, digits or `_` (≤ 32).
pub fn is_var_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && s.len() <= 32
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Splits a template into text and placeholders; `{{` and `}}` stand for literal braces.
/// The error is a sentence for the `name_template` field.
pub fn parse(template: &str) -> Result<Vec<Part>, String> {
    if template.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if template.chars().count() > MAX_TEMPLATE {
        return Err(format!("must be at most {MAX_TEMPLATE} characters"));
    }
    if template.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut name = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    name.push(c);
                }
                if !closed {
                    return Err("has a { without its closing }".into());
                }
                if !is_var_name(&name) {
                    return Err(format!(
                        "has an unknown placeholder {{{}}}: use date, datetime, user, email_local, seq, or a variable of lowercase letters, digits and _",
                        name.chars().take(32).collect::<String>()
                    ));
                }
                if !text.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut text)));
                }
                parts.push(Part::Placeholder(name));
            }
            '}' => return Err("has a } without its opening { (write }} for a brace)".into()),
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    let placeholders = parts
        .iter()
        .filter(|p| matches!(p, Part::Placeholder(_)))
        .count();
    if placeholders > MAX_PLACEHOLDERS {
        return Err(format!("must have at most {MAX_PLACEHOLDERS} placeholders"));
    }
    Ok(parts)
}

/// The variables a caller must send (sorted, once each).
pub fn free_vars(parts: &[Part]) -> Vec<String> {
    let mut out: Vec<String> = parts
        .iter()
        .filter_map(|p| match p {
            Part::Placeholder(n) if !BUILTINS.contains(&n.as_str()) => Some(n.clone()),
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

pub fn uses_seq(parts: &[Part]) -> bool {
    parts
        .iter()
        .any(|p| matches!(p, Part::Placeholder(n) if n == "seq"))
}

/// `Ada Lovelace` → `ada-lovelace`: lowercase ASCII letters and digits, runs of anything else
/// as one `-`, at most 30 characters; `user` when nothing is left.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out: String = out.chars().take(30).collect();
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() { "user".into() } else { out }
}

/// What a name is made of besides the template.
pub struct NameContext<'a> {
    pub now: Timestamp,
    pub user_name: &'a str,
    pub email: &'a str,
    /// The template's next counter value (taken only when the template uses `{seq}`).
    pub seq: Option<i64>,
    pub vars: &'a BTreeMap<String, String>,
}

fn var_error(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// Checks the caller's `name_vars` against the template's variables: every variable sent,
/// nothing else, values 1-40 characters without control characters or braces.
pub fn check_vars(parts: &[Part], vars: &BTreeMap<String, String>) -> Vec<FieldError> {
    let wanted = free_vars(parts);
    let mut errors = Vec::new();
    if vars.len() > MAX_VARS {
        errors.push(var_error(
            "body.name_vars",
            "must have at most 20 variables",
        ));
        return errors;
    }
    for name in &wanted {
        match vars.get(name) {
            None => errors.push(var_error(
                &format!("body.name_vars.{name}"),
                "is required by the template's naming template",
            )),
            Some(value) => {
                let ok = !value.trim().is_empty()
                    && value.chars().count() <= MAX_VAR_VALUE
                    && !value
                        .chars()
                        .any(|c| c.is_control() || c == '{' || c == '}');
                if !ok {
                    errors.push(var_error(
                        &format!("body.name_vars.{name}"),
                        "must be 1-40 characters without control characters or braces",
                    ));
                }
            }
        }
    }
    for name in vars.keys() {
        if !wanted.contains(name) {
            // Only a well-formed name is echoed into the field path.
            let field = if is_var_name(name) {
                format!("body.name_vars.{name}")
            } else {
                "body.name_vars".into()
            };
            errors.push(var_error(
                &field,
                "is not a variable of the template's naming template",
            ));
        }
    }
    errors
}

/// The name, once `check_vars` passed. The result still goes through the usual name rules.
pub fn render(parts: &[Part], ctx: &NameContext<'_>) -> String {
    let d = ctx.now.to_offset(time::UtcOffset::UTC);
    let date = format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day());
    let mut out = String::new();
    for part in parts {
        match part {
            Part::Text(t) => out.push_str(t),
            Part::Placeholder(n) => match n.as_str() {
                "date" => out.push_str(&date),
                "datetime" => out.push_str(&format!(
                    "{date}T{:02}{:02}{:02}Z",
                    d.hour(),
                    d.minute(),
                    d.second()
                )),
                "user" => out.push_str(&slug(ctx.user_name)),
                "email_local" => out.push_str(ctx.email.split('@').next().unwrap_or_default()),
                "seq" => out.push_str(&ctx.seq.unwrap_or(0).to_string()),
                other => out.push_str(ctx.vars.get(other).map_or("", |v| v.trim())),
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(list: &[(&str, &str)]) -> BTreeMap<String, String> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_text_placeholders_and_escaped_braces() {
        let parts = parse("{team}-{env}-{date} {{x}}").unwrap();
        assert_eq!(
            parts,
            vec![
                Part::Placeholder("team".into()),
                Part::Text("-".into()),
                Part::Placeholder("env".into()),
                Part::Text("-".into()),
                Part::Placeholder("date".into()),
                Part::Text(" {x}".into()),
            ]
        );
        assert_eq!(free_vars(&parts), ["env", "team"]);
        assert!(!uses_seq(&parts));
        assert!(uses_seq(&parse("ci-{seq}").unwrap()));
    }

    #[test]
    fn refuses_malformed_templates() {
        for bad in [
            "",
            "  ",
            "{Team}",
            "{}",
            "{team",
            "team}",
            "{a b}",
            "{9lives}",
            "x\u{7}",
            &"a".repeat(101),
            &"{a}".repeat(11),
            "{team-name}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert!(parse("{a}").is_ok() && parse("plain name").is_ok());
        let e = parse("{Team}").unwrap_err();
        assert!(e.contains("unknown placeholder {Team}"), "{e}");
    }

    #[test]
    fn renders_builtins_and_vars() {
        let parts = parse("{team}-{env}-{date}/{datetime}/{user}/{email_local}/{seq}").unwrap();
        let v = vars(&[("team", "core"), ("env", " prod ")]);
        let ctx = NameContext {
            now: time::macros::datetime!(2026-12-05 07:08:09 UTC),
            user_name: "Ada  Lovelace!",
            email: "ada.l@example.com",
            seq: Some(42),
            vars: &v,
        };
        assert!(check_vars(&parts, &v).is_empty());
        assert_eq!(
            render(&parts, &ctx),
            "core-prod-20261205/20261205T070809Z/ada-lovelace/ada.l/42"
        );
    }

    #[test]
    fn vars_missing_unknown_or_hostile_are_field_errors() {
        let parts = parse("{team}-{env}").unwrap();
        let fields = |v: &BTreeMap<String, String>| -> Vec<String> {
            check_vars(&parts, v).into_iter().map(|e| e.field).collect()
        };
        assert_eq!(fields(&vars(&[("team", "core")])), ["body.name_vars.env"]);
        assert_eq!(
            fields(&vars(&[("team", "a"), ("env", "b"), ("extra", "c")])),
            ["body.name_vars.extra"]
        );
        assert_eq!(
            fields(&vars(&[("team", "a"), ("env", "b"), ("<script>", "c")])),
            ["body.name_vars"]
        );
        assert_eq!(
            fields(&vars(&[("team", "{x}"), ("env", "\u{0}")])),
            ["body.name_vars.env", "body.name_vars.team"]
        );
        assert_eq!(
            fields(&vars(&[("team", &"x".repeat(41)), ("env", " ")])),
            ["body.name_vars.env", "body.name_vars.team"]
        );
        // A builtin cannot be overridden by a variable.
        assert_eq!(
            fields(&vars(&[("team", "a"), ("env", "b"), ("date", "c")])),
            ["body.name_vars.date"]
        );
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Ada Lovelace"), "ada-lovelace");
        assert_eq!(slug("  Zoë—O'Brien  "), "zo-o-brien");
        assert_eq!(slug("!!!"), "user");
        assert_eq!(slug(&"ab ".repeat(40)).len(), 29);
    }
}
