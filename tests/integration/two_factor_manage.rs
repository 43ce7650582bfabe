//! Managing two-factor sign-in: its status, new recovery codes, the portal page (enroll with
//! the QR code's secret, codes shown once, turn off) and an admin's audited reset; who may do
//! what, and bad input that changes nothing.

use crate::harness::*;
use keyport::domain::totp::{STEP_SECONDS, TotpSecret};
use serde_json::{Value, json};

const PASSWORD: &str = "long-enough-pw";

fn now_secs() -> u64 {
    time::OffsetDateTime::now_utc().unix_timestamp() as u64
}

async fn status(api: &Api, token: &str) -> Value {
    let res = api.get("/api/v1/auth/2fa", Some(token)).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// Turns two-factor sign-in on over REST; returns the secret and the recovery codes.
pub async fn turn_on(api: &Api, token: &str) -> (TotpSecret, Vec<String>) {
    let res = api
        .post_auth("/api/v1/auth/2fa/setup", token, json!({}))
        .await;
    assert_eq!(res.status(), 200);
    let setup: Value = res.json().await.unwrap();
    let secret = TotpSecret::from_base32(setup["secret"].as_str().unwrap()).unwrap();
    let res = api
        .post_auth(
            "/api/v1/auth/2fa/enable",
            token,
            json!({"code": secret.code_at(now_secs())}),
        )
        .await;
    assert_eq!(res.status(), 200);
    (secret, codes_of(res.json().await.unwrap()))
}

fn codes_of(body: Value) -> Vec<String> {
    body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

async fn sign_in_status(api: &Api, email: &str, code: Option<&str>) -> u16 {
    let mut body = json!({"email": email, "password": PASSWORD});
    if let Some(c) = code {
        body["totp_code"] = json!(c);
    }
    api.post("/api/v1/auth/login", body).await.status().as_u16()
}

async fn user_id(api: &Api, token: &str) -> i64 {
    let me: Value = api
        .get("/api/v1/users/me", Some(token))
        .await
        .json()
        .await
        .unwrap();
    me["id"].as_i64().unwrap()
}

/// An audit record about a user: (action, actor, target, old values, new values).
type UserAudit<V> = (String, Option<i64>, Option<i64>, V, V);

/// The audit records about users, oldest first.
async fn user_audit(server: &TestServer) -> Vec<UserAudit<String>> {
    const SQL: &str =
        "SELECT action, actor_user_id, target_id, old_values, new_values FROM audit_log
                       WHERE target_type = 'user' ORDER BY id";
    match &server.state.db {
        keyport::db::Db::Sqlite(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
        keyport::db::Db::Postgres(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
    }
}

async fn event_kinds(server: &TestServer, email: &str) -> Vec<String> {
    let mut events =
        keyport::db::security_events::for_subject(&server.state.db, "account", email, 50)
            .await
            .unwrap();
    events.reverse();
    events.into_iter().map(|e| e.kind).collect()
}

#[tokio::test]
async fn status_and_new_recovery_codes_over_rest() {
    let server = TestServer::start().await;
    let api = server.api();
    let ann = user_token(&api, "ann@example.com").await;

    let off = status(&api, &ann).await;
    assert_eq!(
        off,
        json!({"enabled": false, "enabled_at": null, "pending": false, "recovery_codes_left": 0})
    );
    expect_error(api.get("/api/v1/auth/2fa", None).await, 401, "UNAUTHORIZED").await;
    let res = api
        .post_auth("/api/v1/auth/2fa/setup", &ann, json!({}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(status(&api, &ann).await["pending"], true);

    let (secret, first) = turn_on(&api, &ann).await;
    let on = status(&api, &ann).await;
    assert_eq!(
        (on["enabled"].clone(), on["pending"].clone()),
        (json!(true), json!(false))
    );
    assert!(on["enabled_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(on["recovery_codes_left"], 10);
    assert_eq!(
        sign_in_status(&api, "ann@example.com", Some(&first[0])).await,
        200
    );
    assert_eq!(status(&api, &ann).await["recovery_codes_left"], 9);

    // Bad input changes nothing: wrong password, no code, a wrong code, wrong types, bad JSON.
    let path = "/api/v1/auth/2fa/recovery-codes";
    let code = secret.code_at(now_secs() + STEP_SECONDS);
    let res = api
        .post_auth(
            path,
            &ann,
            json!({"password": "not-her-password", "code": code}),
        )
        .await;
    let body = expect_error(res, 422, "VALIDATION_ERROR").await;
    assert_eq!(body["errors"][0]["field"], "body.password");
    let res = api
        .post_auth(path, &ann, json!({"password": PASSWORD}))
        .await;
    expect_error(res, 422, "VALIDATION_ERROR").await;
    let res = api
        .post_auth(path, &ann, json!({"password": PASSWORD, "code": "000000x"}))
        .await;
    expect_error(res, 401, "TOTP_INVALID").await;
    let res = api
        .post_auth(path, &ann, json!({"password": PASSWORD, "code": 123456}))
        .await;
    expect_error(res, 422, "VALIDATION_ERROR").await;
    let res = api
        .http
        .post(format!("{}{path}", api.base))
        .bearer_auth(&ann)
        .header("content-type", "application/json")
        .body("{\"password\": ")
        .send()
        .await
        .unwrap();
    expect_error(res, 400, "INVALID_JSON").await;
    let res = api
        .post(path, json!({"password": PASSWORD, "code": code}))
        .await;
    expect_error(res, 401, "UNAUTHORIZED").await;
    assert_eq!(status(&api, &ann).await["recovery_codes_left"], 9);

    // Ben has no two-factor sign-in: nothing to replace.
    let ben = user_token(&api, "ben@example.com").await;
    let res = api
        .post_auth(path, &ben, json!({"password": PASSWORD, "code": first[1]}))
        .await;
    expect_error(res, 409, "CONFLICT").await;

    let res = api
        .post_auth(path, &ann, json!({"password": PASSWORD, "code": code}))
        .await;
    assert_eq!(res.status(), 200);
    let second = codes_of(res.json().await.unwrap());
    assert_eq!(second.len(), 10);
    assert!(second.iter().all(|c| !first.contains(c)));
    assert_eq!(status(&api, &ann).await["recovery_codes_left"], 10);
    assert_eq!(
        sign_in_status(&api, "ann@example.com", Some(&first[2])).await,
        401,
        "old codes stop working"
    );
    assert_eq!(
        sign_in_status(&api, "ann@example.com", Some(&second[0])).await,
        200
    );
    let kinds = event_kinds(&server, "ann@example.com").await;
    assert!(
        kinds.contains(&"auth.recovery_codes_regenerated".to_string()),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn admins_reset_another_users_two_factor_with_an_audit_record() {
    let server = TestServer::start().await;
    let api = server.api();
    let ann = user_token(&api, "ann@example.com").await;
    let ann_id = user_id(&api, &ann).await;
    turn_on(&api, &ann).await;
    let ben = user_token(&api, "ben@example.com").await;
    let ben_id = user_id(&api, &ben).await;
    user_token(&api, "vic@example.com").await;
    set_role(&server, "vic@example.com", "viewer").await;
    let vic = api.login("vic@example.com", PASSWORD).await.0;
    user_token(&api, "adam@example.com").await;
    set_role(&server, "adam@example.com", "admin").await;
    let adam = api.login("adam@example.com", PASSWORD).await.0;
    let adam_id = user_id(&api, &adam).await;
    let root = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.0;
    let root_id = user_id(&api, &root).await;
    turn_on(&api, &root).await;

    let reset = |id: i64| format!("/api/v1/admin/users/{id}/2fa/reset");
    expect_error(
        api.post(&reset(ann_id), json!({})).await,
        401,
        "UNAUTHORIZED",
    )
    .await;
    for token in [&ben, &vic] {
        let res = api.post_auth(&reset(ann_id), token, json!({})).await;
        expect_error(res, 403, "FORBIDDEN").await;
    }
    let res = api.post_auth(&reset(root_id), &adam, json!({})).await;
    expect_error(res, 403, "FORBIDDEN").await;
    let res = api.post_auth(&reset(999_999), &adam, json!({})).await;
    expect_error(res, 404, "NOT_FOUND").await;
    let res = api
        .post_auth("/api/v1/admin/users/abc/2fa/reset", &adam, json!({}))
        .await;
    expect_error(res, 404, "NOT_FOUND").await;
    let res = api.post_auth(&reset(ben_id), &adam, json!({})).await;
    expect_error(res, 409, "CONFLICT").await;
    assert!(
        user_audit(&server).await.is_empty(),
        "refusals write nothing"
    );
    assert_eq!(sign_in_status(&api, "ann@example.com", None).await, 401);

    let res = api.post_auth(&reset(ann_id), &adam, json!({})).await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        sign_in_status(&api, "ann@example.com", None).await,
        200,
        "password only now"
    );
    assert_eq!(status(&api, &ann).await["enabled"], false);
    let res = api.post_auth(&reset(ann_id), &adam, json!({})).await;
    expect_error(res, 409, "CONFLICT").await;

    // Not their own: the account page asks for password and code.
    turn_on(&api, &adam).await;
    let res = api.post_auth(&reset(adam_id), &adam, json!({})).await;
    expect_error(res, 403, "FORBIDDEN").await;
    // A super admin may reset an admin's.
    let res = api.post_auth(&reset(adam_id), &root, json!({})).await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        status(&api, &root).await["enabled"],
        true,
        "the super admin's own is untouched"
    );

    let audit: Vec<UserAudit<Value>> = user_audit(&server)
        .await
        .into_iter()
        .map(|(action, actor, target, old, new)| {
            let old = serde_json::from_str(&old).unwrap();
            (
                action,
                actor,
                target,
                old,
                serde_json::from_str(&new).unwrap(),
            )
        })
        .collect();
    let on = json!({"pending": false, "two_factor_enabled": true});
    let off = json!({"pending": false, "two_factor_enabled": false});
    let action = "user.two_factor_reset".to_string();
    assert_eq!(
        audit,
        [
            (
                action.clone(),
                Some(adam_id),
                Some(ann_id),
                on.clone(),
                off.clone()
            ),
            (action, Some(root_id), Some(adam_id), on, off),
        ]
    );
    let kinds = event_kinds(&server, "ann@example.com").await;
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("auth.totp_reset"),
        "{kinds:?}"
    );
}

/// The value of `data-secret="…"` in the enrollment page.
fn secret_on_page(html: &str) -> String {
    let start = html
        .find("data-secret=\"")
        .expect("the setup key is on the page")
        + 13;
    let end = start + html[start..].find('"').unwrap();
    html[start..end].to_string()
}

/// The codes in the page's `<pre id="recovery-codes">`.
fn codes_on_page(html: &str) -> Vec<String> {
    let Some(at) = html.find("id=\"recovery-codes\"") else {
        return Vec::new();
    };
    let start = at + html[at..].find('>').unwrap() + 1;
    let end = start + html[start..].find("</pre>").unwrap();
    html[start..end].lines().map(str::to_string).collect()
}

#[tokio::test]
async fn the_portal_page_enrolls_shows_codes_once_and_turns_off() {
    let server = TestServer::start().await;
    let api = server.api();
    api.register("ann@example.com", PASSWORD, "Ann").await;
    api.register("ben@example.com", PASSWORD, "Ben").await;
    let ann = signed_in_browser(&server, "ann@example.com", PASSWORD).await;
    let ben = signed_in_browser(&server, "ben@example.com", PASSWORD).await;
    let page = "/account/two-factor";

    assert!(
        page_html(&ann, "/account")
            .await
            .contains("Set up two-factor sign-in")
    );
    assert_eq!(
        location(&server.browser().get(page).await),
        "/login?next=/account/two-factor"
    );
    let html = page_html(&ann, page).await;
    assert!(html.contains("Two-factor sign-in is off"));

    let res = ann.form("/sfn/start_two_factor", &[]).await;
    assert_eq!(location(&res), page);
    let html = page_html(&ann, page).await;
    assert!(
        html.contains("<svg") && html.contains("role=\"img\""),
        "a QR code drawn here"
    );
    assert!(html.contains("otpauth://totp/Keyport:ann%40example.com?secret="));
    let secret_text = secret_on_page(&html);
    assert_eq!(
        secret_on_page(&page_html(&ann, page).await),
        secret_text,
        "a reload shows the same secret"
    );
    let secret = TotpSecret::from_base32(&secret_text).unwrap();

    let res = ann
        .form("/sfn/enable_two_factor", &[("code", "000000")])
        .await;
    assert!(location(&res).contains("__err="));
    assert!(
        page_html(&ann, page).await.contains("data-secret="),
        "still waiting for a code"
    );

    let res = ann
        .form(
            "/sfn/enable_two_factor",
            &[("code", &secret.code_at(now_secs()))],
        )
        .await;
    let shown = location(&res);
    assert!(shown.starts_with("/account/two-factor?codes="), "{shown}");
    // Codes are parked for their owner only.
    assert!(codes_on_page(&page_html(&ben, &shown).await).is_empty());
    let codes = codes_on_page(&page_html(&ann, &shown).await);
    assert_eq!(codes.len(), 10, "{codes:?}");
    let again = page_html(&ann, &shown).await;
    assert!(codes_on_page(&again).is_empty(), "shown once");
    assert!(again.contains("shown once already"));
    assert!(again.contains("10 of 10"));
    assert_eq!(
        sign_in_status(&api, "ann@example.com", Some(&codes[0])).await,
        200
    );

    // New codes from the page, with password and a code.
    let next = secret.code_at(now_secs() + STEP_SECONDS);
    let res = ann
        .form(
            "/sfn/regenerate_recovery_codes",
            &[("password", "wrong-password"), ("code", &next)],
        )
        .await;
    assert!(location(&res).contains("__err="));
    let res = ann
        .form(
            "/sfn/regenerate_recovery_codes",
            &[("password", PASSWORD), ("code", &next)],
        )
        .await;
    let fresh = codes_on_page(&page_html(&ann, &location(&res)).await);
    assert_eq!(fresh.len(), 10);
    assert_eq!(
        sign_in_status(&api, "ann@example.com", Some(&codes[1])).await,
        401
    );

    // Turning off: the wrong password changes nothing; then off with a recovery code.
    let res = ann
        .form(
            "/sfn/disable_two_factor",
            &[("password", "wrong-password"), ("code", &fresh[0])],
        )
        .await;
    assert!(location(&res).contains("__err="));
    assert_eq!(sign_in_status(&api, "ann@example.com", None).await, 401);
    let res = ann
        .form(
            "/sfn/disable_two_factor",
            &[("password", PASSWORD), ("code", &fresh[0])],
        )
        .await;
    assert_eq!(location(&res), "/account/two-factor?saved=off");
    assert!(
        page_html(&ann, &location(&res))
            .await
            .contains("Two-factor sign-in is off.")
    );
    assert_eq!(sign_in_status(&api, "ann@example.com", None).await, 200);

    // A setup can be abandoned.
    ann.form("/sfn/start_two_factor", &[]).await;
    let res = ann.form("/sfn/cancel_two_factor", &[]).await;
    assert_eq!(location(&res), page);
    assert!(!page_html(&ann, page).await.contains("data-secret="));
}

#[tokio::test]
async fn admins_reset_two_factor_from_the_users_list() {
    let server = TestServer::start().await;
    let api = server.api();
    let ann = user_token(&api, "ann@example.com").await;
    let ann_id = user_id(&api, &ann).await;
    turn_on(&api, &ann).await;
    let admin = signed_in_browser(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let html = page_html(&admin, "/admin").await;
    assert!(
        html.contains("Reset two-factor sign-in of ann"),
        "a reset for Ann"
    );
    assert_eq!(html.matches("Reset…").count(), 1, "and for nobody else");

    // Not for users, and never redirected off-site.
    let ben = {
        api.register("ben@example.com", PASSWORD, "Ben").await;
        signed_in_browser(&server, "ben@example.com", PASSWORD).await
    };
    let id = ann_id.to_string();
    let res = ben
        .form(
            "/sfn/reset_user_two_factor",
            &[("user_id", &id), ("back", "/admin")],
        )
        .await;
    assert!(location(&res).contains("__err="));
    assert_eq!(status(&api, &ann).await["enabled"], true);
    let res = admin
        .form(
            "/sfn/reset_user_two_factor",
            &[("user_id", &id), ("back", "https://evil.example/")],
        )
        .await;
    assert_eq!(location(&res), format!("/admin?reset={ann_id}"));
    assert_eq!(status(&api, &ann).await["enabled"], false);
    let html = page_html(&admin, &location(&res)).await;
    assert!(html.contains("Two-factor sign-in was turned off for that user."));
    assert!(!html.contains("Reset…"));
}
