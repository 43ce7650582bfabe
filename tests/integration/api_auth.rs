use crate::harness::*;
use serde_json::{Value, json};

#[tokio::test]
async fn register_login_me_refresh_logout() {
    let server = TestServer::start().await;
    let api = server.api();
    let user = api
        .register("Ada@Example.com", "correct horse battery", "Ada Lovelace")
        .await;
    assert_eq!(
        user["email"], "ada@example.com",
        "emails are stored normalised"
    );
    assert_eq!(user["name"], "Ada Lovelace");
    assert_eq!(user["role"], "user");
    assert!(user["id"].is_i64());
    assert!(user.get("password_hash").is_none());

    let res = api
        .post(
            "/api/v1/auth/login",
            json!({"email": "ada@example.com", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let pair: Value = res.json().await.unwrap();
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 900);
    let access = pair["access_token"].as_str().unwrap().to_string();
    let refresh = pair["refresh_token"].as_str().unwrap().to_string();

    let me: Value = api
        .get("/api/v1/users/me", Some(&access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], user["id"]);

    // Refresh rotates: the new pair works, the old refresh token does not.
    let res = api
        .post("/api/v1/auth/refresh", json!({"refresh_token": refresh}))
        .await;
    assert_eq!(res.status(), 200);
    let pair2: Value = res.json().await.unwrap();
    let access2 = pair2["access_token"].as_str().unwrap().to_string();
    let refresh2 = pair2["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(refresh2, refresh);
    assert_eq!(
        api.get("/api/v1/users/me", Some(&access2)).await.status(),
        200
    );
    expect_error(
        api.post("/api/v1/auth/refresh", json!({"refresh_token": refresh}))
            .await,
        401,
        "INVALID_TOKEN",
    )
    .await;

    // Reusing a spent refresh token is treated as theft: the whole session ends.
    expect_error(
        api.post("/api/v1/auth/refresh", json!({"refresh_token": refresh2}))
            .await,
        401,
        "INVALID_TOKEN",
    )
    .await;
    expect_error(
        api.get("/api/v1/users/me", Some(&access2)).await,
        401,
        "INVALID_TOKEN",
    )
    .await;

    // Logout revokes the access token's session and its refresh token.
    let (access3, refresh3) = api.login("ada@example.com", "correct horse battery").await;
    let res = api
        .post_auth("/api/v1/auth/logout", &access3, json!({}))
        .await;
    assert_eq!(res.status(), 204);
    expect_error(
        api.get("/api/v1/users/me", Some(&access3)).await,
        401,
        "INVALID_TOKEN",
    )
    .await;
    expect_error(
        api.post("/api/v1/auth/refresh", json!({"refresh_token": refresh3}))
            .await,
        401,
        "INVALID_TOKEN",
    )
    .await;
}

#[tokio::test]
async fn wrong_credentials_look_the_same_and_are_throttled() {
    let server = TestServer::start().await;
    let api = server.api();
    api.register("bob@example.com", "bob-password-1", "Bob")
        .await;
    let wrong = expect_error(
        api.post(
            "/api/v1/auth/login",
            json!({"email": "bob@example.com", "password": "nope-nope-nope"}),
        )
        .await,
        401,
        "INVALID_CREDENTIALS",
    )
    .await;
    let unknown = expect_error(
        api.post(
            "/api/v1/auth/login",
            json!({"email": "nobody@example.com", "password": "nope-nope-nope"}),
        )
        .await,
        401,
        "INVALID_CREDENTIALS",
    )
    .await;
    assert_eq!(wrong["detail"], unknown["detail"]);

    for _ in 0..4 {
        let res = api
            .post(
                "/api/v1/auth/login",
                json!({"email": "bob@example.com", "password": "still wrong!"}),
            )
            .await;
        assert_eq!(res.status(), 401);
    }
    // Five failures: the account is locked, even for the right password.
    let res = api
        .post(
            "/api/v1/auth/login",
            json!({"email": "bob@example.com", "password": "bob-password-1"}),
        )
        .await;
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 15 * 60, "{retry_after}");
    expect_error(res, 429, "TOO_MANY_ATTEMPTS").await;
    // Other accounts are unaffected.
    api.register("carol@example.com", "carol-password", "Carol")
        .await;
    api.login("carol@example.com", "carol-password").await;
}

#[tokio::test]
async fn per_ip_throttle_spans_accounts() {
    let server = TestServer::start().await;
    let api = server.api();
    for i in 0..20 {
        let res = api
            .post(
                "/api/v1/auth/login",
                json!({"email": format!("ghost{i}@example.com"), "password": "guessing-1234"}),
            )
            .await;
        assert_eq!(res.status(), 401);
    }
    let res = api
        .post(
            "/api/v1/auth/login",
            json!({"email": "ghost99@example.com", "password": "guessing-1234"}),
        )
        .await;
    expect_error(res, 429, "TOO_MANY_ATTEMPTS").await;
}

#[tokio::test]
async fn registration_rules() {
    let server = TestServer::start().await;
    let api = server.api();
    api.register("dup@example.com", "long-enough-pw", "First")
        .await;
    expect_error(
        api.post(
            "/api/v1/auth/register",
            json!({"email": "DUP@example.com", "password": "long-enough-pw", "name": "Second"}),
        )
        .await,
        409,
        "EMAIL_TAKEN",
    )
    .await;
    let body = expect_error(
        api.post(
            "/api/v1/auth/register",
            json!({"email": "weak@example.com", "password": "short", "name": "Weak"}),
        )
        .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "body.password");
    let body = expect_error(
        api.post(
            "/api/v1/auth/register",
            json!({"email": "not-an-email", "password": "long-enough-pw", "name": ""}),
        )
        .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"body.email") && fields.contains(&"body.name"),
        "{fields:?}"
    );
}

#[tokio::test]
async fn hostile_and_unusual_strings() {
    let server = TestServer::start().await;
    let api = server.api();
    // Non-ASCII and SQL-looking values are plain data.
    let user = api
        .register(
            "zoë@exämple.de",
            "pässwörd-ünïcode-🔑",
            "Zoë 李 O'Brien; DROP TABLE users;--",
        )
        .await;
    assert_eq!(user["name"], "Zoë 李 O'Brien; DROP TABLE users;--");
    api.login("zoë@exämple.de", "pässwörd-ünïcode-🔑").await;
    let res = api
        .post(
            "/api/v1/auth/login",
            json!({"email": "' OR '1'='1", "password": "' OR '1'='1' --"}),
        )
        .await;
    expect_error(res, 401, "INVALID_CREDENTIALS").await;
    // Very long strings are refused with field errors, not stored or crashed on.
    let long = "x".repeat(100_000);
    let body = expect_error(
        api.post(
            "/api/v1/auth/register",
            json!({"email": format!("{long}@example.com"), "password": long, "name": long}),
        )
        .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 3);
    let res = api
        .post(
            "/api/v1/auth/login",
            json!({"email": "a@b.co", "password": long}),
        )
        .await;
    expect_error(res, 401, "INVALID_CREDENTIALS").await;
    // Control characters in names are refused.
    expect_error(
        api.post(
            "/api/v1/auth/register",
            json!({"email": "ctl@example.com", "password": "long-enough-pw", "name": "a\u{0000}b"}),
        )
        .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    // The earlier account is still there and the table intact.
    api.login("zoë@exämple.de", "pässwörd-ünïcode-🔑").await;
}

#[tokio::test]
async fn profile_and_password_changes_over_rest() {
    let server = TestServer::start().await;
    let api = server.api();
    api.register("eve@example.com", "first-password", "Eve")
        .await;
    let (access, _) = api.login("eve@example.com", "first-password").await;
    let (other_access, other_refresh) = api.login("eve@example.com", "first-password").await;

    let res = api
        .http
        .patch(api.base.clone() + "/api/v1/users/me")
        .bearer_auth(&access)
        .json(&json!({"name": "Eve Moneypenny"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["name"], "Eve Moneypenny");

    let res = api
        .post_auth(
            "/api/v1/users/me/password",
            &access,
            json!({"current_password": "wrong-password", "new_password": "second-password"}),
        )
        .await;
    let body = expect_error(res, 422, "VALIDATION_ERROR").await;
    assert_eq!(body["errors"][0]["field"], "body.current_password");

    let res = api
        .post_auth(
            "/api/v1/users/me/password",
            &access,
            json!({"current_password": "first-password", "new_password": "second-password"}),
        )
        .await;
    assert_eq!(res.status(), 204);
    // This session lives on; the other one is signed out; only the new password works.
    assert_eq!(
        api.get("/api/v1/users/me", Some(&access)).await.status(),
        200
    );
    expect_error(
        api.get("/api/v1/users/me", Some(&other_access)).await,
        401,
        "INVALID_TOKEN",
    )
    .await;
    expect_error(
        api.post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": other_refresh}),
        )
        .await,
        401,
        "INVALID_TOKEN",
    )
    .await;
    expect_error(
        api.post(
            "/api/v1/auth/login",
            json!({"email": "eve@example.com", "password": "first-password"}),
        )
        .await,
        401,
        "INVALID_CREDENTIALS",
    )
    .await;
    api.login("eve@example.com", "second-password").await;
}

#[tokio::test]
async fn tokens_are_checked() {
    let server = TestServer::start().await;
    let api = server.api();
    expect_error(api.get("/api/v1/users/me", None).await, 401, "UNAUTHORIZED").await;
    expect_error(
        api.get("/api/v1/users/me", Some("not-a-token")).await,
        401,
        "INVALID_TOKEN",
    )
    .await;
    let forged = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJrZXlwb3J0Iiwic3ViIjoxLCJzaWQiOjEsImlhdCI6MCwiZXhwIjo5OTk5OTk5OTk5fQ.AAAA";
    expect_error(
        api.get("/api/v1/users/me", Some(forged)).await,
        401,
        "INVALID_TOKEN",
    )
    .await;
    let res = api
        .http
        .get(api.base.clone() + "/api/v1/users/me")
        .header("authorization", "Basic Zm9vOmJhcg==")
        .send()
        .await
        .unwrap();
    expect_error(res, 401, "UNAUTHORIZED").await;
    expect_error(
        api.post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": "kprt_made_up"}),
        )
        .await,
        401,
        "INVALID_TOKEN",
    )
    .await;
    expect_error(
        api.post("/api/v1/auth/refresh", json!({"refresh_token": 12}))
            .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
}

#[tokio::test]
async fn first_start_admin_comes_from_the_environment() {
    let server = TestServer::start().await;
    let api = server.api();
    let (access, _) = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let me: Value = api
        .get("/api/v1/users/me", Some(&access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "super_admin");
}

#[tokio::test]
async fn without_an_admin_registration_waits_for_setup() {
    let server = TestServer::start_with(&[]).await;
    let api = server.api();
    expect_error(
        api.post(
            "/api/v1/auth/register",
            json!({"email": "early@example.com", "password": "long-enough-pw", "name": "Early"}),
        )
        .await,
        409,
        "SETUP_REQUIRED",
    )
    .await;
}
