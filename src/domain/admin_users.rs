//! The admin console's account changes. Rules (documented in the README):
//! - only admins (admin, super_admin) act here; everyone else gets 403 FORBIDDEN;
//! - nobody suspends themselves; only a super admin suspends, reactivates or changes the role
//!   of a super admin, and only a super admin grants super_admin;
//! - the last active super admin cannot be demoted (409 LAST_SUPER_ADMIN).
//!
//! Suspension takes effect at once: the account's REST sessions are revoked in the same
//! transaction, every request checks the account's state (tokens, refresh tokens, browser
//! sessions and management keys answer 403 ACCOUNT_SUSPENDED), and the owner's keys are dropped
//! from the verification cache so they answer API_KEY_DISABLED / OWNER_SUSPENDED.

use super::keys::Actor;
use super::keys::cache::KeyCache;
use super::security_log::{self, AccountEvent};
use super::{Timestamp, db_failure, from_millis, to_millis};
use crate::app::admin_types::AdminUserDetail;
use crate::app::types::{Role, User, UserId, UserListPage, UserSummary};
use crate::db::{self, Db, admin_users::RoleChange};
use crate::error::{AppError, AppResult, ErrorCode, Validator};

pub const MAX_REASON_CHARS: usize = 500;

/// 403 FORBIDDEN unless `actor` is an admin; `what` completes "Only admins can …".
pub(crate) fn require_admin(actor: &Actor, what: &str) -> AppResult<()> {
    if actor.user.role.is_admin() {
        return Ok(());
    }
    Err(AppError::new(
        ErrorCode::Forbidden,
        format!("Only admins can {what}."),
    ))
}

async fn target(db: &Db, id: UserId) -> AppResult<User> {
    db::users::find(db, id)
        .await
        .map_err(db_failure)?
        .ok_or_else(|| AppError::not_found("User"))
}

fn guard_super_admin(actor: &Actor, target: &User, what: &str) -> AppResult<()> {
    if target.role == Role::SuperAdmin && actor.user.role != Role::SuperAdmin {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            format!("Only a super admin can {what} a super admin."),
        ));
    }
    Ok(())
}

fn user_json(user: &User) -> String {
    serde_json::json!({
        "role": user.role.as_str(),
        "suspended": user.suspended_at.is_some(),
    })
    .to_string()
}

/// Suspends `id` (see the module's rules); `reason` is an optional note for admins.
pub async fn suspend_user(
    db: &Db,
    cache: &KeyCache,
    actor: &Actor,
    id: UserId,
    reason: Option<&str>,
    now: Timestamp,
) -> AppResult<User> {
    require_admin(actor, "manage accounts")?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if let Some(r) = reason {
        let mut v = Validator::default();
        v.check(
            r.chars().count() <= MAX_REASON_CHARS,
            "body.reason",
            "must be at most 500 characters",
        );
        v.check(
            !r.chars().any(|c| c.is_control() && c != '\n'),
            "body.reason",
            "must not contain control characters",
        );
        v.finish()?;
    }
    let user = target(db, id).await?;
    if user.id == actor.user.id {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "You cannot suspend your own account.",
        ));
    }
    guard_super_admin(actor, &user, "suspend")?;
    if user.suspended_at.is_some() {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "That account is already suspended.",
        ));
    }
    let now_ms = to_millis(now);
    let new = serde_json::json!({"role": user.role.as_str(), "suspended": true, "reason": reason});
    let entry = actor.audit_entry(
        "user.suspended",
        Some(user_json(&user)),
        Some(new.to_string()),
        now_ms,
    );
    let done = db::admin_users::suspend(db, id, reason, &entry)
        .await
        .map_err(db_failure)?;
    // Forget after the commit: a verification that read the row before it cannot refill the
    // cache (the epoch moved), and every later one reads the suspension.
    cache.forget_owner(id.0);
    if !done {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "That account is already suspended.",
        ));
    }
    let event = AccountEvent::AccountSuspended;
    security_log::record(db, event, Some(id.0), &user.email, &actor.client, now).await;
    tracing::info!(user_id = id.0, actor = actor.user.id.0, "account suspended");
    target(db, id).await
}

