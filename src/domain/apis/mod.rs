//! The API registry: the APIs behind the gateway. Everyone signed in may read it (developers
//! pick an API for their keys); only admins change it. Every change is audited in the same
//! transaction and drops the gateway's directory before it is reported done.

pub mod directory;
mod inputs;
pub mod validate;

use super::{Timestamp, db_failure, from_millis, to_millis};
use crate::app::limit_types::RateLimitSpec;
use crate::app::types::{Api, ApiId, ApiPage, UserId};
use crate::db::{self, Db, apis::ApiRow};
use crate::domain::keys::{Actor, validate::description};
use crate::domain::traffic::spec;
use crate::error::{AppError, AppResult, ErrorCode, Validator};
use directory::ApiDirectory;
pub use inputs::{ApiListQuery, CreateApiInput, UpdateApiInput};

/// The services registry operations need.
pub struct ApiContext<'a> {
    pub db: &'a Db,
    /// Forgotten after every change, so the gateway routes by the new settings at once.
    pub directory: &'a ApiDirectory,
}

const LIMITS_FIELD: &str = "body.default_rate_limits";

fn limits_of(row: &ApiRow) -> Vec<RateLimitSpec> {
    serde_json::from_str(&row.default_rate_limits).unwrap_or_default()
}

fn limits_json(limits: &[RateLimitSpec]) -> String {
    serde_json::to_string(limits).unwrap_or_else(|_| "[]".into())
}

pub fn view(row: &ApiRow) -> Api {
    Api {
        id: ApiId(row.id),
        name: row.name.clone(),
        slug: row.slug.clone(),
        description: row.description.clone(),
        upstream_url: row.upstream_url.clone(),
        default_rate_limits: limits_of(row),
        timeout_ms: row.timeout_ms,
        enabled: row.enabled,
        created_by: row.created_by.map(UserId),
        created_at: from_millis(row.created_at),
        updated_at: from_millis(row.updated_at),
        gateway_path: Api::gateway_path_of(&row.slug),
    }
}

/// Writes are for admins. The edges may ask first, to refuse before reading a body.
pub fn require_admin(actor: &Actor) -> AppResult<()> {
    if actor.user.role.is_admin() {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::Forbidden,
            "Only admins can change the API registry.",
        ))
    }
}

/// A failed write: a taken slug is the caller's to fix; anything else is ours.
fn write_failure(err: sqlx::Error, slug: &str) -> AppError {
    if db::is_unique_violation(&err) {
        AppError::new(
            ErrorCode::SlugTaken,
            format!("Another API already uses the slug \"{slug}\"."),
        )
    } else {
        db_failure(err)
    }
}

fn audit_values(row: &ApiRow) -> String {
    serde_json::json!({
        "name": row.name, "slug": row.slug, "description": row.description,
        "upstream_url": row.upstream_url, "default_rate_limits": limits_of(row),
        "timeout_ms": row.timeout_ms, "enabled": row.enabled,
    })
    .to_string()
}

fn audit<'a>(
    actor: &'a Actor,
    action: &'a str,
    old: Option<&ApiRow>,
    new: Option<&ApiRow>,
    now_ms: i64,
) -> db::audit::AuditEntry<'a> {
    actor.audit_entry(action, old.map(audit_values), new.map(audit_values), now_ms)
}

pub async fn create_api(
    ctx: &ApiContext<'_>,
    actor: &Actor,
    input: CreateApiInput,
    now: Timestamp,
) -> AppResult<Api> {
    require_admin(actor)?;
    let mut v = Validator::default();
    let name = validate::name(&mut v, &input.name);
    validate::slug(&mut v, &input.slug);
    let description_text = input.description.unwrap_or_default();
    description(&mut v, &description_text);
    let upstream_url = validate::upstream_url(&mut v, &input.upstream_url);
    let limits = input.default_rate_limits.unwrap_or_default();
    spec::rate_limits(&mut v, LIMITS_FIELD, &limits);
    let timeout_ms = input.timeout_ms.unwrap_or(validate::DEFAULT_TIMEOUT_MS);
    validate::timeout_ms(&mut v, timeout_ms);
    v.finish()?;
    let now_ms = to_millis(now);
    let mut row = ApiRow {
        id: 0,
        name,
        slug: input.slug,
        description: description_text,
        upstream_url,
        default_rate_limits: limits_json(&limits),
        timeout_ms,
        enabled: input.enabled.unwrap_or(true),
        created_by: Some(actor.user.id.0),
        created_at: now_ms,
        updated_at: now_ms,
    };
    row.id = db::apis::insert(
        ctx.db,
        &row,
        &audit(actor, "api.created", None, Some(&row), now_ms),
    )
    .await
    .map_err(|e| write_failure(e, &row.slug))?;
    // A slug the gateway remembered as unknown exists now.
    ctx.directory.forget_all();
    tracing::info!(api_id = row.id, slug = %row.slug, "api created");
    Ok(view(&row))
}

