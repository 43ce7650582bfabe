//! The durable job queue and the notices it carries: events reach their owner once, a job
//! whose runner died runs after its lease on a restarted server, failures back off and are
//! given up, admins run them again, periodic jobs queue once per period, and key expiry
//! warnings arrive once each at their exact instants. Time is passed in: jobs run through
//! `run_due(state, now)`, never by waiting.

use crate::harness::{KeptData, TestServer, create, expect_error, patch, user_token};
use keyport::db::jobs::{self, NewJob};
use keyport::domain::expiry::DAY_MS;
use keyport::domain::{from_millis, to_millis};
use keyport::jobs::runner::{LEASE_MS, RunReport, queue_scheduled, run_due};
use serde_json::{Value, json};
use time::OffsetDateTime;

fn now_ms() -> i64 {
    to_millis(OffsetDateTime::now_utc())
}

async fn run_at(server: &TestServer, at_ms: i64) -> RunReport {
    run_due(&server.state, from_millis(at_ms)).await
}

/// Runs every job due at `at_ms` until none is left.
async fn drain(server: &TestServer, at_ms: i64) {
    for _ in 0..20 {
        if run_at(server, at_ms).await.claimed == 0 {
            return;
        }
    }
    panic!("jobs kept coming");
}

async fn notifications(server: &TestServer, token: &str) -> Value {
    server
        .api()
        .get("/api/v1/notifications?per_page=200", Some(token))
        .await
        .json()
        .await
        .unwrap()
}

fn titles(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap().to_string())
        .collect()
}

fn rfc3339(ms: i64) -> String {
    keyport::domain::events::rfc3339(ms)
}

