//! The sessions page and /api/v1/auth/sessions: browsers and REST sign-ins of one user are
//! listed with their client, signed out one by one or all but the caller's, and other users'
//! sessions are out of reach.

use crate::apis::delete;
use crate::harness::*;
use keyport::domain::account_sessions::{
    LAST_SEEN_INTERVAL_MS, touch_api_session, touch_browser_session,
};
use reqwest::{Client, cookie::CookieStore, header, redirect::Policy};
use serde_json::{Value, json};
use std::sync::Arc;
use time::{Duration, OffsetDateTime, format_description::well_known::Rfc3339};

const FIREFOX_MAC: &str =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0";
const CHROME_ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
const CURL: &str = "curl/8.11.0";
const PASSWORD: &str = "sessions-password-1";

/// A browser with its own user agent; the jar shows the cookie the test must never see echoed.
fn browser_as(server: &TestServer, user_agent: &str) -> (Browser, Arc<reqwest::cookie::Jar>) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let http = Client::builder()
        .redirect(Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .cookie_provider(jar.clone())
        .user_agent(user_agent)
        .build()
        .unwrap();
    let browser = Browser {
        base: server.base.clone(),
        http,
    };
    (browser, jar)
}

fn api_as(server: &TestServer, user_agent: &str) -> Api {
    Api {
        base: server.base.clone(),
        http: Client::builder()
            .redirect(Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .user_agent(user_agent)
            .build()
            .unwrap(),
    }
}

async fn sign_in(browser: &Browser, email: &str) {
    let res = browser
        .form("/sfn/login", &[("email", email), ("password", PASSWORD)])
        .await;
    assert_eq!(res.status(), 302, "sign in {email}");
    assert_eq!(location(&res), "/dashboard");
    assert_eq!(browser.get("/dashboard").await.status(), 200);
}

/// The cookie session's value, as the browser holds it.
fn cookie_secret(server: &TestServer, jar: &reqwest::cookie::Jar) -> String {
    let url = server.base.parse().unwrap();
    let header = jar.cookies(&url).expect("a session cookie");
    let text = header.to_str().unwrap().to_string();
    text.split(';')
        .find_map(|c| c.trim().strip_prefix("keyport_session="))
        .expect("the session cookie")
        .to_string()
}

async fn list_with_cookie(browser: &Browser) -> Value {
    let res = browser
        .http
        .get(format!("{}/api/v1/auth/sessions", browser.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn list_with_token(api: &Api, token: &str) -> Value {
    let res = api.get("/api/v1/auth/sessions", Some(token)).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn find<'a>(list: &'a Value, kind: &str, user_agent: &str) -> &'a Value {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == kind && s["user_agent"] == user_agent)
        .unwrap_or_else(|| panic!("no {kind} session of {user_agent} in {list}"))
}

fn current_of(list: &Value) -> Vec<(String, i64)> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["current"] == true)
        .map(|s| {
            (
                s["kind"].as_str().unwrap().to_string(),
                s["id"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn time_of(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(v.as_str().unwrap(), &Rfc3339).unwrap()
}

/// Sam: a laptop (Firefox), a phone (Chrome) and a curl sign-in; Eve: a browser and a token.
struct Fixture {
    server: TestServer,
    laptop: Browser,
    laptop_jar: Arc<reqwest::cookie::Jar>,
    phone: Browser,
    phone_jar: Arc<reqwest::cookie::Jar>,
    script: Api,
    access: String,
    refresh: String,
    eve_browser: Browser,
    eve_access: String,
}

async fn fixture() -> Fixture {
    let server = TestServer::start().await;
    let api = server.api();
    api.register("sam@example.com", PASSWORD, "Sam").await;
    api.register("eve@example.com", PASSWORD, "Eve").await;
    let (laptop, laptop_jar) = browser_as(&server, FIREFOX_MAC);
    let (phone, phone_jar) = browser_as(&server, CHROME_ANDROID);
    sign_in(&laptop, "sam@example.com").await;
    sign_in(&phone, "sam@example.com").await;
    let script = api_as(&server, CURL);
    let (access, refresh) = script.login("sam@example.com", PASSWORD).await;
    let (eve_browser, _) = browser_as(&server, "EveAgent/1.0");
    sign_in(&eve_browser, "eve@example.com").await;
    let (eve_access, _) = api_as(&server, "EveScript/2.0")
        .login("eve@example.com", PASSWORD)
        .await;
    Fixture {
        server,
        laptop,
        laptop_jar,
        phone,
        phone_jar,
        script,
        access,
        refresh,
        eve_browser,
        eve_access,
    }
}

#[tokio::test]
async fn sessions_are_listed_with_their_client_and_the_current_one_marked() {
    let f = fixture().await;
    let by_laptop = list_with_cookie(&f.laptop).await;
    assert_eq!(by_laptop["total"], 3, "{by_laptop}");
    assert_eq!(by_laptop["page"], 1);
    assert_eq!(by_laptop["per_page"], 50);
    let laptop = find(&by_laptop, "browser", FIREFOX_MAC);
    let phone = find(&by_laptop, "browser", CHROME_ANDROID);
    let script = find(&by_laptop, "api", CURL);
    assert_eq!(laptop["device"], "Firefox on macOS");
    assert_eq!(phone["device"], "Chrome on Android");
    assert_eq!(script["device"], "curl");
    for s in [laptop, phone, script] {
        assert_eq!(s["ip"], "127.0.0.1");
        assert!(s["id"].is_i64());
        assert!(time_of(&s["last_seen_at"]) >= time_of(&s["created_at"]));
    }
    assert_ne!(laptop["id"], phone["id"], "public ids differ");
    assert_eq!(
        current_of(&by_laptop),
        vec![("browser".to_string(), laptop["id"].as_i64().unwrap())]
    );
    // Eve's sessions are not Sam's.
    assert!(!by_laptop.to_string().contains("Eve"));
    // The cookie's secret value never leaves the server.
    for jar in [&f.laptop_jar, &f.phone_jar] {
        let secret = cookie_secret(&f.server, jar);
        assert!(secret.len() >= 16);
        assert!(!by_laptop.to_string().contains(&secret));
    }

    // Asked with the access token, the REST session is the current one.
    let by_script = list_with_token(&f.script, &f.access).await;
    assert_eq!(by_script["total"], 3);
    assert_eq!(
        current_of(&by_script),
        vec![("api".to_string(), script["id"].as_i64().unwrap())]
    );

    // Paging, and bad paging.
    let res = f
        .script
        .get("/api/v1/auth/sessions?per_page=1&page=2", Some(&f.access))
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["total"], 3);
    for bad in ["per_page=0", "per_page=201", "page=0", "page=x"] {
        let res = f
            .script
            .get(&format!("/api/v1/auth/sessions?{bad}"), Some(&f.access))
            .await;
        expect_error(res, 422, "VALIDATION_ERROR").await;
    }
    // Without a sign-in, or with a management key: no sessions.
    let res = f.server.api().get("/api/v1/auth/sessions", None).await;
    expect_error(res, 401, "UNAUTHORIZED").await;
    let key = create(
        &f.script,
        &f.access,
        json!({"name": "automation", "scopes": ["manage:*"]}),
    )
    .await;
    let key = key["key"].as_str().unwrap();
    let res = f.script.get("/api/v1/auth/sessions", Some(key)).await;
    expect_error(res, 403, "FORBIDDEN").await;
    let res = f
        .script
        .post_auth("/api/v1/auth/sessions/revoke-others", key, json!({}))
        .await;
    expect_error(res, 403, "FORBIDDEN").await;
    assert_eq!(list_with_token(&f.script, &f.access).await["total"], 3);

    // The page shows both tables, the current session marked, and only Sam's sessions.
    let res = f.laptop.get("/account/sessions").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    for text in [
        "Browser sessions",
        "API sessions",
        "This session",
        "Firefox on macOS",
        "Chrome on Android",
        "curl",
        "Sign out everywhere else",
        "127.0.0.1",
    ] {
        assert!(html.contains(text), "{text} missing from the page");
    }
    assert!(!html.contains("EveAgent"));
    assert!(!html.contains(&cookie_secret(&f.server, &f.laptop_jar)));
    // Signed out, the page sends the browser to sign in.
    let res = f.server.browser().get("/account/sessions").await;
    assert_eq!(res.status(), 302);
    assert!(location(&res).starts_with("/login"));
}

#[tokio::test]
async fn ending_one_session_signs_it_out_at_once_and_leaves_the_others() {
    let f = fixture().await;
    let list = list_with_cookie(&f.laptop).await;
    let phone_id = find(&list, "browser", CHROME_ANDROID)["id"]
        .as_i64()
        .unwrap();
    let script_id = find(&list, "api", CURL)["id"].as_i64().unwrap();

    // Eve cannot end Sam's sessions, by token or in the portal: 404, nothing changes.
    let eve_api = f.server.api();
    for kind in ["browser", "api"] {
        let id = if kind == "browser" {
            phone_id
        } else {
            script_id
        };
        let path = format!("/api/v1/auth/sessions/{id}?kind={kind}");
        expect_error(
            delete(&eve_api, &f.eve_access, &path).await,
            404,
            "NOT_FOUND",
        )
        .await;
        let res = f
            .eve_browser
            .form(
                "/sfn/end_session",
                &[("kind", kind), ("id", &id.to_string())],
            )
            .await;
        assert_ne!(
            location(&res),
            format!("/account/sessions?signed_out={kind}")
        );
    }
    // Bad input answers the contract's errors and changes nothing.
    let cases = [
        (
            "/api/v1/auth/sessions/abc?kind=browser".to_string(),
            404,
            "NOT_FOUND",
        ),
        (
            "/api/v1/auth/sessions/99999999999999999999999?kind=api".to_string(),
            404,
            "NOT_FOUND",
        ),
        (
            format!("/api/v1/auth/sessions/{phone_id}"),
            422,
            "VALIDATION_ERROR",
        ),
        (
            format!("/api/v1/auth/sessions/{phone_id}?kind=web"),
            422,
            "VALIDATION_ERROR",
        ),
        (
            format!("/api/v1/auth/sessions/{phone_id}?kind=api"),
            404,
            "NOT_FOUND",
        ),
        (
            "/api/v1/auth/sessions/-1?kind=browser".to_string(),
            404,
            "NOT_FOUND",
        ),
        (
            format!("/api/v1/auth/sessions/{phone_id}?kind=%3Cscript%3E"),
            422,
            "VALIDATION_ERROR",
        ),
    ];
    for (path, status, code) in &cases {
        let body = expect_error(delete(&f.script, &f.access, path).await, *status, code).await;
        if *status == 422 {
            assert_eq!(body["errors"][0]["field"], "query.kind", "{path}");
        }
    }
    for (body, status, code) in [
        ("{not json", 400, "INVALID_JSON"),
        ("[1, 2]", 422, "VALIDATION_ERROR"),
        ("\"all\"", 422, "VALIDATION_ERROR"),
    ] {
        let res = f
            .script
            .http
            .post(f.server.url("/api/v1/auth/sessions/revoke-others"))
            .bearer_auth(&f.access)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        expect_error(res, status, code).await;
    }
    let list = list_with_cookie(&f.laptop).await;
    assert_eq!(list["total"], 3, "nothing was signed out");
    assert_eq!(f.phone.get("/dashboard").await.status(), 200);
    assert_eq!(f.eve_browser.get("/dashboard").await.status(), 200);
    let phone_id = find(&list, "browser", CHROME_ANDROID)["id"]
        .as_i64()
        .unwrap();
    let script_id = find(&list, "api", CURL)["id"].as_i64().unwrap();

    // The laptop signs the phone out in the portal: the phone is signed out on its next
    // request; the laptop and the script are not.
    let res = f
        .laptop
        .form(
            "/sfn/end_session",
            &[("kind", "browser"), ("id", &phone_id.to_string())],
        )
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "/account/sessions?signed_out=browser");
    let res = f.phone.get("/dashboard").await;
    assert_eq!(res.status(), 302);
    assert!(location(&res).starts_with("/login"));
    assert_eq!(f.laptop.get("/dashboard").await.status(), 200);
    let page = f
        .laptop
        .get("/account/sessions?signed_out=browser")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("The browser session was signed out."));
    assert!(!page.contains("Chrome on Android"));
    // Ending it again: 404.
    let path = format!("/api/v1/auth/sessions/{phone_id}?kind=browser");
    expect_error(delete(&f.script, &f.access, &path).await, 404, "NOT_FOUND").await;

    // The script's session, ended by the laptop over REST (cookie): its access token fails
    // at once and its refresh token is refused.
    assert_eq!(
        f.script
            .get("/api/v1/users/me", Some(&f.access))
            .await
            .status(),
        200
    );
    let res = f
        .laptop
        .http
        .delete(
            f.server
                .url(&format!("/api/v1/auth/sessions/{script_id}?kind=api")),
        )
        .header(header::ORIGIN, &f.server.base)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    expect_error(
        f.script.get("/api/v1/users/me", Some(&f.access)).await,
        401,
        "INVALID_TOKEN",
    )
    .await;
    let res = f
        .script
        .post("/api/v1/auth/refresh", json!({"refresh_token": f.refresh}))
        .await;
    expect_error(res, 401, "INVALID_TOKEN").await;
    let list = list_with_cookie(&f.laptop).await;
    assert_eq!(list["total"], 1);
    // Eve was never touched.
    assert_eq!(f.eve_browser.get("/dashboard").await.status(), 200);
    assert_eq!(list_with_token(&eve_api, &f.eve_access).await["total"], 2);
}

#[tokio::test]
async fn everywhere_else_ends_every_session_but_the_callers() {
    let f = fixture().await;
    let (access2, refresh2) = f.script.login("sam@example.com", PASSWORD).await;
    assert_eq!(list_with_token(&f.script, &f.access).await["total"], 4);

    // Over REST from the first token: both browsers and the second token end.
    let res = f
        .script
        .post_auth("/api/v1/auth/sessions/revoke-others", &f.access, json!({}))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({"revoked": 3}));
    for browser in [&f.laptop, &f.phone] {
        let res = browser.get("/dashboard").await;
        assert_eq!(res.status(), 302);
    }
    expect_error(
        f.script.get("/api/v1/users/me", Some(&access2)).await,
        401,
        "INVALID_TOKEN",
    )
    .await;
    let res = f
        .script
        .post("/api/v1/auth/refresh", json!({"refresh_token": refresh2}))
        .await;
    expect_error(res, 401, "INVALID_TOKEN").await;
    // The caller's own session goes on, and refreshes.
    let list = list_with_token(&f.script, &f.access).await;
    assert_eq!(list["total"], 1);
    assert_eq!(current_of(&list).len(), 1);
    let res = f
        .script
        .post("/api/v1/auth/refresh", json!({"refresh_token": f.refresh}))
        .await;
    assert_eq!(res.status(), 200);
    let pair: Value = res.json().await.unwrap();
    let refresh3 = pair["refresh_token"].as_str().unwrap().to_string();
    // Eve's sessions stay.
    assert_eq!(f.eve_browser.get("/dashboard").await.status(), 200);
    let eve_api = f.server.api();
    assert_eq!(list_with_token(&eve_api, &f.eve_access).await["total"], 2);

    // In the portal from the laptop, signed in again: the REST session ends.
    sign_in(&f.laptop, "sam@example.com").await;
    let res = f.laptop.form("/sfn/end_other_sessions", &[]).await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "/account/sessions?signed_out_others=1");
    let res = f
        .script
        .post("/api/v1/auth/refresh", json!({"refresh_token": refresh3}))
        .await;
    expect_error(res, 401, "INVALID_TOKEN").await;
    let page = f
        .laptop
        .get("/account/sessions?signed_out_others=1")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Signed out 1 other session."));
    assert!(page.contains("This is the only session signed in to your account."));
    assert!(page.contains("No REST sign-ins."));
    assert_eq!(list_with_cookie(&f.laptop).await["total"], 1);
    // Nothing else to end.
    let res = f.laptop.form("/sfn/end_other_sessions", &[]).await;
    assert_eq!(location(&res), "/account/sessions?signed_out_others=0");
    assert_eq!(f.eve_browser.get("/dashboard").await.status(), 200);
}

#[tokio::test]
async fn last_seen_moves_only_after_the_interval() {
    let f = fixture().await;
    let db = &f.server.state.db;
    let list = list_with_token(&f.script, &f.access).await;
    let laptop = find(&list, "browser", FIREFOX_MAC);
    let id = laptop["id"].as_i64().unwrap();
    let seen = time_of(&laptop["last_seen_at"]);
    let interval = Duration::milliseconds(LAST_SEEN_INTERVAL_MS);

    let last_seen =
        |list: Value, kind: &str, ua: &str| time_of(&find(&list, kind, ua)["last_seen_at"]);
    assert!(
        !touch_browser_session(db, id, seen + interval - Duration::seconds(1))
            .await
            .unwrap()
    );
    let list = list_with_token(&f.script, &f.access).await;
    assert_eq!(
        last_seen(list, "browser", FIREFOX_MAC),
        seen,
        "within the interval"
    );
    let later = seen + interval;
    assert!(touch_browser_session(db, id, later).await.unwrap());
    let list = list_with_token(&f.script, &f.access).await;
    assert_eq!(last_seen(list.clone(), "browser", FIREFOX_MAC), later);
    let phone = find(&list, "browser", CHROME_ANDROID);
    assert_eq!(
        phone["last_seen_at"], phone["created_at"],
        "the other browser is not touched"
    );
    // Once moved, the interval counts from the new time.
    assert!(
        !touch_browser_session(db, id, later + Duration::seconds(30))
            .await
            .unwrap()
    );
    assert!(
        touch_browser_session(db, id, later + interval * 2)
            .await
            .unwrap()
    );
    // Another user's session id is just not that session: Eve's list is unchanged.
    let eve_before = list_with_token(&f.server.api(), &f.eve_access).await;

    // REST sessions: the last use moves the same way.
    let script = find(&list, "api", CURL);
    let sid = script["id"].as_i64().unwrap();
    let used = time_of(&script["last_seen_at"]);
    let used_ms = (used.unix_timestamp_nanos() / 1_000_000) as i64;
    assert!(
        !touch_api_session(db, sid, used_ms, used + Duration::seconds(59))
            .await
            .unwrap()
    );
    assert!(
        touch_api_session(db, sid, used_ms, used + interval)
            .await
            .unwrap()
    );
    let list = list_with_token(&f.script, &f.access).await;
    assert_eq!(last_seen(list.clone(), "api", CURL), used + interval);
    // Most recently active first: the laptop was moved furthest ahead.
    assert_eq!(list["items"][0]["user_agent"], FIREFOX_MAC);
    assert_eq!(
        list_with_token(&f.server.api(), &f.eve_access).await,
        eve_before
    );
}

#[tokio::test]
async fn the_session_endpoints_are_in_the_openapi_document() {
    let server = TestServer::start().await;
    let res = server.api().get("/api/v1/openapi.json", None).await;
    let doc: Value = res.json().await.unwrap();
    for (path, method) in [
        ("/api/v1/auth/sessions", "get"),
        ("/api/v1/auth/sessions/{id}", "delete"),
        ("/api/v1/auth/sessions/revoke-others", "post"),
    ] {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} documented");
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.keys().any(|s| s.starts_with('4')), "{path}");
    }
    let params = doc["paths"]["/api/v1/auth/sessions/{id}"]["delete"]["parameters"]
        .as_array()
        .unwrap();
    assert!(
        params
            .iter()
            .any(|p| p["name"] == "kind" && p["in"] == "query")
    );
    let info = &doc["components"]["schemas"]["SessionInfo"]["properties"];
    for field in [
        "id",
        "kind",
        "device",
        "user_agent",
        "ip",
        "created_at",
        "last_seen_at",
        "current",
    ] {
        assert!(info[field].is_object(), "SessionInfo.{field}");
    }
    assert!(doc["components"]["schemas"]["SessionPage"].is_object());
    assert!(doc["components"]["schemas"]["RevokedSessions"].is_object());
}
