//! Request extractors for /api: a JSON body that fails with the contract's errors, the
//! authenticated caller, and client details.

use crate::app::types::User;
use crate::domain::{ClientInfo, sessions, tokens};
use crate::error::{AppError, ErrorCode, FieldError};
use crate::server::{middleware::client_info, portal_auth, state::AppState};
use axum::{
    body::Bytes,
    extract::{ConnectInfo, FromRequest, FromRequestParts, Request},
    http::{header, request::Parts},
};
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use time::OffsetDateTime;
use tower_sessions::Session;

/// A JSON request body. Wrong content type → 415, too large → 413, broken JSON → 400
/// INVALID_JSON, wrong shape → 422 VALIDATION_ERROR naming the field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !(essence == "application/json"
            || (essence.starts_with("application/") && essence.ends_with("+json")))
        {
            return Err(AppError::new(
                ErrorCode::UnsupportedMediaType,
                "Send the request body as JSON with Content-Type: application/json.",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status().as_u16() == 413 {
                AppError::new(
                    ErrorCode::PayloadTooLarge,
                    "The request body is larger than the 1 MiB limit.",
                )
            } else {
                AppError::new(ErrorCode::BadRequest, "The request body could not be read.")
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    // The plain parser on the way in (the verify hot path); the path-tracking one only to
    // explain a failure.
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut *de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        // serde_json reports a number or object where an enum's string belongs as a syntax
        // error ("expected value"); the body is well-formed, so it is the field's type.
        if inner.classify() == serde_json::error::Category::Syntax
            && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
        {
            return AppError::validation(vec![FieldError {
                field: field_of(&path),
                message: "has the wrong type: expected one of the allowed values".into(),
            }]);
        }
        json_error(inner, &path)
    })?;
    de.end().map_err(|e| json_error(e, ""))?;
    Ok(value)
}

fn field_of(path: &str) -> String {
    if path == "." || path.is_empty() {
        "body".to_string()
    } else {
        format!("body.{path}")
    }
}

fn json_error(inner: serde_json::Error, path: &str) -> AppError {
    match inner.classify() {
        serde_json::error::Category::Data => {
            let message = inner.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_string();
            // "missing field `x`" is reported at the parent; point at the field itself.
            let field = match message
                .strip_prefix("missing field `")
                .and_then(|m| m.strip_suffix('`'))
            {
                Some(name) if path == "." || path.is_empty() => format!("body.{name}"),
                Some(name) => format!("body.{path}.{name}"),
                None => field_of(path),
            };
            AppError::validation(vec![FieldError { field, message }])
        }
        _ => AppError::new(
            ErrorCode::InvalidJson,
            format!("The request body is not valid JSON: {inner}"),
        ),
    }
}

/// A path parameter; one that does not parse names nothing that exists (404).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(_) => Err(AppError::new(
                ErrorCode::NotFound,
                "No such resource: the id in the path is not a valid id.",
            )),
        }
    }
}

/// A query string; values of the wrong type answer 422 naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(url_form_parse(query));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|err| {
                let path = err.path().to_string();
                let message = err.into_inner().to_string();
                let field = if path.is_empty() || path == "." {
                    "query".to_string()
                } else {
                    format!("query.{path}")
                };
                AppError::validation(vec![FieldError { field, message }])
            })
    }
}

fn url_form_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// How the caller proved who they are.
#[derive(Clone, Debug)]
pub enum AuthMethod {
    /// A JWT access token of this REST session.
    Token { session_id: i64 },
    /// The portal's session cookie.
    Cookie,
    /// A management key (an API key with `manage:*` or `manage:keys`) acting for its owner.
    ManagementKey { key_id: i64, all_scopes: bool },
}

