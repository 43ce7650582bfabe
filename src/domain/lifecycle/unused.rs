//! The unused-key scan: keys not used for the policy's `after_days` (never used: counted from
//! creation) are flagged (`key.unused`) or disabled (`key.disabled`), audited as done by the
//! system (no actor). A key is acted on once; only a use after that makes it eligible again
//! (`api_keys.unused_flagged_at`). Each call handles at most `UNUSED_SCAN_BATCH` keys; the
//! `keys.unused_scan` job runs it hourly.

use super::DAY_MS;
use crate::app::lifecycle_types::UnusedAction;
use crate::db::{self, events::NewEvent};
use crate::domain::events::kinds;
use crate::domain::{Timestamp, db_failure, to_millis};
use crate::error::AppResult;
use crate::server::state::AppState;

pub const UNUSED_SCAN_BATCH: i64 = 200;

/// Runs one batch at `now`; returns how many keys it flagged or disabled. Idempotent: a
/// second run at the same `now` (or another instance's) acts on nothing twice.
pub async fn scan_unused(state: &AppState, now: Timestamp) -> AppResult<usize> {
    let policy = super::current_policy(&state.db).await?;
    let Some(rule) = policy.unused_keys else {
        return Ok(0);
    };
    // Uses this instance holds in memory count: write them first.
    crate::domain::keys::flush_last_used(&state.db, &state.key_cache).await?;
    let now_ms = to_millis(now);
    let cutoff = now_ms.saturating_sub(rule.after_days.saturating_mul(DAY_MS));
    let keys = db::lifecycle::unused_keys(&state.db, now_ms, cutoff, UNUSED_SCAN_BATCH)
        .await
        .map_err(db_failure)?;
    let disable = rule.action == UnusedAction::Disable;
    let action = if disable {
        "key.disabled"
    } else {
        "key.unused"
    };
    let mut acted = 0;
    for key in keys {
        let details = serde_json::json!({
            "name": key.name, "owner_user_id": key.owner_user_id,
            "last_used_at": key.last_used_at, "created_at": key.created_at,
            "unused_days": rule.after_days, "action": rule.action.as_str(),
            "reason": "unused",
        })
        .to_string();
        let entry = db::audit::AuditEntry {
            actor_user_id: None,
            action,
            old_values: None,
            new_values: Some(details),
            ip: "",
            user_agent: "keyport unused-key scan",
            now_ms,
            // The owner hears of it (notices, mail, webhooks) through the event.
            event: Some(NewEvent {
                kind: if disable {
                    kinds::KEY_DISABLED
                } else {
                    kinds::KEY_UNUSED
                },
                user_id: Some(key.owner_user_id),
                org_id: key.org_id,
                subject_type: "api_key",
                subject_id: Some(key.id),
                data: serde_json::json!({
                    "name": key.name, "prefix": key.prefix, "last4": key.last4,
                    "days": rule.after_days, "last_used_at": key.last_used_at,
                    "reason": format!("not used for {} days", rule.after_days),
                }),
            }),
        };
        if db::lifecycle::mark_unused(&state.db, key.id, disable, now_ms, cutoff, &entry)
            .await
            .map_err(db_failure)?
        {
            acted += 1;
            if disable && let Some(h) = crate::domain::keys::hex_to_hash(&key.key_hash) {
                state.key_cache.forget(&h);
            }
            tracing::info!(key_id = key.id, action, "unused key");
        }
    }
    if acted > 0 {
        state.wake_jobs();
    }
    Ok(acted)
}
