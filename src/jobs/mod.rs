//! Background jobs: tokio tasks that stop cleanly with the server.

use crate::server::state::AppState;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Jobs {
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl Jobs {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for handle in self.handles {
            let _ = handle.await;
        }
    }
}

pub fn spawn(state: AppState) -> Jobs {
    let (stop, stopped) = watch::channel(false);
    let handles = vec![tokio::spawn(expired_sessions_sweeper(state, stopped))];
    Jobs { stop, handles }
}

/// Deletes expired browser sessions once an hour (loading already ignores them).
async fn expired_sessions_sweeper(state: AppState, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let now = crate::domain::to_millis(time::OffsetDateTime::now_utc());
                match crate::db::web_sessions::delete_expired(&state.db, now).await {
                    Ok(n) if n > 0 => tracing::info!(deleted = n, "expired sessions removed"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "expired session sweep failed"),
                }
            }
            _ = stopped.changed() => break,
        }
    }
}
