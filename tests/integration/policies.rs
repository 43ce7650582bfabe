//! Rate-limit policies over REST: management by admins, bad input, and enforcement on
//! verification and the gateway (shared buckets, per-subject buckets, penalties).

use crate::apis::{admin_token, create_api, delete, error_fields, get_json};
use crate::harness::*;
use crate::upstream::Upstream;
use serde_json::{Value, json};

async fn create_policy(api: &Api, token: &str, body: Value) -> Value {
    let res = api
        .post_auth("/api/v1/rate-limits", token, body.clone())
        .await;
    assert_eq!(res.status(), 201, "create {body}");
    res.json().await.unwrap()
}

async fn verify(api: &Api, body: Value) -> Value {
    verify_code(api, body).await
}

/// (action, target_id) of the policy audit records, oldest first.
async fn policy_audit(server: &TestServer) -> Vec<(String, Option<i64>)> {
    const SQL: &str = "SELECT action, target_id FROM audit_log
                       WHERE target_type = 'rate_limit_policy' ORDER BY id";
    match &server.state.db {
        keyport::db::Db::Sqlite(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
        keyport::db::Db::Postgres(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
    }
}

#[tokio::test]
async fn admins_manage_policies_and_nobody_else_sees_them() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    let user = user_token(&api, "plain@example.com").await;
    create_api(
        &api,
        &admin,
        json!({"name": "Tickets", "slug": "tickets", "upstream_url": "https://t.example.com"}),
    )
    .await;

    let ip = create_policy(
        &api,
        &admin,
        json!({"scope": "ip", "target": "203.0.113.77/24", "limit": 100, "window": "minute", "burst": 20}),
    )
    .await;
    let id = ip["id"].as_i64().unwrap();
    assert_eq!(
        ip["name"], "ip 100/minute",
        "a name is made up when none is given"
    );
    assert_eq!(ip["target"], "203.0.113.0/24", "host bits cleared");
    assert_eq!(
        (ip["limit"].clone(), ip["burst"].clone()),
        (json!(100), json!(20))
    );
    assert_eq!(ip["enabled"], true);
    let endpoint = create_policy(
        &api,
        &admin,
        json!({"name": "Comment flood", "scope": "endpoint", "target": "tickets", "method": "post",
               "path_pattern": "/tickets/{id}/comments", "limit": 5, "window": "second"}),
    )
    .await;
    assert_eq!(
        (endpoint["method"].as_str(), endpoint["target"].as_str()),
        (Some("POST"), Some("tickets"))
    );
    assert!(endpoint["api_id"].is_i64());
    let me = get_json(&api, &user, "/api/v1/users/me").await;
    let by_user = create_policy(
        &api,
        &admin,
        json!({"scope": "user", "target": me["id"], "limit": 10, "window": "hour"}),
    )
    .await;
    assert_eq!(
        by_user["target"],
        me["id"].to_string(),
        "ids may be sent as numbers"
    );

    let page = get_json(&api, &admin, "/api/v1/rate-limits?per_page=2").await;
    assert_eq!(
        (
            page["total"].clone(),
            page["items"].as_array().unwrap().len()
        ),
        (json!(3), 2)
    );
    assert_eq!(page["items"][0]["id"], by_user["id"], "newest first");
    let ips = get_json(&api, &admin, "/api/v1/rate-limits?scope=ip").await;
    assert_eq!(ips["total"], 1);
    assert_eq!(
        get_json(&api, &admin, &format!("/api/v1/rate-limits/{id}")).await,
        ip
    );

    let res = patch(
        &api,
        &admin,
        &format!("/api/v1/rate-limits/{id}"),
        json!({"enabled": false, "target": null}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let edited: Value = res.json().await.unwrap();
    assert_eq!(
        (edited["enabled"].clone(), edited["target"].clone()),
        (json!(false), Value::Null)
    );
    assert_eq!(edited["limit"], 100, "absent fields are kept");

    // Everyone else: 401 without credentials, 403 for a signed-in user, whatever they send.
    for path in ["/api/v1/rate-limits", &format!("/api/v1/rate-limits/{id}")] {
        expect_error(api.get(path, None).await, 401, "UNAUTHORIZED").await;
        expect_error(api.get(path, Some(&user)).await, 403, "FORBIDDEN").await;
    }
    expect_error(
        api.post_auth(
            "/api/v1/rate-limits",
            &user,
            json!({"scope": "global", "limit": 1, "window": "day"}),
        )
        .await,
        403,
        "FORBIDDEN",
    )
    .await;
    expect_error(
        patch(
            &api,
            &user,
            &format!("/api/v1/rate-limits/{id}"),
            json!({"limit": 1}),
        )
        .await,
        403,
        "FORBIDDEN",
    )
    .await;
    expect_error(
        delete(&api, &user, &format!("/api/v1/rate-limits/{id}")).await,
        403,
        "FORBIDDEN",
    )
    .await;

    assert_eq!(
        delete(&api, &admin, &format!("/api/v1/rate-limits/{id}"))
            .await
            .status(),
        204
    );
    expect_error(
        api.get(&format!("/api/v1/rate-limits/{id}"), Some(&admin))
            .await,
        404,
        "NOT_FOUND",
    )
    .await;
    expect_error(
        delete(&api, &admin, &format!("/api/v1/rate-limits/{id}")).await,
        404,
        "NOT_FOUND",
    )
    .await;
    let audit = policy_audit(&server).await;
    let actions: Vec<&str> = audit.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "rate_limit_policy.created",
            "rate_limit_policy.created",
            "rate_limit_policy.created",
            "rate_limit_policy.disabled",
            "rate_limit_policy.deleted"
        ]
    );
    assert_eq!(audit[4].1, Some(id));

    let doc = get_json(&api, &admin, "/api/v1/openapi.json").await;
    for path in ["/api/v1/rate-limits", "/api/v1/rate-limits/{id}"] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    assert!(doc["components"]["schemas"]["RateLimitPolicy"].is_object());
}

#[tokio::test]
async fn bad_input_is_refused_field_by_field_and_changes_nothing() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    let base = || json!({"scope": "ip", "limit": 10, "window": "minute"});
    let with = |patch: Value| {
        let mut body = base();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "body"),
        (with(json!({"scope": "planet"})), "body.scope"),
        (with(json!({"scope": 3})), "body.scope"),
        (with(json!({"limit": 0})), "body.limit"),
        (with(json!({"limit": -5})), "body.limit"),
        (with(json!({"limit": "ten"})), "body.limit"),
        (with(json!({"limit": 1_000_000_001u64})), "body.limit"),
        (with(json!({"limit": 99_999_999_999u64})), "body.limit"),
        (with(json!({"window": "fortnight"})), "body.window"),
        (with(json!({"burst": 1_000_000_001u64})), "body.burst"),
        (with(json!({"name": "x".repeat(101)})), "body.name"),
        (with(json!({"name": "bad\u{0007}name"})), "body.name"),
        (with(json!({"target": "10.0.0.300"})), "body.target"),
        (
            with(json!({"target": "'; DROP TABLE users; --"})),
            "body.target",
        ),
        (with(json!({"target": [1]})), "body.target"),
        (
            with(json!({"scope": "global", "target": "x"})),
            "body.target",
        ),
        (
            with(json!({"scope": "user", "target": "seven"})),
            "body.target",
        ),
        (
            with(json!({"scope": "user", "target": 999_999})),
            "body.target",
        ),
        (
            with(json!({"scope": "key", "target": 999_999})),
            "body.target",
        ),
        (
            with(json!({"scope": "api", "target": "no-such-api"})),
            "body.target",
        ),
        (
            with(json!({"scope": "global", "method": "GET"})),
            "body.method",
        ),
        (with(json!({"method": "BREW"})), "body.method"),
        (
            with(json!({"scope": "api", "path_pattern": "/x"})),
            "body.path_pattern",
        ),
        (with(json!({"scope": "endpoint"})), "body.path_pattern"),
        (
            with(json!({"path_pattern": "tickets"})),
            "body.path_pattern",
        ),
        (
            with(json!({"path_pattern": "/a/../b"})),
            "body.path_pattern",
        ),
        (
            with(json!({"path_pattern": "/a/**/b"})),
            "body.path_pattern",
        ),
        (
            with(json!({"path_pattern": "/<script>alert(1)</script> x"})),
            "body.path_pattern",
        ),
        (with(json!({"enabled": "yes"})), "body.enabled"),
        (with(json!({"owner": 1})), "body"),
    ];
    for (body, field) in &cases {
        let res = api
            .post_auth("/api/v1/rate-limits", &admin, body.clone())
            .await;
        let fields = error_fields(res).await;
        assert!(
            fields.iter().any(|f| f.starts_with(field)),
            "{body} should name {field}, got {fields:?}"
        );
    }
    // Not JSON at all, and too big.
    let res = api
        .http
        .post(format!("{}/api/v1/rate-limits", api.base))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{\"scope\": ")
        .send()
        .await
        .unwrap();
    expect_error(res, 400, "INVALID_JSON").await;
    let huge = json!({"scope": "ip", "limit": 1, "window": "minute", "name": "x".repeat(2 << 20)});
    expect_error(
        api.post_auth("/api/v1/rate-limits", &admin, huge).await,
        413,
        "PAYLOAD_TOO_LARGE",
    )
    .await;

    // Edits are checked as a whole: a scope change needs a target that fits it.
    let p = create_policy(&api, &admin, with(json!({"target": "10.0.0.1"}))).await;
    let path = format!("/api/v1/rate-limits/{}", p["id"]);
    for (body, field) in [
        (json!({"scope": "user"}), "body.target"),
        (json!({"limit": null}), "body.limit"),
        (json!({"scope": "global"}), "body.target"),
        (
            json!({"method": "GET", "scope": "api", "target": null}),
            "body.method",
        ),
    ] {
        let fields = error_fields(patch(&api, &admin, &path, body.clone()).await).await;
        assert!(fields.iter().any(|f| f == field), "{body}: {fields:?}");
    }
    expect_error(
        patch(
            &api,
            &admin,
            "/api/v1/rate-limits/999999",
            json!({"limit": 1}),
        )
        .await,
        404,
        "NOT_FOUND",
    )
    .await;
    expect_error(
        api.get("/api/v1/rate-limits/abc", Some(&admin)).await,
        404,
        "NOT_FOUND",
    )
    .await;
    expect_error(
        api.get("/api/v1/rate-limits?per_page=500", Some(&admin))
            .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    expect_error(
        api.get("/api/v1/rate-limits?scope=planet", Some(&admin))
            .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;

    assert_eq!(get_json(&api, &admin, &path).await, p, "nothing changed");
    assert_eq!(
        get_json(&api, &admin, "/api/v1/rate-limits").await["total"],
        1
    );
    assert_eq!(
        policy_audit(&server).await.len(),
        1,
        "only the one creation"
    );
}

#[tokio::test]
async fn a_global_policy_caps_every_key_together_and_refusals_spend_nothing() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    let a = user_token(&api, "a@example.com").await;
    let b = user_token(&api, "b@example.com").await;
    let ka = create(
        &api,
        &a,
        json!({"name": "a", "quota": {"period": "day", "limit": 100}}),
    )
    .await;
    let kb = create(&api, &b, json!({"name": "b"})).await;
    let (ka_key, kb_key) = (ka["key"].as_str().unwrap(), kb["key"].as_str().unwrap());
    let p = create_policy(
        &api,
        &admin,
        json!({"scope": "global", "limit": 3, "window": "minute"}),
    )
    .await;

    assert_eq!(code_of(&api, ka_key).await, "VALID");
    assert_eq!(code_of(&api, ka_key).await, "VALID");
    let third = verify(&api, json!({"key": kb_key})).await;
    assert_eq!(third["code"], "VALID");
    assert_eq!(third["ratelimit"]["name"], format!("policy-{}", p["id"]));
    assert_eq!(third["ratelimit"]["remaining"], 0);
    let fourth = verify(&api, json!({"key": ka_key})).await;
    assert_eq!(fourth["code"], "RATE_LIMIT_EXCEEDED");
    assert_eq!(fourth["ratelimit"]["limit"], 3);
    assert!(
        fourth["retry_after"]
            .as_i64()
            .is_some_and(|s| (1..=20).contains(&s))
    );
    // The refused call took nothing from the key's quota: 2 of 100 used.
    let view = get_json(&api, &a, &format!("/api/v1/keys/{}", ka["id"])).await;
    assert_eq!(view["quota"]["used"], 2, "{view}");
    // A key's own checks still come first: a revoked key is API_KEY_REVOKED, not rate limited.
    let res = api
        .post_auth(&format!("/api/v1/keys/{}/revoke", kb["id"]), &b, json!({}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(code_of(&api, kb_key).await, "API_KEY_REVOKED");

    // Disabled: in force no more, at once.
    let path = format!("/api/v1/rate-limits/{}", p["id"]);
    assert_eq!(
        patch(&api, &admin, &path, json!({"enabled": false}))
            .await
            .status(),
        200
    );
    assert_eq!(code_of(&api, ka_key).await, "VALID");
    // Enabled again: the bucket remembers what it counted.
    assert_eq!(
        patch(&api, &admin, &path, json!({"enabled": true}))
            .await
            .status(),
        200
    );
    assert_eq!(code_of(&api, ka_key).await, "RATE_LIMIT_EXCEEDED");
}

#[tokio::test]
async fn per_subject_policies_give_each_ip_and_user_its_own_bucket() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    let u = user_token(&api, "two-keys@example.com").await;
    let k1 = create(&api, &u, json!({"name": "one"})).await;
    let k2 = create(&api, &u, json!({"name": "two"})).await;
    let other = user_token(&api, "other@example.com").await;
    let k3 = create(&api, &other, json!({"name": "three"})).await;
    let key = |k: &Value| k["key"].as_str().unwrap().to_string();

    create_policy(
        &api,
        &admin,
        json!({"scope": "ip", "target": "198.51.100.0/24", "limit": 2, "window": "hour"}),
    )
    .await;
    let at = |k: &Value, ip: &str| json!({"key": key(k), "ip": ip});
    assert_eq!(verify(&api, at(&k3, "198.51.100.7")).await["code"], "VALID");
    assert_eq!(verify(&api, at(&k3, "198.51.100.7")).await["code"], "VALID");
    assert_eq!(
        verify(&api, at(&k3, "198.51.100.7")).await["code"],
        "RATE_LIMIT_EXCEEDED"
    );
    assert_eq!(
        verify(&api, at(&k3, "198.51.100.8")).await["code"],
        "VALID",
        "another IP"
    );
    for _ in 0..5 {
        assert_eq!(
            verify(&api, at(&k3, "203.0.113.1")).await["code"],
            "VALID",
            "outside the range"
        );
    }

    create_policy(
        &api,
        &admin,
        json!({"scope": "user", "limit": 3, "window": "hour"}),
    )
    .await;
    let codes = [
        verify(&api, json!({"key": key(&k1)})).await["code"].clone(),
        verify(&api, json!({"key": key(&k2)})).await["code"].clone(),
        verify(&api, json!({"key": key(&k1)})).await["code"].clone(),
        verify(&api, json!({"key": key(&k2)})).await["code"].clone(),
    ];
    assert_eq!(
        codes,
        [
            json!("VALID"),
            json!("VALID"),
            json!("VALID"),
            json!("RATE_LIMIT_EXCEEDED")
        ],
        "one owner, one bucket"
    );
}

#[tokio::test]
async fn many_concurrent_callers_get_exactly_the_shared_limit() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    let u = user_token(&api, "crowd@example.com").await;
    let mut keys = Vec::new();
    for i in 0..5 {
        keys.push(
            create(&api, &u, json!({"name": format!("k{i}")})).await["key"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    create_policy(
        &api,
        &admin,
        json!({"scope": "global", "limit": 20, "window": "hour", "burst": 5}),
    )
    .await;
    let api = std::sync::Arc::new(api);
    let calls: Vec<_> = (0..100)
        .map(|i| {
            let api = api.clone();
            let key = keys[i % keys.len()].clone();
            tokio::spawn(async move { code_of(&api, &key).await })
        })
        .collect();
    let mut valid = 0;
    for call in calls {
        if call.await.unwrap() == "VALID" {
            valid += 1;
        }
    }
    assert_eq!(valid, 25, "limit + burst, never more");
}

#[tokio::test]
async fn an_ip_that_keeps_exceeding_is_penalised_and_logged() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    let u = user_token(&api, "flood@example.com").await;
    let k = create(&api, &u, json!({"name": "flood"})).await;
    let p = create_policy(
        &api,
        &admin,
        json!({"scope": "ip", "limit": 1, "window": "minute"}),
    )
    .await;
    let body = json!({"key": k["key"], "ip": "192.0.2.55"});
    let mut codes = Vec::new();
    for _ in 0..22 {
        codes.push(
            verify(&api, body.clone()).await["code"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(codes[0], "VALID");
    assert!(codes[1..].iter().all(|c| c == "RATE_LIMIT_EXCEEDED"));
    let events =
        keyport::db::security_events::for_subject(&server.state.db, "ip", "192.0.2.55", 10)
            .await
            .unwrap();
    assert_eq!(events.len(), 1, "20 refusals in a minute raise one level");
    assert_eq!(events[0].kind, "ratelimit.penalty_raised");
    let detail: Value = serde_json::from_str(&events[0].detail).unwrap();
    assert_eq!(
        (detail["level"].clone(), detail["policy_id"].clone()),
        (json!(1), p["id"].clone())
    );
    // The key itself broke none of its own limits: no event about it.
    let key_events = keyport::db::security_events::for_subject(
        &server.state.db,
        "api_key",
        &k["id"].to_string(),
        10,
    )
    .await
    .unwrap();
    assert!(key_events.is_empty());
}

#[tokio::test]
async fn endpoint_policies_match_method_and_path_through_the_gateway() {
    let upstream = Upstream::start().await;
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    create_api(
        &api,
        &admin,
        json!({"name": "T", "slug": "t", "upstream_url": upstream.base.clone()}),
    )
    .await;
    let p = create_policy(
        &api,
        &admin,
        json!({"scope": "endpoint", "target": "t", "method": "POST", "path_pattern": "/tickets/**",
               "limit": 1, "window": "minute"}),
    )
    .await;
    let u = user_token(&api, "gw-policy@example.com").await;
    let k = create(&api, &u, json!({"name": "gw"})).await;
    let key = k["key"].as_str().unwrap();
    let http = reqwest::Client::new();
    let call = |method: &str, path: &str| {
        http.request(method.parse().unwrap(), server.url(path))
            .header("x-api-key", key)
            .send()
    };
    let first = call("POST", "/gw/t/tickets/1").await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["x-ratelimit-limit"], "1");
    assert_eq!(first.headers()["x-ratelimit-remaining"], "0");
    let policy_name = format!("\"policy-{}\"", p["id"]);
    assert!(
        first.headers()["ratelimit-policy"]
            .to_str()
            .unwrap()
            .starts_with(&policy_name)
    );
    let second = call("POST", "/gw/t/tickets/2/comments").await.unwrap();
    assert_eq!(second.status(), 429);
    assert!(second.headers().contains_key("retry-after"));
    let body: Value = second.json().await.unwrap();
    assert_eq!(body["error_code"], "RATE_LIMIT_EXCEEDED");
    assert_eq!(
        call("GET", "/gw/t/tickets/1").await.unwrap().status(),
        200,
        "other method"
    );
    assert_eq!(
        call("POST", "/gw/t/users").await.unwrap().status(),
        200,
        "other path"
    );
    // Verification names no API, so a policy on one API does not count it.
    assert_eq!(
        verify(&api, json!({"key": key, "endpoint": "POST /tickets/1"})).await["code"],
        "VALID"
    );
}

#[tokio::test]
async fn admins_manage_policies_in_the_portal_without_javascript() {
    let server = TestServer::start().await;
    let admin = server.browser();
    let res = admin
        .form(
            "/sfn/login",
            &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(location(&res), "/dashboard");
    let html = admin.get("/admin").await.text().await.unwrap();
    assert!(
        html.contains("href=\"/admin/rate-limits\""),
        "reachable from the admin page"
    );
    let html = admin.get("/admin/rate-limits").await.text().await.unwrap();
    assert!(html.contains("No policies yet"));
    assert!(
        html.contains("action=\"/sfn/create_policy\"")
            && html.contains("<label for=\"policy-target\"")
    );

    let form = |scope: &'static str, target: &'static str, limit: &'static str| {
        vec![
            ("name", ""),
            ("scope", scope),
            ("target", target),
            ("method", "POST"),
            ("path_pattern", "/login"),
            ("limit", limit),
            ("window", "minute"),
            ("burst", ""),
            ("enabled", "on"),
        ]
    };
    let res = admin
        .form("/sfn/create_policy", &form("ip", "10.0.0.0/8", "30"))
        .await;
    assert_eq!(location(&res), "/admin/rate-limits?created=1");
    let html = admin
        .get("/admin/rate-limits?created=1")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Policy created."));
    let table = &html[html.find("<table").expect("a table of policies")..];
    assert!(
        table.contains("Each client IP in 10.0.0.0/8")
            && table.contains("POST /login")
            && table.contains("30 / minute")
    );
    // Bad input comes back as an error and creates nothing.
    for bad in [
        form("ip", "not-an-ip", "30"),
        form("ip", "", "lots"),
        form("global", "", "5"),
    ] {
        let res = admin.form("/sfn/create_policy", &bad).await;
        assert!(location(&res).contains("__err="), "{bad:?}");
    }
    let api = server.api();
    let token = admin_token(&api).await;
    let list = get_json(&api, &token, "/api/v1/rate-limits").await;
    assert_eq!(list["total"], 1);
    let id = list["items"][0]["id"].as_i64().unwrap();

    // Edit on the policy's page (unchecked box: disabled), then delete behind a confirmation.
    let html = admin
        .get(&format!("/admin/rate-limits/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("action=\"/sfn/update_policy\"") && html.contains("value=\"10.0.0.0/8\"")
    );
    assert!(html.contains("<details class=\"confirm\">"));
    let id_text = id.to_string();
    let mut edit = form("ip", "10.1.0.0/16", "60");
    edit.retain(|(k, _)| *k != "enabled");
    edit.push(("id", &id_text));
    let res = admin.form("/sfn/update_policy", &edit).await;
    assert_eq!(location(&res), format!("/admin/rate-limits/{id}?saved=1"));
    let got = get_json(&api, &token, &format!("/api/v1/rate-limits/{id}")).await;
    assert_eq!(
        (
            got["target"].as_str(),
            got["limit"].as_i64(),
            got["enabled"].as_bool()
        ),
        (Some("10.1.0.0/16"), Some(60), Some(false))
    );
    let res = admin.form("/sfn/delete_policy", &[("id", &id_text)]).await;
    assert_eq!(location(&res), "/admin/rate-limits?deleted=1");
    assert_eq!(
        get_json(&api, &token, "/api/v1/rate-limits").await["total"],
        0
    );

    // Not for users: the pages say so, the server functions refuse.
    let user = server.browser();
    api.register("nosy@example.com", "long-enough-pw", "Nosy")
        .await;
    let res = user
        .form(
            "/sfn/login",
            &[
                ("email", "nosy@example.com"),
                ("password", "long-enough-pw"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/dashboard");
    let res = user.get("/admin/rate-limits").await;
    assert_eq!(res.status(), 403);
    let res = user.form("/sfn/create_policy", &form("ip", "", "5")).await;
    assert!(location(&res).contains("__err="));
    assert_eq!(
        get_json(&api, &token, "/api/v1/rate-limits").await["total"],
        0
    );
}

#[tokio::test]
async fn an_ipv4_client_written_as_ipv6_is_that_ipv4_client() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    let u = user_token(&api, "mapped@example.com").await;
    let k = create(
        &api,
        &u,
        json!({"name": "v4 only", "ip_allowlist": ["203.0.113.0/24"]}),
    )
    .await;
    create_policy(
        &api,
        &admin,
        json!({"scope": "ip", "target": "203.0.113.0/24", "limit": 1, "window": "hour"}),
    )
    .await;
    let at = |ip: &str| json!({"key": k["key"], "ip": ip});
    assert_eq!(
        verify(&api, at("::ffff:203.0.113.9")).await["code"],
        "VALID"
    );
    assert_eq!(
        verify(&api, at("203.0.113.9")).await["code"],
        "RATE_LIMIT_EXCEEDED",
        "the same client, the same bucket"
    );
    assert_eq!(
        verify(&api, at("::ffff:203.0.113.10")).await["code"],
        "VALID",
        "another client"
    );
}
