//! The gateway against a real upstream started by the test: forwarding, streaming, every
//! refusal code with its headers, CORS, upstream failures, and usage records.

use crate::harness::*;
use crate::upstream::{Upstream, closed_port_url};
use reqwest::Response;
use serde_json::{Value, json};

async fn admin_token(api: &Api) -> String {
    api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.0
}

async fn mount(api: &Api, admin: &str, body: Value) -> Value {
    let res = api.post_auth("/api/v1/apis", admin, body).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn call(server: &TestServer, method: &str, path: &str, key: Option<&str>) -> Response {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut req = http.request(method.parse().unwrap(), server.url(path));
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    req.send().await.unwrap()
}

/// A request written by hand, so nothing normalises its path.
async fn raw_get(server: &TestServer, path: &str, key: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = server.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nx-api-key: {key}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

fn header(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

async fn error_body(res: Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status(), status);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error_code"], code, "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    assert!(body["request_id"].as_str().is_some_and(|d| !d.is_empty()));
    assert!(body["timestamp"].is_string());
    body
}

#[tokio::test]
async fn calls_are_forwarded_with_limits_reported_and_the_key_stripped() {
    let upstream = Upstream::start().await;
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    mount(
        &api,
        &admin,
        json!({"name": "Echo", "slug": "echo", "upstream_url": format!("{}/base", upstream.base)}),
    )
    .await;
    let token = user_token(&api, "gw@example.com").await;
    let k = create(
        &api,
        &token,
        json!({"name": "gw", "rate_limits": [{"name": "default", "limit": 3, "window": "minute"}]}),
    )
    .await;
    let key = k["key"].as_str().unwrap();

    let res = call(
        &server,
        "GET",
        "/gw/echo/v1/items%20x?page=2&q=a%26b",
        Some(key),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "x-ratelimit-limit").as_deref(), Some("3"));
    assert_eq!(header(&res, "x-ratelimit-remaining").as_deref(), Some("2"));
    assert_eq!(header(&res, "x-ratelimit-window").as_deref(), Some("60"));
    let reset: i64 = header(&res, "x-ratelimit-reset").unwrap().parse().unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(reset > now && reset <= now + 61);
    assert_eq!(
        header(&res, "ratelimit-policy").as_deref(),
        Some("\"default\";q=3;w=60")
    );
    assert!(
        header(&res, "ratelimit")
            .unwrap()
            .starts_with("\"default\";r=2;t=")
    );
    assert!(header(&res, "x-request-id").is_some());
    let seen: Value = res.json().await.unwrap();
    assert_eq!(seen["method"], "GET");
    assert_eq!(seen["path"], "/base/v1/items%20x");
    assert_eq!(seen["query"], "page=2&q=a%26b");
    let h = &seen["headers"];
    assert!(
        h.get("x-api-key").is_none(),
        "the key never reaches the upstream"
    );
    assert_eq!(h["x-forwarded-for"], "127.0.0.1");
    assert_eq!(h["x-forwarded-proto"], "http");
    assert!(h["x-request-id"].as_str().is_some());

    // Upstream statuses, headers and redirects come back as they are.
    let res = call(&server, "GET", "/gw/echo/../teapot", Some(key)).await;
    assert_eq!(
        res.status(),
        404,
        "clients normalise dot segments themselves"
    );
    let res = call(&server, "POST", "/gw/echo/x", Some(key)).await;
    assert_eq!(res.status(), 200);
    let res = call(&server, "DELETE", "/gw/echo/y", Some(key)).await;
    assert_eq!(res.status(), 200);
    let refused = call(&server, "GET", "/gw/echo/z", Some(key)).await;
    assert_eq!(
        header(&refused, "x-ratelimit-remaining").as_deref(),
        Some("0")
    );
    let retry: i64 = header(&refused, "retry-after").unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry));
    error_body(refused, 429, "RATE_LIMIT_EXCEEDED").await;
}

