//! Endpoint patterns of rate-limit policies: `/tickets/{id}/comments`, `/tickets/*`,
//! `/reports/**`.
//!
//! A pattern is matched segment by segment against a request path (without its query):
//! a literal segment matches itself (case-sensitive), `*` or `{name}` matches exactly one
//! segment, and a final `**` matches whatever follows, including nothing. A trailing slash
//! is not significant on either side.

pub const MAX_PATTERN: usize = 200;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    One,
    Rest,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathPattern {
    segments: Vec<Segment>,
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.trim_matches('/').split('/').filter(|s| !s.is_empty())
}

impl PathPattern {
    /// Parses a pattern; the error says what is wrong, for a field message.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        if !text.starts_with('/') {
            return Err("must start with /");
        }
        if text.len() > MAX_PATTERN {
            return Err("must be at most 200 characters");
        }
        if text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '?' || c == '#')
        {
            return Err("must not contain spaces, control characters, ? or #");
        }
        let parts: Vec<&str> = segments(text).collect();
        let mut out = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let segment = match *part {
                "**" if i + 1 == parts.len() => Segment::Rest,
                "**" => return Err("may use ** only as the last segment"),
                "*" => Segment::One,
                p if p.starts_with('{') && p.ends_with('}') && p.len() > 2 => Segment::One,
                p if p.contains(['*', '{', '}']) => {
                    return Err("may use *, ** and {name} only as whole segments");
                }
                "." | ".." => return Err("must not contain . or .. segments"),
                p => Segment::Literal(p.to_string()),
            };
            out.push(segment);
        }
        Ok(PathPattern { segments: out })
    }

    pub fn matches(&self, path: &str) -> bool {
        let mut parts = segments(path);
        for segment in &self.segments {
            match segment {
                Segment::Rest => return true,
                Segment::One => {
                    if parts.next().is_none() {
                        return false;
                    }
                }
                Segment::Literal(lit) => {
                    if parts.next() != Some(lit.as_str()) {
                        return false;
                    }
                }
            }
        }
        parts.next().is_none()
    }
}

/// Splits a usage endpoint (`GET /tickets/7?x=1`) into method and path (query dropped). A bare
/// path has no method; anything else matches no pattern.
pub fn split_endpoint(endpoint: &str) -> (Option<&str>, Option<&str>) {
    let endpoint = endpoint.trim();
    let (method, rest) = match endpoint.split_once(' ') {
        Some((m, rest)) => (Some(m), rest.trim()),
        None if endpoint.starts_with('/') => (None, endpoint),
        None => (Some(endpoint).filter(|m| !m.is_empty()), ""),
    };
    let path = rest.split(['?', '#']).next().filter(|p| p.starts_with('/'));
    (method, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        PathPattern::parse(pattern).unwrap().matches(path)
    }

    #[test]
    fn literal_one_and_rest_segments() {
        assert!(m("/tickets", "/tickets"));
        assert!(m("/tickets", "/tickets/"));
        assert!(m("/tickets/", "/tickets"));
        assert!(!m("/tickets", "/tickets/7"));
        assert!(!m("/tickets", "/Tickets"));
        assert!(m("/tickets/{id}", "/tickets/7"));
        assert!(m("/tickets/*/comments", "/tickets/7/comments"));
        assert!(!m("/tickets/{id}", "/tickets"));
        assert!(!m("/tickets/{id}", "/tickets/7/comments"));
        assert!(m("/reports/**", "/reports"));
        assert!(m("/reports/**", "/reports/2026/11"));
        assert!(!m("/reports/**", "/report"));
        assert!(m("/**", "/"));
        assert!(m("/", "/"));
        assert!(!m("/", "/x"));
    }

    #[test]
    fn bad_patterns_say_why() {
        for (text, why) in [
            ("tickets", "must start with /"),
            ("/a/**/b", "may use ** only as the last segment"),
            ("/tick*", "may use *, ** and {name} only as whole segments"),
            (
                "/a b",
                "must not contain spaces, control characters, ? or #",
            ),
            (
                "/a?b=1",
                "must not contain spaces, control characters, ? or #",
            ),
            ("/a/../b", "must not contain . or .. segments"),
        ] {
            assert_eq!(PathPattern::parse(text), Err(why), "{text}");
        }
        assert!(PathPattern::parse(&format!("/{}", "a".repeat(200))).is_err());
    }

    #[test]
    fn endpoints_split_into_method_and_path() {
        assert_eq!(
            split_endpoint("GET /tickets/7?x=1"),
            (Some("GET"), Some("/tickets/7"))
        );
        assert_eq!(split_endpoint("/tickets"), (None, Some("/tickets")));
        assert_eq!(split_endpoint("POST"), (Some("POST"), None));
        assert_eq!(split_endpoint("GET tickets"), (Some("GET"), None));
        assert_eq!(split_endpoint(""), (None, None));
    }
}
