//! Rate-limit policies: limits beyond a key's own, on everything, an API, an endpoint, or each
//! user, org, client IP or key. Admins manage them; every change is audited in the same
//! transaction and reloads the policies in force before it is reported done.

mod inputs;
pub mod pattern;
pub mod set;
pub mod validate;

use super::{Timestamp, db_failure, from_millis, to_millis};
use crate::app::limit_types::Window;
use crate::app::policy_types::{PolicyScope, RateLimitPolicy, RateLimitPolicyPage};
use crate::db::{self, Db, rate_limit_policies::PolicyRow};
use crate::domain::keys::Actor;
use crate::error::{AppError, AppResult, ErrorCode, Validator};
pub use inputs::{CreatePolicyInput, PolicyListQuery, UpdatePolicyInput};
use set::PolicyRegistry;
use validate::CheckedTarget;

/// The services policy operations need.
pub struct PolicyContext<'a> {
    pub db: &'a Db,
    pub registry: &'a PolicyRegistry,
}

pub fn view(row: &PolicyRow) -> RateLimitPolicy {
    let scope = PolicyScope::parse(&row.scope).unwrap_or(PolicyScope::Global);
    let target = match scope {
        PolicyScope::Api | PolicyScope::Endpoint => row.api_slug.clone(),
        _ => row.target.clone(),
    };
    RateLimitPolicy {
        id: row.id,
        name: row.name.clone(),
        scope,
        target,
        api_id: row.api_id,
        method: row.method.clone(),
        path_pattern: row.path_pattern.clone(),
        limit: u32::try_from(row.request_limit).unwrap_or(0),
        window: Window::parse(&row.window_unit).unwrap_or(Window::Minute),
        burst: u32::try_from(row.burst).unwrap_or(0),
        enabled: row.enabled,
        created_by: row.created_by,
        created_at: from_millis(row.created_at),
        updated_at: from_millis(row.updated_at),
    }
}

/// Policies govern everyone's traffic: admins only, reading included.
pub fn require_admin(actor: &Actor) -> AppResult<()> {
    if actor.user.role.is_admin() {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::Forbidden,
            "Only admins can see and change rate-limit policies.",
        ))
    }
}

/// A policy's fields before they are checked, as create and update assemble them.
struct Draft {
    name: Option<String>,
    scope: PolicyScope,
    target: Option<String>,
    method: Option<String>,
    path_pattern: Option<String>,
    limit: u32,
    window: Window,
    burst: u32,
    enabled: bool,
}

/// Checks a draft (with the look-ups a target needs) and fills `row`'s policy fields.
async fn check(
    ctx: &PolicyContext<'_>,
    mut v: Validator,
    d: Draft,
    row: &mut PolicyRow,
) -> AppResult<()> {
    let name = validate::name(&mut v, d.name.as_deref());
    let target = validate::target(&mut v, d.scope, d.target.as_deref());
    let method = validate::method(&mut v, d.scope, d.method.as_deref());
    let path_pattern = validate::path_pattern(&mut v, d.scope, d.path_pattern.as_deref());
    validate::endpoint_filters(&mut v, d.scope, method.as_deref(), path_pattern.as_deref());
    validate::numbers(&mut v, d.limit, d.burst);
    v.finish()?;
    // Targets that name something must name something that exists.
    let missing = |what: &str| {
        AppError::validation(vec![crate::error::FieldError {
            field: "body.target".into(),
            message: format!("names no {what}"),
        }])
    };
    let (api_id, target_text) = match (&target, d.scope) {
        (CheckedTarget::Slug(slug), _) => {
            let api = db::apis::find_by_slug(ctx.db, slug)
                .await
                .map_err(db_failure)?
                .ok_or_else(|| missing("registered API"))?;
            (Some(api.id), None)
        }
        (CheckedTarget::Id(id), PolicyScope::User) => {
            db::users::find(ctx.db, crate::app::types::UserId(*id))
                .await
                .map_err(db_failure)?
                .ok_or_else(|| missing("user"))?;
            (None, Some(id.to_string()))
        }
        (CheckedTarget::Id(id), PolicyScope::Key) => {
            db::keys::find(ctx.db, *id)
                .await
                .map_err(db_failure)?
                .ok_or_else(|| missing("key"))?;
            (None, Some(id.to_string()))
        }
        (CheckedTarget::Id(id), _) => (None, Some(id.to_string())),
        (CheckedTarget::Net(net), _) => (None, Some(net.to_string())),
        (CheckedTarget::Every, _) => (None, None),
    };
    let window = d.window.as_str();
    row.name = name.unwrap_or_else(|| format!("{} {}/{window}", d.scope.as_str(), d.limit));
    row.scope = d.scope.as_str().to_string();
    row.target = target_text;
    row.api_id = api_id;
    row.method = method;
    row.path_pattern = path_pattern;
    row.request_limit = i64::from(d.limit);
    row.window_unit = window.to_string();
    row.burst = i64::from(d.burst);
    row.enabled = d.enabled;
    Ok(())
}

fn audit_values(row: &PolicyRow) -> String {
    serde_json::to_string(&view(row)).unwrap_or_default()
}

fn audit<'a>(
    actor: &'a Actor,
    action: &'a str,
    old: Option<&PolicyRow>,
    new: Option<&PolicyRow>,
    now_ms: i64,
) -> db::audit::AuditEntry<'a> {
    actor.audit_entry(action, old.map(audit_values), new.map(audit_values), now_ms)
}

/// After a change: the policies in force are read again before the change is reported done.
async fn reload(ctx: &PolicyContext<'_>) -> AppResult<()> {
    ctx.registry.reload(ctx.db).await.map(|_| ())
}

