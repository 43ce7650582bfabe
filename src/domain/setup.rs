//! First start: the super admin comes from KEYPORT_ADMIN_EMAIL/PASSWORD, or else from the
//! one-time setup page.

use super::{Timestamp, accounts, db_failure};
use crate::app::types::{Role, User};
use crate::config::Config;
use crate::db::{self, Db};
use crate::error::AppResult;

pub async fn setup_required(db: &Db) -> AppResult<bool> {
    Ok(db::users::count(db).await.map_err(db_failure)? == 0)
}

/// Creates the configured super admin when the instance has no users yet.
pub async fn bootstrap_admin(db: &Db, config: &Config, now: Timestamp) -> AppResult<Option<User>> {
    let (Some(email), Some(password)) = (&config.admin_email, &config.admin_password) else {
        return Ok(None);
    };
    if !setup_required(db).await? {
        return Ok(None);
    }
    let input = accounts::RegisterInput {
        email: email.clone(),
        password: password.expose().to_string(),
        name: "Administrator".into(),
    };
    let user = accounts::register(db, input, Role::SuperAdmin, true, now).await?;
    Ok(Some(user))
}

/// The setup page's action: the first account, as super admin.
pub async fn complete_setup(
    db: &Db,
    input: accounts::RegisterInput,
    now: Timestamp,
) -> AppResult<User> {
    accounts::register(db, input, Role::SuperAdmin, true, now).await
}
