//! The webhooks pages' server functions: the same domain calls as /api/v1/webhooks.

use crate::app::webhook_types::{Webhook, WebhookDeliveryPage, WebhookPage};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub const WEBHOOKS_PER_PAGE: i64 = 50;
pub const DELIVERIES_PER_PAGE: i64 = 25;

/// An endpoint's page: the endpoint, its secret when asked for, and a page of deliveries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointScreen {
    pub webhook: Webhook,
    pub secret: Option<String>,
    pub deliveries: WebhookDeliveryPage,
}

/// `Name: value` lines → a header map (blank lines skipped; a line without a colon is kept as
/// a name with an empty value, which the domain refuses with its own message).
#[cfg(feature = "ssr")]
pub fn parse_headers(text: &str) -> std::collections::BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(':') {
            Some((name, value)) => (name.trim().to_string(), value.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

#[server(prefix = "/sfn", endpoint = "webhooks_page")]
pub async fn webhooks_page(page: i64) -> Result<WebhookPage, AppError> {
    use crate::app::server_fns::ctx;
    use crate::domain::webhooks::{WebhookListQuery, list_webhooks};
    let (state, actor) = ctx::actor()?;
    let query = WebhookListQuery {
        page: Some(page.max(1)),
        per_page: Some(WEBHOOKS_PER_PAGE),
    };
    list_webhooks(&state, &actor, &query, ctx::now()).await
}

#[server(prefix = "/sfn", endpoint = "webhook_view")]
pub async fn webhook_view(id: i64, reveal: bool, page: i64) -> Result<EndpointScreen, AppError> {
    use crate::app::server_fns::ctx;
    use crate::domain::webhooks::{self as wh, WebhookListQuery};
    let (state, actor) = ctx::actor()?;
    let webhook = wh::get_webhook(&state, &actor, id, ctx::now()).await?;
    let secret = if reveal {
        Some(wh::reveal_secret(&state, &actor, id).await?.secret)
    } else {
        None
    };
    let query = WebhookListQuery {
        page: Some(page.max(1)),
        per_page: Some(DELIVERIES_PER_PAGE),
    };
    let deliveries = wh::list_deliveries(&state, &actor, id, &query).await?;
    Ok(EndpointScreen {
        webhook,
        secret,
        deliveries,
    })
}

// One argument per form field: plain HTML forms post flat fields; the event-type checkboxes
// are `event_types[i]`, so unchecked ones are simply absent.
#[server(prefix = "/sfn", endpoint = "create_webhook")]
pub async fn create_webhook(
    url: String,
    description: Option<String>,
    event_types: Option<Vec<String>>,
    headers: Option<String>,
) -> Result<(), AppError> {
    use crate::app::server_fns::ctx;
    use crate::domain::webhooks::CreateWebhookInput;
    let (state, actor) = ctx::actor()?;
    let input = CreateWebhookInput {
        url,
        description: description.unwrap_or_default(),
        event_types: event_types.unwrap_or_default(),
        secret: None,
        headers: parse_headers(headers.as_deref().unwrap_or("")),
        enabled: Some(true),
    };
    let created =
        crate::domain::webhooks::create_webhook(&state, &actor, input, ctx::now()).await?;
    // The new endpoint's page, with its secret shown.
    super::redirect(&format!(
        "/webhooks/{}?created=1&reveal=1",
        created.webhook.id
    ));
    Ok(())
}

/// The buttons of an endpoint's page: `test`, `rotate`, `enable`, `disable`, `delete`,
/// `redeliver` (with `delivery_id`).
#[server(prefix = "/sfn", endpoint = "webhook_action")]
pub async fn webhook_action(
    id: i64,
    action: String,
    delivery_id: Option<i64>,
) -> Result<(), AppError> {
    use crate::app::server_fns::ctx;
    use crate::domain::webhooks::{self as wh, UpdateWebhookInput};
    use crate::error::ErrorCode;
    let (state, actor) = ctx::actor()?;
    let now = ctx::now();
    let done = match action.as_str() {
        "test" => {
            wh::test_webhook(&state, &actor, id, now).await?;
            "test"
        }
        "rotate" => {
            wh::rotate_secret(&state, &actor, id, now).await?;
            super::redirect(&format!("/webhooks/{id}?done=rotated&reveal=1"));
            return Ok(());
        }
        "enable" | "disable" => {
            let input = UpdateWebhookInput {
                enabled: Some(action == "enable"),
                ..Default::default()
            };
            wh::update_webhook(&state, &actor, id, input, now).await?;
            if action == "enable" {
                "enabled"
            } else {
                "disabled"
            }
        }
        "delete" => {
            wh::delete_webhook(&state, &actor, id, now).await?;
            super::redirect("/webhooks?deleted=1");
            return Ok(());
        }
        "redeliver" => {
            let delivery = delivery_id.ok_or_else(|| {
                AppError::new(
                    ErrorCode::BadRequest,
                    "Which delivery? The form was incomplete.",
                )
            })?;
            wh::redeliver(&state, &actor, id, delivery, now).await?;
            "redelivered"
        }
        _ => {
            return Err(AppError::new(ErrorCode::BadRequest, "Unknown action."));
        }
    };
    super::redirect(&format!("/webhooks/{id}?done={done}"));
    Ok(())
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn header_lines_become_a_map() {
        let h = parse_headers("X-Token: abc\n\n  Authorization : Bearer x:y \nbroken");
        assert_eq!(h["X-Token"], "abc");
        assert_eq!(h["Authorization"], "Bearer x:y");
        assert_eq!(h["broken"], "");
    }
}