pub async fn create_policy(
    ctx: &PolicyContext<'_>,
    actor: &Actor,
    input: CreatePolicyInput,
    now: Timestamp,
) -> AppResult<RateLimitPolicy> {
    require_admin(actor)?;
    let mut v = Validator::default();
    let target = validate::target_text(&mut v, input.target.as_ref());
    let draft = Draft {
        name: input.name,
        scope: input.scope,
        target,
        method: input.method,
        path_pattern: input.path_pattern,
        limit: input.limit,
        window: input.window,
        burst: input.burst.unwrap_or(0),
        enabled: input.enabled.unwrap_or(true),
    };
    let now_ms = to_millis(now);
    let mut row = PolicyRow {
        id: 0,
        name: String::new(),
        scope: String::new(),
        target: None,
        api_id: None,
        api_slug: None,
        method: None,
        path_pattern: None,
        request_limit: 0,
        window_unit: String::new(),
        burst: 0,
        enabled: true,
        created_by: Some(actor.user.id.0),
        created_at: now_ms,
        updated_at: now_ms,
    };
    check(ctx, v, draft, &mut row).await?;
    row.id = db::rate_limit_policies::insert(
        ctx.db,
        &row,
        &audit(actor, "rate_limit_policy.created", None, Some(&row), now_ms),
    )
    .await
    .map_err(db_failure)?;
    reload(ctx).await?;
    tracing::info!(policy_id = row.id, scope = %row.scope, "rate-limit policy created");
    get(ctx, row.id).await
}

async fn load(ctx: &PolicyContext<'_>, id: i64) -> AppResult<PolicyRow> {
    db::rate_limit_policies::find(ctx.db, id)
        .await
        .map_err(db_failure)?
        .ok_or_else(|| AppError::not_found("Rate-limit policy"))
}

async fn get(ctx: &PolicyContext<'_>, id: i64) -> AppResult<RateLimitPolicy> {
    Ok(view(&load(ctx, id).await?))
}

pub async fn get_policy(
    ctx: &PolicyContext<'_>,
    actor: &Actor,
    id: i64,
) -> AppResult<RateLimitPolicy> {
    require_admin(actor)?;
    get(ctx, id).await
}

pub async fn list_policies(
    ctx: &PolicyContext<'_>,
    actor: &Actor,
    q: &PolicyListQuery,
) -> AppResult<RateLimitPolicyPage> {
    require_admin(actor)?;
    let mut v = Validator::default();
    let (page, per_page) = crate::domain::paging(&mut v, q.page, q.per_page);
    v.finish()?;
    let (rows, total) = db::rate_limit_policies::list(
        ctx.db,
        q.scope.map(PolicyScope::as_str),
        per_page,
        (page - 1) * per_page,
    )
    .await
    .map_err(db_failure)?;
    Ok(RateLimitPolicyPage {
        items: rows.iter().map(view).collect(),
        total,
        page,
        per_page,
    })
}

pub async fn update_policy(
    ctx: &PolicyContext<'_>,
    actor: &Actor,
    id: i64,
    input: UpdatePolicyInput,
    now: Timestamp,
) -> AppResult<RateLimitPolicy> {
    require_admin(actor)?;
    let old = load(ctx, id).await?;
    let current = view(&old);
    let mut v = Validator::default();
    let target = match &input.target {
        Some(value) => validate::target_text(&mut v, value.as_ref()),
        None => current.target.clone(),
    };
    let draft = Draft {
        name: match input.name {
            Some(name) => name,
            None => Some(current.name.clone()),
        },
        scope: input.scope.unwrap_or(current.scope),
        target,
        method: input.method.unwrap_or(current.method),
        path_pattern: input.path_pattern.unwrap_or(current.path_pattern),
        limit: input.limit.unwrap_or(current.limit),
        window: input.window.unwrap_or(current.window),
        burst: input.burst.unwrap_or(current.burst),
        enabled: input.enabled.unwrap_or(current.enabled),
    };
    let mut row = old.clone();
    check(ctx, v, draft, &mut row).await?;
    let now_ms = to_millis(now);
    row.updated_at = now_ms;
    let action = crate::domain::toggle_action(
        old.enabled,
        row.enabled,
        [
            "rate_limit_policy.disabled",
            "rate_limit_policy.enabled",
            "rate_limit_policy.updated",
        ],
    );
    let saved = db::rate_limit_policies::update(
        ctx.db,
        &row,
        &audit(actor, action, Some(&old), Some(&row), now_ms),
    )
    .await
    .map_err(db_failure)?;
    if !saved {
        return Err(AppError::not_found("Rate-limit policy"));
    }
    // Buckets count subjects; when what a subject is changes, the old counts mean nothing.
    if (&old.scope, &old.target, old.api_id) != (&row.scope, &row.target, row.api_id) {
        ctx.registry.buckets.forget_policy(id);
    }
    reload(ctx).await?;
    tracing::info!(policy_id = id, action, "rate-limit policy changed");
    get(ctx, id).await
}

pub async fn delete_policy(
    ctx: &PolicyContext<'_>,
    actor: &Actor,
    id: i64,
    now: Timestamp,
) -> AppResult<()> {
    require_admin(actor)?;
    let old = load(ctx, id).await?;
    let now_ms = to_millis(now);
    if !db::rate_limit_policies::delete(
        ctx.db,
        id,
        &audit(actor, "rate_limit_policy.deleted", Some(&old), None, now_ms),
    )
    .await
    .map_err(db_failure)?
    {
        return Err(AppError::not_found("Rate-limit policy"));
    }
    reload(ctx).await?;
    ctx.registry.buckets.forget_policy(id);
    tracing::info!(policy_id = id, "rate-limit policy deleted");
    Ok(())
}