#[tokio::test]
async fn bodies_stream_both_ways_past_the_api_body_limit() {
    let upstream = Upstream::start().await;
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    mount(
        &api,
        &admin,
        json!({"name": "Files", "slug": "files", "upstream_url": upstream.base}),
    )
    .await;
    let token = user_token(&api, "files@example.com").await;
    let key = create(&api, &token, json!({"name": "f"})).await["key"]
        .as_str()
        .unwrap()
        .to_string();
    let http = reqwest::Client::new();
    let upload = vec![b'x'; 3 * 1024 * 1024];
    let res = http
        .put(server.url("/gw/files/upload"))
        .header("x-api-key", &key)
        .body(upload)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let seen: Value = res.json().await.unwrap();
    assert_eq!(seen["body_len"], 3 * 1024 * 1024);
    let res = call(&server, "GET", "/gw/files/big/5000000", Some(&key)).await;
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    assert_eq!(bytes.len(), 5_000_000);
    assert_eq!(
        (bytes[0], bytes[65_536], bytes[4_999_999]),
        (b'a', b'b', b'y')
    );

    // Over the gateway's own cap: refused before anything reaches the upstream.
    let too_big = vec![b'y'; 11 * 1024 * 1024];
    let res = http
        .post(server.url("/gw/files/upload"))
        .header("x-api-key", &key)
        .body(too_big)
        .send()
        .await
        .unwrap();
    error_body(res, 413, "PAYLOAD_TOO_LARGE").await;
    let moved = call(&server, "GET", "/gw/files/moved", Some(&key)).await;
    assert_eq!(moved.status(), 302);
    assert_eq!(header(&moved, "location").as_deref(), Some("/elsewhere"));
    let teapot = call(&server, "GET", "/gw/files/teapot", Some(&key)).await;
    assert_eq!(teapot.status(), 418);
    assert_eq!(header(&teapot, "x-upstream").as_deref(), Some("yes"));
    assert_eq!(teapot.text().await.unwrap(), "short and stout");
}

#[tokio::test]
async fn every_refusal_has_its_code_and_status() {
    let upstream = Upstream::start().await;
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    let echo = mount(
        &api,
        &admin,
        json!({"name": "Echo", "slug": "echo", "upstream_url": upstream.base}),
    )
    .await;
    let other = mount(
        &api,
        &admin,
        json!({"name": "Other", "slug": "other", "upstream_url": upstream.base}),
    )
    .await;
    let token = user_token(&api, "codes@example.com").await;

    error_body(
        call(&server, "GET", "/gw/echo/x", None).await,
        401,
        "API_KEY_INVALID",
    )
    .await;
    error_body(
        call(&server, "GET", "/gw/echo/x", Some("kp_notarealkey")).await,
        401,
        "API_KEY_INVALID",
    )
    .await;
    let body = error_body(
        call(&server, "GET", "/gw/nowhere/x", None).await,
        404,
        "NOT_FOUND",
    )
    .await;
    assert_eq!(body["path"], "/gw/nowhere/x");

    let revoked = create(&api, &token, json!({"name": "r"})).await;
    api.post_auth(
        &format!("/api/v1/keys/{}/revoke", revoked["id"]),
        &token,
        json!({}),
    )
    .await;
    error_body(
        call(&server, "GET", "/gw/echo/x", revoked["key"].as_str()).await,
        401,
        "API_KEY_REVOKED",
    )
    .await;
    let disabled = create(&api, &token, json!({"name": "d"})).await;
    patch(
        &api,
        &token,
        &format!("/api/v1/keys/{}", disabled["id"]),
        json!({"enabled": false}),
    )
    .await;
    error_body(
        call(&server, "GET", "/gw/echo/x", disabled["key"].as_str()).await,
        401,
        "API_KEY_DISABLED",
    )
    .await;
    let bound = create(&api, &token, json!({"name": "b", "api_id": other["id"]})).await;
    error_body(
        call(&server, "GET", "/gw/echo/x", bound["key"].as_str()).await,
        403,
        "PERMISSION_DENIED",
    )
    .await;
    assert_eq!(
        call(&server, "GET", "/gw/other/x", bound["key"].as_str())
            .await
            .status(),
        200
    );
    let walled = create(
        &api,
        &token,
        json!({"name": "w", "ip_allowlist": ["203.0.113.0/24"]}),
    )
    .await;
    error_body(
        call(&server, "GET", "/gw/echo/x", walled["key"].as_str()).await,
        403,
        "IP_NOT_ALLOWED",
    )
    .await;
    let quota = create(
        &api,
        &token,
        json!({"name": "q", "quota": {"period": "day", "limit": 1}}),
    )
    .await;
    assert_eq!(
        call(&server, "GET", "/gw/echo/x", quota["key"].as_str())
            .await
            .status(),
        200
    );
    let res = call(&server, "GET", "/gw/echo/x", quota["key"].as_str()).await;
    assert!(header(&res, "retry-after").is_some());
    error_body(res, 429, "QUOTA_EXCEEDED").await;
    let credits = create(&api, &token, json!({"name": "c", "remaining": 1})).await;
    assert_eq!(
        call(&server, "GET", "/gw/echo/x", credits["key"].as_str())
            .await
            .status(),
        200
    );
    error_body(
        call(&server, "GET", "/gw/echo/x", credits["key"].as_str()).await,
        429,
        "USAGE_EXCEEDED",
    )
    .await;
    // HTTP clients normalise dot segments away; a raw request shows the gateway refuses them.
    let raw = raw_get(
        &server,
        "/gw/echo/a/%2e%2e/b",
        credits["key"].as_str().unwrap(),
    )
    .await;
    assert!(raw.starts_with("HTTP/1.1 400"), "{raw}");
    assert!(raw.contains("\"error_code\":\"BAD_REQUEST\""));
    let _ = echo;
}

