//! Key templates: admin-managed presets (scopes, tags, limits, quota, credits, expiry, prefix,
//! API, naming template) that fill whatever a key create leaves absent. Every change is
//! audited in the same transaction; every signed-in user may list and read them.

use super::naming;
use crate::app::lifecycle_types::{KeyTemplate, KeyTemplatePage};
use crate::app::limit_types::{QuotaSpec, RateLimitSpec, RefillSpec};
use crate::db::{self, Db, key_templates::TemplateRow};
use crate::domain::keys::{Actor, CreateKeyInput, validate};
use crate::domain::traffic::settings;
use crate::domain::{Timestamp, db_failure, from_millis, to_millis};
use crate::error::{AppError, AppResult, ErrorCode, FieldError, Validator};
use serde::Deserialize;

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTemplateInput {
    /// 1-100 characters, unique.
    #[schema(example = "CI deploy key")]
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(example = json!(["deploy:write"]))]
    pub scopes: Vec<String>,
    #[serde(default)]
    #[schema(example = json!(["ci"]))]
    pub tags: Vec<String>,
    #[serde(default)]
    pub rate_limits: Option<Vec<RateLimitSpec>>,
    #[serde(default)]
    pub quota: Option<QuotaSpec>,
    #[serde(default)]
    pub remaining: Option<i64>,
    #[serde(default)]
    pub refill: Option<RefillSpec>,
    /// Keys from this template expire this many days after creation (1-3650).
    #[serde(default)]
    #[schema(example = 30)]
    pub expiry_days: Option<i64>,
    /// `[a-z0-9]{2,12}`.
    #[serde(default)]
    #[schema(example = "ci")]
    pub prefix: Option<String>,
    #[serde(default)]
    pub api_id: Option<i64>,
    /// Placeholders {date} {datetime} {user} {email_local} {seq} and variables such as {team}.
    #[serde(default)]
    #[schema(example = "{team}-{env}-{date}")]
    pub name_template: Option<String>,
}

/// Absent fields keep their value; nullable ones may be null to clear them.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTemplateInput {
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub scopes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::present")]
    pub rate_limits: Option<Option<Vec<RateLimitSpec>>>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::present")]
    pub quota: Option<Option<QuotaSpec>>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::present")]
    #[schema(value_type = Option<i64>)]
    pub remaining: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::present")]
    pub refill: Option<Option<RefillSpec>>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::present")]
    #[schema(value_type = Option<i64>)]
    pub expiry_days: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::present")]
    #[schema(value_type = Option<String>)]
    pub prefix: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::present")]
    #[schema(value_type = Option<i64>)]
    pub api_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::present")]
    #[schema(value_type = Option<String>)]
    pub name_template: Option<Option<String>>,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemplateListQuery {
    pub page: Option<i64>,
    /// 1-200, default 50.
    pub per_page: Option<i64>,
}

fn json_of<T: serde::Serialize>(value: &Option<T>) -> Option<String> {
    value.as_ref().and_then(|v| serde_json::to_string(v).ok())
}

fn parse_of<T: serde::de::DeserializeOwned>(text: &Option<String>) -> Option<T> {
    text.as_deref().and_then(|t| serde_json::from_str(t).ok())
}

pub fn view(row: &TemplateRow) -> KeyTemplate {
    let name_vars = row
        .name_template
        .as_deref()
        .and_then(|t| naming::parse(t).ok())
        .map(|parts| naming::free_vars(&parts))
        .unwrap_or_default();
    KeyTemplate {
        id: row.id,
        name: row.name.clone(),
        description: row.description.clone(),
        scopes: serde_json::from_str(&row.scopes).unwrap_or_default(),
        tags: serde_json::from_str(&row.tags).unwrap_or_default(),
        rate_limits: parse_of(&row.rate_limits),
        quota: parse_of(&row.quota),
        remaining: row.remaining,
        refill: parse_of(&row.refill),
        expiry_days: row.expiry_days,
        prefix: row.prefix.clone(),
        api_id: row.api_id,
        name_template: row.name_template.clone(),
        name_vars,
        created_by: row.created_by,
        created_at: from_millis(row.created_at),
        updated_at: from_millis(row.updated_at),
    }
}

fn require_admin(actor: &Actor) -> AppResult<()> {
    if actor.user.role.is_admin() {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::Forbidden,
            "Only admins can change key templates.",
        ))
    }
}

