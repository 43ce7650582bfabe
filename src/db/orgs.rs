//! Organizations, their members and invitations, with audit records written in the same
//! transaction as each change. Role checks that must hold under concurrency (the last owner)
//! are part of the statements themselves.

use super::audit::{AuditEntry, write_audit};
use super::{Db, with_pool};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OrgRow {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An org with the caller's role in it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct MyOrgRow {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub role: String,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberRow {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct InvitationRow {
    pub id: i64,
    pub org_id: i64,
    pub email: String,
    pub role: String,
    pub invited_by: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const ORG: &str = "SELECT id, name, slug, created_by, created_at, updated_at FROM orgs";
const INV: &str = "SELECT id, org_id, email, role, invited_by, created_at, expires_at, accepted_at, revoked_at FROM org_invitations";

/// What a guarded change did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Missing,
    /// Refused: it would leave the org without an owner.
    LastOwner,
    /// Refused: the org owns keys that are not revoked.
    HasKeys,
}

/// The orgs `user_id` belongs to, with the role in each.
pub async fn memberships(db: &Db, user_id: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    with_pool!(db, |pool| sqlx::query_as::<_, (i64, String)>(
        "SELECT org_id, role FROM org_members WHERE user_id = $1 ORDER BY org_id"
    )
    .bind(user_id)
    .fetch_all(pool)
    .await)
}

pub async fn find(db: &Db, id: i64) -> Result<Option<OrgRow>, sqlx::Error> {
    let sql = format!("{ORG} WHERE id = $1");
    with_pool!(db, |pool| sqlx::query_as::<_, OrgRow>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// A page of the orgs `user_id` belongs to, by name, and how many there are.
pub async fn list_for_user(
    db: &Db,
    user_id: i64,
    limit: i64,
    offset: i64,
) -> Result<(Vec<MyOrgRow>, i64), sqlx::Error> {
    with_pool!(db, |pool| async {
        let rows = sqlx::query_as::<_, MyOrgRow>(
            "SELECT o.id, o.name, o.slug, o.created_by, o.created_at, o.updated_at, m.role
             FROM orgs o JOIN org_members m ON m.org_id = o.id WHERE m.user_id = $1
             ORDER BY LOWER(o.name), o.id LIMIT $2 OFFSET $3",
        )
        .bind(user_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
        let total =
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM org_members WHERE user_id = $1")
                .bind(user_id)
                .fetch_one(pool)
                .await?;
        Ok((rows, total))
    }
    .await)
}

/// Creates an org with `user_id` as its owner. A taken slug fails with a unique violation.
pub async fn create(
    db: &Db,
    name: &str,
    slug: &str,
    user_id: i64,
    audit: &AuditEntry<'_>,
) -> Result<i64, sqlx::Error> {
    with_pool!(db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO orgs (name, slug, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(name)
        .bind(slug)
        .bind(user_id)
        .bind(audit.now_ms)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO org_members (org_id, user_id, role, created_at) VALUES ($1, $2, 'owner', $3)",
        )
        .bind(id)
        .bind(user_id)
        .bind(audit.now_ms)
        .execute(&mut *tx)
        .await?;
        write_audit!(tx, audit, "org", id)?;
        tx.commit().await?;
        Ok(id)
    }
    .await
    })
}

pub async fn rename(
    db: &Db,
    id: i64,
    name: &str,
    audit: &AuditEntry<'_>,
) -> Result<bool, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let n = sqlx::query("UPDATE orgs SET name = $1, updated_at = $2 WHERE id = $3")
            .bind(name)
            .bind(audit.now_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        write_audit!(tx, audit, "org", id)?;
        tx.commit().await?;
        Ok(true)
    }
    .await)
}

/// Deletes an org (members and invitations go with it) unless it owns keys that are not
/// revoked; its revoked keys become personal keys of their owners.
pub async fn delete(db: &Db, id: i64, audit: &AuditEntry<'_>) -> Result<Outcome, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let live = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM api_keys WHERE org_id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if live > 0 {
            tx.rollback().await?;
            return Ok(Outcome::HasKeys);
        }
        sqlx::query("UPDATE api_keys SET org_id = NULL WHERE org_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for sql in [
            "DELETE FROM org_invitations WHERE org_id = $1",
            "DELETE FROM org_members WHERE org_id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        let n = sqlx::query("DELETE FROM orgs WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(Outcome::Missing);
        }
        write_audit!(tx, audit, "org", id)?;
        tx.commit().await?;
        Ok(Outcome::Done)
    }
    .await)
}

