//! Notification preferences: the matrix of event types and channels, its defaults, partial
//! updates over REST (all or nothing), the refusals the contract asks for, and the portal's
//! form that works without JavaScript.

use crate::analytics::portal_sign_in;
use crate::harness::*;
use serde_json::{Value, json};

const PATH: &str = "/api/v1/notification-preferences";

pub async fn prefs(api: &Api, token: &str) -> Value {
    let res = api.get(PATH, Some(token)).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

pub fn row<'a>(matrix: &'a Value, kind: &str) -> &'a Value {
    matrix["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == kind)
        .unwrap_or_else(|| panic!("{kind} in {matrix}"))
}

pub async fn put(api: &Api, token: &str, body: Value) -> reqwest::Response {
    api.http
        .put(format!("{}{PATH}", api.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn put_raw(api: &Api, token: &str, body: Vec<u8>) -> reqwest::Response {
    api.http
        .put(format!("{}{PATH}", api.base))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn defaults_then_partial_updates_that_stick() {
    let server = TestServer::start().await;
    let api = server.api();
    let token = user_token(&api, "pia@example.com").await;

    let m = prefs(&api, &token).await;
    let kinds: Vec<&str> = m["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    for k in [
        "key.created",
        "key.rotated",
        "key.revoked",
        "key.disabled",
        "key.expiring",
        "key.expired",
        "key.unused",
        "ratelimit.exceeded",
        "alert.triggered",
        "security.password_changed",
        "security.2fa_changed",
        "broadcast",
    ] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    for r in m["items"].as_array().unwrap() {
        assert_eq!(r["channels"]["in_app"], true, "{r}");
        assert_eq!(r["channels"]["webhook"], true, "{r}");
        assert_eq!(r["channels"], r["defaults"], "{r}");
        assert!(!r["label"].as_str().unwrap().is_empty());
    }
    assert_eq!(row(&m, "key.expiring")["channels"]["email"], true);
    assert_eq!(row(&m, "key.expired")["channels"]["email"], true);
    assert_eq!(row(&m, "key.created")["channels"]["email"], false);
    assert_eq!(row(&m, "ratelimit.exceeded")["channels"]["email"], false);
    assert_eq!(row(&m, "security.2fa_changed")["locked"], json!(["email"]));

    let res = put(
        &api,
        &token,
        json!({"preferences": {"key.created": {"email": true, "in_app": false}, "broadcast": {"webhook": false}}}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let m: Value = res.json().await.unwrap();
    assert_eq!(
        row(&m, "key.created")["channels"],
        json!({"in_app": false, "email": true, "webhook": true})
    );
    assert_eq!(row(&m, "broadcast")["channels"]["webhook"], false);
    // What was not named stays as it was.
    assert_eq!(row(&m, "key.expiring")["channels"]["email"], true);
    assert_eq!(prefs(&api, &token).await, m, "stored");

    // Back to the default: stored choices are forgotten.
    let res = put(
        &api,
        &token,
        json!({"preferences": {"key.created": {"email": false, "in_app": true}, "broadcast": {"webhook": true}}}),
    )
    .await;
    assert_eq!(res.status(), 200);
    const SQL: &str = "SELECT COUNT(*) FROM notification_prefs";
    let stored: i64 = match &server.state.db {
        keyport::db::Db::Sqlite(p) => sqlx::query_scalar(SQL).fetch_one(p).await.unwrap(),
        keyport::db::Db::Postgres(p) => sqlx::query_scalar(SQL).fetch_one(p).await.unwrap(),
    };
    assert_eq!(
        stored, 0,
        "only choices that differ from the defaults are stored"
    );

    // Another user's matrix is theirs alone.
    put(
        &api,
        &token,
        json!({"preferences": {"key.rotated": {"email": true}}}),
    )
    .await;
    let other = user_token(&api, "quin@example.com").await;
    assert_eq!(
        row(&prefs(&api, &other).await, "key.rotated")["channels"]["email"],
        false
    );

    // What the dispatch asks.
    let me: Value = api
        .get("/api/v1/users/me", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    let id = me["id"].as_i64().unwrap();
    let db = &server.state.db;
    use keyport::domain::notification_prefs::{Channels, channels_for};
    assert_eq!(
        channels_for(db, id, "key.rotated").await.unwrap(),
        Channels {
            in_app: true,
            email: true,
            webhook: true
        }
    );
    // Security notices are mailed by the account code itself: the dispatch does not again.
    assert!(
        !channels_for(db, id, "security.password_changed")
            .await
            .unwrap()
            .email
    );
}

#[tokio::test]
async fn bad_updates_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    let api = server.api();
    let token = user_token(&api, "rae@example.com").await;
    let before = prefs(&api, &token).await;

    let body = expect_error(
        put(
            &api,
            &token,
            json!({"preferences": {"key.created": {"email": true}, "key.nope": {"email": true}}}),
        )
        .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "body.preferences.key.nope");
    let body = expect_error(
        put(
            &api,
            &token,
            json!({"preferences": {"key.created": {"sms": true}}}),
        )
        .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(
        body["errors"][0]["field"],
        "body.preferences.key.created.sms"
    );
    expect_error(
        put(
            &api,
            &token,
            json!({"preferences": {"security.password_changed": {"email": false}}}),
        )
        .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    // Wrong types.
    for wrong in [
        json!({"preferences": {"key.created": {"email": "yes"}}}),
        json!({"preferences": {"key.created": true}}),
        json!({"preferences": []}),
        json!({"preferences": {"key.created": {"email": 1}}}),
        json!([]),
    ] {
        expect_error(put(&api, &token, wrong).await, 422, "VALIDATION_ERROR").await;
    }
    // Hostile names are named back escaped and short, never rendered or stored.
    let hostile = format!("<script>alert(1)</script>{}", "x".repeat(5000));
    let body = expect_error(
        put(
            &api,
            &token,
            json!({"preferences": {hostile: {"email": true}}}),
        )
        .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    let field = body["errors"][0]["field"].as_str().unwrap();
    assert!(field.len() < 200, "{field}");
    expect_error(
        put_raw(&api, &token, b"{\"preferences\": {".to_vec()).await,
        400,
        "INVALID_JSON",
    )
    .await;
    let huge = format!(
        "{{\"preferences\": {{\"key.created\": {{\"email\": true}}}}, \"pad\": \"{}\"}}",
        "x".repeat(1_100_000)
    );
    expect_error(
        put_raw(&api, &token, huge.into_bytes()).await,
        413,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    assert_eq!(prefs(&api, &token).await, before, "nothing applied");

    // Anonymous callers are refused.
    expect_error(api.get(PATH, None).await, 401, "UNAUTHORIZED").await;
    let res = api
        .http
        .put(format!("{}{PATH}", api.base))
        .json(&json!({"preferences": {}}))
        .send()
        .await
        .unwrap();
    expect_error(res, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn the_portal_form_saves_the_whole_matrix_without_javascript() {
    let server = TestServer::start().await;
    let api = server.api();
    let token = user_token(&api, "sol@example.com").await;
    let browser = portal_sign_in(&server, "sol@example.com").await;

    let html = page_html(&browser, "/account/notifications").await;
    assert!(html.contains("action=\"/sfn/save_notification_preferences\""));
    assert!(
        html.contains("name=\"pref[key.expiring][email]\""),
        "one box per type and channel"
    );
    assert!(html.contains("aria-label=\"Key expiring soon: Email\""));
    assert!(html.contains("Security notices are always mailed"));
    let account = page_html(&browser, "/account").await;
    assert!(
        account.contains("href=\"/account/notifications\""),
        "linked from /account"
    );
    let list = page_html(&browser, "/notifications").await;
    assert!(
        list.contains("href=\"/account/notifications\""),
        "linked from /notifications"
    );

    // Every box but these is left unchecked: in-app for key.created only, mail for broadcasts.
    let res = browser
        .form(
            "/sfn/save_notification_preferences",
            &[
                ("pref[key.created][in_app]", "on"),
                ("pref[broadcast][email]", "on"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/account/notifications?saved=1");
    let m = prefs(&api, &token).await;
    assert_eq!(
        row(&m, "key.created")["channels"],
        json!({"in_app": true, "email": false, "webhook": false})
    );
    assert_eq!(
        row(&m, "broadcast")["channels"],
        json!({"in_app": false, "email": true, "webhook": false})
    );
    assert_eq!(
        row(&m, "security.2fa_changed")["channels"]["email"],
        true,
        "a locked channel stays on"
    );
    let html = page_html(&browser, "/account/notifications?saved=1").await;
    assert!(html.contains("Preferences saved."));

    // A forged field is refused, and nothing changes.
    let res = browser
        .form(
            "/sfn/save_notification_preferences",
            &[("pref[key.nope][email]", "on")],
        )
        .await;
    assert!(location(&res).contains("__err="), "{}", location(&res));
    assert_eq!(prefs(&api, &token).await, m);
}