/// Checks a whole template and writes it into `row`.
async fn check(
    db: &Db,
    t: CreateTemplateInput,
    row: &mut TemplateRow,
    now_ms: i64,
) -> AppResult<()> {
    let mut v = Validator::default();
    let name = t.name.trim().to_string();
    v.check(!name.is_empty(), "body.name", "is required");
    v.check(
        name.chars().count() <= 100 && !name.chars().any(char::is_control),
        "body.name",
        "must be at most 100 characters without control characters",
    );
    let description = t.description.unwrap_or_default();
    validate::description(&mut v, &description);
    let scopes = validate::normalized(&t.scopes);
    validate::scopes(&mut v, &scopes);
    let tags = validate::normalized(&t.tags);
    validate::tags(&mut v, &tags);
    // The traffic rules of a key create, on the same fields.
    settings::for_create(
        &mut v,
        &settings::TrafficInput {
            rate_limits: t.rate_limits.clone(),
            quota: t.quota.clone(),
            remaining: t.remaining,
            refill: t.refill.clone(),
        },
        now_ms,
    );
    v.check(
        t.expiry_days
            .is_none_or(|d| (1..=super::MAX_DAYS).contains(&d)),
        "body.expiry_days",
        "must be between 1 and 3650 days, or null",
    );
    if let Some(p) = &t.prefix {
        validate::prefix(&mut v, p);
    }
    let name_template = t
        .name_template
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if let Some(nt) = &name_template
        && let Err(message) = naming::parse(nt)
    {
        v.check(false, "body.name_template", &message);
    }
    v.finish()?;
    if let Some(api_id) = t.api_id
        && db::apis::find(db, api_id)
            .await
            .map_err(db_failure)?
            .is_none()
    {
        return Err(AppError::validation(vec![FieldError {
            field: "body.api_id".into(),
            message: "no such API".into(),
        }]));
    }
    row.name = name;
    row.description = description;
    row.scopes = serde_json::to_string(&scopes).unwrap_or_else(|_| "[]".into());
    row.tags = serde_json::to_string(&tags).unwrap_or_else(|_| "[]".into());
    row.rate_limits = json_of(&t.rate_limits);
    row.quota = json_of(&t.quota);
    row.remaining = t.remaining;
    row.refill = json_of(&t.refill);
    row.expiry_days = t.expiry_days;
    row.prefix = t.prefix;
    row.api_id = t.api_id;
    row.name_template = name_template;
    Ok(())
}

fn name_taken() -> AppError {
    AppError::new(
        ErrorCode::Conflict,
        "A key template with this name exists already.",
    )
}

fn audit<'a>(
    actor: &'a Actor,
    action: &'a str,
    old: Option<&TemplateRow>,
    new: Option<&TemplateRow>,
    now_ms: i64,
) -> db::audit::AuditEntry<'a> {
    let values = |r: &TemplateRow| serde_json::to_string(&view(r)).unwrap_or_default();
    actor.audit_entry(action, old.map(values), new.map(values), now_ms)
}

async fn load(db: &Db, id: i64) -> AppResult<TemplateRow> {
    db::key_templates::find(db, id)
        .await
        .map_err(db_failure)?
        .ok_or_else(|| AppError::not_found("Key template"))
}

pub async fn create_template(
    db: &Db,
    actor: &Actor,
    input: CreateTemplateInput,
    now: Timestamp,
) -> AppResult<KeyTemplate> {
    require_admin(actor)?;
    let now_ms = to_millis(now);
    let mut row = TemplateRow {
        id: 0,
        name: String::new(),
        description: String::new(),
        scopes: "[]".into(),
        tags: "[]".into(),
        rate_limits: None,
        quota: None,
        remaining: None,
        refill: None,
        expiry_days: None,
        prefix: None,
        api_id: None,
        name_template: None,
        created_by: Some(actor.user.id.0),
        created_at: now_ms,
        updated_at: now_ms,
    };
    check(db, input, &mut row, now_ms).await?;
    row.id = match db::key_templates::insert(
        db,
        &row,
        &audit(actor, "key_template.created", None, Some(&row), now_ms),
    )
    .await
    {
        Ok(id) => id,
        Err(e) if db::is_unique_violation(&e) => return Err(name_taken()),
        Err(e) => return Err(db_failure(e)),
    };
    tracing::info!(template_id = row.id, "key template created");
    Ok(view(&row))
}

pub async fn get_template(db: &Db, id: i64) -> AppResult<KeyTemplate> {
    Ok(view(&load(db, id).await?))
}

pub async fn list_templates(db: &Db, q: &TemplateListQuery) -> AppResult<KeyTemplatePage> {
    let mut v = Validator::default();
    let (page, per_page) = crate::domain::paging(&mut v, q.page, q.per_page);
    v.finish()?;
    let (rows, total) = db::key_templates::list(db, per_page, (page - 1) * per_page)
        .await
        .map_err(db_failure)?;
    Ok(KeyTemplatePage {
        items: rows.iter().map(view).collect(),
        total,
        page,
        per_page,
    })
}

