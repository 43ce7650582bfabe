//! The lifecycle pages' server functions: the same domain calls as
//! /api/v1/admin/lifecycle-policy and /api/v1/key-templates.

use crate::app::lifecycle_types::{KeyTemplate, KeyTemplatePage, LifecyclePolicy};
use crate::error::{AppError, FieldError};
use leptos::prelude::*;

/// A blank field is none; anything else must be a whole number (named in the error).
pub fn optional_number(text: &str, field: &str) -> Result<Option<i64>, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>().map(Some).map_err(|_| FieldError {
        field: field.into(),
        message: "must be a whole number".into(),
    })
}

/// `30, 7 1` → [30, 7, 1].
pub fn number_list(text: &str, field: &str) -> Result<Vec<i64>, FieldError> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>().map_err(|_| FieldError {
                field: field.into(),
                message: "must be whole numbers separated by commas".into(),
            })
        })
        .collect()
}

/// `team=core, env=prod` → {team: core, env: prod}.
pub fn name_vars(text: &str) -> Result<std::collections::BTreeMap<String, String>, FieldError> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => Ok((k.trim().to_string(), v.trim().to_string())),
            None => Err(FieldError {
                field: "body.name_vars".into(),
                message: "write each variable as name=value, e.g. team=core env=prod".into(),
            }),
        })
        .collect()
}

pub fn collect<T>(results: Vec<Result<T, FieldError>>) -> Result<Vec<T>, AppError> {
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(v) => ok.push(v),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(ok)
    } else {
        Err(AppError::validation(errors))
    }
}

#[server(prefix = "/sfn", endpoint = "load_lifecycle_policy")]
pub async fn load_lifecycle_policy() -> Result<LifecyclePolicy, AppError> {
    let (state, actor) = crate::app::server_fns::ctx::actor()?;
    crate::domain::lifecycle::get_policy(&state.db, &actor).await
}

/// The policy as a signed-in user may know it (for hints on the create form).
#[server(prefix = "/sfn", endpoint = "lifecycle_hint")]
pub async fn lifecycle_hint() -> Result<LifecyclePolicy, AppError> {
    let (state, _actor) = crate::app::server_fns::ctx::actor()?;
    crate::domain::lifecycle::current_policy(&state.db).await
}

// One argument per form field: plain HTML forms post flat fields; unchecked boxes are absent.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/sfn", endpoint = "save_lifecycle_policy")]
pub async fn save_lifecycle_policy(
    max_lifetime_days: Option<String>,
    default_expiry_days: Option<String>,
    expiry_required: Option<String>,
    warning_days: Option<String>,
    unused_days: Option<String>,
    unused_action: Option<String>,
) -> Result<(), AppError> {
    use crate::app::lifecycle_types::{UnusedAction, UnusedKeyRule};
    use crate::domain::lifecycle::PolicyInput;
    let (state, actor) = crate::app::server_fns::ctx::actor()?;
    crate::domain::lifecycle::require_admin(&actor)?;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let numbers = collect(vec![
        optional_number(&text(&max_lifetime_days), "body.max_lifetime_days"),
        optional_number(&text(&default_expiry_days), "body.default_expiry_days"),
        optional_number(&text(&unused_days), "body.unused_keys.after_days"),
    ])?;
    let warnings = number_list(&text(&warning_days), "body.warning_days")
        .map_err(|e| AppError::validation(vec![e]))?;
    let action = match text(&unused_action).trim() {
        "" | "flag" => UnusedAction::Flag,
        "disable" => UnusedAction::Disable,
        _ => {
            return Err(AppError::validation(vec![FieldError {
                field: "body.unused_keys.action".into(),
                message: "must be flag or disable".into(),
            }]));
        }
    };
    let input = PolicyInput {
        max_lifetime_days: numbers[0],
        default_expiry_days: numbers[1],
        expiry_required: expiry_required.is_some(),
        warning_days: Some(warnings),
        unused_keys: numbers[2].map(|after_days| UnusedKeyRule { after_days, action }),
    };
    crate::domain::lifecycle::put_policy(
        &state.db,
        &actor,
        input,
        crate::app::server_fns::ctx::now(),
    )
    .await?;
    super::redirect("/admin/lifecycle?saved=1");
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "key_templates_page")]
pub async fn key_templates_page(page: i64) -> Result<KeyTemplatePage, AppError> {
    let (state, _actor) = crate::app::server_fns::ctx::actor()?;
    let q = crate::domain::lifecycle::TemplateListQuery {
        page: Some(page.max(1)),
        per_page: Some(200),
    };
    crate::domain::lifecycle::templates::list_templates(&state.db, &q).await
}

