//! Assembly: state, router, layers, and serving with graceful shutdown.

mod bulk_live;
mod live;
pub mod metrics;
pub mod middleware;
pub mod notifications_live;
pub mod portal_auth;
pub mod seed_cli;
pub mod session_store;
pub mod state;
pub mod system_live;

use crate::app::{App, shell};
use crate::config::{Config, LogFormat, load_or_create_secret};
use crate::db::Db;
use crate::domain::usage::{UsageRecorder, UsageSettings};
use crate::domain::{crypto::Keys, setup};
use axum::{
    Router,
    extract::{DefaultBodyLimit, Request, State},
    http::StatusCode,
    middleware as mw,
    response::{IntoResponse, Response},
    routing::get,
};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use state::AppState;
use std::{net::SocketAddr, path::Path, sync::Arc, time::Instant};
use tokio::net::TcpListener;
use tower::ServiceExt;
use tower_http::{catch_panic::CatchPanicLayer, limit::RequestBodyLimitLayer, services::ServeDir};
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

pub const SESSION_COOKIE: &str = "keyport_session";
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;
pub const SERVER_FN_PREFIX: &str = "/sfn";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("data directory or secret: {0}")]
    Io(#[from] std::io::Error),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("first-start admin: {0}")]
    Admin(crate::error::AppError),
    #[error("site settings: {0}")]
    Leptos(String),
    #[error("mail: {0}")]
    Mail(#[from] crate::mail::MailSetupError),
}

pub fn init_logging(format: LogFormat) {
    use tracing_subscriber::{EnvFilter, fmt};
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    let builder = fmt().with_env_filter(filter).with_target(false);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Site settings from Leptos.toml (plain keys); environment `LEPTOS_*` variables override.
pub fn leptos_options(path: &Path) -> Result<LeptosOptions, StartError> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|_| "output-name = \"keyport\"\n".to_string());
    let conf = leptos::config::get_config_from_str(&format!("[package.metadata.leptos]\n{text}"))
        .map_err(|e| StartError::Leptos(e.to_string()))?;
    Ok(conf)
}

/// Opens everything the server needs: secret, database (migrated), first-start admin.
pub async fn prepare(config: Config) -> Result<AppState, StartError> {
    std::fs::create_dir_all(&config.data_dir)?;
    let secret = load_or_create_secret(&config)?;
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    let now = time::OffsetDateTime::now_utc();
    if let Some(admin) = setup::bootstrap_admin(&db, &config, now)
        .await
        .map_err(StartError::Admin)?
    {
        tracing::info!(
            user_id = admin.id.0,
            "created the super admin from KEYPORT_ADMIN_EMAIL"
        );
    } else if setup::setup_required(&db)
        .await
        .map_err(StartError::Admin)?
    {
        tracing::info!("no accounts yet: open /setup to create the first admin");
    }
    let setup_done = !setup::setup_required(&db)
        .await
        .map_err(StartError::Admin)?;
    let mut leptos_options = leptos_options(&config.leptos_toml)?;
    leptos_options.site_addr = config.addr;
    // Before anything is recorded: a crashed writer's last minutes are summed from raw events.
    let recovered = crate::domain::analytics::recover(&db, crate::domain::to_millis(now))
        .await
        .map_err(|e| StartError::Io(std::io::Error::other(e.detail)))?;
    if recovered > 0 {
        tracing::info!(
            events = recovered,
            "usage rollups recovered from raw events"
        );
    }
    let usage = UsageRecorder::start(db.clone(), UsageSettings::from_config(&config));
    let policies = Arc::new(crate::domain::policies::set::PolicyRegistry::default());
    policies
        .reload(&db)
        .await
        .map_err(|e| StartError::Io(std::io::Error::other(e.detail)))?;
    let crypto = Arc::new(Keys::derive(secret.expose()));
    let mailer = Arc::new(crate::mail::Mailer::from_config(&config, crypto.clone())?);
    tracing::info!(to = %mailer.describe(), "mail goes to");
    Ok(AppState {
        db,
        crypto,
        key_cache: Arc::new(crate::domain::keys::cache::KeyCache::default()),
        traffic: Arc::new(crate::domain::traffic::table::TrafficTable::default()),
        policies,
        apis: Arc::new(crate::domain::apis::directory::ApiDirectory::default()),
        http: upstream_client()?,
        reveals: Arc::new(crate::domain::keys::reveal::RevealStore::default()),
        mailer,
        config: Arc::new(config),
        leptos_options: Arc::new(leptos_options),
        started_at: Instant::now(),
        setup_done: Arc::new(std::sync::atomic::AtomicBool::new(setup_done)),
        usage,
        metrics: Arc::new(metrics::Metrics::default()),
        stopping: Arc::new(tokio::sync::watch::Sender::new(false)),
        notifications: Arc::new(notifications_live::NotificationHub::default()),
        instance_id: instance_id().into(),
        jobs_wake: Arc::new(tokio::sync::Notify::new()),
    })
}

