//! Usage analytics: rollups of raw usage events, and the queries answered from them.

pub mod breakdown;
pub mod export;
pub mod histogram;
pub mod pending;
pub mod query;
pub mod rollup;
pub mod top;

use crate::db::{self, Db};
use crate::domain::db_failure;
use crate::error::AppResult;

/// Raw events read back per query while recovering.
const RECOVER_CHUNK: i64 = 20_000;

/// Counts the raw events stored at or after the rollups' marks and before `until_ms` (events a
/// stopped or crashed writer stored without storing their minutes, or their hours and days),
/// moving both marks to `until_ms`. Run at start, before this process records anything: its own events are all
/// later than `until_ms`. Returns the events counted.
pub async fn recover(db: &Db, until_ms: i64) -> AppResult<usize> {
    let marks = db::rollups::rolled_up_to(db).await.map_err(db_failure)?;
    let from = marks.coarse.min(marks.minute);
    let pending = pending::PendingRollups::default();
    let mut after = None;
    let mut counted = 0;
    loop {
        let chunk = db::rollups::events_between(db, from, until_ms, after, RECOVER_CHUNK)
            .await
            .map_err(db_failure)?;
        let Some(last) = chunk.last() else { break };
        after = Some((last.at_ms, last.id));
        counted += chunk.len();
        // Events before the minute mark are in the stored minute rows already.
        let (minutes_stored, rest): (Vec<_>, Vec<_>) =
            chunk.iter().partition(|e| e.at_ms < marks.minute);
        pending.add_coarse_only(minutes_stored.into_iter().map(rollup::RawEvent::fact));
        pending.add(rest.into_iter().map(rollup::RawEvent::fact));
        // Read in time order: the minutes before the last event's are complete.
        let minute = rollup::Granularity::Minute.bucket_start(last.at_ms);
        pending
            .flush(db, minute, minute)
            .await
            .map_err(db_failure)?;
        if (chunk.len() as i64) < RECOVER_CHUNK {
            break;
        }
    }
    pending
        .flush(db, i64::MAX, until_ms)
        .await
        .map_err(db_failure)?;
    Ok(counted)
}

/// Deletes minute rollups older than `days` before `now_ms` (hour and day rollups stay);
/// returns how many went.
pub async fn purge_minute_rows(db: &Db, now_ms: i64, days: u32) -> AppResult<u64> {
    let cutoff = pending::minutes_kept_since(now_ms, days);
    db::rollups::delete_minutes_before(db, cutoff)
        .await
        .map_err(db_failure)
}

/// What a key's usage report or export covers: checked range, key visible to the actor.
async fn key_scope(
    ctx: &crate::domain::keys::KeyContext<'_>,
    pending: &pending::PendingRollups,
    actor: &crate::domain::keys::Actor,
    id: crate::app::types::KeyId,
    q: &query::RangeQuery,
    now: crate::domain::Timestamp,
) -> AppResult<(query::Range, db::rollups::RollupFilter)> {
    let mut v = crate::error::Validator::default();
    let minutes_since = pending.minutes_since(crate::domain::to_millis(now));
    let range = query::range_of(&mut v, q, now, minutes_since);
    v.finish()?;
    crate::domain::keys::load_visible(ctx, actor, id).await?;
    let filter = db::rollups::RollupFilter {
        key_id: Some(id.0),
        ..Default::default()
    };
    Ok((range.ok_or_else(crate::error::AppError::internal)?, filter))
}

/// What a usage report or export covers: the caller's own keys (admins: everyone's, or one
/// owner's), optionally one key, API or route.
async fn usage_scope(
    ctx: &crate::domain::keys::KeyContext<'_>,
    pending: &pending::PendingRollups,
    actor: &crate::domain::keys::Actor,
    q: &query::UsageQuery,
    now: crate::domain::Timestamp,
) -> AppResult<(query::Range, db::rollups::RollupFilter)> {
    let mut v = crate::error::Validator::default();
    let minutes_since = pending.minutes_since(crate::domain::to_millis(now));
    let range = query::range_of(&mut v, &q.range(), now, minutes_since);
    let endpoint = q.endpoint.as_deref().map(str::trim);
    v.check(
        endpoint.is_none_or(|e| !e.is_empty() && e.len() <= 512),
        "query.endpoint",
        "must be a route such as GET /tickets/{id}, at most 512 bytes",
    );
    v.finish()?;
    let is_admin = actor.user.role.is_admin();
    if !is_admin && q.owner_user_id.is_some_and(|id| id != actor.user.id.0) {
        return Err(crate::error::AppError::forbidden());
    }
    if let Some(key) = q.key_id {
        crate::domain::keys::load_visible(ctx, actor, crate::app::types::KeyId(key)).await?;
    }
    let filter = db::rollups::RollupFilter {
        key_id: q.key_id,
        api_id: q.api_id,
        owner_user_id: if is_admin {
            q.owner_user_id
        } else {
            Some(actor.user.id.0)
        },
        endpoint: endpoint.map(str::to_string),
    };
    Ok((range.ok_or_else(crate::error::AppError::internal)?, filter))
}

