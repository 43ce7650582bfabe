//! Sending one attempt of a delivery and recording it.
//!
//! Retry schedule (Standard Webhooks / Svix): the first attempt at once, then after 5 s,
//! 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (each ±10 % jitter): 8 attempts over about
//! 27.5 hours, then the delivery has failed. A 2xx answer is success; 410 Gone turns the
//! endpoint off at once; an endpoint whose deliveries have all failed for 5 days is turned
//! off. Either way its owner gets a notice.

use super::{signing, ssrf};
use crate::db::{
    self,
    webhooks::{AttemptRecord, DeliveryRow, EndpointHealth, EndpointRow},
};
use crate::domain::{Timestamp, to_millis};
use crate::server::state::AppState;
use reqwest::Url;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub const MAX_ATTEMPTS: i64 = 8;
/// Waits after the 1st … 7th failed attempt.
const SCHEDULE_MS: [i64; 7] = [
    5_000,
    5 * 60_000,
    30 * 60_000,
    2 * 3_600_000,
    5 * 3_600_000,
    10 * 3_600_000,
    10 * 3_600_000,
];
/// The most an attempt waits for the receiver (connecting included).
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How much of the receiver's answer is kept.
pub const RESPONSE_BODY_MAX: usize = 4096;
/// An endpoint failing this long is turned off.
pub const DISABLE_AFTER_MS: i64 = 5 * 24 * 3_600_000;
/// Longer than an attempt can take, so a lease only runs out if its sender died.
const LEASE_MS: i64 = 60_000;
const USER_AGENT: &str = concat!("Keyport-Webhooks/", env!("CARGO_PKG_VERSION"));

/// The wait before the next attempt after `failed_attempts` failures (1 to 7; outside that
/// range the nearest step), scaled by `1 + jitter / 10` with `jitter` in -1..=1 (±10 %).
pub fn retry_delay_ms(failed_attempts: i64, jitter: f64) -> i64 {
    let step = usize::try_from(failed_attempts.clamp(1, 7) - 1).unwrap_or(0);
    let jitter = if jitter.is_finite() {
        jitter.clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let base = SCHEDULE_MS[step] as f64;
    (base * (1.0 + jitter / 10.0)).round() as i64
}

/// What one call of [`deliver`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliverOutcome {
    Succeeded,
    /// Failed; the next attempt is due at `at_ms`.
    Retry {
        at_ms: i64,
        error: String,
    },
    /// Failed for good (attempts spent, 410, or the endpoint is off or gone).
    Failed {
        error: String,
    },
    /// Nothing to do now: done already or gone (`retry_at` None), or not due yet or in
    /// another sender's hands (`retry_at`: when to look again).
    Skipped {
        retry_at: Option<i64>,
    },
}

/// Sends one attempt of delivery `delivery_id` if it is due at `now`, and records it.
pub async fn deliver(state: &AppState, delivery_id: i64, now: Timestamp) -> DeliverOutcome {
    match try_deliver(state, delivery_id, now).await {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::error!(delivery_id, error = %e, "webhook delivery could not be recorded");
            DeliverOutcome::Retry {
                at_ms: to_millis(now) + LEASE_MS,
                error: "database error".into(),
            }
        }
    }
}

/// What came of sending.
struct Sent {
    status: Option<i64>,
    body: String,
    error: Option<String>,
}

