//! Confirming the account's address from the portal: the mailed link's page posts here, and
//! the banner of unconfirmed accounts asks for a new link.

use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/sfn", endpoint = "verify_email")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    use super::ctx;
    let state = ctx::state()?;
    crate::domain::email_verification::verify(&state.db, &state.crypto, &token, ctx::now()).await?;
    if super::current_user().is_some() {
        super::redirect("/dashboard?verified=1");
    } else {
        super::redirect("/login?verified=1");
    }
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "resend_verification")]
pub async fn resend_verification() -> Result<(), AppError> {
    use super::ctx;
    let state = ctx::state()?;
    let user = ctx::require_user()?;
    crate::domain::email_verification::resend(
        &state.db,
        &state.crypto,
        &state.mailer,
        &user,
        &ctx::client(),
        ctx::now(),
    )
    .await?;
    super::redirect("/account?saved=verification");
    Ok(())
}