pub async fn update_template(
    db: &Db,
    actor: &Actor,
    id: i64,
    input: UpdateTemplateInput,
    now: Timestamp,
) -> AppResult<KeyTemplate> {
    require_admin(actor)?;
    let old = load(db, id).await?;
    let cur = view(&old);
    let merged = CreateTemplateInput {
        name: input.name.unwrap_or(cur.name),
        description: Some(input.description.unwrap_or(cur.description)),
        scopes: input.scopes.unwrap_or(cur.scopes),
        tags: input.tags.unwrap_or(cur.tags),
        rate_limits: input.rate_limits.unwrap_or(cur.rate_limits),
        quota: input.quota.unwrap_or(cur.quota),
        remaining: input.remaining.unwrap_or(cur.remaining),
        refill: input.refill.unwrap_or(cur.refill),
        expiry_days: input.expiry_days.unwrap_or(cur.expiry_days),
        prefix: input.prefix.unwrap_or(cur.prefix),
        api_id: input.api_id.unwrap_or(cur.api_id),
        name_template: input.name_template.unwrap_or(cur.name_template),
    };
    let now_ms = to_millis(now);
    let mut row = old.clone();
    check(db, merged, &mut row, now_ms).await?;
    row.updated_at = now_ms;
    let saved = match db::key_templates::update(
        db,
        &row,
        &audit(
            actor,
            "key_template.updated",
            Some(&old),
            Some(&row),
            now_ms,
        ),
    )
    .await
    {
        Ok(saved) => saved,
        Err(e) if db::is_unique_violation(&e) => return Err(name_taken()),
        Err(e) => return Err(db_failure(e)),
    };
    if !saved {
        return Err(AppError::not_found("Key template"));
    }
    Ok(view(&row))
}

/// Keys made from the template keep their settings; only the preset goes.
pub async fn delete_template(db: &Db, actor: &Actor, id: i64, now: Timestamp) -> AppResult<()> {
    require_admin(actor)?;
    let old = load(db, id).await?;
    let now_ms = to_millis(now);
    if !db::key_templates::delete(
        db,
        id,
        &audit(actor, "key_template.deleted", Some(&old), None, now_ms),
    )
    .await
    .map_err(db_failure)?
    {
        return Err(AppError::not_found("Key template"));
    }
    tracing::info!(template_id = id, "key template deleted");
    Ok(())
}

fn field(field: &str, message: &str) -> AppError {
    AppError::validation(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }])
}

/// Fills what `input` leaves absent from its template (explicit fields win; an empty list
/// counts as absent; `remaining` and `refill` go together), and generates the name from the
/// naming template when none was sent. Returns the template's expiry in days.
pub async fn apply(
    db: &Db,
    actor: &Actor,
    input: &mut CreateKeyInput,
    now: Timestamp,
) -> AppResult<Option<i64>> {
    let vars = input.name_vars.clone().unwrap_or_default();
    let Some(template_id) = input.template_id else {
        if !vars.is_empty() {
            return Err(field(
                "body.name_vars",
                "is only used with a template_id whose template has a naming template",
            ));
        }
        return Ok(None);
    };
    let t = db::key_templates::find(db, template_id)
        .await
        .map_err(db_failure)?
        .map(|row| view(&row))
        .ok_or_else(|| field("body.template_id", "no such key template"))?;
    if input.scopes.is_empty() {
        input.scopes = t.scopes.clone();
    }
    if input.tags.is_empty() {
        input.tags = t.tags.clone();
    }
    if input.rate_limits.is_none() {
        input.rate_limits = t.rate_limits.clone();
    }
    if input.quota.is_none() {
        input.quota = t.quota.clone();
    }
    if input.remaining.is_none() && input.refill.is_none() {
        input.remaining = t.remaining;
        input.refill = t.refill.clone();
    }
    if input.prefix.is_none() {
        input.prefix = t.prefix.clone();
    }
    if input.api_id.is_none() {
        input.api_id = t.api_id;
    }
    if input.name.trim().is_empty() {
        let Some(parts) = t
            .name_template
            .as_deref()
            .and_then(|s| naming::parse(s).ok())
        else {
            return Err(field(
                "body.name",
                "is required: the template has no naming template",
            ));
        };
        let errors = naming::check_vars(&parts, &vars);
        if !errors.is_empty() {
            return Err(AppError::validation(errors));
        }
        let seq = if naming::uses_seq(&parts) {
            db::key_templates::next_seq(db, template_id)
                .await
                .map_err(db_failure)?
        } else {
            None
        };
        input.name = naming::render(
            &parts,
            &naming::NameContext {
                now,
                user_name: &actor.user.name,
                email: &actor.user.email,
                seq,
                vars: &vars,
            },
        );
    }
    Ok(t.expiry_days)
}
