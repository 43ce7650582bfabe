//! Usage analytics: rollups of raw usage events, and the queries answered from them.

pub mod histogram;
pub mod query;
pub mod rollup;

use crate::db::{self, Db};
use crate::domain::db_failure;
use crate::error::AppResult;

#[derive(Clone, Copy, Debug)]
pub struct RollupSettings {
    /// Raw events read per query.
    pub chunk: i64,
    /// Raw events rolled up per pass at most (bounds the time a pass takes on a backlog).
    pub max_events: usize,
    /// The pause between reads, so a pass leaves the database and the CPU to requests most
    /// of the time.
    pub pause: std::time::Duration,
    /// Only whole minutes are rolled up, once they ended this long ago: each minute's rows
    /// are then written about once, instead of once for every pass that saw part of it.
    /// (An event that comes later still counts: it is added by a later pass.)
    pub settle_ms: i64,
    /// Only events older than this are rolled up. On PostgreSQL ids are taken before commit,
    /// so a slow writer's lower ids can appear after higher ones; waiting out the writer's
    /// longest transaction keeps any event from being passed over. SQLite has one writer: 0.
    pub lag_ms: i64,
}

impl RollupSettings {
    pub fn for_db(db: &Db) -> Self {
        RollupSettings {
            chunk: 20_000,
            max_events: 5_000_000,
            pause: std::time::Duration::from_millis(20),
            settle_ms: 2_000,
            lag_ms: match db {
                Db::Sqlite(_) => 0,
                // The usage writer's retries span about a minute (see usage::recorder).
                Db::Postgres(_) => 90_000,
            },
        }
    }

    /// Everything there is, at once (tests, tools).
    pub fn immediate() -> Self {
        RollupSettings {
            chunk: 20_000,
            max_events: usize::MAX,
            pause: std::time::Duration::ZERO,
            settle_ms: 0,
            lag_ms: 0,
        }
    }

    /// Events from this instant on wait for a later pass.
    fn cutoff(&self, now_ms: i64) -> i64 {
        let mut cutoff = i64::MAX;
        if self.settle_ms > 0 {
            cutoff = cutoff.min(rollup::Granularity::Minute.bucket_start(now_ms - self.settle_ms));
        }
        if self.lag_ms > 0 {
            cutoff = cutoff.min(now_ms - self.lag_ms);
        }
        cutoff
    }
}

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RollupPass {
    pub events: usize,
    pub rows: usize,
}

/// Rolls up the raw events that are ready (see [`RollupSettings`]) in one transaction. Safe
/// to run on several instances at once: each event is counted by exactly one of them.
pub async fn roll_up_once(db: &Db, now_ms: i64, s: RollupSettings) -> AppResult<RollupPass> {
    let from = db::rollups::progress(db).await.map_err(db_failure)?;
    let cutoff = s.cutoff(now_ms);
    let mut rows = std::collections::BTreeMap::new();
    let (mut last, mut count) = (from, 0usize);
    loop {
        let chunk = db::rollups::events_after(db, last, s.chunk)
            .await
            .map_err(db_failure)?;
        let read = chunk.len();
        // In id order, up to the first event that is not ready: nothing after it may count
        // before it does.
        let ready = chunk.iter().take_while(|e| e.at_ms < cutoff).count();
        if ready == 0 {
            break;
        }
        last = chunk[ready - 1].id;
        count += ready;
        // Aggregation is plain CPU work: off the request threads.
        let mut events = chunk;
        events.truncate(ready);
        rows = tokio::task::spawn_blocking(move || {
            rollup::aggregate_into(&mut rows, &events);
            rows
        })
        .await
        .map_err(|_| crate::error::AppError::internal())?;
        if ready < read || (read as i64) < s.chunk || count >= s.max_events {
            break;
        }
        tokio::time::sleep(s.pause).await;
    }
    if count == 0 {
        return Ok(RollupPass::default());
    }
    let list: Vec<_> = rows.iter().collect();
    let applied = db::rollups::apply(db, &list, from, last)
        .await
        .map_err(db_failure)?;
    Ok(if applied {
        RollupPass {
            events: count,
            rows: list.len(),
        }
    } else {
        RollupPass::default()
    })
}

/// Passes until nothing is ready; returns the events rolled up.
pub async fn catch_up(db: &Db, now_ms: i64, s: RollupSettings) -> AppResult<usize> {
    let mut total = 0;
    loop {
        let pass = roll_up_once(db, now_ms, s).await?;
        if pass.events == 0 {
            return Ok(total);
        }
        total += pass.events;
    }
}

/// A key's usage, for its owner (and admins); others' keys answer NOT_FOUND.
pub async fn key_usage(
    ctx: &crate::domain::keys::KeyContext<'_>,
    actor: &crate::domain::keys::Actor,
    id: crate::app::types::KeyId,
    q: &query::RangeQuery,
    now: crate::domain::Timestamp,
) -> AppResult<crate::app::usage_types::UsageReport> {
    let mut v = crate::error::Validator::default();
    let range = query::range_of(&mut v, q, now);
    v.finish()?;
    crate::domain::keys::load_visible(ctx, actor, id).await?;
    let filter = db::rollups::RollupFilter {
        key_id: Some(id.0),
        ..Default::default()
    };
    match range {
        Some(r) => query::report(ctx.db, r, &filter).await,
        None => Err(crate::error::AppError::internal()),
    }
}

/// Usage of the caller's own keys (admins: everyone's), optionally of one key or API.
pub async fn usage(
    ctx: &crate::domain::keys::KeyContext<'_>,
    actor: &crate::domain::keys::Actor,
    q: &query::UsageQuery,
    now: crate::domain::Timestamp,
) -> AppResult<crate::app::usage_types::UsageReport> {
    let mut v = crate::error::Validator::default();
    let range = query::range_of(&mut v, &q.range(), now);
    v.finish()?;
    if let Some(key) = q.key_id {
        crate::domain::keys::load_visible(ctx, actor, crate::app::types::KeyId(key)).await?;
    }
    let filter = db::rollups::RollupFilter {
        key_id: q.key_id,
        api_id: q.api_id,
        owner_user_id: (!actor.user.role.is_admin()).then_some(actor.user.id.0),
    };
    match range {
        Some(r) => query::report(ctx.db, r, &filter).await,
        None => Err(crate::error::AppError::internal()),
    }
}

#[cfg(test)]
mod tests;