pub async fn members(
    db: &Db,
    org_id: i64,
    limit: i64,
    offset: i64,
) -> Result<(Vec<MemberRow>, i64), sqlx::Error> {
    with_pool!(db, |pool| async {
        let rows = sqlx::query_as::<_, MemberRow>(
            "SELECT m.user_id, u.email, u.name, m.role, m.created_at
             FROM org_members m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1
             ORDER BY LOWER(u.email), m.user_id LIMIT $2 OFFSET $3",
        )
        .bind(org_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
        let total =
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM org_members WHERE org_id = $1")
                .bind(org_id)
                .fetch_one(pool)
                .await?;
        Ok((rows, total))
    }
    .await)
}

/// Sets a member's role (`Some`) or removes them (`None`), refusing to leave the org
/// without an owner. The check and the change are one transaction.
pub async fn change_member(
    db: &Db,
    org_id: i64,
    user_id: i64,
    role: Option<&str>,
    audit: &AuditEntry<'_>,
) -> Result<Outcome, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let current = sqlx::query_scalar::<_, String>(
            "SELECT role FROM org_members WHERE org_id = $1 AND user_id = $2",
        )
        .bind(org_id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(current) = current else {
            tx.rollback().await?;
            return Ok(Outcome::Missing);
        };
        if current == "owner" && role != Some("owner") {
            let owners = sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM org_members WHERE org_id = $1 AND role = 'owner'",
            )
            .bind(org_id)
            .fetch_one(&mut *tx)
            .await?;
            if owners <= 1 {
                tx.rollback().await?;
                return Ok(Outcome::LastOwner);
            }
        }
        match role {
            Some(role) => {
                sqlx::query("UPDATE org_members SET role = $1 WHERE org_id = $2 AND user_id = $3")
                    .bind(role)
                    .bind(org_id)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?
            }
            None => {
                sqlx::query("DELETE FROM org_members WHERE org_id = $1 AND user_id = $2")
                    .bind(org_id)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?
            }
        };
        write_audit!(tx, audit, "org", org_id)?;
        tx.commit().await?;
        Ok(Outcome::Done)
    }
    .await)
}

pub struct NewInvitation<'a> {
    pub org_id: i64,
    pub email: &'a str,
    pub role: &'a str,
    pub token_hash: &'a str,
    pub invited_by: i64,
    pub expires_at: i64,
}

pub async fn invite(
    db: &Db,
    new: &NewInvitation<'_>,
    audit: &AuditEntry<'_>,
) -> Result<i64, sqlx::Error> {
    with_pool!(db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO org_invitations (org_id, email, role, token_hash, invited_by, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(new.org_id)
        .bind(new.email)
        .bind(new.role)
        .bind(new.token_hash)
        .bind(new.invited_by)
        .bind(audit.now_ms)
        .bind(new.expires_at)
        .fetch_one(&mut *tx)
        .await?;
        write_audit!(tx, audit, "org", new.org_id)?;
        tx.commit().await?;
        Ok(id)
    }
    .await
    })
}

/// A page of an org's invitations that are neither accepted nor revoked nor expired.
pub async fn pending(
    db: &Db,
    org_id: i64,
    now_ms: i64,
    limit: i64,
    offset: i64,
) -> Result<(Vec<InvitationRow>, i64), sqlx::Error> {
    let open = "org_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2";
    let sql = format!("{INV} WHERE {open} ORDER BY id DESC LIMIT $3 OFFSET $4");
    let count = format!("SELECT COUNT(*) FROM org_invitations WHERE {open}");
    with_pool!(db, |pool| async {
        let rows = sqlx::query_as::<_, InvitationRow>(&sql)
            .bind(org_id)
            .bind(now_ms)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        let total = sqlx::query_scalar::<_, i64>(&count)
            .bind(org_id)
            .bind(now_ms)
            .fetch_one(pool)
            .await?;
        Ok((rows, total))
    }
    .await)
}

pub async fn find_invitation_by_hash(
    db: &Db,
    token_hash: &str,
) -> Result<Option<InvitationRow>, sqlx::Error> {
    let sql = format!("{INV} WHERE token_hash = $1");
    with_pool!(db, |pool| sqlx::query_as::<_, InvitationRow>(&sql)
        .bind(token_hash)
        .fetch_optional(pool)
        .await)
}

/// Revokes an open invitation of `org_id`; `false` if there is none by that id.
pub async fn revoke_invitation(
    db: &Db,
    org_id: i64,
    id: i64,
    audit: &AuditEntry<'_>,
) -> Result<bool, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let n = sqlx::query(
            "UPDATE org_invitations SET revoked_at = $1
             WHERE id = $2 AND org_id = $3 AND accepted_at IS NULL AND revoked_at IS NULL",
        )
        .bind(audit.now_ms)
        .bind(id)
        .bind(org_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        write_audit!(tx, audit, "org", org_id)?;
        tx.commit().await?;
        Ok(true)
    }
    .await)
}

/// Uses an invitation up and adds `user_id` with its role (a member already there keeps
/// their role). `false` if it was used, revoked or expired meanwhile: it works once.
pub async fn accept(
    db: &Db,
    inv: &InvitationRow,
    user_id: i64,
    audit: &AuditEntry<'_>,
) -> Result<bool, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let n = sqlx::query(
            "UPDATE org_invitations SET accepted_at = $1
             WHERE id = $2 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(audit.now_ms)
        .bind(inv.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO org_members (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (org_id, user_id) DO NOTHING",
        )
        .bind(inv.org_id)
        .bind(user_id)
        .bind(&inv.role)
        .bind(audit.now_ms)
        .execute(&mut *tx)
        .await?;
        write_audit!(tx, audit, "org", inv.org_id)?;
        tx.commit().await?;
        Ok(true)
    }
    .await)
}
