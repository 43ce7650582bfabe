//! `GET /metrics`: who may read it, that it parses as Prometheus text, and that its counters
//! move with traffic.

use crate::apis::admin_token;
use crate::harness::*;
use prometheus_parse::{Scrape, Value};
use serde_json::json;

const SCRAPER_TOKEN: &str = "scraper-token-0123456789abcdef";

async fn scrape(api: &Api, token: &str) -> (String, Scrape) {
    let res = api.get("/metrics", Some(token)).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = res.text().await.unwrap();
    let parsed = Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    (text, parsed)
}

/// Every sample line strictly as the text format says: name, optional labels, a float.
fn assert_strict_lines(text: &str) {
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line.rsplit_once(' ').expect(line);
        assert!(
            value == "+Inf" || value.parse::<f64>().is_ok(),
            "value in {line}"
        );
        let name = series.split('{').next().unwrap();
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "name in {line}"
        );
        if let Some(labels) = series.strip_prefix(name) {
            assert!(
                labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')),
                "labels in {line}"
            );
        }
        assert!(
            text.contains(&format!(
                "# TYPE {}",
                name.trim_end_matches("_bucket")
                    .trim_end_matches("_sum")
                    .trim_end_matches("_count")
            )) || text.contains(&format!("# TYPE {name} ")),
            "TYPE for {line}"
        );
    }
}

fn value(s: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    s.samples
        .iter()
        .filter(|x| x.metric == metric)
        .filter(|x| labels.iter().all(|(k, v)| x.labels.get(k) == Some(v)))
        .map(|x| match &x.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(b) => b.last().map(|c| c.count).unwrap_or(0.0),
            Value::Summary(_) => 0.0,
        })
        .sum()
}

#[tokio::test]
async fn metrics_are_for_admins_and_the_scraper_token() {
    let server = TestServer::start_with(&[
        ("KEYPORT_ADMIN_EMAIL", ADMIN_EMAIL),
        ("KEYPORT_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("KEYPORT_METRICS_TOKEN", SCRAPER_TOKEN),
    ])
    .await;
    let api = server.api();
    assert_eq!(api.get("/metrics", None).await.status(), 401);
    assert_eq!(
        api.get("/metrics", Some("scraper-token-but-not-this-one"))
            .await
            .status(),
        401
    );
    let alice = user_token(&api, "alice@example.com").await;
    let res = api.get("/metrics", Some(&alice)).await;
    assert_eq!(res.status(), 403);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error_code"], "FORBIDDEN");
    scrape(&api, SCRAPER_TOKEN).await;
    scrape(&api, &admin_token(&api).await).await;
}

#[tokio::test]
async fn metrics_parse_as_prometheus_text_and_move_with_traffic() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    let alice = user_token(&api, "alice@example.com").await;
    let key = create(
        &api,
        &alice,
        json!({"name": "m", "rate_limits": [{"name": "default", "limit": 2, "window": "minute"}]}),
    )
    .await;
    let plaintext = key["key"].as_str().unwrap();
    let (_, before) = scrape(&api, &admin).await;
    for _ in 0..3 {
        code_of(&api, plaintext).await;
    }
    code_of(&api, "kp_nope").await;
    // Probes of paths no route has add no series of their own.
    for i in 0..5 {
        api.get(&format!("/api/v1/no-such-thing-{i}"), None).await;
    }
    server.state.usage.sync().await;
    let (text, after) = scrape(&api, &admin).await;
    assert_strict_lines(&text);

    let verify = [("route", "/api/v1/keys/verify"), ("method", "POST")];
    let moved = |metric: &str, labels: &[(&str, &str)]| {
        value(&after, metric, labels) - value(&before, metric, labels)
    };
    assert_eq!(
        moved(
            "keyport_http_requests_total",
            &[verify[0], verify[1], ("status", "200")]
        ),
        4.0
    );
    assert_eq!(moved("keyport_http_request_duration_seconds", &verify), 4.0);
    let code = |c| [("source", "verify"), ("code", c)];
    assert_eq!(moved("keyport_verifications_total", &code("VALID")), 2.0);
    assert_eq!(
        moved("keyport_verifications_total", &code("RATE_LIMIT_EXCEEDED")),
        1.0
    );
    assert_eq!(
        moved("keyport_verifications_total", &code("API_KEY_INVALID")),
        1.0
    );
    assert_eq!(moved("keyport_usage_events_recorded_total", &[]), 4.0);
    assert_eq!(moved("keyport_usage_events_written_total", &[]), 4.0);
    assert_eq!(value(&after, "keyport_usage_queue_depth", &[]), 0.0);
    assert!(
        !text.contains("no-such-thing"),
        "raw paths never become labels"
    );
    assert!(text.contains("route=\"/api/{*rest}\""));
    assert!(value(&after, "keyport_db_pool_max_connections", &[]) > 0.0);
    assert!(value(&after, "keyport_uptime_seconds", &[]) > 0.0);
    assert!(value(&after, "process_resident_memory_bytes", &[]) > 1e6);
    assert!(text.contains("# TYPE keyport_job_runs_total counter"));
    // Buckets are cumulative and end with +Inf = count.
    let hist = after
        .samples
        .iter()
        .find(|s| {
            s.metric == "keyport_http_request_duration_seconds"
                && s.labels.get("route") == Some("/api/v1/keys/verify")
        })
        .unwrap();
    let Value::Histogram(buckets) = &hist.value else {
        panic!("histogram")
    };
    assert!(buckets.windows(2).all(|w| w[0].count <= w[1].count));
    assert!(buckets.last().unwrap().less_than.is_infinite());
}
