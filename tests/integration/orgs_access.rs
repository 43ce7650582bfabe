//! Org keys by role, and the access matrix: every org-scoped REST endpoint, for anonymous,
//! a global viewer, a plain user (no member), org viewer, org member, org admin and a global
//! admin, with the exact status each gets. Also malformed bodies and other orgs' ids.

use crate::harness::*;
use crate::mail::server_mailing_to;
use crate::orgs::{call, create_org, join, json_of, user_id};
use crate::smtp::SmtpServer;
use reqwest::Method;
use serde_json::json;

/// The actors of the org access matrices, in their column order (`target@` is a member the
/// rows act on, not an actor).
pub const ACTORS: [&str; 7] = [
    "anonymous",
    "gviewer",
    "user",
    "oviewer",
    "omember",
    "oadmin",
    "gadmin",
];

pub struct Cast {
    pub tokens: Vec<(&'static str, Option<String>)>,
    pub owner: String,
    pub org: i64,
    pub target: i64,
}

/// An org owned by `owner@`, with `oviewer@`, `omember@`, `oadmin@` and a `target@` member;
/// `gviewer@` and `gadmin@` have global roles, `user@` is nobody in it.
pub async fn cast(server: &TestServer, smtp: &SmtpServer) -> Cast {
    let api = server.api();
    let owner = user_token(&api, "owner@example.com").await;
    let org = create_org(&api, &owner, "Matrix").await;
    let mut tokens = vec![("anonymous", None)];
    for (name, _) in [
        ("gviewer", ()),
        ("user", ()),
        ("oviewer", ()),
        ("omember", ()),
        ("oadmin", ()),
        ("gadmin", ()),
        ("target", ()),
    ] {
        let email = format!("{name}@example.com");
        let t = user_token(&api, &email).await;
        if name == "gviewer" || name == "gadmin" {
            set_role(
                server,
                &email,
                if name == "gviewer" { "viewer" } else { "admin" },
            )
            .await;
        }
        tokens.push((name, Some(t)));
    }
    let mut n = 0;
    for (name, role) in [
        ("oviewer", "viewer"),
        ("omember", "member"),
        ("oadmin", "admin"),
        ("target", "member"),
    ] {
        n += 1;
        let t = tokens
            .iter()
            .find(|(x, _)| *x == name)
            .unwrap()
            .1
            .clone()
            .unwrap();
        join(
            server,
            smtp,
            n,
            org,
            &owner,
            &format!("{name}@example.com"),
            &t,
            role,
        )
        .await;
    }
    let target_token = tokens.pop().unwrap().1.unwrap();
    let target = user_id(&api, &target_token).await;
    Cast {
        tokens,
        owner,
        org,
        target,
    }
}

#[tokio::test]
async fn org_keys_follow_roles() {
    let smtp = SmtpServer::start().await;
    let server = server_mailing_to(&smtp.url()).await;
    let api = server.api();
    let c = cast(&server, &smtp).await;
    let token = |name: &str| {
        c.tokens
            .iter()
            .find(|(x, _)| *x == name)
            .unwrap()
            .1
            .clone()
            .unwrap()
    };
    let owners_key = create(&api, &c.owner, json!({"name": "owner's", "org_id": c.org})).await;
    assert_eq!(owners_key["org_id"], c.org);
    for (name, status) in [
        ("oadmin", 201),
        ("omember", 201),
        ("oviewer", 403),
        ("user", 422),
        ("gadmin", 201),
        ("gviewer", 403),
    ] {
        let res = api
            .post_auth(
                "/api/v1/keys",
                &token(name),
                json!({"name": format!("{name}'s"), "org_id": c.org}),
            )
            .await;
        assert_eq!(res.status().as_u16(), status, "{name} creates an org key");
    }
    // Every member lists the org's keys; a stranger sees none of them.
    for (name, seen) in [("oviewer", 4), ("omember", 4), ("oadmin", 4), ("user", 0)] {
        let list = json_of(api.get("/api/v1/keys", Some(&token(name))).await, 200).await;
        let org_keys = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["org_id"] == c.org)
            .count();
        assert_eq!(org_keys, seen, "{name} lists org keys");
    }
    // Owners and admins change any org key; members their own; viewers none.
    let key_path = format!("/api/v1/keys/{}", owners_key["id"]);
    for (name, ok) in [("oadmin", true), ("omember", false), ("oviewer", false)] {
        let res = patch(&api, &token(name), &key_path, json!({"description": name})).await;
        assert_eq!(
            res.status().is_success(),
            ok,
            "{name} edits the owner's org key"
        );
    }
    let list = json_of(api.get("/api/v1/keys", Some(&token("omember"))).await, 200).await;
    let own = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "omember's")
        .unwrap()
        .clone();
    let res = patch(
        &api,
        &token("omember"),
        &format!("/api/v1/keys/{}", own["id"]),
        json!({"description": "mine"}),
    )
    .await;
    assert!(res.status().is_success());
    // An org that owns live keys is not deleted.
    let res = call(
        &api,
        Method::DELETE,
        &format!("/api/v1/orgs/{}", c.org),
        Some(&c.owner),
        None,
    )
    .await;
    expect_error(res, 409, "ORG_HAS_KEYS").await;
    server.stop().await;
}

