//! Email verification in the portal, with the link from mail caught by a real SMTP listener:
//! unconfirmed accounts see a banner with a "send again" button (throttled), the link's page
//! confirms with a button (a GET uses nothing up), and KEYPORT_REQUIRE_VERIFIED_EMAIL keeps
//! unconfirmed accounts from creating keys over REST and in the portal.

use crate::harness::*;
use crate::mail::PASSWORD;
use crate::smtp::SmtpServer;
use serde_json::json;

async fn server(smtp: &SmtpServer, require: bool) -> TestServer {
    TestServer::start_with(&[
        ("KEYPORT_ADMIN_EMAIL", ADMIN_EMAIL),
        ("KEYPORT_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("KEYPORT_SMTP_URL", &smtp.url()),
        (
            "KEYPORT_REQUIRE_VERIFIED_EMAIL",
            if require { "true" } else { "false" },
        ),
    ])
    .await
}

#[tokio::test]
async fn the_banner_the_link_page_and_resending_in_the_portal() {
    let smtp = SmtpServer::start().await;
    let server = server(&smtp, false).await;
    let browser = server.browser();
    let res = browser
        .form(
            "/sfn/register",
            &[
                ("name", "Gus"),
                ("email", "gus@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(location(&res), "/dashboard");
    let page = browser.get("/dashboard").await.text().await.unwrap();
    assert!(page.contains("Confirm your email address"), "{page}");
    assert!(page.contains("gus@example.com") && page.contains("Send the link again"));

    let first = smtp.wait_for_confirmations(1).await[0]
        .link(&server.state.config.public_url, "/verify-email")
        .1;
    // Asking again mails a new link, which replaces the first; a fourth within 15 minutes is
    // refused.
    for n in 1..=2 {
        let res = browser.form("/sfn/resend_verification", &[]).await;
        assert_eq!(location(&res), "/account?saved=verification", "resend {n}");
    }
    let res = browser.form("/sfn/resend_verification", &[]).await;
    assert_eq!(location(&res), "/account?saved=verification");
    let res = browser.form("/sfn/resend_verification", &[]).await;
    assert!(location(&res).contains("__err="), "{}", location(&res));
    let got = smtp.wait_for_confirmations(4).await;
    assert_eq!(got.len(), 4);
    let newest = got[3]
        .link(&server.state.config.public_url, "/verify-email")
        .1;
    let api = server.api();
    let res = api
        .post("/api/v1/auth/verify-email", json!({ "token": first }))
        .await;
    expect_error(res, 400, "EMAIL_TOKEN_INVALID").await;

    // Opening the link only shows a button (scanners fetch links); the click confirms.
    let page = browser
        .get(&format!("/verify-email?token={newest}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Confirm my address") && page.contains(&newest));
    assert!(
        browser
            .get("/dashboard")
            .await
            .text()
            .await
            .unwrap()
            .contains("Send the link again")
    );
    let res = browser
        .form("/sfn/verify_email", &[("token", newest.as_str())])
        .await;
    assert_eq!(location(&res), "/dashboard?verified=1");
    let page = browser
        .get("/dashboard?verified=1")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Your email address is confirmed."));
    assert!(
        !page.contains("Send the link again"),
        "no banner once confirmed"
    );
    let res = browser.form("/sfn/resend_verification", &[]).await;
    assert!(location(&res).contains("__err="));
}

#[tokio::test]
async fn unconfirmed_accounts_create_no_keys_when_it_is_required() {
    let smtp = SmtpServer::start().await;
    let server = server(&smtp, true).await;
    let api = server.api();
    api.register("hil@example.com", PASSWORD, "Hil").await;
    let (token, _) = api.login("hil@example.com", PASSWORD).await;
    let res = api
        .post_auth("/api/v1/keys", &token, json!({"name": "first"}))
        .await;
    expect_error(res, 403, "EMAIL_NOT_VERIFIED").await;
    let browser = server.browser();
    browser
        .form(
            "/sfn/login",
            &[("email", "hil@example.com"), ("password", PASSWORD)],
        )
        .await;
    let res = browser.form("/sfn/create_key", &[("name", "portal")]).await;
    assert!(location(&res).contains("__err="), "{}", location(&res));
    let list: serde_json::Value = api
        .get("/api/v1/keys", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0, "nothing was created");

    let link = smtp.wait_for_confirmations(1).await[0]
        .link(&server.state.config.public_url, "/verify-email")
        .1;
    let res = api
        .post("/api/v1/auth/verify-email", json!({ "token": link }))
        .await;
    assert_eq!(res.status(), 204);
    let res = api
        .post_auth("/api/v1/keys", &token, json!({"name": "first"}))
        .await;
    assert_eq!(res.status(), 201);
    // The first admin counts as confirmed.
    let (admin, _) = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let res = api
        .post_auth("/api/v1/keys", &admin, json!({"name": "admin's"}))
        .await;
    assert_eq!(res.status(), 201);
}
