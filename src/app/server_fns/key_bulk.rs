//! The bulk pages' server functions: the same `bulk_keys` as `POST /api/v1/keys/bulk`.

use crate::app::bulk_types::{BulkOperation, BulkOutcome};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the /keys bulk form sends: the chosen ids, or "all matching" with the list's query.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BulkForm {
    pub action: String,
    /// Comma-separated key ids.
    pub ids: String,
    /// "1": every key matching `filter`.
    pub all: String,
    /// The /keys query string.
    pub filter: String,
    /// extend: a date (YYYY-MM-DD).
    pub expires_at: String,
    /// tag / untag: comma-separated.
    pub tags: String,
}

#[cfg(feature = "ssr")]
async fn request_of(
    state: &crate::server::state::AppState,
    actor: &crate::domain::keys::Actor,
    form: &BulkForm,
    dry_run: bool,
) -> Result<crate::domain::keys::bulk::BulkRequest, AppError> {
    use crate::app::key_filters::KeyFilters;
    use crate::domain::keys::bulk::BulkRequest;
    let bad = || {
        AppError::new(
            crate::error::ErrorCode::BadRequest,
            "Choose keys, or all matching the filter.",
        )
    };
    let (ids, filter) = if form.all == "1" {
        // The same parsing as the list, so "all matching" is exactly what the list showed.
        let filters = KeyFilters::parse(&form.filter);
        let mut q = super::keys::list_query_of(state, actor, &filters).await?;
        q.page = None;
        q.per_page = None;
        (None, Some(q))
    } else {
        let ids: Result<Vec<i64>, _> = super::keys::split_list(&form.ids)
            .iter()
            .map(|s| s.parse())
            .collect();
        (Some(ids.map_err(|_| bad())?), None)
    };
    Ok(BulkRequest {
        action: form.action.clone(),
        ids,
        filter,
        expires_at: super::keys::date_to_rfc3339(&form.expires_at),
        tags: Some(super::keys::split_list(&form.tags)).filter(|t| !t.is_empty()),
        dry_run,
        // Large selections run as a job; the results page follows its progress.
        background: true,
    })
}

#[server(prefix = "/sfn", endpoint = "bulk_preview")]
pub async fn bulk_preview(form: BulkForm) -> Result<BulkOutcome, AppError> {
    let (state, actor) = crate::app::server_fns::ctx::actor()?;
    let req = request_of(&state, &actor, &form, true).await?;
    crate::domain::keys::bulk::bulk_keys(
        &state.key_ctx(),
        &actor,
        &req,
        crate::app::server_fns::ctx::now(),
    )
    .await
}

/// Applies the previewed operation, then shows its results page.
#[server(prefix = "/sfn", endpoint = "bulk_apply")]
pub async fn bulk_apply(
    action: String,
    ids: String,
    all: String,
    filter: String,
    expires_at: String,
    tags: String,
) -> Result<(), AppError> {
    let (state, actor) = crate::app::server_fns::ctx::actor()?;
    let form = BulkForm {
        action,
        ids,
        all,
        filter,
        expires_at,
        tags,
    };
    let req = request_of(&state, &actor, &form, false).await?;
    let out = crate::domain::keys::bulk::bulk_keys(
        &state.key_ctx(),
        &actor,
        &req,
        crate::app::server_fns::ctx::now(),
    )
    .await?;
    let id = out.operation_id.ok_or_else(AppError::internal)?;
    super::redirect(&format!("/keys/bulk/{id}"));
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "bulk_op_status")]
pub async fn bulk_op_status(id: i64) -> Result<BulkOperation, AppError> {
    let (state, actor) = crate::app::server_fns::ctx::actor()?;
    crate::domain::keys::bulk_ops::get_bulk_operation(&state.db, &actor, id).await
}