#[tokio::test]
async fn key_events_reach_their_owner_once() {
    let server = TestServer::start().await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    let bob = user_token(&api, "bob@example.com").await;
    let key = create(&api, &alice, json!({"name": "ci"})).await;
    let id = key["id"].as_i64().unwrap();

    let report = run_at(&server, now_ms()).await;
    assert_eq!((report.claimed, report.done), (1, 1), "{report:?}");
    let hers = notifications(&server, &alice).await;
    assert_eq!(titles(&hers), ["Key ci created"]);
    assert_eq!(hers["items"][0]["link"], format!("/keys/{id}"));
    assert_eq!(hers["items"][0]["kind"], "key.created");

    // The same event dispatched again (a crash after the notice, before the job's end) gives
    // no second notice.
    let event_id: i64 = sqlx_scalar(&server, "SELECT MAX(id) FROM events").await;
    jobs::insert(
        &server.state.db,
        &keyport::db::events::dispatch_job(event_id, now_ms()),
    )
    .await
    .unwrap();
    assert_eq!(run_at(&server, now_ms()).await.done, 1);
    assert_eq!(notifications(&server, &alice).await["total"], 1);

    let rotated = api
        .post_auth(
            &format!("/api/v1/keys/{id}/rotate"),
            &alice,
            json!({"grace_period_seconds": 3600}),
        )
        .await;
    assert_eq!(rotated.status(), 201);
    let successor = rotated.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let revoked = api
        .post_auth(
            &format!("/api/v1/keys/{successor}/revoke"),
            &alice,
            json!({}),
        )
        .await;
    assert_eq!(revoked.status(), 200);
    drain(&server, now_ms()).await;
    let hers = notifications(&server, &alice).await;
    // Dispatches run side by side, so notices of events a moment apart may land either way.
    let mut got = titles(&hers);
    got.sort();
    assert_eq!(got, ["Key ci created", "Key ci revoked", "Key ci rotated"]);
    let rotation = hers["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "key.rotated")
        .unwrap();
    assert_eq!(
        rotation["link"],
        format!("/keys/{successor}"),
        "a rotation notice leads to the new key"
    );
    assert!(
        rotation["body"]
            .as_str()
            .unwrap()
            .contains("keeps working until"),
        "{rotation}"
    );
    assert_eq!(notifications(&server, &bob).await["total"], 0, "not his");
}

async fn sqlx_scalar(server: &TestServer, sql: &str) -> i64 {
    match &server.state.db {
        keyport::db::Db::Sqlite(pool) => sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(pool)
            .await
            .unwrap(),
        keyport::db::Db::Postgres(pool) => sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(pool)
            .await
            .unwrap(),
    }
}

#[tokio::test]
async fn a_job_whose_runner_died_runs_after_its_lease_on_a_restarted_server() {
    let data = KeptData::new("jobs-restart").await;
    let first = data.start().await;
    let api = first.api();
    let alice = user_token(&api, "alice@example.com").await;
    create(&api, &alice, json!({"name": "ci"})).await;
    // A runner claims the dispatch job, then the process dies mid-run.
    let claimed_at = now_ms();
    let claimed = jobs::claim_due(
        &first.state.db,
        "dead-runner",
        claimed_at,
        claimed_at + LEASE_MS,
        16,
    )
    .await
    .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].attempts, 1);
    first.stop().await;

    let second = data.start().await;
    assert_eq!(
        run_at(&second, claimed_at + LEASE_MS - 1).await.claimed,
        0,
        "nobody takes a job while its lease runs"
    );
    let report = run_at(&second, claimed_at + LEASE_MS + 1).await;
    assert_eq!((report.claimed, report.done), (1, 1), "{report:?}");
    let job = jobs::find(&second.state.db, claimed[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((job.state.as_str(), job.attempts), ("done", 2));
    let alice = second
        .api()
        .login("alice@example.com", "long-enough-pw")
        .await
        .0;
    assert_eq!(
        titles(&notifications(&second, &alice).await),
        ["Key ci created"]
    );

    // The dead runner's late result is dropped: the job is not its any more.
    let late = jobs::finish(
        &second.state.db,
        "dead-runner",
        &claimed[0],
        &jobs::Finish::Done,
        now_ms(),
    )
    .await
    .unwrap();
    assert!(!late);
}

#[tokio::test]
async fn jobs_held_at_shutdown_go_back_to_the_queue() {
    let server = TestServer::start().await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    create(&api, &alice, json!({"name": "ci"})).await;
    let runner = server.state.instance_id.to_string();
    let at = now_ms();
    let claimed = jobs::claim_due(&server.state.db, &runner, at, at + LEASE_MS, 16)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        jobs::release(&server.state.db, &runner, at).await.unwrap(),
        1
    );
    let job = jobs::find(&server.state.db, claimed[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((job.state.as_str(), job.attempts), ("queued", 0));
    assert_eq!(
        run_at(&server, at).await.done,
        1,
        "runs at once, no lease to wait for"
    );
}

#[tokio::test]
async fn failures_back_off_then_are_given_up_and_admins_run_them_again() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = api
        .login(crate::harness::ADMIN_EMAIL, crate::harness::ADMIN_PASSWORD)
        .await
        .0;
    let alice = user_token(&api, "alice@example.com").await;
    let t0 = now_ms();
    keyport::domain::expiry::check_soon(&server.state.db, from_millis(t0))
        .await
        .unwrap();
    // The scan's table is away: every try fails.
    crate::harness::execute_sql(
        &server,
        "ALTER TABLE key_expiry_notices RENAME TO key_expiry_notices_away",
    )
    .await;

    let first = run_at(&server, t0).await;
    assert_eq!((first.claimed, first.retrying), (1, 1), "{first:?}");
    let job_id = sqlx_scalar(&server, "SELECT MAX(id) FROM jobs").await;
    let job = jobs::find(&server.state.db, job_id).await.unwrap().unwrap();
    assert_eq!(job.state, "queued");
    let wait = job.run_at - t0;
    assert!((4_500..=5_500).contains(&wait), "5 s ±10 %: {wait}");
    assert!(job.last_error.is_some());
    assert_eq!(
        run_at(&server, job.run_at - 1).await.claimed,
        0,
        "not before its time"
    );

    let second = run_at(&server, job.run_at).await;
    assert_eq!(second.retrying, 1);
    let job = jobs::find(&server.state.db, job_id).await.unwrap().unwrap();
    let third = run_at(&server, job.run_at).await;
    assert_eq!(third.dead, 1, "three tries for a scan: {third:?}");
    let job = jobs::find(&server.state.db, job_id).await.unwrap().unwrap();
    assert_eq!((job.state.as_str(), job.attempts), ("dead", 3));
    assert!(
        job.last_error
            .as_deref()
            .unwrap()
            .contains("gave up after 3 tries"),
        "{:?}",
        job.last_error
    );

    // The admin view: the dead job, its error, the counts.
    let page: Value = api
        .get("/api/v1/admin/jobs?state=dead", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["items"][0]["id"], job_id);
    assert_eq!(page["items"][0]["kind"], "keys.expiry_scan");
    assert!(
        page["counts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["state"] == "dead" && c["count"] == 1)
    );
    expect_error(
        api.get("/api/v1/admin/jobs", Some(&alice)).await,
        403,
        "FORBIDDEN",
    )
    .await;
    expect_error(
        api.get("/api/v1/admin/jobs", None).await,
        401,
        "UNAUTHORIZED",
    )
    .await;
    expect_error(
        api.get("/api/v1/admin/jobs?state=stuck", Some(&admin))
            .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    expect_error(
        api.get("/api/v1/admin/jobs?page=x", Some(&admin)).await,
        422,
        "VALIDATION_ERROR",
    )
    .await;

    // Run it again: users may not; admins may, once; unknown ids are 404.
    let retry = format!("/api/v1/admin/jobs/{job_id}/retry");
    expect_error(
        api.post_auth(&retry, &alice, json!({})).await,
        403,
        "FORBIDDEN",
    )
    .await;
    crate::harness::execute_sql(
        &server,
        "ALTER TABLE key_expiry_notices_away RENAME TO key_expiry_notices",
    )
    .await;
    let res = api.post_auth(&retry, &admin, json!({})).await;
    assert_eq!(res.status(), 200);
    let again: Value = res.json().await.unwrap();
    assert_eq!(
        (again["state"].as_str(), again["attempts"].as_i64()),
        (Some("queued"), Some(0))
    );
    expect_error(
        api.post_auth(&retry, &admin, json!({})).await,
        409,
        "CONFLICT",
    )
    .await;
    expect_error(
        api.post_auth("/api/v1/admin/jobs/999999/retry", &admin, json!({}))
            .await,
        404,
        "NOT_FOUND",
    )
    .await;
    let done = run_at(&server, now_ms()).await;
    assert_eq!(done.done, 1, "{done:?}");
    let audited = sqlx_scalar(
        &server,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'job.retried' AND target_type = 'job'",
    )
    .await;
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn unknown_kinds_and_unreadable_payloads_are_given_up_at_once() {
    let server = TestServer::start().await;
    let at = now_ms();
    for job in [
        NewJob::new("no.such.kind", json!({}), at),
        NewJob::new("event.dispatch", json!({"event": "x"}), at),
    ] {
        jobs::insert(&server.state.db, &job).await.unwrap();
    }
    let report = run_at(&server, at).await;
    assert_eq!((report.claimed, report.dead), (2, 2), "{report:?}");
}

#[tokio::test]
async fn queued_twins_are_one_job_and_periodic_jobs_queue_once_per_period() {
    let server = TestServer::start().await;
    let db = &server.state.db;
    let at = now_ms();
    let later = NewJob::new("keys.expiry_scan", json!({}), at + 60_000).deduped("scan");
    let sooner = NewJob::new("keys.expiry_scan", json!({}), at).deduped("scan");
    let a = jobs::insert(db, &later).await.unwrap();
    let b = jobs::insert(db, &sooner).await.unwrap();
    assert_eq!(a, b, "one queued job per dedupe key");
    assert_eq!(
        jobs::find(db, a).await.unwrap().unwrap().run_at,
        at,
        "moved earlier"
    );
    jobs::insert(db, &later).await.unwrap();
    assert_eq!(
        jobs::find(db, a).await.unwrap().unwrap().run_at,
        at,
        "never later"
    );

    // Every periodic kind once; a minute later only the once-a-minute expiry scan again.
    let kinds = keyport::jobs::handlers::SCHEDULES.len();
    assert_eq!(queue_scheduled(&server.state, from_millis(at)).await, kinds);
    assert_eq!(
        queue_scheduled(&server.state, from_millis(at + 59_999)).await,
        0
    );
    assert_eq!(
        queue_scheduled(&server.state, from_millis(at + 60_000)).await,
        1
    );
    let scans = sqlx_scalar(
        &server,
        "SELECT COUNT(*) FROM jobs WHERE kind = 'keys.expiry_scan' AND state = 'queued'",
    )
    .await;
    assert_eq!(scans, 2, "the unrun scan took the periodic runs in");
}

#[tokio::test]
async fn expiry_warnings_arrive_once_each_and_a_new_expiry_arms_them_again() {
    let server = TestServer::start().await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    let t0 = now_ms();
    // Ten days and an hour: "in 10 days" however long the test takes.
    let expires = (t0 / 1000 + 10 * 86_400 + 3600) * 1000;
    let key = create(
        &api,
        &alice,
        json!({"name": "deploy", "expires_at": rfc3339(expires)}),
    )
    .await;
    let id = key["id"].as_i64().unwrap();
    let expiring = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] != "key.created")
            .map(|n| n["title"].as_str().unwrap().to_string())
            .collect()
    };

    // Ten days left: inside the 30-day window (the creation asked for a scan at once).
    drain(&server, now_ms()).await;
    let list = notifications(&server, &alice).await;
    assert_eq!(expiring(&list), ["Key deploy expires soon"]);
    assert!(
        list["items"][0]["body"]
            .as_str()
            .unwrap()
            .contains("expires in 10 days")
    );
    assert_eq!(list["items"][0]["link"], format!("/keys/{id}"));

    let scan = |at: i64| keyport::domain::expiry::scan(&server.state, from_millis(at));
    assert_eq!(scan(t0 + 60_000).await.unwrap(), 0, "no duplicate");
    assert_eq!(scan(expires - 7 * DAY_MS - 1).await.unwrap(), 0);
    assert_eq!(
        scan(expires - 7 * DAY_MS).await.unwrap(),
        1,
        "at the exact instant"
    );
    assert_eq!(scan(expires - 7 * DAY_MS).await.unwrap(), 0);
    assert_eq!(scan(expires - DAY_MS).await.unwrap(), 1);
    assert_eq!(scan(expires - 1).await.unwrap(), 0);
    assert_eq!(scan(expires).await.unwrap(), 1, "expired, at the instant");
    assert_eq!(scan(expires + DAY_MS).await.unwrap(), 0);
    drain(&server, expires + DAY_MS).await;
    let mut got = expiring(&notifications(&server, &alice).await);
    got.sort();
    assert_eq!(
        got,
        [
            "Key deploy expired",
            "Key deploy expires soon",
            "Key deploy expires soon",
            "Key deploy expires soon"
        ]
    );

    // A new expiry (extended before it lapsed) arms the warnings again.
    let extended = expires + 19 * DAY_MS;
    let res = patch(
        &api,
        &alice,
        &format!("/api/v1/keys/{id}"),
        json!({"expires_at": rfc3339(extended)}),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        scan(t0).await.unwrap(),
        1,
        "the 30-day warning of the new date"
    );
    assert_eq!(scan(t0).await.unwrap(), 0);
}
