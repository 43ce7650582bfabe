//! API keys and their audit records (written in the same transaction as the change).

use super::audit::AuditEntry;
use super::audit::write_audit;
use super::{Db, escape_like, with_pool};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct KeyRow {
    pub id: i64,
    pub key_hash: String,
    pub prefix: String,
    pub last4: String,
    pub name: String,
    pub description: String,
    pub scopes: String,
    pub tags: String,
    pub metadata: String,
    pub ip_allowlist: String,
    pub allowed_origins: String,
    pub owner_user_id: i64,
    pub org_id: Option<i64>,
    pub api_id: Option<i64>,
    pub created_by: Option<i64>,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub rotated_to_id: Option<i64>,
    pub last_used_at: Option<i64>,
    #[sqlx(flatten)]
    pub traffic: TrafficColumns,
}

/// A key's traffic settings and its stored quota and credit counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct TrafficColumns {
    /// JSON array of `RateLimitSpec`.
    pub rate_limits: String,
    pub quota_period: Option<String>,
    pub quota_days: Option<i32>,
    pub quota_anchor_day: Option<i64>,
    pub quota_limit: Option<i64>,
    /// Units handed out in `quota_period_start`'s period, leased units included.
    pub quota_used: i64,
    pub quota_period_start: Option<i64>,
    /// Credits left, leased units excluded; None: not usage-limited.
    pub remaining: Option<i64>,
    pub refill_interval: Option<String>,
    pub refill_amount: Option<i64>,
    pub refilled_period_start: Option<i64>,
}

pub(crate) const COLUMNS: &str = "id, key_hash, prefix, last4, name, description, scopes, tags, metadata, ip_allowlist, \
    allowed_origins, owner_user_id, org_id, api_id, created_by, enabled, created_at, updated_at, expires_at, \
    revoked_at, rotated_to_id, last_used_at, rate_limits, quota_period, quota_days, quota_anchor_day, quota_limit, \
    quota_used, quota_period_start, remaining, refill_interval, refill_amount, refilled_period_start";

macro_rules! insert_key {
    ($tx:expr, $k:expr) => {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO api_keys (key_hash, prefix, last4, name, description, scopes, tags, metadata, ip_allowlist,
                 allowed_origins, owner_user_id, org_id, api_id, created_by, enabled, created_at, updated_at, expires_at,
                 rate_limits, quota_period, quota_days, quota_anchor_day, quota_limit, quota_used, quota_period_start,
                 remaining, refill_interval, refill_amount, refilled_period_start)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $17,
                 $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28) RETURNING id",
        )
        .bind(&$k.key_hash)
        .bind(&$k.prefix)
        .bind(&$k.last4)
        .bind(&$k.name)
        .bind(&$k.description)
        .bind(&$k.scopes)
        .bind(&$k.tags)
        .bind(&$k.metadata)
        .bind(&$k.ip_allowlist)
        .bind(&$k.allowed_origins)
        .bind($k.owner_user_id)
        .bind($k.org_id)
        .bind($k.api_id)
        .bind($k.created_by)
        .bind($k.enabled)
        .bind($k.created_at)
        .bind($k.expires_at)
        .bind(&$k.traffic.rate_limits)
        .bind(&$k.traffic.quota_period)
        .bind($k.traffic.quota_days)
        .bind($k.traffic.quota_anchor_day)
        .bind($k.traffic.quota_limit)
        .bind($k.traffic.quota_used)
        .bind($k.traffic.quota_period_start)
        .bind($k.traffic.remaining)
        .bind(&$k.traffic.refill_interval)
        .bind($k.traffic.refill_amount)
        .bind($k.traffic.refilled_period_start)
        .fetch_one(&mut *$tx)
        .await
    };
}

/// Inserts a key (fields of `row` except id, updated_at, revoked_at, rotated_to_id,
/// last_used_at) with its audit record; returns the new id.
pub async fn insert(db: &Db, row: &KeyRow, audit: &AuditEntry<'_>) -> Result<i64, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let id = insert_key!(tx, row)?;
        write_audit!(tx, audit, "api_key", id)?;
        tx.commit().await?;
        Ok(id)
    }
    .await)
}