async fn try_deliver(
    state: &AppState,
    delivery_id: i64,
    now: Timestamp,
) -> Result<DeliverOutcome, sqlx::Error> {
    let db = &state.db;
    let now_ms = to_millis(now);
    let Some(delivery) = db::webhooks::claim(db, delivery_id, now_ms, now_ms + LEASE_MS).await?
    else {
        let retry_at = db::webhooks::get_delivery(db, delivery_id)
            .await?
            .filter(|d| d.status == "pending")
            .map(|d| match d.next_attempt_at {
                Some(at) if at > now_ms => at,
                _ => now_ms + LEASE_MS,
            });
        return Ok(DeliverOutcome::Skipped { retry_at });
    };
    let endpoint = match db::webhooks::get_endpoint(db, delivery.endpoint_id).await? {
        Some(e) if e.enabled => e,
        _ => {
            let error = "the endpoint is disabled".to_string();
            db::webhooks::abandon(db, delivery_id, now_ms, &error).await?;
            return Ok(DeliverOutcome::Failed { error });
        }
    };
    let attempt = db::webhooks::attempt_total(db, delivery_id).await? + 1;
    let timestamp = now.unix_timestamp();
    let keys = super::signing_keys(state, &endpoint, now_ms);
    let mut log_headers = BTreeMap::from([
        ("content-type".to_string(), "application/json".to_string()),
        ("user-agent".to_string(), USER_AGENT.to_string()),
        ("webhook-id".to_string(), delivery.msg_id.clone()),
        ("webhook-timestamp".to_string(), timestamp.to_string()),
        ("webhook-signature".to_string(), "(redacted)".to_string()),
    ]);
    let custom: BTreeMap<String, String> =
        serde_json::from_str(&endpoint.headers).unwrap_or_default();
    for name in custom.keys() {
        // Custom headers often carry credentials: the log names them only.
        log_headers.insert(name.clone(), "(redacted)".to_string());
    }
    let started = Instant::now();
    let sent = if keys.is_empty() {
        Sent {
            status: None,
            body: String::new(),
            error: Some("the signing secret does not open (was the server secret changed?)".into()),
        }
    } else {
        let signature = signing::signature_header(
            &keys,
            &delivery.msg_id,
            timestamp,
            delivery.payload.as_bytes(),
        );
        send(state, &endpoint, &delivery, timestamp, &signature, &custom).await
    };
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let success = sent.status.is_some_and(|s| (200..300).contains(&s));
    let gone = sent.status == Some(410);
    let error_text = sent.error.clone().unwrap_or_else(|| match sent.status {
        Some(s) => format!("the endpoint answered {s}"),
        None => "no answer".into(),
    });
    let failing_too_long = endpoint
        .failing_since
        .is_some_and(|since| now_ms - since >= DISABLE_AFTER_MS);
    let link = format!("/webhooks/{}", endpoint.id);
    let (title, body_gone, body_failing) = (
        "Webhook endpoint disabled",
        format!("Keyport turned off {}: it answered 410 Gone.", endpoint.url),
        format!(
            "Keyport turned off {}: every delivery to it failed for 5 days.",
            endpoint.url
        ),
    );
    let (status, next, outcome, health) = if success {
        (
            "succeeded",
            None,
            DeliverOutcome::Succeeded,
            EndpointHealth::Healthy,
        )
    } else if gone {
        (
            "failed",
            None,
            DeliverOutcome::Failed {
                error: error_text.clone(),
            },
            EndpointHealth::Disable {
                reason: "gone",
                owner: endpoint.user_id,
                title,
                body: &body_gone,
                link: &link,
            },
        )
    } else {
        let health = if failing_too_long {
            EndpointHealth::Disable {
                reason: "failing",
                owner: endpoint.user_id,
                title,
                body: &body_failing,
                link: &link,
            }
        } else {
            EndpointHealth::Failing
        };
        if delivery.attempts >= MAX_ATTEMPTS || failing_too_long {
            (
                "failed",
                None,
                DeliverOutcome::Failed {
                    error: error_text.clone(),
                },
                health,
            )
        } else {
            let jitter = rand::random::<f64>() * 2.0 - 1.0;
            let at_ms = now_ms + retry_delay_ms(delivery.attempts, jitter);
            (
                "pending",
                Some(at_ms),
                DeliverOutcome::Retry {
                    at_ms,
                    error: error_text.clone(),
                },
                health,
            )
        }
    };
    let request_headers = serde_json::to_string(&log_headers).unwrap_or_else(|_| "{}".into());
    db::webhooks::record_attempt(
        db,
        &AttemptRecord {
            delivery_id,
            endpoint_id: endpoint.id,
            attempt,
            request_headers: &request_headers,
            response_status: sent.status,
            response_body: &sent.body,
            error: (!success).then_some(error_text.as_str()),
            duration_ms,
            now_ms,
            status,
            next_attempt_at: next,
            endpoint: health,
        },
    )
    .await?;
    tracing::info!(delivery_id, webhook_id = endpoint.id, attempt, status = ?sent.status,
        outcome = ?outcome, "webhook attempt");
    Ok(outcome)
}