/// Lifts a suspension: keys verify again; sessions do not come back (the user signs in again).
pub async fn reactivate_user(
    db: &Db,
    cache: &KeyCache,
    actor: &Actor,
    id: UserId,
    now: Timestamp,
) -> AppResult<User> {
    require_admin(actor, "manage accounts")?;
    let user = target(db, id).await?;
    guard_super_admin(actor, &user, "reactivate")?;
    let not_suspended = || AppError::new(ErrorCode::Conflict, "That account is not suspended.");
    if user.suspended_at.is_none() {
        return Err(not_suspended());
    }
    let now_ms = to_millis(now);
    let new = serde_json::json!({"role": user.role.as_str(), "suspended": false});
    let entry = actor.audit_entry(
        "user.reactivated",
        Some(user_json(&user)),
        Some(new.to_string()),
        now_ms,
    );
    let done = db::admin_users::reactivate(db, id, &entry)
        .await
        .map_err(db_failure)?;
    cache.forget_owner(id.0);
    if !done {
        return Err(not_suspended());
    }
    let event = AccountEvent::AccountReactivated;
    security_log::record(db, event, Some(id.0), &user.email, &actor.client, now).await;
    target(db, id).await
}

/// Changes `id`'s role (see the module's rules).
pub async fn change_role(
    db: &Db,
    actor: &Actor,
    id: UserId,
    role: Role,
    now: Timestamp,
) -> AppResult<User> {
    require_admin(actor, "manage accounts")?;
    let user = target(db, id).await?;
    guard_super_admin(actor, &user, "change the role of")?;
    if role == Role::SuperAdmin && actor.user.role != Role::SuperAdmin {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "Only a super admin can make someone a super admin.",
        ));
    }
    if user.role == role {
        return Ok(user);
    }
    let new = serde_json::json!({"role": role.as_str()});
    let old = serde_json::json!({"role": user.role.as_str()});
    let entry = actor.audit_entry(
        "user.role_changed",
        Some(old.to_string()),
        Some(new.to_string()),
        to_millis(now),
    );
    match db::admin_users::set_role(db, id, role, &entry)
        .await
        .map_err(db_failure)?
    {
        RoleChange::Done => target(db, id).await,
        RoleChange::NotFound => Err(AppError::not_found("User")),
        RoleChange::LastSuperAdmin => Err(AppError::new(
            ErrorCode::LastSuperAdmin,
            "This is the last active super admin; make someone else super admin first.",
        )),
    }
}

/// The admin list's filters, as given (unknown values are refused by the edges' enums).
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub q: String,
    pub role: Option<Role>,
    /// `Some(true)`: suspended only; `Some(false)`: active only.
    pub suspended: Option<bool>,
}

/// A page of users for admins, newest first.
pub async fn list_users(
    db: &Db,
    actor: &Actor,
    filter: &ListFilter,
    page: i64,
    per_page: i64,
) -> AppResult<UserListPage> {
    require_admin(actor, "manage accounts")?;
    let q: String = filter.q.trim().chars().take(200).collect();
    let page = page.clamp(1, 1_000_000);
    let per_page = per_page.clamp(1, 200);
    let f = db::admin_users::UserFilter {
        q: &q,
        role: filter.role.map(Role::as_str).unwrap_or(""),
        status: match filter.suspended {
            Some(true) => "suspended",
            Some(false) => "active",
            None => "",
        },
    };
    let (ids, total) = db::admin_users::filtered_ids(db, &f, per_page, (page - 1) * per_page)
        .await
        .map_err(db_failure)?;
    let with_two_factor = db::two_factor::enabled_among(db, &ids)
        .await
        .map_err(db_failure)?;
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        // At most 200 primary-key look-ups; a user deleted meanwhile is skipped.
        if let Some(user) = db::users::find(db, UserId(id)).await.map_err(db_failure)? {
            items.push(UserSummary {
                two_factor_enabled: with_two_factor.contains(&id),
                user,
            });
        }
    }
    Ok(UserListPage {
        items,
        total,
        page,
        per_page,
    })
}

/// One account with its figures, for admins.
pub async fn user_detail(
    db: &Db,
    actor: &Actor,
    id: UserId,
    now: Timestamp,
) -> AppResult<AdminUserDetail> {
    require_admin(actor, "manage accounts")?;
    let user = target(db, id).await?;
    let figures = db::admin_users::figures(db, id, &user.email, to_millis(now))
        .await
        .map_err(db_failure)?;
    let two_factor = db::two_factor::enabled_among(db, &[id.0])
        .await
        .map_err(db_failure)?;
    Ok(AdminUserDetail {
        two_factor_enabled: two_factor.contains(&id.0),
        keys_total: figures.keys_total,
        keys_active: figures.keys_active,
        last_sign_in_at: figures.last_sign_in_ms.map(from_millis),
        user,
    })
}
