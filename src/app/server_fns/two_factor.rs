//! The portal's two-factor page and the admin's reset: thin edges over
//! `crate::domain::two_factor`, posted to by plain forms.

use crate::app::types::TwoFactorView;
use crate::error::AppError;
use leptos::prelude::*;

pub const PAGE: &str = "/account/two-factor";

/// The caller's two-factor status, and while enrollment waits for a code, its QR code.
#[server(prefix = "/sfn", endpoint = "two_factor_page")]
pub async fn two_factor_page() -> Result<TwoFactorView, AppError> {
    use super::ctx;
    use crate::app::types::Enrollment;
    use crate::domain::two_factor;
    let state = ctx::state()?;
    let user = ctx::require_user()?;
    let status = two_factor::status(&state.db, user.id.0).await?;
    let pending =
        two_factor::pending_setup(&state.db, &state.crypto, user.id.0, &user.email).await?;
    let enrollment = pending.map(|setup| Enrollment {
        qr_svg: crate::app::qr::svg(
            &setup.otpauth_uri,
            "QR code to scan with your authenticator app",
        )
        .unwrap_or_default(),
        secret: setup.secret,
        otpauth_uri: setup.otpauth_uri,
    });
    Ok(TwoFactorView { status, enrollment })
}

/// Whether the caller signs in with a second factor (the account page's summary).
#[server(prefix = "/sfn", endpoint = "two_factor_status")]
pub async fn two_factor_status() -> Result<crate::app::types::TwoFactorStatus, AppError> {
    use super::ctx;
    let state = ctx::state()?;
    let user = ctx::require_user()?;
    crate::domain::two_factor::status(&state.db, user.id.0).await
}

#[server(prefix = "/sfn", endpoint = "start_two_factor")]
pub async fn start_two_factor() -> Result<(), AppError> {
    use super::ctx;
    let state = ctx::state()?;
    let user = ctx::require_user()?;
    crate::domain::two_factor::setup(&state.db, &state.crypto, user.id.0, &user.email, ctx::now())
        .await?;
    super::redirect(PAGE);
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "cancel_two_factor")]
pub async fn cancel_two_factor() -> Result<(), AppError> {
    use super::ctx;
    let state = ctx::state()?;
    let user = ctx::require_user()?;
    crate::domain::two_factor::cancel_setup(&state.db, user.id.0).await?;
    super::redirect(PAGE);
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "enable_two_factor")]
pub async fn enable_two_factor(code: String) -> Result<(), AppError> {
    use super::ctx;
    let state = ctx::state()?;
    let user = ctx::require_user()?;
    let codes = crate::domain::two_factor::enable(
        &state.db,
        &state.crypto,
        &state.mailer,
        &user,
        &code,
        &ctx::client(),
        ctx::now(),
    )
    .await?;
    show_codes_once(&state, user.id.0, codes.recovery_codes);
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "regenerate_recovery_codes")]
pub async fn regenerate_recovery_codes(password: String, code: String) -> Result<(), AppError> {
    use super::ctx;
    let state = ctx::state()?;
    let user = ctx::require_user()?;
    let codes = crate::domain::accounts::regenerate_recovery_codes(
        &state.db,
        &state.crypto,
        &state.mailer,
        user.id,
        &password,
        Some(&code),
        &ctx::client(),
        ctx::now(),
    )
    .await?;
    show_codes_once(&state, user.id.0, codes.recovery_codes);
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "disable_two_factor")]
pub async fn disable_two_factor(password: String, code: String) -> Result<(), AppError> {
    use super::ctx;
    let state = ctx::state()?;
    let user = ctx::require_user()?;
    crate::domain::accounts::disable_two_factor(
        &state.db,
        &state.crypto,
        &state.mailer,
        user.id,
        &password,
        Some(&code),
        &ctx::client(),
        ctx::now(),
    )
    .await?;
    super::redirect(&format!("{PAGE}?saved=off"));
    Ok(())
}

/// An admin turns a user's two-factor sign-in off; back to the users list where it was.
#[server(prefix = "/sfn", endpoint = "reset_user_two_factor")]
pub async fn reset_user_two_factor(user_id: i64, back: String) -> Result<(), AppError> {
    use super::ctx;
    let (state, actor) = ctx::actor()?;
    crate::domain::two_factor::reset_by_admin(
        &state.db,
        &state.mailer,
        &actor,
        crate::app::types::UserId(user_id),
        ctx::now(),
    )
    .await?;
    // Only a path of the users list or a user's page, never elsewhere.
    let users_page = back
        .strip_prefix("/admin/users/")
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
    let back = if back.starts_with("/admin?") || back == "/admin" || users_page {
        back
    } else {
        "/admin".to_string()
    };
    let joint = if back.contains('?') { '&' } else { '?' };
    super::redirect(&format!("{back}{joint}reset={user_id}"));
    Ok(())
}

/// Parks new recovery codes for their one showing and sends the browser to it.
#[cfg(feature = "ssr")]
fn show_codes_once(state: &crate::server::state::AppState, user_id: i64, codes: Vec<String>) {
    use crate::domain::keys::reveal::Subject;
    let now_ms = crate::domain::to_millis(super::ctx::now());
    let token = state
        .reveals
        .park(user_id, Subject::RecoveryCodes, codes.join("\n"), now_ms);
    super::redirect(&format!("{PAGE}?codes={token}"));
}

/// The recovery codes parked for this page view, once (server render only).
pub fn take_recovery_codes(token: &str) -> Option<Vec<String>> {
    #[cfg(feature = "ssr")]
    {
        use crate::domain::keys::reveal::Subject;
        let state = use_context::<crate::server::state::AppState>()?;
        let user = super::current_user()?;
        let now_ms = crate::domain::to_millis(super::ctx::now());
        let codes = state
            .reveals
            .take(token, user.id.0, Subject::RecoveryCodes, now_ms)?;
        Some(codes.lines().map(str::to_string).collect())
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = token;
        None
    }
}
