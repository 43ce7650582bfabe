//! API keys: issue, list, read, edit, enable/disable, revoke, rotate, delete; every change
//! audited and reflected in the verification cache before it is reported done.

pub mod access;
pub mod bulk;
pub mod bulk_jobs;
pub mod bulk_ops;
pub mod cache;
mod events;
mod inputs;
mod list;
pub mod material;
pub mod reveal;
pub mod saved_filters;
pub mod validate;
pub mod verify;

use super::{ClientInfo, Timestamp, crypto::Keys, db_failure, from_millis, to_millis};
use crate::app::limit_types::{KeyQuota, RateLimitStatus};
use crate::app::types::{ApiKey, IssuedKey, KeyId, KeyStatus, Role, User, UserId};
use crate::db::{self, Db, keys::KeyRow};
use crate::domain::traffic::{settings, table::TrafficTable};
use crate::error::{AppError, AppResult, ErrorCode, FieldError, Validator};
use cache::KeyCache;
pub use inputs::{CreateKeyInput, UpdateKeyInput};
pub use list::{KeyListQuery, KeyPage, list_keys, owner_by_email};
use serde_json::Value;

/// Who is acting and from where (for authorization and the audit trail).
#[derive(Clone, Debug)]
pub struct Actor {
    pub user: User,
    pub client: ClientInfo,
}

impl Actor {
    /// The audit record of this actor's `action`, with the target's values before and after
    /// (each already rendered without secrets).
    pub fn audit_entry<'a>(
        &'a self,
        action: &'a str,
        old_values: Option<String>,
        new_values: Option<String>,
        now_ms: i64,
    ) -> db::audit::AuditEntry<'a> {
        db::audit::AuditEntry {
            actor_user_id: Some(self.user.id.0),
            action,
            old_values,
            new_values,
            ip: &self.client.ip,
            user_agent: &self.client.user_agent,
            now_ms,
            event: None,
        }
    }

    fn is_admin(&self) -> bool {
        self.user.role.is_admin()
    }
}

/// The services key operations need.
pub struct KeyContext<'a> {
    pub db: &'a Db,
    pub crypto: &'a Keys,
    pub cache: &'a KeyCache,
    pub traffic: &'a crate::domain::traffic::table::TrafficTable,
    /// Rate-limit policies in force, and their buckets.
    pub policies: &'a crate::domain::policies::set::PolicyRegistry,
    /// Wakes the job runner after a change queued an event.
    pub jobs_wake: &'a tokio::sync::Notify,
}

pub const DEFAULT_GRACE_SECONDS: i64 = 24 * 3600;
pub const MAX_GRACE_SECONDS: i64 = 30 * 24 * 3600;

pub(super) fn parse_future(v: &mut Validator, text: &str, now: Timestamp) -> Option<i64> {
    match Timestamp::parse(text, &time::format_description::well_known::Rfc3339) {
        Ok(t) => {
            v.check(t > now, "body.expires_at", "must be in the future");
            Some(to_millis(t))
        }
        Err(_) => {
            v.check(
                false,
                "body.expires_at",
                "must be an RFC 3339 time such as 2027-01-01T00:00:00Z",
            );
            None
        }
    }
}

