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
    /// One tag, or several separated by commas: keys carrying every one.
    pub tag: Option<String>,
    pub org_id: Option<i64>,
    /// RFC 3339 or YYYY-MM-DD: created at or after.
    pub created_from: Option<String>,
    /// RFC 3339 or YYYY-MM-DD: created before.
    pub created_to: Option<String>,
    /// e.g. 7d, 24h: expiring between now and then (not yet expired).
    pub expires_within: Option<String>,
    /// true: only keys never used.
    pub never_used: Option<bool>,
    /// Narrows to one owner's keys, within those the caller may see.
    pub owner_user_id: Option<i64>,
    pub api_id: Option<i64>,
    /// RFC 3339.
    pub expires_before: Option<String>,
    /// RFC 3339; keys never used match too.
    pub last_used_before: Option<String>,
    /// name, created_at, expires_at or last_used_at; a leading `-` sorts descending
    /// (default -created_at).
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
    let text = text.filter(|t| !t.is_empty())?;
    // A bare date (what a date input sends) is that day's midnight UTC.
    if let Ok(d) = time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    ) {
        return Some(to_millis(d.midnight().assume_utc()));
    }
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
    let now_ms = to_millis(now);
    let filter = filter_of(&mut v, &access, q, now_ms);
    v.finish()?;
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
    now_ms: i64,
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
        Some("-expires_at") => Some(SortKey::ExpiresDesc),
        Some("last_used_at") => Some(SortKey::LastUsedAsc),
        Some("-last_used_at") => Some(SortKey::LastUsedDesc),
        Some(_) => {
            v.check(
                false,
                "query.sort",
                "must be name, created_at, expires_at or last_used_at, optionally with a leading -",
            );
            None
        }
    };
    let expires_before = parse_time_param(v, "query.expires_before", q.expires_before.as_deref());
    let last_used_before =
        parse_time_param(v, "query.last_used_before", q.last_used_before.as_deref());
    let created_from = parse_time_param(v, "query.created_from", q.created_from.as_deref());
    let created_to = parse_time_param(v, "query.created_to", q.created_to.as_deref());
    let expires_within = match q.expires_within.as_deref().filter(|t| !t.is_empty()) {
        None => None,
        Some(text) => {
            let ms = parse_span(text);
            v.check(
                ms.is_some(),
                "query.expires_within",
                "must be a span such as 12h, 7d or 4w",
            );
            ms.map(|ms| now_ms + ms)
        }
    };
    let tags: Vec<String> = q
        .tag
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    v.check(tags.len() <= 20, "query.tag", "at most 20 tags");
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
        tags,
        api_id: q.api_id,
        org_id: q.org_id,
        created_from,
        created_to,
        // "Expires within" means still to expire: the status filter's notion of expired
        // is left alone, the earlier bound of the two wins.
        expires_before: match (expires_before, expires_within) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        },
        expires_after: expires_within.map(|_| now_ms),
        last_used_before,
        never_used: q.never_used.unwrap_or(false),
        sort,
    }
}

/// `12h`, `7d`, `4w` → milliseconds (1 to 3650 days).
fn parse_span(text: &str) -> Option<i64> {
    let (n, unit) = text.split_at(text.len().checked_sub(1)?);
    let n: i64 = n.parse().ok().filter(|n| *n > 0)?;
    let hours = match unit {
        "h" => n,
        "d" => n.checked_mul(24)?,
        "w" => n.checked_mul(24 * 7)?,
        _ => return None,
    };
    (hours <= 3650 * 24).then_some(hours * 3_600_000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn spans() {
        assert_eq!(super::parse_span("7d"), Some(7 * 86_400_000));
        assert_eq!(super::parse_span("12h"), Some(12 * 3_600_000));
        for bad in ["", "d", "0d", "-1d", "7x", "99999d", "7"] {
            assert_eq!(super::parse_span(bad), None, "{bad}");
        }
    }
}

/// The user id an owner filter's email names: `None` for no filter, and an id no key has when
/// nobody has that address (the list is then empty, as for an owner whose keys are hidden).
pub async fn owner_by_email(db: &db::Db, email: &str) -> AppResult<Option<i64>> {
    let email = crate::domain::accounts::normalize_email(email);
    if email.is_empty() {
        return Ok(None);
    }
    let found = db::users::credentials_by_email(db, &email)
        .await
        .map_err(db_failure)?;
    Ok(Some(found.map(|c| c.user.id.0).unwrap_or(0)))
}
