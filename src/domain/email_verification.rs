//! Email verification: a link mailed at registration confirms the address. The token is
//! random, kept only as a keyed hash, works once, for 48 hours, and only the newest one works;
//! it confirms the address it was sent to, so a changed address needs a new link.

use super::password_reset::{check_token, new_link_token};
use super::{Timestamp, crypto::Keys, db_failure, to_millis};
use crate::app::types::User;
use crate::db::{self, Db};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::mail::{Mail, Mailer, Recipient};

pub const PURPOSE: &str = "verify_email";
pub const VERIFY_TTL_MS: i64 = 48 * 3600 * 1000;

/// Mails `user` a confirmation link (replacing older ones). Registration calls it; a failure
/// is logged and never fails the registration.
pub async fn send_link(db: &Db, keys: &Keys, mailer: &Mailer, user: &User, now: Timestamp) {
    if user.email_verified {
        return;
    }
    let token = new_link_token();
    let now_ms = to_millis(now);
    let stored = db::email_tokens::replace(
        db,
        user.id,
        PURPOSE,
        &keys.hash_token(&token),
        &user.email,
        now_ms,
        now_ms + VERIFY_TTL_MS,
    )
    .await;
    if let Err(e) = stored {
        tracing::warn!(user_id = user.id.0, error = %e, "storing an email verification token failed");
        return;
    }
    let to = Recipient {
        email: user.email.clone(),
        name: user.name.clone(),
    };
    let mail = Mail::VerifyEmail {
        token,
        valid_hours: VERIFY_TTL_MS / 3_600_000,
    };
    if let Err(e) = mailer.send(db, &to, Some(user.id.0), &mail, now).await {
        tracing::warn!(user_id = user.id.0, error = %e, "queueing an email verification mail failed");
    }
}

/// Confirms the address a link's `token` was sent to.
pub async fn verify(db: &Db, keys: &Keys, token: &str, now: Timestamp) -> AppResult<()> {
    // Says why a token does not work (unknown, used, expired) without changing anything.
    check_token(db, keys, PURPOSE, token, now).await?;
    let used =
        db::email_tokens::consume(db, PURPOSE, &keys.hash_token(token.trim()), to_millis(now))
            .await
            .map_err(db_failure)?;
    let Some((user_id, email)) = used else {
        return Err(AppError::new(
            ErrorCode::EmailTokenInvalid,
            "This link was used already. Ask for a new one if you still need it.",
        ));
    };
    let user_id = crate::app::types::UserId(user_id);
    if !db::users::mark_email_verified(db, user_id, &email, to_millis(now))
        .await
        .map_err(db_failure)?
    {
        return Err(AppError::new(
            ErrorCode::EmailTokenInvalid,
            "This link was sent to an address the account no longer has.",
        ));
    }
    tracing::info!(user_id = user_id.0, "email address confirmed");
    Ok(())
}

/// Under KEYPORT_REQUIRE_VERIFIED_EMAIL, only confirmed accounts create keys.
pub fn require_verified(required: bool, user: &User) -> AppResult<()> {
    if required && !user.email_verified {
        return Err(AppError::new(
            ErrorCode::EmailNotVerified,
            "Confirm your email address first: open the link we mailed you (you can have it sent again).",
        ));
    }
    Ok(())
}

/// Requests for a new link per account within the throttle window (15 minutes).
pub const MAX_RESENDS: usize = 3;

/// Mails a new confirmation link, at most [`MAX_RESENDS`] a quarter hour.
pub async fn resend(
    db: &Db,
    keys: &Keys,
    mailer: &Mailer,
    user: &User,
    client: &super::ClientInfo,
    now: Timestamp,
) -> AppResult<()> {
    if user.email_verified {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "Your email address is confirmed already.",
        ));
    }
    let now_ms = to_millis(now);
    let by = db::email_tokens::RequestsBy::Email(&user.email);
    let recent =
        db::email_tokens::requests_since(db, PURPOSE, by, now_ms - super::throttle::WINDOW_MS)
            .await
            .map_err(db_failure)?;
    if let Some(wait) = super::throttle::retry_after_secs(&recent, MAX_RESENDS, now_ms) {
        let mut e = AppError::new(
            ErrorCode::TooManyAttempts,
            format!(
                "We sent several links just now. Try again in {} minutes.",
                wait.div_ceil(60)
            ),
        );
        e.retry_after = Some(wait);
        return Err(e);
    }
    db::email_tokens::record_request(db, PURPOSE, &user.email, &client.ip, now_ms)
        .await
        .map_err(db_failure)?;
    send_link(db, keys, mailer, user, now).await;
    Ok(())
}
