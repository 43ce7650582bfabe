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
    pub reveals: Arc<crate::domain::keys::reveal::RevealStore>,
    pub config: Arc<Config>,
    /// Behind an Arc: it is a dozen strings, and the state is cloned on every request.
    pub leptos_options: Arc<LeptosOptions>,
    pub started_at: Instant,
    /// Set once the first account exists; it never goes back.
    pub setup_done: Arc<AtomicBool>,
    /// Queues usage events for the batch writer; `serve` shuts it down after the last request.
    pub usage: crate::domain::usage::UsageRecorder,
}

impl AppState {
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