async fn load(ctx: &ApiContext<'_>, id: ApiId) -> AppResult<ApiRow> {
    db::apis::find(ctx.db, id.0)
        .await
        .map_err(db_failure)?
        .ok_or_else(|| AppError::not_found("API"))
}

/// Any signed-in caller (the edges make sure there is one).
pub async fn get_api(ctx: &ApiContext<'_>, id: ApiId) -> AppResult<Api> {
    Ok(view(&load(ctx, id).await?))
}

/// Any signed-in caller; by name.
pub async fn list_apis(ctx: &ApiContext<'_>, q: &ApiListQuery) -> AppResult<ApiPage> {
    let mut v = Validator::default();
    let (page, per_page) = crate::domain::paging(&mut v, q.page, q.per_page);
    v.check(
        q.q.as_ref().is_none_or(|s| s.chars().count() <= 200),
        "query.q",
        "must be at most 200 characters",
    );
    v.finish()?;
    let (rows, total) = db::apis::list(ctx.db, q.q.as_deref(), per_page, (page - 1) * per_page)
        .await
        .map_err(db_failure)?;
    Ok(ApiPage {
        items: rows.iter().map(view).collect(),
        total,
        page,
        per_page,
    })
}

pub async fn update_api(
    ctx: &ApiContext<'_>,
    actor: &Actor,
    id: ApiId,
    input: UpdateApiInput,
    now: Timestamp,
) -> AppResult<Api> {
    require_admin(actor)?;
    let old = load(ctx, id).await?;
    let mut row = old.clone();
    let mut v = Validator::default();
    if let Some(name) = &input.name {
        row.name = validate::name(&mut v, name);
    }
    if let Some(slug) = input.slug {
        validate::slug(&mut v, &slug);
        row.slug = slug;
    }
    if let Some(text) = input.description {
        let text = text.unwrap_or_default();
        description(&mut v, &text);
        row.description = text;
    }
    if let Some(url) = &input.upstream_url {
        row.upstream_url = validate::upstream_url(&mut v, url);
    }
    if let Some(limits) = input.default_rate_limits {
        let limits = limits.unwrap_or_default();
        spec::rate_limits(&mut v, LIMITS_FIELD, &limits);
        row.default_rate_limits = limits_json(&limits);
    }
    if let Some(ms) = input.timeout_ms {
        validate::timeout_ms(&mut v, ms);
        row.timeout_ms = ms;
    }
    if let Some(enabled) = input.enabled {
        row.enabled = enabled;
    }
    v.finish()?;
    let now_ms = to_millis(now);
    row.updated_at = now_ms;
    let action = crate::domain::toggle_action(
        old.enabled,
        row.enabled,
        ["api.disabled", "api.enabled", "api.updated"],
    );
    let saved = db::apis::update(
        ctx.db,
        &row,
        &audit(actor, action, Some(&old), Some(&row), now_ms),
    )
    .await
    .map_err(|e| write_failure(e, &row.slug))?;
    if !saved {
        return Err(AppError::not_found("API"));
    }
    ctx.directory.forget_all();
    tracing::info!(api_id = row.id, slug = %row.slug, action, "api changed");
    Ok(view(&row))
}

pub async fn delete_api(
    ctx: &ApiContext<'_>,
    actor: &Actor,
    id: ApiId,
    now: Timestamp,
) -> AppResult<()> {
    require_admin(actor)?;
    let old = load(ctx, id).await?;
    let now_ms = to_millis(now);
    if !db::apis::delete(
        ctx.db,
        old.id,
        &audit(actor, "api.deleted", Some(&old), None, now_ms),
    )
    .await
    .map_err(db_failure)?
    {
        return Err(AppError::not_found("API"));
    }
    ctx.directory.forget_all();
    tracing::info!(api_id = old.id, slug = %old.slug, "api deleted");
    Ok(())
}

/// The first 200 APIs by name, as choices for a filter (a list longer than that is searched).
pub async fn choices(db: &db::Db) -> AppResult<Vec<crate::app::key_filters::Choice>> {
    let (rows, _) = db::apis::list(db, None, 200, 0).await.map_err(db_failure)?;
    Ok(rows
        .into_iter()
        .map(|r| crate::app::key_filters::Choice {
            id: r.id,
            label: r.name,
        })
        .collect())
}
