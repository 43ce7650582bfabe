//! The enabled policies, compiled for matching, and which of them count a request.
//!
//! Held in memory and replaced whole after every change (and every few seconds, to pick up
//! changes made by another instance), so verification never reads policies from the database.

use super::pattern::{PathPattern, split_endpoint};
use super::validate::parse_net;
use crate::app::limit_types::Window;
use crate::app::policy_types::PolicyScope;
use crate::db::{self, Db, rate_limit_policies::PolicyRow};
use crate::domain::db_failure;
use crate::domain::traffic::gcra::Rate;
use crate::domain::traffic::shared::{SharedBuckets, SharedLimit, Subject};
use crate::error::AppResult;
use ipnet::IpNet;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    Every,
    Id(i64),
    Net(IpNet),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompiledPolicy {
    id: i64,
    scope: PolicyScope,
    target: Target,
    method: Option<String>,
    pattern: Option<PathPattern>,
    rate: Rate,
}

impl CompiledPolicy {
    /// None for a row this version cannot read (logged; never stored by this version).
    pub fn from_row(row: &PolicyRow) -> Option<Self> {
        let scope = PolicyScope::parse(&row.scope)?;
        let target = match (scope, row.api_id, row.target.as_deref()) {
            (PolicyScope::Api | PolicyScope::Endpoint, Some(api), _) => Target::Id(api),
            (PolicyScope::Ip, _, Some(text)) => Target::Net(parse_net(text)?),
            (PolicyScope::User | PolicyScope::Org | PolicyScope::Key, _, Some(text)) => {
                Target::Id(text.parse().ok()?)
            }
            _ => Target::Every,
        };
        let pattern = match row.path_pattern.as_deref() {
            Some(text) => Some(PathPattern::parse(text).ok()?),
            None => None,
        };
        Some(CompiledPolicy {
            id: row.id,
            scope,
            target,
            method: row.method.clone(),
            pattern,
            rate: Rate {
                limit: u32::try_from(row.request_limit).ok()?,
                window: Window::parse(&row.window_unit)?,
                burst: u32::try_from(row.burst).ok()?,
            },
        })
    }

    /// The bucket this policy counts `req` in, if it counts it at all.
    fn subject(&self, req: &RequestFacts<'_>) -> Option<Subject> {
        let id_matches = |id: i64| match self.target {
            Target::Every => true,
            Target::Id(t) => t == id,
            Target::Net(_) => false,
        };
        let id_subject = |id: i64| id_matches(id).then_some(Subject::Id(id));
        let subject = match self.scope {
            PolicyScope::Global => Subject::Shared,
            PolicyScope::Api => {
                let api = req.api_id.filter(|a| id_matches(*a))?;
                Subject::Id(api)
            }
            PolicyScope::Endpoint => {
                if self.target != Target::Every && !req.api_id.is_some_and(id_matches) {
                    return None;
                }
                Subject::Shared
            }
            PolicyScope::User => id_subject(req.user_id)?,
            PolicyScope::Org => id_subject(req.org_id?)?,
            PolicyScope::Key => id_subject(req.key_id)?,
            PolicyScope::Ip => {
                let ip = req.ip?.to_canonical();
                if let Target::Net(net) = &self.target
                    && !net.contains(&ip)
                {
                    return None;
                }
                Subject::ip(ip)
            }
        };
        let (method, path) = req.endpoint.map(split_endpoint).unwrap_or((None, None));
        if let Some(want) = &self.method
            && !method.is_some_and(|m| m.eq_ignore_ascii_case(want))
        {
            return None;
        }
        if let Some(pattern) = &self.pattern
            && !path.is_some_and(|p| pattern.matches(p))
        {
            return None;
        }
        Some(subject)
    }
}

/// What policies match on: who is calling what, from where.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestFacts<'a> {
    /// The API called through the gateway (verification calls name none).
    pub api_id: Option<i64>,
    /// `METHOD /path`, as in usage events.
    pub endpoint: Option<&'a str>,
    pub user_id: i64,
    pub org_id: Option<i64>,
    pub key_id: i64,
    pub ip: Option<IpAddr>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicySet {
    policies: Vec<CompiledPolicy>,
}

impl PolicySet {
    pub fn from_rows(rows: &[PolicyRow]) -> Self {
        let policies = rows
            .iter()
            .filter(|r| r.enabled)
            .filter_map(|row| {
                let compiled = CompiledPolicy::from_row(row);
                if compiled.is_none() {
                    tracing::warn!(policy_id = row.id, "rate-limit policy unreadable; skipped");
                }
                compiled
            })
            .collect();
        PolicySet { policies }
    }