pub(super) fn json_list(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

pub(super) fn list_of(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

pub fn status_of(row: &KeyRow, now_ms: i64) -> KeyStatus {
    if row.revoked_at.is_some_and(|t| t <= now_ms) {
        KeyStatus::Revoked
    } else if row.expires_at.is_some_and(|t| t <= now_ms) {
        KeyStatus::Expired
    } else if !row.enabled {
        KeyStatus::Disabled
    } else {
        KeyStatus::Active
    }
}

/// The key as the API shows it; `last_used_at`, quota usage and credits include what this
/// instance holds in memory and has not written yet.
pub fn view(row: &KeyRow, ctx: &KeyContext<'_>, now_ms: i64) -> ApiKey {
    let hash = hex_to_hash(&row.key_hash);
    let last_used = match (
        row.last_used_at,
        hash.and_then(|h| ctx.cache.last_used_of(&h)),
    ) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let allowance = live_allowance(&row.traffic, ctx.traffic, row.id, now_ms);
    ApiKey {
        id: KeyId(row.id),
        name: row.name.clone(),
        description: row.description.clone(),
        prefix: row.prefix.clone(),
        last4: row.last4.clone(),
        status: status_of(row, now_ms),
        enabled: row.enabled,
        scopes: list_of(&row.scopes),
        tags: list_of(&row.tags),
        metadata: serde_json::from_str(&row.metadata)
            .unwrap_or_else(|_| Value::Object(Default::default())),
        created_at: from_millis(row.created_at),
        updated_at: from_millis(row.updated_at),
        expires_at: row.expires_at.map(from_millis),
        last_used_at: last_used.map(from_millis),
        revoked_at: row.revoked_at.map(from_millis),
        rotated_to_id: row.rotated_to_id.map(KeyId),
        rate_limits: settings::rate_limits_of(&row.traffic),
        quota: allowance.quota,
        remaining: allowance.remaining,
        refill: settings::refill_of(&row.traffic),
        rate_limit_status: rate_status(row, ctx.traffic, now_ms),
        ip_allowlist: list_of(&row.ip_allowlist),
        allowed_origins: list_of(&row.allowed_origins),
        api_id: row.api_id,
        owner_user_id: UserId(row.owner_user_id),
        org_id: row.org_id,
        created_by: row.created_by.map(UserId),
    }
}

fn rate_status(row: &KeyRow, traffic: &TrafficTable, now_ms: i64) -> Vec<RateLimitStatus> {
    let cfg = settings::config_of(&row.traffic);
    if cfg.rates.is_empty() {
        return Vec::new();
    }
    let windows: Vec<_> = cfg.rates.iter().map(|(_, r)| r.window).collect();
    traffic
        .rate_status(row.id, &cfg, now_ms)
        .unwrap_or_default()
        .into_iter()
        .zip(windows)
        .map(|(r, window)| RateLimitStatus {
            name: r.name,
            limit: r.limit,
            window,
            remaining: r.remaining,
            resets_at: from_millis(r.reset_ms.max(now_ms)),
        })
        .collect()
}

struct LiveAllowance {
    quota: Option<KeyQuota>,
    remaining: Option<i64>,
}

/// Quota usage and credits left at `now_ms`: the stored counters count leased units as
/// spent, so the units this instance still holds are added back.
fn live_allowance(
    cols: &db::keys::TrafficColumns,
    traffic: &TrafficTable,
    key_id: i64,
    now_ms: i64,
) -> LiveAllowance {
    let (held_quota, held_credits) = traffic.held(key_id).unwrap_or_default();
    let quota = settings::quota_of(cols)
        .zip(settings::quota_period(cols))
        .map(|(spec, period)| {
            let (start, end) = period.bounds(now_ms);
            let used = if cols.quota_period_start == Some(start) {
                (cols.quota_used - held_quota.available(start)).max(0)
            } else {
                0
            };
            KeyQuota {
                period: spec.period,
                limit: spec.limit,
                period_days: spec.period_days,
                used,
                remaining: (spec.limit - used).max(0),
                resets_at: from_millis(end),
            }
        });
    let remaining = cols.remaining.map(|stored| {
        let refill = settings::refill_period(cols).zip(cols.refill_amount);
        let start = refill.map_or(0, |(p, _)| p.bounds(now_ms).0);
        match refill {
            Some((_, amount)) if cols.refilled_period_start.is_none_or(|done| done < start) => {
                amount
            }
            _ => stored + held_credits.available(start),
        }
    });
    LiveAllowance { quota, remaining }
}

pub(crate) fn hex_to_hash(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in hex.as_bytes().chunks(2).enumerate() {
        let s = std::str::from_utf8(chunk).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

/// Drops a key from the verification cache after a change, before the change is reported.
pub(super) fn forget(cache: &KeyCache, key_hash_hex: &str) {
    if let Some(h) = hex_to_hash(key_hash_hex) {
        cache.forget(&h);
    }
}

/// The audit record's view of a key: everything but the hash.
pub(super) fn audit_values(row: &KeyRow) -> String {
    serde_json::json!({
        "name": row.name, "description": row.description, "prefix": row.prefix, "last4": row.last4,
        "scopes": list_of(&row.scopes), "tags": list_of(&row.tags),
        "metadata": serde_json::from_str::<Value>(&row.metadata).unwrap_or(Value::Null),
        "ip_allowlist": list_of(&row.ip_allowlist), "allowed_origins": list_of(&row.allowed_origins),
        "owner_user_id": row.owner_user_id, "enabled": row.enabled, "expires_at": row.expires_at,
        "revoked_at": row.revoked_at, "rotated_to_id": row.rotated_to_id,
    })
    .to_string()
}

fn audit<'a>(
    actor: &'a Actor,
    action: &'a str,
    old: Option<&KeyRow>,
    new: Option<&KeyRow>,
    now_ms: i64,
) -> db::audit::AuditEntry<'a> {
    let mut entry = actor.audit_entry(action, old.map(audit_values), new.map(audit_values), now_ms);
    entry.event = new.or(old).and_then(|row| events::event_of(action, row));
    entry
}

/// A fresh key row with new material; the plaintext is returned beside it.
pub(crate) fn new_material(crypto: &Keys, prefix: &str) -> (String, String, String) {
    let plaintext = material::generate(prefix);
    let hash = crate::domain::crypto::hex(&verify::key_hash(crypto, &plaintext));
    let last4 = plaintext[plaintext.len() - 4..].to_string();
    (plaintext, hash, last4)
}

pub async fn create_key(
    ctx: &KeyContext<'_>,
    actor: &Actor,
    mut input: CreateKeyInput,
    now: Timestamp,
) -> AppResult<IssuedKey> {
    if actor.user.role == Role::Viewer {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "Viewers cannot create keys.",
        ));
    }
    // The template fills what the request left out; the policy decides the expiry below.
    let plan = crate::domain::lifecycle::prepare_create(ctx.db, actor, &mut input, now).await?;
    let mut v = Validator::default();
    validate::name(&mut v, &input.name);
    let description = input.description.clone().unwrap_or_default();
    validate::description(&mut v, &description);
    let scopes = validate::normalized(&input.scopes);
    validate::scopes(&mut v, &scopes);
    let tags = validate::normalized(&input.tags);
    validate::tags(&mut v, &tags);
    let metadata = input
        .metadata
        .clone()
        .unwrap_or_else(|| Value::Object(Default::default()));
    validate::metadata(&mut v, &metadata);
    let ip_allowlist = validate::ip_allowlist(&mut v, &input.ip_allowlist);
    let allowed_origins = validate::allowed_origins(&mut v, &input.allowed_origins);
    let prefix = input
        .prefix
        .clone()
        .unwrap_or_else(|| material::DEFAULT_PREFIX.to_string());
    validate::prefix(&mut v, &prefix);
    let expires_at = input
        .expires_at
        .as_deref()
        .and_then(|t| parse_future(&mut v, t, now));
    let expires_at = plan.expiry(
        &mut v,
        input.expires_at.is_some(),
        expires_at,
        to_millis(now),
    );
    let mut unsupported = Vec::new();
    let now_ms = to_millis(now);
    let traffic = settings::for_create(
        &mut v,
        &settings::TrafficInput {
            rate_limits: input.rate_limits.clone(),
            quota: input.quota.clone(),
            remaining: input.remaining,
            refill: input.refill.clone(),
        },
        now_ms,
    );
    let owner = input.owner_user_id.unwrap_or(actor.user.id.0);
    if owner != actor.user.id.0 && !actor.is_admin() {
        unsupported.push(FieldError {
            field: "body.owner_user_id".into(),
            message: "only admins may issue keys for other users".into(),
        });
    }
    if let Err(mut e) = v.finish() {
        e.errors.extend(unsupported);
        return Err(AppError::validation(e.errors));
    }
    if !unsupported.is_empty() {
        return Err(AppError::validation(unsupported));
    }
    if owner != actor.user.id.0
        && db::users::find(ctx.db, UserId(owner))
            .await
            .map_err(db_failure)?
            .is_none()
    {
        return Err(AppError::validation(vec![FieldError {
            field: "body.owner_user_id".into(),
            message: "no such user".into(),
        }]));
    }

    // An org key belongs to the org (its owner is the creator): members and up may create
    // one; an org the actor is not in answers like one that does not exist.
    if let Some(org_id) = input.org_id {
        let access = access::KeyAccess::load(ctx.db, actor).await?;
        let exists = db::orgs::find(ctx.db, org_id)
            .await
            .map_err(db_failure)?
            .is_some();
        if !exists || (access.org_role(org_id).is_none() && !access.admin) {
            return Err(AppError::validation(vec![FieldError {
                field: "body.org_id".into(),
                message: "no such organization".into(),
            }]));
        }
        if !access.can_create_in(org_id) {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                "Org viewers cannot create the org's keys.",
            ));
        }
    }
    if let Some(api_id) = input.api_id
        && db::apis::find(ctx.db, api_id)
            .await
            .map_err(db_failure)?
            .is_none()
    {
        return Err(AppError::validation(vec![FieldError {
            field: "body.api_id".into(),
            message: "no such API".into(),
        }]));
    }
    let (plaintext, key_hash, last4) = new_material(ctx.crypto, &prefix);
    let mut row = KeyRow {
        id: 0,
        key_hash,
        prefix,
        last4,
        name: input.name.trim().to_string(),
        description,
        scopes: json_list(&scopes),
        tags: json_list(&tags),
        metadata: metadata.to_string(),
        ip_allowlist: json_list(&ip_allowlist),
        allowed_origins: json_list(&allowed_origins),
        owner_user_id: owner,
        org_id: input.org_id,
        api_id: input.api_id,
        created_by: Some(actor.user.id.0),
        enabled: true,
        created_at: now_ms,
        updated_at: now_ms,
        expires_at,
        revoked_at: None,
        rotated_to_id: None,
        last_used_at: None,
        traffic,
    };
    row.id = db::keys::insert(
        ctx.db,
        &row,
        &audit(actor, "key.created", None, Some(&row), now_ms),
    )
    .await
    .map_err(db_failure)?;
    forget(ctx.cache, &row.key_hash);
    events::after_change(ctx, None, &row, now).await;
    tracing::info!(key_id = row.id, owner_user_id = owner, "key created");
    Ok(IssuedKey {
        api_key: view(&row, ctx, now_ms),
        key: plaintext,
    })
}

