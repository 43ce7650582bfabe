//! Two-factor sign-in: enrollment (a secret, then a first valid code turns it on and hands out
//! recovery codes), the second step of every sign-in, and turning it off. The secret is stored
//! sealed with a server-derived key bound to the user; recovery codes as keyed hashes.

use super::crypto::Keys;
use super::totp::{self, CodeCheck, TotpSecret};
use super::{Role, Timestamp, UserId, db_failure, to_millis};
use crate::app::types::TwoFactorStatus;
use crate::db::{self, Db};
use crate::error::{AppError, AppResult, ErrorCode};
use serde::Serialize;

/// The issuer authenticator apps show next to the account.
pub const ISSUER: &str = "Keyport";

/// What enrollment shows once: the secret to type and the URI the QR code carries.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TotpSetup {
    /// Base32, for typing into an authenticator app.
    pub secret: String,
    pub otpauth_uri: String,
}

/// The recovery codes, shown once when two-factor sign-in is turned on.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

fn context(user_id: i64) -> Vec<u8> {
    format!("keyport/totp/user:{user_id}").into_bytes()
}

fn now_seconds(now: Timestamp) -> u64 {
    u64::try_from(now.unix_timestamp()).unwrap_or(0)
}

fn totp_invalid() -> AppError {
    AppError::new(
        ErrorCode::TotpInvalid,
        "That code is not valid: use the current code from your authenticator app, or a recovery code you have not used.",
    )
}

fn secret_of(keys: &Keys, user_id: i64, row: &db::two_factor::TotpRow) -> AppResult<TotpSecret> {
    keys.open(&row.secret_sealed, &context(user_id))
        .and_then(|bytes| TotpSecret::from_base32(&String::from_utf8(bytes).ok()?))
        .ok_or_else(|| {
            // A changed server secret, or an altered row: nothing the user can fix.
            tracing::error!(user_id, "a stored two-factor secret does not open");
            AppError::internal()
        })
}

/// Whether the user signs in with a second factor.
pub async fn is_enabled(db: &Db, user_id: i64) -> AppResult<bool> {
    let row = db::two_factor::get(db, user_id).await.map_err(db_failure)?;
    Ok(row.is_some_and(|r| r.enabled_at.is_some()))
}

/// Starts enrollment: a new secret, not active until [`enable`] gets a valid code. Asking
/// again before that replaces the secret; once enabled it is refused (`CONFLICT`).
pub async fn setup(
    db: &Db,
    keys: &Keys,
    user_id: i64,
    email: &str,
    now: Timestamp,
) -> AppResult<TotpSetup> {
    let secret = TotpSecret::generate();
    let text = secret.to_base32();
    let sealed = keys.seal(text.as_bytes(), &context(user_id));
    let started = db::two_factor::start_setup(db, user_id, &sealed, to_millis(now))
        .await
        .map_err(db_failure)?;
    if !started {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "Two-factor sign-in is on already; turn it off first to enroll another device.",
        ));
    }
    Ok(TotpSetup {
        otpauth_uri: secret.otpauth_uri(ISSUER, email),
        secret: text,
    })
}

/// Turns two-factor sign-in on with a first valid code from the enrolled secret; returns the
/// ten recovery codes (stored only as hashes).
pub async fn enable(
    db: &Db,
    keys: &Keys,
    mailer: &crate::mail::Mailer,
    user: &crate::app::types::User,
    code: &str,
    client: &super::ClientInfo,
    now: Timestamp,
) -> AppResult<RecoveryCodes> {
    let user_id = user.id.0;
    let row = db::two_factor::get(db, user_id).await.map_err(db_failure)?;
    let Some(row) = row.filter(|r| r.enabled_at.is_none()) else {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "There is no enrollment waiting for a code: start with the setup step.",
        ));
    };
    let secret = secret_of(keys, user_id, &row)?;
    let CodeCheck::Accepted(step) = totp::check_code(&secret, code, now_seconds(now), None) else {
        return Err(totp_invalid());
    };
    let (codes, hashes) = new_recovery_codes(keys);
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    let enabled = db::two_factor::enable(db, user_id, step, &hashes, to_millis(now))
        .await
        .map_err(db_failure)?;
    if !enabled {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "Two-factor sign-in is on already.",
        ));
    }
    tracing::info!(user_id, "two-factor sign-in enabled");
    let event = super::security_log::AccountEvent::TotpEnabled;
    super::security_log::record(db, event, Some(user_id), &user.email, client, now).await;
    let notice = crate::mail::Mail::TwoFactorEnabled(crate::mail::Notice::from_client(client, now));
    mailer.notify_user(db, user, &notice, now).await;
    Ok(RecoveryCodes {
        recovery_codes: codes,
    })
}

