//! The APIs pages' server functions: the same domain calls as /api/v1/apis.

use crate::app::types::{Api, ApiPage};
use crate::error::AppError;
use leptos::prelude::*;

pub const APIS_PER_PAGE: i64 = 25;

#[cfg(feature = "ssr")]
mod edge {
    use crate::app::limit_types::{RateLimitSpec, Window};
    use crate::error::{AppError, AppResult, FieldError, Validator};

    pub use crate::app::server_fns::ctx::{actor, now};

    /// The form's one "default" limit row (limit / window / burst); a blank limit means no
    /// default limits. Numbers that do not parse are reported here; ranges by the domain.
    pub fn form_limits(limit: &str, window: &str, burst: &str) -> AppResult<Vec<RateLimitSpec>> {
        let limit = limit.trim();
        if limit.is_empty() {
            return Ok(Vec::new());
        }
        const AT: &str = "body.default_rate_limits[0]";
        let mut v = Validator::default();
        let count = limit.parse::<u32>().ok();
        v.check(
            count.is_some(),
            &format!("{AT}.limit"),
            "must be a whole number between 1 and 1000000000",
        );
        let window = Window::parse(window.trim());
        v.check(
            window.is_some(),
            &format!("{AT}.window"),
            "must be second, minute, hour or day",
        );
        let burst = burst.trim();
        let extra = if burst.is_empty() {
            Some(0)
        } else {
            burst.parse::<u32>().ok()
        };
        v.check(
            extra.is_some(),
            &format!("{AT}.burst"),
            "must be a whole number between 0 and 1000000000",
        );
        v.finish()?;
        Ok(count
            .zip(window)
            .zip(extra)
            .map(|((limit, window), burst)| RateLimitSpec {
                name: "default".into(),
                limit,
                window,
                burst,
            })
            .into_iter()
            .collect())
    }

    /// Blank: the default timeout.
    pub fn form_timeout(text: &str) -> AppResult<i64> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(crate::domain::apis::validate::DEFAULT_TIMEOUT_MS);
        }
        text.parse::<i64>().map_err(|_| {
            AppError::validation(vec![FieldError {
                field: "body.timeout_ms".into(),
                message: "must be a whole number of milliseconds".into(),
            }])
        })
    }
}

#[server(prefix = "/sfn", endpoint = "apis_page")]
pub async fn apis_page(q: String, page: i64) -> Result<ApiPage, AppError> {
    use crate::domain::apis::{ApiListQuery, list_apis};
    let (state, _) = edge::actor()?;
    let q = q.trim();
    let query = ApiListQuery {
        page: Some(page.max(1)),
        per_page: Some(APIS_PER_PAGE),
        q: (!q.is_empty()).then(|| q.to_string()),
    };
    list_apis(&state.api_ctx(), &query).await
}

#[server(prefix = "/sfn", endpoint = "api_detail")]
pub async fn api_detail(id: i64) -> Result<Api, AppError> {
    let (state, _) = edge::actor()?;
    crate::domain::apis::get_api(&state.api_ctx(), crate::app::types::ApiId(id)).await
}

// One argument per form field: plain HTML forms post flat fields. An unchecked checkbox is
// not sent at all, hence `enabled: Option<String>`.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/sfn", endpoint = "create_api")]
pub async fn create_api(
    name: String,
    slug: String,
    description: Option<String>,
    upstream_url: String,
    timeout_ms: Option<String>,
    rate_limit: Option<String>,
    rate_window: Option<String>,
    rate_burst: Option<String>,
    enabled: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::apis::CreateApiInput;
    let (state, actor) = edge::actor()?;
    let input = CreateApiInput {
        name,
        slug,
        description,
        upstream_url,
        default_rate_limits: Some(edge::form_limits(
            &rate_limit.unwrap_or_default(),
            &rate_window.unwrap_or_default(),
            &rate_burst.unwrap_or_default(),
        )?),
        timeout_ms: Some(edge::form_timeout(&timeout_ms.unwrap_or_default())?),
        enabled: Some(enabled.is_some()),
    };
    crate::domain::apis::create_api(&state.api_ctx(), &actor, input, edge::now()).await?;
    super::redirect("/apis?created=1");
    Ok(())
}

/// `limit_row` is sent when the form shows the one-row limit editor; without it (an API whose
/// limits that editor cannot show) the default limits are kept. A blank field arrives as None,
/// so the row's own fields cannot tell "cleared" from "not shown".
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/sfn", endpoint = "update_api")]
pub async fn update_api(
    id: i64,
    name: String,
    slug: String,
    description: String,
    upstream_url: String,
    timeout_ms: String,
    limit_row: Option<String>,
    rate_limit: Option<String>,
    rate_window: Option<String>,
    rate_burst: Option<String>,
    enabled: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::apis::UpdateApiInput;
    let (state, actor) = edge::actor()?;
    let limits = match limit_row {
        Some(_) => Some(Some(edge::form_limits(
            &rate_limit.unwrap_or_default(),
            &rate_window.unwrap_or_default(),
            &rate_burst.unwrap_or_default(),
        )?)),
        None => None,
    };
    let input = UpdateApiInput {
        name: Some(name),
        slug: Some(slug),
        description: Some(Some(description)),
        upstream_url: Some(upstream_url),
        default_rate_limits: limits,
        timeout_ms: Some(edge::form_timeout(&timeout_ms)?),
        enabled: Some(enabled.is_some()),
    };
    crate::domain::apis::update_api(
        &state.api_ctx(),
        &actor,
        crate::app::types::ApiId(id),
        input,
        edge::now(),
    )
    .await?;
    super::redirect(&format!("/apis/{id}?saved=1"));
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "delete_api")]
pub async fn delete_api(id: i64) -> Result<(), AppError> {
    let (state, actor) = edge::actor()?;
    crate::domain::apis::delete_api(
        &state.api_ctx(),
        &actor,
        crate::app::types::ApiId(id),
        edge::now(),
    )
    .await?;
    super::redirect("/apis?deleted=1");
    Ok(())
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::edge::{form_limits, form_timeout};
    use crate::app::limit_types::Window;

    #[test]
    fn form_limit_row() {
        assert!(form_limits(" ", "minute", "5").unwrap().is_empty());
        let one = form_limits("100", "minute", "").unwrap();
        assert_eq!(
            (
                one[0].name.as_str(),
                one[0].limit,
                one[0].window,
                one[0].burst
            ),
            ("default", 100, Window::Minute, 0)
        );
        let e = form_limits("lots", "fortnight", "-1").unwrap_err();
        let fields: Vec<_> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "body.default_rate_limits[0].limit",
                "body.default_rate_limits[0].window",
                "body.default_rate_limits[0].burst"
            ]
        );
        assert_eq!(form_timeout("").unwrap(), 30_000);
        assert_eq!(form_timeout(" 500 ").unwrap(), 500);
        assert!(form_timeout("5s").is_err());
    }
}