#[server(prefix = "/sfn", endpoint = "load_key_template")]
pub async fn load_key_template(id: i64) -> Result<KeyTemplate, AppError> {
    let (state, _actor) = crate::app::server_fns::ctx::actor()?;
    crate::domain::lifecycle::templates::get_template(&state.db, id).await
}

/// Creates a template (no `id`) or replaces one's fields (with `id`).
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/sfn", endpoint = "save_key_template")]
pub async fn save_key_template(
    id: Option<String>,
    name: String,
    description: Option<String>,
    scopes: Option<String>,
    tags: Option<String>,
    name_template: Option<String>,
    expiry_days: Option<String>,
    prefix: Option<String>,
    api_id: Option<String>,
    rate_limit: Option<String>,
    rate_window: Option<String>,
    rate_burst: Option<String>,
    quota_limit: Option<String>,
    quota_period: Option<String>,
    remaining: Option<String>,
    refill_amount: Option<String>,
    refill_interval: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::lifecycle::templates::{self, CreateTemplateInput, UpdateTemplateInput};
    let text = |v: &Option<String>| v.clone().unwrap_or_default().trim().to_string();
    let none_if_empty = |v: &Option<String>| Some(text(v)).filter(|s| !s.is_empty());
    let traffic = super::traffic_form::parse(&super::traffic_form::TrafficFields {
        rate_limit: text(&rate_limit),
        rate_window: text(&rate_window),
        rate_burst: text(&rate_burst),
        quota_limit: text(&quota_limit),
        quota_period: text(&quota_period),
        remaining: text(&remaining),
        refill_amount: text(&refill_amount),
        refill_interval: text(&refill_interval),
    })?;
    let numbers = collect(vec![
        optional_number(&text(&expiry_days), "body.expiry_days"),
        optional_number(&text(&api_id), "body.api_id"),
        optional_number(&text(&id), "id"),
    ])?;
    let (state, actor) = crate::app::server_fns::ctx::actor()?;
    let input = CreateTemplateInput {
        name,
        description: Some(text(&description)),
        scopes: super::keys::split_list(&text(&scopes)),
        tags: super::keys::split_list(&text(&tags)),
        rate_limits: (!traffic.rate_limits.is_empty()).then_some(traffic.rate_limits),
        quota: traffic.quota,
        remaining: traffic.remaining,
        refill: traffic.refill,
        expiry_days: numbers[0],
        prefix: none_if_empty(&prefix),
        api_id: numbers[1],
        name_template: none_if_empty(&name_template),
    };
    let now = crate::app::server_fns::ctx::now();
    match numbers[2] {
        None => {
            templates::create_template(&state.db, &actor, input, now).await?;
            super::redirect("/admin/key-templates?created=1");
        }
        Some(id) => {
            let edit = UpdateTemplateInput {
                name: Some(input.name),
                description: input.description,
                scopes: Some(input.scopes),
                tags: Some(input.tags),
                rate_limits: Some(input.rate_limits),
                quota: Some(input.quota),
                remaining: Some(input.remaining),
                refill: Some(input.refill),
                expiry_days: Some(input.expiry_days),
                prefix: Some(input.prefix),
                api_id: Some(input.api_id),
                name_template: Some(input.name_template),
            };
            templates::update_template(&state.db, &actor, id, edit, now).await?;
            super::redirect(&format!("/admin/key-templates/{id}?saved=1"));
        }
    }
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "delete_key_template")]
pub async fn delete_key_template(id: i64) -> Result<(), AppError> {
    let (state, actor) = crate::app::server_fns::ctx::actor()?;
    crate::domain::lifecycle::templates::delete_template(
        &state.db,
        &actor,
        id,
        crate::app::server_fns::ctx::now(),
    )
    .await?;
    super::redirect("/admin/key-templates?deleted=1");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_numbers_lists_and_vars() {
        assert_eq!(optional_number(" 30 ", "f").unwrap(), Some(30));
        assert_eq!(optional_number("", "f").unwrap(), None);
        assert_eq!(optional_number("x", "f").unwrap_err().field, "f");
        assert_eq!(number_list("30, 7 1", "w").unwrap(), [30, 7, 1]);
        assert!(number_list("30, seven", "w").is_err());
        let v = name_vars("team=core, env=prod").unwrap();
        assert_eq!(v.get("team").map(String::as_str), Some("core"));
        assert_eq!(v.len(), 2);
        assert!(name_vars("team").is_err());
        assert!(name_vars(" ").unwrap().is_empty());
    }
}
