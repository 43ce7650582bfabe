//! The admin console's server functions: a user's page and its actions (role, suspension),
//! the audit log and security events viewers. Each calls the same domain function as REST,
//! which checks that the caller is an admin.

use crate::app::admin_types::{AdminUserView, AuditPage, SecurityEventPage};
use crate::error::AppError;
use leptos::prelude::*;

pub const AUDIT_PER_PAGE: i64 = 50;
/// How many audit records about a user their page shows.
pub const RECENT_AUDIT_ROWS: i64 = 10;

/// A number filter from a form: empty means none; anything else must be a number.
#[cfg(feature = "ssr")]
fn number_of(field: &str, text: &str) -> Result<Option<i64>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>().map(Some).map_err(|_| {
        AppError::validation(vec![crate::error::FieldError {
            field: format!("query.{field}"),
            message: "must be a number".into(),
        }])
    })
}

#[cfg(feature = "ssr")]
fn text(value: String) -> Option<String> {
    Some(value).filter(|v| !v.trim().is_empty())
}

/// One account with its figures and the latest audit records about it (admins).
#[server(prefix = "/sfn", endpoint = "admin_user_detail")]
pub async fn admin_user_detail(id: i64) -> Result<AdminUserView, AppError> {
    use super::ctx;
    use crate::domain::{admin_users, audit_log};
    let (state, actor) = ctx::actor()?;
    let detail =
        admin_users::user_detail(&state.db, &actor, crate::app::types::UserId(id), ctx::now())
            .await?;
    let query = audit_log::AuditQuery {
        target: Some(format!("user:{id}")),
        per_page: Some(RECENT_AUDIT_ROWS),
        ..Default::default()
    };
    let recent = audit_log::list_audit(&state.db, &actor, &query)
        .await?
        .items;
    Ok(AdminUserView { detail, recent })
}

/// Changes a user's role (admins), then back to their page.
#[server(prefix = "/sfn", endpoint = "admin_change_role")]
pub async fn admin_change_role(id: i64, role: String) -> Result<(), AppError> {
    use super::ctx;
    use crate::app::types::{Role, UserId};
    let (state, actor) = ctx::actor()?;
    let role = Role::parse(&role).ok_or_else(|| {
        AppError::validation(vec![crate::error::FieldError {
            field: "body.role".into(),
            message: "must be one of viewer, user, admin, super_admin".into(),
        }])
    })?;
    crate::domain::admin_users::change_role(&state.db, &actor, UserId(id), role, ctx::now())
        .await?;
    super::redirect(&format!("/admin/users/{id}?done=role"));
    Ok(())
}

/// Suspends a user (admins) with an optional reason for admins, then back to their page.
#[server(prefix = "/sfn", endpoint = "admin_suspend_user")]
pub async fn admin_suspend_user(id: i64, reason: Option<String>) -> Result<(), AppError> {
    use super::ctx;
    let (state, actor) = ctx::actor()?;
    crate::domain::admin_users::suspend_user(
        &state.db,
        &state.key_cache,
        &actor,
        crate::app::types::UserId(id),
        reason.as_deref(),
        ctx::now(),
    )
    .await?;
    super::redirect(&format!("/admin/users/{id}?done=suspended"));
    Ok(())
}

/// Lifts a user's suspension (admins), then back to their page.
#[server(prefix = "/sfn", endpoint = "admin_reactivate_user")]
pub async fn admin_reactivate_user(id: i64) -> Result<(), AppError> {
    use super::ctx;
    let (state, actor) = ctx::actor()?;
    crate::domain::admin_users::reactivate_user(
        &state.db,
        &state.key_cache,
        &actor,
        crate::app::types::UserId(id),
        ctx::now(),
    )
    .await?;
    super::redirect(&format!("/admin/users/{id}?done=reactivated"));
    Ok(())
}

/// A page of the audit log (admins); filters as the page's URL has them (empty: none).
#[server(prefix = "/sfn", endpoint = "admin_audit_log")]
pub async fn admin_audit_log(
    actor_id: String,
    action: String,
    target: String,
    from: String,
    to: String,
    page: i64,
) -> Result<AuditPage, AppError> {
    use super::ctx;
    let (state, actor) = ctx::actor()?;
    let query = crate::domain::audit_log::AuditQuery {
        actor_id: number_of("actor_id", &actor_id)?,
        action: text(action),
        target: text(target),
        from: text(from),
        to: text(to),
        page: Some(page),
        per_page: Some(AUDIT_PER_PAGE),
    };
    crate::domain::audit_log::list_audit(&state.db, &actor, &query).await
}

/// A page of security events (admins); filters as the page's URL has them (empty: none).
#[server(prefix = "/sfn", endpoint = "admin_security_events")]
pub async fn admin_security_events(
    user: String,
    kind: String,
    from: String,
    to: String,
    page: i64,
) -> Result<SecurityEventPage, AppError> {
    use super::ctx;
    let (state, actor) = ctx::actor()?;
    let query = crate::domain::audit_log::SecurityQuery {
        user: number_of("user", &user)?,
        kind: text(kind),
        from: text(from),
        to: text(to),
        page: Some(page),
        per_page: Some(AUDIT_PER_PAGE),
    };
    crate::domain::audit_log::list_security_events(&state.db, &actor, &query).await
}
