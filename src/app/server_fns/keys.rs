//! The keys pages' server functions: the same domain calls as /api/v1/keys.

use crate::app::types::ApiKey;
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Splits a form's list field on commas, spaces and new lines.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `2027-01-01` (a date input) → `2027-01-01T00:00:00Z`; empty → none.
pub fn date_to_rfc3339(date: &str) -> Option<String> {
    let date = date.trim();
    (!date.is_empty()).then(|| format!("{date}T00:00:00Z"))
}

pub use crate::app::key_filters::KeyFilters;
use crate::app::key_filters::{Choice, SavedFilterLink};

pub const KEYS_PER_PAGE: i64 = 25;

/// The /keys page: a page of keys and what its filter form offers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyListPage {
    pub items: Vec<ApiKey>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    /// The org filter in force: "" (all), or the id (the one asked for, or the active org).
    pub org: String,
    pub orgs: Vec<Choice>,
    pub apis: Vec<Choice>,
    pub saved: Vec<SavedFilterLink>,
}

#[cfg(feature = "ssr")]
mod edge {

    pub use crate::app::server_fns::ctx::{actor, now};
}

/// The domain query of the page's filters, with the active org and the owner's email resolved.
#[cfg(feature = "ssr")]
pub(crate) async fn list_query_of(
    state: &crate::server::state::AppState,
    actor: &crate::domain::keys::Actor,
    filters: &KeyFilters,
) -> Result<crate::domain::keys::KeyListQuery, AppError> {
    let active = super::orgs::active_org(state, actor).await?;
    let owner = crate::domain::keys::owner_by_email(&state.db, &filters.owner).await?;
    filters.to_list_query(active, owner)
}

#[server(prefix = "/sfn", endpoint = "keys_page")]
pub async fn keys_page(filters: KeyFilters) -> Result<KeyListPage, AppError> {
    use crate::domain::keys::list_keys;
    let (state, actor) = edge::actor()?;
    let mut query = list_query_of(&state, &actor, &filters).await?;
    query.per_page = Some(KEYS_PER_PAGE);
    let page = list_keys(&state.key_ctx(), &actor, &query, edge::now()).await?;
    let orgs = super::orgs::my_org_choices(&state, &actor).await?;
    let apis = crate::domain::apis::choices(&state.db).await?;
    let saved = crate::domain::keys::saved_filters::list_saved_filters(&state.db, &actor)
        .await?
        .into_iter()
        .map(|f| SavedFilterLink {
            id: f.id,
            name: f.name,
            query: f.query,
        })
        .collect();
    Ok(KeyListPage {
        items: page.items,
        total: page.total,
        page: page.page,
        per_page: page.per_page,
        org: query.org_id.map(|id| id.to_string()).unwrap_or_default(),
        orgs,
        apis,
        saved,
    })
}

/// Saves the current /keys filter under a name, then opens it.
#[server(prefix = "/sfn", endpoint = "save_key_filter")]
pub async fn save_key_filter(name: String, query: String) -> Result<(), AppError> {
    use crate::domain::keys::saved_filters::{NewSavedFilter, save_filter};
    let (state, actor) = edge::actor()?;
    // Normalised, so what is saved is exactly what the list understands.
    let query = KeyFilters::parse(&query).query_string();
    let saved = save_filter(
        &state.db,
        &actor,
        NewSavedFilter {
            name,
            query: query.clone(),
        },
        edge::now(),
    )
    .await?;
    super::redirect(&format!("/keys?{query}&saved={}", saved.id));
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "delete_key_filter")]
pub async fn delete_key_filter(id: i64) -> Result<(), AppError> {
    let (state, actor) = edge::actor()?;
    crate::domain::keys::saved_filters::delete_saved_filter(&state.db, &actor, id).await?;
    super::redirect("/keys?filter_deleted=1");
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "key_detail")]
pub async fn key_detail(id: i64) -> Result<ApiKey, AppError> {
    let (state, actor) = edge::actor()?;
    crate::domain::keys::get_key(
        &state.key_ctx(),
        &actor,
        crate::app::types::KeyId(id),
        edge::now(),
    )
    .await
}