/// `host-pid-random`: unique among the instances sharing a database, and readable in the
/// admin's job view (who holds a job).
fn instance_id() -> String {
    use rand::Rng;
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "keyport".into());
    let random: u32 = rand::thread_rng().r#gen();
    format!("{host}-{}-{random:08x}", std::process::id())
}

/// The portal's routes, listed once per process. Leptos lists them by rendering the app with
/// every resource in the process suppressed (a global flag), so a page rendering elsewhere in
/// the process at that moment would wait forever for its data; listing once, before anything
/// serves, keeps that window out of the serving life of every router (tests start many).
fn portal_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState) -> Router {
    let sessions = SessionManagerLayer::new(session_store::DbSessionStore::new(state.db.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(time::Duration::days(14)));

    let routes = portal_routes();
    let page_state = state.clone();
    let portal = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_request_context(&page_state),
            {
                let options = state.leptos_options.clone();
                move || shell((*options).clone())
            },
        )
        .route("/usage/live", get(live::usage_live))
        .route("/admin/system/live", get(system_live::system_live))
        .route("/keys/bulk/{id}/live", get(bulk_live::bulk_live))
        .route(
            "/notifications/live",
            get(notifications_live::notifications_live),
        )
        .route(
            &format!("{SERVER_FN_PREFIX}/{{*fn_name}}"),
            get(server_fn_handler).post(server_fn_handler),
        )
        .fallback(file_or_not_found)
        .layer(mw::from_fn_with_state(
            state.clone(),
            portal_auth::load_portal_user,
        ));

    // The gateway keeps only request ids, logging and panic safety: its bodies stream under
    // their own cap, and its answers are the upstream's.
    let gateway = crate::gateway::router()
        .layer(DefaultBodyLimit::disable())
        .layer(CatchPanicLayer::new())
        .layer(mw::from_fn_with_state(
            state.clone(),
            middleware::request_id_and_log,
        ));

    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::metrics_endpoint))
        .merge(crate::api::router())
        .merge(portal)
        .layer(sessions)
        .layer(mw::from_fn(middleware::csrf_guard))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        .layer(CatchPanicLayer::new())
        .layer(mw::from_fn(crate::api::error::envelope))
        .layer(mw::from_fn(middleware::security_headers))
        .layer(mw::from_fn_with_state(
            state.clone(),
            middleware::request_id_and_log,
        ))
        .merge(gateway)
        .with_state(state)
}

/// The gateway's HTTP client: redirects go back to the caller as they are, and a dead
/// upstream is noticed within the connect timeout.
fn upstream_client() -> Result<reqwest::Client, StartError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(5))
        .pool_idle_timeout(std::time::Duration::from_secs(60))
        .build()
        .map_err(|e| StartError::Io(std::io::Error::other(e)))
}

/// What every page render and server function can reach through Leptos context.
fn provide_request_context(state: &AppState) {
    provide_context(state.clone());
    if let Some(parts) = leptos::prelude::use_context::<axum::http::request::Parts>()
        && let Some(nonce) = parts.extensions.get::<middleware::CspNonce>()
    {
        provide_context(leptos::nonce::Nonce::from_value(nonce.value()));
    }
}

async fn server_fn_handler(State(state): State<AppState>, req: Request) -> impl IntoResponse {
    leptos_axum::handle_server_fns_with_context(move || provide_request_context(&state), req).await
}

/// Static files from the site root; anything else renders the portal's 404 page.
async fn file_or_not_found(State(state): State<AppState>, req: Request) -> Response {
    let root = state.leptos_options.site_root.to_string();
    let (parts, body) = req.into_parts();
    let probe = Request::from_parts(parts.clone(), axum::body::Body::empty());
    if matches!(
        parts.method,
        axum::http::Method::GET | axum::http::Method::HEAD
    ) {
        let Ok(res) = ServeDir::new(&root).oneshot(probe).await;
        if res.status() == StatusCode::OK || res.status() == StatusCode::NOT_MODIFIED {
            let mut res = res.into_response();
            res.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("public, max-age=300"),
            );
            return res;
        }
    }
    let handler = leptos_axum::render_app_to_stream_with_context(
        {
            let state = state.clone();
            move || provide_request_context(&state)
        },
        {
            let options = state.leptos_options.clone();
            move || shell((*options).clone())
        },
    );
    handler(Request::from_parts(parts, body))
        .await
        .into_response()
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
    if state.db.is_ready().await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database not ready").into_response()
    }
}

/// A server bound to a port, running until `shutdown` resolves; then it drains requests,
/// stops the jobs, stores the queued usage events and closes the database.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let db = state.db.clone();
    let traffic = state.traffic.clone();
    let usage = state.usage.clone();
    let stopping = state.stopping.clone();
    let mailer = state.mailer.clone();
    let jobs = crate::jobs::spawn(state.clone());
    let app = router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        stopping.send_replace(true);
    })
    .await?;
    // Mail queued by requests that answered before their work ended (password resets).
    mailer.background_idle().await;
    jobs.stop().await;
    let failed = traffic.settle_all(&db).await;
    if failed > 0 {
        tracing::warn!(keys = failed, "some leased units could not be handed back");
    }
    // Only now: every request that could record an event has finished.
    usage.shutdown().await;
    db.close().await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