/// A key's usage, for its owner (and admins); others' keys answer NOT_FOUND.
pub async fn key_usage(
    ctx: &crate::domain::keys::KeyContext<'_>,
    pending: &pending::PendingRollups,
    actor: &crate::domain::keys::Actor,
    id: crate::app::types::KeyId,
    q: &query::RangeQuery,
    now: crate::domain::Timestamp,
) -> AppResult<crate::app::usage_types::UsageReport> {
    let (range, filter) = key_scope(ctx, pending, actor, id, q, now).await?;
    query::report(ctx.db, pending, range, &filter).await
}

/// Usage of the caller's own keys (admins: everyone's), optionally of one key or API.
pub async fn usage(
    ctx: &crate::domain::keys::KeyContext<'_>,
    pending: &pending::PendingRollups,
    actor: &crate::domain::keys::Actor,
    q: &query::UsageQuery,
    now: crate::domain::Timestamp,
) -> AppResult<crate::app::usage_types::UsageReport> {
    let (range, filter) = usage_scope(ctx, pending, actor, q, now).await?;
    query::report(ctx.db, pending, range, &filter).await
}

/// [`usage`] with its breakdown by outcome and its busiest keys and routes (the usage page).
pub async fn usage_with_breakdown(
    ctx: &crate::domain::keys::KeyContext<'_>,
    pending: &pending::PendingRollups,
    actor: &crate::domain::keys::Actor,
    q: &query::UsageQuery,
    now: crate::domain::Timestamp,
) -> AppResult<(
    crate::app::usage_types::UsageReport,
    crate::app::usage_types::UsageBreakdown,
)> {
    let (range, filter) = usage_scope(ctx, pending, actor, q, now).await?;
    // Side by side: each reads on its own pooled connection (SQLite's WAL lets readers run
    // together), so the page waits for the slower of the two rather than for both.
    tokio::try_join!(
        query::report(ctx.db, pending, range, &filter),
        breakdown::breakdown(ctx.db, pending, range, &filter),
    )
}

/// A started export: its format and range, and the body's chunks as they come.
pub struct Export {
    pub format: export::ExportFormat,
    pub range: query::Range,
    pub body: tokio::sync::mpsc::Receiver<Result<bytes::Bytes, std::io::Error>>,
}

fn export_format(text: Option<&str>) -> AppResult<export::ExportFormat> {
    let format = export::ExportFormat::parse(text);
    let mut v = crate::error::Validator::default();
    v.check(format.is_some(), "query.format", "must be csv or json");
    v.finish()?;
    format.ok_or_else(crate::error::AppError::internal)
}

/// A key's usage rows, streamed as CSV or JSON.
pub async fn key_export(
    ctx: &crate::domain::keys::KeyContext<'_>,
    pending: &pending::PendingRollups,
    actor: &crate::domain::keys::Actor,
    id: crate::app::types::KeyId,
    q: &query::KeyExportQuery,
    now: crate::domain::Timestamp,
) -> AppResult<Export> {
    let format = export_format(q.format.as_deref())?;
    let (range, filter) = key_scope(ctx, pending, actor, id, &q.range(), now).await?;
    let body = export::stream(ctx.db, pending, range, filter, format).await;
    Ok(Export {
        format,
        range,
        body,
    })
}

/// Usage rows of the caller's keys (admins: all), streamed as CSV or JSON.
pub async fn usage_export(
    ctx: &crate::domain::keys::KeyContext<'_>,
    pending: &pending::PendingRollups,
    actor: &crate::domain::keys::Actor,
    q: &query::UsageExportQuery,
    now: crate::domain::Timestamp,
) -> AppResult<Export> {
    let format = export_format(q.format.as_deref())?;
    let (range, filter) = usage_scope(ctx, pending, actor, &q.usage(), now).await?;
    let body = export::stream(ctx.db, pending, range, filter, format).await;
    Ok(Export {
        format,
        range,
        body,
    })
}

#[cfg(test)]
mod tests;
