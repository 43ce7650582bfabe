//! The rate-limit policy pages' server functions: the same domain calls as /api/v1/rate-limits.

use crate::app::policy_types::{RateLimitPolicy, RateLimitPolicyPage};
use crate::error::AppError;
use leptos::prelude::*;

pub const POLICIES_PER_PAGE: i64 = 50;

#[cfg(feature = "ssr")]
mod edge {
    use crate::app::limit_types::Window;
    use crate::app::policy_types::PolicyScope;
    use crate::error::{AppResult, Validator};

    pub use crate::app::server_fns::ctx::{actor, now};

    /// The form's fields that are not plain text, parsed; ranges are the domain's to check.
    #[derive(Debug)]
    pub struct FormShape {
        pub scope: PolicyScope,
        pub limit: u32,
        pub window: Window,
        pub burst: u32,
    }

    pub fn shape(scope: &str, limit: &str, window: &str, burst: &str) -> AppResult<FormShape> {
        let mut v = Validator::default();
        let scope = PolicyScope::parse(scope.trim());
        v.check(
            scope.is_some(),
            "body.scope",
            "must be global, api, endpoint, user, org, ip or key",
        );
        let limit = limit.trim().parse::<u32>().ok();
        v.check(
            limit.is_some(),
            "body.limit",
            "must be a whole number between 1 and 1000000000",
        );
        let window = Window::parse(window.trim());
        v.check(
            window.is_some(),
            "body.window",
            "must be second, minute, hour or day",
        );
        let burst = match burst.trim() {
            "" => Some(0),
            text => text.parse::<u32>().ok(),
        };
        v.check(
            burst.is_some(),
            "body.burst",
            "must be a whole number between 0 and 1000000000",
        );
        v.finish()?;
        match (scope, limit, window, burst) {
            (Some(scope), Some(limit), Some(window), Some(burst)) => Ok(FormShape {
                scope,
                limit,
                window,
                burst,
            }),
            _ => Err(crate::error::AppError::internal()),
        }
    }

    /// A blank text field is "none".
    pub fn text(value: Option<String>) -> Option<String> {
        value
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }
}

#[server(prefix = "/sfn", endpoint = "policies_page")]
pub async fn policies_page(scope: String, page: i64) -> Result<RateLimitPolicyPage, AppError> {
    use crate::app::policy_types::PolicyScope;
    use crate::domain::policies::{PolicyListQuery, list_policies};
    let (state, actor) = edge::actor()?;
    let query = PolicyListQuery {
        page: Some(page.max(1)),
        per_page: Some(POLICIES_PER_PAGE),
        scope: PolicyScope::parse(scope.trim()),
    };
    list_policies(&state.policy_ctx(), &actor, &query).await
}

#[server(prefix = "/sfn", endpoint = "policy_detail")]
pub async fn policy_detail(id: i64) -> Result<RateLimitPolicy, AppError> {
    let (state, actor) = edge::actor()?;
    crate::domain::policies::get_policy(&state.policy_ctx(), &actor, id).await
}

// One argument per form field: plain HTML forms post flat fields. An unchecked checkbox is
// not sent at all, hence `enabled: Option<String>`.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/sfn", endpoint = "create_policy")]
pub async fn create_policy(
    name: Option<String>,
    scope: String,
    target: Option<String>,
    method: Option<String>,
    path_pattern: Option<String>,
    limit: String,
    window: String,
    burst: Option<String>,
    enabled: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::policies::CreatePolicyInput;
    let (state, actor) = edge::actor()?;
    crate::domain::policies::require_admin(&actor)?;
    let shape = edge::shape(&scope, &limit, &window, &burst.unwrap_or_default())?;
    let input = CreatePolicyInput {
        name: edge::text(name),
        scope: shape.scope,
        target: edge::text(target).map(serde_json::Value::String),
        method: edge::text(method),
        path_pattern: edge::text(path_pattern),
        limit: shape.limit,
        window: shape.window,
        burst: Some(shape.burst),
        enabled: Some(enabled.is_some()),
    };
    crate::domain::policies::create_policy(&state.policy_ctx(), &actor, input, edge::now()).await?;
    super::redirect("/admin/rate-limits?created=1");
    Ok(())
}

#[allow(clippy::too_many_arguments)]
#[server(prefix = "/sfn", endpoint = "update_policy")]
pub async fn update_policy(
    id: i64,
    name: Option<String>,
    scope: String,
    target: Option<String>,
    method: Option<String>,
    path_pattern: Option<String>,
    limit: String,
    window: String,
    burst: Option<String>,
    enabled: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::policies::UpdatePolicyInput;
    let (state, actor) = edge::actor()?;
    crate::domain::policies::require_admin(&actor)?;
    let shape = edge::shape(&scope, &limit, &window, &burst.unwrap_or_default())?;
    let input = UpdatePolicyInput {
        name: Some(edge::text(name)),
        scope: Some(shape.scope),
        target: Some(edge::text(target).map(serde_json::Value::String)),
        method: Some(edge::text(method)),
        path_pattern: Some(edge::text(path_pattern)),
        limit: Some(shape.limit),
        window: Some(shape.window),
        burst: Some(shape.burst),
        enabled: Some(enabled.is_some()),
    };
    crate::domain::policies::update_policy(&state.policy_ctx(), &actor, id, input, edge::now())
        .await?;
    super::redirect(&format!("/admin/rate-limits/{id}?saved=1"));
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "delete_policy")]
pub async fn delete_policy(id: i64) -> Result<(), AppError> {
    let (state, actor) = edge::actor()?;
    crate::domain::policies::delete_policy(&state.policy_ctx(), &actor, id, edge::now()).await?;
    super::redirect("/admin/rate-limits?deleted=1");
    Ok(())
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::edge::shape;

    #[test]
    fn form_numbers_and_choices() {
        let ok = shape("ip", " 100 ", "minute", "").unwrap();
        assert_eq!((ok.limit, ok.burst), (100, 0));
        let e = shape("planet", "lots", "fortnight", "-1").unwrap_err();
        let fields: Vec<_> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            ["body.scope", "body.limit", "body.window", "body.burst"]
        );
    }
}