pub async fn find(db: &Db, id: i64) -> Result<Option<KeyRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1");
    with_pool!(db, |pool| sqlx::query_as::<_, KeyRow>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// The names of the keys among `ids` that exist (for labelling charts); at most 100 ids.
pub async fn names(db: &Db, ids: &[i64]) -> Result<Vec<(i64, String)>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = &ids[..ids.len().min(100)];
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id, name FROM api_keys WHERE id IN ({})",
        marks.join(", ")
    );
    with_pool!(db, |pool| async {
        let mut q = sqlx::query_as::<_, (i64, String)>(&sql);
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(pool).await
    }
    .await)
}

pub async fn find_by_hash(db: &Db, key_hash: &str) -> Result<Option<KeyRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1");
    with_pool!(db, |pool| sqlx::query_as::<_, KeyRow>(&sql)
        .bind(key_hash)
        .fetch_optional(pool)
        .await)
}

/// Which stored counters an edit overwrites. Others stay as they are in the database, since
/// leases move them concurrently.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CounterWrites {
    /// Quota usage starts again from zero (the quota's period changed or it was removed).
    pub reset_quota: bool,
    /// `remaining` takes the row's value.
    pub set_remaining: bool,
    /// `refilled_period_start` takes the row's value.
    pub set_refilled_start: bool,
}

/// Writes the editable fields of `row` back, with the audit record. `Ok(false)` if gone.
pub async fn update(
    db: &Db,
    row: &KeyRow,
    counters: CounterWrites,
    audit: &AuditEntry<'_>,
) -> Result<bool, sqlx::Error> {
    with_pool!(db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        let n = sqlx::query(
            "UPDATE api_keys SET name = $1, description = $2, scopes = $3, tags = $4, metadata = $5, ip_allowlist = $6,
                 allowed_origins = $7, enabled = $8, expires_at = $9, revoked_at = $10, updated_at = $11,
                 rate_limits = $13, quota_period = $14, quota_days = $15, quota_anchor_day = $16, quota_limit = $17,
                 refill_interval = $18, refill_amount = $19,
                 quota_used = CASE WHEN $20 THEN 0 ELSE quota_used END,
                 quota_period_start = CASE WHEN $20 THEN NULL ELSE quota_period_start END,
                 remaining = CASE WHEN $21 THEN $22 ELSE remaining END,
                 refilled_period_start = CASE WHEN $23 THEN $24 ELSE refilled_period_start END
             WHERE id = $12",
        )
        .bind(&row.name)
        .bind(&row.description)
        .bind(&row.scopes)
        .bind(&row.tags)
        .bind(&row.metadata)
        .bind(&row.ip_allowlist)
        .bind(&row.allowed_origins)
        .bind(row.enabled)
        .bind(row.expires_at)
        .bind(row.revoked_at)
        .bind(row.updated_at)
        .bind(row.id)
        .bind(&row.traffic.rate_limits)
        .bind(&row.traffic.quota_period)
        .bind(row.traffic.quota_days)
        .bind(row.traffic.quota_anchor_day)
        .bind(row.traffic.quota_limit)
        .bind(&row.traffic.refill_interval)
        .bind(row.traffic.refill_amount)
        .bind(counters.reset_quota)
        .bind(counters.set_remaining)
        .bind(row.traffic.remaining)
        .bind(counters.set_refilled_start)
        .bind(row.traffic.refilled_period_start)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        write_audit!(tx, audit, "api_key", row.id)?;
        tx.commit().await?;
        Ok(true)
    }
    .await
    })
}

/// Inserts `new` as the successor of `old_id`, whose revocation is set to `old_revokes_at`.
pub async fn rotate(
    db: &Db,
    old_id: i64,
    old_revokes_at: i64,
    new: &KeyRow,
    audit: &AuditEntry<'_>,
) -> Result<Option<i64>, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let new_id = insert_key!(tx, new)?;
        // Only a key that is not revoked yet (or whose grace ends later) can be rotated.
        let n = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1, rotated_to_id = $2, updated_at = $3
             WHERE id = $4 AND (revoked_at IS NULL OR revoked_at > $3)",
        )
        .bind(old_revokes_at)
        .bind(new_id)
        .bind(new.created_at)
        .bind(old_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        // The rotation's event names the successor, known only now.
        let mut audit = audit.clone();
        if let Some(data) = audit.event.as_mut().and_then(|e| e.data.as_object_mut()) {
            data.insert("rotated_to_id".into(), serde_json::json!(new_id));
        }
        write_audit!(tx, audit, "api_key", old_id)?;
        tx.commit().await?;
        Ok(Some(new_id))
    }
    .await)
}

