//! Usage analytics: rollups of raw usage events, and the queries answered from them.

pub mod histogram;
pub mod rollup;

use crate::db::{self, Db};
use crate::domain::db_failure;
use crate::error::AppResult;
use rollup::aggregate;

#[derive(Clone, Copy, Debug)]
pub struct RollupSettings {
    /// Raw events read per pass.
    pub batch: i64,
    /// Only events older than this are rolled up. On PostgreSQL ids are taken before commit,
    /// so a slow writer's lower ids can appear after higher ones; waiting out the writer's
    /// longest transaction keeps any event from being passed over. SQLite has one writer: 0.
    pub lag_ms: i64,
}

impl RollupSettings {
    pub fn for_db(db: &Db) -> Self {
        RollupSettings {
            batch: 50_000,
            lag_ms: match db {
                Db::Sqlite(_) => 0,
                // The usage writer's retries span about a minute (see usage::recorder).
                Db::Postgres(_) => 90_000,
            },
        }
    }
}

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RollupPass {
    pub events: usize,
    pub rows: usize,
    /// Fewer events than a batch were waiting: nothing more to do now.
    pub caught_up: bool,
}

/// Rolls up the next batch of raw events, if any. Safe to run on several instances at once:
/// each batch is counted by exactly one of them.
pub async fn roll_up_once(db: &Db, now_ms: i64, s: RollupSettings) -> AppResult<RollupPass> {
    let from = db::rollups::progress(db).await.map_err(db_failure)?;
    let mut events = db::rollups::events_after(db, from, s.batch)
        .await
        .map_err(db_failure)?;
    let full = events.len() as i64 >= s.batch;
    if s.lag_ms > 0 {
        let cutoff = now_ms - s.lag_ms;
        if let Some(young) = events.iter().position(|e| e.at_ms >= cutoff) {
            events.truncate(young);
        }
    }
    let Some(last) = events.last().map(|e| e.id) else {
        return Ok(RollupPass {
            caught_up: true,
            ..RollupPass::default()
        });
    };
    let rows = aggregate(&events);
    let list: Vec<_> = rows.iter().collect();
    let applied = db::rollups::apply(db, &list, from, last)
        .await
        .map_err(db_failure)?;
    Ok(RollupPass {
        events: if applied { events.len() } else { 0 },
        rows: if applied { list.len() } else { 0 },
        caught_up: !full,
    })
}

/// Passes until no full batch is left; returns the events rolled up.
pub async fn catch_up(db: &Db, now_ms: i64, s: RollupSettings) -> AppResult<usize> {
    let mut total = 0;
    loop {
        let pass = roll_up_once(db, now_ms, s).await?;
        total += pass.events;
        if pass.caught_up || pass.events == 0 {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests;
