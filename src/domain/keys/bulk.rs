//! Bulk key operations (`POST /keys/bulk`): one action over explicit ids or every key a
//! filter matches. Each item is decided by the same rules as the single-key operations
//! (`KeyAccess`, status), answered on its own (one bad id never aborts the rest), and written
//! with its audit record in chunked transactions so 10,000 keys take a few round trips, not
//! tens of thousands. Owners get one summary notice per operation, not one per key.

use super::{Actor, KeyContext, access::KeyAccess, audit_values, forget, list_of, status_of};
use crate::app::types::KeyStatus;
use crate::db::{self, events::NewEvent, key_bulk::ItemWrite, keys::KeyRow};
use crate::domain::{Timestamp, db_failure, events::kinds, to_millis};
use crate::error::{AppError, AppResult, ErrorCode, Validator};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// Most items one request may name (or a filter may select).
pub const MAX_ITEMS: usize = 10_000;
/// Items written per transaction.
const WRITE_CHUNK: usize = 500;

/// `POST /keys/bulk`. `action` is text so an unknown one is a field error (422), not a
/// decoding failure.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    /// revoke | disable | enable | extend | tag | untag | delete
    pub action: String,
    /// The keys, by id; or give `filter` instead.
    #[serde(default)]
    pub ids: Option<Vec<i64>>,
    /// Every key matching these `GET /keys` filters (paging ignored).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<super::KeyListQuery>,
    /// extend: the new expiry (RFC 3339, in the future).
    #[serde(default)]
    pub expires_at: Option<String>,
    /// tag / untag: the tags to add or remove.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Answer what would change per item, writing nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Run a selection of more than 500 keys as a durable background job: the answer is then
    /// 202 with `operation_id` and `"queued": true`, and `GET /keys/bulk/{id}` shows progress
    /// and, once done, the results. Smaller selections answer at once either way.
    #[serde(default)]
    pub background: bool,
}

/// Selections larger than this run in the background when the request allows it.
pub const BACKGROUND_MIN_ITEMS: usize = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkAction {
    Revoke,
    Disable,
    Enable,
    Extend,
    Tag,
    Untag,
    Delete,
}

impl BulkAction {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "revoke" => Self::Revoke,
            "disable" => Self::Disable,
            "enable" => Self::Enable,
            "extend" => Self::Extend,
            "tag" => Self::Tag,
            "untag" => Self::Untag,
            "delete" => Self::Delete,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revoke => "revoke",
            Self::Disable => "disable",
            Self::Enable => "enable",
            Self::Extend => "extend",
            Self::Tag => "tag",
            Self::Untag => "untag",
            Self::Delete => "delete",
        }
    }

    /// The audit action each item records (the single-key operations' names).
    fn audit_action(self) -> &'static str {
        match self {
            Self::Revoke => "key.revoked",
            Self::Disable => "key.disabled",
            Self::Enable => "key.enabled",
            Self::Extend | Self::Tag | Self::Untag => "key.updated",
            Self::Delete => "key.deleted",
        }
    }
}

pub use crate::app::bulk_types::{BulkItemResult, BulkOutcome};

/// The validated options of an action (kept with a background operation until it runs).
#[derive(Clone, Debug, serde::Serialize, Deserialize)]
pub(crate) struct Options {
    pub expires_at: Option<i64>,
    pub tags: Vec<String>,
}

fn failed(id: i64, code: &str, name: Option<&str>) -> BulkItemResult {
    BulkItemResult {
        id,
        ok: false,
        error_code: Some(code.to_string()),
        change: None,
        name: name.map(str::to_string),
    }
}

