//! The admin console over REST: suspension (tokens, refresh tokens, management keys, sign-in,
//! browser sessions and the owner's API keys), reactivation, role changes with the
//! last-super-admin rule, the audit log's filters and CSV export, security events, and bad
//! input that changes nothing. The access matrix is in admin_console_access.rs.

use crate::harness::*;
use crate::orgs::{call, json_of, user_id};
use reqwest::Method;
use serde_json::{Value, json};

pub async fn root_token(api: &Api) -> String {
    api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.0
}

pub async fn admin_post(api: &Api, token: &str, path: &str, body: Value) -> reqwest::Response {
    api.post_auth(path, token, body).await
}

pub async fn audit_rows(api: &Api, token: &str, query: &str) -> Value {
    json_of(
        api.get(&format!("/api/v1/audit-log{query}"), Some(token))
            .await,
        200,
    )
    .await
}

/// The super admin and two users, bob and carol, with the ids (and the tokens of the first two).
struct People {
    root: String,
    root_id: i64,
    bob: String,
    bob_id: i64,
    carol_id: i64,
}

async fn people(api: &Api) -> People {
    let root = root_token(api).await;
    let bob = user_token(api, "bob@example.com").await;
    let carol = user_token(api, "carol@example.com").await;
    People {
        root_id: user_id(api, &root).await,
        bob_id: user_id(api, &bob).await,
        carol_id: user_id(api, &carol).await,
        root,
        bob,
    }
}