#[tokio::test]
async fn access_matrix_of_org_endpoints() {
    let smtp = SmtpServer::start().await;
    let server = server_mailing_to(&smtp.url()).await;
    let api = server.api();
    let c = cast(&server, &smtp).await;
    create(&api, &c.owner, json!({"name": "live", "org_id": c.org})).await;
    let (org, target) = (c.org, c.target);
    let get = Method::GET;
    let invite = json!({"email": "new@example.com", "role": "member"});
    // Columns: anonymous, gviewer, user, oviewer, omember, oadmin, gadmin.
    let rows: Vec<(Method, String, Option<serde_json::Value>, [u16; 7])> = vec![
        (
            get.clone(),
            "/api/v1/orgs".into(),
            None,
            [401, 200, 200, 200, 200, 200, 200],
        ),
        (
            get.clone(),
            format!("/api/v1/orgs/{org}"),
            None,
            [401, 404, 404, 200, 200, 200, 200],
        ),
        (
            Method::PATCH,
            format!("/api/v1/orgs/{org}"),
            Some(json!({"name": "Matrix"})),
            [401, 404, 404, 403, 403, 200, 200],
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/{org}"),
            None,
            [401, 404, 404, 403, 403, 403, 409],
        ),
        (
            get.clone(),
            format!("/api/v1/orgs/{org}/members"),
            None,
            [401, 404, 404, 200, 200, 200, 200],
        ),
        (
            Method::PATCH,
            format!("/api/v1/orgs/{org}/members/{target}"),
            Some(json!({"role": "viewer"})),
            [401, 404, 404, 403, 403, 204, 204],
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/{org}/members/999999"),
            None,
            [401, 404, 404, 403, 403, 404, 404],
        ),
        (
            get.clone(),
            format!("/api/v1/orgs/{org}/invitations"),
            None,
            [401, 404, 404, 403, 403, 200, 200],
        ),
        (
            Method::POST,
            format!("/api/v1/orgs/{org}/invitations"),
            Some(invite),
            [401, 404, 404, 403, 403, 201, 201],
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/{org}/invitations/999999"),
            None,
            [401, 404, 404, 403, 403, 404, 404],
        ),
        (
            Method::POST,
            "/api/v1/invitations/accept".into(),
            Some(json!({"token": "nope"})),
            [401, 400, 400, 400, 400, 400, 400],
        ),
        // Another org's id: nobody but the global admin sees it exists (999999 exists nowhere).
        (
            get.clone(),
            "/api/v1/orgs/999999".into(),
            None,
            [401, 404, 404, 404, 404, 404, 404],
        ),
    ];
    for (method, path, body, want) in rows {
        for (i, (who, token)) in c.tokens.iter().enumerate() {
            let res = call(&api, method.clone(), &path, token.as_deref(), body.clone()).await;
            assert_eq!(res.status().as_u16(), want[i], "{who}: {method} {path}");
        }
    }
    // Creating an org: everyone signed in but global viewers.
    for (i, (who, token)) in c.tokens.iter().enumerate() {
        let res = call(
            &api,
            Method::POST,
            "/api/v1/orgs",
            token.as_deref(),
            Some(json!({"name": format!("New {i}")})),
        )
        .await;
        assert_eq!(
            res.status().as_u16(),
            [401, 403, 201, 201, 201, 201, 201][i],
            "{who} creates an org"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn bad_input_changes_nothing() {
    let server = TestServer::start().await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    let org = create_org(&api, &alice, "Acme").await;
    let raw = |path: &str, body: &'static str| {
        api.http
            .post(format!("{}{path}", api.base))
            .bearer_auth(&alice)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    expect_error(raw("/api/v1/orgs", "{").await.unwrap(), 400, "INVALID_JSON").await;
    let res = raw("/api/v1/orgs", r#"{"name": 5}"#).await.unwrap();
    assert!([400, 422].contains(&res.status().as_u16()));
    let res = raw("/api/v1/orgs", r#"{"name": "x", "extra": 1}"#)
        .await
        .unwrap();
    assert!([400, 422].contains(&res.status().as_u16()));
    for body in [
        json!({"name": ""}),
        json!({"name": "x".repeat(101)}),
        json!({"name": "ok", "slug": "../etc"}),
        json!({"name": "a\u{0}b"}),
    ] {
        let res = api.post_auth("/api/v1/orgs", &alice, body).await;
        expect_error(res, 422, "VALIDATION_ERROR").await;
    }
    // Hostile text is kept as text.
    let res = api
        .post_auth(
            "/api/v1/orgs",
            &alice,
            json!({"name": "<script>alert(1)</script>", "slug": "xss"}),
        )
        .await;
    assert_eq!(json_of(res, 201).await["name"], "<script>alert(1)</script>");
    let path = format!("/api/v1/orgs/{org}/invitations");
    for body in [
        json!({"email": "not-an-email", "role": "member"}),
        json!({"email": "a@example.com", "role": "god"}),
    ] {
        expect_error(
            api.post_auth(&path, &alice, body).await,
            422,
            "VALIDATION_ERROR",
        )
        .await;
    }
    expect_error(
        api.get("/api/v1/orgs/abc", Some(&alice)).await,
        404,
        "NOT_FOUND",
    )
    .await;
    expect_error(
        api.get(
            &format!("/api/v1/orgs/{org}/members?per_page=0"),
            Some(&alice),
        )
        .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    let list = json_of(api.get("/api/v1/orgs", Some(&alice)).await, 200).await;
    assert_eq!(list["total"], 2);
    let pending = json_of(api.get(&path, Some(&alice)).await, 200).await;
    assert_eq!(pending["total"], 0);
    server.stop().await;
}