/// Loads a key the actor may see; others' keys answer NOT_FOUND so ids reveal nothing.
pub(crate) async fn load_visible(
    ctx: &KeyContext<'_>,
    actor: &Actor,
    id: KeyId,
) -> AppResult<KeyRow> {
    let access = access::KeyAccess::load(ctx.db, actor).await?;
    load_with(ctx, &access, id).await
}

async fn load_with(
    ctx: &KeyContext<'_>,
    access: &access::KeyAccess,
    id: KeyId,
) -> AppResult<KeyRow> {
    match db::keys::find(ctx.db, id.0).await.map_err(db_failure)? {
        Some(row) if access.can_read(&row) => Ok(row),
        _ => Err(AppError::not_found("Key")),
    }
}

async fn load_writable(ctx: &KeyContext<'_>, actor: &Actor, id: KeyId) -> AppResult<KeyRow> {
    let access = access::KeyAccess::load(ctx.db, actor).await?;
    let row = load_with(ctx, &access, id).await?;
    if !access.can_write(&row) {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "You can see this key but not change it.",
        ));
    }
    Ok(row)
}

pub async fn get_key(
    ctx: &KeyContext<'_>,
    actor: &Actor,
    id: KeyId,
    now: Timestamp,
) -> AppResult<ApiKey> {
    let row = load_visible(ctx, actor, id).await?;
    Ok(view(&row, ctx, to_millis(now)))
}

