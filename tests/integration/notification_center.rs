//! The notification center: event mail at the real SMTP listener (once, however often the
//! dispatch asks), the bell's live stream (a user's own count only), admin broadcasts
//! (admins only, delivered by the event dispatch on each user's channels) and the list's
//! type filter.

use crate::analytics::portal_sign_in;
use crate::harness::*;
use crate::mail::{PASSWORD, now_ms};
use crate::notification_prefs::put;
use crate::smtp::SmtpServer;
use crate::usage_live::Events;
use keyport::mail::events::{EventMail, mail_event};
use serde_json::{Value, json};
use std::time::Duration;

/// A server that mails to `smtp` and runs no job runner of its own: tests run due jobs with
/// `run_due`, so nothing races them.
async fn server(smtp: &SmtpServer) -> TestServer {
    TestServer::start_with(&[
        ("KEYPORT_ADMIN_EMAIL", ADMIN_EMAIL),
        ("KEYPORT_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("KEYPORT_SMTP_URL", &smtp.url()),
        ("KEYPORT_MAIL_FROM", "Keyport Test <keys@keyport.test>"),
        ("KEYPORT_RUN_JOBS", "false"),
    ])
    .await
}

async fn user_id(api: &Api, token: &str) -> i64 {
    let me: Value = api
        .get("/api/v1/users/me", Some(token))
        .await
        .json()
        .await
        .unwrap();
    me["id"].as_i64().unwrap()
}

/// Runs the jobs due now (the dispatch of events just written). Real time, not later: mail
/// queued by a job is due at the job's `now`, and the sender delivers what is due by the clock.
async fn run_jobs(server: &TestServer) {
    keyport::jobs::runner::run_due(&server.state, time::OffsetDateTime::now_utc()).await;
}

/// The next `unread` event's data.
async fn next(events: &mut Events) -> Value {
    let (name, data) = tokio::time::timeout(Duration::from_secs(20), events.next())
        .await
        .expect("an event")
        .expect("the stream is open");
    assert_eq!(name, "unread");
    serde_json::from_str(&data).unwrap()
}

async fn notifications(api: &Api, token: &str, query: &str) -> Value {
    let res = api
        .get(&format!("/api/v1/notifications{query}"), Some(token))
        .await;
    assert_eq!(res.status(), 200, "{query}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn an_event_mail_arrives_once_however_often_it_is_sent() {
    let smtp = SmtpServer::start().await;
    let server = server(&smtp).await;
    let api = server.api();
    api.register("uma@example.com", PASSWORD, "Uma").await;
    let (token, _) = api.login("uma@example.com", PASSWORD).await;
    let id = user_id(&api, &token).await;
    let mail = EventMail {
        event_id: 41,
        kind: "key.expiring",
        title: "Key ci expires soon",
        body: "The API key ci (kp…abcd) expires in 7 days. <b>Rotate</b> it.",
        link: "/keys/7",
    };
    let now = time::OffsetDateTime::now_utc();
    mail_event(&server.state, id, &mail, now).await.unwrap();
    mail_event(&server.state, id, &mail, now).await.unwrap();
    let got = smtp.wait_for(1).await;
    assert_eq!(got[0].subject(), "Key ci expires soon");
    assert_eq!(got[0].to, vec!["uma@example.com".to_string()]);
    let base = server.state.mailer.public_url().to_string();
    let text = got[0].text();
    assert!(text.contains("Hello Uma,"), "{text}");
    assert!(text.contains(&format!("{base}/keys/7")), "{text}");
    assert!(
        text.contains(&format!(
            "Manage which mails you get: {base}/account/notifications"
        )),
        "{text}"
    );
    let html = got[0].html();
    assert!(
        html.contains("&lt;b&gt;Rotate&lt;/b&gt;"),
        "escaped: {html}"
    );
    assert!(
        html.contains(&format!("href=\"{base}/account/notifications\"")),
        "{html}"
    );
    // Every due message delivered now (as the sender would): there is no second.
    let state = &server.state;
    let run = keyport::mail::outbox::deliver_due(&state.db, &state.mailer, now_ms() + 1)
        .await
        .unwrap();
    assert_eq!(run.sent, 0, "{run:?}");
    assert_eq!(smtp.messages().len(), 1);
    // Another event, or another user, is another mail.
    let other = EventMail {
        event_id: 42,
        ..mail
    };
    mail_event(&server.state, id, &other, now).await.unwrap();
    smtp.wait_for(2).await;
    // A user who is gone gets nothing, and that is no error.
    mail_event(&server.state, 999_999, &mail, now)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_live_stream_sends_a_users_own_count_when_it_changes() {
    let smtp = SmtpServer::start().await;
    let server = server(&smtp).await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    let bob = user_token(&api, "bob@example.com").await;
    let alice_browser = portal_sign_in(&server, "alice@example.com").await;
    let bob_browser = portal_sign_in(&server, "bob@example.com").await;

    expect_error(
        server.browser().get("/notifications/live").await,
        401,
        "UNAUTHORIZED",
    )
    .await;

    let mut alice_live = Events::open(&alice_browser, "/notifications/live").await;
    let mut bob_live = Events::open(&bob_browser, "/notifications/live").await;
    assert_eq!(next(&mut alice_live).await, json!({"unread": 0}));
    assert_eq!(next(&mut bob_live).await, json!({"unread": 0}));

    // A broadcast to admins reaches neither; one to users reaches both (through the dispatch,
    // which signals the hub).
    let admin = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.0;
    let res = api
        .post_auth(
            "/api/v1/admin/broadcasts",
            &admin,
            json!({"title": "Maintenance tonight", "body": "22:00 to 23:00 UTC.", "link": "/docs", "role": "user"}),
        )
        .await;
    assert_eq!(res.status(), 202);
    run_jobs(&server).await;
    assert_eq!(next(&mut alice_live).await, json!({"unread": 1}));
    assert_eq!(next(&mut bob_live).await, json!({"unread": 1}));

    // Alice reads hers: only her stream hears of it, with her count.
    let id = notifications(&api, &alice, "").await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let res = api
        .post_auth(
            &format!("/api/v1/notifications/{id}/read"),
            &alice,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(next(&mut alice_live).await, json!({"unread": 0}));
    // Bob's next event is his own change, not Alice's.
    let res = api
        .post_auth("/api/v1/notifications/read-all", &bob, json!({}))
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(next(&mut bob_live).await, json!({"unread": 0}));
    assert_eq!(server.state.notifications.watched_users(), 2);
}

#[tokio::test]
async fn broadcasts_are_for_admins_and_reach_each_user_on_their_channels() {
    let smtp = SmtpServer::start().await;
    let server = server(&smtp).await;
    let api = server.api();
    let path = "/api/v1/admin/broadcasts";
    let body = json!({"title": "New docs", "body": "Read them.", "link": "/docs"});
    api.register("vic@example.com", PASSWORD, "Vic").await;
    let (vic, _) = api.login("vic@example.com", PASSWORD).await;
    api.register("wyn@example.com", PASSWORD, "Wyn").await;
    let (wyn, _) = api.login("wyn@example.com", PASSWORD).await;
    let admin = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.0;

    expect_error(api.post(path, body.clone()).await, 401, "UNAUTHORIZED").await;
    expect_error(
        api.post_auth(path, &vic, body.clone()).await,
        403,
        "FORBIDDEN",
    )
    .await;
    expect_error(
        api.post_auth(path, &vic, json!({"nonsense": 1})).await,
        403,
        "FORBIDDEN",
    )
    .await;
    for bad in [
        json!({"title": "", "body": "x"}),
        json!({"title": "x".repeat(121), "body": "x"}),
        json!({"title": "x", "body": "x".repeat(2001)}),
        json!({"title": "x", "body": "x", "link": "javascript:alert(1)"}),
        json!({"title": "x", "body": "x", "link": "//evil.example"}),
        json!({"title": "x", "body": "x", "role": "god"}),
        json!({"title": "a\r\nBcc: all@example.com", "body": "x"}),
        json!({"title": 5, "body": "x"}),
        json!({"body": "x"}),
    ] {
        expect_error(
            api.post_auth(path, &admin, bad.clone()).await,
            422,
            "VALIDATION_ERROR",
        )
        .await;
    }
    let res = api
        .http
        .post(format!("{}{path}", api.base))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{\"title\":")
        .send()
        .await
        .unwrap();
    expect_error(res, 400, "INVALID_JSON").await;
    run_jobs(&server).await;
    assert_eq!(
        notifications(&api, &vic, "").await["total"],
        0,
        "nothing refused was sent"
    );

    // Vic wants announcement mail and no in-app copy; Wyn keeps the defaults.
    let res = put(
        &api,
        &vic,
        json!({"preferences": {"broadcast": {"email": true, "in_app": false}}}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let res = api
        .post_auth(path, &admin, json!({"title": "<b>Maintenance</b>", "body": "Tonight.\nBack by 23:00.", "link": "https://status.example.com/"}))
        .await;
    assert_eq!(res.status(), 202);
    let sent: Value = res.json().await.unwrap();
    assert_eq!(sent["recipients"], 3, "everyone: the admin and two users");
    let event_id = sent["event_id"].as_i64().unwrap();
    run_jobs(&server).await;

    let wyns = notifications(&api, &wyn, "").await;
    assert_eq!(wyns["total"], 1);
    assert_eq!(wyns["items"][0]["kind"], "broadcast");
    assert_eq!(wyns["items"][0]["title"], "<b>Maintenance</b>");
    assert_eq!(wyns["items"][0]["link"], "https://status.example.com/");
    assert_eq!(
        notifications(&api, &vic, "").await["total"],
        0,
        "in-app off"
    );
    let got = smtp.wait_for(1).await;
    assert_eq!(got[0].to, vec!["vic@example.com".to_string()]);
    assert_eq!(got[0].subject(), "<b>Maintenance</b>");
    assert!(got[0].html().contains("&lt;b&gt;Maintenance&lt;/b&gt;"));

    // The dispatch running again (after a crash) notifies and mails nobody twice.
    let now = time::OffsetDateTime::now_utc();
    keyport::domain::events::dispatch(&server.state, event_id, now)
        .await
        .unwrap();
    assert_eq!(notifications(&api, &wyn, "").await["total"], 1);
    let run =
        keyport::mail::outbox::deliver_due(&server.state.db, &server.state.mailer, now_ms() + 1)
            .await
            .unwrap();
    assert_eq!(run.sent, 0, "{run:?}");
    assert_eq!(smtp.messages().len(), 1);

    // To one role only.
    let res = api
        .post_auth(
            path,
            &admin,
            json!({"title": "Admins only", "body": "x", "role": "super_admin"}),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["recipients"], 1);
    run_jobs(&server).await;
    assert_eq!(notifications(&api, &wyn, "").await["total"], 1);
    let admins = notifications(&api, &admin, "?kind=broadcast").await;
    assert_eq!(admins["total"], 2);
    assert_eq!(admins["items"][0]["title"], "Admins only");

    // The admin page's form does the same, without JavaScript; a user's is refused.
    let portal = crate::analytics::portal_sign_in_as(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let html = page_html(&portal, "/admin").await;
    assert!(html.contains("action=\"/sfn/send_broadcast\""));
    let res = portal
        .form(
            "/sfn/send_broadcast",
            &[
                ("title", "From the form"),
                ("body", "Hello"),
                ("link", ""),
                ("role", ""),
            ],
        )
        .await;
    assert_eq!(location(&res), "/admin?broadcast=3");
    let vic_portal =
        crate::analytics::portal_sign_in_as(&server, "vic@example.com", PASSWORD).await;
    let res = vic_portal
        .form("/sfn/send_broadcast", &[("title", "x"), ("body", "y")])
        .await;
    assert!(location(&res).contains("__err="), "{}", location(&res));
    run_jobs(&server).await;
    assert_eq!(notifications(&api, &wyn, "").await["total"], 2);
}

#[tokio::test]
async fn the_list_filters_by_event_type() {
    let smtp = SmtpServer::start().await;
    let server = server(&smtp).await;
    let api = server.api();
    let token = user_token(&api, "xia@example.com").await;
    let admin = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.0;
    let key = create(&api, &token, json!({"name": "ci"})).await;
    let res = api
        .post_auth(
            &format!("/api/v1/keys/{}/revoke", key["id"]),
            &token,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = api
        .post_auth(
            "/api/v1/admin/broadcasts",
            &admin,
            json!({"title": "Hello everyone", "body": "there"}),
        )
        .await;
    assert_eq!(res.status(), 202);
    run_jobs(&server).await;

    let all = notifications(&api, &token, "").await;
    // One dispatch run delivers the three events in no promised order.
    let mut kinds: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["broadcast", "key.created", "key.revoked"], "{all}");
    assert_eq!(
        notifications(&api, &token, "?kind=broadcast").await["total"],
        1
    );
    assert_eq!(
        notifications(&api, &token, "?kind=key.revoked").await["total"],
        1
    );
    assert_eq!(notifications(&api, &token, "?kind=key.*").await["total"], 2);
    assert_eq!(
        notifications(&api, &token, "?kind=key.*&unread=true&per_page=1").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        notifications(&api, &token, "?kind=security.*").await["total"],
        0
    );
    for bad in [
        "?kind=nope",
        "?kind=key.%25",
        "?kind=%27%20OR%201%3D1",
        "?kind=*",
    ] {
        expect_error(
            api.get(&format!("/api/v1/notifications{bad}"), Some(&token))
                .await,
            422,
            "VALIDATION_ERROR",
        )
        .await;
    }

    // The page: the type select, and the filter kept in the list's links and forms.
    let browser = portal_sign_in(&server, "xia@example.com").await;
    let html = page_html(&browser, "/notifications?kind=key.*").await;
    assert!(
        html.contains("All notifications: Any key event"),
        "the heading names the filter"
    );
    assert!(html.contains("Key ci revoked") && !html.contains("Hello everyone"));
    assert!(
        html.contains("name=\"kind\" value=\"key.*\""),
        "kept through mark read"
    );
    assert!(
        html.contains("aria-label=\"Notifications, 3 unread\""),
        "the bell's count"
    );
    let html = page_html(&browser, "/notifications?kind=security.*").await;
    assert!(html.contains("No notifications of this type"));
    let html = page_html(&browser, "/notifications?kind=%3Cscript%3E").await;
    assert!(
        html.contains(">All notifications</h2>"),
        "an unknown filter is ignored"
    );
}

#[tokio::test]
async fn account_security_changes_are_notified_in_the_portal() {
    let smtp = SmtpServer::start().await;
    let server = server(&smtp).await;
    let api = server.api();
    api.register("yan@example.com", PASSWORD, "Yan").await;
    let (token, _) = api.login("yan@example.com", PASSWORD).await;
    let res = api
        .post_auth(
            "/api/v1/users/me/password",
            &token,
            json!({"current_password": PASSWORD, "new_password": "yan's second password"}),
        )
        .await;
    assert_eq!(res.status(), 204);
    run_jobs(&server).await;
    let (token, _) = api.login("yan@example.com", "yan's second password").await;
    let got = notifications(&api, &token, "?kind=security.*").await;
    assert_eq!(got["total"], 1, "{got}");
    assert_eq!(got["items"][0]["kind"], "security.password_changed");
    assert_eq!(got["items"][0]["title"], "Your password was changed");
    // Mailed once, by the account code (the dispatch does not mail it again).
    smtp.wait_for(1).await;
    let run =
        keyport::mail::outbox::deliver_due(&server.state.db, &server.state.mailer, now_ms() + 1)
            .await
            .unwrap();
    assert_eq!(run.sent, 0, "{run:?}");
    assert_eq!(smtp.messages().len(), 1);
}
