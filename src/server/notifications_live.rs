//! The notification bell's live count (`GET /notifications/live`, server-sent events for the
//! signed-in browser) and the hub that tells its streams a user's notifications changed.
//!
//! Whoever stores, reads or removes a user's notifications calls
//! [`NotificationHub::changed`] (the event dispatch, broadcasts, marking read); each of that
//! user's open streams then reads the unread count again and sends it if it moved. The hub
//! lives in one process: with several instances behind a balancer a change made on another
//! one reaches the stream at its next idle re-read (`IDLE_REFRESH`), never later.

use super::live::{MAX_LIFE, RETRY};
use super::portal_auth::PortalUser;
use super::state::AppState;
use crate::error::AppError;
use axum::Extension;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// How often a stream re-reads the count without a signal (changes made by other instances).
const IDLE_REFRESH: Duration = Duration::from_secs(30);

/// Per-user change signals. A user without an open stream has no entry; an entry whose
/// streams have all ended is dropped at the next signal or subscription.
#[derive(Debug, Default)]
pub struct NotificationHub {
    users: Mutex<HashMap<i64, watch::Sender<u64>>>,
}

impl NotificationHub {
    /// `user_id`'s notifications changed: wakes that user's streams (and nobody else's).
    pub fn changed(&self, user_id: i64) {
        let Ok(mut users) = self.users.lock() else {
            return;
        };
        if let Some(tx) = users.get(&user_id) {
            if tx.receiver_count() == 0 {
                users.remove(&user_id);
            } else {
                tx.send_modify(|n| *n = n.wrapping_add(1));
            }
        }
    }

    /// A receiver that sees every later [`NotificationHub::changed`] of `user_id`.
    pub fn subscribe(&self, user_id: i64) -> watch::Receiver<u64> {
        let Ok(mut users) = self.users.lock() else {
            // A poisoned lock (a panic while holding it, which nothing here does): a receiver
            // that never fires; the stream still re-reads on its idle refresh.
            return watch::Sender::new(0).subscribe();
        };
        users.retain(|_, tx| tx.receiver_count() > 0);
        users
            .entry(user_id)
            .or_insert_with(|| watch::Sender::new(0))
            .subscribe()
    }

    /// Users with an open stream, for tests and metrics.
    pub fn watched_users(&self) -> usize {
        self.users
            .lock()
            .map(|u| u.values().filter(|tx| tx.receiver_count() > 0).count())
            .unwrap_or(0)
    }
}

/// An `unread` event's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Unread {
    pub unread: i64,
}

struct Stream {
    state: AppState,
    user_id: i64,
    changes: watch::Receiver<u64>,
    started: Instant,
    /// The count last sent; None before the first event.
    sent: Option<i64>,
}

impl Stream {
    /// The next count that differs from the last one sent (the first always goes out). `None`
    /// ends the stream: its lifetime is up, or the server is stopping.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if self.sent.is_some() {
                let wait = async {
                    tokio::select! {
                        changed = self.changes.changed() => changed.is_ok(),
                        _ = tokio::time::sleep(IDLE_REFRESH) => true,
                    }
                };
                let go_on = tokio::select! {
                    go_on = wait => go_on,
                    _ = self.state.stopped() => false,
                    _ = tokio::time::sleep(MAX_LIFE.saturating_sub(self.started.elapsed())) => false,
                };
                if !go_on {
                    return None;
                }
            }
            if self.started.elapsed() >= MAX_LIFE {
                return None;
            }
            let unread = match crate::db::notifications::unread_count(&self.state.db, self.user_id)
                .await
            {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the unread count for the live bell failed");
                    // Tried again at the next signal or idle refresh.
                    if self.sent.is_none() {
                        self.sent = Some(-1);
                    }
                    continue;
                }
            };
            if self.sent == Some(unread) {
                continue;
            }
            self.sent = Some(unread);
            return Some(
                Event::default()
                    .event("unread")
                    .json_data(Unread { unread })
                    .unwrap_or_else(|_| Event::default().event("unread").data("{}")),
            );
        }
    }
}

pub async fn notifications_live(
    State(state): State<AppState>,
    Extension(PortalUser(user)): Extension<PortalUser>,
) -> Response {
    let Some(user) = user else {
        return AppError::unauthorized().into_response();
    };
    let user_id = user.id.0;
    let stream = Stream {
        changes: state.notifications.subscribe(user_id),
        state,
        user_id,
        started: Instant::now(),
        sent: None,
    };
    let events = futures_util::stream::unfold(stream, |mut s| async move {
        let event = s.next().await?.retry(RETRY);
        Some((Ok::<_, Infallible>(event), s))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_change_reaches_that_users_streams_only() {
        let hub = NotificationHub::default();
        let mut alice = hub.subscribe(1);
        let mut alice_too = hub.subscribe(1);
        let mut bob = hub.subscribe(2);
        hub.changed(1);
        assert!(alice.has_changed().unwrap() && alice_too.has_changed().unwrap());
        assert!(!bob.has_changed().unwrap());
        alice.mark_unchanged();
        alice_too.mark_unchanged();
        bob.mark_unchanged();
        hub.changed(3); // nobody listens: nothing kept
        assert_eq!(hub.watched_users(), 2);
        drop(bob);
        hub.changed(2);
        assert_eq!(hub.watched_users(), 1);
        assert!(
            hub.users.lock().unwrap().get(&2).is_none(),
            "dropped once unwatched"
        );
    }
}
