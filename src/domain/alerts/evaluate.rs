//! Judging the alert rules at one instant over the rollups (stored, plus this process's
//! pending rows): keys' error rate, rate-limit refusals and traffic spikes over complete
//! minutes, and client IPs' failed calls in the current clock hour.

use crate::app::alert_types::AlertKind;
use crate::db::alerts::{KeyWindow, NewAlert, RuleRow};
use crate::db::rollups::RollupFilter;
use crate::db::{self, Db};
use crate::domain::analytics::pending::PendingRollups;
use crate::domain::analytics::rollup::{Granularity, is_failure};
use crate::domain::{db_failure, from_millis};
use crate::error::AppResult;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;
/// What a traffic spike is measured against.
pub const BASELINE_MS: i64 = 7 * 24 * HOUR_MS;

/// Whether a key's window crosses an error-rate rule: the share of failed calls, when it
/// does.
pub fn error_rate_crossed(rule: &RuleRow, w: &KeyWindow) -> Option<f64> {
    if w.requests == 0 || w.requests < rule.min_requests {
        return None;
    }
    let rate = w.errors as f64 / w.requests as f64;
    (rate >= rule.threshold).then_some(rate)
}

/// Whether a key's rate-limit refusals cross the rule: their count, when they do.
pub fn rate_limited_crossed(rule: &RuleRow, w: &KeyWindow) -> Option<f64> {
    let n = w.rate_limited as f64;
    (w.rate_limited > 0 && n >= rule.threshold).then_some(n)
}

/// Whether `requests` in the window are a spike against `baseline` calls over the
/// [`BASELINE_MS`] before: the factor over the baseline's mean for such a window, when they
/// are. A key without calls in the baseline has no mean to compare with.
pub fn spike_crossed(rule: &RuleRow, requests: i64, baseline: i64) -> Option<f64> {
    if baseline <= 0 || requests < rule.min_requests.max(1) {
        return None;
    }
    let window_ms = rule.window_minutes * MINUTE_MS;
    let mean = baseline as f64 * window_ms as f64 / BASELINE_MS as f64;
    let factor = requests as f64 / mean;
    (factor >= rule.threshold).then_some(factor)
}

/// The first instant of the period an alert of a `period_ms` rule at `to_ms` belongs to:
/// a subject is alerted at most once per period.
fn period_start(to_ms: i64, period_ms: i64) -> i64 {
    to_ms - to_ms.rem_euclid(period_ms.max(MINUTE_MS))
}

