//! Usage reports over REST: `GET /keys/{id}/usage` and `GET /analytics/usage` match the
//! verifications sent, on both backends, before and after the rollups are stored, and after a
//! crash the next start counts what the crashed writer stored.

use crate::apis::admin_token;
use crate::harness::*;
use serde_json::{Value, json};

pub async fn report(api: &Api, token: &str, path: &str) -> Value {
    let res = api.get(path, Some(token)).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

pub fn total(report: &Value, field: &str) -> i64 {
    report["total"][field].as_i64().unwrap()
}

#[tokio::test]
async fn key_usage_counts_every_verification_by_outcome() {
    let data = KeptData::new("key-usage").await;
    let server = data.start().await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    let key = create(
        &api,
        &alice,
        json!({"name": "limited", "rate_limits": [{"name": "default", "limit": 3, "window": "minute"}]}),
    )
    .await;
    let plaintext = key["key"].as_str().unwrap();
    for _ in 0..5 {
        code_of(&api, plaintext).await;
    }
    server.state.usage.sync().await;

    let id = key["id"].as_i64().unwrap();
    let r = report(&api, &alice, &format!("/api/v1/keys/{id}/usage")).await;
    assert_eq!(r["granularity"], "hour", "24 hours by default");
    assert_eq!(
        r["buckets"].as_array().unwrap().len(),
        25,
        "every hour, empty ones too"
    );
    assert_eq!(
        (
            total(&r, "requests"),
            total(&r, "errors"),
            total(&r, "rate_limited")
        ),
        (5, 2, 2)
    );
    assert!(r["total"]["p95_latency_ms"].as_f64().is_some());
    let busy: Vec<&Value> = r["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["requests"].as_i64() > Some(0))
        .collect();
    assert_eq!(busy.len(), 1);
    assert_eq!(busy[0]["requests"], 5);

    // Minute buckets over the last hour say the same.
    let now = time::OffsetDateTime::now_utc();
    let from = (now - time::Duration::hours(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let r = report(
        &api,
        &alice,
        &format!("/api/v1/keys/{id}/usage?granularity=minute&from={from}"),
    )
    .await;
    assert_eq!(r["granularity"], "minute");
    assert_eq!(total(&r, "requests"), 5);

    // The same numbers once the writer has stored them (a graceful stop stores all).
    server.stop().await;
    let again = data.start().await;
    assert!(again.state.usage.pending().is_empty());
    let api = again.api();
    let alice = api.login("alice@example.com", "long-enough-pw").await.0;
    let r = report(&api, &alice, &format!("/api/v1/keys/{id}/usage")).await;
    assert_eq!(
        (
            total(&r, "requests"),
            total(&r, "errors"),
            total(&r, "rate_limited")
        ),
        (5, 2, 2)
    );
}

#[tokio::test]
async fn analytics_usage_is_the_callers_own_traffic_and_admins_see_all() {
    let server = TestServer::start().await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    let bob = user_token(&api, "bob@example.com").await;
    let a = create(&api, &alice, json!({"name": "a"})).await;
    let b = create(&api, &bob, json!({"name": "b"})).await;
    for _ in 0..3 {
        code_of(&api, a["key"].as_str().unwrap()).await;
    }
    code_of(&api, b["key"].as_str().unwrap()).await;
    // Unknown keys belong to nobody: only admins see them.
    code_of(&api, "kp_not_a_real_key").await;
    server.state.usage.sync().await;

    let mine = report(&api, &alice, "/api/v1/analytics/usage").await;
    assert_eq!(total(&mine, "requests"), 3);
    assert_eq!(total(&mine, "errors"), 0);
    let bobs = report(&api, &bob, "/api/v1/analytics/usage").await;
    assert_eq!(total(&bobs, "requests"), 1);
    let admin = admin_token(&api).await;
    let all = report(&api, &admin, "/api/v1/analytics/usage").await;
    assert_eq!((total(&all, "requests"), total(&all, "errors")), (5, 1));
    let one = report(
        &api,
        &admin,
        &format!("/api/v1/analytics/usage?key_id={}", b["id"]),
    )
    .await;
    assert_eq!(total(&one, "requests"), 1);

    // Someone else's key is not found, for both endpoints, and changes nothing.
    let res = api
        .get(&format!("/api/v1/keys/{}/usage", b["id"]), Some(&alice))
        .await;
    expect_error(res, 404, "NOT_FOUND").await;
    let res = api
        .get(
            &format!("/api/v1/analytics/usage?key_id={}", b["id"]),
            Some(&alice),
        )
        .await;
    expect_error(res, 404, "NOT_FOUND").await;
}

#[tokio::test]
async fn bad_usage_queries_get_clear_errors() {
    let server = TestServer::start().await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    let key = create(&api, &alice, json!({"name": "a"})).await;
    let id = key["id"].as_i64().unwrap();
    let res = api.get(&format!("/api/v1/keys/{id}/usage"), None).await;
    expect_error(res, 401, "UNAUTHORIZED").await;
    let res = api.get("/api/v1/analytics/usage", None).await;
    expect_error(res, 401, "UNAUTHORIZED").await;
    let cases: &[(&str, &str)] = &[
        ("granularity=week", "query.granularity"),
        ("from=yesterday", "query.from"),
        ("to=%00%27%3B--", "query.to"),
        (
            "from=2026-11-23T10:00:00Z&to=2026-11-23T09:00:00Z",
            "query.from",
        ),
        ("from=2020-01-01T00:00:00Z", "query.from"),
        (
            "from=2026-01-01T00:00:00Z&to=2026-11-01T00:00:00Z&granularity=minute",
            "query.granularity",
        ),
    ];
    for (query, field) in cases {
        for path in [
            format!("/api/v1/keys/{id}/usage?{query}"),
            format!("/api/v1/analytics/usage?{query}"),
        ] {
            let body =
                expect_error(api.get(&path, Some(&alice)).await, 422, "VALIDATION_ERROR").await;
            assert_eq!(body["errors"][0]["field"], *field, "{path}: {body}");
        }
    }
    // Wrong types in the query and ids that are not ids.
    for path in [
        "/api/v1/analytics/usage?key_id=abc".to_string(),
        "/api/v1/analytics/usage?api_id=1.5".to_string(),
        "/api/v1/keys/abc/usage".to_string(),
        format!("/api/v1/keys/{}/usage", i64::MAX),
    ] {
        let res = api.get(&path, Some(&alice)).await;
        let status = res.status().as_u16();
        assert!(
            [400, 404, 422].contains(&status),
            "{path}: {status} {}",
            res.text().await.unwrap()
        );
    }
}

async fn set_rollup_mark(db: &keyport::db::Db, mark_ms: i64) {
    const SQL: &str = "UPDATE rollup_progress SET rolled_up_to = $1";
    match db {
        keyport::db::Db::Sqlite(p) => sqlx::query(SQL).bind(mark_ms).execute(p).await.map(drop),
        keyport::db::Db::Postgres(p) => sqlx::query(SQL).bind(mark_ms).execute(p).await.map(drop),
    }
    .unwrap();
}

#[tokio::test]
async fn the_next_start_counts_what_a_crashed_writer_stored() {
    use keyport::domain::usage::{UsageEvent, UsageSource};
    let data = KeptData::new("crash").await;
    let server = data.start().await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    let key = create(&api, &alice, json!({"name": "a"})).await;
    let id = key["id"].as_i64().unwrap();
    let owner = key["owner_user_id"].as_i64();
    server.stop().await;
    // What a crash leaves: raw events stored after the rollups' mark, their rollups not.
    let now = keyport::domain::to_millis(time::OffsetDateTime::now_utc());
    let db = keyport::db::Db::connect(&data.database_url())
        .await
        .unwrap();
    set_rollup_mark(&db, now - 60_000).await;
    let events: Vec<UsageEvent> = (0..250)
        .map(|i| UsageEvent {
            at_ms: now - 1_000 - i,
            key_id: Some(id),
            owner_user_id: owner,
            api_id: None,
            source: UsageSource::Verify,
            endpoint: "GET /tickets/7".into(),
            code: if i % 5 == 0 {
                "QUOTA_EXCEEDED"
            } else {
                "VALID"
            },
            status: 200,
            latency_us: 700,
            request_bytes: 0,
            response_bytes: 0,
            ip: "203.0.113.9".into(),
            user_agent: String::new(),
        })
        .collect();
    keyport::db::usage::insert_batch(&db, &events)
        .await
        .unwrap();
    db.close().await;

    let again = data.start().await;
    let api = again.api();
    let alice = api.login("alice@example.com", "long-enough-pw").await.0;
    let r = report(&api, &alice, &format!("/api/v1/keys/{id}/usage")).await;
    assert_eq!((total(&r, "requests"), total(&r, "errors")), (250, 50));
    again.stop().await;
    let third = data.start().await;
    let api = third.api();
    let alice = api.login("alice@example.com", "long-enough-pw").await.0;
    let r = report(&api, &alice, &format!("/api/v1/keys/{id}/usage")).await;
    assert_eq!(total(&r, "requests"), 250, "counted once, not again");
}

#[tokio::test]
async fn usage_endpoints_are_in_the_openapi_document() {
    let server = TestServer::start().await;
    let doc: Value = server
        .api()
        .get("/api/v1/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    for path in ["/api/v1/keys/{id}/usage", "/api/v1/analytics/usage"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path}");
    }
    assert!(doc["components"]["schemas"]["UsageReport"].is_object());
}

async fn export(api: &Api, token: &str, path: &str) -> (reqwest::header::HeaderMap, String) {
    let res = api.get(path, Some(token)).await;
    assert_eq!(res.status(), 200, "{path}");
    let headers = res.headers().clone();
    (headers, res.text().await.unwrap())
}

fn column_sum(csv: &str, column: &str) -> i64 {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let i = header.iter().position(|c| *c == column).unwrap();
    // Quoted fields in these rows hold no commas before the numeric columns' positions shift,
    // so rows are read from the right: numbers never need quoting.
    let from_right = header.len() - i;
    lines
        .map(|l| {
            let fields: Vec<&str> = l.split(',').collect();
            fields[fields.len() - from_right].parse::<i64>().unwrap()
        })
        .sum()
}

#[tokio::test]
async fn exports_stream_the_rows_of_stored_and_pending_minutes_once() {
    let data = KeptData::new("export").await;
    let server = data.start().await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    let key = create(&api, &alice, json!({"name": "x", "scopes": ["read"]})).await;
    let id = key["id"].as_i64().unwrap();
    let plaintext = key["key"].as_str().unwrap().to_string();
    let call = |endpoint: &str| json!({"key": plaintext, "endpoint": endpoint});
    verify_code(&api, call("GET /tickets/7")).await;
    verify_code(&api, call("GET /tickets/8")).await;
    verify_code(&api, call("=cmd|' /C calc'!A0,\"x\"")).await;
    server.stop().await; // stores these rollups

    let server = data.start().await;
    let api = server.api();
    let alice = api.login("alice@example.com", "long-enough-pw").await.0;
    verify_code(&api, call("GET /tickets/9")).await;
    verify_code(&api, json!({"key": "kp_not_a_key"})).await; // nobody's: not in her export
    verify_code(
        &api,
        json!({"key": plaintext, "endpoint": "GET /tickets/10", "scopes": ["admin"]}),
    )
    .await; // refused
    server.state.usage.sync().await; // pending only

    let path = format!("/api/v1/keys/{id}/usage/export?granularity=day&format=json");
    let (headers, body) = export(&api, &alice, &path).await;
    assert_eq!(headers["content-type"], "application/json");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with(&format!("attachment; filename=\"keyport-usage-key-{id}-"))
            && disposition.ends_with(".json\""),
        "{disposition}"
    );
    let rows: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    let sum = |f: &str| rows.iter().map(|r| r[f].as_i64().unwrap()).sum::<i64>();
    assert_eq!((sum("requests"), sum("errors")), (5, 1), "{body}");
    let mut keys: Vec<String> = rows
        .iter()
        .map(|r| format!("{}|{}|{}", r["bucket_start"], r["endpoint"], r["code"]))
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(
        keys.len(),
        n,
        "a stored and a pending part of a row come out as one row"
    );
    let tickets = rows
        .iter()
        .find(|r| r["endpoint"] == "GET /tickets/{id}" && r["code"] == "VALID")
        .unwrap();
    assert_eq!(tickets["requests"], 3, "ids folded into the route");
    assert_eq!(tickets["key_id"], id);

    let (headers, csv) = export(
        &api,
        &alice,
        &format!("/api/v1/keys/{id}/usage/export?granularity=day"),
    )
    .await;
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(csv.starts_with("bucket_start,key_id,api_id,owner_user_id,endpoint,code,"));
    assert!(
        csv.contains(",\"'=cmd|' /C calc'!A0,\"\"x\"\"\",VALID,"),
        "a formula is defused and quoted: {csv}"
    );
    assert_eq!(column_sum(&csv, "requests"), 5);
    assert_eq!(column_sum(&csv, "errors"), 1);

    // Everyone's export is the caller's own for users, everything for admins.
    let bob = user_token(&api, "bob@example.com").await;
    let (_, mine) = export(&api, &bob, "/api/v1/analytics/usage/export?format=json").await;
    assert_eq!(
        serde_json::from_str::<Vec<serde_json::Value>>(&mine)
            .unwrap()
            .len(),
        0
    );
    let admin = admin_token(&api).await;
    let (headers, all) = export(&api, &admin, "/api/v1/analytics/usage/export").await;
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("keyport-usage-all-")
    );
    assert_eq!(
        column_sum(&all, "requests"),
        6,
        "the unknown key's call too"
    );
}

#[tokio::test]
async fn bad_exports_get_clear_errors_and_others_keys_stay_hidden() {
    let server = TestServer::start().await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    let bob = user_token(&api, "bob@example.com").await;
    let key = create(&api, &alice, json!({"name": "a"})).await;
    let id = key["id"].as_i64().unwrap();
    let res = api
        .get(&format!("/api/v1/keys/{id}/usage/export"), None)
        .await;
    expect_error(res, 401, "UNAUTHORIZED").await;
    for path in [
        format!("/api/v1/keys/{id}/usage/export"),
        format!("/api/v1/analytics/usage/export?key_id={id}"),
    ] {
        expect_error(api.get(&path, Some(&bob)).await, 404, "NOT_FOUND").await;
    }
    for (query, field) in [
        ("format=xml", "query.format"),
        ("format=csv&granularity=fortnight", "query.granularity"),
        ("from=%3Cscript%3E", "query.from"),
    ] {
        for path in [
            format!("/api/v1/keys/{id}/usage/export?{query}"),
            format!("/api/v1/analytics/usage/export?{query}"),
        ] {
            let body =
                expect_error(api.get(&path, Some(&alice)).await, 422, "VALIDATION_ERROR").await;
            assert_eq!(body["errors"][0]["field"], field, "{path}");
        }
    }
}

/// Alice's key (scope `read`) and Bob's, for pages that must show one and not the other.
pub async fn alice_and_bob_keys(api: &Api) -> (Value, Value) {
    let alice = user_token(api, "alice@example.com").await;
    let bobs = user_token(api, "bob@example.com").await;
    let key = create(api, &alice, json!({"name": "a", "scopes": ["read"]})).await;
    let bob_key = create(api, &bobs, json!({"name": "b"})).await;
    (key, bob_key)
}

pub async fn portal_sign_in(server: &TestServer, email: &str) -> Browser {
    portal_sign_in_as(server, email, "long-enough-pw").await
}

pub async fn portal_sign_in_as(server: &TestServer, email: &str, password: &str) -> Browser {
    let browser = server.browser();
    let res = browser
        .form("/sfn/login", &[("email", email), ("password", password)])
        .await;
    assert_eq!(res.status(), 302, "sign in {email}");
    browser
}

#[tokio::test]
async fn the_usage_page_shows_the_range_in_the_url_without_javascript() {
    let server = TestServer::start().await;
    let api = server.api();
    let (key, bob_key) = alice_and_bob_keys(&api).await;
    let plaintext = key["key"].as_str().unwrap();
    for _ in 0..3 {
        code_of(&api, plaintext).await;
    }
    verify_code(&api, json!({"key": plaintext, "scopes": ["write"]})).await;
    server.state.usage.sync().await;

    let res = server.browser().get("/usage").await;
    assert_eq!(res.status(), 302, "signed out: to the sign-in page");
    let browser = portal_sign_in(&server, "alice@example.com").await;
    let page = browser.get("/usage?range=1h").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("All of your keys"));
    assert!(
        html.contains(r#"href="/usage?range=1h" aria-current="page""#),
        "the preset is marked"
    );
    assert!(html.contains("by minute"), "an hour comes in minutes");
    let stat = |label: &str| {
        let at = html
            .find(&format!(">{label}<"))
            .unwrap_or_else(|| panic!("{label}"));
        let rest = &html[at..];
        let v = rest.find("stat-value\">").unwrap() + "stat-value\">".len();
        rest[v..rest[v..].find('<').unwrap() + v].to_string()
    };
    assert_eq!(stat("Requests"), "4");
    assert_eq!(stat("Errors"), "1");
    assert!(html.contains("<table"), "the table a chart stands on");
    // The charts: ECharts from this server, the options in the island's props, live updates.
    assert!(html.contains(r#"src="/vendor/echarts/echarts.min.js""#));
    assert!(html.contains(r#"id="chart-requests""#) && html.contains(r#"id="chart-latency""#));
    assert!(
        html.contains("Succeeded") && html.contains("p95"),
        "chart options"
    );
    assert!(
        html.contains("/usage/live?range=1h"),
        "live updates for a rolling range"
    );
    assert!(
        html.contains("Charts need JavaScript"),
        "and a word for browsers without it"
    );

    // One key, and a custom range typed into the form (UTC).
    let id = key["id"].as_i64().unwrap();
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let from = (now - time::Duration::hours(2)).format(&fmt).unwrap();
    let to = (now + time::Duration::minutes(2)).format(&fmt).unwrap();
    let html = browser
        .get(&format!("/usage?key={id}&from={from}&to={to}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("Key #{id}")));
    assert!(
        html.contains(&format!(r#"name="key" value="{id}""#)),
        "the form keeps the key"
    );
    assert!(!html.contains(r#"aria-current="page">Last hour"#));
    assert!(
        !html.contains("/usage/live"),
        "a range with an end is not followed live"
    );

    // Nonsense ranges and other people's keys are told, not shown.
    let html = browser
        .get("/usage?from=%3Cscript%3Ealert(1)%3C/script%3E")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("role=\"alert\""));
    assert!(!html.contains("<script>alert(1)"));
    let html = browser
        .get(&format!("/usage?key={}", bob_key["id"]))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("role=\"alert\""));
    assert!(!html.contains("stat-value"));

    // A quiet range has an empty state, not an empty table.
    let html = browser
        .get("/usage?from=2026-01-01T00:00&to=2026-01-01T01:00")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("No requests in this range"));
}