/// The authenticated caller of a REST endpoint.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub user: User,
    pub method: AuthMethod,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let text = value.to_str().unwrap_or("");
            let token = text
                .strip_prefix("Bearer ")
                .or_else(|| text.strip_prefix("bearer "))
                .map(str::trim)
                .ok_or_else(|| {
                    AppError::new(
                        ErrorCode::Unauthorized,
                        "Use Authorization: Bearer <access token>.",
                    )
                })?;
            if !tokens::looks_like_jwt(token) {
                return management_key(state, parts, token).await;
            }
            let caller = sessions::authenticate_access_token(
                &state.db,
                &state.crypto,
                token,
                OffsetDateTime::now_utc(),
            )
            .await?;
            return Ok(CurrentUser {
                user: caller.user,
                method: AuthMethod::Token {
                    session_id: caller.session_id,
                },
            });
        }
        if let Ok(session) = Session::from_request_parts(parts, state).await
            && let Some(user) = portal_auth::session_user(state, &session).await?
        {
            return Ok(CurrentUser {
                user,
                method: AuthMethod::Cookie,
            });
        }
        Err(AppError::unauthorized())
    }
}

impl CurrentUser {
    /// Account endpoints are not for keys that may only manage keys.
    pub fn require_account_access(&self) -> Result<(), AppError> {
        match self.method {
            AuthMethod::ManagementKey {
                all_scopes: false, ..
            } => Err(AppError::new(
                ErrorCode::Forbidden,
                "This management key may only manage keys (scope manage:keys).",
            )),
            _ => Ok(()),
        }
    }
}

/// Authenticates a management key: a valid API key carrying `manage:*` or `manage:keys`.
async fn management_key(
    state: &AppState,
    parts: &Parts,
    token: &str,
) -> Result<CurrentUser, AppError> {
    use crate::domain::keys::verify::{self, VerifyCode};
    let refused = || {
        AppError::new(
            ErrorCode::InvalidToken,
            "The bearer token is neither a valid access token nor a valid management key.",
        )
    };
    let Some(cached) = verify::resolve(&state.db, &state.crypto, &state.key_cache, token).await?
    else {
        return Err(refused());
    };
    let now = OffsetDateTime::now_utc();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let key = &cached.state;
    if key.owner_suspended {
        return Err(AppError::account_suspended());
    }
    if verify::check(key, &[], peer, crate::domain::to_millis(now)) != VerifyCode::Valid {
        return Err(refused());
    }
    let all_scopes = key.scopes.iter().any(|s| s == "manage:*" || s == "*");
    if !all_scopes && !key.scopes.iter().any(|s| s == "manage:keys") {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "This key has no management scope (manage:* or manage:keys).",
        ));
    }
    cached.mark_used(crate::domain::to_millis(now));
    let user = crate::db::users::find(&state.db, crate::app::types::UserId(key.owner_user_id))
        .await
        .map_err(crate::domain::db_failure)?
        .ok_or_else(refused)?;
    if user.suspended_at.is_some() {
        return Err(AppError::account_suspended());
    }
    Ok(CurrentUser {
        user,
        method: AuthMethod::ManagementKey {
            key_id: key.id,
            all_scopes,
        },
    })
}

/// Peer IP and user agent.
pub struct Client(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>();
        Ok(Client(client_info(&parts.headers, peer)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Login {
        email: String,
        password: String,
    }

    #[test]
    fn json_errors_name_the_problem() {
        let e = parse_json::<Login>(b"{not json").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidJson);
        let e = parse_json::<Login>(br#"{"email": "a@b.co"}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationError);
        assert_eq!(e.errors[0].field, "body.password");
        let e = parse_json::<Login>(br#"{"email": 5, "password": "x"}"#).unwrap_err();
        assert_eq!(e.errors[0].field, "body.email");
        assert!(
            e.errors[0].message.contains("invalid type"),
            "{}",
            e.errors[0].message
        );
        let e = parse_json::<Login>(br#"{"email": "a", "password": "b"} trailing"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidJson);
        assert!(parse_json::<Login>(br#"{"email": "a", "password": "b"}"#).is_ok());
    }
}
