//! Traffic control through the real server: rate limits, quotas and credits on
//! `POST /api/v1/keys/verify`, under concurrent clients, across a restart and across two
//! instances sharing one database.

use crate::harness::*;
use futures::future::join_all;
use keyport::domain::keys::verify::{VerifyCode, VerifyRequest, verify_key};
use serde_json::{Value, json};

async fn verify_many(api: &Api, body: Value, n: usize) -> Vec<Value> {
    join_all((0..n).map(|_| verify_code(api, body.clone()))).await
}

fn count(answers: &[Value], code: &str) -> usize {
    answers.iter().filter(|a| a["code"] == code).count()
}

async fn key_view(api: &Api, token: &str, id: &Value) -> Value {
    api.get(&format!("/api/v1/keys/{id}"), Some(token))
        .await
        .json()
        .await
        .unwrap()
}

fn next_utc_midnight_s() -> i64 {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    (now.div_euclid(86_400) + 1) * 86_400
}

#[tokio::test]
async fn a_limit_admits_exactly_limit_plus_burst_under_concurrent_clients() {
    let server = TestServer::start().await;
    let api = server.api();
    let token = user_token(&api, "rate@example.com").await;
    let k = create(
        &api,
        &token,
        json!({"name": "limited", "rate_limits": [{"name": "default", "limit": 10, "window": "minute", "burst": 5}]}),
    )
    .await;
    assert_eq!(k["rate_limits"][0]["burst"], 5);
    let answers = verify_many(&api, json!({"key": k["key"]}), 60).await;
    assert_eq!(count(&answers, "VALID"), 15, "limit 10 + burst 5");
    assert_eq!(count(&answers, "RATE_LIMIT_EXCEEDED"), 45);
    let refused = answers
        .iter()
        .find(|a| a["code"] == "RATE_LIMIT_EXCEEDED")
        .unwrap();
    assert_eq!(refused["valid"], false);
    assert_eq!(refused["ratelimit"]["limit"], 10);
    assert_eq!(refused["ratelimit"]["remaining"], 0);
    assert_eq!(refused["ratelimit"]["window"], 60);
    // The first refusals wait for one token (6 s); so many in a row then earn penalties,
    // whose blocks are longer.
    let retries: Vec<i64> = answers
        .iter()
        .filter(|a| a["code"] == "RATE_LIMIT_EXCEEDED")
        .map(|a| a["retry_after"].as_i64().unwrap())
        .collect();
    let soonest = *retries.iter().min().unwrap();
    assert!(
        (1..=6).contains(&soonest),
        "one request every 6 s: {soonest}"
    );
    assert!(retries.iter().all(|r| *r >= 1));
    let now_s = time::OffsetDateTime::now_utc().unix_timestamp();
    let reset = refused["ratelimit"]["reset"].as_i64().unwrap();
    assert!(
        reset > now_s && reset <= now_s + 91,
        "reset {reset} now {now_s}"
    );
    let valid = answers.iter().find(|a| a["code"] == "VALID").unwrap();
    assert!(valid.get("retry_after").is_none());
}