fn hhmm(ms: i64) -> String {
    let t = from_millis(ms);
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// Each key's calls in `[from_ms, to_ms)`: stored minute rows plus pending ones.
async fn key_windows(
    db: &Db,
    pending: &PendingRollups,
    from_ms: i64,
    to_ms: i64,
) -> AppResult<Vec<KeyWindow>> {
    let _reading = pending.reading().await;
    let mut by_key: BTreeMap<i64, KeyWindow> = db::alerts::key_windows(db, from_ms, to_ms)
        .await
        .map_err(db_failure)?
        .into_iter()
        .map(|w| (w.key_id, w))
        .collect();
    let all = RollupFilter::default();
    for (k, s) in pending.rows(Granularity::Minute, from_ms, to_ms, &all) {
        if k.key_id <= 0 {
            continue;
        }
        let w = by_key.entry(k.key_id).or_insert_with(|| KeyWindow {
            key_id: k.key_id,
            owner_user_id: k.owner_user_id,
            ..KeyWindow::default()
        });
        w.requests += s.requests;
        if is_failure(&k.code, k.status_class) {
            w.errors += s.requests;
        }
        if k.code == "RATE_LIMIT_EXCEEDED" {
            w.rate_limited += s.requests;
        }
    }
    Ok(by_key.into_values().collect())
}

/// Client IPs' refused or failed calls in the clock hour starting at `hour_ms`, stored plus
/// pending, for those at `threshold` or more.
async fn failing_ips(
    db: &Db,
    pending: &PendingRollups,
    hour_ms: i64,
    threshold: i64,
) -> AppResult<Vec<(String, i64)>> {
    let _reading = pending.reading().await;
    let mut live: HashMap<String, i64> = HashMap::new();
    let all = RollupFilter::default();
    for (k, s) in pending.ip_rows(Granularity::Hour, hour_ms, hour_ms + HOUR_MS, &all) {
        if !k.ip.is_empty() {
            *live.entry(k.ip).or_default() += s.errors;
        }
    }
    // An address can reach the threshold with pending calls on top of stored ones: read
    // every stored address that could.
    let most_pending = live.values().copied().max().unwrap_or(0);
    let stored = db::alerts::failing_ips(
        db,
        hour_ms,
        hour_ms + HOUR_MS,
        (threshold - most_pending).max(1),
    )
    .await
    .map_err(db_failure)?;
    for (ip, n) in stored {
        *live.entry(ip).or_default() += n;
    }
    let mut out: Vec<(String, i64)> = live.into_iter().filter(|(_, n)| *n >= threshold).collect();
    out.sort();
    Ok(out)
}

/// An alert about a key, for its owner.
struct KeyAlert {
    kind: AlertKind,
    window: KeyWindow,
    value: f64,
    title: String,
    body: String,
    detail: serde_json::Value,
}

/// Judges every enabled rule at `now_ms` and raises what crosses; returns how many alerts were
/// raised (an alert already raised for its period is not raised again).
pub async fn evaluate(db: &Db, pending: &PendingRollups, now_ms: i64) -> AppResult<usize> {
    let rules: HashMap<String, RuleRow> = db::alerts::rules(db)
        .await
        .map_err(db_failure)?
        .into_iter()
        .filter(|r| r.enabled)
        .map(|r| (r.kind.clone(), r))
        .collect();
    // Complete minutes only: the current one is still filling.
    let to = Granularity::Minute.bucket_start(now_ms);
    let mut raised = 0;
    let mut key_alerts: Vec<(RuleRow, KeyAlert)> = Vec::new();
    // Rules with the same window judge the same sums: read each window once (with 10,000
    // active keys a 15-minute window is 150,000 minute rows).
    let mut by_window: HashMap<i64, Vec<KeyWindow>> = HashMap::new();
    for kind in [
        AlertKind::ErrorRate,
        AlertKind::RateLimited,
        AlertKind::TrafficSpike,
    ] {
        let Some(rule) = rules.get(kind.as_str()) else {
            continue;
        };
        let window_ms = rule.window_minutes.max(1) * MINUTE_MS;
        let from = to - window_ms;
        if let Entry::Vacant(e) = by_window.entry(window_ms) {
            e.insert(key_windows(db, pending, from, to).await?);
        }
        let windows = by_window.get(&window_ms).cloned().unwrap_or_default();
        let span = format!("{}–{} UTC", hhmm(from), hhmm(to));
        match kind {
            AlertKind::ErrorRate => {
                for w in windows {
                    if let Some(rate) = error_rate_crossed(rule, &w) {
                        key_alerts.push((rule.clone(), KeyAlert {
                            kind,
                            value: rate,
                            title: "High error rate".into(),
                            body: format!(
                                "{} of {} calls ({:.1} %) were refused or failed, {span} (alert at {:.1} %).",
                                w.errors, w.requests, rate * 100.0, rule.threshold * 100.0
                            ),
                            detail: serde_json::json!({"requests": w.requests, "errors": w.errors, "from": from, "to": to}),
                            window: w,
                        }));
                    }
                }
            }
            AlertKind::RateLimited => {
                for w in windows {
                    if let Some(n) = rate_limited_crossed(rule, &w) {
                        key_alerts.push((rule.clone(), KeyAlert {
                            kind,
                            value: n,
                            title: "Rate limit hit repeatedly".into(),
                            body: format!(
                                "{} calls were refused with RATE_LIMIT_EXCEEDED, {span} (alert at {}).",
                                w.rate_limited, rule.threshold
                            ),
                            detail: serde_json::json!({"requests": w.requests, "rate_limited": w.rate_limited, "from": from, "to": to}),
                            window: w,
                        }));
                    }
                }
            }
            AlertKind::TrafficSpike => {
                let busy: Vec<KeyWindow> = windows
                    .into_iter()
                    .filter(|w| w.requests >= rule.min_requests.max(1))
                    .collect();
                let base_to = Granularity::Hour.bucket_start(from);
                let ids: Vec<i64> = busy.iter().map(|w| w.key_id).collect();
                let baselines: HashMap<i64, i64> =
                    db::alerts::key_hours(db, base_to - BASELINE_MS, base_to, &ids)
                        .await
                        .map_err(db_failure)?
                        .into_iter()
                        .collect();
                for w in busy {
                    let baseline = baselines.get(&w.key_id).copied().unwrap_or(0);
                    if let Some(factor) = spike_crossed(rule, w.requests, baseline) {
                        key_alerts.push((rule.clone(), KeyAlert {
                            kind,
                            value: factor,
                            title: "Traffic spike".into(),
                            body: format!(
                                "{} calls {span}: {factor:.1} times the key's mean for {} minutes over the 7 days before (alert at {}×).",
                                w.requests, rule.window_minutes, rule.threshold
                            ),
                            detail: serde_json::json!({"requests": w.requests, "baseline_requests": baseline, "from": from, "to": to}),
                            window: w,
                        }));
                    }
                }
            }
            AlertKind::FailedIp => {}
        }
    }
    let ids: Vec<i64> = key_alerts.iter().map(|(_, a)| a.window.key_id).collect();
    let mut names: HashMap<i64, String> = HashMap::new();
    for chunk in ids.chunks(100) {
        names.extend(db::keys::names(db, chunk).await.map_err(db_failure)?);
    }
    for (rule, a) in key_alerts {
        let key_id = a.window.key_id;
        let name = names
            .get(&key_id)
            .cloned()
            .unwrap_or_else(|| format!("#{key_id}"));
        let subject = key_id.to_string();
        let detail = a.detail.to_string();
        let title = format!("{} on key “{name}”", a.title);
        let link = format!("/usage?key={key_id}&range=24h");
        let owner = [a.window.owner_user_id];
        let new = NewAlert {
            kind: a.kind.as_str(),
            subject_type: "api_key",
            subject: &subject,
            key_id: Some(key_id),
            owner_user_id: Some(a.window.owner_user_id),
            period_start: period_start(to, rule.window_minutes * MINUTE_MS),
            value: a.value,
            threshold: rule.threshold,
            detail: &detail,
            title: &title,
            body: &a.body,
            link: &link,
            notify: if a.window.owner_user_id > 0 {
                &owner
            } else {
                &[]
            },
            now_ms,
        };
        if db::alerts::raise(db, &new)
            .await
            .map_err(db_failure)?
            .is_some()
        {
            raised += 1;
        }
    }
    if let Some(rule) = rules.get(AlertKind::FailedIp.as_str()) {
        let hour = Granularity::Hour.bucket_start(now_ms);
        let threshold = rule.threshold.ceil() as i64;
        let ips = failing_ips(db, pending, hour, threshold).await?;
        let admins = if ips.is_empty() {
            Vec::new()
        } else {
            db::alerts::admin_ids(db).await.map_err(db_failure)?
        };
        for (ip, n) in ips {
            let detail = serde_json::json!({"errors": n, "hour": hour}).to_string();
            let title = format!("Many failed calls from {ip}");
            let body = format!(
                "{n} calls from {ip} were refused or failed since {} UTC (alert at {}).",
                hhmm(hour),
                rule.threshold
            );
            let new = NewAlert {
                kind: AlertKind::FailedIp.as_str(),
                subject_type: "ip",
                subject: &ip,
                key_id: None,
                owner_user_id: None,
                period_start: hour,
                value: n as f64,
                threshold: rule.threshold,
                detail: &detail,
                title: &title,
                body: &body,
                link: "/usage?range=1h",
                notify: &admins,
                now_ms,
            };
            if db::alerts::raise(db, &new)
                .await
                .map_err(db_failure)?
                .is_some()
            {
                raised += 1;
            }
        }
    }
    Ok(raised)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(threshold: f64, window_minutes: i64, min_requests: i64) -> RuleRow {
        RuleRow {
            kind: String::new(),
            enabled: true,
            threshold,
            window_minutes,
            min_requests,
            updated_at: 0,
        }
    }

    fn window(requests: i64, errors: i64, rate_limited: i64) -> KeyWindow {
        KeyWindow {
            key_id: 1,
            owner_user_id: 1,
            requests,
            errors,
            rate_limited,
        }
    }

    #[test]
    fn error_rate_fires_at_the_threshold_and_not_below_or_on_too_few_calls() {
        let r = rule(0.25, 15, 20);
        assert_eq!(error_rate_crossed(&r, &window(20, 5, 0)), Some(0.25));
        assert_eq!(
            error_rate_crossed(&r, &window(21, 5, 0)),
            None,
            "just under"
        );
        assert_eq!(
            error_rate_crossed(&r, &window(19, 19, 0)),
            None,
            "too few calls"
        );
        assert_eq!(
            error_rate_crossed(&rule(0.25, 15, 0), &window(0, 0, 0)),
            None
        );
    }

    #[test]
    fn rate_limit_refusals_fire_at_the_count() {
        let r = rule(100.0, 15, 0);
        assert_eq!(
            rate_limited_crossed(&r, &window(500, 100, 100)),
            Some(100.0)
        );
        assert_eq!(rate_limited_crossed(&r, &window(500, 99, 99)), None);
    }

    #[test]
    fn a_spike_is_against_the_mean_of_such_windows_over_seven_days() {
        // 168 calls over 7 days: a mean of 1 an hour. 5 in an hour is 5 times that.
        let r = rule(5.0, 60, 5);
        assert_eq!(spike_crossed(&r, 5, 168), Some(5.0));
        assert_eq!(
            spike_crossed(&r, 4, 168),
            None,
            "under the minimum and the factor"
        );
        assert_eq!(
            spike_crossed(&rule(5.0, 60, 0), 4, 168),
            None,
            "4 times the mean"
        );
        assert_eq!(spike_crossed(&r, 1_000, 0), None, "no baseline");
        // A 15-minute window: the mean of such a window is a quarter of the hour's.
        assert_eq!(spike_crossed(&rule(4.0, 15, 1), 1, 168), Some(4.0));
    }

    #[test]
    fn periods_align_so_a_subject_is_alerted_once_per_period() {
        let fifteen = 15 * MINUTE_MS;
        assert_eq!(
            period_start(10 * HOUR_MS + 7 * MINUTE_MS, fifteen),
            10 * HOUR_MS
        );
        assert_eq!(
            period_start(10 * HOUR_MS + 14 * MINUTE_MS, fifteen),
            10 * HOUR_MS
        );
        assert_eq!(
            period_start(10 * HOUR_MS + 15 * MINUTE_MS, fifteen),
            10 * HOUR_MS + fifteen
        );
    }
}
