//! Password reset over REST and the portal, with the link read from mail caught by a real
//! SMTP listener: every other session and refresh token ends, the old password stops
//! working, the link works once and expires; unknown addresses get the same answer and no
//! mail; requests are throttled; bad input changes nothing.

use crate::harness::*;
use crate::mail::{PASSWORD, outbox_for, request_reset, server_mailing_to};
use crate::smtp::SmtpServer;
use keyport::domain::{ClientInfo, password_reset};
use serde_json::{Value, json};

const NEW_PASSWORD: &str = "a much better password";

async fn reset_token(server: &TestServer, smtp: &SmtpServer, n: usize) -> String {
    let got = smtp.wait_for(n).await;
    got[n - 1]
        .link(&server.state.config.public_url, "/reset-password")
        .1
}

async fn confirm(api: &Api, token: &str, password: &str) -> reqwest::Response {
    api.post(
        "/api/v1/auth/password-reset/confirm",
        json!({"token": token, "new_password": password}),
    )
    .await
}

/// A page with its per-response CSP nonces blanked, to compare two answers.
fn without_nonces(page: &str) -> String {
    let mut out = String::new();
    let mut rest = page;
    while let Some(at) = ["nonce=\"", "crossorigin=\""]
        .iter()
        .filter_map(|attr| rest.find(attr))
        .min()
    {
        let (head, tail) = rest.split_at(at);
        let open = tail.find('"').unwrap() + 1;
        let close = open + tail[open..].find('"').unwrap();
        out.push_str(head);
        out.push_str(&tail[..open]);
        rest = &tail[close..];
    }
    out.push_str(rest);
    out
}

async fn count(server: &TestServer, sql: &str, email: &str) -> i64 {
    match &server.state.db {
        keyport::db::Db::Sqlite(p) => sqlx::query_scalar::<_, i64>(sql)
            .bind(email)
            .fetch_one(p)
            .await
            .unwrap(),
        keyport::db::Db::Postgres(p) => sqlx::query_scalar::<_, i64>(sql)
            .bind(email)
            .fetch_one(p)
            .await
            .unwrap(),
    }
}

