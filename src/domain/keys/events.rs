//! The events key changes raise, written with their audit records, and what a change asks
//! of the job runner afterwards.

use super::KeyContext;
use crate::db::{events::NewEvent, keys::KeyRow};
use crate::domain::events::kinds;
use serde_json::json;

/// The event an audited key `action` raises, about `row` (the key after the change).
pub(super) fn event_of(action: &str, row: &KeyRow) -> Option<NewEvent> {
    let kind = match action {
        "key.created" => kinds::KEY_CREATED,
        "key.rotated" => kinds::KEY_ROTATED,
        "key.revoked" => kinds::KEY_REVOKED,
        "key.disabled" => kinds::KEY_DISABLED,
        _ => return None,
    };
    let mut data = json!({
        "name": row.name, "prefix": row.prefix, "last4": row.last4,
        "expires_at": row.expires_at,
    });
    if kind == kinds::KEY_ROTATED {
        // The old key's revocation is the end of its grace period.
        data["grace_ends_at"] = json!(row.revoked_at);
    }
    Some(NewEvent {
        kind,
        user_id: Some(row.owner_user_id),
        org_id: row.org_id,
        subject_type: "api_key",
        subject_id: (row.id > 0).then_some(row.id),
        data,
    })
}

/// After a committed change of `row` (from `old`, None for a new key): a new expiry may put
/// it in a warning window now, so a scan is asked for (a failure only delays the notice to
/// the next periodic scan); and the runner is woken for the change's event.
pub(super) async fn after_change(
    ctx: &KeyContext<'_>,
    old: Option<&KeyRow>,
    row: &KeyRow,
    now: crate::domain::Timestamp,
) {
    if row.expires_at.is_some()
        && old.map(|o| o.expires_at) != Some(row.expires_at)
        && let Err(e) = crate::domain::expiry::check_soon(ctx.db, now).await
    {
        tracing::warn!(key_id = row.id, error = %e.detail, "asking for an expiry scan failed");
    }
    ctx.jobs_wake.notify_one();
}
