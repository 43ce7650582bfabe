//! The admin system dashboard: `GET /api/v1/admin/system`, the `/admin/system` page and its
//! live stream show this process's figures, move with traffic, and are for admins only.

use crate::analytics::{alice_and_bob_keys, portal_sign_in, portal_sign_in_as};
use crate::apis::admin_token;
use crate::harness::*;
use crate::usage_live::Events;
use serde_json::{Value, json};
use std::time::Duration;

/// Verifications the figures count since the window's first sample (rate × span).
fn verifications(snapshot: &Value) -> i64 {
    let rate = snapshot["traffic"]["verifications_per_s"].as_f64().unwrap();
    let span = snapshot["traffic"]["window_s"].as_f64().unwrap();
    (rate * span).round() as i64
}

#[tokio::test]
async fn figures_move_with_traffic_and_are_for_admins_only() {
    let server = TestServer::start().await;
    let api = server.api();
    let (key, _) = alice_and_bob_keys(&api).await;
    let alice = api.login("alice@example.com", "long-enough-pw").await.0;
    let admin = admin_token(&api).await;

    // Refusals before anything else: nobody, a user, and a management key are not admins.
    expect_error(
        api.get("/api/v1/admin/system", None).await,
        401,
        "UNAUTHORIZED",
    )
    .await;
    expect_error(
        api.get("/api/v1/admin/system", Some(&alice)).await,
        403,
        "FORBIDDEN",
    )
    .await;

    let before = get_json_status(&api, &admin, "/api/v1/admin/system").await;
    let seen_before = verifications(&before);
    for i in 0..20 {
        let body = if i % 4 == 0 {
            json!({"key": key["key"], "scopes": ["admin"]}) // refused: a scope it lacks
        } else {
            json!({"key": key["key"]})
        };
        verify_code(&api, body).await;
    }
    let after = get_json_status(&api, &admin, "/api/v1/admin/system").await;
    // The sampler's first sample was taken at start, before any call: every call is counted.
    assert_eq!(verifications(&after), seen_before + 20, "{after}");
    assert_eq!(seen_before, 0, "no calls before: {before}");
    assert_eq!(
        after["traffic"]["refusal_rate"],
        json!(0.25),
        "5 of 20 refused: {after}"
    );
    assert!(
        after["traffic"]["verify_p95_ms"].as_f64().unwrap() > 0.0,
        "{after}"
    );
    assert!(after["traffic"]["requests_per_s"].as_f64().unwrap() > 0.0);
    assert_eq!(
        after["traffic"]["error_rate"],
        json!(0.0),
        "no 5xx answers: {after}"
    );
    let backend = match std::env::var("KEYPORT_TEST_DATABASE_URL") {
        Ok(_) => "postgres",
        Err(_) => "sqlite",
    };
    assert_eq!(after["db_pool"]["backend"], json!(backend));
    assert!(after["db_pool"]["size"].as_u64().unwrap() >= 1);
    assert!(
        after["memory_bytes"].as_u64().unwrap() > 1_000_000,
        "Linux RSS"
    );
    assert!(after["uptime_s"].as_f64().unwrap() > 0.0);
    assert_eq!(after["version"], json!(env!("CARGO_PKG_VERSION")));
    server.state.usage.sync().await;
    let queue = get_json_status(&api, &admin, "/api/v1/admin/system").await["usage_queue"].clone();
    assert_eq!(queue["queued"], json!(0), "{queue}");
    assert!(queue["written"].as_u64().unwrap() >= 20, "{queue}");
    assert_eq!(queue["dropped"], json!(0), "{queue}");
}

async fn get_json_status(api: &Api, token: &str, path: &str) -> Value {
    let res = api.get(path, Some(token)).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn the_page_shows_the_figures_and_its_stream_follows_them() {
    let server = TestServer::start().await;
    let api = server.api();
    let (key, _) = alice_and_bob_keys(&api).await;

    // A user sees no figures: the page says so, the stream refuses in the contract's JSON.
    let alice = portal_sign_in(&server, "alice@example.com").await;
    let page = alice.get("/admin/system").await.text().await.unwrap();
    assert!(!page.contains("sys-verifications"), "no figures for users");
    expect_error(alice.get("/admin/system/live").await, 403, "FORBIDDEN").await;
    expect_error(
        server.browser().get("/admin/system/live").await,
        401,
        "UNAUTHORIZED",
    )
    .await;

    let admin = portal_sign_in_as(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = admin.get("/admin/system").await.text().await.unwrap();
    for figure in [
        "sys-requests",
        "sys-verifications",
        "sys-verify-p95",
        "sys-queued",
        "sys-memory",
    ] {
        assert!(
            page.contains(&format!("data-testid=\"{figure}\"")),
            "{figure}"
        );
    }
    assert!(
        page.contains("id=\"chart-system\""),
        "the chart's container"
    );

    let mut events = Events::open(&admin, "/admin/system/live").await;
    let first = next_system(&mut events).await;
    let counted = verifications(&first["snapshot"]);
    for _ in 0..7 {
        code_of(&api, key["key"].as_str().unwrap()).await;
    }
    // Updates come every two seconds; the next one (or the one after, if it was being
    // built while the calls went out) counts all seven.
    let mut latest = next_system(&mut events).await;
    if verifications(&latest["snapshot"]) < counted + 7 {
        latest = next_system(&mut events).await;
    }
    assert_eq!(verifications(&latest["snapshot"]), counted + 7, "{latest}");
    let chart: Value = serde_json::from_str(latest["chart"].as_str().unwrap()).unwrap();
    assert_eq!(chart["series"].as_array().unwrap().len(), 3, "{chart}");

    // Stopping the server ends the stream rather than waiting for it.
    let stopped = tokio::time::timeout(Duration::from_secs(20), server.stop()).await;
    assert!(stopped.is_ok(), "graceful shutdown waited for the stream");
}

async fn next_system(events: &mut Events) -> Value {
    let (name, data) = tokio::time::timeout(Duration::from_secs(30), events.next())
        .await
        .expect("an event within 30 s")
        .expect("the stream is open");
    assert_eq!(name, "system", "{data}");
    serde_json::from_str(&data).unwrap()
}
