//! Verification: is this key good for this request, now? The checks run in the contract's
//! order. Checks that only read (revoked, expired, disabled, scopes, IP) come first as a
//! pure function; checks that consume (rate limits, quotas, credits, with traffic control)
//! will peek during the pipeline and commit only once every check has passed, so a refused
//! request never spends anything.

use super::cache::{KeyCache, Lookup};
use super::material;
use crate::db::{self, Db};
use crate::domain::crypto::Keys;
use crate::domain::db_failure;
use crate::error::AppResult;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// What verification needs to know of a key; held in memory.
#[derive(Clone, Debug, Default)]
pub struct KeyState {
    pub id: i64,
    pub owner_user_id: i64,
    pub org_id: Option<i64>,
    pub scopes: Vec<String>,
    pub ip_allowlist: Vec<IpNet>,
    pub enabled: bool,
    pub expires_ms: Option<i64>,
    /// Revoked from this instant on (in the future while a rotation's grace runs).
    pub revoked_ms: Option<i64>,
    pub rotated: bool,
    pub last_used_ms: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerifyCode {
    Valid,
    ApiKeyInvalid,
    ApiKeyRevoked,
    ApiKeyExpired,
    ApiKeyDisabled,
    RateLimitExceeded,
    QuotaExceeded,
    UsageExceeded,
    PermissionDenied,
    IpNotAllowed,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct VerifyRequest {
    #[schema(example = "kp_3xAmpLe0000000000000000000000000Ab12cD")]
    pub key: String,
    /// Every scope listed must be granted to the key (`*` and `name:*` grants match).
    #[serde(default)]
    #[schema(example = json!(["tickets:write"]))]
    pub scopes: Vec<String>,
    /// The endpoint being called, e.g. `GET /tickets` (recorded with usage).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The API consumer's IP; defaults to the caller's address.
    #[serde(default)]
    #[schema(example = "198.51.100.7")]
    pub ip: Option<String>,
    /// Credits this call costs (used with usage-limited keys).
    #[serde(default)]
    pub cost: Option<i64>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct VerifyResponse {
    pub valid: bool,
    pub code: VerifyCode,
    pub key_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub org_id: Option<i64>,
    pub scopes: Option<Vec<String>>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<time::OffsetDateTime>,
    /// True while a rotated key's grace period runs.
    pub rotated: bool,
    #[schema(value_type = Option<Object>)]
    pub ratelimit: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub quota: Option<serde_json::Value>,
    pub remaining: Option<i64>,
}

fn scope_granted(granted: &[String], wanted: &str) -> bool {
    granted.iter().any(|g| {
        g == "*"
            || g == wanted
            || g.strip_suffix('*')
                .is_some_and(|stem| stem.ends_with(':') && wanted.starts_with(stem))
    })
}

/// The read-only checks, in the contract's order. `ip` is the consumer's address, if known.
pub fn check(state: &KeyState, scopes: &[String], ip: Option<IpAddr>, now_ms: i64) -> VerifyCode {
    if state.revoked_ms.is_some_and(|t| t <= now_ms) {
        return VerifyCode::ApiKeyRevoked;
    }
    if state.expires_ms.is_some_and(|t| t <= now_ms) {
        return VerifyCode::ApiKeyExpired;
    }
    if !state.enabled {
        return VerifyCode::ApiKeyDisabled;
    }
    // (rate limits, quotas and credits slot in here, peeking; committed after the last check)
    if !scopes.iter().all(|s| scope_granted(&state.scopes, s)) {
        return VerifyCode::PermissionDenied;
    }
    if !state.ip_allowlist.is_empty()
        && !ip.is_some_and(|ip| state.ip_allowlist.iter().any(|net| net.contains(&ip)))
    {
        return VerifyCode::IpNotAllowed;
    }
    VerifyCode::Valid
}

pub fn state_from_row(row: &db::keys::KeyRow) -> KeyState {
    let scopes: Vec<String> = serde_json::from_str(&row.scopes).unwrap_or_default();
    let allow: Vec<String> = serde_json::from_str(&row.ip_allowlist).unwrap_or_default();
    KeyState {
        id: row.id,
        owner_user_id: row.owner_user_id,
        org_id: row.org_id,
        scopes,
        ip_allowlist: allow.iter().filter_map(|a| a.parse().ok()).collect(),
        enabled: row.enabled,
        expires_ms: row.expires_at,
        revoked_ms: row.revoked_at,
        rotated: row.rotated_to_id.is_some(),
        last_used_ms: row.last_used_at,
    }
}

pub fn key_hash(crypto: &Keys, plaintext: &str) -> [u8; 32] {
    crypto.token_mac(plaintext.as_bytes())
}

fn invalid(code: VerifyCode) -> VerifyResponse {
    VerifyResponse {
        valid: false,
        code,
        key_id: None,
        owner_user_id: None,
        org_id: None,
        scopes: None,
        expires_at: None,
        rotated: false,
        ratelimit: None,
        quota: None,
        remaining: None,
    }
}

/// Resolves a key's state: memory first, then (bounded) the database.
pub async fn resolve(
    db: &Db,
    crypto: &Keys,
    cache: &KeyCache,
    plaintext: &str,
) -> AppResult<Option<std::sync::Arc<super::cache::CachedKey>>> {
    if material::parse(plaintext).is_none() {
        return Ok(None);
    }
    let hash = key_hash(crypto, plaintext);
    match cache.lookup(&hash) {
        Lookup::Known(k) => return Ok(Some(k)),
        Lookup::Unknown => return Ok(None),
        Lookup::Miss => {}
    }
    let _permit = cache
        .miss_lookups
        .acquire()
        .await
        .map_err(|_| crate::error::AppError::internal())?;
    // Another request may have filled it while we waited.
    match cache.lookup(&hash) {
        Lookup::Known(k) => return Ok(Some(k)),
        Lookup::Unknown => return Ok(None),
        Lookup::Miss => {}
    }
    let epoch = cache.epoch();
    let row = db::keys::find_by_hash(db, &crate::domain::crypto::hex(&hash))
        .await
        .map_err(db_failure)?;
    Ok(cache.fill(hash, row.as_ref().map(state_from_row), epoch))
}

/// Verifies `req` at `now_ms`. `peer_ip` stands in when the request names no IP.
pub async fn verify_key(
    db: &Db,
    crypto: &Keys,
    cache: &KeyCache,
    req: &VerifyRequest,
    peer_ip: Option<IpAddr>,
    now_ms: i64,
) -> AppResult<VerifyResponse> {
    let Some(cached) = resolve(db, crypto, cache, &req.key).await? else {
        return Ok(invalid(VerifyCode::ApiKeyInvalid));
    };
    let state = &cached.state;
    let ip = match &req.ip {
        Some(text) => text.parse().ok(),
        None => peer_ip,
    };
    let code = check(state, &req.scopes, ip, now_ms);
    if code == VerifyCode::Valid {
        cached.mark_used(now_ms);
    }
    Ok(VerifyResponse {
        valid: code == VerifyCode::Valid,
        code,
        key_id: Some(state.id),
        owner_user_id: Some(state.owner_user_id),
        org_id: state.org_id,
        scopes: Some(state.scopes.clone()),
        expires_at: state.expires_ms.map(crate::domain::from_millis),
        rotated: state.rotated && state.revoked_ms.is_some_and(|t| t > now_ms),
        ratelimit: None,
        quota: None,
        remaining: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active() -> KeyState {
        KeyState {
            id: 1,
            enabled: true,
            scopes: vec!["read".into(), "tickets:*".into()],
            ..KeyState::default()
        }
    }

    fn s(list: &[&str]) -> Vec<String> {
        list.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn each_code_in_order() {
        let now = 1_000_000;
        assert_eq!(check(&active(), &[], None, now), VerifyCode::Valid);

        // expiry at the exact instant
        let mut k = active();
        k.expires_ms = Some(now + 1);
        assert_eq!(check(&k, &[], None, now), VerifyCode::Valid);
        k.expires_ms = Some(now);
        assert_eq!(check(&k, &[], None, now), VerifyCode::ApiKeyExpired);

        // revoked beats expired; a revocation in the future (rotation grace) is not yet one
        k.revoked_ms = Some(now + 10);
        k.expires_ms = None;
        assert_eq!(check(&k, &[], None, now), VerifyCode::Valid);
        k.revoked_ms = Some(now);
        k.expires_ms = Some(now - 5);
        assert_eq!(check(&k, &[], None, now), VerifyCode::ApiKeyRevoked);

        // expired beats disabled, disabled beats scopes
        let mut k = active();
        k.enabled = false;
        k.expires_ms = Some(now);
        assert_eq!(
            check(&k, &s(&["admin"]), None, now),
            VerifyCode::ApiKeyExpired
        );
        k.expires_ms = None;
        assert_eq!(
            check(&k, &s(&["admin"]), None, now),
            VerifyCode::ApiKeyDisabled
        );

        // scopes beat the IP rule
        let mut k = active();
        k.ip_allowlist = vec!["203.0.113.0/24".parse().unwrap()];
        assert_eq!(
            check(&k, &s(&["admin"]), Some("10.0.0.1".parse().unwrap()), now),
            VerifyCode::PermissionDenied
        );
        assert_eq!(
            check(&k, &s(&["read"]), Some("10.0.0.1".parse().unwrap()), now),
            VerifyCode::IpNotAllowed
        );
        assert_eq!(
            check(&k, &s(&["read"]), None, now),
            VerifyCode::IpNotAllowed
        );
        assert_eq!(
            check(
                &k,
                &s(&["read"]),
                Some("203.0.113.77".parse().unwrap()),
                now
            ),
            VerifyCode::Valid
        );
    }

    #[test]
    fn ipv6_allowlists() {
        let mut k = active();
        k.ip_allowlist = vec!["2001:db8::/32".parse().unwrap()];
        assert_eq!(
            check(&k, &[], Some("2001:db8::1".parse().unwrap()), 0),
            VerifyCode::Valid
        );
        assert_eq!(
            check(&k, &[], Some("2001:db9::1".parse().unwrap()), 0),
            VerifyCode::IpNotAllowed
        );
    }

    #[test]
    fn scope_wildcards() {
        let granted = s(&["read", "tickets:*"]);
        assert!(scope_granted(&granted, "read"));
        assert!(scope_granted(&granted, "tickets:write"));
        assert!(!scope_granted(&granted, "tickets"));
        assert!(!scope_granted(&granted, "write"));
        assert!(
            !scope_granted(&s(&["tick*"]), "tickets:write"),
            "only `name:*` stems are wildcards"
        );
        assert!(scope_granted(&s(&["*"]), "anything:at:all"));
    }
}
