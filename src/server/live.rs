//! Live updates of the usage page (`GET /usage/live`, server-sent events for the signed-in
//! browser): the page's report and charts again each time the usage writer counts new events,
//! at most once per `MIN_GAP`, and every `IDLE_REFRESH` without traffic so a rolling range
//! moves on with the clock. A stream ends after `MAX_LIFE`; the browser's EventSource
//! reconnects by itself, which checks the session again (a signed-out browser stops there).

use super::portal_auth::PortalUser;
use super::state::AppState;
use crate::app::server_fns::usage::edge::page_query;
use crate::app::usage_types::UsageLive;
use crate::domain::keys::Actor;
use crate::error::{AppError, AppResult};
use axum::extract::{ConnectInfo, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, extract::Request};
use serde::Deserialize;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

const MIN_GAP: Duration = Duration::from_secs(1);
const IDLE_REFRESH: Duration = Duration::from_secs(30);
pub(super) const MAX_LIFE: Duration = Duration::from_secs(600);
/// How long the browser waits before reconnecting after a stream ends.
pub(super) const RETRY: Duration = Duration::from_secs(2);

/// The page's own query string.
#[derive(Debug, Default, Deserialize)]
pub struct LiveQuery {
    #[serde(default)]
    range: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    key: String,
}

struct Stream {
    state: AppState,
    actor: Actor,
    query: LiveQuery,
    changes: watch::Receiver<u64>,
    started: Instant,
    sent: bool,
}

impl Stream {
    /// Waits for new events (or the idle refresh), then reads the report again. `None` ends
    /// the stream: its lifetime is up, or the server is stopping.
    async fn next(&mut self) -> Option<Event> {
        if self.sent {
            let wait = async {
                tokio::time::sleep(MIN_GAP).await;
                tokio::select! {
                    changed = self.changes.changed() => changed.is_ok(),
                    _ = tokio::time::sleep(IDLE_REFRESH) => true,
                }
            };
            let go_on = tokio::select! {
                go_on = wait => go_on,
                _ = self.state.stopped() => false,
            };
            if !go_on {
                return None;
            }
        }
        if self.started.elapsed() >= MAX_LIFE {
            return None;
        }
        self.sent = true;
        Some(match self.read().await {
            Ok(live) => Event::default()
                .event("usage")
                .json_data(live)
                .unwrap_or_else(|_| Event::default().event("usage-error").data("")),
            // The page already shows the error's text; the island says updates stopped.
            Err(e) => Event::default().event("usage-error").data(e.detail),
        })
    }

    async fn read(&self) -> AppResult<UsageLive> {
        let now = time::OffsetDateTime::now_utc();
        let q = &self.query;
        let key = q.key.trim().parse().ok();
        let query = page_query(&q.range, &q.from, &q.to, key, now);
        let (report, breakdown) = crate::domain::analytics::usage_with_breakdown(
            &self.state.key_ctx(),
            self.state.usage.pending(),
            &self.actor,
            &query,
            now,
        )
        .await?;
        Ok(UsageLive {
            charts: crate::app::charts::usage_charts(&report, &breakdown),
            requests: report.total.requests,
            errors: report.total.errors,
            at: now,
        })
    }
}

pub async fn usage_live(
    State(state): State<AppState>,
    Extension(PortalUser(user)): Extension<PortalUser>,
    Query(query): Query<LiveQuery>,
    request: Request,
) -> Response {
    let Some(user) = user else {
        return AppError::unauthorized().into_response();
    };
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>();
    let actor = Actor {
        user,
        client: super::middleware::client_info(request.headers(), peer),
    };
    let changes = state.usage.changes();
    let stream = Stream {
        state,
        actor,
        query,
        changes,
        started: Instant::now(),
        sent: false,
    };
    let events = futures_util::stream::unfold(stream, |mut s| async move {
        let event = s.next().await?.retry(RETRY);
        Some((Ok::<_, Infallible>(event), s))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}
