//! Security notices by mail, caught by a real SMTP listener: password changed, two-factor
//! sign-in on and off, a recovery code used. A notice that cannot be queued never fails the
//! change it is about.

use crate::harness::*;
use crate::mail::{PASSWORD, server_mailing_to};
use crate::smtp::SmtpServer;
use keyport::domain::totp::TotpSecret;
use serde_json::{Value, json};

const NEW_PASSWORD: &str = "gil's second password";

#[tokio::test]
async fn the_owner_is_mailed_on_password_and_two_factor_changes() {
    let smtp = SmtpServer::start().await;
    let server = server_mailing_to(&smtp.url()).await;
    let api = server.api();
    api.register("gil@example.com", PASSWORD, "Gil").await;
    let (token, _) = api.login("gil@example.com", PASSWORD).await;

    let res = api
        .post_auth(
            "/api/v1/users/me/password",
            &token,
            json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        smtp.wait_for(1).await[0].subject(),
        "Your Keyport password was changed"
    );

    let res = api
        .post_auth("/api/v1/auth/2fa/setup", &token, json!({}))
        .await;
    let setup: Value = res.json().await.unwrap();
    let secret = TotpSecret::from_base32(setup["secret"].as_str().unwrap()).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    let res = api
        .post_auth(
            "/api/v1/auth/2fa/enable",
            &token,
            json!({"code": secret.code_at(now)}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let codes: Value = res.json().await.unwrap();
    let recovery: Vec<String> = codes["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        smtp.wait_for(2).await[1].subject(),
        "Two-factor sign-in is on for your Keyport account"
    );

    let res = api
        .post(
            "/api/v1/auth/login",
            json!({"email": "gil@example.com", "password": NEW_PASSWORD, "totp_code": recovery[0]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        smtp.wait_for(3).await[2].subject(),
        "A recovery code was used to sign in to Keyport"
    );

    let res = api
        .post_auth(
            "/api/v1/auth/2fa/disable",
            &token,
            json!({"password": NEW_PASSWORD, "code": recovery[1]}),
        )
        .await;
    assert_eq!(res.status(), 204);
    let got = smtp.wait_for(4).await;
    assert_eq!(
        got[3].subject(),
        "Two-factor sign-in is off for your Keyport account"
    );
    for m in &got {
        assert_eq!(m.to, vec!["gil@example.com".to_string()]);
        let text = m.text();
        assert!(text.contains("Hello Gil,"), "{text}");
        assert!(text.contains("IP address: 127.0.0.1"), "{text}");
        assert!(text.contains("/forgot-password"), "{text}");
    }
    // A wrong code is no change: nothing more was sent.
    server.state.mailer.background_idle().await;
    assert_eq!(smtp.messages().len(), 4);
}

#[tokio::test]
async fn a_notice_that_cannot_be_queued_never_fails_the_change() {
    let smtp = SmtpServer::start().await;
    let server = server_mailing_to(&smtp.url()).await;
    let api = server.api();
    api.register("hal@example.com", PASSWORD, "Hal").await;
    let (token, _) = api.login("hal@example.com", PASSWORD).await;
    // The outbox is gone (a broken database): queueing fails, the change does not.
    const SQL: &str = "DROP TABLE mail_outbox";
    match &server.state.db {
        keyport::db::Db::Sqlite(p) => sqlx::query(SQL).execute(p).await.map(|_| ()),
        keyport::db::Db::Postgres(p) => sqlx::query(SQL).execute(p).await.map(|_| ()),
    }
    .unwrap();
    let res = api
        .post_auth(
            "/api/v1/users/me/password",
            &token,
            json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 204);
    api.login("hal@example.com", NEW_PASSWORD).await;
    assert!(captured_logs().contains("queueing a notice mail failed"));
    assert!(smtp.messages().is_empty());
}

#[tokio::test]
async fn new_recovery_codes_and_an_admin_reset_are_mailed_to_the_owner() {
    let smtp = SmtpServer::start().await;
    let server = server_mailing_to(&smtp.url()).await;
    let api = server.api();
    api.register("hal@example.com", PASSWORD, "Hal").await;
    let (token, _) = api.login("hal@example.com", PASSWORD).await;
    let (secret, _) = crate::two_factor_manage::turn_on(&api, &token).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    smtp.wait_for(1).await;

    let res = api
        .post_auth(
            "/api/v1/auth/2fa/recovery-codes",
            &token,
            json!({"password": PASSWORD, "code": secret.code_at(now + 30)}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        smtp.wait_for(2).await[1].subject(),
        "New recovery codes for your Keyport account"
    );

    let me: Value = api
        .get("/api/v1/users/me", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    let admin = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.0;
    let path = format!("/api/v1/admin/users/{}/2fa/reset", me["id"]);
    assert_eq!(api.post_auth(&path, &admin, json!({})).await.status(), 204);
    let got = smtp.wait_for(3).await;
    assert_eq!(
        got[2].subject(),
        "An administrator turned off two-factor sign-in for your Keyport account"
    );
    assert_eq!(got[2].to, vec!["hal@example.com".to_string()]);
    assert!(
        got[2]
            .text()
            .contains("Set it up again from your account page")
    );
    // A refused reset (nothing to reset) queues nothing: delivering every due message now
    // (as the sender job would) sends no fourth.
    let res = api.post_auth(&path, &admin, json!({})).await;
    assert_eq!(res.status(), 409);
    let state = &server.state;
    let now_ms = crate::mail::now_ms();
    let run = keyport::mail::outbox::deliver_due(&state.db, &state.mailer, now_ms + 1)
        .await
        .unwrap();
    assert_eq!(run.sent, 0, "{run:?}");
    assert_eq!(smtp.messages().len(), 3);
}
