//! Usage alerts: admin-set rules, judged once a minute over the rollups
//! ([`evaluate::evaluate`], time passed in), raising an alert with a notification and a
//! security event once per subject and period.

pub mod evaluate;
mod rules;

pub use evaluate::evaluate;
pub use rules::{UpdateAlertRuleInput, list_rules, update_rule};

use crate::app::alert_types::{Alert, AlertKind, AlertPage};
use crate::db::{self, Db};
use crate::domain::keys::Actor;
use crate::domain::{db_failure, from_millis, paging};
use crate::error::{AppResult, Validator};
use serde::Deserialize;

/// `?page&per_page` of `GET /api/v1/alerts`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertListQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Alerts about the actor's keys (admins: every alert, client IPs' included), newest first.
pub async fn list_alerts(db: &Db, actor: &Actor, q: &AlertListQuery) -> AppResult<AlertPage> {
    let mut v = Validator::default();
    let (page, per_page) = paging(&mut v, q.page, q.per_page);
    v.finish()?;
    let owner = (!actor.user.role.is_admin()).then_some(actor.user.id.0);
    let (rows, total) = db::alerts::list(db, owner, per_page, (page - 1) * per_page)
        .await
        .map_err(db_failure)?;
    Ok(AlertPage {
        items: rows
            .into_iter()
            .filter_map(|r| {
                Some(Alert {
                    id: r.id,
                    kind: AlertKind::parse(&r.kind)?,
                    subject_type: r.subject_type,
                    subject: r.subject,
                    key_id: r.key_id,
                    value: r.value,
                    threshold: r.threshold,
                    period_start: from_millis(r.period_start),
                    detail: serde_json::from_str(&r.detail).unwrap_or_default(),
                    created_at: from_millis(r.created_at),
                })
            })
            .collect(),
        total,
        page,
        per_page,
    })
}