/// The key after `action`, or the item's error code. `None` inside: delete.
fn decide(
    action: BulkAction,
    row: &KeyRow,
    opts: &Options,
    now_ms: i64,
) -> Result<(Option<KeyRow>, String), &'static str> {
    let status = status_of(row, now_ms);
    if status == KeyStatus::Revoked && action != BulkAction::Delete {
        return Err("KEY_REVOKED");
    }
    let mut new = row.clone();
    new.updated_at = now_ms;
    let was = format!("{status:?}").to_lowercase();
    let change = match action {
        BulkAction::Revoke => {
            new.revoked_at = Some(now_ms);
            format!("status: {was} → revoked")
        }
        BulkAction::Disable => {
            new.enabled = false;
            format!("enabled: {} → false", row.enabled)
        }
        BulkAction::Enable => {
            new.enabled = true;
            format!("enabled: {} → true", row.enabled)
        }
        BulkAction::Extend => {
            new.expires_at = opts.expires_at;
            format!(
                "expires_at: {} → {}",
                fmt_ms(row.expires_at),
                fmt_ms(opts.expires_at)
            )
        }
        BulkAction::Tag | BulkAction::Untag => {
            let mut tags = list_of(&row.tags);
            if action == BulkAction::Tag {
                tags.extend(opts.tags.iter().cloned());
            } else {
                tags.retain(|t| !opts.tags.contains(t));
            }
            let tags = super::validate::normalized(&tags);
            let mut v = Validator::default();
            super::validate::tags(&mut v, &tags);
            if v.finish().is_err() {
                return Err("VALIDATION_ERROR");
            }
            new.tags = super::json_list(&tags);
            format!("tags: {:?} → {:?}", list_of(&row.tags), tags)
        }
        BulkAction::Delete => return Ok((None, "deleted".to_string())),
    };
    Ok((Some(new), change))
}

fn fmt_ms(ms: Option<i64>) -> String {
    ms.map(crate::domain::from_millis)
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "never".to_string())
}

/// Checks the request and resolves its selection to ids (in request order, duplicates once).
async fn select(
    ctx: &KeyContext<'_>,
    access: &KeyAccess,
    req: &BulkRequest,
    now: Timestamp,
) -> AppResult<(BulkAction, Options, Vec<i64>)> {
    let mut v = Validator::default();
    let action = BulkAction::parse(&req.action);
    v.check(
        action.is_some(),
        "body.action",
        "must be revoke, disable, enable, extend, tag, untag or delete",
    );
    v.check(
        req.ids.is_some() != req.filter.is_some(),
        "body.ids",
        "give either ids or filter",
    );
    if let Some(ids) = &req.ids {
        v.check(
            ids.len() <= MAX_ITEMS,
            "body.ids",
            "at most 10000 ids per request",
        );
        v.check(!ids.is_empty(), "body.ids", "must not be empty");
    }
    let mut opts = Options {
        expires_at: None,
        tags: Vec::new(),
    };
    match action {
        Some(BulkAction::Extend) => match req.expires_at.as_deref() {
            Some(text) => opts.expires_at = super::parse_future(&mut v, text, now),
            None => {
                v.check(false, "body.expires_at", "is required for extend");
            }
        },
        Some(BulkAction::Tag | BulkAction::Untag) => {
            let tags = super::validate::normalized(req.tags.as_deref().unwrap_or_default());
            v.check(
                !tags.is_empty(),
                "body.tags",
                "is required for tag and untag",
            );
            super::validate::tags(&mut v, &tags);
            opts.tags = tags;
        }
        _ => {}
    }
    let filter = req
        .filter
        .as_ref()
        .map(|q| super::list::filter_of(&mut v, access, q, to_millis(now)));
    v.finish()?;
    let action = action.ok_or_else(AppError::internal)?;
    let ids = match (&req.ids, filter) {
        (Some(ids), _) => {
            let mut seen = std::collections::HashSet::new();
            ids.iter().copied().filter(|id| seen.insert(*id)).collect()
        }
        (None, Some(filter)) => {
            let (rows, total) =
                db::keys::list(ctx.db, &filter, to_millis(now), MAX_ITEMS as i64, 0)
                    .await
                    .map_err(db_failure)?;
            if total > MAX_ITEMS as i64 {
                return Err(AppError::validation(vec![crate::error::FieldError {
                    field: "body.filter".into(),
                    message: format!("matches {total} keys; at most 10000 per request"),
                }]));
            }
            rows.iter().map(|r| r.id).collect()
        }
        (None, None) => Vec::new(),
    };
    Ok((action, opts, ids))
}

