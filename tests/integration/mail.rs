//! The mail path against a real SMTP listener (tests/integration/smtp.rs): messages arrive
//! with the right envelope, headers and links; the outbox retries while the mail server is
//! down (driven with explicit `now` values) and delivers when it is back; one runner per
//! message; without KEYPORT_SMTP_URL messages become .eml files in the data dir.

use crate::harness::*;
use crate::smtp::{Received, SmtpServer, free_port};
use keyport::db::mail_outbox::{self, MailState};
use keyport::mail::{Mail, Notice, Recipient, outbox};
use serde_json::json;
use std::time::Duration;

pub const PASSWORD: &str = "long-enough-pw";

/// A server (setup done) whose mail goes to `smtp_url`.
pub async fn server_mailing_to(smtp_url: &str) -> TestServer {
    TestServer::start_with(&[
        ("KEYPORT_ADMIN_EMAIL", ADMIN_EMAIL),
        ("KEYPORT_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("KEYPORT_SMTP_URL", smtp_url),
        ("KEYPORT_MAIL_FROM", "Keyport Test <keys@keyport.test>"),
    ])
    .await
}

pub fn now_ms() -> i64 {
    keyport::domain::to_millis(time::OffsetDateTime::now_utc())
}

/// The outbox rows of `email`, but the confirmation link registration mails (as
/// `SmtpServer::messages` leaves it out).
pub async fn outbox_for(server: &TestServer, email: &str) -> Vec<MailState> {
    let rows = mail_outbox::list_for_recipient(&server.state.db, email)
        .await
        .unwrap();
    rows.into_iter()
        .filter(|r| r.kind != "verify_email")
        .collect()
}

/// Waits (up to 10 s) until `check` holds for the outbox rows of `email`: the sender job runs
/// on its own task.
pub async fn wait_outbox(
    server: &TestServer,
    email: &str,
    what: &str,
    check: impl Fn(&[MailState]) -> bool,
) -> Vec<MailState> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let rows = outbox_for(server, email).await;
        if check(&rows) {
            return rows;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "outbox of {email}: {what}; it is {rows:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn request_reset(api: &Api, email: &str) {
    let res = api
        .post(
            "/api/v1/auth/password-reset/request",
            json!({ "email": email }),
        )
        .await;
    assert_eq!(res.status(), 202, "reset request for {email}");
}

fn check_envelope_and_headers(m: &Received, to: &str, subject: &str) {
    assert_eq!(m.from, "keys@keyport.test");
    assert_eq!(m.to, vec![to.to_string()]);
    assert_eq!(m.subject(), subject);
    let to_header = m.header("to").unwrap();
    assert!(to_header.contains(&format!("<{to}>")), "{to_header}");
    assert!(m.header("from").unwrap().contains("keys@keyport.test"));
    assert!(m.header("message-id").unwrap().contains("@keyport.test>"));
    assert!(m.header("date").is_some());
    assert!(
        m.header("content-type")
            .unwrap()
            .starts_with("multipart/alternative"),
        "text and HTML bodies"
    );
}

#[tokio::test]
async fn reset_mail_arrives_at_once_with_a_working_link() {
    let smtp = SmtpServer::start().await;
    let server = server_mailing_to(&smtp.url()).await;
    let api = server.api();
    api.register("ada@example.com", PASSWORD, "Ada <b>Lovelace</b>")
        .await;

    let asked = std::time::Instant::now();
    request_reset(&api, "ada@example.com").await;
    let got = smtp.wait_for(1).await;
    // Woken by the send, not by the 30-second tick.
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "{:?}",
        asked.elapsed()
    );
    let m = &got[0];
    check_envelope_and_headers(m, "ada@example.com", "Reset your Keyport password");
    let public_url = server.state.config.public_url.clone();
    let (link, token) = m.link(&public_url, "/reset-password");
    assert!(
        m.text().contains("Hello Ada <b>Lovelace</b>,"),
        "{}",
        m.text()
    );
    let html = m.html();
    assert!(
        html.contains("Hello Ada &lt;b&gt;Lovelace&lt;/b&gt;,"),
        "{html}"
    );
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
    assert!(token.len() >= 40, "{token}");

    // The link opens the form, and its token sets a password once.
    let page = server
        .browser()
        .get(link.strip_prefix(&public_url).unwrap())
        .await;
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    assert!(body.contains("Set new password"), "{body}");
    let confirm = json!({"token": token, "new_password": "a brand new password"});
    let res = api
        .post("/api/v1/auth/password-reset/confirm", confirm.clone())
        .await;
    assert_eq!(res.status(), 204);
    let res = api
        .post("/api/v1/auth/password-reset/confirm", confirm)
        .await;
    expect_error(res, 400, "EMAIL_TOKEN_INVALID").await;

    let rows = outbox_for(&server, "ada@example.com").await;
    assert_eq!(rows[0].kind, "password_reset");
    assert!(
        rows[0].sent_at.is_some() && rows[0].attempts == 1,
        "{rows:#?}"
    );
    // Nothing in the log names the token.
    assert!(!captured_logs().contains(&token));
}