#[tokio::test]
async fn a_refused_check_spends_no_token_quota_or_credit() {
    let server = TestServer::start().await;
    let api = server.api();
    let token = user_token(&api, "spend@example.com").await;
    let k = create(
        &api,
        &token,
        json!({"name": "metered", "scopes": ["read"], "ip_allowlist": ["203.0.113.0/24"],
               "rate_limits": [{"name": "default", "limit": 2, "window": "minute"}],
               "quota": {"period": "day", "limit": 5}, "remaining": 10}),
    )
    .await;
    for body in [
        json!({"key": k["key"], "scopes": ["write"], "ip": "203.0.113.9"}),
        json!({"key": k["key"], "ip": "198.51.100.1"}),
    ] {
        for _ in 0..3 {
            let a = verify_code(&api, body.clone()).await;
            assert!(a["code"] == "PERMISSION_DENIED" || a["code"] == "IP_NOT_ALLOWED");
        }
    }
    let ok = json!({"key": k["key"], "scopes": ["read"], "ip": "203.0.113.9", "cost": 3});
    let first = verify_code(&api, ok.clone()).await;
    assert_eq!(first["code"], "VALID");
    assert_eq!(first["remaining"], 7);
    assert_eq!(first["quota"]["remaining"], 4);
    assert_eq!(first["quota"]["reset"], next_utc_midnight_s());
    assert_eq!(first["ratelimit"]["remaining"], 1);
    assert_eq!(verify_code(&api, ok.clone()).await["code"], "VALID");
    let third = verify_code(&api, ok).await;
    assert_eq!(third["code"], "RATE_LIMIT_EXCEEDED");
    assert_eq!(third["remaining"], Value::Null, "credits are not reached");

    let view = key_view(&api, &token, &k["id"]).await;
    assert_eq!(view["remaining"], 4);
    assert_eq!(view["quota"]["used"], 2);
    assert_eq!(view["quota"]["remaining"], 3);
}

