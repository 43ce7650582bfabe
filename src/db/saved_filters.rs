//! A user's saved key filters (name + the /keys query string).

use super::{Db, with_pool};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SavedFilterRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub query: String,
    pub created_at: i64,
}

pub async fn list(db: &Db, user_id: i64) -> Result<Vec<SavedFilterRow>, sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query_as::<_, SavedFilterRow>(
        "SELECT id, user_id, name, query, created_at FROM saved_key_filters WHERE user_id = $1 ORDER BY name, id"
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
    })
}

/// The new row's id; `None` if the user already has a filter of that name.
pub async fn insert(
    db: &Db,
    user_id: i64,
    name: &str,
    query: &str,
    now_ms: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let res = with_pool!(db, |pool| {
        sqlx::query_scalar::<_, i64>(
        "INSERT INTO saved_key_filters (user_id, name, query, created_at) VALUES ($1, $2, $3, $4) RETURNING id"
    )
    .bind(user_id)
    .bind(name)
    .bind(query)
    .bind(now_ms)
    .fetch_one(pool)
    .await
    });
    match res {
        Ok(id) => Ok(Some(id)),
        Err(e) if super::is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Deletes the user's filter `id`; `false` if they have none such.
pub async fn delete(db: &Db, user_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    with_pool!(db, |pool| sqlx::query(
        "DELETE FROM saved_key_filters WHERE id = $1 AND user_id = $2"
    )
    .bind(id)
    .bind(user_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected() == 1))
}