#[tokio::test]
async fn the_outbox_retries_while_smtp_is_down_and_delivers_when_it_is_back() {
    // The mail server is up, then goes away.
    let smtp = SmtpServer::start().await;
    let server = server_mailing_to(&smtp.url()).await;
    let api = server.api();
    api.register("bo@example.com", PASSWORD, "Bo").await;
    request_reset(&api, "bo@example.com").await;
    smtp.wait_for(1).await;
    let down = smtp.stop();
    request_reset(&api, "bo@example.com").await;

    // The sender tries at once, finds no server, and schedules a retry 30 s later.
    let rows = wait_outbox(&server, "bo@example.com", "one failed attempt", |r| {
        r.len() == 2 && r[1].attempts == 1 && r[1].claimed_until.is_none()
    })
    .await;
    let first = rows[1].clone();
    assert!(first.sent_at.is_none() && first.failed_at.is_none());
    assert!(first.last_error.as_deref().is_some_and(|e| !e.is_empty()));
    let due = first.next_attempt_at;
    assert!(
        due >= first.created_at + 30_000 && due <= now_ms() + 30_000,
        "{first:#?}"
    );

    let (db, mailer) = (&server.state.db, &server.state.mailer);
    let run = outbox::deliver_due(db, mailer, due - 1).await.unwrap();
    assert_eq!(run.claimed, 0, "not due yet");
    let run = outbox::deliver_due(db, mailer, due).await.unwrap();
    assert_eq!((run.claimed, run.retrying), (1, 1), "still down");
    let second = mail_outbox::get(db, first.id).await.unwrap().unwrap();
    assert_eq!(second.attempts, 2);
    assert_eq!(second.next_attempt_at, due + 60_000, "the wait doubles");

    // Back on the same port.
    let smtp = down.restart().await;
    let run = outbox::deliver_due(db, mailer, due + 59_999).await.unwrap();
    assert_eq!(run.claimed, 0);
    assert_eq!(
        smtp.messages().len(),
        1,
        "only the first, sent before the outage"
    );
    let run = outbox::deliver_due(db, mailer, due + 60_000).await.unwrap();
    assert_eq!((run.claimed, run.sent), (1, 1));
    let m = &smtp.wait_for(2).await[1];
    check_envelope_and_headers(m, "bo@example.com", "Reset your Keyport password");
    let sent = mail_outbox::get(db, first.id).await.unwrap().unwrap();
    assert_eq!(
        (sent.attempts, sent.sent_at, sent.last_error),
        (3, Some(due + 60_000), None)
    );
    // Sent is sent: a later run sends nothing again.
    let run = outbox::deliver_due(db, mailer, due + 10 * 3_600_000)
        .await
        .unwrap();
    assert_eq!(run.claimed, 0);

    // The link of the late message works.
    let (_, token) = m.link(&server.state.config.public_url, "/reset-password");
    let res = api
        .post(
            "/api/v1/auth/password-reset/confirm",
            json!({"token": token, "new_password": "bo's new password"}),
        )
        .await;
    assert_eq!(res.status(), 204);
    api.login("bo@example.com", "bo's new password").await;
}

