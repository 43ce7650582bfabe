//! Webhooks in the portal, as a browser without JavaScript uses them: the empty list, the
//! add form (event-type checkboxes, header lines), the endpoint page with its secret, a test
//! send and its log, disabling, another user's endpoint (not found), deletion.

use crate::harness::*;
use serde_json::{Value, json};

#[tokio::test]
async fn a_user_adds_tests_and_deletes_an_endpoint_in_the_portal() {
    let server = TestServer::start_with(&[
        ("KEYPORT_ADMIN_EMAIL", ADMIN_EMAIL),
        ("KEYPORT_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("KEYPORT_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("KEYPORT_RUN_JOBS", "false"),
    ])
    .await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    user_token(&api, "bob@example.com").await;
    let browser = signed_in_browser(&server, "alice@example.com", "long-enough-pw").await;

    let html = page_html(&browser, "/webhooks").await;
    assert!(html.contains("No endpoints yet"), "empty state");
    assert!(html.contains("href=\"/webhooks\""), "nav link");

    // A refused form comes back with the reason.
    let res = browser
        .form(
            "/sfn/create_webhook",
            &[("url", "ftp://nope"), ("description", "")],
        )
        .await;
    assert!(location(&res).contains("__err="), "{}", location(&res));
    assert_eq!(get_json(&api, &alice, "/api/v1/webhooks").await["total"], 0);

    let receiver = axum_receiver().await;
    let res = browser
        .form(
            "/sfn/create_webhook",
            &[
                ("url", receiver.as_str()),
                ("description", "<b>CI</b>"),
                ("event_types[1]", "key.created"),
                ("event_types[3]", "key.revoked"),
                ("headers", "X-Token: abc\n"),
            ],
        )
        .await;
    let to = location(&res);
    assert!(
        to.starts_with("/webhooks/") && to.ends_with("?created=1&reveal=1"),
        "{to}"
    );
    let list: Value = get_json(&api, &alice, "/api/v1/webhooks").await;
    let hook = &list["items"][0];
    assert_eq!(hook["event_types"], json!(["key.created", "key.revoked"]));
    assert_eq!(hook["headers"]["x-token"], "abc");
    let id = hook["id"].as_i64().unwrap();
    let secret = get_json(&api, &alice, &format!("/api/v1/webhooks/{id}/secret")).await["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let html = page_html(&browser, &to).await;
    assert!(html.contains(&secret), "the secret is shown after creation");
    assert!(html.contains("&lt;b&gt;CI&lt;/b&gt;"), "escaped");
    let plain = page_html(&browser, &format!("/webhooks/{id}")).await;
    assert!(!plain.contains(&secret), "and only when asked for");
    assert!(plain.contains("Nothing delivered yet"));

    // Test send: queued, then sent by the job runner; the log shows it.
    let id_text = id.to_string();
    let res = browser
        .form(
            "/sfn/webhook_action",
            &[("id", &id_text), ("action", "test")],
        )
        .await;
    assert_eq!(location(&res), format!("/webhooks/{id}?done=test"));
    keyport::jobs::runner::run_due(&server.state, time::OffsetDateTime::now_utc()).await;
    let html = page_html(&browser, &format!("/webhooks/{id}")).await;
    assert!(
        html.contains("webhook.test") && html.contains("succeeded"),
        "log"
    );

    // Disable, and Bob cannot see or act on it.
    let res = browser
        .form(
            "/sfn/webhook_action",
            &[("id", &id_text), ("action", "disable")],
        )
        .await;
    assert_eq!(location(&res), format!("/webhooks/{id}?done=disabled"));
    assert_eq!(
        get_json(&api, &alice, &format!("/api/v1/webhooks/{id}")).await["enabled"],
        false
    );
    let bob = signed_in_browser(&server, "bob@example.com", "long-enough-pw").await;
    let res = bob.get(&format!("/webhooks/{id}")).await;
    assert_eq!(res.status(), 404);
    let res = bob
        .form(
            "/sfn/webhook_action",
            &[("id", &id_text), ("action", "delete")],
        )
        .await;
    assert!(location(&res).contains("__err="), "refused");
    assert_eq!(get_json(&api, &alice, "/api/v1/webhooks").await["total"], 1);

    let res = browser
        .form(
            "/sfn/webhook_action",
            &[("id", &id_text), ("action", "delete")],
        )
        .await;
    assert_eq!(location(&res), "/webhooks?deleted=1");
    assert_eq!(get_json(&api, &alice, "/api/v1/webhooks").await["total"], 0);
}

async fn get_json(api: &Api, token: &str, path: &str) -> Value {
    let res = api.get(path, Some(token)).await;
    assert_eq!(res.status(), 200, "GET {path}");
    res.json().await.unwrap()
}

/// A receiver that answers 204 to everything; its URL.
async fn axum_receiver() -> String {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(|| async { axum::http::StatusCode::NO_CONTENT }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}
