//! The wire shapes of the sessions page and `/api/v1/auth/sessions`.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A signed-in browser (session cookie) or a REST sign-in (access and refresh tokens).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    Browser,
    Api,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Browser => "browser",
            SessionKind::Api => "api",
        }
    }

    pub fn parse(text: &str) -> Option<SessionKind> {
        [SessionKind::Browser, SessionKind::Api]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// One live session of the caller. Ids are unique per kind: name a session by both.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    #[cfg_attr(feature = "ssr", schema(example = 42))]
    pub id: i64,
    pub kind: SessionKind,
    /// Read from the user agent, e.g. "Firefox on macOS", "curl", "Unknown device".
    #[cfg_attr(feature = "ssr", schema(example = "Chrome on Linux"))]
    pub device: String,
    /// The user agent of the sign-in ('' when the client sent none).
    pub user_agent: String,
    /// The client address of the sign-in.
    #[cfg_attr(feature = "ssr", schema(example = "203.0.113.7"))]
    pub ip: String,
    /// When the session signed in.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    /// The session's last activity, to about a minute (browser: last request; REST: last
    /// request with its access token or last refresh).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub last_seen_at: OffsetDateTime,
    /// The session this request was made with.
    pub current: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionPage {
    pub items: Vec<SessionInfo>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// The answer of `POST /auth/sessions/revoke-others`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RevokedSessions {
    /// How many sessions (browser and REST) were signed out.
    pub revoked: u64,
}