pub async fn delete(db: &Db, id: i64, audit: &AuditEntry<'_>) -> Result<bool, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        // Successors keep working; only the link to this key goes.
        sqlx::query("UPDATE api_keys SET rotated_to_id = NULL WHERE rotated_to_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let n = sqlx::query("DELETE FROM api_keys WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        write_audit!(tx, audit, "api_key", id)?;
        tx.commit().await?;
        Ok(true)
    }
    .await)
}

/// Stores last-used times gathered in memory, in one transaction.
pub async fn store_last_used(db: &Db, updates: &[(i64, i64)]) -> Result<(), sqlx::Error> {
    if updates.is_empty() {
        return Ok(());
    }
    with_pool!(db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        for (id, at) in updates {
            sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)")
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }
    .await
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusFilter {
    Active,
    Revoked,
    Expired,
    Disabled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    CreatedAsc,
    CreatedDesc,
    NameAsc,
    NameDesc,
    ExpiresAsc,
    ExpiresDesc,
    LastUsedAsc,
    LastUsedDesc,
}

/// Which keys a list may show (see `domain::keys::access`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum KeyScope {
    /// Admins.
    #[default]
    Everyone,
    /// The user's personal keys and the keys of the orgs they belong to.
    Of { user_id: i64, org_ids: Vec<i64> },
}

#[derive(Default, Clone, Debug)]
pub struct KeyFilter {
    /// Who is looking; the other fields narrow within it.
    pub visible: KeyScope,
    pub owner_user_id: Option<i64>,
    pub status: Option<StatusFilter>,
    /// Matches name, prefix or last4 (literal substring, case-insensitive).
    pub q: Option<String>,
    pub scope: Option<String>,
    /// Every one of these tags.
    pub tags: Vec<String>,
    pub api_id: Option<i64>,
    pub org_id: Option<i64>,
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
    pub expires_before: Option<i64>,
    /// Expiring after this (with `expires_before`: a window).
    pub expires_after: Option<i64>,
    pub last_used_before: Option<i64>,
    /// Only keys never used.
    pub never_used: bool,
    pub sort: Option<SortKey>,
}

enum Arg {
    Int(i64),
    Text(String),
}

