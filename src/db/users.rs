use super::{Db, is_unique_violation, with_pool};
use crate::app::types::{Role, User, UserId};
use crate::domain::from_millis;

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    name: String,
    role: String,
    email_verified_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    suspended_at: Option<i64>,
    suspended_reason: Option<String>,
}

impl UserRow {
    fn into_user(self) -> User {
        User {
            id: UserId(self.id),
            email: self.email,
            name: self.name,
            // The CHECK constraint keeps roles valid; an unknown one gets the least privilege.
            role: Role::parse(&self.role).unwrap_or(Role::Viewer),
            email_verified: self.email_verified_at.is_some(),
            created_at: from_millis(self.created_at),
            updated_at: from_millis(self.updated_at),
            suspended_at: self.suspended_at.map(from_millis),
            suspended_reason: self.suspended_reason,
        }
    }
}

const USER_COLUMNS: &str = "id, email, name, role, email_verified_at, created_at, updated_at, suspended_at, suspended_reason";

/// What sign-in needs besides the public fields.
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
    pub password_changed_at: i64,
}

#[derive(sqlx::FromRow)]
struct CredentialsRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: String,
    password_changed_at: i64,
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub now_ms: i64,
    /// Set for accounts that need no confirmation (the first admin).
    pub email_verified_ms: Option<i64>,
}

/// Inserts a user; `Ok(None)` when the email is taken.
pub async fn insert(db: &Db, new: &NewUser<'_>) -> Result<Option<UserId>, sqlx::Error> {
    const SQL: &str = "INSERT INTO users (email, name, password_hash, role, created_at, updated_at, password_changed_at,
                                         email_verified_at)
                       VALUES ($1, $2, $3, $4, $5, $5, $5, $6) RETURNING id";
    let result = with_pool!(db, |pool| {
        sqlx::query_scalar::<_, i64>(SQL)
            .bind(new.email)
            .bind(new.name)
            .bind(new.password_hash)
            .bind(new.role.as_str())
            .bind(new.now_ms)
            .bind(new.email_verified_ms)
            .fetch_one(pool)
            .await
    });
    match result {
        Ok(id) => Ok(Some(UserId(id))),
        Err(e) if is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn find(db: &Db, id: UserId) -> Result<Option<User>, sqlx::Error> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    let row = with_pool!(db, |pool| {
        sqlx::query_as::<_, UserRow>(&sql)
            .bind(id.0)
            .fetch_optional(pool)
            .await
    })?;
    Ok(row.map(UserRow::into_user))
}

pub async fn credentials_by_email(
    db: &Db,
    email: &str,
) -> Result<Option<Credentials>, sqlx::Error> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, password_hash, password_changed_at FROM users WHERE email = $1"
    );
    let row = with_pool!(db, |pool| {
        sqlx::query_as::<_, CredentialsRow>(&sql)
            .bind(email)
            .fetch_optional(pool)
            .await
    })?;
    Ok(row.map(into_credentials))
}

pub async fn credentials_by_id(db: &Db, id: UserId) -> Result<Option<Credentials>, sqlx::Error> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, password_hash, password_changed_at FROM users WHERE id = $1"
    );
    let row = with_pool!(db, |pool| {
        sqlx::query_as::<_, CredentialsRow>(&sql)
            .bind(id.0)
            .fetch_optional(pool)
            .await
    })?;
    Ok(row.map(into_credentials))
}

fn into_credentials(row: CredentialsRow) -> Credentials {
    Credentials {
        user: row.user.into_user(),
        password_hash: row.password_hash,
        password_changed_at: row.password_changed_at,
    }
}

pub async fn update_name(
    db: &Db,
    id: UserId,
    name: &str,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let done = with_pool!(db, |pool| {
        sqlx::query("UPDATE users SET name = $1, updated_at = $2 WHERE id = $3")
            .bind(name)
            .bind(now_ms)
            .bind(id.0)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

/// Marks the address confirmed, if it is still `email` (a changed address needs its own link).
pub async fn mark_email_verified(
    db: &Db,
    id: UserId,
    email: &str,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let done = with_pool!(db, |pool| {
        sqlx::query(
            "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1) WHERE id = $2 AND email = $3",
        )
        .bind(now_ms)
        .bind(id.0)
        .bind(email)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

pub async fn update_password(
    db: &Db,
    id: UserId,
    hash: &str,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let done = with_pool!(db, |pool| {
        sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(now_ms)
            .bind(id.0)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users")
            .fetch_one(pool)
            .await
    })
}

pub struct UserCounts {
    pub total: i64,
    pub created_since: i64,
    pub admins: i64,
    pub viewers: i64,
}

pub async fn counts(db: &Db, since_ms: i64) -> Result<UserCounts, sqlx::Error> {
    const SQL: &str = "SELECT COUNT(*),
                              COALESCE(SUM(CASE WHEN created_at >= $1 THEN 1 ELSE 0 END), 0),
                              COALESCE(SUM(CASE WHEN role IN ('super_admin', 'admin') THEN 1 ELSE 0 END), 0),
                              COALESCE(SUM(CASE WHEN role = 'viewer' THEN 1 ELSE 0 END), 0)
                       FROM users";
    let (total, created_since, admins, viewers) = with_pool!(db, |pool| {
        sqlx::query_as::<_, (i64, i64, i64, i64)>(SQL)
            .bind(since_ms)
            .fetch_one(pool)
            .await
    })?;
    Ok(UserCounts {
        total,
        created_since,
        admins,
        viewers,
    })
}
