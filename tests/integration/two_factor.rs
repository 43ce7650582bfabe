//! Two-factor sign-in over REST and the portal form: enroll, turn on with a code computed here
//! from the secret the server handed out, sign in with codes (each step once) and recovery
//! codes (each once), turn off with password and code; bad input changes nothing.

use crate::harness::*;
use keyport::domain::totp::{STEP_SECONDS, TotpSecret};
use serde_json::{Value, json};

const PASSWORD: &str = "long-enough-pw";

fn now_secs() -> u64 {
    time::OffsetDateTime::now_utc().unix_timestamp() as u64
}

/// A six-digit code that is not `code`.
fn other_than(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

async fn sign_in(api: &Api, email: &str, code: Option<&str>) -> reqwest::Response {
    let mut body = json!({"email": email, "password": PASSWORD});
    if let Some(c) = code {
        body["totp_code"] = json!(c);
    }
    api.post("/api/v1/auth/login", body).await
}

async fn enroll(api: &Api, token: &str) -> TotpSecret {
    let res = api
        .post_auth("/api/v1/auth/2fa/setup", token, json!({}))
        .await;
    assert_eq!(res.status(), 200);
    let setup: Value = res.json().await.unwrap();
    let secret = setup["secret"].as_str().unwrap();
    let uri = setup["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Keyport:"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}&")), "{uri}");
    TotpSecret::from_base32(secret).expect("a base32 secret of at least 128 bits")
}

#[tokio::test]
async fn enroll_sign_in_with_codes_and_recovery_codes_then_turn_off() {
    let server = TestServer::start().await;
    let api = server.api();
    let ann = user_token(&api, "ann@example.com").await;

    let res = api
        .post_auth("/api/v1/auth/2fa/enable", &ann, json!({"code": "123456"}))
        .await;
    expect_error(res, 409, "CONFLICT").await;
    let secret = enroll(&api, &ann).await;
    // Not on until a code confirms the enrollment.
    assert_eq!(sign_in(&api, "ann@example.com", None).await.status(), 200);

    // Bad input: wrong code, wrong types, malformed JSON; none of them turns it on.
    let now = now_secs();
    let current = secret.code_at(now);
    let res = api
        .post_auth(
            "/api/v1/auth/2fa/enable",
            &ann,
            json!({"code": other_than(&current)}),
        )
        .await;
    expect_error(res, 401, "TOTP_INVALID").await;
    let res = api
        .post_auth("/api/v1/auth/2fa/enable", &ann, json!({"code": 123456}))
        .await;
    expect_error(res, 422, "VALIDATION_ERROR").await;
    let res = api
        .http
        .post(format!("{}/api/v1/auth/2fa/enable", api.base))
        .bearer_auth(&ann)
        .header("content-type", "application/json")
        .body("{\"code\": ")
        .send()
        .await
        .unwrap();
    expect_error(res, 400, "INVALID_JSON").await;
    let res = api
        .post("/api/v1/auth/2fa/enable", json!({"code": current}))
        .await;
    expect_error(res, 401, "UNAUTHORIZED").await;
    assert_eq!(sign_in(&api, "ann@example.com", None).await.status(), 200);

    let res = api
        .post_auth("/api/v1/auth/2fa/enable", &ann, json!({"code": current}))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let recovery: Vec<String> = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(recovery.len(), 10);
    let res = api
        .post_auth("/api/v1/auth/2fa/setup", &ann, json!({}))
        .await;
    expect_error(res, 409, "CONFLICT").await;
    // The secret is stored sealed, never as typed.
    let me: Value = api
        .get("/api/v1/users/me", Some(&ann))
        .await
        .json()
        .await
        .unwrap();
    let ann_id = me["id"].as_i64().unwrap();
    let row = keyport::db::two_factor::get(&server.state.db, ann_id)
        .await
        .unwrap()
        .unwrap();
    assert!(!row.secret_sealed.contains(&secret.to_base32()));

    // Sign-in now needs the second factor.
    expect_error(
        sign_in(&api, "ann@example.com", None).await,
        401,
        "TOTP_REQUIRED",
    )
    .await;
    let wrong = other_than(&secret.code_at(now_secs()));
    expect_error(
        sign_in(&api, "ann@example.com", Some(&wrong)).await,
        401,
        "TOTP_INVALID",
    )
    .await;
    // The code that turned it on was used: its step cannot sign in (replay).
    expect_error(
        sign_in(&api, "ann@example.com", Some(&current)).await,
        401,
        "TOTP_INVALID",
    )
    .await;
    // The next step's code is inside the allowed skew, once.
    let next = secret.code_at(now + STEP_SECONDS);
    assert_eq!(
        sign_in(&api, "ann@example.com", Some(&next)).await.status(),
        200
    );
    expect_error(
        sign_in(&api, "ann@example.com", Some(&next)).await,
        401,
        "TOTP_INVALID",
    )
    .await;
    // Recovery codes: each once, typed loosely.
    assert_eq!(
        sign_in(&api, "ann@example.com", Some(&recovery[0]))
            .await
            .status(),
        200
    );
    expect_error(
        sign_in(&api, "ann@example.com", Some(&recovery[0])).await,
        401,
        "TOTP_INVALID",
    )
    .await;
    let loose = format!(" {} ", recovery[1].to_uppercase().replace('-', " "));
    assert_eq!(
        sign_in(&api, "ann@example.com", Some(&loose))
            .await
            .status(),
        200
    );

    // The portal form asks for the code too.
    let browser = server.browser();
    let res = browser
        .form(
            "/sfn/login",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 302);
    let back = res.headers()["location"].to_str().unwrap().to_string();
    assert!(back.contains("/login") && back.contains("__err="), "{back}");
    let page = browser
        .get(&back.replace(&server.base, ""))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Enter the code from your authenticator app"),
        "the form says why"
    );
    assert!(
        page.contains("autocomplete=\"one-time-code\""),
        "and has the field"
    );
    assert_eq!(
        browser.get("/dashboard").await.status(),
        302,
        "still signed out"
    );
    let res = browser
        .form(
            "/sfn/login",
            &[
                ("email", "ann@example.com"),
                ("password", PASSWORD),
                ("code", &recovery[2]),
            ],
        )
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(browser.get("/dashboard").await.status(), 200, "signed in");

    // Another user's codes are not hers, and his switch is his own.
    let ben = user_token(&api, "ben@example.com").await;
    let res = api
        .post_auth(
            "/api/v1/auth/2fa/disable",
            &ben,
            json!({"password": PASSWORD, "code": recovery[3]}),
        )
        .await;
    expect_error(res, 409, "CONFLICT").await;
    assert!(
        keyport::domain::two_factor::is_enabled(&server.state.db, ann_id)
            .await
            .unwrap()
    );

    // Turning it off needs the password and a code.
    let res = api
        .post_auth(
            "/api/v1/auth/2fa/disable",
            &ann,
            json!({"password": "not-her-password", "code": recovery[3]}),
        )
        .await;
    let body = expect_error(res, 422, "VALIDATION_ERROR").await;
    assert_eq!(body["errors"][0]["field"], "body.password");
    let res = api
        .post_auth(
            "/api/v1/auth/2fa/disable",
            &ann,
            json!({"password": PASSWORD, "code": "000000x"}),
        )
        .await;
    expect_error(res, 401, "TOTP_INVALID").await;
    let res = api
        .post_auth(
            "/api/v1/auth/2fa/disable",
            &ann,
            json!({"password": PASSWORD}),
        )
        .await;
    expect_error(res, 422, "VALIDATION_ERROR").await;
    let res = api
        .post_auth(
            "/api/v1/auth/2fa/disable",
            &ann,
            json!({"password": PASSWORD, "code": recovery[3]}),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert!(
        keyport::db::two_factor::get(&server.state.db, ann_id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(sign_in(&api, "ann@example.com", None).await.status(), 200);

    // Every step is a security event of her account, with where it came from.
    let res = api
        .post_auth(
            "/api/v1/users/me/password",
            &ann,
            json!({"current_password": PASSWORD, "new_password": "another-long-pw"}),
        )
        .await;
    assert_eq!(res.status(), 204);
    let res = api
        .post(
            "/api/v1/auth/login",
            json!({"email": "ann@example.com", "password": PASSWORD}),
        )
        .await;
    expect_error(res, 401, "INVALID_CREDENTIALS").await;
    let db = &server.state.db;
    let mut events =
        keyport::db::security_events::for_subject(db, "account", "ann@example.com", 50)
            .await
            .unwrap();
    events.reverse();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "auth.totp_enabled",
            "auth.totp_failed", // a wrong code
            "auth.totp_failed", // the enabling code again
            "auth.totp_failed", // a used step again
            "auth.recovery_code_used",
            "auth.totp_failed",        // a used recovery code
            "auth.recovery_code_used", // typed loosely
            "auth.recovery_code_used", // through the portal
            "auth.totp_disabled",
            "auth.password_changed",
            "auth.sign_in_failed",
        ]
    );
    assert!(
        events
            .iter()
            .all(|e| e.user_id == Some(ann_id) && e.ip == "127.0.0.1")
    );
    assert!(
        events
            .iter()
            .all(|e| !e.detail.contains(&secret.to_base32()))
    );

    // A failed sign-in with an unknown, absurdly long email is recorded, cut to an address's
    // longest.
    let long = format!("{}@example.com", "x".repeat(5_000));
    let res = api
        .post(
            "/api/v1/auth/login",
            json!({"email": long, "password": PASSWORD}),
        )
        .await;
    expect_error(res, 401, "INVALID_CREDENTIALS").await;
    let cut: String = long.chars().take(254).collect();
    let events = keyport::db::security_events::for_subject(db, "account", &cut, 5)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].kind.as_str(), events[0].user_id),
        ("auth.sign_in_failed", None)
    );
}

#[tokio::test]
async fn guessing_codes_is_throttled_like_passwords() {
    let server = TestServer::start().await;
    let api = server.api();
    let cy = user_token(&api, "cy@example.com").await;
    let secret = enroll(&api, &cy).await;
    let res = api
        .post_auth(
            "/api/v1/auth/2fa/enable",
            &cy,
            json!({"code": secret.code_at(now_secs())}),
        )
        .await;
    assert_eq!(res.status(), 200);
    for _ in 0..5 {
        let wrong = other_than(&secret.code_at(now_secs()));
        expect_error(
            sign_in(&api, "cy@example.com", Some(&wrong)).await,
            401,
            "TOTP_INVALID",
        )
        .await;
    }
    let right = secret.code_at(now_secs() + STEP_SECONDS);
    let res = sign_in(&api, "cy@example.com", Some(&right)).await;
    let body = expect_error(res, 429, "TOO_MANY_ATTEMPTS").await;
    assert!(body["detail"].as_str().unwrap().contains("Try again"));
}
