//! `/admin/alerts` (admins): a form per alert rule, and the alerts raised recently.

use super::{page_param, signed_in_admin};
use crate::app::alert_types::{Alert, AlertKind, AlertPage, AlertRule};
use crate::app::components::{FormError, PageHeader, action_error, field_label};
use crate::app::format;
use crate::app::layout::Shell;
use crate::app::pages::apis::enabled_badge;
use crate::app::server_fns::alerts::{UpdateAlertRule, alert_rules, alerts_page, is_rule_error};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde_json::Value;
use time::OffsetDateTime;

/// The allowed thresholds of a rule, for the browser's own check (the domain checks again).
fn threshold_bounds(kind: AlertKind) -> (&'static str, &'static str) {
    match kind {
        AlertKind::ErrorRate => ("0.01", "1"),
        AlertKind::TrafficSpike => ("1.5", "1000"),
        AlertKind::RateLimited | AlertKind::FailedIp => ("1", "1000000000"),
    }
}

fn short_label(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::ErrorRate => "Error rate",
        AlertKind::RateLimited => "Rate-limit refusals",
        AlertKind::TrafficSpike => "Traffic spike",
        AlertKind::FailedIp => "Failed calls from an IP",
    }
}

fn from_ms(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

/// "2026-11-23 10:00–10:15 UTC": the span an alert judged (the IP rule: its clock hour).
fn period_text(a: &Alert) -> String {
    let figure = |name: &str| a.detail.get(name).and_then(Value::as_i64);
    let (from, to) = match (
        figure("from").and_then(from_ms),
        figure("to").and_then(from_ms),
    ) {
        (Some(from), Some(to)) => (from, to),
        _ => (a.period_start, a.period_start + time::Duration::hours(1)),
    };
    let start = format::datetime(from);
    let start = start.strip_suffix(" UTC").unwrap_or(&start);
    let to = to.to_offset(time::UtcOffset::UTC);
    format!("{start}–{:02}:{:02} UTC", to.hour(), to.minute())
}

/// The figures that crossed the rule, in words.
fn figures_text(a: &Alert) -> String {
    let figure = |name: &str| a.detail.get(name).and_then(Value::as_i64).unwrap_or(0);
    match a.kind {
        AlertKind::ErrorRate => format!(
            "{} of {} calls refused or failed ({:.1} %; alert at {:.1} %)",
            figure("errors"),
            figure("requests"),
            a.value * 100.0,
            a.threshold * 100.0
        ),
        AlertKind::RateLimited => format!(
            "{} refusals among {} calls (alert at {})",
            figure("rate_limited"),
            figure("requests"),
            a.threshold
        ),
        AlertKind::TrafficSpike => format!(
            "{} calls, {:.1}× the mean of the 7 days before (alert at {}×)",
            figure("requests"),
            a.value,
            a.threshold
        ),
        AlertKind::FailedIp => format!(
            "{} refused or failed calls (alert at {})",
            a.value, a.threshold
        ),
    }
}

/// The rules in the order of [`AlertKind::ALL`]: the key rules first, the IP rule last.
fn in_kind_order(mut rules: Vec<AlertRule>) -> Vec<AlertRule> {
    rules.sort_by_key(|r| AlertKind::ALL.iter().position(|k| *k == r.kind));
    rules
}

#[component]
pub fn AlertsAdminPage() -> impl IntoView {
    let user = match signed_in_admin() {
        Ok(user) => user,
        Err(instead) => return instead,
    };
    let query = use_query_map().get_untracked();
    let page = page_param(&query);
    let saved = query.get("saved").and_then(|k| AlertKind::parse(&k));
    let rules = Resource::new(|| (), |_| alert_rules());
    let alerts = Resource::new(move || page, alerts_page);
    let update = ServerAction::<UpdateAlertRule>::new();
    let error = action_error(update.value().get_untracked());
    // An error no rule's form claims (e.g. signed out meanwhile) goes at the top.
    let general = error
        .clone()
        .filter(|e| !AlertKind::ALL.into_iter().any(|k| is_rule_error(k, e)));
    view! {
        <Title text="Usage alerts"/>
        <Shell user=Some(user)>
            <PageHeader title="Usage alerts" subtitle="Rules judged once a minute over complete minutes of usage. An alert is raised once per subject and period and notifies the key's owner (client IPs: every admin).".to_string()>
                <a class="btn btn-secondary" href="/admin">"Users"</a>
                <a class="btn btn-secondary" href="/notifications">"Your notifications"</a>
            </PageHeader>
            {saved.map(|k| view! {
                <div class="alert alert-success" role="status">
                    {format!("Rule “{}” saved. It applies from the next evaluation, within a minute.", k.label())}
                </div>
            })}
            <FormError error=general/>
            <section aria-labelledby="rules-heading" class="stack">
                <h2 id="rules-heading">"Rules"</h2>
                <Suspense fallback=|| view! { <p class="muted">"Loading rules…"</p> }>
                    {move || rules.get().map(|result| match result {
                        Ok(rules) => view! {
                            <div class="grid">
                                {in_kind_order(rules).into_iter().map(|rule| {
                                    let error = error.clone().filter(|e| is_rule_error(rule.kind, e));
                                    view! { <RuleForm rule=rule action=update error=error/> }
                                }).collect_view()}
                            </div>
                        }.into_any(),
                        Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                    })}
                </Suspense>
            </section>
            <section class="card" aria-labelledby="recent-alerts">
                <h2 id="recent-alerts">"Recent alerts"</h2>
                <Suspense fallback=|| view! { <p class="muted">"Loading alerts…"</p> }>
                    {move || alerts.get().map(|result| match result {
                        Ok(list) => view! { <AlertTable list=list/> }.into_any(),
                        Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                    })}
                </Suspense>
            </section>
        </Shell>
    }
    .into_any()
}

/// A number field of a rule's form, with its hint and, after a refused save, its error.
#[component]
fn NumberField(
    kind: AlertKind,
    name: &'static str,
    label: &'static str,
    value: String,
    hint: String,
    min: &'static str,
    max: &'static str,
    step: &'static str,
    error: Option<AppError>,
) -> impl IntoView {
    let id = format!("rule-{}-{name}", kind.as_str());
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let message = error.and_then(|e| {
        let field = format!("body.{name}");
        e.errors
            .into_iter()
            .find(|f| f.field == field)
            .map(|f| format!("{} {}", field_label(&f.field), f.message))
    });
    let described = if message.is_some() {
        format!("{hint_id} {error_id}")
    } else {
        hint_id.clone()
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id name=name type="number" required min=min max=max step=step value=value
                aria-describedby=described aria-invalid=message.is_some().then_some("true")/>
            <p class="hint" id=hint_id>{hint}</p>
            {message.map(|m| view! { <p class="field-error" id=error_id>{m}</p> })}
        </div>
    }
}

#[component]
fn RuleForm(
    rule: AlertRule,
    action: ServerAction<UpdateAlertRule>,
    error: Option<AppError>,
) -> impl IntoView {
    let kind = rule.kind;
    let k = kind.as_str();
    let (min, max) = threshold_bounds(kind);
    let changed = if rule.updated_at.unix_timestamp() == 0 {
        "Default settings, never changed.".to_string()
    } else {
        format!("Last changed {}.", format::datetime(rule.updated_at))
    };
    let summary = error.clone().map(|e| {
        let detail = e
            .detail
            .strip_prefix(&crate::app::server_fns::alerts::rule_error_prefix(kind))
            .unwrap_or(&e.detail)
            .to_string();
        view! {
            <div class="alert alert-error" role="alert">
                <p>{format!("Not saved. {detail}")}</p>
            </div>
        }
    });
    view! {
        <section class="card" id=format!("rule-{k}") aria-labelledby=format!("rule-{k}-title")>
            <h3 id=format!("rule-{k}-title")>{kind.label()}" "{enabled_badge(rule.enabled)}</h3>
            {summary}
            <ActionForm action=action attr:class="form">
                <input type="hidden" name="kind" value=k/>
                <div class="field">
                    <label>
                        <input name="enabled" type="checkbox" value="on" checked=rule.enabled/>
                        " Enabled"
                    </label>
                </div>
                <NumberField kind=kind name="threshold" label="Threshold" value=rule.threshold.to_string()
                    hint=kind.threshold_hint().to_string() min=min max=max step="any" error=error.clone()/>
                {if kind.has_window() {
                    view! {
                        <NumberField kind=kind name="window_minutes" label="Window (minutes)" value=rule.window_minutes.to_string()
                            hint="The span judged, 1 to 1440 minutes, ending at the last complete minute.".to_string()
                            min="1" max="1440" step="1" error=error.clone()/>
                    }.into_any()
                } else {
                    view! { <p class="hint">"Judged over each clock hour (UTC), so far."</p> }.into_any()
                }}
                {kind.has_min_requests().then(|| view! {
                    <NumberField kind=kind name="min_requests" label="Minimum calls" value=rule.min_requests.to_string()
                        hint="Keys with fewer calls in the window are not judged.".to_string()
                        min="0" max="1000000000" step="1" error=error.clone()/>
                })}
                <div class="form-actions">
                    <button class="btn btn-primary" type="submit">"Save"</button>
                    <span class="muted">{changed}</span>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn AlertTable(list: AlertPage) -> impl IntoView {
    if list.items.is_empty() {
        return if list.total > 0 {
            view! {
                <div class="empty-state">
                    <h3>"Nothing on this page"</h3>
                    <a class="btn btn-secondary" href="/admin/alerts">"First page"</a>
                </div>
            }
            .into_any()
        } else {
            view! {
                <div class="empty-state">
                    <h3>"No alerts yet"</h3>
                    <p>"An alert is raised when a key's calls, or a client IP's failed calls, cross a rule above; it notifies the key's owner, or every admin for a client IP."</p>
                </div>
            }
            .into_any()
        };
    }
    let pages = (list.total + list.per_page - 1) / list.per_page;
    let link = |page: i64| format!("/admin/alerts?page={page}#recent-alerts");
    let prev = (list.page > 1).then(|| link(list.page - 1));
    let next = (list.page < pages).then(|| link(list.page + 1));
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Kind"</th><th scope="col">"Subject"</th><th scope="col">"Period"</th>
                        <th scope="col">"Figures"</th><th scope="col">"Raised at"</th>
                    </tr>
                </thead>
                <tbody>
                    {list.items.into_iter().map(|a| {
                        let subject = match a.key_id {
                            Some(id) if a.subject_type == "api_key" => {
                                view! { <a href=format!("/keys/{id}")>{format!("Key {id}")}</a> }.into_any()
                            }
                            _ => view! { <span class="mono">{a.subject.clone()}</span> }.into_any(),
                        };
                        view! {
                            <tr>
                                <td>{short_label(a.kind)}</td>
                                <td>{subject}</td>
                                <td>{period_text(&a)}</td>
                                <td>{figures_text(&a)}</td>
                                <td>{format::datetime(a.created_at)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="row" aria-label="Pagination">
            <span class="muted">{format!("{} alert{} · page {} of {}", list.total, if list.total == 1 { "" } else { "s" }, list.page, pages.max(1))}</span>
            {prev.map(|href| view! { <a class="btn btn-ghost" href=href>"← Previous"</a> })}
            {next.map(|href| view! { <a class="btn btn-ghost" href=href>"Next →"</a> })}
        </nav>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(kind: AlertKind, detail: Value) -> Alert {
        Alert {
            id: 1,
            kind,
            subject_type: "api_key".into(),
            subject: "7".into(),
            key_id: Some(7),
            value: 0.5,
            threshold: 0.25,
            period_start: time::macros::datetime!(2026-11-23 10:00 UTC),
            detail,
            created_at: time::macros::datetime!(2026-11-23 10:16 UTC),
        }
    }

    #[test]
    fn periods_and_figures_read_well() {
        let from = time::macros::datetime!(2026-11-23 10:01 UTC).unix_timestamp() * 1000;
        let a = alert(
            AlertKind::ErrorRate,
            serde_json::json!({"requests": 8, "errors": 4, "from": from, "to": from + 15 * 60_000}),
        );
        assert_eq!(period_text(&a), "2026-11-23 10:01–10:16 UTC");
        assert_eq!(
            figures_text(&a),
            "4 of 8 calls refused or failed (50.0 %; alert at 25.0 %)"
        );
        let ip = Alert {
            value: 51.0,
            threshold: 50.0,
            ..alert(AlertKind::FailedIp, serde_json::json!({"errors": 51}))
        };
        assert_eq!(period_text(&ip), "2026-11-23 10:00–11:00 UTC");
        assert_eq!(
            figures_text(&ip),
            "51 refused or failed calls (alert at 50)"
        );
    }
}
