//! Registration, sign-in, profile and password changes.

use super::security_log::{self, AccountEvent};
use super::{ClientInfo, Timestamp, db_failure, passwords, throttle, to_millis};
use crate::app::types::{Role, User, UserId};
use crate::db::{self, Db};
use crate::error::{AppError, AppResult, ErrorCode, Validator};
use crate::mail::{Mail, Mailer, Notice};
use serde::Deserialize;

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_EMAIL_CHARS: usize = 254;

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RegisterInput {
    #[cfg_attr(feature = "ssr", schema(example = "ada@example.com"))]
    pub email: String,
    /// At least 10 characters.
    #[cfg_attr(
        feature = "ssr",
        schema(
            example = "correct horse battery staple",
            min_length = 10,
            max_length = 256
        )
    )]
    pub password: String,
    #[cfg_attr(feature = "ssr", schema(example = "Ada Lovelace", max_length = 100))]
    pub name: String,
}

/// Lower-cases and trims; accounts are looked up by this form.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub(crate) fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn has_control_chars(text: &str) -> bool {
    text.chars().any(char::is_control)
}

pub(crate) fn validate_password(v: &mut Validator, field: &str, password: &str) {
    let n = password.chars().count();
    v.check(
        n >= passwords::MIN_PASSWORD_CHARS,
        field,
        "must be at least 10 characters",
    );
    v.check(
        n <= passwords::MAX_PASSWORD_CHARS,
        field,
        "must be at most 256 characters",
    );
}

fn validate_name(v: &mut Validator, name: &str) {
    v.check(!name.is_empty(), "body.name", "is required");
    v.check(
        name.chars().count() <= MAX_NAME_CHARS,
        "body.name",
        "must be at most 100 characters",
    );
    v.check(
        !has_control_chars(name),
        "body.name",
        "must not contain control characters",
    );
}

/// Validates and creates an account. While the instance has no users, only the one-time
/// setup (with `first_user = true`) may create one, and it becomes the super admin.
pub async fn register(
    db: &Db,
    input: RegisterInput,
    role: Role,
    first_user: bool,
    now: Timestamp,
) -> AppResult<User> {
    let email = normalize_email(&input.email);
    let name = input.name.trim().to_string();
    let mut v = Validator::default();
    v.check(
        email.chars().count() <= MAX_EMAIL_CHARS,
        "body.email",
        "must be at most 254 characters",
    );
    v.check(
        is_plausible_email(&email),
        "body.email",
        "must be a valid email address",
    );
    validate_name(&mut v, &name);
    validate_password(&mut v, "body.password", &input.password);
    v.finish()?;

    let users = db::users::count(db).await.map_err(db_failure)?;
    match (users, first_user) {
        (0, false) => {
            return Err(AppError::new(
                ErrorCode::SetupRequired,
                "Finish the one-time setup at /setup first.",
            ));
        }
        (n, true) if n > 0 => {
            return Err(AppError::new(
                ErrorCode::SetupDone,
                "Setup is already complete.",
            ));
        }
        _ => {}
    }

    let password_hash = passwords::hash_password(input.password).await?;
    let new = db::users::NewUser {
        email: &email,
        name: &name,
        password_hash: &password_hash,
        role,
        now_ms: to_millis(now),
        // The first admin has nobody to confirm the address to.
        email_verified_ms: first_user.then(|| to_millis(now)),
    };
    let id = db::users::insert(db, &new)
        .await
        .map_err(db_failure)?
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::EmailTaken,
                "An account with this email already exists.",
            )
        })?;
    db::users::find(db, id)
        .await
        .map_err(db_failure)?
        .ok_or_else(AppError::internal)
}

/// A verified sign-in: the user, the password stamp that sessions remember, and the client
/// it came from (shown on the sessions page).
pub struct SignedIn {
    pub user: User,
    pub password_stamp: i64,
    pub client: ClientInfo,
}

fn invalid_credentials() -> AppError {
    AppError::new(ErrorCode::InvalidCredentials, "Invalid email or password.")
}

