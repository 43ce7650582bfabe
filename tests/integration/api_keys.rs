use crate::harness::*;
use keyport::domain::keys::verify::{self, VerifyRequest};
use serde_json::{Value, json};

async fn delete(api: &Api, token: &str, path: &str) -> reqwest::Response {
    api.http
        .delete(format!("{}{path}", api.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn key_lifecycle_and_verification() {
    let server = TestServer::start().await;
    let api = server.api();
    let token = user_token(&api, "keys@example.com").await;
    let created = create(
        &api,
        &token,
        json!({"name": "Customer portal", "scopes": ["read", "tickets:*"], "tags": ["mobile", "beta"],
               "metadata": {"team": "web"}, "ip_allowlist": ["203.0.113.0/24", "2001:db8::/32"],
               "allowed_origins": ["https://app.example.com"], "expires_at": "2099-01-01T00:00:00Z"}),
    )
    .await;
    let key = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_i64().unwrap();
    assert!(key.starts_with("kp_") && key.len() == 41, "{key}");
    assert_eq!(created["last4"], &key[key.len() - 4..]);
    assert_eq!(created["status"], "active");
    assert_eq!(created["tags"], json!(["beta", "mobile"]));
    assert_eq!(created["expires_at"], "2099-01-01T00:00:00Z");

    // Reads never show the key again.
    let got: Value = api
        .get(&format!("/api/v1/keys/{id}"), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert!(got.get("key").is_none());
    assert_eq!(got["name"], "Customer portal");

    let ok = verify_code(
        &api,
        json!({"key": key, "scopes": ["tickets:write"], "ip": "203.0.113.9"}),
    )
    .await;
    assert_eq!(ok["valid"], true);
    assert_eq!(ok["code"], "VALID");
    assert_eq!(ok["key_id"], id);
    assert_eq!(ok["rotated"], false);
    assert_eq!(
        verify_code(
            &api,
            json!({"key": key, "scopes": ["admin"], "ip": "203.0.113.9"})
        )
        .await["code"],
        "PERMISSION_DENIED"
    );
    assert_eq!(
        verify_code(&api, json!({"key": key, "ip": "198.51.100.1"})).await["code"],
        "IP_NOT_ALLOWED"
    );
    assert_eq!(
        verify_code(&api, json!({"key": key, "ip": "2001:db8::7"})).await["code"],
        "VALID"
    );
    // Without an ip in the body, the caller's address (127.0.0.1) is checked.
    assert_eq!(code_of(&api, &key).await, "IP_NOT_ALLOWED");

    // Edits apply to the very next verification.
    let res = patch(
        &api,
        &token,
        &format!("/api/v1/keys/{id}"),
        json!({"ip_allowlist": [], "expires_at": null, "name": "Portal"}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let edited: Value = res.json().await.unwrap();
    assert_eq!(edited["expires_at"], Value::Null);
    assert_eq!(code_of(&api, &key).await, "VALID");
    patch(
        &api,
        &token,
        &format!("/api/v1/keys/{id}"),
        json!({"enabled": false}),
    )
    .await;
    assert_eq!(code_of(&api, &key).await, "API_KEY_DISABLED");
    patch(
        &api,
        &token,
        &format!("/api/v1/keys/{id}"),
        json!({"enabled": true}),
    )
    .await;
    assert_eq!(code_of(&api, &key).await, "VALID");

    // Expiry is checked against the time of verification (time passed in).
    patch(
        &api,
        &token,
        &format!("/api/v1/keys/{id}"),
        json!({"expires_at": "2090-06-01T00:00:00Z"}),
    )
    .await;
    let req = VerifyRequest {
        key: key.clone(),
        scopes: vec![],
        endpoint: None,
        ip: None,
        cost: None,
    };
    let at = |iso: &str| {
        keyport::domain::to_millis(
            time::OffsetDateTime::parse(iso, &time::format_description::well_known::Rfc3339)
                .unwrap(),
        )
    };
    let s = &server.state;
    let before = verify::verify_key(&s.key_ctx(), &req, None, at("2090-05-31T23:59:59.999Z"))
        .await
        .unwrap()
        .response;
    let exactly = verify::verify_key(&s.key_ctx(), &req, None, at("2090-06-01T00:00:00Z"))
        .await
        .unwrap()
        .response;
    assert_eq!(
        (before.code, exactly.code),
        (verify::VerifyCode::Valid, verify::VerifyCode::ApiKeyExpired)
    );

    // last_used_at: recorded in memory at once, stored by the background writer.
    let got: Value = api
        .get(&format!("/api/v1/keys/{id}"), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert!(got["last_used_at"].is_string());
    keyport::domain::keys::flush_last_used(&s.db, &s.key_cache)
        .await
        .unwrap();
    let row = keyport::db::keys::find(&s.db, id).await.unwrap().unwrap();
    assert!(row.last_used_at.is_some());

    let res = api
        .post_auth(&format!("/api/v1/keys/{id}/revoke"), &token, json!({}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "revoked");
    assert_eq!(code_of(&api, &key).await, "API_KEY_REVOKED");
    let res = patch(
        &api,
        &token,
        &format!("/api/v1/keys/{id}"),
        json!({"name": "again"}),
    )
    .await;
    expect_error(res, 409, "CONFLICT").await;

    assert_eq!(
        delete(&api, &token, &format!("/api/v1/keys/{id}"))
            .await
            .status(),
        204
    );
    assert_eq!(code_of(&api, &key).await, "API_KEY_INVALID");
    expect_error(
        api.get(&format!("/api/v1/keys/{id}"), Some(&token)).await,
        404,
        "NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn malformed_and_unknown_keys_are_invalid() {
    let server = TestServer::start().await;
    let api = server.api();
    let token = user_token(&api, "inv@example.com").await;
    let key = create(&api, &token, json!({"name": "k"})).await["key"]
        .as_str()
        .unwrap()
        .to_string();
    let mut typo: Vec<char> = key.chars().collect();
    typo[10] = if typo[10] == 'A' { 'B' } else { 'A' };
    let typo: String = typo.into_iter().collect();
    for bad in [
        "",
        "kp_",
        "nonsense",
        typo.as_str(),
        "kp_000000000000000000000000000000000000",
        &"x".repeat(5000),
    ] {
        let v = verify_code(&api, json!({"key": bad})).await;
        assert_eq!(v["code"], "API_KEY_INVALID", "{bad}");
        assert_eq!(v["valid"], false);
        assert_eq!(v["key_id"], Value::Null);
    }
    // A well-formed key that was never issued (right checksum) is unknown, and stays so.
    let stranger = keyport::domain::keys::material::generate("kp");
    assert_eq!(code_of(&api, &stranger).await, "API_KEY_INVALID");
    assert_eq!(code_of(&api, &stranger).await, "API_KEY_INVALID");
    let (_, unknown) = server.state.key_cache.len();
    assert!(unknown >= 1, "unknown keys are remembered");

    expect_error(
        api.post(
            "/api/v1/keys/verify",
            json!({"key": key, "ip": "not-an-ip"}),
        )
        .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    expect_error(
        api.post("/api/v1/keys/verify", json!({"key": 5})).await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    expect_error(
        api.post("/api/v1/keys/verify", json!({})).await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    expect_error(
        api.post("/api/v1/keys/verify", json!({"key": key, "cost": -1}))
            .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
}

#[tokio::test]
async fn rotation_keeps_the_old_key_for_its_grace_period() {
    let server = TestServer::start().await;
    let api = server.api();
    let token = user_token(&api, "rot@example.com").await;
    let old = create(
        &api,
        &token,
        json!({"name": "rotating", "scopes": ["read"]}),
    )
    .await;
    let old_key = old["key"].as_str().unwrap().to_string();
    let id = old["id"].as_i64().unwrap();
    let res = api
        .post_auth(
            &format!("/api/v1/keys/{id}/rotate"),
            &token,
            json!({"grace_period_seconds": 3600}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let new: Value = res.json().await.unwrap();
    let new_key = new["key"].as_str().unwrap().to_string();
    assert_ne!(new_key, old_key);
    assert_eq!(new["scopes"], json!(["read"]));
    assert_eq!(new["name"], "rotating");

    let v = verify_code(&api, json!({"key": old_key})).await;
    assert_eq!(
        (v["code"].as_str(), v["rotated"].as_bool()),
        (Some("VALID"), Some(true))
    );
    let v = verify_code(&api, json!({"key": new_key})).await;
    assert_eq!(
        (v["code"].as_str(), v["rotated"].as_bool()),
        (Some("VALID"), Some(false))
    );
    let old_view: Value = api
        .get(&format!("/api/v1/keys/{id}"), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(old_view["rotated_to_id"], new["id"]);
    assert!(
        old_view["revoked_at"].is_string(),
        "the grace deadline is shown"
    );

    // Once the grace period is over, the old key is revoked.
    let s = &server.state;
    let later = keyport::domain::to_millis(time::OffsetDateTime::now_utc()) + 3601 * 1000;
    let req = VerifyRequest {
        key: old_key.clone(),
        scopes: vec![],
        endpoint: None,
        ip: None,
        cost: None,
    };
    let v = verify::verify_key(&s.key_ctx(), &req, None, later)
        .await
        .unwrap()
        .response;
    assert_eq!(v.code, verify::VerifyCode::ApiKeyRevoked);

    // A rotated key cannot be rotated twice; zero grace revokes at once.
    expect_error(
        api.post_auth(&format!("/api/v1/keys/{id}/rotate"), &token, json!({}))
            .await,
        409,
        "CONFLICT",
    )
    .await;
    let new_id = new["id"].as_i64().unwrap();
    let res = api
        .post_auth(
            &format!("/api/v1/keys/{new_id}/rotate"),
            &token,
            json!({"grace_period_seconds": 0}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(code_of(&api, &new_key).await, "API_KEY_REVOKED");

    let next_id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    expect_error(
        api.post_auth(
            &format!("/api/v1/keys/{new_id}/rotate"),
            &token,
            json!({"grace_period_seconds": 60}),
        )
        .await,
        409,
        "CONFLICT",
    )
    .await;
    expect_error(
        api.post_auth(
            &format!("/api/v1/keys/{next_id}/rotate"),
            &token,
            json!({"grace_period_seconds": -5}),
        )
        .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
}

#[tokio::test]
async fn access_matrix_for_every_key_endpoint() {
    let server = TestServer::start().await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    let bob = user_token(&api, "bob@example.com").await;
    let (admin, _) = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let a = create(&api, &alice, json!({"name": "alice's", "tags": ["prod"]})).await;
    let a_id = a["id"].as_i64().unwrap();
    let a_key = a["key"].as_str().unwrap().to_string();
    let path = format!("/api/v1/keys/{a_id}");

    // Bob acting on Alice's key: not found, whatever he tries.
    expect_error(api.get(&path, Some(&bob)).await, 404, "NOT_FOUND").await;
    expect_error(
        patch(&api, &bob, &path, json!({"name": "mine now"})).await,
        404,
        "NOT_FOUND",
    )
    .await;
    expect_error(
        api.post_auth(&format!("{path}/revoke"), &bob, json!({}))
            .await,
        404,
        "NOT_FOUND",
    )
    .await;
    expect_error(
        api.post_auth(&format!("{path}/rotate"), &bob, json!({}))
            .await,
        404,
        "NOT_FOUND",
    )
    .await;
    expect_error(delete(&api, &bob, &path).await, 404, "NOT_FOUND").await;
    let listed: Value = api
        .get("/api/v1/keys", Some(&bob))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 0);
    let alice_id = a["owner_user_id"].as_i64().unwrap();
    // Narrowing to another owner stays within what Bob may see: none of Alice's keys.
    let narrowed: Value = api
        .get(
            &format!("/api/v1/keys?owner_user_id={alice_id}"),
            Some(&bob),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(narrowed["total"], 0);
    let res = api
        .post_auth(
            "/api/v1/keys",
            &bob,
            json!({"name": "for alice", "owner_user_id": alice_id}),
        )
        .await;
    expect_error(res, 422, "VALIDATION_ERROR").await;
    // Nothing changed.
    let still: Value = api.get(&path, Some(&alice)).await.json().await.unwrap();
    assert_eq!(still["name"], "alice's");
    assert_eq!(code_of(&api, &a_key).await, "VALID");

    // Admins see and manage everyone's keys, and may issue keys for others.
    assert_eq!(api.get(&path, Some(&admin)).await.status(), 200);
    let all: Value = api
        .get("/api/v1/keys", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["total"], 1);
    let issued = create(
        &api,
        &admin,
        json!({"name": "issued for alice", "owner_user_id": alice_id}),
    )
    .await;
    assert_eq!(issued["owner_user_id"], alice_id);
    let admin_me: Value = api
        .get("/api/v1/users/me", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(issued["created_by"], admin_me["id"]);
    let mine: Value = api
        .get("/api/v1/keys", Some(&alice))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["total"], 2);

    // Anonymous callers get nothing.
    expect_error(api.get("/api/v1/keys", None).await, 401, "UNAUTHORIZED").await;
    expect_error(api.get(&path, None).await, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn viewers_read_only() {
    let server = TestServer::start().await;
    let api = server.api();
    api.register("viewer@example.com", "long-enough-pw", "Viewer")
        .await;
    set_role(&server, "viewer@example.com", "viewer").await;
    let (token, _) = api.login("viewer@example.com", "long-enough-pw").await;
    expect_error(
        api.post_auth("/api/v1/keys", &token, json!({"name": "nope"}))
            .await,
        403,
        "FORBIDDEN",
    )
    .await;
    assert_eq!(api.get("/api/v1/keys", Some(&token)).await.status(), 200);
}

#[tokio::test]
async fn list_filters_sorting_and_paging() {
    let server = TestServer::start().await;
    let api = server.api();
    let token = user_token(&api, "lists@example.com").await;
    for (name, tags, scopes) in [
        ("alpha", json!(["prod"]), json!(["read"])),
        ("beta", json!(["dev"]), json!(["write"])),
        (
            "gamma 100%_done",
            json!(["prod", "dev"]),
            json!(["read", "write"]),
        ),
    ] {
        create(
            &api,
            &token,
            json!({"name": name, "tags": tags, "scopes": scopes}),
        )
        .await;
    }
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["name"].as_str().unwrap().to_string())
            .collect()
    };
    let get = |q: &'static str| {
        let api = &api;
        let token = token.clone();
        async move {
            let res = api.get(&format!("/api/v1/keys{q}"), Some(&token)).await;
            assert_eq!(res.status(), 200, "{q}");
            res.json::<Value>().await.unwrap()
        }
    };
    assert_eq!(
        names(&get("?sort=name").await),
        ["alpha", "beta", "gamma 100%_done"]
    );
    assert_eq!(
        names(&get("").await),
        ["gamma 100%_done", "beta", "alpha"],
        "newest first"
    );
    assert_eq!(
        names(&get("?tag=prod&sort=name").await),
        ["alpha", "gamma 100%_done"]
    );
    assert_eq!(
        names(&get("?scope=write&sort=name").await),
        ["beta", "gamma 100%_done"]
    );
    assert_eq!(
        names(&get("?q=100%25_&sort=name").await),
        ["gamma 100%_done"],
        "LIKE wildcards are literal"
    );
    assert_eq!(names(&get("?q=ALP").await), ["alpha"]);
    let page = get("?per_page=2&page=2&sort=name").await;
    assert_eq!(
        (
            page["total"].as_i64(),
            page["page"].as_i64(),
            page["per_page"].as_i64()
        ),
        (Some(3), Some(2), Some(2))
    );
    assert_eq!(names(&page), ["gamma 100%_done"]);
    assert_eq!(get("?status=revoked").await["total"], 0);
    assert_eq!(get("?status=active").await["total"], 3);
    assert_eq!(
        get("?last_used_before=2030-01-01T00:00:00Z").await["total"],
        3,
        "never used counts"
    );
    for bad in [
        "?per_page=500",
        "?page=0",
        "?status=bogus",
        "?sort=weird",
        "?page=abc",
        "?expires_before=yesterday",
    ] {
        expect_error(
            api.get(&format!("/api/v1/keys{bad}"), Some(&token)).await,
            422,
            "VALIDATION_ERROR",
        )
        .await;
    }
}

#[tokio::test]
async fn bad_input_changes_nothing() {
    let server = TestServer::start().await;
    let api = server.api();
    let token = user_token(&api, "bad@example.com").await;
    for body in [
        json!({}),
        json!({"name": ""}),
        json!({"name": 5}),
        json!({"name": "x".repeat(101)}),
        json!({"name": "ok", "scopes": ["has space"]}),
        json!({"name": "ok", "scopes": "read"}),
        json!({"name": "ok", "tags": ["UPPER"]}),
        json!({"name": "ok", "tags": ["\"quoted\""]}),
        json!({"name": "ok", "metadata": [1, 2]}),
        json!({"name": "ok", "metadata": {"big": "x".repeat(20_000)}}),
        json!({"name": "ok", "ip_allowlist": ["10.0.0.0/33"]}),
        json!({"name": "ok", "allowed_origins": ["javascript:alert(1)"]}),
        json!({"name": "ok", "expires_at": "2001-01-01T00:00:00Z"}),
        json!({"name": "ok", "expires_at": "tomorrow"}),
        json!({"name": "ok", "prefix": "UP"}),
        json!({"name": "ok", "rate_limits": [{"name": "default", "limit": 0, "window": "minute"}]}),
        json!({"name": "ok", "rate_limits": [{"name": "default", "limit": 1, "window": "fortnight"}]}),
        json!({"name": "ok", "rate_limits": [{"name": "a", "limit": 1, "window": "second"}, {"name": "a", "limit": 2, "window": "day"}]}),
        json!({"name": "ok", "rate_limits": {"name": "default"}}),
        json!({"name": "ok", "quota": {"period": "custom", "limit": 10}}),
        json!({"name": "ok", "quota": {"period": "year", "limit": 10}}),
        json!({"name": "ok", "quota": {"period": "day", "limit": -1}}),
        json!({"name": "ok", "remaining": -1}),
        json!({"name": "ok", "remaining": "lots"}),
        json!({"name": "ok", "remaining": 10, "refill": {"interval": "custom", "amount": 5}}),
        json!({"name": "ok", "refill": {"interval": "day", "amount": 0}}),
        json!({"name": "ok", "org_id": 3}),
        json!({"name": "ok", "owner_user_id": 999999}),
    ] {
        let res = api.post_auth("/api/v1/keys", &token, body.clone()).await;
        expect_error(res, 422, "VALIDATION_ERROR").await;
    }
    let res = api
        .http
        .post(format!("{}/api/v1/keys", api.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"name\":")
        .send()
        .await
        .unwrap();
    expect_error(res, 400, "INVALID_JSON").await;
    let big = json!({"name": "big", "description": "x".repeat(2 * 1024 * 1024)});
    expect_error(
        api.post_auth("/api/v1/keys", &token, big).await,
        413,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    expect_error(
        api.get("/api/v1/keys/abc", Some(&token)).await,
        404,
        "NOT_FOUND",
    )
    .await;
    expect_error(
        api.get("/api/v1/keys/99999999999999999999", Some(&token))
            .await,
        404,
        "NOT_FOUND",
    )
    .await;
    let listed: Value = api
        .get("/api/v1/keys", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 0, "no partial writes");

    // Hostile but valid strings are kept as data.
    let k = create(
        &api,
        &token,
        json!({"name": "'; DROP TABLE api_keys; -- <script>", "description": "Zoë 李\nline two"}),
    )
    .await;
    assert_eq!(k["name"], "'; DROP TABLE api_keys; -- <script>");
    let patch_bad = patch(
        &api,
        &token,
        &format!("/api/v1/keys/{}", k["id"]),
        json!({"enabled": "yes"}),
    )
    .await;
    expect_error(patch_bad, 422, "VALIDATION_ERROR").await;
}

#[tokio::test]
async fn management_keys_act_for_their_owner() {
    let server = TestServer::start().await;
    let api = server.api();
    let token = user_token(&api, "ops@example.com").await;
    let manager = create(
        &api,
        &token,
        json!({"name": "ci", "scopes": ["manage:keys"]}),
    )
    .await["key"]
        .as_str()
        .unwrap()
        .to_string();
    let plain = create(&api, &token, json!({"name": "plain", "scopes": ["read"]})).await["key"]
        .as_str()
        .unwrap()
        .to_string();

    let made = create(&api, &manager, json!({"name": "made by ci"})).await;
    assert_eq!(made["owner_user_id"], made["created_by"]);
    let listed: Value = api
        .get("/api/v1/keys", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 3);
    // manage:keys is for keys only.
    let res = patch(
        &api,
        &manager,
        "/api/v1/users/me",
        json!({"name": "hijacked"}),
    )
    .await;
    expect_error(res, 403, "FORBIDDEN").await;
    expect_error(
        api.get("/api/v1/keys", Some(&plain)).await,
        403,
        "FORBIDDEN",
    )
    .await;
    expect_error(
        api.get(
            "/api/v1/keys",
            Some(&keyport::domain::keys::material::generate("kp")),
        )
        .await,
        401,
        "INVALID_TOKEN",
    )
    .await;
}

/// The plaintext is shown once and is nowhere afterwards: not in the database, the logs or
/// any later answer.
#[tokio::test]
async fn plaintext_is_never_stored_or_shown_again() {
    let server = TestServer::start().await;
    let api = server.api();
    let token = user_token(&api, "secret@example.com").await;
    let created = create(&api, &token, json!({"name": "secret"})).await;
    let key = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_i64().unwrap();
    let rotated: Value = api
        .post_auth(&format!("/api/v1/keys/{id}/rotate"), &token, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let key2 = rotated["key"].as_str().unwrap().to_string();
    code_of(&api, &key).await;

    for path in [
        format!("/api/v1/keys/{id}"),
        "/api/v1/keys".to_string(),
        format!("/api/v1/keys/{}", rotated["id"]),
    ] {
        let text = api.get(&path, Some(&token)).await.text().await.unwrap();
        assert!(!text.contains(&key) && !text.contains(&key2), "{path}");
    }
    let random_part = &key[3..35];
    let stored = database_text(&server).await;
    assert!(
        !stored.contains(random_part) && !stored.contains(&key2[3..35]),
        "no plaintext in the database"
    );
    assert!(
        stored.contains("key.created") && stored.contains("key.rotated"),
        "audit rows were searched too"
    );
    let logs = captured_logs();
    assert!(logs.contains("key created"), "the log capture works");
    assert!(
        !logs.contains(random_part) && !logs.contains(&key2[3..35]),
        "no plaintext in the logs"
    );
}

/// Everything the database holds about keys, as text.
async fn database_text(server: &TestServer) -> String {
    match &server.state.db {
        keyport::db::Db::Sqlite(pool) => {
            // The database file itself (WAL folded in first), byte for byte.
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(pool)
                .await
                .unwrap();
            let mut all = String::new();
            for name in ["keyport.db", "keyport.db-wal"] {
                if let Ok(bytes) = std::fs::read(server.data_dir().join(name)) {
                    all.push_str(&String::from_utf8_lossy(&bytes));
                }
            }
            all
        }
        keyport::db::Db::Postgres(pool) => {
            let mut all = String::new();
            for table in ["api_keys", "audit_log"] {
                let rows: Vec<(String,)> =
                    sqlx::query_as(&format!("SELECT t::text FROM {table} t"))
                        .fetch_all(pool)
                        .await
                        .unwrap();
                for r in rows {
                    all.push_str(&r.0);
                }
            }
            all
        }
    }
}
