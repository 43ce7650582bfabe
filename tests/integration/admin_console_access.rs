//! The admin console's access matrix: every admin REST route and every admin server function,
//! for anonymous, a global viewer, a plain user, an org member, an org admin, an admin and the
//! super admin. Only admins get through; anonymous gets 401 UNAUTHORIZED and everyone else
//! 403 FORBIDDEN (server functions report the same codes to the page, in `__err`).

use crate::admin_console::{audit_rows, root_token};
use crate::harness::*;
use crate::orgs::{call, create_org, user_id};
use reqwest::Method;
use serde_json::{Value, json};

const ACTORS: [&str; 7] = [
    "anonymous",
    "viewer",
    "user",
    "omember",
    "oadmin",
    "admin",
    "super",
];

struct Cast {
    /// A bearer token per actor (None for anonymous), in ACTORS' order.
    tokens: Vec<Option<String>>,
    /// A signed-in portal browser per actor, in ACTORS' order.
    browsers: Vec<Browser>,
    /// A plain user every row acts on.
    target: i64,
}

async fn cast(server: &TestServer) -> Cast {
    let api = server.api();
    let mut tokens = vec![None];
    let mut browsers = vec![server.browser()];
    for name in ["viewer", "user", "omember", "oadmin", "admin"] {
        let email = format!("{name}@example.com");
        tokens.push(Some(user_token(&api, &email).await));
        match name {
            "viewer" | "admin" => set_role(server, &email, name).await,
            _ => {}
        }
        browsers.push(signed_in_browser(server, &email, "long-enough-pw").await);
    }
    tokens.push(Some(root_token(&api).await));
    browsers.push(signed_in_browser(server, ADMIN_EMAIL, ADMIN_PASSWORD).await);
    // oadmin owns an org that omember belongs to.
    let org = create_org(&api, tokens[4].as_deref().unwrap(), "Matrix").await;
    let member = user_id(&api, tokens[3].as_deref().unwrap()).await;
    let sql = format!(
        "INSERT INTO org_members (org_id, user_id, role, created_at) VALUES ({org}, {member}, 'member', 0)"
    );
    execute_sql(server, &sql).await;
    let target = user_token(&api, "target@example.com").await;
    let target = user_id(&api, &target).await;
    Cast {
        tokens,
        browsers,
        target,
    }
}

/// What an actor without admin rights gets: (status, error_code).
fn refused(actor: usize) -> (u16, &'static str) {
    if actor == 0 {
        (401, "UNAUTHORIZED")
    } else {
        (403, "FORBIDDEN")
    }
}

#[tokio::test]
async fn access_matrix_of_admin_routes() {
    let server = TestServer::start().await;
    let api = server.api();
    let c = cast(&server).await;
    let t = c.target;
    let get = |path: &str| (Method::GET, path.to_string(), None, 200);
    // (method, path, body, status for admins); run in order per actor, so each admin
    // suspends the target and reactivates it again.
    let rows: Vec<(Method, String, Option<Value>, u16)> = vec![
        get("/api/v1/admin/users"),
        get("/api/v1/admin/users?q=target&role=user&status=active"),
        get(&format!("/api/v1/admin/users/{t}")),
        (
            Method::PATCH,
            format!("/api/v1/admin/users/{t}"),
            Some(json!({"role": "user"})),
            200,
        ),
        (
            Method::POST,
            format!("/api/v1/admin/users/{t}/suspend"),
            Some(json!({"reason": "matrix"})),
            200,
        ),
        (
            Method::POST,
            format!("/api/v1/admin/users/{t}/reactivate"),
            Some(json!({})),
            200,
        ),
        // The target has no two-factor sign-in to reset.
        (
            Method::POST,
            format!("/api/v1/admin/users/{t}/2fa/reset"),
            Some(json!({})),
            409,
        ),
        get("/api/v1/audit-log"),
        get("/api/v1/audit-log?action=user.suspended&target=user"),
        get("/api/v1/audit-log/export.csv"),
        get("/api/v1/admin/security-events"),
        get("/api/v1/admin/security-events?kind=auth.account_suspended"),
        get("/api/v1/admin/system"),
        get("/api/v1/admin/jobs"),
    ];
    for (i, (who, token)) in ACTORS.iter().zip(&c.tokens).enumerate() {
        for (method, path, body, ok) in &rows {
            let res = call(&api, method.clone(), path, token.as_deref(), body.clone()).await;
            let status = res.status().as_u16();
            if i >= 5 {
                assert_eq!(status, *ok, "{who}: {method} {path}");
                continue;
            }
            let (want, code) = refused(i);
            let got: Value = res.json().await.unwrap_or(Value::Null);
            assert_eq!(status, want, "{who}: {method} {path}: {got}");
            assert_eq!(got["error_code"], code, "{who}: {method} {path}");
        }
    }
    // Only the two admins' suspensions and reactivations were recorded.
    let root = c.tokens[6].as_deref().unwrap();
    let log = audit_rows(&api, root, &format!("?target=user:{t}")).await;
    assert_eq!(log["total"], 4, "{log}");
    server.stop().await;
}

