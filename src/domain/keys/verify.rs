//! Verification: is this key good for this request, now? The checks run in the contract's
//! order: revoked, expired, disabled, rate limits, quota, credits, scopes, IP. The read-only
//! checks are pure functions; the consuming ones (traffic control) peek first and spend only
//! once every check, the read-only ones after them included, has passed, so a refused
//! request never spends anything.

use super::KeyContext;
use super::cache::{KeyCache, Lookup};
use super::material;
use crate::db::{self, Db};
use crate::domain::crypto::Keys;
use crate::domain::db_failure;
use crate::domain::policies::set::RequestFacts;
use crate::domain::traffic::engine::{RateReport, Refusal, TrafficConfig, Verdict};
use crate::domain::traffic::penalty::Escalation;
use crate::domain::traffic::shared::{SharedCharge, Subject, SubjectEscalation};
use crate::domain::traffic::table::Charge;
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
    pub traffic: TrafficConfig,
    /// The one API the key may call through the gateway, if bound to one.
    pub api_id: Option<i64>,
    /// Browser origins allowed to use the key; empty: any.
    pub allowed_origins: Vec<String>,
    /// The owner's account is suspended: the key answers API_KEY_DISABLED (OWNER_SUSPENDED).
    pub owner_suspended: bool,
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
    /// Gateway calls only: the browser origin is not among the key's allowed origins.
    OriginNotAllowed,
}

impl VerifyCode {
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyCode::Valid => "VALID",
            VerifyCode::ApiKeyInvalid => "API_KEY_INVALID",
            VerifyCode::ApiKeyRevoked => "API_KEY_REVOKED",
            VerifyCode::ApiKeyExpired => "API_KEY_EXPIRED",
            VerifyCode::ApiKeyDisabled => "API_KEY_DISABLED",
            VerifyCode::RateLimitExceeded => "RATE_LIMIT_EXCEEDED",
            VerifyCode::QuotaExceeded => "QUOTA_EXCEEDED",
            VerifyCode::UsageExceeded => "USAGE_EXCEEDED",
            VerifyCode::PermissionDenied => "PERMISSION_DENIED",
            VerifyCode::IpNotAllowed => "IP_NOT_ALLOWED",
            VerifyCode::OriginNotAllowed => "ORIGIN_NOT_ALLOWED",
        }
    }
}

/// What a gateway call adds to a verification: the API called and the browser origin.
#[derive(Clone, Copy, Debug, Default)]
pub struct Call<'a> {
    pub api: Option<&'a crate::domain::apis::directory::ApiRoute>,
    pub origin: Option<&'a str>,
}

