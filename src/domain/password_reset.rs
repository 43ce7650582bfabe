//! Password reset by mail. A request answers the same, as fast, whether or not the address
//! has an account: it is checked and counted up front, and the look-up, the token and the
//! mail happen after the answer. The link's token is random, kept only as a keyed hash,
//! works once, for an hour, and only the newest one works. Using it sets the password and
//! signs the account out everywhere.

use super::accounts::{self, normalize_email};
use super::security_log::{self, AccountEvent};
use super::{ClientInfo, Timestamp, crypto::Keys, db_failure, passwords, throttle, to_millis};
use crate::db::{self, Db, email_tokens::RequestsBy};
use crate::error::{AppError, AppResult, ErrorCode, Validator};
use crate::mail::{Mail, Mailer, Notice, Recipient};
use std::sync::Arc;

pub const PURPOSE: &str = "password_reset";
pub const RESET_TTL_MS: i64 = 60 * 60 * 1000;
/// Requests per address within the throttle window (15 minutes): more send nothing (the
/// answer stays the same), so nobody can flood an inbox.
pub const MAX_REQUESTS_PER_EMAIL: usize = 3;
/// Requests from one client IP within the window; more answer 429.
pub const MAX_REQUESTS_PER_IP: usize = 10;
/// Tokens are 43 characters; anything far longer is no token of ours.
const MAX_TOKEN_CHARS: usize = 128;

/// A new random token for a mailed link (256 bits, URL-safe).
pub fn new_link_token() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(super::crypto::random_bytes::<32>())
}

/// Checks and counts a request for a reset link to `email`, then sends it in the background
/// if the address has an account. The same `Ok` either way.
pub async fn request(
    db: &Db,
    keys: &Arc<Keys>,
    mailer: &Arc<Mailer>,
    email: &str,
    client: &ClientInfo,
    now: Timestamp,
) -> AppResult<()> {
    let email = normalize_email(email);
    let mut v = Validator::default();
    v.check(
        email.chars().count() <= accounts::MAX_EMAIL_CHARS && accounts::is_plausible_email(&email),
        "body.email",
        "must be a valid email address",
    );
    v.finish()?;
    let now_ms = to_millis(now);
    let since = now_ms - throttle::WINDOW_MS;
    let by_ip = db::email_tokens::requests_since(db, PURPOSE, RequestsBy::Ip(&client.ip), since)
        .await
        .map_err(db_failure)?;
    if let Some(wait) = throttle::retry_after_secs(&by_ip, MAX_REQUESTS_PER_IP, now_ms) {
        let minutes = wait.div_ceil(60);
        let mut e = AppError::new(
            ErrorCode::TooManyAttempts,
            format!(
                "Too many reset requests from your network. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            ),
        );
        e.retry_after = Some(wait);
        return Err(e);
    }
    let by_email = db::email_tokens::requests_since(db, PURPOSE, RequestsBy::Email(&email), since)
        .await
        .map_err(db_failure)?;
    let flooded = throttle::retry_after_secs(&by_email, MAX_REQUESTS_PER_EMAIL, now_ms).is_some();
    db::email_tokens::record_request(db, PURPOSE, &email, &client.ip, now_ms)
        .await
        .map_err(db_failure)?;
    if flooded {
        tracing::info!("password reset request dropped: too many for this address");
        return Ok(());
    }
    let (db, keys, sender) = (db.clone(), keys.clone(), mailer.clone());
    mailer.spawn_background(async move {
        if let Err(e) = send_link(&db, &keys, &sender, &email, now).await {
            tracing::warn!(error = %e, "sending a password reset link failed");
        }
    });
    Ok(())
}

/// The part of a request that depends on the account: nothing happens for unknown addresses.
async fn send_link(
    db: &Db,
    keys: &Keys,
    mailer: &Mailer,
    email: &str,
    now: Timestamp,
) -> AppResult<()> {
    let Some(creds) = db::users::credentials_by_email(db, email)
        .await
        .map_err(db_failure)?
    else {
        return Ok(());
    };
    let user = creds.user;
    let token = new_link_token();
    let now_ms = to_millis(now);
    db::email_tokens::replace(
        db,
        user.id,
        PURPOSE,
        &keys.hash_token(&token),
        &user.email,
        now_ms,
        now_ms + RESET_TTL_MS,
    )
    .await
    .map_err(db_failure)?;
    let to = Recipient {
        email: user.email.clone(),
        name: user.name.clone(),
    };
    let mail = Mail::PasswordReset {
        token,
        valid_minutes: RESET_TTL_MS / 60_000,
    };
    mailer.send(db, &to, Some(user.id.0), &mail, now).await?;
    tracing::info!(user_id = user.id.0, "password reset link sent");
    Ok(())
}

fn link_invalid(detail: &str) -> AppError {
    AppError::new(ErrorCode::EmailTokenInvalid, detail)
}

/// Whether `token` is a reset link that works now; the error says why not (unknown, used,
/// expired), which tells nothing to someone without the link.
pub async fn check_token(
    db: &Db,
    keys: &Keys,
    purpose: &str,
    token: &str,
    now: Timestamp,
) -> AppResult<i64> {
    let token = token.trim();
    if token.is_empty() || token.chars().count() > MAX_TOKEN_CHARS {
        return Err(link_invalid(
            "This link is not valid. Check that you copied all of it, or ask for a new one.",
        ));
    }
    let row = db::email_tokens::find(db, purpose, &keys.hash_token(token))
        .await
        .map_err(db_failure)?
        .ok_or_else(|| {
            link_invalid(
                "This link is not valid (a newer link may have replaced it). Ask for a new one.",
            )
        })?;
    if row.used_at.is_some() {
        return Err(link_invalid(
            "This link was used already. Ask for a new one if you still need it.",
        ));
    }
    if row.expires_at <= to_millis(now) {
        return Err(link_invalid("This link has expired. Ask for a new one."));
    }
    Ok(row.user_id)
}

/// Sets a new password with a reset link's `token`: the token is used up, every browser and
/// REST session of the account ends, and the user is told by mail.
pub async fn confirm(
    db: &Db,
    keys: &Keys,
    mailer: &Mailer,
    token: &str,
    new_password: &str,
    client: &ClientInfo,
    now: Timestamp,
) -> AppResult<()> {
    // The cheap check first: a bad token costs no password hash.
    check_token(db, keys, PURPOSE, token, now).await?;
    let mut v = Validator::default();
    accounts::validate_password(&mut v, "body.new_password", new_password);
    v.finish()?;
    let hash = passwords::hash_password(new_password.to_string()).await?;
    let user_id =
        db::email_tokens::reset_password(db, &keys.hash_token(token.trim()), &hash, to_millis(now))
            .await
            .map_err(db_failure)?
            // Used or expired between the check and now (a racing request).
            .ok_or_else(|| {
                link_invalid("This link was used already. Ask for a new one if you still need it.")
            })?;
    let user = accounts::get_user(db, user_id).await?;
    tracing::info!(user_id = user_id.0, "password reset");
    let event = AccountEvent::PasswordChanged;
    security_log::record(db, event, Some(user_id.0), &user.email, client, now).await;
    let notice = Mail::PasswordChanged(Notice::from_client(client, now));
    mailer.notify_user(db, &user, &notice, now).await;
    Ok(())
}