#[tokio::test]
async fn quota_runs_out_until_the_period_ends() {
    let server = TestServer::start().await;
    let api = server.api();
    let token = user_token(&api, "quota@example.com").await;
    let k = create(
        &api,
        &token,
        json!({"name": "q", "quota": {"period": "day", "limit": 3}}),
    )
    .await;
    let answers = verify_many(&api, json!({"key": k["key"]}), 8).await;
    assert_eq!(count(&answers, "VALID"), 3);
    assert_eq!(count(&answers, "QUOTA_EXCEEDED"), 5);
    let refused = answers
        .iter()
        .find(|a| a["code"] == "QUOTA_EXCEEDED")
        .unwrap();
    assert_eq!(refused["quota"]["remaining"], 0);
    assert_eq!(refused["quota"]["reset"], next_utc_midnight_s());
    assert!(refused["retry_after"].as_i64().unwrap() >= 1);
    let view = key_view(&api, &token, &k["id"]).await;
    assert_eq!(
        (
            view["quota"]["used"].as_i64(),
            view["quota"]["limit"].as_i64()
        ),
        (Some(3), Some(3))
    );

    // A higher limit in the same period keeps what was used; another period starts over.
    let raised = patch(
        &api,
        &token,
        &format!("/api/v1/keys/{}", k["id"]),
        json!({"quota": {"period": "day", "limit": 4}}),
    )
    .await;
    assert_eq!(raised.status(), 200);
    let raised: Value = raised.json().await.unwrap();
    assert_eq!(raised["quota"]["remaining"], 1);
    assert_eq!(code_of(&api, k["key"].as_str().unwrap()).await, "VALID");
    assert_eq!(
        code_of(&api, k["key"].as_str().unwrap()).await,
        "QUOTA_EXCEEDED"
    );
    let monthly: Value = patch(
        &api,
        &token,
        &format!("/api/v1/keys/{}", k["id"]),
        json!({"quota": {"period": "month", "limit": 2}}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(monthly["quota"]["used"], 0);
    assert_eq!(code_of(&api, k["key"].as_str().unwrap()).await, "VALID");
}

#[tokio::test]
async fn credits_never_go_below_zero_or_double_spend() {
    let server = TestServer::start().await;
    let api = server.api();
    let token = user_token(&api, "credits@example.com").await;
    let k = create(&api, &token, json!({"name": "c", "remaining": 100})).await;
    assert_eq!(k["remaining"], 100);
    let answers = verify_many(&api, json!({"key": k["key"]}), 150).await;
    assert_eq!(count(&answers, "VALID"), 100);
    assert_eq!(count(&answers, "USAGE_EXCEEDED"), 50);
    let mut left: Vec<i64> = answers
        .iter()
        .filter(|a| a["code"] == "VALID")
        .map(|a| a["remaining"].as_i64().unwrap())
        .collect();
    left.sort();
    assert_eq!(
        left,
        (0..100).collect::<Vec<_>>(),
        "each credit spent exactly once"
    );
    assert_eq!(key_view(&api, &token, &k["id"]).await["remaining"], 0);

    // A new balance replaces the old one; a call that costs more than is left spends nothing.
    let topped = patch(
        &api,
        &token,
        &format!("/api/v1/keys/{}", k["id"]),
        json!({"remaining": 5}),
    )
    .await;
    assert_eq!(topped.status(), 200);
    let costly = verify_code(&api, json!({"key": k["key"], "cost": 6})).await;
    assert_eq!(
        (costly["code"].as_str(), costly["remaining"].as_i64()),
        (Some("USAGE_EXCEEDED"), Some(5))
    );
    let exact = verify_code(&api, json!({"key": k["key"], "cost": 5})).await;
    assert_eq!(
        (exact["code"].as_str(), exact["remaining"].as_i64()),
        (Some("VALID"), Some(0))
    );
    let free = verify_code(&api, json!({"key": k["key"], "cost": 0})).await;
    assert_eq!(free["code"], "VALID", "a zero-cost check passes at zero");
    let unlimited: Value = patch(
        &api,
        &token,
        &format!("/api/v1/keys/{}", k["id"]),
        json!({"remaining": null}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(unlimited["remaining"], Value::Null);
    assert_eq!(code_of(&api, k["key"].as_str().unwrap()).await, "VALID");
}

#[tokio::test]
async fn quota_and_credits_survive_a_restart_exactly() {
    // Its data outlives the server, to be read after a graceful stop.
    let kept = KeptData::new("restart").await;
    let first = kept.start().await;
    let api = first.api();
    let token = user_token(&api, "restart@example.com").await;
    let k = create(
        &api,
        &token,
        json!({"name": "r", "remaining": 50, "quota": {"period": "month", "limit": 40}}),
    )
    .await;
    let answers = verify_many(&api, json!({"key": k["key"]}), 10).await;
    assert_eq!(count(&answers, "VALID"), 10);
    let db_url = first.state.config.database_url.clone();
    first.stop().await;

    // Leased but unspent units went back at shutdown: the stored counters are exact.
    let db = keyport::db::Db::connect(&db_url).await.unwrap();
    let id = k["id"].as_i64().unwrap();
    let credits = keyport::db::key_allowance::credit_counters(&db, id)
        .await
        .unwrap()
        .unwrap();
    let quota = keyport::db::key_allowance::quota_counters(&db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((credits.remaining, quota.quota_used), (Some(40), 10));
    db.close().await;

    let second = kept.start().await;
    let api = second.api();
    let again = verify_code(&api, json!({"key": k["key"]})).await;
    assert_eq!(again["code"], "VALID");
    assert_eq!(again["remaining"], 39);
    assert_eq!(again["quota"]["remaining"], 29);
    second.stop().await;
}

#[tokio::test]
async fn two_instances_on_one_database_never_double_spend() {
    let server = TestServer::start().await;
    let api = server.api();
    let token = user_token(&api, "twins@example.com").await;
    let k = create(
        &api,
        &token,
        json!({"name": "shared", "remaining": 300, "quota": {"period": "day", "limit": 250}}),
    )
    .await;
    // A second instance: its own cache and traffic state, the same database.
    let s = &server.state;
    let cache = keyport::domain::keys::cache::KeyCache::default();
    let traffic = keyport::domain::traffic::table::TrafficTable::default();
    let other = keyport::domain::keys::KeyContext {
        db: &s.db,
        crypto: &s.crypto,
        cache: &cache,
        traffic: &traffic,
        policies: &s.policies,
        jobs_wake: &s.jobs_wake,
    };
    let mine = s.key_ctx();
    let req = VerifyRequest {
        key: k["key"].as_str().unwrap().to_string(),
        scopes: vec![],
        endpoint: None,
        ip: None,
        cost: None,
    };
    let now = keyport::domain::to_millis(time::OffsetDateTime::now_utc());
    let calls = (0..400).map(|i| {
        let ctx = if i % 2 == 0 { &mine } else { &other };
        verify_key(ctx, &req, None, now)
    });
    let codes: Vec<VerifyCode> = join_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap().response.code)
        .collect();
    let valid = codes.iter().filter(|c| **c == VerifyCode::Valid).count();
    assert_eq!(valid, 250, "the quota binds across instances");
    assert!(
        codes
            .iter()
            .all(|c| matches!(c, VerifyCode::Valid | VerifyCode::QuotaExceeded))
    );
    // Each instance hands back what it holds; then the row is exact.
    traffic.settle_all(&s.db).await;
    s.traffic.settle_all(&s.db).await;
    let id = k["id"].as_i64().unwrap();
    let credits = keyport::db::key_allowance::credit_counters(&s.db, id)
        .await
        .unwrap()
        .unwrap();
    let quota = keyport::db::key_allowance::quota_counters(&s.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((credits.remaining, quota.quota_used), (Some(50), 250));
}

#[tokio::test]
async fn a_key_that_keeps_exceeding_is_penalised_and_logged() {
    let server = TestServer::start().await;
    let api = server.api();
    let token = user_token(&api, "abuse@example.com").await;
    let k = create(
        &api,
        &token,
        json!({"name": "noisy", "rate_limits": [{"name": "default", "limit": 1, "window": "minute"}]}),
    )
    .await;
    let mut codes = Vec::new();
    for _ in 0..22 {
        codes.push(code_of(&api, k["key"].as_str().unwrap()).await);
    }
    assert_eq!(codes[0], "VALID");
    assert!(codes[1..].iter().all(|c| c == "RATE_LIMIT_EXCEEDED"));
    let events = keyport::db::security_events::for_subject(
        &server.state.db,
        "api_key",
        &k["id"].to_string(),
        10,
    )
    .await
    .unwrap();
    assert_eq!(events.len(), 1, "20 refusals in a minute raise one level");
    assert_eq!(events[0].kind, "ratelimit.penalty_raised");
    let detail: Value = serde_json::from_str(&events[0].detail).unwrap();
    assert_eq!(detail["level"], 1);
}

#[tokio::test]
async fn editing_limits_keeps_the_window_already_used() {
    let server = TestServer::start().await;
    let api = server.api();
    let token = user_token(&api, "edit@example.com").await;
    let k = create(
        &api,
        &token,
        json!({"name": "e", "rate_limits": [{"name": "default", "limit": 2, "window": "hour"}]}),
    )
    .await;
    let key = k["key"].as_str().unwrap();
    assert_eq!(code_of(&api, key).await, "VALID");
    assert_eq!(code_of(&api, key).await, "VALID");
    assert_eq!(code_of(&api, key).await, "RATE_LIMIT_EXCEEDED");
    let res = patch(
        &api,
        &token,
        &format!("/api/v1/keys/{}", k["id"]),
        json!({"rate_limits": [{"name": "default", "limit": 3, "window": "hour"}], "name": "renamed"}),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        code_of(&api, key).await,
        "VALID",
        "one more of the new three"
    );
    assert_eq!(code_of(&api, key).await, "RATE_LIMIT_EXCEEDED");
    let cleared: Value = patch(
        &api,
        &token,
        &format!("/api/v1/keys/{}", k["id"]),
        json!({"rate_limits": null}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(cleared["rate_limits"], json!([]));
    assert_eq!(code_of(&api, key).await, "VALID");
    // Bad edits change nothing.
    for body in [
        json!({"rate_limits": [{"name": "x", "limit": 0, "window": "hour"}]}),
        json!({"quota": {"period": "custom", "limit": 5}}),
        json!({"refill": {"interval": "day", "amount": 5}}),
        json!({"remaining": -5}),
    ] {
        expect_error(
            patch(&api, &token, &format!("/api/v1/keys/{}", k["id"]), body).await,
            422,
            "VALIDATION_ERROR",
        )
        .await;
    }
    let view = key_view(&api, &token, &k["id"]).await;
    assert_eq!(
        (&view["quota"], &view["remaining"], &view["refill"]),
        (&Value::Null, &Value::Null, &Value::Null)
    );
}