/// Runs (or, with `dry_run`, previews) a bulk operation for `actor`.
pub async fn bulk_keys(
    ctx: &KeyContext<'_>,
    actor: &Actor,
    req: &BulkRequest,
    now: Timestamp,
) -> AppResult<BulkOutcome> {
    let access = KeyAccess::load(ctx.db, actor).await?;
    if access.viewer {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "Viewers cannot change keys.",
        ));
    }
    let (action, opts, ids) = select(ctx, &access, req, now).await?;
    if req.background && !req.dry_run && ids.len() > BACKGROUND_MIN_ITEMS {
        return super::bulk_jobs::queue(ctx, actor, action, opts, ids, now).await;
    }
    execute(
        ctx,
        actor,
        &access,
        action,
        &opts,
        &ids,
        req.dry_run,
        None,
        now,
    )
    .await
}

/// Decides every item, then (unless `dry_run`) writes the changes under operation `op` (a
/// queued background operation) or a new one, with progress recorded after each chunk.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn execute(
    ctx: &KeyContext<'_>,
    actor: &Actor,
    access: &KeyAccess,
    action: BulkAction,
    opts: &Options,
    ids: &[i64],
    dry_run: bool,
    op: Option<i64>,
    now: Timestamp,
) -> AppResult<BulkOutcome> {
    let now_ms = to_millis(now);
    let rows: HashMap<i64, KeyRow> = db::key_bulk::find_many(ctx.db, ids)
        .await
        .map_err(db_failure)?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    // Decide every item first; only the writable, changeable ones reach the database.
    let mut results = Vec::with_capacity(ids.len());
    let mut planned: Vec<(usize, Option<KeyRow>)> = Vec::new();
    for &id in ids {
        let row = match rows.get(&id) {
            Some(row) if access.can_read(row) => row,
            _ => {
                results.push(failed(id, "NOT_FOUND", None));
                continue;
            }
        };
        if !access.can_write(row) {
            results.push(failed(id, "FORBIDDEN", Some(&row.name)));
            continue;
        }
        match decide(action, row, opts, now_ms) {
            Ok((new, change)) => {
                planned.push((results.len(), new));
                results.push(BulkItemResult {
                    id,
                    ok: true,
                    error_code: None,
                    change: Some(change),
                    name: Some(row.name.clone()),
                });
            }
            Err(code) => results.push(failed(id, code, Some(&row.name))),
        }
    }
    if dry_run {
        return Ok(BulkOutcome {
            operation_id: None,
            dry_run: true,
            queued: false,
            results,
        });
    }
    let op_id = match op {
        Some(id) => id,
        None => db::key_bulk::create_op(
            ctx.db,
            actor.user.id.0,
            action.as_str(),
            ids.len() as i64,
            "running",
            None,
            now_ms,
        )
        .await
        .map_err(db_failure)?,
    };
    write_planned(
        ctx,
        actor,
        action,
        op_id,
        &rows,
        planned,
        &mut results,
        now_ms,
        op.is_some(),
    )
    .await;
    let failed_n = results.iter().filter(|r| !r.ok).count() as i64;
    let done = results.len() as i64 - failed_n;
    let stored = serde_json::to_string(&results).ok();
    db::key_bulk::update_op(
        ctx.db,
        op_id,
        done,
        failed_n,
        "done",
        stored.as_deref(),
        Some(now_ms),
    )
    .await
    .map_err(db_failure)?;
    notify_owners(ctx, action, op_id, &rows, &results, now_ms).await;
    ctx.jobs_wake.notify_one();
    tracing::info!(
        operation_id = op_id,
        action = action.as_str(),
        done,
        failed = failed_n,
        "bulk key operation"
    );
    Ok(BulkOutcome {
        operation_id: Some(op_id),
        dry_run: false,
        queued: false,
        results,
    })
}