/// Parks a just-issued key for its one showing and sends the browser to it.
#[cfg(feature = "ssr")]
fn reveal(
    state: &crate::server::state::AppState,
    user_id: i64,
    issued: crate::app::types::IssuedKey,
    from: Option<i64>,
) {
    let key_id = issued.api_key.id.0;
    let token = state.reveals.park(
        user_id,
        crate::domain::keys::reveal::Subject::Key(key_id),
        issued.key,
        crate::domain::to_millis(edge::now()),
    );
    let from = from.map(|f| format!("&from={f}")).unwrap_or_default();
    super::redirect(&format!("/keys/{key_id}?reveal={token}{from}"));
}

// One argument per form field: plain HTML forms post flat fields.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/sfn", endpoint = "create_key")]
pub async fn create_key(
    name: String,
    description: Option<String>,
    scopes: Option<String>,
    tags: Option<String>,
    expires_on: Option<String>,
    ip_allowlist: Option<String>,
    allowed_origins: Option<String>,
    rate_limit: Option<String>,
    rate_window: Option<String>,
    rate_burst: Option<String>,
    quota_limit: Option<String>,
    quota_period: Option<String>,
    remaining: Option<String>,
    refill_amount: Option<String>,
    refill_interval: Option<String>,
    template_id: Option<String>,
    name_vars: Option<String>,
    org_id: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::keys::CreateKeyInput;
    let org_id = super::lifecycle::optional_number(&org_id.unwrap_or_default(), "body.org_id")
        .map_err(|e| AppError::validation(vec![e]))?;
    let template_id =
        super::lifecycle::optional_number(&template_id.unwrap_or_default(), "body.template_id")
            .map_err(|e| AppError::validation(vec![e]))?;
    let name_vars = super::lifecycle::name_vars(&name_vars.unwrap_or_default())
        .map_err(|e| AppError::validation(vec![e]))?;
    let traffic = super::traffic_form::parse(&super::traffic_form::TrafficFields {
        rate_limit: rate_limit.unwrap_or_default(),
        rate_window: rate_window.unwrap_or_default(),
        rate_burst: rate_burst.unwrap_or_default(),
        quota_limit: quota_limit.unwrap_or_default(),
        quota_period: quota_period.unwrap_or_default(),
        remaining: remaining.unwrap_or_default(),
        refill_amount: refill_amount.unwrap_or_default(),
        refill_interval: refill_interval.unwrap_or_default(),
    })?;
    let (state, actor) = edge::actor()?;
    crate::domain::email_verification::require_verified(
        state.config.require_verified_email,
        &actor.user,
    )?;
    let input = CreateKeyInput {
        name,
        description,
        scopes: split_list(&scopes.unwrap_or_default()),
        tags: split_list(&tags.unwrap_or_default()),
        expires_at: expires_on.as_deref().and_then(date_to_rfc3339),
        ip_allowlist: split_list(&ip_allowlist.unwrap_or_default()),
        allowed_origins: split_list(&allowed_origins.unwrap_or_default()),
        // With a template, an empty rate-limit row leaves the template's limits in place.
        rate_limits: (!(traffic.rate_limits.is_empty() && template_id.is_some()))
            .then_some(traffic.rate_limits),
        quota: traffic.quota,
        remaining: traffic.remaining,
        refill: traffic.refill,
        template_id,
        name_vars: (!name_vars.is_empty()).then_some(name_vars),
        org_id,
        ..Default::default()
    };
    let user_id = actor.user.id.0;
    let issued =
        crate::domain::keys::create_key(&state.key_ctx(), &actor, input, edge::now()).await?;
    reveal(&state, user_id, issued, None);
    Ok(())
}

