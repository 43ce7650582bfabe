use crate::config::Config;
use crate::db::Db;
use crate::domain::crypto::Keys;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};
use std::time::Instant;

/// Everything a request may need; cloned cheaply into axum state and Leptos context.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub crypto: Arc<Keys>,
    pub key_cache: Arc<crate::domain::keys::cache::KeyCache>,
    /// Rate-limit buckets, penalties and leased quota and credits, per key.
    pub traffic: Arc<crate::domain::traffic::table::TrafficTable>,
    /// Rate-limit policies in force and their buckets.
    pub policies: Arc<crate::domain::policies::set::PolicyRegistry>,
    /// The gateway's routes by API slug.
    pub apis: Arc<crate::domain::apis::directory::ApiDirectory>,
    /// The gateway's client to upstreams (pooled; never follows redirects).
    pub http: reqwest::Client,
    pub reveals: Arc<crate::domain::keys::reveal::RevealStore>,
    /// Queues mail in the outbox and wakes its sender (`crate::mail`).
    pub mailer: Arc<crate::mail::Mailer>,
    pub config: Arc<Config>,
    /// Behind an Arc: it is a dozen strings, and the state is cloned on every request.
    pub leptos_options: Arc<LeptosOptions>,
    pub started_at: Instant,
    /// Set once the first account exists; it never goes back.
    pub setup_done: Arc<AtomicBool>,
    /// Queues usage events for the batch writer; `serve` shuts it down after the last request.
    pub usage: crate::domain::usage::UsageRecorder,
    /// Requests, verifications and job runs counted for `/metrics` and the system dashboard.
    pub metrics: Arc<super::metrics::Metrics>,
    /// Turns true when the server starts to stop: long-lived responses (live updates) end
    /// then, or graceful shutdown would wait for them.
    pub stopping: Arc<tokio::sync::watch::Sender<bool>>,
    /// Tells the notification bells' live streams that a user's notifications changed.
    pub notifications: Arc<super::notifications_live::NotificationHub>,
    /// This process among the instances sharing the database (host, pid and a random part):
    /// the owner of the jobs it claims.
    pub instance_id: Arc<str>,
    /// Wakes the job runner when work was queued here, so it need not wait for its poll.
    pub jobs_wake: Arc<tokio::sync::Notify>,
}

impl AppState {
    /// The services key operations need, borrowed from the state.
    pub fn key_ctx(&self) -> crate::domain::keys::KeyContext<'_> {
        crate::domain::keys::KeyContext {
            db: &self.db,
            crypto: &self.crypto,
            cache: &self.key_cache,
            traffic: &self.traffic,
            policies: &self.policies,
            jobs_wake: &self.jobs_wake,
        }
    }

    /// Tells the job runner that jobs were queued.
    pub fn wake_jobs(&self) {
        self.jobs_wake.notify_one();
    }

    /// `user_id`'s notifications changed: that user's notification bells update themselves
    /// (`GET /notifications/live`). Same as `self.notifications.changed(user_id)`.
    pub fn notifications_changed(&self, user_id: i64) {
        self.notifications.changed(user_id);
    }

    /// The services rate-limit policy operations need, borrowed from the state.
    pub fn policy_ctx(&self) -> crate::domain::policies::PolicyContext<'_> {
        crate::domain::policies::PolicyContext {
            db: &self.db,
            registry: &self.policies,
        }
    }

    /// The services API-registry operations need, borrowed from the state.
    pub fn api_ctx(&self) -> crate::domain::apis::ApiContext<'_> {
        crate::domain::apis::ApiContext {
            db: &self.db,
            directory: &self.apis,
        }
    }

    /// Resolves once the server has started to stop.
    pub async fn stopped(&self) {
        let mut stopping = self.stopping.subscribe();
        // Err only if the sender is gone, which the state itself holds: never.
        let _ = stopping.wait_for(|s| *s).await;
    }

    pub fn setup_done(&self) -> bool {
        self.setup_done.load(Ordering::Relaxed)
    }

    pub fn mark_setup_done(&self) {
        self.setup_done.store(true, Ordering::Relaxed);
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        (*state.leptos_options).clone()
    }
}