#[tokio::test]
async fn api_default_limits_apply_to_keys_without_their_own() {
    let upstream = Upstream::start().await;
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    mount(
        &api,
        &admin,
        json!({"name": "Echo", "slug": "echo", "upstream_url": upstream.base,
               "default_rate_limits": [{"name": "default", "limit": 2, "window": "hour"}]}),
    )
    .await;
    let token = user_token(&api, "defaults@example.com").await;
    let plain = create(&api, &token, json!({"name": "p"})).await;
    let own = create(
        &api,
        &token,
        json!({"name": "o", "rate_limits": [{"name": "default", "limit": 5, "window": "hour"}]}),
    )
    .await;
    let mut plain_statuses = Vec::new();
    for _ in 0..3 {
        plain_statuses.push(
            call(&server, "GET", "/gw/echo/x", plain["key"].as_str())
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(plain_statuses, [200, 200, 429]);
    for _ in 0..3 {
        let res = call(&server, "GET", "/gw/echo/x", own["key"].as_str()).await;
        assert_eq!(res.status(), 200, "the key's own limit wins");
        assert_eq!(header(&res, "x-ratelimit-limit").as_deref(), Some("5"));
    }
}

#[tokio::test]
async fn upstream_down_is_502_and_slow_is_504() {
    let upstream = Upstream::start().await;
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    mount(
        &api,
        &admin,
        json!({"name": "Down", "slug": "down", "upstream_url": closed_port_url().await}),
    )
    .await;
    mount(
        &api,
        &admin,
        json!({"name": "Slow", "slug": "slow", "upstream_url": upstream.base, "timeout_ms": 300}),
    )
    .await;
    let token = user_token(&api, "down@example.com").await;
    let k = create(
        &api,
        &token,
        json!({"name": "d", "rate_limits": [{"name": "default", "limit": 10, "window": "minute"}]}),
    )
    .await;
    let res = call(&server, "GET", "/gw/down/x", k["key"].as_str()).await;
    assert!(
        header(&res, "x-ratelimit-limit").is_some(),
        "limits reported on failures too"
    );
    error_body(res, 502, "BAD_GATEWAY").await;
    let started = std::time::Instant::now();
    let res = call(&server, "GET", "/gw/slow/never", k["key"].as_str()).await;
    error_body(res, 504, "GATEWAY_TIMEOUT").await;
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[tokio::test]
async fn cors_preflight_and_allowed_origins() {
    let upstream = Upstream::start().await;
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    mount(
        &api,
        &admin,
        json!({"name": "Echo", "slug": "echo", "upstream_url": upstream.base}),
    )
    .await;
    let token = user_token(&api, "cors@example.com").await;
    let k = create(
        &api,
        &token,
        json!({"name": "web", "allowed_origins": ["https://app.example.com"]}),
    )
    .await;
    let key = k["key"].as_str().unwrap();
    let http = reqwest::Client::new();
    let pre = http
        .request(reqwest::Method::OPTIONS, server.url("/gw/echo/items"))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "x-api-key, content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), 204);
    assert_eq!(
        header(&pre, "access-control-allow-origin").as_deref(),
        Some("https://app.example.com")
    );
    assert!(
        header(&pre, "access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
    assert_eq!(
        header(&pre, "access-control-allow-headers").as_deref(),
        Some("x-api-key, content-type")
    );
    let ok = http
        .post(server.url("/gw/echo/items"))
        .header("origin", "https://app.example.com")
        .header("x-api-key", key)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        header(&ok, "access-control-allow-origin").as_deref(),
        Some("https://app.example.com")
    );
    assert!(
        header(&ok, "access-control-expose-headers")
            .unwrap()
            .contains("X-RateLimit-Remaining")
    );
    let evil = http
        .post(server.url("/gw/echo/items"))
        .header("origin", "https://evil.example")
        .header("x-api-key", key)
        .send()
        .await
        .unwrap();
    assert!(header(&evil, "access-control-allow-origin").is_none());
    error_body(evil, 403, "ORIGIN_NOT_ALLOWED").await;
    // Scripts send no Origin: the rule is for browsers.
    assert_eq!(
        call(&server, "GET", "/gw/echo/items", Some(key))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn every_call_is_a_usage_event_stored_by_graceful_shutdown() {
    let upstream = Upstream::start().await;
    // Its data outlives the server, to be read after a graceful stop.
    let kept = KeptData::new("usage-gw").await;
    let server = kept.start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    mount(
        &api,
        &admin,
        json!({"name": "Echo", "slug": "echo", "upstream_url": upstream.base}),
    )
    .await;
    let token = user_token(&api, "usage@example.com").await;
    let k = create(
        &api,
        &token,
        json!({"name": "u", "rate_limits": [{"name": "default", "limit": 5, "window": "minute"}]}),
    )
    .await;
    let key = k["key"].as_str().unwrap();
    for _ in 0..7 {
        call(&server, "POST", "/gw/echo/things", Some(key))
            .await
            .bytes()
            .await
            .unwrap();
    }
    call(&server, "GET", "/gw/echo/things", None)
        .await
        .bytes()
        .await
        .unwrap();
    for _ in 0..4 {
        verify_code(&api, json!({"key": key, "endpoint": "GET /tickets"})).await;
    }
    let db_url = server.state.config.database_url.clone();
    server.stop().await;

    let db = keyport::db::Db::connect(&db_url).await.unwrap();
    let events = keyport::db::usage::recent(&db, 100).await.unwrap();
    db.close().await;
    assert_eq!(events.len(), 12, "every request, none lost at shutdown");
    let gateway: Vec<_> = events.iter().filter(|e| e.source == "gateway").collect();
    assert_eq!(gateway.len(), 8);
    assert_eq!(gateway.iter().filter(|e| e.status == 200).count(), 5);
    assert_eq!(
        gateway
            .iter()
            .filter(|e| e.code == "RATE_LIMIT_EXCEEDED" && e.status == 429)
            .count(),
        2
    );
    assert_eq!(
        gateway
            .iter()
            .filter(|e| e.code == "API_KEY_INVALID" && e.key_id.is_none())
            .count(),
        1
    );
    assert!(
        gateway
            .iter()
            .filter(|e| e.status == 200)
            .all(|e| e.endpoint == "POST /things"
                && e.response_bytes > 0
                && e.api_id.is_some()
                && e.key_id == k["id"].as_i64()
                && e.ip == "127.0.0.1")
    );
    let verified: Vec<_> = events.iter().filter(|e| e.source == "verify").collect();
    assert_eq!(verified.len(), 4);
    assert!(
        verified
            .iter()
            .all(|e| e.endpoint == "GET /tickets" && e.status == 200)
    );
    assert_eq!(
        verified.iter().filter(|e| e.code == "VALID").count(),
        0,
        "the limit was spent by the gateway"
    );
}

#[tokio::test]
async fn the_gateway_is_in_the_openapi_document() {
    let server = TestServer::start().await;
    let doc: Value = server
        .api()
        .get("/api/v1/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    let op = &doc["paths"]["/gw/{api_slug}/{path}"]["get"];
    assert_eq!(op["tags"][0], "gateway");
    for status in ["401", "403", "429", "502", "504"] {
        assert!(op["responses"][status].is_object(), "{status} documented");
    }
}

#[tokio::test]
async fn a_call_whose_client_hangs_up_is_still_recorded() {
    let upstream = Upstream::start().await;
    // Its data outlives the server, to be read after a graceful stop.
    let kept = KeptData::new("hangup").await;
    let server = kept.start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    mount(
        &api,
        &admin,
        json!({"name": "Slow", "slug": "slow", "upstream_url": upstream.base, "timeout_ms": 60000}),
    )
    .await;
    let token = user_token(&api, "hangup@example.com").await;
    let key = create(&api, &token, json!({"name": "h"})).await["key"]
        .as_str()
        .unwrap()
        .to_string();
    let impatient = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let gave_up = impatient
        .get(server.url("/gw/slow/never"))
        .header("x-api-key", &key)
        .send()
        .await;
    assert!(gave_up.is_err(), "the upstream never answers");
    let db_url = server.state.config.database_url.clone();
    let started = std::time::Instant::now();
    server.stop().await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "the abandoned call does not hold up shutdown"
    );
    let db = keyport::db::Db::connect(&db_url).await.unwrap();
    let events = keyport::db::usage::recent(&db, 10).await.unwrap();
    db.close().await;
    let gateway: Vec<_> = events.iter().filter(|e| e.source == "gateway").collect();
    assert_eq!(gateway.len(), 1);
    assert_eq!(
        (gateway[0].status, gateway[0].code.as_str()),
        (499, "CLIENT_CLOSED")
    );
}
