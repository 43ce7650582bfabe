//! The audit log and security events viewers (admins only): filters, pages and the CSV export.

use super::admin_users::require_admin;
use super::keys::Actor;
use super::{db_failure, from_millis, to_millis};
use crate::app::admin_types::{AuditPage, AuditRecord, SecurityEventPage, SecurityEventView};
use crate::db::{self, Db, audit_log::AuditFilter, audit_log::SecurityFilter};
use crate::error::{AppError, AppResult, FieldError};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The most rows one CSV export holds; narrow the filters for more.
pub const MAX_EXPORT_ROWS: i64 = 10_000;
const MAX_FILTER_CHARS: usize = 200;

/// The audit filters as they arrive (query string or form); all optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct AuditQuery {
    pub actor_id: Option<i64>,
    /// Exact action, e.g. `user.suspended`.
    pub action: Option<String>,
    /// A target type (`user`) or `type:id` (`user:7`).
    pub target: Option<String>,
    /// RFC 3339; inclusive.
    pub from: Option<String>,
    /// RFC 3339; exclusive.
    pub to: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The security-event filters as they arrive.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct SecurityQuery {
    /// The user the event concerns.
    pub user: Option<i64>,
    /// Exact kind, e.g. `auth.sign_in_failed`.
    pub kind: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

fn bad(field: &str, message: &str) -> AppError {
    AppError::validation(vec![FieldError {
        field: format!("query.{field}"),
        message: message.into(),
    }])
}

/// An RFC 3339 time, or a browser's `datetime-local` value (`2026-01-31T09:30`, seconds
/// optional), taken as UTC.
fn time_of(field: &str, text: &Option<String>) -> AppResult<Option<i64>> {
    use time::{PrimitiveDateTime, macros::format_description};
    let Some(t) = text.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let local = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let local_s = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    OffsetDateTime::parse(t, &Rfc3339)
        .or_else(|_| PrimitiveDateTime::parse(t, local).map(PrimitiveDateTime::assume_utc))
        .or_else(|_| PrimitiveDateTime::parse(t, local_s).map(PrimitiveDateTime::assume_utc))
        .map(|t| Some(to_millis(t)))
        .map_err(|_| bad(field, "must be an RFC 3339 time, e.g. 2026-01-31T00:00:00Z"))
}

fn text_of(field: &str, text: &Option<String>) -> AppResult<Option<String>> {
    match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) if t.chars().count() > MAX_FILTER_CHARS => {
            Err(bad(field, "must be at most 200 characters"))
        }
        Some(t) => Ok(Some(t.to_string())),
    }
}

fn page_of(page: Option<i64>, per_page: Option<i64>) -> (i64, i64) {
    (
        page.unwrap_or(1).clamp(1, 1_000_000),
        per_page.unwrap_or(50).clamp(1, 200),
    )
}

pub fn audit_filter(q: &AuditQuery) -> AppResult<AuditFilter> {
    let (target_type, target_id) = match text_of("target", &q.target)? {
        None => (None, None),
        Some(t) => match t.split_once(':') {
            Some((kind, id)) => {
                let id = id
                    .parse::<i64>()
                    .map_err(|_| bad("target", "must be a type or type:id, e.g. user:7"))?;
                (Some(kind.to_string()), Some(id))
            }
            None => (Some(t), None),
        },
    };
    Ok(AuditFilter {
        actor_id: q.actor_id,
        action: text_of("action", &q.action)?,
        target_type,
        target_id,
        from_ms: time_of("from", &q.from)?,
        to_ms: time_of("to", &q.to)?,
    })
}

fn record_of(r: db::audit_log::AuditRow) -> AuditRecord {
    AuditRecord {
        id: r.id,
        actor_id: r.actor_user_id,
        action: r.action,
        target_type: r.target_type,
        target_id: r.target_id,
        old_values: r.old_values,
        new_values: r.new_values,
        ip: r.ip,
        user_agent: r.user_agent,
        created_at: from_millis(r.created_at),
    }
}

