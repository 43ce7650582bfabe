//! REST sessions: a short-lived JWT access token plus a rotating refresh token. Each refresh
//! token works once; presenting a used one again is treated as theft and ends the session.

use super::{
    ClientInfo, Timestamp,
    crypto::{Keys, random_bytes},
    db_failure, to_millis, tokens,
};
use crate::app::types::{User, UserId};
use crate::db::{self, Db};
use crate::error::{AppError, AppResult, ErrorCode};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Serialize;

pub const SESSION_TTL_MS: i64 = 30 * 24 * 3600 * 1000;
pub const REFRESH_TOKEN_TTL_MS: i64 = SESSION_TTL_MS;
const REFRESH_PREFIX: &str = "kprt_";
const MAX_CLIENT_TEXT: usize = 512;

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    #[cfg_attr(feature = "ssr", schema(example = "Bearer"))]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[cfg_attr(feature = "ssr", schema(example = 900))]
    pub expires_in: i64,
}

fn new_refresh_token() -> String {
    format!(
        "{REFRESH_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(random_bytes::<32>())
    )
}

fn truncate(text: &str) -> String {
    text.chars().take(MAX_CLIENT_TEXT).collect()
}

fn pair(
    keys: &Keys,
    user_id: UserId,
    session_id: i64,
    refresh_token: String,
    now: Timestamp,
) -> AppResult<TokenPair> {
    let claims = tokens::Claims::new(user_id.0, session_id, now.unix_timestamp());
    Ok(TokenPair {
        access_token: tokens::encode(&keys.jwt, &claims)?,
        refresh_token,
        token_type: "Bearer",
        expires_in: tokens::ACCESS_TOKEN_TTL_SECS,
    })
}

/// Opens a REST session for an authenticated user.
pub async fn open(
    db: &Db,
    keys: &Keys,
    user_id: UserId,
    client: &ClientInfo,
    now: Timestamp,
) -> AppResult<TokenPair> {
    let refresh_token = new_refresh_token();
    let now_ms = to_millis(now);
    let session_id = db::auth_sessions::create(
        db,
        &db::auth_sessions::NewAuthSession {
            user_id,
            ip: &truncate(&client.ip),
            user_agent: &truncate(&client.user_agent),
            now_ms,
            expires_ms: now_ms + SESSION_TTL_MS,
            refresh_hash: &keys.hash_token(&refresh_token),
            refresh_expires_ms: now_ms + REFRESH_TOKEN_TTL_MS,
        },
    )
    .await
    .map_err(db_failure)?;
    pair(keys, user_id, session_id, refresh_token, now)
}

fn invalid_refresh() -> AppError {
    AppError::new(
        ErrorCode::InvalidToken,
        "The refresh token is invalid, expired or already used.",
    )
}

/// Exchanges a refresh token for a new pair; the presented token stops working.
pub async fn refresh(
    db: &Db,
    keys: &Keys,
    refresh_token: &str,
    now: Timestamp,
) -> AppResult<TokenPair> {
    if !refresh_token.starts_with(REFRESH_PREFIX) || refresh_token.len() > 128 {
        return Err(invalid_refresh());
    }
    let now_ms = to_millis(now);
    let state = db::auth_sessions::find_refresh_token(db, &keys.hash_token(refresh_token))
        .await
        .map_err(db_failure)?
        .ok_or_else(invalid_refresh)?;
    let owner = db::users::find(db, UserId(state.user_id))
        .await
        .map_err(db_failure)?;
    if owner.is_some_and(|u| u.suspended_at.is_some()) {
        return Err(AppError::account_suspended());
    }
    if state.session_revoked_at.is_some()
        || state.session_expires_at <= now_ms
        || state.token_expires_at <= now_ms
    {
        return Err(invalid_refresh());
    }
    if state.used_at.is_some() {
        tracing::warn!(
            auth_session_id = state.auth_session_id,
            "refresh token reused; session revoked"
        );
        db::auth_sessions::revoke(db, state.auth_session_id, now_ms)
            .await
            .map_err(db_failure)?;
        return Err(invalid_refresh());
    }
    let next = new_refresh_token();
    let rotated = db::auth_sessions::rotate_refresh_token(
        db,
        state.token_id,
        state.auth_session_id,
        &keys.hash_token(&next),
        now_ms,
        now_ms + REFRESH_TOKEN_TTL_MS,
    )
    .await
    .map_err(db_failure)?;
    if !rotated {
        return Err(invalid_refresh());
    }
    pair(
        keys,
        UserId(state.user_id),
        state.auth_session_id,
        next,
        now,
    )
}

/// A caller authenticated by an access token.
#[derive(Clone, Debug)]
pub struct TokenCaller {
    pub user: User,
    pub session_id: i64,
}

pub async fn authenticate_access_token(
    db: &Db,
    keys: &Keys,
    token: &str,
    now: Timestamp,
) -> AppResult<TokenCaller> {
    let claims = tokens::decode(&keys.jwt, token, now.unix_timestamp())?;
    let user_id = UserId(claims.sub);
    // Suspension revoked the sessions too; it is checked first so the answer names the cause.
    let user = db::users::find(db, user_id)
        .await
        .map_err(db_failure)?
        .ok_or_else(|| AppError::new(ErrorCode::InvalidToken, "This account no longer exists."))?;
    if user.suspended_at.is_some() {
        return Err(AppError::account_suspended());
    }
    let Some(last_used_ms) =
        db::auth_sessions::live_last_used(db, claims.sid, user_id, to_millis(now))
            .await
            .map_err(db_failure)?
    else {
        return Err(AppError::new(
            ErrorCode::InvalidToken,
            "This session has been signed out.",
        ));
    };
    // The sessions page's "last seen"; logged already if it fails, which fails no request.
    let _ = super::account_sessions::touch_api_session(db, claims.sid, last_used_ms, now).await;
    Ok(TokenCaller {
        user,
        session_id: claims.sid,
    })
}

pub async fn close(db: &Db, session_id: i64, now: Timestamp) -> AppResult<()> {
    db::auth_sessions::revoke(db, session_id, to_millis(now))
        .await
        .map_err(db_failure)
}