/// A message queued ten days ahead: the sender job (on real time) never finds it due, so this
/// test alone drives every attempt.
async fn queue_ahead(server: &TestServer, email: &str, days: i64) -> (i64, i64) {
    let at = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    let to = Recipient {
        email: email.into(),
        name: "Cy".into(),
    };
    let notice = Mail::PasswordChanged(Notice {
        at,
        ip: "203.0.113.9".into(),
        user_agent: "test".into(),
    });
    let id = server
        .state
        .mailer
        .send(&server.state.db, &to, None, &notice, at)
        .await
        .unwrap();
    (id, keyport::domain::to_millis(at))
}

#[tokio::test]
async fn the_outbox_gives_up_after_the_last_attempt_and_says_so() {
    let port = free_port().await;
    let server = server_mailing_to(&format!("smtp://127.0.0.1:{port}")).await;
    let (db, mailer) = (&server.state.db, &server.state.mailer);
    let (id, mut now) = queue_ahead(&server, "cy@example.com", 10).await;
    for attempt in 1..=outbox::MAX_ATTEMPTS {
        let run = outbox::deliver_due(db, mailer, now).await.unwrap();
        let row = mail_outbox::get(db, id).await.unwrap().unwrap();
        assert_eq!(row.attempts, attempt);
        if attempt < outbox::MAX_ATTEMPTS {
            assert_eq!(run.retrying, 1, "attempt {attempt}");
            assert_eq!(
                row.next_attempt_at,
                now + outbox::retry_delay_ms(attempt),
                "attempt {attempt}"
            );
            now = row.next_attempt_at;
        } else {
            assert_eq!(run.failed, 1);
            assert_eq!(row.failed_at, Some(now));
            assert!(row.sent_at.is_none());
        }
    }
    // Given up is final, even once a server listens again.
    let smtp = SmtpServer::start_on(port).await;
    let run = outbox::deliver_due(db, mailer, now + 365 * 86_400_000)
        .await
        .unwrap();
    assert_eq!(run.claimed, 0);
    assert!(smtp.messages().is_empty());
    assert!(captured_logs().contains(&format!("mail_id={id}")));
    assert!(captured_logs().contains("mail given up"));
}

#[tokio::test]
async fn one_runner_per_message_while_its_lease_runs() {
    let smtp = SmtpServer::start().await;
    let server = server_mailing_to(&smtp.url()).await;
    let (db, mailer) = (&server.state.db, &server.state.mailer);
    let (id, at) = queue_ahead(&server, "di@example.com", 20).await;

    // A runner holds the message: another finds nothing until the lease ends.
    let claimed = mail_outbox::claim_due(db, at, at + outbox::LEASE_MS, 10)
        .await
        .unwrap();
    assert_eq!(claimed.iter().map(|c| c.id).collect::<Vec<_>>(), vec![id]);
    let again =
        mail_outbox::claim_due(db, at + outbox::LEASE_MS - 1, at + 2 * outbox::LEASE_MS, 10)
            .await
            .unwrap();
    assert!(again.is_empty());
    // The lease ended (the runner died): the message is claimed again, and the dead runner's
    // late outcome no longer counts.
    let retaken = mail_outbox::claim_due(db, at + outbox::LEASE_MS, at + 2 * outbox::LEASE_MS, 10)
        .await
        .unwrap();
    assert_eq!(retaken.len(), 1);
    assert!(!mail_outbox::mark_sent(db, &claimed[0], at).await.unwrap());

    // Two runs at the same moment: the message goes out once.
    let later = at + 2 * outbox::LEASE_MS;
    let (a, b) = tokio::join!(
        outbox::deliver_due(db, mailer, later),
        outbox::deliver_due(db, mailer, later)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.sent + b.sent, a.claimed + b.claimed), (1, 1));
    let got = smtp.wait_for(1).await;
    assert_eq!(got.len(), 1);
    check_envelope_and_headers(
        &got[0],
        "di@example.com",
        "Your Keyport password was changed",
    );
    let text = got[0].text();
    assert!(text.contains("IP address: 203.0.113.9"), "{text}");
}