/// One HTTP request to the endpoint, to an address checked just now.
async fn send(
    state: &AppState,
    endpoint: &EndpointRow,
    delivery: &DeliveryRow,
    timestamp: i64,
    signature: &str,
    custom: &BTreeMap<String, String>,
) -> Sent {
    let failed = |error: String| Sent {
        status: None,
        body: String::new(),
        error: Some(error),
    };
    let Ok(url) = Url::parse(&endpoint.url) else {
        return failed("the URL does not parse".into());
    };
    let Some(host) = url
        .host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string())
    else {
        return failed("the URL has no host".into());
    };
    let Some(port) = url.port_or_known_default() else {
        return failed("the URL has no port".into());
    };
    let addrs = match ssrf::resolve(&host, port, state.config.webhook_allow_private).await {
        Ok(a) => a,
        Err(e) => return failed(format!("refused: {e}")),
    };
    // Connect only to the addresses just checked (a second lookup could answer otherwise).
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .resolve_to_addrs(&host, &addrs)
        .no_proxy()
        .build()
    {
        Ok(c) => c,
        Err(_) => return failed("the HTTP client could not be built".into()),
    };
    let mut req = client
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", USER_AGENT)
        .header("webhook-id", &delivery.msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature);
    for (name, value) in custom {
        req = req.header(name.as_str(), value.as_str());
    }
    let mut res = match req.body(delivery.payload.clone()).send().await {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return failed("timed out after 10 s".into()),
        Err(e) if e.is_connect() => return failed("could not connect".into()),
        Err(_) => return failed("the request failed".into()),
    };
    let status = i64::from(res.status().as_u16());
    let mut body = Vec::new();
    // Read no more than is kept: a receiver may answer with gigabytes.
    while body.len() < RESPONSE_BODY_MAX {
        match res.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(RESPONSE_BODY_MAX);
    let mut text = String::from_utf8_lossy(&body).into_owned();
    // A cut in the middle of a character shows as a replacement mark; drop it.
    if text.ends_with('\u{fffd}') && body.len() == RESPONSE_BODY_MAX {
        text.pop();
    }
    Sent {
        status: Some(status),
        body: text,
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1000;
    const M: i64 = 60 * S;
    const H: i64 = 60 * M;

    #[test]
    fn the_schedule_is_standard_webhooks() {
        let delays: Vec<i64> = (1..=7).map(|a| retry_delay_ms(a, 0.0)).collect();
        assert_eq!(delays, [5 * S, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 10 * H]);
        assert_eq!(
            retry_delay_ms(0, 0.0),
            5 * S,
            "below the range: the first step"
        );
        assert_eq!(retry_delay_ms(99, 0.0), 10 * H, "above it: the last");
        let total: i64 = (1..MAX_ATTEMPTS).map(|a| retry_delay_ms(a, 0.0)).sum();
        assert_eq!(total, 27 * H + 35 * M + 5 * S);
    }

    #[test]
    fn jitter_is_ten_percent_either_way() {
        assert_eq!(retry_delay_ms(2, 1.0), 330 * S);
        assert_eq!(retry_delay_ms(2, -1.0), 270 * S);
        assert_eq!(retry_delay_ms(2, 5.0), 330 * S, "clamped");
        assert_eq!(retry_delay_ms(2, f64::NAN), 5 * M);
        for j in [-1.0, -0.5, 0.0, 0.3, 1.0] {
            let d = retry_delay_ms(4, j);
            assert!((108 * M..=132 * M).contains(&d), "{d}");
        }
    }
}
