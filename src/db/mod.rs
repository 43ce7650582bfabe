//! All SQL lives here. One SQL text serves both backends where the dialects agree (`$1`
//! placeholders work on SQLite too); `with_pool!` type-checks each query once per backend.

pub mod alerts;
pub mod apis;
pub mod attempts;
pub mod audit;
pub mod auth_sessions;
pub mod demo;
pub mod email_tokens;
pub mod events;
pub mod jobs;
pub mod key_allowance;
pub mod key_bulk;
pub mod key_expiry;
pub mod key_templates;
pub mod keys;
pub mod lifecycle;
pub mod mail_outbox;
pub mod notification_prefs;
pub mod notifications;
pub mod orgs;
pub mod rate_limit_policies;
pub mod rollup_breakdown;
pub mod rollup_store;
pub mod rollups;
pub mod saved_filters;
pub mod security_events;
pub mod session_list;
#[cfg(test)]
pub mod temp;
pub mod two_factor;
pub mod usage;
pub mod users;
pub mod web_sessions;
pub mod webhooks;
// Admin console
pub mod admin_users;
pub mod audit_log;

use sqlx::{
    PgPool, SqlitePool,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use std::{str::FromStr, time::Duration};

/// The database, chosen by the URL's scheme.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the concrete pool of whichever backend is in use.
macro_rules! with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How the connection pool is doing right now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    pub backend: &'static str,
    /// Open connections (idle or in use).
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

impl Db {
    pub fn pool_stats(&self) -> PoolStats {
        let (backend, size, idle, max) = match self {
            Db::Sqlite(p) => (
                "sqlite",
                p.size(),
                p.num_idle(),
                p.options().get_max_connections(),
            ),
            Db::Postgres(p) => (
                "postgres",
                p.size(),
                p.num_idle(),
                p.options().get_max_connections(),
            ),
        };
        PoolStats {
            backend,
            size,
            idle: u32::try_from(idle).unwrap_or(u32::MAX),
            max,
        }
    }

    /// Opens a pool for `url`; for SQLite the file (and its folder) is created if missing.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            if let Some(parent) = options.get_filename().parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent)?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Ok(Db::Sqlite(pool))
        } else {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Ok(Db::Postgres(pool))
        }
    }

    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Db::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Ready means reachable and every embedded migration applied.
    pub async fn is_ready(&self) -> bool {
        let (migrator, applied) = match self {
            Db::Sqlite(pool) => (
                &SQLITE_MIGRATIONS,
                sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                    .fetch_one(pool)
                    .await,
            ),
            Db::Postgres(pool) => (
                &POSTGRES_MIGRATIONS,
                sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                    .fetch_one(pool)
                    .await,
            ),
        };
        matches!(applied, Ok(n) if n as usize >= migrator.iter().count())
    }

    pub async fn close(&self) {
        with_pool!(self, |pool| pool.close().await)
    }
}

/// Runs a statement whose parameters are all integers (`$1`, `$2`, … in order) and returns
/// how many rows it changed.
pub(crate) async fn execute_ints(db: &Db, sql: &str, params: &[i64]) -> Result<u64, sqlx::Error> {
    with_pool!(db, |pool| {
        let mut query = sqlx::query(sql);
        for p in params {
            query = query.bind(*p);
        }
        query.execute(pool).await.map(|r| r.rows_affected())
    })
}

/// True when `err` is a unique-constraint violation (e.g. a taken email).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Escapes LIKE wildcards so user text matches literally (with `ESCAPE '\\'`).
pub(crate) fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