    pub fn len(&self) -> usize {
        self.policies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// The policy limits `req` is counted in.
    pub fn limits_for(&self, req: &RequestFacts<'_>) -> Vec<SharedLimit> {
        self.policies
            .iter()
            .filter_map(|p| {
                p.subject(req).map(|subject| SharedLimit {
                    policy_id: p.id,
                    subject,
                    rate: p.rate,
                    penalized: p.scope.per_subject(),
                })
            })
            .collect()
    }
}

/// This instance's policies and their buckets.
#[derive(Debug, Default)]
pub struct PolicyRegistry {
    set: RwLock<Arc<PolicySet>>,
    /// False while there are no policies: verification then skips all of this.
    any: AtomicBool,
    /// Reloads one at a time, so an older read never replaces a newer one.
    reloading: tokio::sync::Mutex<()>,
    pub buckets: SharedBuckets,
}

impl PolicyRegistry {
    /// The policies in force; None when there are none.
    pub fn current(&self) -> Option<Arc<PolicySet>> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        self.set.read().ok().map(|s| s.clone())
    }

    /// Reads the enabled policies again; returns how many are in force.
    pub async fn reload(&self, db: &Db) -> AppResult<usize> {
        let _one_at_a_time = self.reloading.lock().await;
        let rows = db::rate_limit_policies::enabled(db)
            .await
            .map_err(db_failure)?;
        let set = PolicySet::from_rows(&rows);
        let n = set.len();
        if let Ok(mut current) = self.set.write() {
            if **current != set {
                *current = Arc::new(set);
            }
            self.any.store(n > 0, Ordering::Release);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, scope: &str, target: Option<&str>, api_id: Option<i64>) -> PolicyRow {
        PolicyRow {
            id,
            name: format!("p{id}"),
            scope: scope.into(),
            target: target.map(Into::into),
            api_id,
            api_slug: None,
            method: None,
            path_pattern: None,
            request_limit: 10,
            window_unit: "minute".into(),
            burst: 0,
            enabled: true,
            created_by: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn facts() -> RequestFacts<'static> {
        RequestFacts {
            api_id: Some(3),
            endpoint: Some("POST /tickets/9/comments"),
            user_id: 7,
            org_id: None,
            key_id: 11,
            ip: Some("198.51.100.7".parse().unwrap()),
        }
    }

    fn subjects(rows: &[PolicyRow], req: &RequestFacts<'_>) -> Vec<(i64, Subject)> {
        PolicySet::from_rows(rows)
            .limits_for(req)
            .into_iter()
            .map(|l| (l.policy_id, l.subject))
            .collect()
    }

    #[test]
    fn each_scope_counts_its_subject() {
        let ip: IpAddr = "198.51.100.7".parse().unwrap();
        let rows = [
            row(1, "global", None, None),
            row(2, "api", None, None),
            row(3, "api", None, Some(4)),
            row(4, "user", None, None),
            row(5, "user", Some("8"), None),
            row(6, "org", None, None),
            row(7, "ip", Some("198.51.100.0/24"), None),
            row(8, "ip", Some("10.0.0.0/8"), None),
            row(9, "key", Some("11"), None),
        ];
        assert_eq!(
            subjects(&rows, &facts()),
            vec![
                (1, Subject::Shared),
                (2, Subject::Id(3)),
                (4, Subject::Id(7)),
                (7, Subject::Ip(ip)),
                (9, Subject::Id(11)),
            ]
        );
        // a verification names no API; a key with an org meets org policies
        let plain = RequestFacts {
            api_id: None,
            org_id: Some(5),
            ..facts()
        };
        assert_eq!(
            subjects(&rows[..6], &plain),
            vec![
                (1, Subject::Shared),
                (4, Subject::Id(7)),
                (6, Subject::Id(5))
            ]
        );
    }

    #[test]
    fn endpoint_filters_method_and_path() {
        let mut by_path = row(1, "endpoint", None, None);
        by_path.path_pattern = Some("/tickets/{id}/comments".into());
        let mut by_method = row(2, "ip", None, None);
        by_method.method = Some("GET".into());
        let mut on_other_api = row(3, "endpoint", None, Some(99));
        on_other_api.method = Some("POST".into());
        let mut disabled = row(4, "global", None, None);
        disabled.enabled = false;
        let rows = [by_path, by_method, on_other_api, disabled];
        assert_eq!(subjects(&rows, &facts()), vec![(1, Subject::Shared)]);
        let no_endpoint = RequestFacts {
            endpoint: None,
            ..facts()
        };
        assert!(subjects(&rows, &no_endpoint).is_empty());
    }

    #[test]
    fn per_subject_scopes_are_penalized() {
        let set = PolicySet::from_rows(&[row(1, "global", None, None), row(2, "ip", None, None)]);
        let limits = set.limits_for(&facts());
        assert_eq!(
            limits.iter().map(|l| l.penalized).collect::<Vec<_>>(),
            vec![false, true]
        );
    }
}