/// The key's binding to an API and its browser origins, checked after scopes and IP.
fn check_call(state: &KeyState, call: &Call<'_>) -> VerifyCode {
    if let (Some(bound), Some(api)) = (state.api_id, call.api)
        && bound != api.id
    {
        return VerifyCode::PermissionDenied;
    }
    if let Some(origin) = call.origin
        && !state.allowed_origins.is_empty()
        && !state.allowed_origins.iter().any(|o| o == origin)
    {
        return VerifyCode::OriginNotAllowed;
    }
    VerifyCode::Valid
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
    /// The key's tightest rate limit after this request (null without limits).
    pub ratelimit: Option<RateLimitInfo>,
    /// The key's quota after this request (null without one).
    pub quota: Option<QuotaInfo>,
    /// Credits left after this request (null when the key is not usage-limited).
    pub remaining: Option<i64>,
    /// Seconds to wait before trying again, with RATE_LIMIT_EXCEEDED and QUOTA_EXCEEDED.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<i64>,
    /// Why, when the code alone does not say: `OWNER_SUSPENDED` with API_KEY_DISABLED.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "OWNER_SUSPENDED")]
    pub reason: Option<&'static str>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RateLimitInfo {
    /// The limit's name among the key's limits.
    #[schema(example = "default")]
    pub name: String,
    #[schema(example = 100)]
    pub limit: u32,
    #[schema(example = 42)]
    pub remaining: u64,
    /// When the limit is full again, epoch seconds.
    #[schema(example = 1735689600)]
    pub reset: i64,
    /// The window, in seconds.
    #[schema(example = 60)]
    pub window: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct QuotaInfo {
    #[schema(example = 10000)]
    pub limit: i64,
    #[schema(example = 9000)]
    pub remaining: i64,
    /// When the period ends, epoch seconds.
    #[schema(example = 1735689600)]
    pub reset: i64,
}

fn epoch_seconds_up(ms: i64) -> i64 {
    ms.div_euclid(1000) + i64::from(ms.rem_euclid(1000) != 0)
}

impl From<&RateReport> for RateLimitInfo {
    fn from(r: &RateReport) -> Self {
        RateLimitInfo {
            name: r.name.clone(),
            limit: r.limit,
            remaining: r.remaining,
            reset: epoch_seconds_up(r.reset_ms),
            window: r.window_seconds,
        }
    }
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
    match check_status(state, now_ms) {
        VerifyCode::Valid => check_access(state, scopes, ip),
        refused => refused,
    }
}

/// The checks before traffic control: is the key in force at all?
pub fn check_status(state: &KeyState, now_ms: i64) -> VerifyCode {
    if state.revoked_ms.is_some_and(|t| t <= now_ms) {
        return VerifyCode::ApiKeyRevoked;
    }
    if state.expires_ms.is_some_and(|t| t <= now_ms) {
        return VerifyCode::ApiKeyExpired;
    }
    if !state.enabled || state.owner_suspended {
        return VerifyCode::ApiKeyDisabled;
    }
    VerifyCode::Valid
}

/// The checks after traffic control: may it do this, from there?
pub fn check_access(state: &KeyState, scopes: &[String], ip: Option<IpAddr>) -> VerifyCode {
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
        traffic: crate::domain::traffic::settings::config_of(&row.traffic),
        api_id: row.api_id,
        allowed_origins: serde_json::from_str(&row.allowed_origins).unwrap_or_default(),
        owner_suspended: false,
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
        retry_after: None,
        reason: None,
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
    let mut state = row.as_ref().map(state_from_row);
    if let Some(s) = state.as_mut() {
        // Suspending or reactivating the owner forgets their keys, so this stays current.
        s.owner_suspended = db::admin_users::is_suspended(db, s.owner_user_id)
            .await
            .map_err(db_failure)?;
    }
    Ok(cache.fill(hash, state, epoch))
}

/// What a verification decided, with what the usage record and the security log need.
#[derive(Clone, Debug)]
pub struct Verification {
    pub response: VerifyResponse,
    /// A rate-limit penalty this request raised, already recorded as a security event.
    pub escalation: Option<Escalation>,
}

/// Verifies `req` at `now_ms`. `peer_ip` stands in when the request names no IP.
pub async fn verify_key(
    ctx: &KeyContext<'_>,
    req: &VerifyRequest,
    peer_ip: Option<IpAddr>,
    now_ms: i64,
) -> AppResult<Verification> {
    verify_call(ctx, req, peer_ip, now_ms, &Call::default()).await
}

/// `verify_key` for a call through the gateway: the key must be good for that API and
/// origin, and a key without limits of its own gets the API's default limits.
pub async fn verify_call(
    ctx: &KeyContext<'_>,
    req: &VerifyRequest,
    peer_ip: Option<IpAddr>,
    now_ms: i64,
    call: &Call<'_>,
) -> AppResult<Verification> {
    let Some(cached) = resolve(ctx.db, ctx.crypto, ctx.cache, &req.key).await? else {
        return Ok(Verification {
            response: invalid(VerifyCode::ApiKeyInvalid),
            escalation: None,
        });
    };
    let state = &cached.state;
    // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d: allowlists and policies
    // know it by its IPv4 address.
    let ip = match &req.ip {
        Some(text) => text.parse().ok(),
        None => peer_ip,
    }
    .map(|ip: IpAddr| ip.to_canonical());
    let mut code = check_status(state, now_ms);
    let access = match check_access(state, &req.scopes, ip) {
        VerifyCode::Valid => check_call(state, call),
        refused => refused,
    };
    let api_defaults;
    let traffic = match call.api {
        Some(api) if state.traffic.rates.is_empty() && !api.default_rates.is_empty() => {
            api_defaults = TrafficConfig {
                rates: api.default_rates.clone(),
                ..state.traffic.clone()
            };
            &api_defaults
        }
        _ => &state.traffic,
    };
    let mut verdict = Verdict::default();
    if code == VerifyCode::Valid {
        code = access;
        let policy_limits = match ctx.policies.current() {
            Some(set) => set.limits_for(&RequestFacts {
                api_id: call.api.map(|a| a.id),
                endpoint: req.endpoint.as_deref(),
                user_id: state.owner_user_id,
                org_id: state.org_id,
                key_id: state.id,
                ip,
            }),
            None => Vec::new(),
        };
        if !traffic.is_empty() || !policy_limits.is_empty() {
            let cost = req.cost.unwrap_or(1);
            let shared = SharedCharge {
                buckets: &ctx.policies.buckets,
                limits: &policy_limits,
            };
            let charge = Charge {
                cfg: traffic,
                shared,
                cost,
                later_check_fails: access != VerifyCode::Valid,
            };
            verdict = ctx
                .traffic
                .decide(ctx.db, state.id, &charge, now_ms)
                .await?;
            code = match verdict.refused {
                None => VerifyCode::Valid,
                Some(Refusal::RateLimited { .. }) => VerifyCode::RateLimitExceeded,
                Some(Refusal::QuotaExceeded { .. }) => VerifyCode::QuotaExceeded,
                Some(Refusal::UsageExceeded) => VerifyCode::UsageExceeded,
                Some(Refusal::LaterCheck) => access,
            };
        }
    }
    if code == VerifyCode::Valid {
        cached.mark_used(now_ms);
    }
    if let Some(e) = verdict.escalation {
        record_escalation(ctx.db, state, e, ip, now_ms).await;
    }
    for raised in &verdict.subject_escalations {
        record_subject_escalation(ctx.db, state, raised, ip, now_ms).await;
    }
    let retry_after = match verdict.refused {
        Some(Refusal::RateLimited { retry_after_ms }) => Some(epoch_seconds_up(retry_after_ms)),
        Some(Refusal::QuotaExceeded { reset_ms }) => {
            Some(epoch_seconds_up(reset_ms - now_ms).max(1))
        }
        _ => None,
    };
    Ok(Verification {
        response: VerifyResponse {
            valid: code == VerifyCode::Valid,
            code,
            key_id: Some(state.id),
            owner_user_id: Some(state.owner_user_id),
            org_id: state.org_id,
            scopes: Some(state.scopes.clone()),
            expires_at: state.expires_ms.map(crate::domain::from_millis),
            rotated: state.rotated && state.revoked_ms.is_some_and(|t| t > now_ms),
            ratelimit: verdict.ratelimit.as_ref().map(RateLimitInfo::from),
            quota: verdict.quota.map(|q| QuotaInfo {
                limit: q.limit,
                remaining: q.remaining,
                reset: epoch_seconds_up(q.reset_ms),
            }),
            remaining: verdict.remaining,
            retry_after,
            reason: (code == VerifyCode::ApiKeyDisabled && state.owner_suspended)
                .then_some("OWNER_SUSPENDED"),
        },
        escalation: verdict.escalation,
    })
}

fn escalation_detail(e: &Escalation, extra: serde_json::Value) -> String {
    let mut detail = serde_json::json!({
        "level": e.level,
        "blocked_until": e.blocked_until_ms.map(crate::domain::from_millis)
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok()),
    });
    if let (Some(d), serde_json::Value::Object(more)) = (detail.as_object_mut(), extra) {
        d.extend(more);
    }
    detail.to_string()
}

