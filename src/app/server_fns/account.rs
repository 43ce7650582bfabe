use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/sfn", endpoint = "update_profile")]
pub async fn update_profile(name: String) -> Result<(), AppError> {
    use super::ctx;
    let state = ctx::state()?;
    let user = ctx::require_user()?;
    crate::domain::accounts::update_name(
        &state.db,
        user.id,
        &name,
        time::OffsetDateTime::now_utc(),
    )
    .await?;
    super::redirect("/account?saved=profile");
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    use super::ctx;
    let state = ctx::state()?;
    let user = ctx::require_user()?;
    let session = ctx::session().await?;
    let stamp = crate::domain::accounts::change_password(
        &state.db,
        &state.mailer,
        user.id,
        &current_password,
        &new_password,
        None,
        &ctx::client(),
        time::OffsetDateTime::now_utc(),
    )
    .await?;
    crate::server::portal_auth::refresh_password_stamp(&session, stamp).await?;
    super::redirect("/account?saved=password");
    Ok(())
}