/// Newest first by default. `now_ms` decides which keys count as expired or revoked.
pub async fn list(
    db: &Db,
    f: &KeyFilter,
    now_ms: i64,
    limit: i64,
    offset: i64,
) -> Result<(Vec<KeyRow>, i64), sqlx::Error> {
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<Arg> = Vec::new();
    let arg = |a: Arg, args: &mut Vec<Arg>| {
        args.push(a);
        format!("${}", args.len())
    };
    if let KeyScope::Of { user_id, org_ids } = &f.visible {
        let mut visible = format!(
            "(org_id IS NULL AND owner_user_id = {})",
            arg(Arg::Int(*user_id), &mut args)
        );
        if !org_ids.is_empty() {
            let list: Vec<String> = org_ids
                .iter()
                .map(|id| arg(Arg::Int(*id), &mut args))
                .collect();
            visible = format!("({visible} OR org_id IN ({}))", list.join(", "));
        }
        clauses.push(visible);
    }
    if let Some(owner) = f.owner_user_id {
        clauses.push(format!(
            "owner_user_id = {}",
            arg(Arg::Int(owner), &mut args)
        ));
    }
    if let Some(api) = f.api_id {
        clauses.push(format!("api_id = {}", arg(Arg::Int(api), &mut args)));
    }
    if let Some(status) = f.status {
        let now = arg(Arg::Int(now_ms), &mut args);
        let revoked = format!("(revoked_at IS NOT NULL AND revoked_at <= {now})");
        let expired = format!("(expires_at IS NOT NULL AND expires_at <= {now})");
        clauses.push(match status {
            StatusFilter::Revoked => revoked,
            StatusFilter::Expired => format!("(NOT {revoked} AND {expired})"),
            StatusFilter::Disabled => format!("(NOT {revoked} AND NOT {expired} AND NOT enabled)"),
            StatusFilter::Active => format!("(NOT {revoked} AND NOT {expired} AND enabled)"),
        });
    }
    if let Some(q) = f.q.as_deref().filter(|q| !q.is_empty()) {
        let p = arg(
            Arg::Text(format!("%{}%", escape_like(&q.to_lowercase()))),
            &mut args,
        );
        clauses.push(format!(
            "(LOWER(name) LIKE {p} ESCAPE '\\' OR LOWER(prefix) LIKE {p} ESCAPE '\\' OR LOWER(last4) LIKE {p} ESCAPE '\\')"
        ));
    }
    // Lists are stored as JSON arrays of validated strings (no quotes inside), so a quoted
    // substring match is exact.
    if let Some(scope) = &f.scope {
        let p = arg(
            Arg::Text(format!(
                "%{}%",
                escape_like(&serde_json::Value::from(scope.as_str()).to_string())
            )),
            &mut args,
        );
        clauses.push(format!("scopes LIKE {p} ESCAPE '\\'"));
    }
    for tag in &f.tags {
        let p = arg(
            Arg::Text(format!(
                "%{}%",
                escape_like(&serde_json::Value::from(tag.as_str()).to_string())
            )),
            &mut args,
        );
        clauses.push(format!("tags LIKE {p} ESCAPE '\\'"));
    }
    if let Some(t) = f.expires_before {
        clauses.push(format!(
            "(expires_at IS NOT NULL AND expires_at < {})",
            arg(Arg::Int(t), &mut args)
        ));
    }
    if let Some(t) = f.expires_after {
        clauses.push(format!("expires_at > {}", arg(Arg::Int(t), &mut args)));
    }
    if let Some(org) = f.org_id {
        clauses.push(format!("org_id = {}", arg(Arg::Int(org), &mut args)));
    }
    if let Some(t) = f.created_from {
        clauses.push(format!("created_at >= {}", arg(Arg::Int(t), &mut args)));
    }
    if let Some(t) = f.created_to {
        clauses.push(format!("created_at < {}", arg(Arg::Int(t), &mut args)));
    }
    if f.never_used {
        clauses.push("last_used_at IS NULL".to_string());
    }
    if let Some(t) = f.last_used_before {
        clauses.push(format!(
            "(last_used_at IS NULL OR last_used_at < {})",
            arg(Arg::Int(t), &mut args)
        ));
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let order = match f.sort.unwrap_or(SortKey::CreatedDesc) {
        SortKey::CreatedAsc => "created_at ASC, id ASC",
        SortKey::CreatedDesc => "created_at DESC, id DESC",
        SortKey::NameAsc => "LOWER(name) ASC, id ASC",
        SortKey::NameDesc => "LOWER(name) DESC, id DESC",
        SortKey::ExpiresAsc => {
            "CASE WHEN expires_at IS NULL THEN 1 ELSE 0 END, expires_at ASC, id ASC"
        }
        SortKey::ExpiresDesc => {
            "CASE WHEN expires_at IS NULL THEN 1 ELSE 0 END, expires_at DESC, id DESC"
        }
        SortKey::LastUsedAsc => {
            "CASE WHEN last_used_at IS NULL THEN 1 ELSE 0 END, last_used_at ASC, id ASC"
        }
        SortKey::LastUsedDesc => {
            "CASE WHEN last_used_at IS NULL THEN 1 ELSE 0 END, last_used_at DESC, id DESC"
        }
    };
    let n = args.len();
    let list_sql = format!(
        "SELECT {COLUMNS} FROM api_keys {filter} ORDER BY {order} LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let count_sql = format!("SELECT COUNT(*) FROM api_keys {filter}");
    with_pool!(db, |pool| async {
        let mut list = sqlx::query_as::<_, KeyRow>(&list_sql);
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        for a in &args {
            match a {
                Arg::Int(v) => {
                    list = list.bind(*v);
                    count = count.bind(*v);
                }
                Arg::Text(v) => {
                    list = list.bind(v.clone());
                    count = count.bind(v.clone());
                }
            }
        }
        let rows = list.bind(limit).bind(offset).fetch_all(pool).await?;
        let total = count.fetch_one(pool).await?;
        Ok((rows, total))
    }
    .await)
}