/// A penalty raised on `subject_type` `subject`, as a security event. A failure to record it
/// is logged, never turned into a failed verification.
async fn record_penalty(
    db: &Db,
    state: &KeyState,
    (subject_type, subject): (&str, &str),
    detail: &str,
    ip: Option<IpAddr>,
    now_ms: i64,
) {
    let ip = ip.map(|ip| ip.to_string()).unwrap_or_default();
    let event = db::security_events::NewSecurityEvent {
        kind: "ratelimit.penalty_raised",
        subject_type,
        subject,
        user_id: Some(state.owner_user_id),
        detail,
        ip: &ip,
        user_agent: "",
        at_ms: now_ms,
    };
    if let Err(err) = db::security_events::insert(db, &event).await {
        tracing::warn!(key_id = state.id, error = %err, "recording a penalty escalation failed");
    }
    tracing::warn!(key_id = state.id, subject_type, "rate-limit penalty raised");
}

/// A key that keeps hitting its own limits earns a stricter penalty; each step is a
/// security event.
async fn record_escalation(
    db: &Db,
    state: &KeyState,
    e: Escalation,
    ip: Option<IpAddr>,
    now_ms: i64,
) {
    let detail = escalation_detail(&e, serde_json::json!({}));
    let subject = state.id.to_string();
    record_penalty(db, state, ("api_key", &subject), &detail, ip, now_ms).await;
}

/// A client IP, user, org or key that keeps hitting a policy's limit: the same, with the
/// policy named.
async fn record_subject_escalation(
    db: &Db,
    state: &KeyState,
    raised: &SubjectEscalation,
    ip: Option<IpAddr>,
    now_ms: i64,
) {
    let detail = escalation_detail(
        &raised.escalation,
        serde_json::json!({ "policy_id": raised.limit.policy_id, "key_id": state.id }),
    );
    let subject_type = match raised.limit.subject {
        Subject::Ip(_) => "ip",
        _ => "policy_subject",
    };
    let subject = raised.limit.subject.describe();
    record_penalty(db, state, (subject_type, &subject), &detail, ip, now_ms).await;
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
