//! Live figures of the admin system dashboard (`GET /admin/system/live`, server-sent events
//! for a signed-in admin's browser): the figures every `EVERY`, ending like the usage page's
//! stream (after `live::MAX_LIFE`, or at once when the server stops).

use super::live::{MAX_LIFE, RETRY};
use super::portal_auth::PortalUser;
use super::state::AppState;
use crate::error::{AppError, ErrorCode};
use axum::Extension;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::time::Duration;
use tokio::time::Instant;

/// The sampler takes a sample a second; every two is often enough for a person to watch.
const EVERY: Duration = Duration::from_secs(2);

pub async fn system_live(
    State(state): State<AppState>,
    Extension(PortalUser(user)): Extension<PortalUser>,
) -> Response {
    let Some(user) = user else {
        return AppError::unauthorized().into_response();
    };
    if !user.role.is_admin() {
        return AppError::new(
            ErrorCode::Forbidden,
            "Only admins can see the system's figures.",
        )
        .into_response();
    }
    let started = Instant::now();
    let events = futures_util::stream::unfold((state, true), move |(state, first)| async move {
        if !first {
            tokio::select! {
                _ = tokio::time::sleep(EVERY) => {}
                _ = state.stopped() => return None,
            }
        }
        if started.elapsed() >= MAX_LIFE {
            return None;
        }
        let view = super::metrics::system::view(&state, time::OffsetDateTime::now_utc());
        let event = Event::default()
            .event("system")
            .json_data(view)
            .unwrap_or_else(|_| Event::default().event("system-error").data(""))
            .retry(RETRY);
        Some((Ok::<_, Infallible>(event), (state, false)))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}