#[tokio::test]
async fn without_an_smtp_url_mail_is_written_as_eml_files_in_the_data_dir() {
    let server = TestServer::start().await;
    let api = server.api();
    api.register("ed@example.com", PASSWORD, "Ed").await;
    request_reset(&api, "ed@example.com").await;
    let rows = wait_outbox(&server, "ed@example.com", "sent", |r| {
        r.len() == 1 && r[0].sent_at.is_some()
    })
    .await;
    let dir = server.data_dir().join("mail");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    // The confirmation link registration mailed, and the reset link: nothing half-written.
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(
        files.iter().all(|f| f.extension().unwrap() == "eml"),
        "{files:?}"
    );
    let file = files
        .iter()
        .find(|f| {
            f.file_name()
                .unwrap()
                .to_string_lossy()
                .ends_with(&format!("-{}.eml", rows[0].id))
        })
        .expect("the reset mail's file is named after its outbox id");
    let data = std::fs::read_to_string(file).unwrap();
    let m = Received {
        from: String::new(),
        to: vec![],
        data,
    };
    assert!(m.header("to").unwrap().contains("<ed@example.com>"));
    assert_eq!(m.subject(), "Reset your Keyport password");
    let (_, token) = m.link(&server.state.config.public_url, "/reset-password");
    let res = api
        .post(
            "/api/v1/auth/password-reset/confirm",
            json!({"token": token, "new_password": "ed's new password"}),
        )
        .await;
    assert_eq!(res.status(), 204);
}

async fn email_verified(api: &Api, token: &str) -> bool {
    let me: serde_json::Value = api
        .get("/api/v1/users/me", Some(token))
        .await
        .json()
        .await
        .unwrap();
    me["email_verified"]
        .as_bool()
        .expect("email_verified in /users/me")
}

#[tokio::test]
async fn registration_mails_a_link_that_confirms_the_address_once() {
    let smtp = SmtpServer::start().await;
    let server = server_mailing_to(&smtp.url()).await;
    let api = server.api();
    let user = api.register("flo@example.com", PASSWORD, "Flo").await;
    assert_eq!(user["email_verified"], false);
    let (token, _) = api.login("flo@example.com", PASSWORD).await;
    assert!(!email_verified(&api, &token).await);

    let m = &smtp.wait_for_confirmations(1).await[0];
    check_envelope_and_headers(
        m,
        "flo@example.com",
        "Confirm your email address for Keyport",
    );
    let (_, link_token) = m.link(&server.state.config.public_url, "/verify-email");
    for bad in [json!({"token": 5}), json!({}), json!([])] {
        let res = api.post("/api/v1/auth/verify-email", bad).await;
        expect_error(res, 422, "VALIDATION_ERROR").await;
    }
    for bad in ["", "'; DROP TABLE users; --", &"x".repeat(10_000)] {
        let res = api
            .post("/api/v1/auth/verify-email", json!({ "token": bad }))
            .await;
        expect_error(res, 400, "EMAIL_TOKEN_INVALID").await;
    }
    // A reset token is no confirmation token, nor the other way round.
    let res = api
        .post(
            "/api/v1/auth/password-reset/confirm",
            json!({"token": link_token, "new_password": "another long password"}),
        )
        .await;
    expect_error(res, 400, "EMAIL_TOKEN_INVALID").await;

    let res = api
        .post("/api/v1/auth/verify-email", json!({ "token": link_token }))
        .await;
    assert_eq!(res.status(), 204);
    assert!(email_verified(&api, &token).await);
    let res = api
        .post("/api/v1/auth/verify-email", json!({ "token": link_token }))
        .await;
    let body = expect_error(res, 400, "EMAIL_TOKEN_INVALID").await;
    assert!(
        body["detail"].as_str().unwrap().contains("used already"),
        "{body}"
    );

    // The first admin (KEYPORT_ADMIN_EMAIL) needs no link and got none.
    let (admin, _) = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(email_verified(&api, &admin).await);
    assert!(
        smtp.all_messages()
            .iter()
            .all(|m| m.to != vec![ADMIN_EMAIL.to_string()])
    );
}
