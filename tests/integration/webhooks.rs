//! Webhooks against a receiver started here: signatures checked with this file's own
//! implementation of the Standard Webhooks spec, retries driven by running the durable job
//! queue with a chosen `now` (the background runner is off), 410 and long failure disabling,
//! SSRF refusals, rotation, access and input.

use crate::harness::*;
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use keyport::domain::webhooks::{WebhookEvent, enqueue_for_event};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

#[derive(Clone, Debug)]
struct Received {
    headers: HashMap<String, String>,
    body: String,
}

#[derive(Clone, Default)]
struct Inbox {
    got: Arc<Mutex<Vec<Received>>>,
    /// Statuses to answer, in turn; 200 once they run out.
    answers: Arc<Mutex<VecDeque<u16>>>,
}

struct Receiver {
    url: String,
    inbox: Inbox,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Receiver {
    async fn start(answers: &[u16]) -> Self {
        let inbox = Inbox::default();
        inbox.answers.lock().unwrap().extend(answers);
        async fn hook(
            State(inbox): State<Inbox>,
            headers: HeaderMap,
            body: Bytes,
        ) -> (StatusCode, String) {
            inbox.got.lock().unwrap().push(Received {
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                    .collect(),
                body: String::from_utf8_lossy(&body).into_owned(),
            });
            let status = inbox.answers.lock().unwrap().pop_front().unwrap_or(200);
            // A long answer: the log keeps 4 KiB of it.
            (StatusCode::from_u16(status).unwrap(), "x".repeat(10_000))
        }
        let app = Router::new()
            .route("/hook", post(hook))
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Self {
            url,
            inbox,
            stop: Some(stop),
        }
    }

    fn got(&self) -> Vec<Received> {
        self.inbox.got.lock().unwrap().clone()
    }
}

/// How many of the `v1,` signatures in `r` verify with `secret` (the spec, implemented here
/// independently of the server).
fn valid_signatures(r: &Received, secret: &str) -> usize {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let signed = format!(
        "{}.{}.{}",
        r.headers["webhook-id"], r.headers["webhook-timestamp"], r.body
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(signed.as_bytes());
    let want = format!("v1,{}", b64.encode(mac.finalize().into_bytes()));
    r.headers["webhook-signature"]
        .split(' ')
        .filter(|s| *s == want)
        .count()
}

async fn private_ok_server() -> TestServer {
    TestServer::start_with(&[
        ("KEYPORT_ADMIN_EMAIL", ADMIN_EMAIL),
        ("KEYPORT_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("KEYPORT_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("KEYPORT_RUN_JOBS", "false"),
    ])
    .await
}

/// Runs the jobs due at `now` (here only webhook deliveries); returns how many ran.
async fn deliver_due(server: &TestServer, now: OffsetDateTime) -> usize {
    keyport::jobs::runner::run_due(&server.state, now)
        .await
        .claimed
}

/// Sends a test message and runs its first attempt; returns the delivery.
async fn test_send(server: &TestServer, api: &Api, token: &str, id: i64) -> Value {
    let res = api
        .post_auth(&format!("/api/v1/webhooks/{id}/test"), token, json!({}))
        .await;
    assert_eq!(res.status(), 202);
    let d: Value = res.json().await.unwrap();
    assert_eq!(d["status"], "pending");
    assert_eq!(d["attempt_count"], 0, "queued for the job runner");
    assert_eq!(deliver_due(server, OffsetDateTime::now_utc()).await, 1);
    get_json(
        api,
        token,
        &format!("/api/v1/webhooks/{id}/deliveries/{}", d["id"]),
    )
    .await
}

async fn create_hook(api: &Api, token: &str, body: Value) -> Value {
    let res = api.post_auth("/api/v1/webhooks", token, body).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn get_json(api: &Api, token: &str, path: &str) -> Value {
    let res = api.get(path, Some(token)).await;
    assert_eq!(res.status(), 200, "GET {path}");
    res.json().await.unwrap()
}

async fn user_id(api: &Api, token: &str) -> i64 {
    get_json(api, token, "/api/v1/users/me").await["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn deliveries_are_signed_retried_after_500s_and_stop_after_success() {
    let server = private_ok_server().await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    let alice_id = user_id(&api, &alice).await;
    let receiver = Receiver::start(&[500, 503]).await;
    let hook = create_hook(
        &api,
        &alice,
        json!({"url": receiver.url, "description": "CI", "event_types": ["key.created", "key.revoked"],
               "headers": {"X-Token": "receiver-auth-123"}}),
    )
    .await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{hook}");
    assert_eq!(hook["enabled"], true);
    assert_eq!(hook["headers"]["x-token"], "receiver-auth-123");
    let id = hook["id"].as_i64().unwrap();

    let t0 = OffsetDateTime::now_utc();
    let data = json!({"key_id": 42, "name": "CI key"});
    // The event happened a minute before its dispatch: the payload carries the event's time.
    let occurred_at = (t0 - Duration::minutes(1)).replace_nanosecond(0).unwrap();
    let event = |event_id, kind| WebhookEvent {
        event_id,
        kind,
        user_id: Some(alice_id),
        org_id: None,
        data: &data,
        occurred_at,
    };
    assert_eq!(
        enqueue_for_event(&server.state, &event(7, "key.created"), t0)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        enqueue_for_event(&server.state, &event(7, "key.created"), t0)
            .await
            .unwrap(),
        0,
        "an event is queued once per endpoint"
    );
    assert_eq!(
        enqueue_for_event(&server.state, &event(8, "key.expired"), t0)
            .await
            .unwrap(),
        0,
        "not subscribed"
    );

    // First attempt at once: 500.
    assert_eq!(deliver_due(&server, t0).await, 1);
    assert_eq!(receiver.got().len(), 1);
    // Not due before 5 s (less 10 % jitter).
    assert_eq!(deliver_due(&server, t0 + Duration::seconds(4)).await, 0);
    let t1 = t0 + Duration::milliseconds(5_600);
    assert_eq!(deliver_due(&server, t1).await, 1, "503 next");
    assert_eq!(deliver_due(&server, t1 + Duration::minutes(4)).await, 0);
    let t2 = t1 + Duration::seconds(331);
    assert_eq!(deliver_due(&server, t2).await, 1, "then 200");
    // Delivered: nothing more, however long we wait.
    assert_eq!(deliver_due(&server, t2 + Duration::days(3)).await, 0);

    let got = receiver.got();
    assert_eq!(got.len(), 3);
    for r in &got {
        assert_eq!(valid_signatures(r, &secret), 1, "{:?}", r.headers);
        assert_eq!(
            r.headers["webhook-id"], got[0].headers["webhook-id"],
            "stable id"
        );
        assert!(r.headers["webhook-id"].starts_with("msg_"));
        assert_eq!(r.headers["content-type"], "application/json");
        assert_eq!(r.headers["x-token"], "receiver-auth-123");
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["type"], "key.created");
        assert_eq!(body["data"], data);
        assert_eq!(
            body["timestamp"],
            occurred_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap(),
            "every attempt carries the event's time"
        );
    }
    let stamps: Vec<i64> = got
        .iter()
        .map(|r| r.headers["webhook-timestamp"].parse().unwrap())
        .collect();
    assert_eq!(
        stamps[0],
        t0.unix_timestamp(),
        "signed at the attempt's time"
    );
    assert_eq!(stamps[2], t2.unix_timestamp());

    // The log: one delivery, three attempts, no secrets.
    let page = get_json(&api, &alice, &format!("/api/v1/webhooks/{id}/deliveries")).await;
    assert_eq!(page["total"], 1);
    let d = &page["items"][0];
    assert_eq!(d["status"], "succeeded");
    assert_eq!(d["event_id"], 7);
    assert_eq!(d["event_type"], "key.created");
    assert_eq!(d["attempt_count"], 3);
    assert_eq!(d["next_attempt_at"], Value::Null);
    let statuses: Vec<i64> = d["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["response_status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 503, 200]);
    let first = &d["attempts"][0];
    assert_eq!(first["attempt"], 1);
    assert_eq!(
        first["response_body"].as_str().unwrap().len(),
        4096,
        "capped"
    );
    assert_eq!(first["request_headers"]["webhook-signature"], "(redacted)");
    assert_eq!(first["request_headers"]["x-token"], "(redacted)");
    assert_eq!(first["request_headers"]["webhook-id"], d["msg_id"]);
    let one = get_json(
        &api,
        &alice,
        &format!("/api/v1/webhooks/{id}/deliveries/{}", d["id"]),
    )
    .await;
    assert_eq!(one["attempts"].as_array().unwrap().len(), 3);
    let hook_now = get_json(&api, &alice, &format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(hook_now["failing_since"], Value::Null, "healthy again");
    assert!(hook_now.get("secret").is_none(), "no secret in GET");
    let logs = captured_logs();
    assert!(!logs.contains(secret.trim_start_matches("whsec_")));
    assert!(!logs.contains("receiver-auth-123"));
}

#[tokio::test]
async fn retries_end_after_eight_attempts_and_redeliver_starts_again() {
    let server = private_ok_server().await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    let receiver = Receiver::start(&[500; 8]).await;
    let hook = create_hook(
        &api,
        &alice,
        json!({"url": receiver.url, "event_types": ["*"]}),
    )
    .await;
    let id = hook["id"].as_i64().unwrap();

    // A test send, queued and run by the job runner.
    let d = test_send(&server, &api, &alice, id).await;
    assert_eq!(d["event_type"], "webhook.test");
    assert_eq!(d["status"], "pending");
    assert_eq!(d["attempts"][0]["response_status"], 500);
    let delivery = d["id"].as_i64().unwrap();

    // Walk the schedule with the most jitter: 7 more attempts, then failed for good.
    let mut t = OffsetDateTime::now_utc();
    for hours in [6.0 / 3600.0, 0.1, 0.57, 2.3, 5.6, 11.1, 11.1] {
        t += Duration::seconds_f64(hours * 3600.0);
        assert_eq!(deliver_due(&server, t).await, 1, "at +{hours} h");
    }
    t += Duration::days(2);
    assert_eq!(deliver_due(&server, t).await, 0);
    assert_eq!(receiver.got().len(), 8);
    let path = format!("/api/v1/webhooks/{id}/deliveries/{delivery}");
    let d = get_json(&api, &alice, &path).await;
    assert_eq!(d["status"], "failed");
    assert_eq!(d["attempt_count"], 8);
    let hook_now = get_json(&api, &alice, &format!("/api/v1/webhooks/{id}")).await;
    assert!(hook_now["failing_since"].is_string());
    assert_eq!(
        hook_now["enabled"], true,
        "27 hours of failure is not 5 days"
    );

    // Redeliver: sent again at once (200 now), same webhook-id, the log counts on.
    let res = api
        .post_auth(&format!("{path}/redeliver"), &alice, json!({}))
        .await;
    assert_eq!(res.status(), 202);
    let d: Value = res.json().await.unwrap();
    assert_eq!(d["status"], "pending");
    assert_eq!(deliver_due(&server, OffsetDateTime::now_utc()).await, 1);
    let d = get_json(&api, &alice, &path).await;
    assert_eq!(d["status"], "succeeded");
    assert_eq!(d["attempt_count"], 9);
    assert_eq!(d["attempts"][8]["attempt"], 9);
    let got = receiver.got();
    assert_eq!(got.len(), 9);
    assert_eq!(got[8].headers["webhook-id"], got[0].headers["webhook-id"]);
}

#[tokio::test]
async fn gone_disables_at_once_and_days_of_failure_disable_too() {
    let server = private_ok_server().await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    let alice_id = user_id(&api, &alice).await;
    let receiver = Receiver::start(&[410]).await;
    let hook = create_hook(
        &api,
        &alice,
        json!({"url": receiver.url, "event_types": ["key.created"]}),
    )
    .await;
    let id = hook["id"].as_i64().unwrap();
    let d = test_send(&server, &api, &alice, id).await;
    assert_eq!(d["status"], "failed", "410 is not retried");
    let h = get_json(&api, &alice, &format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(h["enabled"], false);
    assert_eq!(h["disabled_reason"], "gone");
    let notes = get_json(&api, &alice, "/api/v1/notifications").await;
    assert_eq!(notes["items"][0]["kind"], "webhook.disabled");
    assert_eq!(notes["items"][0]["link"], format!("/webhooks/{id}"));
    // Disabled endpoints get no events and refuse tests.
    let data = json!({});
    let ev = |event_id| WebhookEvent {
        event_id,
        kind: "key.created",
        user_id: Some(alice_id),
        org_id: None,
        data: &data,
        occurred_at: OffsetDateTime::now_utc(),
    };
    let t0 = OffsetDateTime::now_utc();
    assert_eq!(
        enqueue_for_event(&server.state, &ev(1), t0).await.unwrap(),
        0
    );
    let res = api
        .post_auth(&format!("/api/v1/webhooks/{id}/test"), &alice, json!({}))
        .await;
    expect_error(res, 409, "CONFLICT").await;

    // On again; now it fails with 500 for five days.
    let res = patch(
        &api,
        &alice,
        &format!("/api/v1/webhooks/{id}"),
        json!({"enabled": true}),
    )
    .await;
    let h: Value = res.json().await.unwrap();
    assert_eq!(
        (h["enabled"].clone(), h["disabled_reason"].clone()),
        (json!(true), Value::Null)
    );
    receiver.inbox.answers.lock().unwrap().extend([500; 20]);
    assert_eq!(
        enqueue_for_event(&server.state, &ev(2), t0).await.unwrap(),
        1
    );
    assert_eq!(deliver_due(&server, t0).await, 1);
    let h = get_json(&api, &alice, &format!("/api/v1/webhooks/{id}")).await;
    assert!(h["failing_since"].is_string());
    let t5 = t0 + Duration::days(5);
    assert_eq!(
        enqueue_for_event(&server.state, &ev(3), t5).await.unwrap(),
        1
    );
    // Event 2's next retry and event 3's first attempt are both due; the first failure past
    // five days turns the endpoint off, and the other delivery is given up unsent.
    deliver_due(&server, t5).await;
    let h = get_json(&api, &alice, &format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(h["enabled"], false);
    assert_eq!(h["disabled_reason"], "failing");
    let notes = get_json(&api, &alice, "/api/v1/notifications").await;
    assert_eq!(notes["total"], 2, "one notice per disabling");
    let page = get_json(&api, &alice, &format!("/api/v1/webhooks/{id}/deliveries")).await;
    for d in page["items"].as_array().unwrap() {
        assert_ne!(d["status"], "pending", "{d}");
    }
}

#[tokio::test]
async fn rotation_signs_with_both_secrets_for_a_day() {
    let server = private_ok_server().await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    let receiver = Receiver::start(&[]).await;
    let hook = create_hook(
        &api,
        &alice,
        json!({"url": receiver.url, "event_types": ["*"]}),
    )
    .await;
    let id = hook["id"].as_i64().unwrap();
    let old = hook["secret"].as_str().unwrap().to_string();
    let shown = get_json(&api, &alice, &format!("/api/v1/webhooks/{id}/secret")).await;
    assert_eq!(shown["secret"], old);

    let res = api
        .post_auth(
            &format!("/api/v1/webhooks/{id}/rotate-secret"),
            &alice,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let rotated: Value = res.json().await.unwrap();
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert!(rotated["previous_secret_expires_at"].is_string());
    let shown = get_json(&api, &alice, &format!("/api/v1/webhooks/{id}/secret")).await;
    assert_eq!(shown["secret"], new);

    test_send(&server, &api, &alice, id).await;
    let r = &receiver.got()[0];
    assert_eq!(r.headers["webhook-signature"].split(' ').count(), 2);
    assert_eq!(valid_signatures(r, &new), 1);
    assert_eq!(valid_signatures(r, &old), 1);

    // After the overlap, the new secret alone.
    let alice_id = user_id(&api, &alice).await;
    let data = json!({});
    let later = OffsetDateTime::now_utc() + Duration::hours(25);
    let ev = WebhookEvent {
        event_id: 1,
        kind: "key.revoked",
        user_id: Some(alice_id),
        org_id: None,
        data: &data,
        occurred_at: later,
    };
    assert_eq!(
        enqueue_for_event(&server.state, &ev, later).await.unwrap(),
        1
    );
    assert_eq!(deliver_due(&server, later).await, 1);
    let r = &receiver.got()[1];
    assert_eq!(r.headers["webhook-signature"].split(' ').count(), 1);
    assert_eq!(valid_signatures(r, &new), 1);

    // A secret of one's own is accepted when well formed.
    let mine = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let h = create_hook(
        &api,
        &alice,
        json!({"url": receiver.url, "event_types": ["*"], "secret": mine}),
    )
    .await;
    assert_eq!(h["secret"], mine);
    let res = api
        .post_auth(
            "/api/v1/webhooks",
            &alice,
            json!({"url": receiver.url, "event_types": ["*"], "secret": "hunter2"}),
        )
        .await;
    let body = expect_error(res, 422, "VALIDATION_ERROR").await;
    assert_eq!(body["errors"][0]["field"], "body.secret");
    assert!(!body.to_string().contains("hunter2"));
}

#[tokio::test]
async fn private_and_loopback_targets_are_refused_by_default() {
    let server = TestServer::start().await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    for url in [
        "http://127.0.0.1/hook",
        "http://127.1.2.3:8080/",
        "http://10.0.0.5/",
        "http://172.16.3.4/",
        "http://192.168.0.10/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://[::1]/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost:3000/",
        "http://2130706433/",
    ] {
        let res = api
            .post_auth(
                "/api/v1/webhooks",
                &alice,
                json!({"url": url, "event_types": ["*"]}),
            )
            .await;
        let body = expect_error(res, 422, "VALIDATION_ERROR").await;
        assert_eq!(body["errors"][0]["field"], "body.url", "{url}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("non-public"),
            "{url}: {body}"
        );
    }
    let list = get_json(&api, &alice, "/api/v1/webhooks").await;
    assert_eq!(list["total"], 0, "nothing stored");
}

#[tokio::test]
async fn delivery_checks_the_address_again() {
    // Stored while private targets were allowed, then the setting is turned off: the next
    // attempt is refused before connecting.
    let data = KeptData::new("webhook-ssrf").await;
    let receiver = Receiver::start(&[]).await;
    let server = data
        .start_with(&[("KEYPORT_WEBHOOK_ALLOW_PRIVATE", "true")])
        .await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    let hook = create_hook(
        &api,
        &alice,
        json!({"url": receiver.url, "event_types": ["*"]}),
    )
    .await;
    let id = hook["id"].as_i64().unwrap();
    server.stop().await;
    let server = data.start_with(&[("KEYPORT_RUN_JOBS", "false")]).await;
    let api = server.api();
    let alice = api.login("alice@example.com", "long-enough-pw").await.0;
    let d = test_send(&server, &api, &alice, id).await;
    assert_eq!(d["status"], "pending", "retried later");
    let error = d["attempts"][0]["error"].as_str().unwrap();
    assert!(error.starts_with("refused:"), "{error}");
    assert_eq!(d["attempts"][0]["response_status"], Value::Null);
    assert!(receiver.got().is_empty(), "never connected");
}

#[tokio::test]
async fn webhooks_are_their_owners_and_input_is_checked() {
    let server = private_ok_server().await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    let bob = user_token(&api, "bob@example.com").await;
    let receiver = Receiver::start(&[]).await;
    let hook = create_hook(
        &api,
        &alice,
        json!({"url": receiver.url, "event_types": ["*"]}),
    )
    .await;
    let id = hook["id"].as_i64().unwrap();
    test_send(&server, &api, &alice, id).await;
    let delivery = get_json(&api, &alice, &format!("/api/v1/webhooks/{id}/deliveries")).await
        ["items"][0]["id"]
        .as_i64()
        .unwrap();

    // Bob (and the admin) see none of it.
    let admin = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.0;
    for token in [&bob, &admin] {
        for path in [
            format!("/api/v1/webhooks/{id}"),
            format!("/api/v1/webhooks/{id}/secret"),
            format!("/api/v1/webhooks/{id}/deliveries"),
            format!("/api/v1/webhooks/{id}/deliveries/{delivery}"),
        ] {
            expect_error(api.get(&path, Some(token)).await, 404, "NOT_FOUND").await;
        }
        for path in [
            format!("/api/v1/webhooks/{id}/test"),
            format!("/api/v1/webhooks/{id}/rotate-secret"),
            format!("/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver"),
        ] {
            let res = api.post_auth(&path, token, json!({})).await;
            expect_error(res, 404, "NOT_FOUND").await;
        }
        let res = patch(
            &api,
            token,
            &format!("/api/v1/webhooks/{id}"),
            json!({"enabled": false}),
        )
        .await;
        expect_error(res, 404, "NOT_FOUND").await;
        let res = api
            .http
            .delete(api.base.clone() + &format!("/api/v1/webhooks/{id}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        expect_error(res, 404, "NOT_FOUND").await;
        assert_eq!(get_json(&api, token, "/api/v1/webhooks").await["total"], 0);
    }
    // Alice's own delivery id under another of her endpoints is not found either.
    let other = create_hook(
        &api,
        &alice,
        json!({"url": receiver.url, "event_types": ["*"]}),
    )
    .await;
    let path = format!("/api/v1/webhooks/{}/deliveries/{delivery}", other["id"]);
    expect_error(api.get(&path, Some(&alice)).await, 404, "NOT_FOUND").await;
    expect_error(
        api.get("/api/v1/webhooks/abc", Some(&alice)).await,
        404,
        "NOT_FOUND",
    )
    .await;
    expect_error(api.get("/api/v1/webhooks", None).await, 401, "UNAUTHORIZED").await;

    // Viewers read but do not create.
    set_role(&server, "bob@example.com", "viewer").await;
    let res = api
        .post_auth(
            "/api/v1/webhooks",
            &bob,
            json!({"url": receiver.url, "event_types": ["*"]}),
        )
        .await;
    expect_error(res, 403, "FORBIDDEN").await;

    // Malformed JSON, wrong types, unknown fields, oversize bodies.
    let raw = |body: Vec<u8>| {
        api.http
            .post(api.base.clone() + "/api/v1/webhooks")
            .bearer_auth(&alice)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    expect_error(
        raw(b"{\"url\": ".to_vec()).await.unwrap(),
        400,
        "INVALID_JSON",
    )
    .await;
    let big = format!("{{\"url\": \"http://x/{}\"}}", "a".repeat(2 * 1024 * 1024));
    expect_error(
        raw(big.into_bytes()).await.unwrap(),
        413,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    for (bad, field) in [
        (json!({"url": 5, "event_types": ["*"]}), "body.url"),
        (
            json!({"url": receiver.url, "event_types": "*"}),
            "body.event_types",
        ),
        (
            json!({"url": receiver.url, "event_types": ["*"], "headers": ["x"]}),
            "body.headers",
        ),
        (
            json!({"url": receiver.url, "event_types": ["*"], "colour": "red"}),
            "body",
        ),
        (json!({"url": receiver.url}), "body.event_types"),
        (
            json!({"url": receiver.url, "event_types": []}),
            "body.event_types",
        ),
        (
            json!({"url": receiver.url, "event_types": ["key.nope"]}),
            "body.event_types",
        ),
        (
            json!({"url": "ftp://example.com/", "event_types": ["*"]}),
            "body.url",
        ),
        (
            json!({"url": "http://exa\nmple.com/", "event_types": ["*"]}),
            "body.url",
        ),
        (
            json!({"url": "javascript:alert(1)", "event_types": ["*"]}),
            "body.url",
        ),
        (
            json!({"url": "https://user:pw@example.com/", "event_types": ["*"]}),
            "body.url",
        ),
        (
            json!({"url": receiver.url, "event_types": ["*"], "headers": {"X-A": "a\r\nInjected: 1"}}),
            "body.headers",
        ),
        (
            json!({"url": receiver.url, "event_types": ["*"], "headers": {"Webhook-Signature": "v1,x"}}),
            "body.headers",
        ),
        (
            json!({"url": receiver.url, "event_types": ["*"], "headers": {"Transfer-Encoding": "chunked"}}),
            "body.headers",
        ),
        (
            json!({"url": receiver.url, "event_types": ["*"], "description": "d".repeat(501)}),
            "body.description",
        ),
    ] {
        let res = api.post_auth("/api/v1/webhooks", &alice, bad.clone()).await;
        let body = expect_error(res, 422, "VALIDATION_ERROR").await;
        assert!(
            body["errors"][0]["field"]
                .as_str()
                .unwrap()
                .starts_with(field),
            "{bad}: {body}"
        );
    }
    // Hostile text is stored as given and returned as data.
    let hostile = "<script>alert(1)</script> ' OR 1=1; -- \u{202e}";
    let h = create_hook(
        &api,
        &alice,
        json!({"url": format!("{}?q=<b>", receiver.url), "event_types": ["*"], "description": hostile}),
    )
    .await;
    assert_eq!(h["description"], hostile.trim());
    // PATCH: null is a type error, absent keeps.
    let res = patch(
        &api,
        &alice,
        &format!("/api/v1/webhooks/{id}"),
        json!({"url": null}),
    )
    .await;
    expect_error(res, 422, "VALIDATION_ERROR").await;
    let res = patch(
        &api,
        &alice,
        &format!("/api/v1/webhooks/{id}"),
        json!({"url": "http://10.0.0.1/"}),
    )
    .await;
    assert_eq!(res.status(), 200, "private targets allowed on this server");
    let res = patch(
        &api,
        &alice,
        &format!("/api/v1/webhooks/{id}"),
        json!({"description": "new"}),
    )
    .await;
    let h: Value = res.json().await.unwrap();
    assert_eq!(
        (h["description"].clone(), h["url"].clone()),
        (json!("new"), json!("http://10.0.0.1/"))
    );
    // Paging is checked.
    let res = api.get("/api/v1/webhooks?per_page=500", Some(&alice)).await;
    expect_error(res, 422, "VALIDATION_ERROR").await;
    let res = api.get("/api/v1/webhooks?page=x", Some(&alice)).await;
    expect_error(res, 422, "VALIDATION_ERROR").await;

    // Delete: gone with its deliveries; audited.
    let res = api
        .http
        .delete(api.base.clone() + &format!("/api/v1/webhooks/{id}"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    expect_error(
        api.get(&format!("/api/v1/webhooks/{id}"), Some(&alice))
            .await,
        404,
        "NOT_FOUND",
    )
    .await;
    let actions: Vec<String> = webhook_audit(&server)
        .await
        .into_iter()
        .filter(|(_, target, _)| *target == Some(id))
        .map(|(action, _, _)| action)
        .collect();
    assert_eq!(
        actions,
        [
            "webhook.created",
            "webhook.updated",
            "webhook.updated",
            "webhook.deleted"
        ]
    );
    for (_, _, values) in webhook_audit(&server).await {
        assert!(
            !values.unwrap_or_default().contains("whsec_"),
            "no secrets audited"
        );
    }
}

/// (action, target_id, new_values) of webhook audit records, oldest first.
async fn webhook_audit(server: &TestServer) -> Vec<(String, Option<i64>, Option<String>)> {
    const SQL: &str = "SELECT action, target_id, new_values FROM audit_log
                       WHERE target_type = 'webhook' ORDER BY id";
    match &server.state.db {
        keyport::db::Db::Sqlite(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
        keyport::db::Db::Postgres(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
    }
}

#[tokio::test]
async fn the_openapi_document_lists_the_webhook_routes() {
    let server = TestServer::start().await;
    let doc: Value = server
        .api()
        .get("/api/v1/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/webhooks",
        "/api/v1/webhooks/{id}",
        "/api/v1/webhooks/{id}/secret",
        "/api/v1/webhooks/{id}/rotate-secret",
        "/api/v1/webhooks/{id}/test",
        "/api/v1/webhooks/{id}/deliveries",
        "/api/v1/webhooks/{id}/deliveries/{delivery_id}",
        "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
    assert!(doc["components"]["schemas"]["WebhookWithSecret"].is_object());
}