// One argument per form field: plain HTML forms post flat fields.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/sfn", endpoint = "update_key")]
pub async fn update_key(
    id: i64,
    name: String,
    description: String,
    scopes: String,
    tags: String,
    expires_on: String,
    ip_allowlist: String,
    allowed_origins: String,
    rate_limit: Option<String>,
    rate_window: Option<String>,
    rate_burst: Option<String>,
    limits_shown: Option<String>,
    quota_limit: Option<String>,
    quota_period: Option<String>,
    quota_shown: Option<String>,
    remaining: Option<String>,
    remaining_was: Option<String>,
    refill_amount: Option<String>,
    refill_interval: Option<String>,
    refill_was: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::keys::UpdateKeyInput;
    let text = |v: &Option<String>| v.clone().unwrap_or_default().trim().to_string();
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
    let refill_now = format!("{} {}", text(&refill_amount), text(&refill_interval));
    let (state, actor) = edge::actor()?;
    let input = UpdateKeyInput {
        name: Some(name),
        description: Some(description),
        scopes: Some(split_list(&scopes)),
        tags: Some(split_list(&tags)),
        expires_at: Some(date_to_rfc3339(&expires_on)),
        ip_allowlist: Some(split_list(&ip_allowlist)),
        allowed_origins: Some(split_list(&allowed_origins)),
        // Values the form did not show, or shows unchanged, are not sent: an unchanged
        // balance would otherwise overwrite what was spent since the page was drawn.
        rate_limits: (text(&limits_shown) == "1").then_some(Some(traffic.rate_limits)),
        quota: (text(&quota_shown) == "1").then_some(traffic.quota),
        remaining: (text(&remaining) != text(&remaining_was)).then_some(traffic.remaining),
        refill: (refill_now.trim() != text(&refill_was)).then_some(traffic.refill),
        ..Default::default()
    };
    crate::domain::keys::update_key(
        &state.key_ctx(),
        &actor,
        crate::app::types::KeyId(id),
        input,
        edge::now(),
    )
    .await?;
    super::redirect(&format!("/keys/{id}?saved=1"));
    Ok(())
}

/// revoke | disable | enable | delete
#[server(prefix = "/sfn", endpoint = "key_action")]
pub async fn key_action(id: i64, action: String) -> Result<(), AppError> {
    use crate::app::types::KeyId;
    use crate::domain::keys;
    let (state, actor) = edge::actor()?;
    let ctx = state.key_ctx();
    let id = KeyId(id);
    match action.as_str() {
        "revoke" => {
            keys::revoke_key(&ctx, &actor, id, edge::now()).await?;
        }
        "disable" => {
            keys::set_enabled(&ctx, &actor, id, false, edge::now()).await?;
        }
        "enable" => {
            keys::set_enabled(&ctx, &actor, id, true, edge::now()).await?;
        }
        "delete" => {
            keys::delete_key(&ctx, &actor, id, edge::now()).await?;
            super::redirect("/keys?deleted=1");
            return Ok(());
        }
        _ => {
            return Err(AppError::new(
                crate::error::ErrorCode::BadRequest,
                "Unknown action.",
            ));
        }
    }
    super::redirect(&format!("/keys/{}?done={action}", id.0));
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "rotate_key")]
pub async fn rotate_key(id: i64, grace_period_seconds: i64) -> Result<(), AppError> {
    let (state, actor) = edge::actor()?;
    let user_id = actor.user.id.0;
    let issued = crate::domain::keys::rotate_key(
        &state.key_ctx(),
        &actor,
        crate::app::types::KeyId(id),
        Some(grace_period_seconds),
        edge::now(),
    )
    .await?;
    reveal(&state, user_id, issued, Some(id));
    Ok(())
}

/// The plaintext parked for this page view, once (server render only).
pub fn take_revealed(token: &str, key_id: i64) -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        let state = use_context::<crate::server::state::AppState>()?;
        let user = super::current_user()?;
        state.reveals.take(
            token,
            user.id.0,
            crate::domain::keys::reveal::Subject::Key(key_id),
            crate::domain::to_millis(edge::now()),
        )
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = (token, key_id);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_lists_and_dates() {
        assert_eq!(
            split_list("read, tickets:write\nadmin  "),
            ["read", "tickets:write", "admin"]
        );
        assert!(split_list(" , \n").is_empty());
        assert_eq!(
            date_to_rfc3339("2027-01-01").as_deref(),
            Some("2027-01-01T00:00:00Z")
        );
        assert_eq!(date_to_rfc3339(" "), None);
    }
}