/// Ten new recovery codes and the keyed hashes that are all the database keeps of them.
fn new_recovery_codes(keys: &Keys) -> (Vec<String>, Vec<String>) {
    let codes = totp::new_recovery_codes();
    let hashes = codes
        .iter()
        .filter_map(|c| totp::recovery_code_key(c))
        .map(|k| keys.hash_token(&k))
        .collect();
    (codes, hashes)
}

/// Where a user's two-factor sign-in stands.
pub async fn status(db: &Db, user_id: i64) -> AppResult<TwoFactorStatus> {
    let row = db::two_factor::get(db, user_id).await.map_err(db_failure)?;
    let enabled_at = row.as_ref().and_then(|r| r.enabled_at);
    let recovery_codes_left = if enabled_at.is_some() {
        db::two_factor::recovery_codes_left(db, user_id)
            .await
            .map_err(db_failure)?
    } else {
        0
    };
    Ok(TwoFactorStatus {
        enabled: enabled_at.is_some(),
        enabled_at: enabled_at.map(super::from_millis),
        pending: row.is_some() && enabled_at.is_none(),
        recovery_codes_left,
    })
}

/// The enrollment waiting for its first code, to show again (the page was reloaded); `None`
/// when there is none or two-factor sign-in is on already.
pub async fn pending_setup(
    db: &Db,
    keys: &Keys,
    user_id: i64,
    email: &str,
) -> AppResult<Option<TotpSetup>> {
    let row = db::two_factor::get(db, user_id).await.map_err(db_failure)?;
    let Some(row) = row.filter(|r| r.enabled_at.is_none()) else {
        return Ok(None);
    };
    let secret = secret_of(keys, user_id, &row)?;
    Ok(Some(TotpSetup {
        otpauth_uri: secret.otpauth_uri(ISSUER, email),
        secret: secret.to_base32(),
    }))
}

/// Drops an enrollment that waits for its first code (the user gave up on it).
pub async fn cancel_setup(db: &Db, user_id: i64) -> AppResult<()> {
    db::two_factor::cancel_setup(db, user_id)
        .await
        .map_err(db_failure)?;
    Ok(())
}

/// New recovery codes in place of all the old ones, after a code (or an unused recovery
/// code) from the user; the caller has checked the password.
pub async fn regenerate_recovery_codes(
    db: &Db,
    keys: &Keys,
    user_id: i64,
    code: Option<&str>,
    now: Timestamp,
) -> AppResult<RecoveryCodes> {
    if check(db, keys, user_id, code, now).await? == SecondFactor::NotNeeded {
        return Err(off_already());
    }
    let (codes, hashes) = new_recovery_codes(keys);
    let replaced = db::two_factor::replace_recovery_codes(db, user_id, &hashes, to_millis(now))
        .await
        .map_err(db_failure)?;
    if !replaced {
        // Turned off by a racing request between the check and now.
        return Err(off_already());
    }
    tracing::info!(user_id, "recovery codes regenerated");
    Ok(RecoveryCodes {
        recovery_codes: codes,
    })
}

fn off_already() -> AppError {
    AppError::new(ErrorCode::Conflict, "Two-factor sign-in is off already.")
}