/// The error code a server function's form post reported, or None when it succeeded.
fn sfn_error(server: &TestServer, res: &reqwest::Response) -> Option<String> {
    let to = location(res);
    let url = reqwest::Url::parse(&server.url("/"))
        .unwrap()
        .join(&to)
        .unwrap();
    let err = url
        .query_pairs()
        .find(|(k, _)| k == "__err")
        .map(|(_, v)| v.into_owned())?;
    // The error travels as base64 of its JSON.
    use base64::Engine;
    let json = base64::engine::general_purpose::STANDARD
        .decode(err.as_bytes())
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(err.as_bytes()))
        .unwrap_or_else(|_| err.clone().into_bytes());
    let body: Value = serde_json::from_slice(&json).unwrap_or(Value::String(err.clone()));
    Some(
        body["code"]
            .as_str()
            .or(body["error_code"].as_str())
            .map(str::to_string)
            .unwrap_or(err),
    )
}

#[tokio::test]
async fn access_matrix_of_admin_server_functions() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    let t = c.target.to_string();
    let t = t.as_str();
    let filters = [
        ("actor_id", ""),
        ("action", ""),
        ("target", ""),
        ("from", ""),
        ("to", ""),
        ("page", "1"),
    ];
    let security = [
        ("user", ""),
        ("kind", ""),
        ("from", ""),
        ("to", ""),
        ("page", "1"),
    ];
    // (endpoint, fields, error code for admins: None when it succeeds), in order per actor.
    let calls: Vec<(&str, Vec<(&str, &str)>, Option<&str>)> = vec![
        (
            "admin_users",
            vec![("q", ""), ("role", ""), ("status", ""), ("page", "1")],
            None,
        ),
        ("admin_user_detail", vec![("id", t)], None),
        ("admin_change_role", vec![("id", t), ("role", "user")], None),
        (
            "admin_suspend_user",
            vec![("id", t), ("reason", "matrix")],
            None,
        ),
        ("admin_reactivate_user", vec![("id", t)], None),
        (
            "reset_user_two_factor",
            vec![("user_id", t), ("back", "/admin")],
            Some("CONFLICT"),
        ),
        ("admin_audit_log", filters.to_vec(), None),
        ("admin_security_events", security.to_vec(), None),
        ("system_view", vec![], None),
        (
            "admin_jobs",
            vec![("state_filter", ""), ("page", "1")],
            None,
        ),
        (
            "send_broadcast",
            vec![("title", "Matrix"), ("body", "Hello"), ("role", "admin")],
            None,
        ),
    ];
    for (i, (who, browser)) in ACTORS.iter().zip(&c.browsers).enumerate() {
        for (endpoint, fields, admin_error) in &calls {
            let res = browser.form(&format!("/sfn/{endpoint}"), fields).await;
            let status = res.status().as_u16();
            assert!(
                (300..400).contains(&status),
                "{who}: {endpoint}: {status} {}",
                res.text().await.unwrap_or_default()
            );
            let got = sfn_error(&server, &res);
            let want = if i >= 5 {
                admin_error.map(str::to_string)
            } else {
                Some(refused(i).1.to_string())
            };
            assert_eq!(got, want, "{who}: {endpoint}");
        }
    }
    let api = server.api();
    let root = c.tokens[6].as_deref().unwrap();
    let log = audit_rows(&api, root, &format!("?target=user:{t}")).await;
    assert_eq!(log["total"], 4, "{log}");
    server.stop().await;
}