fn too_many_attempts(retry_after: u64) -> AppError {
    let minutes = retry_after.div_ceil(60);
    let mut e = AppError::new(
        ErrorCode::TooManyAttempts,
        format!(
            "Too many failed sign-in attempts. Try again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        ),
    );
    e.retry_after = Some(retry_after);
    e
}

/// Checks credentials with throttling per account and per IP. Unknown emails take as long and
/// answer the same as wrong passwords.
pub async fn authenticate(
    db: &Db,
    email: &str,
    password: &str,
    client: &ClientInfo,
    now: Timestamp,
) -> AppResult<SignedIn> {
    check_password(db, email, password, client, now, true).await
}

/// [`authenticate`]; a right password is recorded as a successful attempt only when
/// `record_success` (a sign-in with a second step records it after that step: a success
/// would clear the failed codes before it from the throttle).
async fn check_password(
    db: &Db,
    email: &str,
    password: &str,
    client: &ClientInfo,
    now: Timestamp,
    record_success: bool,
) -> AppResult<SignedIn> {
    let email = normalize_email(email);
    let now_ms = to_millis(now);
    let since = now_ms - throttle::WINDOW_MS;
    let by_ip = db::attempts::failures_for_ip(db, &client.ip, since)
        .await
        .map_err(db_failure)?;
    if let Some(wait) = throttle::retry_after_secs(&by_ip, throttle::MAX_FAILURES_PER_IP, now_ms) {
        return Err(too_many_attempts(wait));
    }
    let by_account = db::attempts::failures_for_email(db, &email, since)
        .await
        .map_err(db_failure)?;
    if let Some(wait) =
        throttle::retry_after_secs(&by_account, throttle::MAX_FAILURES_PER_ACCOUNT, now_ms)
    {
        return Err(too_many_attempts(wait));
    }
    if password.chars().count() > passwords::MAX_PASSWORD_CHARS {
        db::attempts::record(db, &email, &client.ip, false, now_ms)
            .await
            .map_err(db_failure)?;
        return Err(invalid_credentials());
    }

    let found = db::users::credentials_by_email(db, &email)
        .await
        .map_err(db_failure)?;
    let verified = match &found {
        Some(c) => passwords::verify_password(password.to_string(), c.password_hash.clone()).await,
        None => {
            passwords::burn_verification_time(password.to_string()).await;
            false
        }
    };
    if !verified || record_success {
        db::attempts::record(db, &email, &client.ip, verified, now_ms)
            .await
            .map_err(db_failure)?;
    }
    if !verified {
        let user_id = found.as_ref().map(|c| c.user.id.0);
        security_log::record(db, AccountEvent::SignInFailed, user_id, &email, client, now).await;
    }
    match found {
        Some(c) if verified && c.user.suspended_at.is_some() => {
            tracing::info!(user_id = c.user.id.0, "sign-in refused: account suspended");
            Err(AppError::account_suspended())
        }
        Some(c) if verified => {
            tracing::info!(user_id = c.user.id.0, "signed in");
            Ok(SignedIn {
                user: c.user,
                password_stamp: c.password_changed_at,
                client: client.clone(),
            })
        }
        _ => {
            tracing::info!("sign-in failed");
            Err(invalid_credentials())
        }
    }
}

/// A full sign-in: the password ([`authenticate`]), then the second factor when the user has
/// two-factor sign-in on. A wrong code counts as a failed attempt (codes are guessable in a
/// million tries; the same throttle as passwords stops that).
#[allow(clippy::too_many_arguments)]
pub async fn sign_in(
    db: &Db,
    keys: &super::crypto::Keys,
    mailer: &Mailer,
    email: &str,
    password: &str,
    second_factor: Option<&str>,
    client: &ClientInfo,
    now: Timestamp,
) -> AppResult<SignedIn> {
    let signed_in = check_password(db, email, password, client, now, false).await?;
    let user_id = signed_in.user.id.0;
    let checked = super::two_factor::check(db, keys, user_id, second_factor, now).await;
    // Asking for the code is no failure; a wrong one is, a right one (or none needed) succeeds.
    let outcome = match &checked {
        Ok(_) => Some(true),
        Err(e) if e.code == ErrorCode::TotpInvalid => Some(false),
        Err(_) => None,
    };
    if let Some(succeeded) = outcome {
        db::attempts::record(
            db,
            &signed_in.user.email,
            &client.ip,
            succeeded,
            to_millis(now),
        )
        .await
        .map_err(db_failure)?;
    }
    let email = &signed_in.user.email;
    match &checked {
        Err(_) if outcome == Some(false) => {
            tracing::info!(user_id, "sign-in failed at the second factor");
            let event = AccountEvent::TotpFailed;
            security_log::record(db, event, Some(user_id), email, client, now).await;
        }
        Ok(super::two_factor::SecondFactor::RecoveryCode) => {
            let event = AccountEvent::RecoveryCodeUsed;
            security_log::record(db, event, Some(user_id), email, client, now).await;
            let notice = Mail::RecoveryCodeUsed(Notice::from_client(client, now));
            mailer.notify_user(db, &signed_in.user, &notice, now).await;
        }
        _ => {}
    }
    checked.map(|_| signed_in)
}

/// The account `id` after its current password was typed right; `field` names the input in
/// the 422 answer otherwise.
async fn confirm_password(db: &Db, id: UserId, password: &str, field: &str) -> AppResult<User> {
    let creds = db::users::credentials_by_id(db, id)
        .await
        .map_err(db_failure)?
        .ok_or_else(|| AppError::not_found("User"))?;
    if password.is_empty()
        || password.chars().count() > passwords::MAX_PASSWORD_CHARS
        || !passwords::verify_password(password.to_string(), creds.password_hash).await
    {
        return Err(AppError::validation(vec![crate::error::FieldError {
            field: field.into(),
            message: "is incorrect".into(),
        }]));
    }
    Ok(creds.user)
}

/// Turns two-factor sign-in off after checking the password and a code (or recovery code).
#[allow(clippy::too_many_arguments)]
pub async fn disable_two_factor(
    db: &Db,
    keys: &super::crypto::Keys,
    mailer: &Mailer,
    id: UserId,
    password: &str,
    code: Option<&str>,
    client: &ClientInfo,
    now: Timestamp,
) -> AppResult<()> {
    let user = confirm_password(db, id, password, "body.password").await?;
    super::two_factor::disable(db, keys, id.0, code, now).await?;
    let event = AccountEvent::TotpDisabled;
    security_log::record(db, event, Some(id.0), &user.email, client, now).await;
    let notice = Mail::TwoFactorDisabled(Notice::from_client(client, now));
    mailer.notify_user(db, &user, &notice, now).await;
    Ok(())
}

/// Replaces the recovery codes after checking the password and a code (or recovery code).
#[allow(clippy::too_many_arguments)]
pub async fn regenerate_recovery_codes(
    db: &Db,
    keys: &super::crypto::Keys,
    mailer: &Mailer,
    id: UserId,
    password: &str,
    code: Option<&str>,
    client: &ClientInfo,
    now: Timestamp,
) -> AppResult<super::two_factor::RecoveryCodes> {
    let user = confirm_password(db, id, password, "body.password").await?;
    let codes = super::two_factor::regenerate_recovery_codes(db, keys, id.0, code, now).await?;
    let event = AccountEvent::RecoveryCodesRegenerated;
    security_log::record(db, event, Some(id.0), &user.email, client, now).await;
    let notice = Mail::RecoveryCodesReplaced(Notice::from_client(client, now));
    mailer.notify_user(db, &user, &notice, now).await;
    Ok(codes)
}

pub async fn get_user(db: &Db, id: UserId) -> AppResult<User> {
    db::users::find(db, id)
        .await
        .map_err(db_failure)?
        .ok_or_else(|| AppError::not_found("User"))
}

pub async fn update_name(db: &Db, id: UserId, name: &str, now: Timestamp) -> AppResult<User> {
    let name = name.trim();
    let mut v = Validator::default();
    validate_name(&mut v, name);
    v.finish()?;
    if !db::users::update_name(db, id, name, to_millis(now))
        .await
        .map_err(db_failure)?
    {
        return Err(AppError::not_found("User"));
    }
    get_user(db, id).await
}

/// Changes the password after checking the current one. Returns the new password stamp:
/// sessions holding an older stamp are signed out; REST sessions other than `keep_session`
/// are revoked.
#[allow(clippy::too_many_arguments)]
pub async fn change_password(
    db: &Db,
    mailer: &Mailer,
    id: UserId,
    current: &str,
    new_password: &str,
    keep_session: Option<i64>,
    client: &ClientInfo,
    now: Timestamp,
) -> AppResult<i64> {
    let mut v = Validator::default();
    v.check(!current.is_empty(), "body.current_password", "is required");
    validate_password(&mut v, "body.new_password", new_password);
    v.check(
        current != new_password,
        "body.new_password",
        "must differ from the current password",
    );
    v.finish()?;
    let user = confirm_password(db, id, current, "body.current_password").await?;
    let hash = passwords::hash_password(new_password.to_string()).await?;
    let now_ms = to_millis(now);
    db::users::update_password(db, id, &hash, now_ms)
        .await
        .map_err(db_failure)?;
    db::auth_sessions::revoke_all_for_user(db, id, keep_session, now_ms)
        .await
        .map_err(db_failure)?;
    tracing::info!(user_id = id.0, "password changed");
    let event = AccountEvent::PasswordChanged;
    security_log::record(db, event, Some(id.0), &user.email, client, now).await;
    let notice = Mail::PasswordChanged(Notice::from_client(client, now));
    mailer.notify_user(db, &user, &notice, now).await;
    Ok(now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_plausibility() {
        for ok in ["a@b.co", "ada.lovelace+keys@example.com", "ü@exämple.de"] {
            assert!(is_plausible_email(ok), "{ok}");
        }
        for bad in [
            "", "a", "a@b", "@b.co", "a@.co", "a@b.co.", "a b@c.de", "a@b@c.de", "a@b.co\n",
        ] {
            assert!(!is_plausible_email(bad), "{bad:?}");
        }
    }

    #[test]
    fn emails_are_normalized() {
        assert_eq!(normalize_email("  Ada@Example.COM "), "ada@example.com");
    }
}