#[tokio::test]
async fn a_reset_signs_the_account_out_everywhere_and_works_once() {
    let smtp = SmtpServer::start().await;
    let server = server_mailing_to(&smtp.url()).await;
    let api = server.api();
    api.register("ada@example.com", PASSWORD, "Ada").await;
    let (access_a, refresh_a) = api.login("ada@example.com", PASSWORD).await;
    let (access_b, refresh_b) = api.login("ada@example.com", PASSWORD).await;
    let browser = server.browser();
    let res = browser
        .form(
            "/sfn/login",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(location(&res), "/dashboard");
    assert_eq!(browser.get("/dashboard").await.status(), 200);

    request_reset(&api, "ada@example.com").await;
    let token = reset_token(&server, &smtp, 1).await;
    let res = confirm(&api, &token, NEW_PASSWORD).await;
    assert_eq!(res.status(), 204);

    // Every REST session and refresh token, and the browser session, ended.
    for access in [&access_a, &access_b] {
        let res = api.get("/api/v1/users/me", Some(access)).await;
        expect_error(res, 401, "INVALID_TOKEN").await;
    }
    for refresh in [&refresh_a, &refresh_b] {
        let res = api
            .post("/api/v1/auth/refresh", json!({"refresh_token": refresh}))
            .await;
        expect_error(res, 401, "INVALID_TOKEN").await;
    }
    let res = browser.get("/dashboard").await;
    assert!(location(&res).starts_with("/login"), "{}", location(&res));
    let sessions = count(
        &server,
        "SELECT COUNT(*) FROM web_sessions w JOIN users u ON u.id = w.user_id WHERE u.email = $1",
        "ada@example.com",
    )
    .await;
    assert_eq!(sessions, 0);

    // The old password no longer works, the new one does; the link works once.
    let res = api
        .post(
            "/api/v1/auth/login",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    expect_error(res, 401, "INVALID_CREDENTIALS").await;
    api.login("ada@example.com", NEW_PASSWORD).await;
    let res = confirm(&api, &token, "yet another password").await;
    let body = expect_error(res, 400, "EMAIL_TOKEN_INVALID").await;
    assert!(
        body["detail"].as_str().unwrap().contains("used already"),
        "{body}"
    );
    api.login("ada@example.com", NEW_PASSWORD).await;

    // Recorded, and the owner is told by mail.
    let events = count(
        &server,
        "SELECT COUNT(*) FROM security_events WHERE kind = 'auth.password_changed' AND subject = $1",
        "ada@example.com",
    )
    .await;
    assert_eq!(events, 1);
    let notice = &smtp.wait_for(2).await[1];
    assert_eq!(notice.to, vec!["ada@example.com".to_string()]);
    assert_eq!(notice.subject(), "Your Keyport password was changed");
    assert!(notice.text().contains("IP address: 127.0.0.1"));
}

#[tokio::test]
async fn links_expire_and_a_newer_one_replaces_the_older() {
    let smtp = SmtpServer::start().await;
    let server = server_mailing_to(&smtp.url()).await;
    let api = server.api();
    api.register("bo@example.com", PASSWORD, "Bo").await;
    request_reset(&api, "bo@example.com").await;
    let first = reset_token(&server, &smtp, 1).await;
    request_reset(&api, "bo@example.com").await;
    let second = reset_token(&server, &smtp, 2).await;
    assert_ne!(first, second);
    let res = confirm(&api, &first, NEW_PASSWORD).await;
    let body = expect_error(res, 400, "EMAIL_TOKEN_INVALID").await;
    assert!(
        body["detail"].as_str().unwrap().contains("not valid"),
        "{body}"
    );

    // An hour after it was sent, the link is refused; a moment before, it still works.
    let (db, keys, mailer) = (&server.state.db, &server.state.crypto, &server.state.mailer);
    let sent_at = outbox_for(&server, "bo@example.com").await[1].created_at;
    let expired = keyport::domain::from_millis(sent_at + password_reset::RESET_TTL_MS);
    let client = ClientInfo::default();
    let err = password_reset::confirm(db, keys, mailer, &second, NEW_PASSWORD, &client, expired)
        .await
        .unwrap_err();
    assert_eq!(err.code.as_str(), "EMAIL_TOKEN_INVALID");
    assert!(err.detail.contains("expired"), "{}", err.detail);
    let still = keyport::domain::from_millis(sent_at + password_reset::RESET_TTL_MS - 1);
    password_reset::confirm(db, keys, mailer, &second, NEW_PASSWORD, &client, still)
        .await
        .unwrap();
    api.login("bo@example.com", NEW_PASSWORD).await;
}

#[tokio::test]
async fn unknown_addresses_get_the_same_answer_and_no_mail() {
    let smtp = SmtpServer::start().await;
    let server = server_mailing_to(&smtp.url()).await;
    let api = server.api();
    api.register("cy@example.com", PASSWORD, "Cy").await;

    let answer = |res: reqwest::Response| async move {
        let status = res.status();
        let length = res.headers().get("content-length").cloned();
        (status, length, res.text().await.unwrap())
    };
    let unknown = answer(
        api.post(
            "/api/v1/auth/password-reset/request",
            json!({"email": "nobody@example.com"}),
        )
        .await,
    )
    .await;
    let known = answer(
        api.post(
            "/api/v1/auth/password-reset/request",
            json!({"email": "cy@example.com"}),
        )
        .await,
    )
    .await;
    assert_eq!(unknown, known);
    assert_eq!(unknown.0, 202);
    server.state.mailer.background_idle().await;
    let got = smtp.wait_for(1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, vec!["cy@example.com".to_string()]);
    assert!(outbox_for(&server, "nobody@example.com").await.is_empty());

    // The portal form answers the same words either way.
    let browser = server.browser();
    let mut pages = Vec::new();
    for email in ["nobody@example.com", "cy@example.com"] {
        let res = browser
            .form("/sfn/forgot_password", &[("email", email)])
            .await;
        assert_eq!(location(&res), "/forgot-password?sent=1");
        let page = browser.get(&location(&res)).await.text().await.unwrap();
        pages.push(without_nonces(&page));
    }
    assert_eq!(pages[0], pages[1]);
    assert!(pages[0].contains("If an account exists for that address, we sent a link"));
}

#[tokio::test]
async fn requests_are_throttled_per_address_and_per_client() {
    let smtp = SmtpServer::start().await;
    let server = server_mailing_to(&smtp.url()).await;
    let api = server.api();
    api.register("di@example.com", PASSWORD, "Di").await;
    for _ in 0..password_reset::MAX_REQUESTS_PER_EMAIL + 2 {
        request_reset(&api, "di@example.com").await;
    }
    server.state.mailer.background_idle().await;
    assert_eq!(
        outbox_for(&server, "di@example.com").await.len(),
        password_reset::MAX_REQUESTS_PER_EMAIL,
        "no more mail to one address"
    );
    // From one client: after the limit, 429 with Retry-After, for any address.
    let mut n = password_reset::MAX_REQUESTS_PER_EMAIL + 2;
    while n < password_reset::MAX_REQUESTS_PER_IP {
        request_reset(&api, &format!("other{n}@example.com")).await;
        n += 1;
    }
    let res = api
        .post(
            "/api/v1/auth/password-reset/request",
            json!({"email": "another@example.com"}),
        )
        .await;
    assert!(res.headers().contains_key("retry-after"));
    expect_error(res, 429, "TOO_MANY_ATTEMPTS").await;
    assert_eq!(smtp.wait_for(3).await.len(), 3);
}

#[tokio::test]
async fn the_portal_forms_reset_a_password_without_javascript() {
    let smtp = SmtpServer::start().await;
    let server = server_mailing_to(&smtp.url()).await;
    server
        .api()
        .register("ed@example.com", PASSWORD, "Ed")
        .await;
    let browser = server.browser();
    let login = browser.get("/login").await.text().await.unwrap();
    assert!(login.contains("href=\"/forgot-password\""), "{login}");
    let page = browser.get("/forgot-password").await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Send reset link") && page.contains("for=\"email\""));

    let res = browser
        .form("/sfn/forgot_password", &[("email", "ED@example.com ")])
        .await;
    assert_eq!(location(&res), "/forgot-password?sent=1");
    let (link, token) =
        smtp.wait_for(1).await[0].link(&server.state.config.public_url, "/reset-password");
    let path = link.strip_prefix(&server.state.config.public_url).unwrap();
    let page = browser.get(path).await.text().await.unwrap();
    assert!(
        page.contains(&format!("name=\"token\" value=\"{token}\"")),
        "{page}"
    );
    assert!(page.contains("for=\"new_password\""));

    // A too-short password: back on the page with a clear error, and the link still works.
    let res = browser
        .http
        .post(server.url("/sfn/reset_password"))
        .header("accept", "text/html")
        .header("origin", &server.base)
        .header("sec-fetch-site", "same-origin")
        .header("referer", server.url(path))
        .form(&[("token", token.as_str()), ("new_password", "short")])
        .send()
        .await
        .unwrap();
    let back = location(&res);
    assert!(
        back.contains("/reset-password?token=") && back.contains("__err="),
        "{back}"
    );
    let page = browser
        .get(&back.replace(&server.base, ""))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("must be at least 10 characters"), "{page}");
    assert!(page.contains("Set new password"), "the form is still there");
    let res = browser
        .form(
            "/sfn/reset_password",
            &[("token", token.as_str()), ("new_password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(location(&res), "/login?reset=done");
    let page = browser.get("/login?reset=done").await.text().await.unwrap();
    assert!(page.contains("Your password was changed"));
    let res = browser
        .form(
            "/sfn/login",
            &[("email", "ed@example.com"), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(location(&res), "/dashboard");

    // Opening the used link again says so, and offers a new one.
    let page = browser.get(path).await.text().await.unwrap();
    assert!(
        page.contains("used already") && page.contains("href=\"/forgot-password\""),
        "{page}"
    );
    let page = browser
        .get("/reset-password?token=%3Cscript%3Ealert(1)%3C/script%3E")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("not valid") && !page.contains("<script>alert(1)"),
        "{page}"
    );
}

#[tokio::test]
async fn bad_input_on_the_reset_endpoints_changes_nothing() {
    let smtp = SmtpServer::start().await;
    let server = server_mailing_to(&smtp.url()).await;
    let api = server.api();
    api.register("fay@example.com", PASSWORD, "Fay").await;
    let raw = |path: &'static str, body: String, content_type: &'static str| {
        let http = api.http.clone();
        let url = format!("{}{path}", api.base);
        async move {
            http.post(url)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    const REQUEST: &str = "/api/v1/auth/password-reset/request";
    const CONFIRM: &str = "/api/v1/auth/password-reset/confirm";
    for path in [REQUEST, CONFIRM] {
        let res = raw(path, "{\"email\": ".into(), "application/json").await;
        expect_error(res, 400, "INVALID_JSON").await;
        let res = raw(path, "{}".into(), "text/plain").await;
        expect_error(res, 415, "UNSUPPORTED_MEDIA_TYPE").await;
        let huge = format!("{{\"email\": \"{}\"}}", "a".repeat(1024 * 1024 + 10));
        let res = raw(path, huge, "application/json").await;
        expect_error(res, 413, "PAYLOAD_TOO_LARGE").await;
        let res = api.post(path, json!([])).await;
        expect_error(res, 422, "VALIDATION_ERROR").await;
    }
    let cases: Vec<(Value, &str)> = vec![
        (json!({"email": 5}), "body.email"),
        (json!({}), "body.email"),
        (json!({"email": "<script>alert(1)</script>"}), "body.email"),
        (
            json!({"email": "fay@example.com\r\nBcc: x@evil.example"}),
            "body.email",
        ),
        (
            json!({"email": format!("{}@example.com", "a".repeat(300))}),
            "body.email",
        ),
    ];
    for (body, field) in cases {
        let res = api.post(REQUEST, body.clone()).await;
        let err = expect_error(res, 422, "VALIDATION_ERROR").await;
        assert_eq!(err["errors"][0]["field"], field, "{body} → {err}");
    }
    let res = api
        .post(CONFIRM, json!({"token": 5, "new_password": NEW_PASSWORD}))
        .await;
    expect_error(res, 422, "VALIDATION_ERROR").await;
    let res = api.post(CONFIRM, json!({"token": "x"})).await;
    expect_error(res, 422, "VALIDATION_ERROR").await;
    for token in [
        "'; DROP TABLE users; --".to_string(),
        "".to_string(),
        "\u{0}\u{202e}".to_string(),
        "a".repeat(100_000),
    ] {
        let res = confirm(&api, &token, NEW_PASSWORD).await;
        expect_error(res, 400, "EMAIL_TOKEN_INVALID").await;
    }
    // A right token with a bad password: refused, and the token still works after.
    request_reset(&api, "fay@example.com").await;
    let token = reset_token(&server, &smtp, 1).await;
    for password in ["short", &"p".repeat(257)] {
        let res = confirm(&api, &token, password).await;
        let err = expect_error(res, 422, "VALIDATION_ERROR").await;
        assert_eq!(err["errors"][0]["field"], "body.new_password");
    }
    api.login("fay@example.com", PASSWORD).await;
    assert_eq!(confirm(&api, &token, NEW_PASSWORD).await.status(), 204);
    // Only the one link was ever mailed; no bad request queued anything.
    assert_eq!(
        outbox_for(&server, "fay@example.com").await[0].kind,
        "password_reset"
    );
    assert_eq!(
        outbox_for(&server, "fay@example.com")
            .await
            .iter()
            .filter(|m| m.kind == "password_reset")
            .count(),
        1
    );
}
