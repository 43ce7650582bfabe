//! Password reset from the portal: ask for a link, check it, set the new password.

use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/sfn", endpoint = "forgot_password")]
pub async fn forgot_password(email: String) -> Result<(), AppError> {
    use super::ctx;
    let state = ctx::state()?;
    crate::domain::password_reset::request(
        &state.db,
        &state.crypto,
        &state.mailer,
        &email,
        &ctx::client(),
        ctx::now(),
    )
    .await?;
    super::redirect("/forgot-password?sent=1");
    Ok(())
}

/// Whether a reset link's token still works (the page shows why not before asking for a
/// password).
#[server(prefix = "/sfn", endpoint = "check_reset_token")]
pub async fn check_reset_token(token: String) -> Result<(), AppError> {
    use super::ctx;
    use crate::domain::password_reset;
    let state = ctx::state()?;
    password_reset::check_token(
        &state.db,
        &state.crypto,
        password_reset::PURPOSE,
        &token,
        ctx::now(),
    )
    .await
    .map(|_| ())
}

#[server(prefix = "/sfn", endpoint = "reset_password")]
pub async fn reset_password(token: String, new_password: String) -> Result<(), AppError> {
    use super::ctx;
    let state = ctx::state()?;
    crate::domain::password_reset::confirm(
        &state.db,
        &state.crypto,
        &state.mailer,
        &token,
        &new_password,
        &ctx::client(),
        ctx::now(),
    )
    .await?;
    // This browser may have been signed in as someone: that session is gone too.
    let session = ctx::session().await?;
    crate::server::portal_auth::sign_out(&session).await?;
    super::redirect("/login?reset=done");
    Ok(())
}