/// An admin turns another user's two-factor sign-in off (the user lost their device and
/// their recovery codes), with an audit record in the same transaction. Admins cannot reset
/// their own (the account page asks for password and code) and only super admins reset a
/// super admin's.
pub async fn reset_by_admin(
    db: &Db,
    mailer: &crate::mail::Mailer,
    actor: &super::keys::Actor,
    target: UserId,
    now: Timestamp,
) -> AppResult<()> {
    if !actor.user.role.is_admin() {
        return Err(AppError::forbidden());
    }
    let user = db::users::find(db, target)
        .await
        .map_err(db_failure)?
        .ok_or_else(|| AppError::not_found("User"))?;
    if user.id == actor.user.id {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "Turn off your own two-factor sign-in on your account page; it asks for your password and a code.",
        ));
    }
    if user.role == Role::SuperAdmin && actor.user.role != Role::SuperAdmin {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "Only a super admin can reset a super admin's two-factor sign-in.",
        ));
    }
    let was = status(db, user.id.0).await?;
    let old = serde_json::json!({"two_factor_enabled": was.enabled, "pending": was.pending});
    let new = serde_json::json!({"two_factor_enabled": false, "pending": false});
    let now_ms = to_millis(now);
    let entry = actor.audit_entry(
        "user.two_factor_reset",
        Some(old.to_string()),
        Some(new.to_string()),
        now_ms,
    );
    let reset = db::two_factor::reset_audited(db, user.id.0, &entry)
        .await
        .map_err(db_failure)?;
    if !reset {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "This user does not have two-factor sign-in on.",
        ));
    }
    tracing::info!(
        user_id = user.id.0,
        admin_id = actor.user.id.0,
        "two-factor sign-in reset by an admin"
    );
    let event = super::security_log::AccountEvent::TotpReset;
    super::security_log::record(db, event, Some(user.id.0), &user.email, &actor.client, now).await;
    let notice = crate::mail::Notice::from_client(&actor.client, now);
    mailer
        .notify_user(db, &user, &crate::mail::Mail::TwoFactorReset(notice), now)
        .await;
    Ok(())
}

/// How a second factor was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondFactor {
    /// Two-factor sign-in is off for this user.
    NotNeeded,
    Code,
    RecoveryCode,
}

/// The second step of a sign-in (or of turning two-factor off): the current code, once, or an
/// unused recovery code, which is used up. `TOTP_REQUIRED` without one, `TOTP_INVALID` for a
/// wrong, replayed or used one.
pub async fn check(
    db: &Db,
    keys: &Keys,
    user_id: i64,
    code: Option<&str>,
    now: Timestamp,
) -> AppResult<SecondFactor> {
    let row = db::two_factor::get(db, user_id).await.map_err(db_failure)?;
    let Some(row) = row.filter(|r| r.enabled_at.is_some()) else {
        return Ok(SecondFactor::NotNeeded);
    };
    let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
        return Err(AppError::new(
            ErrorCode::TotpRequired,
            "Enter the code from your authenticator app (or a recovery code).",
        ));
    };
    let secret = secret_of(keys, user_id, &row)?;
    let last_used = row.last_used_step.and_then(|s| u64::try_from(s).ok());
    if let CodeCheck::Accepted(step) = totp::check_code(&secret, code, now_seconds(now), last_used)
    {
        // Recorded only if no racing sign-in used this step first.
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        if db::two_factor::use_step(db, user_id, step)
            .await
            .map_err(db_failure)?
        {
            return Ok(SecondFactor::Code);
        }
        return Err(totp_invalid());
    }
    if let Some(key) = totp::recovery_code_key(code) {
        let used =
            db::two_factor::use_recovery_code(db, user_id, &keys.hash_token(&key), to_millis(now))
                .await
                .map_err(db_failure)?;
        if used {
            tracing::info!(user_id, "signed in with a recovery code");
            return Ok(SecondFactor::RecoveryCode);
        }
    }
    Err(totp_invalid())
}

/// Turns two-factor sign-in off; the caller has checked the password, this checks the code.
pub async fn disable(
    db: &Db,
    keys: &Keys,
    user_id: i64,
    code: Option<&str>,
    now: Timestamp,
) -> AppResult<()> {
    if check(db, keys, user_id, code, now).await? == SecondFactor::NotNeeded {
        return Err(off_already());
    }
    db::two_factor::remove(db, user_id)
        .await
        .map_err(db_failure)?;
    tracing::info!(user_id, "two-factor sign-in disabled");
    Ok(())
}