/// Writes the planned items chunk by chunk, turning a vanished key into NOT_FOUND and a
/// failed chunk into INTERNAL_ERROR for its items only; drops changed keys from the cache.
#[allow(clippy::too_many_arguments)]
async fn write_planned(
    ctx: &KeyContext<'_>,
    actor: &Actor,
    action: BulkAction,
    op_id: i64,
    rows: &HashMap<i64, KeyRow>,
    planned: Vec<(usize, Option<KeyRow>)>,
    results: &mut [BulkItemResult],
    now_ms: i64,
    progress: bool,
) {
    let total_failed_upfront = results.iter().filter(|r| !r.ok).count() as i64;
    let mut written = 0i64;
    let mut chunk_failed = 0i64;
    for chunk in planned.chunks(WRITE_CHUNK) {
        let writes: Vec<ItemWrite<'_>> = chunk
            .iter()
            .filter_map(|(i, new)| {
                let id = results[*i].id;
                let old = rows.get(&id)?;
                let with_op = |row: &KeyRow| {
                    let mut values: serde_json::Value =
                        serde_json::from_str(&audit_values(row)).unwrap_or_default();
                    values["bulk_operation_id"] = op_id.into();
                    values.to_string()
                };
                let mut audit = actor.audit_entry(
                    action.audit_action(),
                    Some(audit_values(old)),
                    Some(new.as_ref().map_or_else(
                        || serde_json::json!({ "bulk_operation_id": op_id }).to_string(),
                        with_op,
                    )),
                    now_ms,
                );
                // One summary notice per owner instead of one event per key.
                audit.event = None;
                Some(ItemWrite {
                    id,
                    row: new.clone(),
                    audit,
                })
            })
            .collect();
        match db::key_bulk::apply_chunk(ctx.db, &writes).await {
            Ok(applied) => {
                for ((i, _), ok) in chunk.iter().zip(applied) {
                    if !ok {
                        results[*i] = failed(results[*i].id, "NOT_FOUND", None);
                    }
                }
            }
            Err(e) => {
                tracing::error!(operation_id = op_id, error = %e, "bulk chunk failed");
                for (i, _) in chunk {
                    results[*i].ok = false;
                    results[*i].error_code = Some("INTERNAL_ERROR".into());
                }
            }
        }
        for (i, _) in chunk {
            if let Some(old) = rows.get(&results[*i].id) {
                forget(ctx.cache, &old.key_hash);
            }
            written += 1;
            if !results[*i].ok {
                chunk_failed += 1;
            }
        }
        // Progress for `GET /keys/bulk/{id}`, for background runs (someone watches the bar;
        // a synchronous caller gets every result at once). A lost update only delays the bar.
        if !progress {
            continue;
        }
        let failed_so_far = total_failed_upfront + chunk_failed;
        if let Err(e) = db::key_bulk::update_op(
            ctx.db,
            op_id,
            written - chunk_failed,
            failed_so_far,
            "running",
            None,
            None,
        )
        .await
        {
            tracing::warn!(operation_id = op_id, error = %e, "bulk progress not recorded");
        }
    }
}

/// One `key.revoked` / `key.disabled` event per owner for the keys of theirs this operation
/// changed (a notice failing to be written loses only the notice, not the change).
async fn notify_owners(
    ctx: &KeyContext<'_>,
    action: BulkAction,
    op_id: i64,
    rows: &HashMap<i64, KeyRow>,
    results: &[BulkItemResult],
    now_ms: i64,
) {
    let kind = match action {
        BulkAction::Revoke => kinds::KEY_REVOKED,
        BulkAction::Disable => kinds::KEY_DISABLED,
        _ => return,
    };
    let mut per_owner: BTreeMap<(i64, Option<i64>), Vec<&KeyRow>> = BTreeMap::new();
    for r in results.iter().filter(|r| r.ok) {
        if let Some(row) = rows.get(&r.id) {
            per_owner
                .entry((row.owner_user_id, row.org_id))
                .or_default()
                .push(row);
        }
    }
    for ((owner, org), keys) in per_owner {
        let name = match keys.as_slice() {
            [one] => one.name.clone(),
            many => format!("{} keys", many.len()),
        };
        let event = NewEvent {
            kind,
            user_id: Some(owner),
            org_id: org,
            subject_type: "bulk_operation",
            subject_id: Some(op_id),
            data: serde_json::json!({
                "name": name, "prefix": keys[0].prefix, "last4": keys[0].last4,
                "bulk_operation_id": op_id, "count": keys.len(),
                "key_ids": keys.iter().map(|k| k.id).collect::<Vec<_>>(),
            }),
        };
        if let Err(e) = db::events::insert(ctx.db, &event, now_ms).await {
            tracing::warn!(operation_id = op_id, error = %e, "bulk summary notice failed");
        }
    }
}