/// Writes `row` (already changed from `old`) and refreshes the cache.
async fn save(
    ctx: &KeyContext<'_>,
    actor: &Actor,
    action: &str,
    old: &KeyRow,
    row: &KeyRow,
    now_ms: i64,
) -> AppResult<()> {
    save_counters(
        ctx,
        actor,
        action,
        old,
        row,
        db::keys::CounterWrites::default(),
        now_ms,
    )
    .await
}

/// `save`, also overwriting the stored counters `counters` names.
async fn save_counters(
    ctx: &KeyContext<'_>,
    actor: &Actor,
    action: &str,
    old: &KeyRow,
    row: &KeyRow,
    counters: db::keys::CounterWrites,
    now_ms: i64,
) -> AppResult<()> {
    if !db::keys::update(
        ctx.db,
        row,
        counters,
        &audit(actor, action, Some(old), Some(row), now_ms),
    )
    .await
    .map_err(db_failure)?
    {
        return Err(AppError::not_found("Key"));
    }
    forget(ctx.cache, &row.key_hash);
    events::after_change(ctx, Some(old), row, from_millis(now_ms)).await;
    Ok(())
}

pub async fn update_key(
    ctx: &KeyContext<'_>,
    actor: &Actor,
    id: KeyId,
    input: UpdateKeyInput,
    now: Timestamp,
) -> AppResult<ApiKey> {
    let old = load_writable(ctx, actor, id).await?;
    let mut row = old.clone();
    let mut v = Validator::default();
    if let Some(name) = &input.name {
        validate::name(&mut v, name);
        row.name = name.trim().to_string();
    }
    if let Some(d) = &input.description {
        validate::description(&mut v, d);
        row.description = d.clone();
    }
    if let Some(s) = &input.scopes {
        let s = validate::normalized(s);
        validate::scopes(&mut v, &s);
        row.scopes = json_list(&s);
    }
    if let Some(t) = &input.tags {
        let t = validate::normalized(t);
        validate::tags(&mut v, &t);
        row.tags = json_list(&t);
    }
    if let Some(m) = &input.metadata {
        validate::metadata(&mut v, m);
        row.metadata = m.to_string();
    }
    if let Some(list) = &input.ip_allowlist {
        row.ip_allowlist = json_list(&validate::ip_allowlist(&mut v, list));
    }
    if let Some(list) = &input.allowed_origins {
        row.allowed_origins = json_list(&validate::allowed_origins(&mut v, list));
    }
    match &input.expires_at {
        Some(Some(t)) => row.expires_at = parse_future(&mut v, t, now),
        Some(None) => row.expires_at = None,
        None => {}
    }
    if input.expires_at.is_some() {
        crate::domain::lifecycle::check_new_expiry(ctx.db, &mut v, row.created_at, row.expires_at)
            .await?;
    }
    if let Some(enabled) = input.enabled {
        row.enabled = enabled;
    }
    let now_ms = to_millis(now);
    let traffic_edit = settings::TrafficEdit {
        rate_limits: input.rate_limits.clone(),
        quota: input.quota.clone(),
        remaining: input.remaining,
        refill: input.refill.clone(),
    };
    let counters = settings::apply_edit(&mut v, &mut row.traffic, &traffic_edit, now_ms);
    v.finish()?;
    if status_of(&old, now_ms) == KeyStatus::Revoked {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "A revoked key cannot be changed.",
        ));
    }
    row.updated_at = now_ms;
    let action = match (old.enabled, row.enabled) {
        (true, false) => "key.disabled",
        (false, true) => "key.enabled",
        _ => "key.updated",
    };
    if traffic_edit.is_empty() {
        save(ctx, actor, action, &old, &row, now_ms).await?;
    } else {
        // New traffic settings: hand this instance's leased units back first, holding the
        // key's traffic state so no request leases under the old settings meanwhile.
        let mut state = ctx.traffic.lock(row.id).await;
        TrafficTable::settle(ctx.db, row.id, &mut state).await?;
        save_counters(ctx, actor, action, &old, &row, counters, now_ms).await?;
        drop(state);
    }
    let fresh = db::keys::find(ctx.db, row.id).await.map_err(db_failure)?;
    Ok(view(fresh.as_ref().unwrap_or(&row), ctx, now_ms))
}

