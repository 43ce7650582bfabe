//! Live updates of the usage page (`/usage/live`, server-sent events): a signed-in browser
//! gets the page's figures and charts again as new traffic is counted, only for what it may
//! see, and a stopping server ends the streams instead of waiting for them.

use crate::analytics::{alice_and_bob_keys, portal_sign_in};
use crate::harness::*;
use serde_json::{Value, json};
use std::time::Duration;

/// Reads a server-sent event stream an event at a time.
pub struct Events {
    res: reqwest::Response,
    buf: String,
}

impl Events {
    pub async fn open(browser: &Browser, path: &str) -> Events {
        let res = browser.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        Events {
            res,
            buf: String::new(),
        }
    }

    /// The next event as (name, data); keep-alive comments are skipped. None at the end.
    pub async fn next(&mut self) -> Option<(String, String)> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut name, mut data) = (String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if name.is_empty() && data.is_empty() {
                    continue;
                }
                return Some((name, data));
            }
            let chunk = self.res.chunk().await.ok()??;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next `usage` event's data.
    async fn usage(&mut self) -> Value {
        let (name, data) = tokio::time::timeout(Duration::from_secs(30), self.next())
            .await
            .expect("an event within 30 s")
            .expect("the stream is open");
        assert_eq!(name, "usage", "{data}");
        serde_json::from_str(&data).unwrap()
    }

    /// Usage events until one shows `requests` in the range.
    async fn until_requests(&mut self, requests: i64) -> Value {
        loop {
            let update = self.usage().await;
            let seen = update["requests"].as_i64().unwrap();
            assert!(seen <= requests, "counted {seen} of {requests}: {update}");
            if seen == requests {
                return update;
            }
        }
    }
}

fn chart(update: &Value, name: &str) -> Value {
    serde_json::from_str(update["charts"][name].as_str().unwrap()).unwrap()
}

fn series_sum(chart: &Value, series: &str) -> i64 {
    let s = chart["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == series)
        .unwrap_or_else(|| panic!("{series}"));
    s["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_i64)
        .sum()
}

#[tokio::test]
async fn the_usage_page_follows_new_traffic_live_and_stopping_ends_the_stream() {
    let server = TestServer::start().await;
    let api = server.api();
    let (key, bob_key) = alice_and_bob_keys(&api).await;
    let plaintext = key["key"].as_str().unwrap();

    let signed_out = server.browser().get("/usage/live?range=1h").await;
    expect_error(signed_out, 401, "UNAUTHORIZED").await;

    let browser = portal_sign_in(&server, "alice@example.com").await;
    let mut live = Events::open(&browser, "/usage/live?range=1h").await;
    let first = live.usage().await;
    assert_eq!(
        (first["requests"].as_i64(), first["errors"].as_i64()),
        (Some(0), Some(0))
    );

    code_of(&api, plaintext).await;
    code_of(&api, plaintext).await;
    verify_code(&api, json!({"key": plaintext, "scopes": ["write"]})).await; // refused
    code_of(&api, bob_key["key"].as_str().unwrap()).await; // not hers
    let update = live.until_requests(3).await;
    assert_eq!(update["errors"], 1);
    let requests = chart(&update, "requests");
    assert_eq!(series_sum(&requests, "VALID"), 2);
    assert_eq!(series_sum(&requests, "PERMISSION_DENIED"), 1);
    let latency = chart(&update, "latency");
    assert_eq!(latency["series"].as_array().unwrap().len(), 3);

    // Graceful shutdown does not wait for open streams: it ends them.
    tokio::time::timeout(Duration::from_secs(20), server.stop())
        .await
        .expect("the server stops with a live stream open");
    let after = tokio::time::timeout(Duration::from_secs(20), live.next())
        .await
        .expect("the stream ends");
    assert!(after.is_none() || after.as_ref().is_some_and(|(n, _)| n == "usage"));
}

#[tokio::test]
async fn live_updates_of_someone_elses_key_are_refused_and_bad_queries_are_safe() {
    let server = TestServer::start().await;
    let api = server.api();
    let (_, bob_key) = alice_and_bob_keys(&api).await;
    let browser = portal_sign_in(&server, "alice@example.com").await;

    let path = format!("/usage/live?range=1h&key={}", bob_key["id"]);
    let mut live = Events::open(&browser, &path).await;
    let (name, data) = live.next().await.unwrap();
    assert_eq!(name, "usage-error");
    assert!(!data.contains("\"requests\""), "{data}");

    // Hostile or unknown values read as the page reads them: the default range, all her keys.
    for query in [
        "range=%3Cscript%3E&key=abc",
        "range=1h&from=not-a-time",
        "key=99999999999999999999999",
    ] {
        let mut live = Events::open(&browser, &format!("/usage/live?{query}")).await;
        let (name, data) = live.next().await.unwrap();
        assert!(name == "usage" || name == "usage-error", "{query}: {name}");
        assert!(!data.contains("<script>"), "{query}: {data}");
    }
}
