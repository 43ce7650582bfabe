//! Server functions (mounted under /sfn). Each is a thin edge over `crate::domain`, like the
//! REST handlers; plain HTML forms post to them, so every page works without JavaScript.

pub mod account;
pub mod admin;
pub mod admin_console;
pub mod alerts;
pub mod apis;
pub mod auth;
pub mod dashboard;
pub mod email_verification;
pub mod key_bulk;
pub mod keys;
pub mod lifecycle;
pub mod notifications;
pub mod orgs;
pub mod password_reset;
pub mod policies;
pub mod sessions;
pub mod traffic_form;
pub mod two_factor;
pub mod usage;
pub mod webhooks;

use super::types::User;

/// The signed-in user of the request being rendered (server side; islands never need it).
pub fn current_user() -> Option<User> {
    #[cfg(feature = "ssr")]
    {
        leptos::prelude::use_context::<axum::http::request::Parts>()
            .and_then(|parts| {
                parts
                    .extensions
                    .get::<crate::server::portal_auth::PortalUser>()
                    .cloned()
            })
            .and_then(|u| u.0)
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// Sends the browser elsewhere (302 for page renders and plain form posts).
pub fn redirect(path: &str) {
    #[cfg(feature = "ssr")]
    {
        leptos_axum::redirect(path);
        let is_page_render = leptos::prelude::use_context::<axum::http::request::Parts>()
            .is_some_and(|p| p.method == axum::http::Method::GET);
        if is_page_render {
            set_status(302);
        }
    }
    #[cfg(not(feature = "ssr"))]
    let _ = path;
}

/// Sets the status of the page being rendered (404 pages and the like).
pub fn set_status(code: u16) {
    #[cfg(feature = "ssr")]
    {
        if let Some(res) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(
                axum::http::StatusCode::from_u16(code).unwrap_or(axum::http::StatusCode::OK),
            );
        }
    }
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}

/// Whether the one-time setup has been done (server side).
pub fn setup_done() -> bool {
    #[cfg(feature = "ssr")]
    {
        leptos::prelude::use_context::<crate::server::state::AppState>()
            .is_some_and(|s| s.setup_done())
    }
    #[cfg(not(feature = "ssr"))]
    {
        true
    }
}

#[cfg(feature = "ssr")]
pub mod ctx {
    //! What server functions reach through the request context.

    use crate::app::types::User;
    use crate::domain::ClientInfo;
    use crate::error::{AppError, AppResult};
    use crate::server::state::AppState;
    use leptos::prelude::use_context;
    use tower_sessions::Session;

    pub fn state() -> AppResult<AppState> {
        use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from server function context");
            AppError::internal()
        })
    }

    pub async fn session() -> AppResult<Session> {
        leptos_axum::extract::<Session>().await.map_err(|e| {
            tracing::error!(error = %e, "session missing from server function context");
            AppError::internal()
        })
    }

    pub fn client() -> ClientInfo {
        let parts = use_context::<axum::http::request::Parts>();
        match parts {
            Some(p) => crate::server::middleware::client_info(
                &p.headers,
                p.extensions
                    .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>(),
            ),
            None => ClientInfo::default(),
        }
    }

    pub fn require_user() -> AppResult<User> {
        super::current_user().ok_or_else(AppError::unauthorized)
    }

    /// The signed-in user acting from this request's client, with the state to act on.
    pub fn actor() -> AppResult<(AppState, crate::domain::keys::Actor)> {
        let state = state()?;
        let user = require_user()?;
        Ok((
            state,
            crate::domain::keys::Actor {
                user,
                client: client(),
            },
        ))
    }

    pub fn now() -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc()
    }

    pub fn require_admin() -> AppResult<User> {
        let user = require_user()?;
        if user.role.is_admin() {
            Ok(user)
        } else {
            Err(AppError::forbidden())
        }
    }
}
