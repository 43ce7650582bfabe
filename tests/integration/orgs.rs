//! Organizations over REST: the lifecycle (create, invite by a mail caught on a real SMTP
//! listener, accept once, roles, the last-owner rule, removal), org keys by role, and the
//! access matrix of every org-scoped endpoint for every kind of actor.

use crate::harness::*;
use crate::mail::server_mailing_to;
use crate::smtp::SmtpServer;
use reqwest::Method;
use serde_json::{Value, json};

pub async fn call(
    api: &Api,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = api.http.request(method, format!("{}{path}", api.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

pub async fn json_of(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

pub async fn create_org(api: &Api, token: &str, name: &str) -> i64 {
    let res = api
        .post_auth("/api/v1/orgs", token, json!({"name": name}))
        .await;
    json_of(res, 201).await["id"].as_i64().unwrap()
}

pub async fn user_id(api: &Api, token: &str) -> i64 {
    json_of(api.get("/api/v1/users/me", Some(token)).await, 200).await["id"]
        .as_i64()
        .unwrap()
}

/// The token of the invitation link in message `n` (1-based) the SMTP listener caught.
pub async fn invitation_token(server: &TestServer, smtp: &SmtpServer, n: usize) -> String {
    let got = smtp.wait_for(n).await;
    let text = got[n - 1].text();
    let prefix = format!(
        "{}/invitations/",
        server.state.config.public_url.trim_end_matches('/')
    );
    let start = text
        .find(&prefix)
        .unwrap_or_else(|| panic!("no link in {text}"));
    text[start + prefix.len()..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect()
}

/// Invites `email` with `role` into `org` (as `token`) and accepts as `invitee`.
pub async fn join(
    server: &TestServer,
    smtp: &SmtpServer,
    n: usize,
    org: i64,
    token: &str,
    email: &str,
    invitee: &str,
    role: &str,
) {
    let api = server.api();
    let path = format!("/api/v1/orgs/{org}/invitations");
    json_of(
        api.post_auth(&path, token, json!({"email": email, "role": role}))
            .await,
        201,
    )
    .await;
    let link = invitation_token(server, smtp, n).await;
    let res = api
        .post_auth(
            "/api/v1/invitations/accept",
            invitee,
            json!({"token": link}),
        )
        .await;
    assert_eq!(json_of(res, 200).await["role"], role);
}

#[tokio::test]
async fn org_lifecycle_invite_accept_roles_last_owner() {
    let smtp = SmtpServer::start().await;
    let server = server_mailing_to(&smtp.url()).await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    let bob = user_token(&api, "bob@example.com").await;
    let carol = user_token(&api, "carol@example.com").await;
    let bob_id = user_id(&api, &bob).await;
    let alice_id = user_id(&api, &alice).await;

    let org = create_org(&api, &alice, "Acme Corp").await;
    let got = json_of(
        api.get(&format!("/api/v1/orgs/{org}"), Some(&alice)).await,
        200,
    )
    .await;
    assert_eq!(
        (got["slug"].as_str(), got["role"].as_str()),
        (Some("acme-corp"), Some("owner"))
    );
    // The same slug again is taken.
    let res = api
        .post_auth("/api/v1/orgs", &bob, json!({"name": "Acme Corp"}))
        .await;
    expect_error(res, 409, "SLUG_TAKEN").await;

    // Invite Bob: the mail carries a single-use link.
    let path = format!("/api/v1/orgs/{org}/invitations");
    let inv = json_of(
        api.post_auth(
            &path,
            &alice,
            json!({"email": "Bob@Example.com", "role": "member"}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(inv["email"], "bob@example.com");
    let pending = json_of(api.get(&path, Some(&alice)).await, 200).await;
    assert_eq!(pending["total"], 1);
    let token = invitation_token(&server, &smtp, 1).await;
    assert!(smtp.messages()[0].text().contains("Acme Corp"));
    // Carol cannot use Bob's invitation.
    let res = api
        .post_auth(
            "/api/v1/invitations/accept",
            &carol,
            json!({"token": token}),
        )
        .await;
    expect_error(res, 403, "INVITATION_EMAIL_MISMATCH").await;
    let res = api
        .post_auth("/api/v1/invitations/accept", &bob, json!({"token": token}))
        .await;
    assert_eq!(json_of(res, 200).await["role"], "member");
    let res = api
        .post_auth("/api/v1/invitations/accept", &bob, json!({"token": token}))
        .await;
    expect_error(res, 400, "INVITATION_INVALID").await;
    let pending = json_of(api.get(&path, Some(&alice)).await, 200).await;
    assert_eq!(pending["total"], 0);

    let members = json_of(
        api.get(&format!("/api/v1/orgs/{org}/members"), Some(&bob))
            .await,
        200,
    )
    .await;
    assert_eq!(members["total"], 2);
    let mine = json_of(api.get("/api/v1/orgs", Some(&bob)).await, 200).await;
    assert_eq!(mine["items"][0]["id"], org);

    // The last owner can neither be demoted nor removed, not even by themselves.
    let alice_path = format!("/api/v1/orgs/{org}/members/{alice_id}");
    expect_error(
        patch(&api, &alice, &alice_path, json!({"role": "admin"})).await,
        409,
        "LAST_OWNER",
    )
    .await;
    expect_error(
        call(&api, Method::DELETE, &alice_path, Some(&alice), None).await,
        409,
        "LAST_OWNER",
    )
    .await;
    // Bob, promoted to admin, manages but cannot touch the owner.
    let bob_path = format!("/api/v1/orgs/{org}/members/{bob_id}");
    assert_eq!(
        patch(&api, &alice, &bob_path, json!({"role": "admin"}))
            .await
            .status(),
        204
    );
    expect_error(
        patch(&api, &bob, &alice_path, json!({"role": "member"})).await,
        403,
        "FORBIDDEN",
    )
    .await;
    expect_error(
        patch(&api, &bob, &bob_path, json!({"role": "owner"})).await,
        403,
        "FORBIDDEN",
    )
    .await;
    expect_error(
        patch(&api, &alice, &bob_path, json!({"role": "king"})).await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    // With a second owner the first may step down.
    assert_eq!(
        patch(&api, &alice, &bob_path, json!({"role": "owner"}))
            .await
            .status(),
        204
    );
    assert_eq!(
        patch(&api, &alice, &alice_path, json!({"role": "member"}))
            .await
            .status(),
        204
    );
    // Revoked invitations stop working.
    let inv = json_of(
        api.post_auth(
            &path,
            &bob,
            json!({"email": "carol@example.com", "role": "viewer"}),
        )
        .await,
        201,
    )
    .await;
    let carol_token = invitation_token(&server, &smtp, 2).await;
    let inv_path = format!("{path}/{}", inv["id"]);
    assert_eq!(
        call(&api, Method::DELETE, &inv_path, Some(&bob), None)
            .await
            .status(),
        204
    );
    let res = api
        .post_auth(
            "/api/v1/invitations/accept",
            &carol,
            json!({"token": carol_token}),
        )
        .await;
    expect_error(res, 400, "INVITATION_INVALID").await;
    // Removal: Alice (a member now) leaves on her own; Bob's org no longer shows to her.
    assert_eq!(
        call(&api, Method::DELETE, &alice_path, Some(&alice), None)
            .await
            .status(),
        204
    );
    expect_error(
        api.get(&format!("/api/v1/orgs/{org}"), Some(&alice)).await,
        404,
        "NOT_FOUND",
    )
    .await;
    // Every change is audited.
    let actions = audit_actions(&server).await;
    for a in [
        "org.created",
        "org.invitation_created",
        "org.invitation_accepted",
        "org.member_role_changed",
        "org.invitation_revoked",
        "org.member_removed",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    // Deleting: only owners; an org without live keys goes.
    assert_eq!(
        call(
            &api,
            Method::DELETE,
            &format!("/api/v1/orgs/{org}"),
            Some(&bob),
            None
        )
        .await
        .status(),
        204
    );
    expect_error(
        api.get(&format!("/api/v1/orgs/{org}"), Some(&bob)).await,
        404,
        "NOT_FOUND",
    )
    .await;
    server.stop().await;
}

async fn audit_actions(server: &TestServer) -> Vec<String> {
    const SQL: &str = "SELECT action FROM audit_log WHERE action LIKE 'org.%'";
    match &server.state.db {
        keyport::db::Db::Sqlite(p) => sqlx::query_scalar(SQL).fetch_all(p).await.unwrap(),
        keyport::db::Db::Postgres(p) => sqlx::query_scalar(SQL).fetch_all(p).await.unwrap(),
    }
}

#[tokio::test]
async fn expired_invitations_say_so() {
    let smtp = SmtpServer::start().await;
    let server = server_mailing_to(&smtp.url()).await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    let bob = user_token(&api, "bob@example.com").await;
    let org = create_org(&api, &alice, "Acme").await;
    let path = format!("/api/v1/orgs/{org}/invitations");
    json_of(
        api.post_auth(
            &path,
            &alice,
            json!({"email": "bob@example.com", "role": "member"}),
        )
        .await,
        201,
    )
    .await;
    let token = invitation_token(&server, &smtp, 1).await;
    execute_sql(&server, "UPDATE org_invitations SET expires_at = 1").await;
    let res = api
        .post_auth("/api/v1/invitations/accept", &bob, json!({"token": token}))
        .await;
    expect_error(res, 400, "INVITATION_EXPIRED").await;
    for bad in [
        json!({"token": ""}),
        json!({"token": "x".repeat(500)}),
        json!({"token": "<script>"}),
    ] {
        let res = api.post_auth("/api/v1/invitations/accept", &bob, bad).await;
        expect_error(res, 400, "INVITATION_INVALID").await;
    }
    server.stop().await;
}