#[tokio::test]
async fn suspension_locks_the_account_out_and_reactivation_restores_it() {
    let server = TestServer::start().await;
    let api = server.api();
    let root = root_token(&api).await;
    api.register("bob@example.com", "long-enough-pw", "Bob")
        .await;
    let (bob, bob_refresh) = api.login("bob@example.com", "long-enough-pw").await;
    let bob_id = user_id(&api, &bob).await;
    let key = create(&api, &bob, json!({"name": "bob's"})).await;
    let key = key["key"].as_str().unwrap().to_string();
    let mkey = create(
        &api,
        &bob,
        json!({"name": "automation", "scopes": ["manage:*"]}),
    )
    .await;
    let mkey = mkey["key"].as_str().unwrap().to_string();
    assert_eq!(code_of(&api, &key).await, "VALID");
    let browser = signed_in_browser(&server, "bob@example.com", "long-enough-pw").await;
    assert_eq!(browser.get("/dashboard").await.status(), 200);
    let poster = signed_in_browser(&server, "bob@example.com", "long-enough-pw").await;

    let path = format!("/api/v1/admin/users/{bob_id}");
    let res = admin_post(
        &api,
        &root,
        &format!("{path}/suspend"),
        json!({"reason": "Abuse report #12"}),
    )
    .await;
    let user = json_of(res, 200).await;
    assert!(user["suspended_at"].is_string(), "{user}");
    assert_eq!(user["suspended_reason"], "Abuse report #12");

    // Every credential of the account answers 403 ACCOUNT_SUSPENDED at once.
    let me = api.get("/api/v1/users/me", Some(&bob)).await;
    expect_error(me, 403, "ACCOUNT_SUSPENDED").await;
    let keys = api.get("/api/v1/keys", Some(&mkey)).await;
    expect_error(keys, 403, "ACCOUNT_SUSPENDED").await;
    let res = api
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": bob_refresh}),
        )
        .await;
    expect_error(res, 403, "ACCOUNT_SUSPENDED").await;
    let res = api
        .post(
            "/api/v1/auth/login",
            json!({"email": "bob@example.com", "password": "long-enough-pw"}),
        )
        .await;
    expect_error(res, 403, "ACCOUNT_SUSPENDED").await;
    // A wrong password still answers as for anyone (no account-state oracle).
    let res = api
        .post(
            "/api/v1/auth/login",
            json!({"email": "bob@example.com", "password": "wrong-password"}),
        )
        .await;
    expect_error(res, 401, "INVALID_CREDENTIALS").await;
    let verdict = verify_code(&api, json!({"key": key})).await;
    assert_eq!(verdict["valid"], false);
    assert_eq!(verdict["code"], "API_KEY_DISABLED");
    assert_eq!(verdict["reason"], "OWNER_SUSPENDED");
    // The browser lands on a page that says so, not on a 404.
    let res = browser.get("/dashboard").await;
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(location(&res), "/account-suspended");
    let html = page_html(&browser, "/account-suspended").await;
    assert!(html.contains("Your account is suspended"), "{html}");
    assert!(html.contains("contact an administrator"));
    assert_eq!(browser.get("/dashboard").await.status(), 302, "signed out");
    // A form post of another of its browsers lands there too.
    let res = poster.form("/sfn/create_key", &[("name", "after")]).await;
    assert_eq!(location(&res), "/account-suspended");
    assert!(res.status().is_redirection());

    let again = admin_post(&api, &root, &format!("{path}/suspend"), json!({})).await;
    expect_error(again, 409, "CONFLICT").await;
    let detail = json_of(api.get(&path, Some(&root)).await, 200).await;
    assert_eq!(detail["suspended_reason"], "Abuse report #12");
    assert_eq!(detail["keys_total"], 2);
    assert!(detail["last_sign_in_at"].is_string(), "{detail}");
    let list = json_of(
        api.get("/api/v1/admin/users?status=suspended", Some(&root))
            .await,
        200,
    )
    .await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["email"], "bob@example.com");
    let active = json_of(
        api.get("/api/v1/admin/users?status=active", Some(&root))
            .await,
        200,
    )
    .await;
    assert!(
        active["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["email"] != "bob@example.com")
    );

    let res = admin_post(&api, &root, &format!("{path}/reactivate"), json!({})).await;
    let user = json_of(res, 200).await;
    assert!(user["suspended_at"].is_null());
    assert!(user["suspended_reason"].is_null());
    assert_eq!(code_of(&api, &key).await, "VALID");
    assert_eq!(api.get("/api/v1/keys", Some(&mkey)).await.status(), 200);
    // Sessions from before stay ended; signing in again works.
    let old = api.get("/api/v1/users/me", Some(&bob)).await;
    assert_eq!(old.status(), 401);
    let (fresh, _) = api.login("bob@example.com", "long-enough-pw").await;
    assert_eq!(
        api.get("/api/v1/users/me", Some(&fresh)).await.status(),
        200
    );
    signed_in_browser(&server, "bob@example.com", "long-enough-pw").await;
    let again = admin_post(&api, &root, &format!("{path}/reactivate"), json!({})).await;
    expect_error(again, 409, "CONFLICT").await;

    // Nobody suspends themselves; an admin does not suspend a super admin.
    let root_id = user_id(&api, &root).await;
    let own = format!("/api/v1/admin/users/{root_id}/suspend");
    expect_error(
        admin_post(&api, &root, &own, json!({})).await,
        403,
        "FORBIDDEN",
    )
    .await;
    set_role(&server, "bob@example.com", "admin").await;
    expect_error(
        admin_post(&api, &fresh, &own, json!({})).await,
        403,
        "FORBIDDEN",
    )
    .await;
    let actions = audit_rows(&api, &root, &format!("?target=user:{bob_id}")).await;
    let kinds: Vec<&str> = actions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["user.reactivated", "user.suspended"]);
    server.stop().await;
}

