//! The /keys list's filters as they live in the URL: every field a plain string, so a shared
//! link, a saved filter and the "all matching" bulk selection all carry the same query string.

use serde::{Deserialize, Serialize};

/// `org` is "" (the active org, or everything when none is active), "all", or an org id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeyFilters {
    pub q: String,
    pub status: String,
    pub tag: String,
    pub scope: String,
    pub org: String,
    /// The owner's email address.
    pub owner: String,
    pub api: String,
    /// YYYY-MM-DD: created on or after that day.
    pub created_from: String,
    /// YYYY-MM-DD: created before that day.
    pub created_to: String,
    pub expires_within: String,
    /// YYYY-MM-DD: last used before that day (never used counts too).
    pub last_used_before: String,
    /// "true": only keys never used.
    pub never_used: String,
    pub sort: String,
    pub page: i64,
}

impl KeyFilters {
    /// The filters of a /keys URL query.
    pub fn from_params(query: &leptos_router::params::ParamsMap) -> Self {
        let get = |name: &str| query.get(name).unwrap_or_default();
        Self {
            q: get("q"),
            status: get("status"),
            tag: get("tag"),
            scope: get("scope"),
            org: get("org"),
            owner: get("owner"),
            api: get("api"),
            created_from: get("created_from"),
            created_to: get("created_to"),
            expires_within: get("expires_within"),
            last_used_before: get("last_used_before"),
            never_used: get("never_used"),
            sort: get("sort"),
            page: query
                .get("page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(1)
                .max(1),
        }
    }

    fn pairs(&self) -> [(&'static str, &str); 13] {
        [
            ("q", &self.q),
            ("status", &self.status),
            ("tag", &self.tag),
            ("scope", &self.scope),
            ("org", &self.org),
            ("owner", &self.owner),
            ("api", &self.api),
            ("created_from", &self.created_from),
            ("created_to", &self.created_to),
            ("expires_within", &self.expires_within),
            ("last_used_before", &self.last_used_before),
            ("never_used", &self.never_used),
            ("sort", &self.sort),
        ]
    }

    /// The non-empty filters as a query string (paging left out), e.g. `tag=mobile&org=3`.
    pub fn query_string(&self) -> String {
        let enc = |s: &str| crate::app::format::url_encode(s, false);
        self.pairs()
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| format!("{k}={}", enc(v.trim())))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Parses a query string made by `query_string` (or typed by hand); unknown names are
    /// ignored, so an old saved filter still opens.
    pub fn parse(query: &str) -> Self {
        let mut f = Self::default();
        for pair in query.trim_start_matches('?').split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = crate::app::format::url_decode(v);
            let slot = match k {
                "q" => &mut f.q,
                "status" => &mut f.status,
                "tag" => &mut f.tag,
                "scope" => &mut f.scope,
                "org" => &mut f.org,
                "owner" => &mut f.owner,
                "api" => &mut f.api,
                "created_from" => &mut f.created_from,
                "created_to" => &mut f.created_to,
                "expires_within" => &mut f.expires_within,
                "last_used_before" => &mut f.last_used_before,
                "never_used" => &mut f.never_used,
                "sort" => &mut f.sort,
                _ => continue,
            };
            *slot = v;
        }
        f.page = 1;
        f
    }

    /// Whether anything narrows the list (sorting and the org context do not count).
    pub fn narrows(&self) -> bool {
        self.pairs()
            .iter()
            .any(|(k, v)| !matches!(*k, "sort" | "org") && !v.trim().is_empty())
    }
}

/// An org as a choice in a select.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub id: i64,
    pub label: String,
}

/// A saved filter as the /keys page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedFilterLink {
    pub id: i64,
    pub name: String,
    pub query: String,
}

#[cfg(feature = "ssr")]
mod server {
    use super::KeyFilters;
    use crate::domain::keys::KeyListQuery;
    use crate::error::{AppResult, Validator};

    fn text(s: &str) -> Option<String> {
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_string())
    }

    fn id(v: &mut Validator, field: &str, s: &str) -> Option<i64> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        let n = s.parse::<i64>().ok().filter(|n| *n > 0);
        v.check(n.is_some(), field, "must be a positive whole number");
        n
    }

    fn date(s: &str) -> Option<String> {
        crate::app::server_fns::keys::date_to_rfc3339(s)
    }

    impl KeyFilters {
        /// The domain query these filters mean. `active_org` fills an empty `org`; the owner
        /// email is resolved by the caller (`owner_user_id`). Bad numbers are named.
        pub fn to_list_query(
            &self,
            active_org: Option<i64>,
            owner_user_id: Option<i64>,
        ) -> AppResult<KeyListQuery> {
            let mut v = Validator::default();
            let org_id = match self.org.trim() {
                "" => active_org,
                "all" => None,
                other => id(&mut v, "query.org", other),
            };
            let api_id = id(&mut v, "query.api", &self.api);
            let never_used = match self.never_used.trim() {
                "" | "false" => None,
                "true" | "1" | "on" => Some(true),
                _ => {
                    v.check(false, "query.never_used", "must be true or false");
                    None
                }
            };
            v.finish()?;
            Ok(KeyListQuery {
                page: Some(self.page.max(1)),
                per_page: None,
                status: text(&self.status),
                q: text(&self.q),
                scope: text(&self.scope),
                tag: text(&self.tag),
                org_id,
                created_from: text(&self.created_from),
                created_to: text(&self.created_to),
                expires_within: text(&self.expires_within),
                never_used,
                owner_user_id,
                api_id,
                expires_before: None,
                last_used_before: date(&self.last_used_before),
                sort: text(&self.sort),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_round_trip_and_skip_empty_fields() {
        let f = KeyFilters {
            tag: "mobile,web".into(),
            q: "a&b=c ü".into(),
            org: "3".into(),
            never_used: "true".into(),
            page: 4,
            ..Default::default()
        };
        let qs = f.query_string();
        assert!(!qs.contains("status="), "{qs}");
        assert!(!qs.contains("page"), "{qs}");
        let back = KeyFilters::parse(&qs);
        assert_eq!(back, KeyFilters { page: 1, ..f });
        assert_eq!(KeyFilters::default().query_string(), "");
    }

    #[test]
    fn unknown_and_malformed_pairs_are_ignored() {
        let f = KeyFilters::parse("?evil=1&tag&status=active&&=x");
        assert_eq!(f.status, "active");
        assert_eq!(f.tag, "");
    }

    #[test]
    fn sorting_and_org_do_not_count_as_narrowing() {
        let mut f = KeyFilters {
            sort: "name".into(),
            org: "2".into(),
            ..Default::default()
        };
        assert!(!f.narrows());
        f.scope = "read".into();
        assert!(f.narrows());
    }
}