pub async fn set_enabled(
    ctx: &KeyContext<'_>,
    actor: &Actor,
    id: KeyId,
    enabled: bool,
    now: Timestamp,
) -> AppResult<ApiKey> {
    update_key(
        ctx,
        actor,
        id,
        UpdateKeyInput {
            enabled: Some(enabled),
            ..Default::default()
        },
        now,
    )
    .await
}

pub async fn revoke_key(
    ctx: &KeyContext<'_>,
    actor: &Actor,
    id: KeyId,
    now: Timestamp,
) -> AppResult<ApiKey> {
    let old = load_writable(ctx, actor, id).await?;
    let now_ms = to_millis(now);
    if status_of(&old, now_ms) == KeyStatus::Revoked {
        return Ok(view(&old, ctx, now_ms));
    }
    let mut row = old.clone();
    row.revoked_at = Some(now_ms);
    row.updated_at = now_ms;
    save(ctx, actor, "key.revoked", &old, &row, now_ms).await?;
    tracing::info!(key_id = row.id, "key revoked");
    Ok(view(&row, ctx, now_ms))
}

/// Issues a successor with the same settings; the old key keeps working for the grace period.
pub async fn rotate_key(
    ctx: &KeyContext<'_>,
    actor: &Actor,
    id: KeyId,
    grace_seconds: Option<i64>,
    now: Timestamp,
) -> AppResult<IssuedKey> {
    let old = load_writable(ctx, actor, id).await?;
    let grace = grace_seconds.unwrap_or(DEFAULT_GRACE_SECONDS);
    let mut v = Validator::default();
    v.check(
        (0..=MAX_GRACE_SECONDS).contains(&grace),
        "body.grace_period_seconds",
        "must be between 0 and 2592000 (30 days)",
    );
    v.finish()?;
    let now_ms = to_millis(now);
    match status_of(&old, now_ms) {
        KeyStatus::Revoked => {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "A revoked key cannot be rotated.",
            ));
        }
        _ if old.rotated_to_id.is_some() => {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "This key was already rotated; rotate its successor.",
            ));
        }
        _ => {}
    }
    let (plaintext, key_hash, last4) = new_material(ctx.crypto, &old.prefix);
    let mut new = old.clone();
    new.key_hash = key_hash;
    new.last4 = last4;
    new.created_at = now_ms;
    new.updated_at = now_ms;
    new.created_by = Some(actor.user.id.0);
    new.revoked_at = None;
    new.rotated_to_id = None;
    new.last_used_at = None;
    new.expires_at =
        crate::domain::lifecycle::expiry_for_rotate(ctx.db, old.expires_at, now_ms).await?;
    let old_ends = now_ms + grace * 1000;
    let mut after = old.clone();
    after.revoked_at = Some(old_ends);
    let entry = audit(actor, "key.rotated", Some(&old), Some(&after), now_ms);
    let new_id = db::keys::rotate(ctx.db, old.id, old_ends, &new, &entry)
        .await
        .map_err(db_failure)?
        .ok_or_else(|| {
            AppError::new(ErrorCode::Conflict, "The key changed meanwhile; try again.")
        })?;
    new.id = new_id;
    forget(ctx.cache, &old.key_hash);
    forget(ctx.cache, &new.key_hash);
    events::after_change(ctx, None, &new, now).await;
    tracing::info!(
        key_id = old.id,
        new_key_id = new_id,
        grace_seconds = grace,
        "key rotated"
    );
    Ok(IssuedKey {
        api_key: view(&new, ctx, now_ms),
        key: plaintext,
    })
}

pub async fn delete_key(
    ctx: &KeyContext<'_>,
    actor: &Actor,
    id: KeyId,
    now: Timestamp,
) -> AppResult<()> {
    let old = load_writable(ctx, actor, id).await?;
    let now_ms = to_millis(now);
    if !db::keys::delete(
        ctx.db,
        old.id,
        &audit(actor, "key.deleted", Some(&old), None, now_ms),
    )
    .await
    .map_err(db_failure)?
    {
        return Err(AppError::not_found("Key"));
    }
    forget(ctx.cache, &old.key_hash);
    tracing::info!(key_id = old.id, "key deleted");
    Ok(())
}

/// Writes last-used times gathered in memory (background job, and at shutdown).
pub async fn flush_last_used(db: &Db, cache: &KeyCache) -> AppResult<usize> {
    let updates = cache.take_last_used();
    db::keys::store_last_used(db, &updates)
        .await
        .map_err(db_failure)?;
    Ok(updates.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let h = [0xabu8; 32];
        assert_eq!(hex_to_hash(&crate::domain::crypto::hex(&h)), Some(h));
        assert_eq!(hex_to_hash("zz"), None);
    }
}