#[tokio::test]
async fn role_changes_keep_a_super_admin() {
    let server = TestServer::start().await;
    let api = server.api();
    let People {
        root,
        root_id,
        bob,
        bob_id,
        carol_id,
        ..
    } = people(&api).await;
    let change = |token: String, id: i64, role: &'static str| {
        let api = &api;
        async move {
            let path = format!("/api/v1/admin/users/{id}");
            let body = Some(json!({ "role": role }));
            call(api, Method::PATCH, &path, Some(&token), body).await
        }
    };
    // Users cannot manage accounts until an admin makes them one.
    let res = api.get("/api/v1/admin/users", Some(&bob)).await;
    expect_error(res, 403, "FORBIDDEN").await;
    let user = json_of(change(root.clone(), bob_id, "admin").await, 200).await;
    assert_eq!(user["role"], "admin");
    assert_eq!(
        api.get("/api/v1/admin/users", Some(&bob)).await.status(),
        200
    );
    // An admin neither grants super_admin nor touches a super admin.
    let res = change(bob.clone(), carol_id, "super_admin").await;
    expect_error(res, 403, "FORBIDDEN").await;
    let res = change(bob.clone(), root_id, "user").await;
    expect_error(res, 403, "FORBIDDEN").await;
    json_of(change(bob.clone(), carol_id, "viewer").await, 200).await;
    // The last active super admin stays one.
    let res = change(root.clone(), root_id, "admin").await;
    let body = expect_error(res, 409, "LAST_SUPER_ADMIN").await;
    assert!(body["detail"].as_str().unwrap().contains("super admin"));
    json_of(change(root.clone(), carol_id, "super_admin").await, 200).await;
    // A suspended super admin does not count.
    let path = format!("/api/v1/admin/users/{carol_id}/suspend");
    json_of(admin_post(&api, &root, &path, json!({})).await, 200).await;
    let res = change(root.clone(), root_id, "admin").await;
    expect_error(res, 409, "LAST_SUPER_ADMIN").await;
    let path = format!("/api/v1/admin/users/{carol_id}/reactivate");
    json_of(admin_post(&api, &root, &path, json!({})).await, 200).await;
    let demoted = json_of(change(root.clone(), root_id, "admin").await, 200).await;
    assert_eq!(demoted["role"], "admin");
    // Now an admin, the former super admin cannot give it back to themselves.
    let res = change(root.clone(), root_id, "super_admin").await;
    expect_error(res, 403, "FORBIDDEN").await;
    let carol = api.login("carol@example.com", "long-enough-pw").await.0;
    let changes = audit_rows(&api, &carol, "?action=user.role_changed").await;
    assert_eq!(changes["total"], 4, "{changes}");
    let first = &changes["items"][3];
    assert_eq!(first["target_id"], bob_id);
    assert_eq!(first["actor_id"], root_id);
    assert_eq!(first["old_values"], r#"{"role":"user"}"#);
    assert_eq!(first["new_values"], r#"{"role":"admin"}"#);
    server.stop().await;
}

#[tokio::test]
async fn audit_log_filters_and_csv_export() {
    let server = TestServer::start().await;
    let api = server.api();
    let People {
        root,
        root_id,
        bob_id,
        carol_id,
        ..
    } = people(&api).await;
    // User agents are the client's text: one that a spreadsheet would run as a formula.
    for (id, agent) in [
        (bob_id, "=HYPERLINK(\"http://evil.example\",\"x\")"),
        (carol_id, "@SUM(1+1)"),
    ] {
        let res = api
            .http
            .post(server.url(&format!("/api/v1/admin/users/{id}/suspend")))
            .bearer_auth(&root)
            .header("user-agent", agent)
            .json(&json!({"reason": "-1+2"}))
            .send()
            .await
            .unwrap();
        json_of(res, 200).await;
    }
    let res = call(
        &api,
        Method::PATCH,
        &format!("/api/v1/admin/users/{carol_id}"),
        Some(&root),
        Some(json!({"role": "viewer"})),
    )
    .await;
    json_of(res, 200).await;

    let all = audit_rows(&api, &root, "?action=user.suspended").await;
    assert_eq!(all["total"], 2);
    assert_eq!(all["items"][0]["target_id"], carol_id, "newest first");
    let by_root = audit_rows(&api, &root, &format!("?actor_id={root_id}")).await;
    assert!(by_root["total"].as_i64().unwrap() >= 3);
    let by_bob = audit_rows(&api, &root, &format!("?actor_id={bob_id}")).await;
    assert_eq!(by_bob["total"], 0);
    let on_carol = audit_rows(&api, &root, &format!("?target=user:{carol_id}")).await;
    assert_eq!(on_carol["total"], 2);
    let on_users = audit_rows(&api, &root, "?target=user").await;
    assert_eq!(on_users["total"], 3);
    let none = audit_rows(
        &api,
        &root,
        "?action=user.suspended&from=2999-01-01T00:00:00Z",
    )
    .await;
    assert_eq!(none["total"], 0);
    let none = audit_rows(
        &api,
        &root,
        "?action=user.suspended&to=2000-01-01T00:00:00Z",
    )
    .await;
    assert_eq!(none["total"], 0);
    let window = "?action=user.suspended&from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00Z";
    assert_eq!(audit_rows(&api, &root, window).await["total"], 2);
    let paged = audit_rows(&api, &root, "?target=user&per_page=1&page=2").await;
    assert_eq!(paged["items"].as_array().unwrap().len(), 1);
    assert_eq!(paged["total"], 3);
    assert_eq!(paged["page"], 2);
    for query in [
        "?from=yesterday",
        "?to=2026-13-01T00:00:00Z",
        "?target=user:abc",
        "?actor_id=abc",
        "?page=x",
    ] {
        let res = api
            .get(&format!("/api/v1/audit-log{query}"), Some(&root))
            .await;
        let status = res.status().as_u16();
        assert!(status == 400 || status == 422, "{query}: {status}");
        let body: Value = res.json().await.unwrap();
        assert!(body["error_code"].is_string(), "{query}: {body}");
    }
    let long = format!("/api/v1/audit-log?action={}", "a".repeat(201));
    expect_error(api.get(&long, Some(&root)).await, 422, "VALIDATION_ERROR").await;

    let res = api
        .get(
            "/api/v1/audit-log/export.csv?action=user.suspended",
            Some(&root),
        )
        .await;
    assert_eq!(res.status(), 200);
    let kind = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/csv"), "{kind}");
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("id,created_at,actor_id,action,target_type,target_id"));
    assert!(lines[1].ends_with(",'@SUM(1+1)"), "{}", lines[1]);
    assert!(
        lines[2].ends_with(r#","'=HYPERLINK(""http://evil.example"",""x"")""#),
        "{}",
        lines[2]
    );
    assert!(!csv.contains(",=") && !csv.contains(",@") && !csv.contains(",+"));
    // The browser session of an admin opens the same export (the audit page links to it).
    let admin = signed_in_browser(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let res = admin
        .get(&format!(
            "/api/v1/audit-log/export.csv?target=user:{carol_id}"
        ))
        .await;
    assert_eq!(res.status(), 200);
    let csv = res.text().await.unwrap();
    assert_eq!(csv.split("\r\n").filter(|l| !l.is_empty()).count(), 3);
    server.stop().await;
}

#[tokio::test]
async fn security_events_are_listed_and_filtered() {
    let server = TestServer::start().await;
    let api = server.api();
    let root = root_token(&api).await;
    let bob = user_token(&api, "bob@example.com").await;
    let bob_id = user_id(&api, &bob).await;
    let res = api
        .post(
            "/api/v1/auth/login",
            json!({"email": "bob@example.com", "password": "not-his-password"}),
        )
        .await;
    expect_error(res, 401, "INVALID_CREDENTIALS").await;
    let path = format!("/api/v1/admin/users/{bob_id}/suspend");
    json_of(admin_post(&api, &root, &path, json!({})).await, 200).await;
    let events = |query: &str| {
        let url = format!("/api/v1/admin/security-events{query}");
        let api = &api;
        let root = root.clone();
        async move { json_of(api.get(&url, Some(&root)).await, 200).await }
    };
    let all = events("").await;
    assert!(all["total"].as_i64().unwrap() >= 2, "{all}");
    let suspended = events("?kind=auth.account_suspended").await;
    assert_eq!(suspended["total"], 1);
    assert_eq!(suspended["items"][0]["user_id"], bob_id);
    assert_eq!(suspended["items"][0]["subject"], "bob@example.com");
    let failed = events("?kind=auth.sign_in_failed").await;
    assert_eq!(failed["total"], 1);
    let bobs = events(&format!("?user={bob_id}&per_page=1")).await;
    assert_eq!(bobs["items"].as_array().unwrap().len(), 1);
    assert!(bobs["total"].as_i64().unwrap() >= 1);
    assert_eq!(events("?from=2999-01-01T00:00:00Z").await["total"], 0);
    assert_eq!(events("?to=2000-01-01T00:00:00Z").await["total"], 0);
    for query in ["?from=soon", "?user=bob", "?per_page=many"] {
        let url = format!("/api/v1/admin/security-events{query}");
        let res = api.get(&url, Some(&root)).await;
        let status = res.status().as_u16();
        assert!(status == 400 || status == 422, "{query}: {status}");
    }
    server.stop().await;
}

#[tokio::test]
async fn bad_input_changes_nothing() {
    let server = TestServer::start().await;
    let api = server.api();
    let root = root_token(&api).await;
    let bob = user_token(&api, "bob@example.com").await;
    let bob_id = user_id(&api, &bob).await;
    let user_path = format!("/api/v1/admin/users/{bob_id}");
    let raw = |method: Method, path: String, body: &'static str| {
        api.http
            .request(method, server.url(&path))
            .bearer_auth(&root)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let suspend = format!("{user_path}/suspend");
    for (method, path) in [
        (Method::PATCH, user_path.clone()),
        (Method::POST, suspend.clone()),
    ] {
        let res = raw(method.clone(), path.clone(), "{").await.unwrap();
        expect_error(res, 400, "INVALID_JSON").await;
        for body in [
            r#"{"role": 5}"#,
            r#"{"reason": 5}"#,
            r#"[]"#,
            r#"{"role": "admin", "extra": 1}"#,
            r#"{"reason": "x", "extra": 1}"#,
        ] {
            let res = raw(method.clone(), path.clone(), body).await.unwrap();
            let status = res.status().as_u16();
            let got: Value = res.json().await.unwrap();
            assert!(status == 400 || status == 422, "{path} {body}: {status}");
            assert!(got["error_code"].is_string() && got["request_id"].is_string());
        }
    }
    for role in ["god", "SUPER_ADMIN", "", "admin; DROP TABLE users"] {
        let res = call(
            &api,
            Method::PATCH,
            &user_path,
            Some(&root),
            Some(json!({ "role": role })),
        )
        .await;
        expect_error(res, 422, "VALIDATION_ERROR").await;
    }
    for reason in ["x".repeat(501), "bell\u{7}".to_string(), "nul\u{0}".into()] {
        let res = admin_post(&api, &root, &suspend, json!({ "reason": reason })).await;
        expect_error(res, 422, "VALIDATION_ERROR").await;
    }
    // Unknown and malformed ids.
    for id in ["999999", "abc", "-1", "99999999999999999999"] {
        let base = format!("/api/v1/admin/users/{id}");
        for (method, path, body) in [
            (Method::GET, base.clone(), None),
            (Method::PATCH, base.clone(), Some(json!({"role": "user"}))),
            (Method::POST, format!("{base}/suspend"), Some(json!({}))),
            (Method::POST, format!("{base}/reactivate"), Some(json!({}))),
            (Method::POST, format!("{base}/2fa/reset"), Some(json!({}))),
        ] {
            let res = call(&api, method.clone(), &path, Some(&root), body).await;
            expect_error(res, 404, "NOT_FOUND").await;
        }
    }
    let res = api.get("/api/v1/admin/users?role=god", Some(&root)).await;
    assert!([400, 422].contains(&res.status().as_u16()));
    let res = api
        .get("/api/v1/admin/users?status=deleted", Some(&root))
        .await;
    assert!([400, 422].contains(&res.status().as_u16()));
    // Hostile search text is literal text.
    let q = "/api/v1/admin/users?q=%25%27%20OR%201%3D1%20--";
    let found = json_of(api.get(q, Some(&root)).await, 200).await;
    assert_eq!(found["total"], 0);
    let q = "/api/v1/admin/users?q=_";
    assert_eq!(
        json_of(api.get(q, Some(&root)).await, 200).await["total"],
        0
    );
    // Nothing above changed bob or wrote an audit record.
    let detail = json_of(api.get(&user_path, Some(&root)).await, 200).await;
    assert_eq!(detail["role"], "user");
    assert!(detail["suspended_at"].is_null());
    assert_eq!(audit_rows(&api, &root, "?target=user").await["total"], 0);
    // A hostile reason is kept as text.
    let reason = "<script>alert(1)</script>";
    let res = admin_post(&api, &root, &suspend, json!({ "reason": reason })).await;
    assert_eq!(json_of(res, 200).await["suspended_reason"], reason);
    // An empty body is allowed (the reason is optional).
    let res = api
        .http
        .post(server.url(&format!("{user_path}/reactivate")))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    json_of(res, 200).await;
    let res = api
        .http
        .post(server.url(&suspend))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    json_of(res, 200).await;
    server.stop().await;
}