/// A page of the audit log, newest first.
pub async fn list_audit(db: &Db, actor: &Actor, q: &AuditQuery) -> AppResult<AuditPage> {
    require_admin(actor, "read the audit log and security events")?;
    let filter = audit_filter(q)?;
    let (page, per_page) = page_of(q.page, q.per_page);
    let (rows, total) = db::audit_log::list_audit(db, &filter, per_page, (page - 1) * per_page)
        .await
        .map_err(db_failure)?;
    Ok(AuditPage {
        items: rows.into_iter().map(record_of).collect(),
        total,
        page,
        per_page,
    })
}

/// The filtered audit log as CSV (header first, newest first, at most MAX_EXPORT_ROWS rows).
pub async fn export_audit_csv(db: &Db, actor: &Actor, q: &AuditQuery) -> AppResult<String> {
    require_admin(actor, "read the audit log and security events")?;
    let filter = audit_filter(q)?;
    let (rows, _) = db::audit_log::list_audit(db, &filter, MAX_EXPORT_ROWS, 0)
        .await
        .map_err(db_failure)?;
    let mut out = String::from(
        "id,created_at,actor_id,action,target_type,target_id,old_values,new_values,ip,user_agent\r\n",
    );
    for r in rows.into_iter().map(record_of) {
        let at = r.created_at.format(&Rfc3339).unwrap_or_default();
        let cells = [
            r.id.to_string(),
            at,
            r.actor_id.map(|a| a.to_string()).unwrap_or_default(),
            r.action,
            r.target_type,
            r.target_id.map(|t| t.to_string()).unwrap_or_default(),
            r.old_values.unwrap_or_default(),
            r.new_values.unwrap_or_default(),
            r.ip,
            r.user_agent,
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    Ok(out)
}

/// One CSV cell (RFC 4180). A cell a spreadsheet would run as a formula (starting with = + -
/// @, tab or CR) gets a leading apostrophe: audit values come from users.
pub fn csv_cell(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// A page of security events, newest first.
pub async fn list_security_events(
    db: &Db,
    actor: &Actor,
    q: &SecurityQuery,
) -> AppResult<SecurityEventPage> {
    require_admin(actor, "read the audit log and security events")?;
    let filter = SecurityFilter {
        user_id: q.user,
        kind: text_of("kind", &q.kind)?,
        from_ms: time_of("from", &q.from)?,
        to_ms: time_of("to", &q.to)?,
    };
    let (page, per_page) = page_of(q.page, q.per_page);
    let (rows, total) =
        db::audit_log::list_security_events(db, &filter, per_page, (page - 1) * per_page)
            .await
            .map_err(db_failure)?;
    let items = rows
        .into_iter()
        .map(|r| SecurityEventView {
            id: r.id,
            kind: r.kind,
            subject_type: r.subject_type,
            subject: r.subject,
            user_id: r.user_id,
            detail: r.detail,
            ip: r.ip,
            created_at: from_millis(r.created_at),
        })
        .collect();
    Ok(SecurityEventPage {
        items,
        total,
        page,
        per_page,
    })
}

#[cfg(test)]
mod tests {
    use super::{csv_cell, time_of};

    #[test]
    fn times_are_rfc3339_or_a_browsers_local_value_in_utc() {
        let at = |t: &str| time_of("from", &Some(t.to_string()));
        let want = Some(1_769_851_800_000);
        assert_eq!(at("2026-01-31T09:30:00Z").ok(), Some(want));
        assert_eq!(at("2026-01-31T09:30").ok(), Some(want));
        assert_eq!(at("2026-01-31T09:30:00").ok(), Some(want));
        assert_eq!(at("  ").ok(), Some(None));
        assert!(at("yesterday").is_err());
        assert!(at("2026-13-01T00:00").is_err());
    }

    #[test]
    fn csv_cells_are_escaped_and_formulas_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@cmd"), "'@cmd");
        assert_eq!(csv_cell("=1,2"), "\"'=1,2\"");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
    }
}
