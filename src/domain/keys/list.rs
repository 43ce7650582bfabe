//! Listing keys with the contract's filters, sorting and paging.

use super::{Actor, KeyContext, view};
use crate::app::types::ApiKey;
use crate::db;
use crate::domain::{Timestamp, db_failure, to_millis};
use crate::error::{AppResult, Validator};
use serde::Deserialize;

/// List filters and paging (query string of `GET /keys`).
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KeyListQuery {
    /// 1-based page.
    pub page: Option<i64>,
    /// 1-200, default 50.
    pub per_page: Option<i64>,
    /// active | revoked | expired | disabled
    pub status: Option<String>,
    /// Matches name, prefix or last4.
    pub q: Option<String>,
    pub scope: Option<String>,
    pub tag: Option<String>,
    /// Narrows to one owner's keys, within those the caller may see.
    pub owner_user_id: Option<i64>,
    pub api_id: Option<i64>,
    /// RFC 3339.
    pub expires_before: Option<String>,
    /// RFC 3339; keys never used match too.
    pub last_used_before: Option<String>,
    /// created_at | -created_at (default) | name | -name | expires_at | -last_used_at
    pub sort: Option<String>,
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct KeyPage {
    pub items: Vec<ApiKey>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

fn parse_time_param(v: &mut Validator, field: &str, text: Option<&str>) -> Option<i64> {
    let text = text?;
    match Timestamp::parse(text, &time::format_description::well_known::Rfc3339) {
        Ok(t) => Some(to_millis(t)),
        Err(_) => {
            v.check(false, field, "must be an RFC 3339 time");
            None
        }
    }
}

pub async fn list_keys(
    ctx: &KeyContext<'_>,
    actor: &Actor,
    q: &KeyListQuery,
    now: Timestamp,
) -> AppResult<KeyPage> {
    let mut v = Validator::default();
    let (page, per_page) = crate::domain::paging(&mut v, q.page, q.per_page);
    let access = super::access::KeyAccess::load(ctx.db, actor).await?;
    let filter = filter_of(&mut v, &access, q);
    v.finish()?;
    let now_ms = to_millis(now);
    let (rows, total) = db::keys::list(ctx.db, &filter, now_ms, per_page, (page - 1) * per_page)
        .await
        .map_err(db_failure)?;
    Ok(KeyPage {
        items: rows.iter().map(|r| view(r, ctx, now_ms)).collect(),
        total,
        page,
        per_page,
    })
}

/// The database filter of `q` within what `access` may see; problems go to `v` (the caller
/// finishes it). Lists and bulk selections share it, so "all matching" means the same.
pub(crate) fn filter_of(
    v: &mut Validator,
    access: &super::access::KeyAccess,
    q: &KeyListQuery,
) -> db::keys::KeyFilter {
    use db::keys::{SortKey, StatusFilter};
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some("active") => Some(StatusFilter::Active),
        Some("revoked") => Some(StatusFilter::Revoked),
        Some("expired") => Some(StatusFilter::Expired),
        Some("disabled") => Some(StatusFilter::Disabled),
        Some(_) => {
            v.check(
                false,
                "query.status",
                "must be active, revoked, expired or disabled",
            );
            None
        }
    };
    let sort = match q.sort.as_deref() {
        None | Some("") | Some("-created_at") => Some(SortKey::CreatedDesc),
        Some("created_at") => Some(SortKey::CreatedAsc),
        Some("name") => Some(SortKey::NameAsc),
        Some("-name") => Some(SortKey::NameDesc),
        Some("expires_at") => Some(SortKey::ExpiresAsc),
        Some("-last_used_at") => Some(SortKey::LastUsedDesc),
        Some(_) => {
            v.check(
                false,
                "query.sort",
                "must be created_at, -created_at, name, -name, expires_at or -last_used_at",
            );
            None
        }
    };
    let expires_before = parse_time_param(v, "query.expires_before", q.expires_before.as_deref());
    let last_used_before =
        parse_time_param(v, "query.last_used_before", q.last_used_before.as_deref());
    v.check(
        q.q.as_ref().is_none_or(|s| s.chars().count() <= 200),
        "query.q",
        "must be at most 200 characters",
    );
    // Anyone may narrow by owner; the scope keeps it within what they may see (their own
    // keys, and their orgs' keys whoever owns them).
    db::keys::KeyFilter {
        visible: access.scope(),
        owner_user_id: q.owner_user_id,
        status,
        q: q.q.clone(),
        scope: q.scope.clone().filter(|s| !s.is_empty()),
        tag: q.tag.clone().filter(|s| !s.is_empty()),
        api_id: q.api_id,
        expires_before,
        last_used_before,
        sort,
    }
}
