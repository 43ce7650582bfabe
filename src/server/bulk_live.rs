//! A bulk operation's live progress (`GET /keys/bulk/{id}/live`, server-sent events for the
//! signed-in browser that started it, or an admin): a `progress` event whenever the counts
//! move, the last one once the operation is over, then the stream ends.

use super::live::RETRY;
use super::portal_auth::PortalUser;
use super::state::AppState;
use crate::app::bulk_types::BulkOperation;
use crate::domain::keys::{Actor, bulk_ops::get_bulk_operation};
use crate::error::AppError;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::time::Duration;

/// How often the stream reads the operation's counts (the job writes them every 500 keys).
const POLL: Duration = Duration::from_millis(500);
/// A stream never outlives this; the browser reconnects if the operation is still running.
const MAX_POLLS: u32 = 1200;

fn finished(op: &BulkOperation) -> bool {
    op.status == "done" || op.status == "failed"
}

fn event_of(op: &BulkOperation) -> Event {
    let data = serde_json::json!({
        "total": op.total, "done": op.done, "failed": op.failed, "status": op.status,
    });
    Event::default()
        .event("progress")
        .data(data.to_string())
        .retry(RETRY)
}

struct Follow {
    state: AppState,
    actor: Actor,
    id: i64,
    last: Option<(i64, i64, String)>,
    polls: u32,
    over: bool,
}

impl Follow {
    async fn next(&mut self) -> Option<Event> {
        loop {
            if self.over || self.polls >= MAX_POLLS {
                return None;
            }
            if self.last.is_some() {
                tokio::select! {
                    _ = tokio::time::sleep(POLL) => {}
                    _ = self.state.stopped() => return None,
                }
            }
            self.polls += 1;
            let op = match get_bulk_operation(&self.state.db, &self.actor, self.id).await {
                Ok(op) => op,
                Err(e) => {
                    tracing::warn!(operation_id = self.id, error = %e.detail, "bulk progress read failed");
                    return None;
                }
            };
            let now = (op.done, op.failed, op.status.clone());
            if self.last.as_ref() == Some(&now) {
                continue;
            }
            self.over = finished(&op);
            self.last = Some(now);
            return Some(event_of(&op));
        }
    }
}

pub async fn bulk_live(
    State(state): State<AppState>,
    Extension(PortalUser(user)): Extension<PortalUser>,
    Path(id): Path<String>,
) -> Response {
    let Some(user) = user else {
        return AppError::unauthorized().into_response();
    };
    let Ok(id) = id.parse::<i64>() else {
        return AppError::not_found("Bulk operation").into_response();
    };
    let actor = Actor {
        user,
        client: Default::default(),
    };
    // Someone else's (or no) operation: 404 before any stream starts.
    if let Err(e) = get_bulk_operation(&state.db, &actor, id).await {
        return e.into_response();
    }
    let follow = Follow {
        state,
        actor,
        id,
        last: None,
        polls: 0,
        over: false,
    };
    let events = futures_util::stream::unfold(follow, |mut f| async move {
        let event = f.next().await?;
        Some((Ok::<_, Infallible>(event), f))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}
