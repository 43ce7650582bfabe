//! Saved key filters: a user names the query string of a /keys search to come back to it (or
//! share it as a link). The query is checked like a live search, so a saved filter always runs.

use super::{Actor, KeyListQuery, access::KeyAccess};
use crate::db;
use crate::domain::{Timestamp, db_failure, from_millis, to_millis};
use crate::error::{AppError, AppResult, ErrorCode, Validator};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSavedFilter {
    /// 1-100 characters, unique per user.
    pub name: String,
    /// The /keys query string, e.g. `status=active&tag=mobile` (no leading `?`).
    pub query: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SavedFilter {
    pub id: i64,
    pub name: String,
    pub query: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

fn view(row: db::saved_filters::SavedFilterRow) -> SavedFilter {
    SavedFilter {
        id: row.id,
        name: row.name,
        query: row.query,
        created_at: from_millis(row.created_at),
    }
}

pub async fn list_saved_filters(db: &db::Db, actor: &Actor) -> AppResult<Vec<SavedFilter>> {
    Ok(db::saved_filters::list(db, actor.user.id.0)
        .await
        .map_err(db_failure)?
        .into_iter()
        .map(view)
        .collect())
}

pub async fn save_filter(
    db: &db::Db,
    actor: &Actor,
    input: NewSavedFilter,
    now: Timestamp,
) -> AppResult<SavedFilter> {
    let name = input.name.trim().to_string();
    let query = input.query.trim().trim_start_matches('?').to_string();
    let mut v = Validator::default();
    v.check(
        (1..=100).contains(&name.chars().count()),
        "body.name",
        "must be 1 to 100 characters",
    );
    v.check(
        query.len() <= 2000,
        "body.query",
        "must be at most 2000 characters",
    );
    // Paging is not part of a filter; the rest must be a valid search.
    match serde_urlencoded::from_str::<KeyListQuery>(&query) {
        Ok(q) => {
            let access = KeyAccess::load(db, actor).await?;
            let mut inner = Validator::default();
            super::list::filter_of(&mut inner, &access, &q, to_millis(now));
            v.check(
                inner.finish().is_ok(),
                "body.query",
                "is not a valid key filter",
            );
        }
        Err(_) => {
            v.check(false, "body.query", "is not a valid key filter");
        }
    }
    v.finish()?;
    let now_ms = to_millis(now);
    let id = db::saved_filters::insert(db, actor.user.id.0, &name, &query, now_ms)
        .await
        .map_err(db_failure)?
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::Conflict,
                "You already have a filter of that name.",
            )
        })?;
    Ok(SavedFilter {
        id,
        name,
        query,
        created_at: from_millis(now_ms),
    })
}

pub async fn delete_saved_filter(db: &db::Db, actor: &Actor, id: i64) -> AppResult<()> {
    if db::saved_filters::delete(db, actor.user.id.0, id)
        .await
        .map_err(db_failure)?
    {
        Ok(())
    } else {
        Err(AppError::not_found("Saved filter"))
    }
}
