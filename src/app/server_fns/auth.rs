use crate::error::AppError;
use leptos::prelude::*;

/// Where to go after signing in: only local paths, never another site.
pub fn safe_next(next: Option<String>) -> String {
    local_path_or(next, "/dashboard")
}

/// `next` if it is a path on this site (no other host, no backslash tricks, nothing that could
/// break out of a Location header), else `fallback`.
pub fn local_path_or(next: Option<String>, fallback: &str) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.contains("://")
                && !n.chars().any(char::is_control) =>
        {
            n
        }
        _ => fallback.to_string(),
    }
}

#[server(prefix = "/sfn", endpoint = "login")]
pub async fn login(
    email: String,
    password: String,
    code: Option<String>,
    next: Option<String>,
) -> Result<(), AppError> {
    use super::ctx;
    use crate::domain::accounts;
    let state = ctx::state()?;
    let session = ctx::session().await?;
    let signed_in = accounts::sign_in(
        &state.db,
        &state.crypto,
        &state.mailer,
        &email,
        &password,
        code.as_deref(),
        &ctx::client(),
        time::OffsetDateTime::now_utc(),
    )
    .await?;
    crate::server::portal_auth::sign_in(&session, &signed_in).await?;
    super::redirect(&safe_next(next));
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "register")]
pub async fn register(name: String, email: String, password: String) -> Result<(), AppError> {
    use super::ctx;
    use crate::app::types::Role;
    use crate::domain::accounts;
    let state = ctx::state()?;
    let session = ctx::session().await?;
    let now = time::OffsetDateTime::now_utc();
    let input = accounts::RegisterInput {
        email: email.clone(),
        password: password.clone(),
        name,
    };
    let user = accounts::register(&state.db, input, Role::User, false, now).await?;
    crate::domain::email_verification::send_link(
        &state.db,
        &state.crypto,
        &state.mailer,
        &user,
        now,
    )
    .await;
    let signed_in =
        accounts::authenticate(&state.db, &email, &password, &ctx::client(), now).await?;
    crate::server::portal_auth::sign_in(&session, &signed_in).await?;
    super::redirect("/dashboard");
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "setup")]
pub async fn complete_setup(name: String, email: String, password: String) -> Result<(), AppError> {
    use super::ctx;
    use crate::domain::{accounts, setup};
    let state = ctx::state()?;
    let session = ctx::session().await?;
    let now = time::OffsetDateTime::now_utc();
    let input = accounts::RegisterInput {
        email: email.clone(),
        password: password.clone(),
        name,
    };
    setup::complete_setup(&state.db, input, now).await?;
    state.mark_setup_done();
    let signed_in =
        accounts::authenticate(&state.db, &email, &password, &ctx::client(), now).await?;
    crate::server::portal_auth::sign_in(&session, &signed_in).await?;
    super::redirect("/dashboard");
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let session = super::ctx::session().await?;
    crate::server::portal_auth::sign_out(&session).await?;
    super::redirect("/login");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/account".into())), "/account");
        for hostile in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "/keys\r\nSet-Cookie: x=1",
            "javascript:alert(1)",
        ] {
            assert_eq!(safe_next(Some(hostile.into())), "/dashboard", "{hostile}");
        }
        assert_eq!(safe_next(None), "/dashboard");
    }
}
