//! Usage alerts: rules set by admins over REST, judged with the time passed in, raise one
//! notification (and security event) per subject and period, at the threshold and not twice.

use crate::analytics::alice_and_bob_keys;
use crate::apis::admin_token;
use crate::harness::*;
use serde_json::{Value, json};

async fn patch_rule(api: &Api, token: &str, kind: &str, body: Value) -> reqwest::Response {
    patch(api, token, &format!("/api/v1/alert-rules/{kind}"), body).await
}

async fn notifications(api: &Api, token: &str) -> Value {
    let res = api.get("/api/v1/notifications", Some(token)).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn alerts_fire_at_their_thresholds_once_per_period() {
    let server = TestServer::start().await;
    let api = server.api();
    let (key, _) = alice_and_bob_keys(&api).await;
    let alice = api.login("alice@example.com", "long-enough-pw").await.0;
    let bob = api.login("bob@example.com", "long-enough-pw").await.0;
    let admin = admin_token(&api).await;

    // Rules: admins only, checked.
    let res = patch_rule(&api, &alice, "error_rate", json!({"threshold": 0.5})).await;
    expect_error(res, 403, "FORBIDDEN").await;
    for (bad, field) in [
        (json!({"threshold": 25}), "body.threshold"),
        (json!({"window_minutes": 0}), "body.window_minutes"),
        (json!({"min_requests": -1}), "body.min_requests"),
    ] {
        let res = patch_rule(&api, &admin, "error_rate", bad.clone()).await;
        let body = expect_error(res, 422, "VALIDATION_ERROR").await;
        assert_eq!(body["errors"][0]["field"], field, "{bad}");
    }
    expect_error(
        patch_rule(&api, &admin, "error_rate", json!({"threshold": "high"})).await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    expect_error(
        patch_rule(&api, &admin, "nope", json!({})).await,
        404,
        "NOT_FOUND",
    )
    .await;
    let res = patch_rule(
        &api,
        &admin,
        "error_rate",
        json!({"threshold": 0.25, "min_requests": 4}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let res = patch_rule(&api, &admin, "failed_ip", json!({"threshold": 3})).await;
    assert_eq!(res.status(), 200);
    let rules: Value = api
        .get("/api/v1/alert-rules", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rules.as_array().unwrap().len(), 4);

    // Alice's key: 3 calls and 1 refused, exactly 25 %. Three bad keys from one address.
    for body in [
        json!({"key": key["key"]}),
        json!({"key": key["key"]}),
        json!({"key": key["key"]}),
        json!({"key": key["key"], "scopes": ["admin"]}),
        json!({"key": "kp_not_a_key", "ip": "203.0.113.9"}),
        json!({"key": "kp_not_a_key", "ip": "203.0.113.9"}),
    ] {
        verify_code(&api, body).await;
    }
    server.state.usage.sync().await;
    // The key's own "created" notice, read, so the counts below are the alerts'.
    crate::harness::run_jobs(&server).await;
    api.post_auth("/api/v1/notifications/read-all", &alice, json!({}))
        .await;
    let now = keyport::domain::to_millis(time::OffsetDateTime::now_utc()) + 60_000;
    let pending = server.state.usage.pending();
    // Two failures from the address: under its threshold; the key's error rate is at its own.
    assert_eq!(
        keyport::domain::alerts::evaluate(&server.state.db, pending, now)
            .await
            .unwrap(),
        1
    );
    crate::harness::run_jobs_at(&server, now).await;
    let hers = notifications(&api, &alice).await;
    assert_eq!(hers["unread"], 1, "{hers}");
    let title = hers["items"][0]["title"].as_str().unwrap();
    assert!(
        title.contains("High error rate") && title.contains("\u{201c}a\u{201d}"),
        "{title}"
    );
    let his: Value = api
        .get("/api/v1/notifications?kind=alert.triggered", Some(&bob))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(his["total"], 0, "not his key: {his}");

    verify_code(&api, json!({"key": "kp_not_a_key", "ip": "203.0.113.9"})).await;
    server.state.usage.sync().await;
    assert_eq!(
        keyport::domain::alerts::evaluate(&server.state.db, pending, now)
            .await
            .unwrap(),
        1,
        "the address reached 3; the key's alert is not raised again"
    );
    crate::harness::run_jobs_at(&server, now).await;
    let admins = notifications(&api, &admin).await;
    assert!(
        admins["items"][0]["title"]
            .as_str()
            .unwrap()
            .contains("203.0.113.9"),
        "{admins}"
    );
    assert_eq!(
        keyport::domain::alerts::evaluate(&server.state.db, pending, now)
            .await
            .unwrap(),
        0
    );

    let alerts: Value = api
        .get("/api/v1/alerts", Some(&alice))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(alerts["total"], 1, "hers only: {alerts}");
    assert_eq!(alerts["items"][0]["kind"], "error_rate");
    let all: Value = api
        .get("/api/v1/alerts", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["total"], 2);

    // Reading: one's own only.
    let id = hers["items"][0]["id"].as_i64().unwrap();
    let res = api
        .post_auth(&format!("/api/v1/notifications/{id}/read"), &bob, json!({}))
        .await;
    expect_error(res, 404, "NOT_FOUND").await;
    let res = api
        .post_auth(
            &format!("/api/v1/notifications/{id}/read"),
            &alice,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(notifications(&api, &alice).await["unread"], 0);
    let res = api
        .post_auth("/api/v1/notifications/read-all", &admin, json!({}))
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(notifications(&api, &admin).await["unread"], 0);
    expect_error(
        api.get("/api/v1/notifications", None).await,
        401,
        "UNAUTHORIZED",
    )
    .await;
}
