//! Audit records, written in the same transaction as the change they describe, with the
//! domain event the change raises (if any).

/// One audit record: who did what to which target, before and after (never secrets).
#[derive(Clone, Debug)]
pub struct AuditEntry<'a> {
    pub actor_user_id: Option<i64>,
    pub action: &'a str,
    pub old_values: Option<String>,
    pub new_values: Option<String>,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub now_ms: i64,
    /// The event this change raises (notices, webhooks), written in the same transaction;
    /// its subject is the audit target unless it names one.
    pub event: Option<super::events::NewEvent>,
}

pub(crate) const AUDIT_SQL: &str = "INSERT INTO audit_log (actor_user_id, action, target_type, target_id, old_values, new_values, ip, user_agent, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// Writes `$entry` about `$target_type` `$target` (an id or an `Option` of one) inside the
/// transaction `$tx`, and the entry's event with its dispatch job. `Result<(), sqlx::Error>`.
macro_rules! write_audit {
    ($tx:expr, $entry:expr, $target_type:expr, $target:expr) => {
        async {
            let entry: &$crate::db::audit::AuditEntry<'_> = &$entry;
            let target: Option<i64> = $target.into();
            sqlx::query($crate::db::audit::AUDIT_SQL)
                .bind(entry.actor_user_id)
                .bind(entry.action)
                .bind($target_type)
                .bind(target)
                .bind(entry.old_values.as_deref())
                .bind(entry.new_values.as_deref())
                .bind(entry.ip)
                .bind(entry.user_agent)
                .bind(entry.now_ms)
                .execute(&mut *$tx)
                .await?;
            if let Some(event) = &entry.event {
                $crate::db::events::write_event!($tx, event, target, entry.now_ms).await?;
            }
            Ok::<(), sqlx::Error>(())
        }
        .await
    };
}
pub(crate) use write_audit;

/// Deletes row `id` of `table` (a name from our own code, never input) with the audit record
/// about it, in one transaction. `Ok(false)` if there was no such row.
pub async fn delete_audited(
    db: &super::Db,
    table: &'static str,
    target_type: &'static str,
    id: i64,
    audit: &AuditEntry<'_>,
) -> Result<bool, sqlx::Error> {
    let sql = format!("DELETE FROM {table} WHERE id = $1");
    super::with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let n = sqlx::query(&sql)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        write_audit!(tx, audit, target_type, id)?;
        tx.commit().await?;
        Ok(true)
    }
    .await)
}
