//! Key lifecycle: the lifecycle policy (admins), its enforcement on key create, edit and
//! rotation, key templates and naming templates, and the unused-key scan with a chosen `now`.

use crate::apis::{admin_token, create_api, delete, error_fields, get_json};
use crate::harness::*;
use keyport::domain::keys::verify::{self, VerifyRequest};
use keyport::domain::{from_millis, lifecycle, to_millis};
use serde_json::{Value, json};

const DAY_MS: i64 = 24 * 3600 * 1000;

async fn put(api: &Api, token: Option<&str>, path: &str, body: Value) -> reqwest::Response {
    let mut req = api.http.put(format!("{}{path}", api.base)).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

async fn set_policy(api: &Api, admin: &str, body: Value) -> Value {
    let res = put(
        api,
        Some(admin),
        "/api/v1/admin/lifecycle-policy",
        body.clone(),
    )
    .await;
    assert_eq!(res.status(), 200, "PUT policy {body}");
    res.json().await.unwrap()
}

fn millis(rfc3339: &Value) -> i64 {
    to_millis(
        time::OffsetDateTime::parse(
            rfc3339.as_str().expect("a time"),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap(),
    )
}

fn now_ms() -> i64 {
    to_millis(time::OffsetDateTime::now_utc())
}

fn in_days(days: i64) -> String {
    from_millis(now_ms() + days * DAY_MS)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// (actor_user_id, action) of the audit records about `target_type`, oldest first.
async fn audit_of(server: &TestServer, target_type: &str) -> Vec<(Option<i64>, String)> {
    const SQL: &str =
        "SELECT actor_user_id, action FROM audit_log WHERE target_type = $1 ORDER BY id";
    match &server.state.db {
        keyport::db::Db::Sqlite(p) => sqlx::query_as(SQL)
            .bind(target_type)
            .fetch_all(p)
            .await
            .unwrap(),
        keyport::db::Db::Postgres(p) => sqlx::query_as(SQL)
            .bind(target_type)
            .fetch_all(p)
            .await
            .unwrap(),
    }
}

#[tokio::test]
async fn admins_alone_read_and_set_the_policy_and_bad_input_is_refused() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    let user = user_token(&api, "plain@example.com").await;
    let path = "/api/v1/admin/lifecycle-policy";

    let initial = get_json(&api, &admin, path).await;
    assert_eq!(initial["warning_days"], json!([30, 7, 1]));
    assert_eq!(initial["expiry_required"], false);
    assert_eq!(initial["max_lifetime_days"], Value::Null);
    assert_eq!(initial["unused_keys"], Value::Null);

    let saved = set_policy(
        &api,
        &admin,
        json!({"max_lifetime_days": 365, "default_expiry_days": 90, "expiry_required": true,
               "warning_days": [1, 14], "unused_keys": {"after_days": 60, "action": "disable"}}),
    )
    .await;
    assert_eq!(
        saved["warning_days"],
        json!([14, 1]),
        "sorted, longest first"
    );
    assert_eq!(
        saved["unused_keys"],
        json!({"after_days": 60, "action": "disable"})
    );
    assert!(saved["updated_by"].is_i64() && saved["updated_at"].is_string());
    assert_eq!(get_json(&api, &admin, path).await, saved);
    // The lead's expiry scan reads the same policy.
    let current = lifecycle::current_policy(&server.state.db).await.unwrap();
    assert_eq!(current.warning_days, vec![14, 1]);
    // PUT replaces: absent fields take their defaults.
    let reset = set_policy(&api, &admin, json!({})).await;
    assert_eq!(
        (
            reset["warning_days"].clone(),
            reset["max_lifetime_days"].clone()
        ),
        (json!([30, 7, 1]), Value::Null)
    );

    // Everyone else: 401 without credentials, 403 for a user, whatever they send.
    expect_error(api.get(path, None).await, 401, "UNAUTHORIZED").await;
    expect_error(api.get(path, Some(&user)).await, 403, "FORBIDDEN").await;
    expect_error(put(&api, None, path, json!({})).await, 401, "UNAUTHORIZED").await;
    expect_error(
        put(&api, Some(&user), path, json!({"expiry_required": true})).await,
        403,
        "FORBIDDEN",
    )
    .await;
    expect_error(
        put(&api, Some(&user), path, json!({"expiry_required": "x"})).await,
        403,
        "FORBIDDEN",
    )
    .await;

    for (body, field) in [
        (json!({"max_lifetime_days": 0}), "body.max_lifetime_days"),
        (json!({"max_lifetime_days": 3651}), "body.max_lifetime_days"),
        (json!({"max_lifetime_days": "30"}), "body.max_lifetime_days"),
        (
            json!({"max_lifetime_days": 1e300}),
            "body.max_lifetime_days",
        ),
        (
            json!({"max_lifetime_days": 10, "default_expiry_days": 11}),
            "body.default_expiry_days",
        ),
        (
            json!({"default_expiry_days": -5}),
            "body.default_expiry_days",
        ),
        (json!({"expiry_required": "yes"}), "body.expiry_required"),
        (json!({"warning_days": [30, 30]}), "body.warning_days"),
        (json!({"warning_days": [0]}), "body.warning_days"),
        (json!({"warning_days": [366]}), "body.warning_days"),
        (
            json!({"warning_days": [1, 2, 3, 4, 5, 6]}),
            "body.warning_days",
        ),
        (json!({"warning_days": ["7"]}), "body.warning_days"),
        (
            json!({"unused_keys": {"after_days": 0, "action": "flag"}}),
            "body.unused_keys.after_days",
        ),
        (
            json!({"unused_keys": {"after_days": 5, "action": "delete"}}),
            "body.unused_keys",
        ),
        (
            json!({"unused_keys": {"after_days": 5}}),
            "body.unused_keys",
        ),
        (json!({"org_id": 1}), "body"),
        (json!([1, 2]), "body"),
    ] {
        let fields = error_fields(put(&api, Some(&admin), path, body.clone()).await).await;
        assert!(
            fields.iter().any(|f| f.starts_with(field)),
            "{body} should name {field}, got {fields:?}"
        );
    }
    let res = api
        .http
        .put(format!("{}{path}", api.base))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{\"max_lifetime_days\": ")
        .send()
        .await
        .unwrap();
    expect_error(res, 400, "INVALID_JSON").await;
    let huge = json!({"warning_days": [1], "pad": "x".repeat(2 << 20)});
    expect_error(
        put(&api, Some(&admin), path, huge).await,
        413,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    // Nothing refused was written: the last saved policy stands, and two changes were audited.
    assert_eq!(get_json(&api, &admin, path).await, reset);
    let audit = audit_of(&server, "lifecycle_policy").await;
    assert_eq!(audit.len(), 2);
    assert!(
        audit
            .iter()
            .all(|(actor, action)| actor.is_some() && action == "lifecycle_policy.updated")
    );
}

#[tokio::test]
async fn the_policy_governs_create_edit_and_rotate() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    let user = user_token(&api, "owner@example.com").await;
    let other = user_token(&api, "other@example.com").await;

    // "Expiry required" without a default: a create without expiry is refused, clearly.
    let free = create(&api, &user, json!({"name": "before the policy"})).await;
    assert_eq!(free["expires_at"], Value::Null);
    set_policy(&api, &admin, json!({"expiry_required": true})).await;
    let body = expect_error(
        api.post_auth("/api/v1/keys", &user, json!({"name": "no expiry"}))
            .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "body.expires_at");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("lifecycle policy requires"),
        "{body}"
    );
    let res = api
        .post_auth(
            "/api/v1/keys",
            &user,
            json!({"name": "null expiry", "expires_at": null}),
        )
        .await;
    assert_eq!(error_fields(res).await, ["body.expires_at"]);
    // A key made before the policy has no expiry: rotating it is refused until it gets one,
    // and clearing an expiry is refused.
    let free_id = free["id"].as_i64().unwrap();
    let res = api
        .post_auth(&format!("/api/v1/keys/{free_id}/rotate"), &user, json!({}))
        .await;
    assert_eq!(error_fields(res).await, ["body.expires_at"]);
    let res = patch(
        &api,
        &user,
        &format!("/api/v1/keys/{free_id}"),
        json!({"expires_at": null}),
    )
    .await;
    assert_eq!(error_fields(res).await, ["body.expires_at"]);
    // Other fields of such a key can still be edited.
    let res = patch(
        &api,
        &user,
        &format!("/api/v1/keys/{free_id}"),
        json!({"name": "renamed"}),
    )
    .await;
    assert_eq!(res.status(), 200);

    // Default expiry and maximum lifetime.
    set_policy(
        &api,
        &admin,
        json!({"max_lifetime_days": 30, "default_expiry_days": 10, "expiry_required": true}),
    )
    .await;
    let before = now_ms();
    let k = create(&api, &user, json!({"name": "defaulted"})).await;
    let after = now_ms();
    let exp = millis(&k["expires_at"]);
    assert!(
        exp >= before + 10 * DAY_MS - 1000 && exp <= after + 10 * DAY_MS,
        "default expiry of 10 days: {}",
        k["expires_at"]
    );
    let res = api
        .post_auth(
            "/api/v1/keys",
            &user,
            json!({"name": "too long", "expires_at": in_days(31)}),
        )
        .await;
    let body = expect_error(res, 422, "VALIDATION_ERROR").await;
    assert_eq!(body["errors"][0]["field"], "body.expires_at");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("30 days")
    );
    let ok = create(
        &api,
        &user,
        json!({"name": "explicit", "expires_at": in_days(20)}),
    )
    .await;
    let id = ok["id"].as_i64().unwrap();
    let created = millis(&ok["created_at"]);

    // PATCH expires_at: at most 30 days after creation, never null.
    let key_path = format!("/api/v1/keys/{id}");
    let beyond = from_millis(created + 30 * DAY_MS + 60_000)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    for body in [json!({"expires_at": beyond}), json!({"expires_at": null})] {
        let res = patch(&api, &user, &key_path, body.clone()).await;
        assert_eq!(error_fields(res).await, ["body.expires_at"], "{body}");
    }
    let res = patch(&api, &user, &key_path, json!({"expires_at": in_days(25)})).await;
    assert_eq!(res.status(), 200);
    // Someone else's key answers 404 before any policy talk.
    expect_error(
        patch(&api, &other, &key_path, json!({"expires_at": in_days(5)})).await,
        404,
        "NOT_FOUND",
    )
    .await;

    // Rotation: the successor keeps the predecessor's expiry, capped at the maximum from now.
    let res = api
        .post_auth(&format!("{key_path}/rotate"), &user, json!({}))
        .await;
    assert_eq!(res.status(), 201);
    let successor: Value = res.json().await.unwrap();
    let old_exp = millis(&get_json(&api, &user, &key_path).await["expires_at"].clone());
    assert_eq!(millis(&successor["expires_at"]), old_exp);
    set_policy(&api, &admin, json!({"max_lifetime_days": 5})).await;
    let succ_id = successor["id"].as_i64().unwrap();
    let before = now_ms();
    let res = api
        .post_auth(&format!("/api/v1/keys/{succ_id}/rotate"), &user, json!({}))
        .await;
    assert_eq!(res.status(), 201);
    let third: Value = res.json().await.unwrap();
    let exp = millis(&third["expires_at"]);
    assert!(
        exp >= before + 5 * DAY_MS - 1000 && exp <= now_ms() + 5 * DAY_MS,
        "capped at 5 days: {}",
        third["expires_at"]
    );
    // With only a maximum lifetime, a key sent without expiry gets the maximum.
    let k = create(&api, &user, json!({"name": "max only"})).await;
    assert!(millis(&k["expires_at"]) <= now_ms() + 5 * DAY_MS);
}

async fn create_template(api: &Api, admin: &str, body: Value) -> Value {
    let res = api
        .post_auth("/api/v1/key-templates", admin, body.clone())
        .await;
    assert_eq!(res.status(), 201, "create template {body}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn templates_fill_what_a_create_leaves_out_and_name_keys() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    let user = user_token(&api, "ada.l@example.com").await;
    let tickets = create_api(
        &api,
        &admin,
        json!({"name": "Tickets", "slug": "tickets", "upstream_url": "https://t.example.com"}),
    )
    .await;
    let t = create_template(
        &api,
        &admin,
        json!({"name": "CI deploy", "description": "For pipelines", "scopes": ["deploy:write", "read"],
               "tags": ["ci"], "rate_limits": [{"name": "default", "limit": 10, "window": "second"}],
               "quota": {"period": "month", "limit": 1000}, "remaining": 500,
               "refill": {"interval": "month", "amount": 500}, "expiry_days": 7, "prefix": "ci",
               "api_id": tickets["id"], "name_template": "{team}-{env}-{date}-{seq}"}),
    )
    .await;
    let tid = t["id"].as_i64().unwrap();
    assert_eq!(t["name_vars"], json!(["env", "team"]));

    // Everyone signed in reads templates; nobody but admins writes them.
    let list = get_json(&api, &user, "/api/v1/key-templates").await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0], t);
    assert_eq!(
        get_json(&api, &user, &format!("/api/v1/key-templates/{tid}")).await,
        t
    );
    expect_error(
        api.get("/api/v1/key-templates", None).await,
        401,
        "UNAUTHORIZED",
    )
    .await;
    expect_error(
        api.post_auth("/api/v1/key-templates", &user, json!({"name": "mine"}))
            .await,
        403,
        "FORBIDDEN",
    )
    .await;
    expect_error(
        patch(
            &api,
            &user,
            &format!("/api/v1/key-templates/{tid}"),
            json!({"name": "x"}),
        )
        .await,
        403,
        "FORBIDDEN",
    )
    .await;
    expect_error(
        delete(&api, &user, &format!("/api/v1/key-templates/{tid}")).await,
        403,
        "FORBIDDEN",
    )
    .await;

    // A create with the template and name variables: everything comes from the template.
    let today = {
        let d = time::OffsetDateTime::now_utc();
        format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
    };
    let before = now_ms();
    let k = create(
        &api,
        &user,
        json!({"template_id": tid, "name_vars": {"team": "core", "env": "prod"}}),
    )
    .await;
    assert_eq!(k["name"], format!("core-prod-{today}-1"));
    assert!(k["key"].as_str().unwrap().starts_with("ci_"));
    assert_eq!(k["scopes"], json!(["deploy:write", "read"]));
    assert_eq!(k["tags"], json!(["ci"]));
    assert_eq!(k["api_id"], tickets["id"]);
    assert_eq!(k["rate_limits"][0]["limit"], 10);
    assert_eq!(k["quota"]["limit"], 1000);
    assert_eq!(k["remaining"], 500);
    assert_eq!(k["refill"]["amount"], 500);
    let exp = millis(&k["expires_at"]);
    assert!(exp >= before + 7 * DAY_MS - 1000 && exp <= now_ms() + 7 * DAY_MS);
    let k2 = create(
        &api,
        &user,
        json!({"template_id": tid, "name_vars": {"team": "core", "env": "prod"}}),
    )
    .await;
    assert_eq!(
        k2["name"],
        format!("core-prod-{today}-2"),
        "the counter moves"
    );

    // Explicit fields win over the template's.
    let k3 = create(
        &api,
        &user,
        json!({"template_id": tid, "name": "Mine", "scopes": ["other"], "prefix": "own",
               "expires_at": in_days(2), "rate_limits": [], "remaining": 3}),
    )
    .await;
    assert_eq!(k3["name"], "Mine");
    assert_eq!(k3["scopes"], json!(["other"]));
    assert!(k3["key"].as_str().unwrap().starts_with("own_"));
    assert!(millis(&k3["expires_at"]) <= now_ms() + 2 * DAY_MS);
    assert_eq!(k3["rate_limits"], json!([]));
    assert_eq!(
        (k3["remaining"].clone(), k3["refill"].clone()),
        (json!(3), Value::Null)
    );
    assert_eq!(
        k3["tags"],
        json!(["ci"]),
        "what was left out still comes from it"
    );

    // The lifecycle policy still applies to templated keys: its maximum caps the template.
    set_policy(&api, &admin, json!({"max_lifetime_days": 3})).await;
    let k4 = create(
        &api,
        &user,
        json!({"template_id": tid, "name_vars": {"team": "a", "env": "b"}}),
    )
    .await;
    assert!(millis(&k4["expires_at"]) <= now_ms() + 3 * DAY_MS);
    set_policy(&api, &admin, json!({})).await;

    // Naming mistakes are field errors.
    let plain = create_template(&api, &admin, json!({"name": "Plain", "scopes": ["read"]})).await;
    for (body, fields) in [
        (
            json!({"template_id": tid, "name_vars": {"team": "core"}}),
            vec!["body.name_vars.env"],
        ),
        (
            json!({"template_id": tid, "name_vars": {"team": "a", "env": "b", "zone": "c"}}),
            vec!["body.name_vars.zone"],
        ),
        (
            json!({"template_id": tid, "name_vars": {"team": "a", "env": "b", "</td><script>": "c"}}),
            vec!["body.name_vars"],
        ),
        (
            json!({"template_id": tid, "name_vars": {"team": "{x}", "env": "\u{0007}"}}),
            vec!["body.name_vars.env", "body.name_vars.team"],
        ),
        (
            json!({"template_id": tid}),
            vec!["body.name_vars.env", "body.name_vars.team"],
        ),
        (json!({"template_id": plain["id"]}), vec!["body.name"]),
        (
            json!({"template_id": 999999, "name": "x"}),
            vec!["body.template_id"],
        ),
        (
            json!({"name": "x", "name_vars": {"team": "a"}}),
            vec!["body.name_vars"],
        ),
        (
            json!({"name": "x", "template_id": "1"}),
            vec!["body.template_id"],
        ),
        (
            json!({"name": "x", "name_vars": ["team"]}),
            vec!["body.name_vars"],
        ),
    ] {
        let res = api.post_auth("/api/v1/keys", &user, body.clone()).await;
        assert_eq!(error_fields(res).await, fields, "{body}");
    }
    // Refused creates take no counter value that shows (a failed name check takes none).
    let k5 = create(
        &api,
        &user,
        json!({"template_id": tid, "name_vars": {"team": "core", "env": "dev"}}),
    )
    .await;
    assert!(k5["name"].as_str().unwrap().starts_with("core-dev-"));
}

#[tokio::test]
async fn template_management_and_bad_input() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    let t = create_template(&api, &admin, json!({"name": "Base"})).await;
    let path = format!("/api/v1/key-templates/{}", t["id"]);
    assert_eq!(t["name_template"], Value::Null);
    assert_eq!(t["scopes"], json!([]));

    let res = patch(
        &api,
        &admin,
        &path,
        json!({"scopes": ["read"], "expiry_days": 30, "name_template": "svc-{seq}", "description": "<b>hi</b>"}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let edited: Value = res.json().await.unwrap();
    assert_eq!(edited["name"], "Base", "absent fields are kept");
    assert_eq!(
        edited["description"], "<b>hi</b>",
        "stored as sent, escaped on pages"
    );
    assert_eq!(edited["expiry_days"], 30);
    let res = patch(&api, &admin, &path, json!({"expiry_days": null})).await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["expiry_days"],
        Value::Null
    );

    // Names are unique.
    create_template(&api, &admin, json!({"name": "Other"})).await;
    expect_error(
        api.post_auth("/api/v1/key-templates", &admin, json!({"name": "Base"}))
            .await,
        409,
        "CONFLICT",
    )
    .await;
    expect_error(
        patch(&api, &admin, &path, json!({"name": "Other"})).await,
        409,
        "CONFLICT",
    )
    .await;

    for (body, field) in [
        (json!({}), "body.name"),
        (json!({"name": ""}), "body.name"),
        (json!({"name": 5}), "body.name"),
        (json!({"name": "x".repeat(101)}), "body.name"),
        (
            json!({"name": "n", "name_template": "{Team}"}),
            "body.name_template",
        ),
        (
            json!({"name": "n", "name_template": "{team"}),
            "body.name_template",
        ),
        (
            json!({"name": "n", "name_template": "<script>{}</script>"}),
            "body.name_template",
        ),
        (json!({"name": "n", "expiry_days": 0}), "body.expiry_days"),
        (
            json!({"name": "n", "expiry_days": 99999}),
            "body.expiry_days",
        ),
        (json!({"name": "n", "prefix": "Bad!"}), "body.prefix"),
        (json!({"name": "n", "scopes": ["a b"]}), "body.scopes"),
        (json!({"name": "n", "tags": ["UPPER"]}), "body.tags"),
        (json!({"name": "n", "api_id": 424242}), "body.api_id"),
        (json!({"name": "n", "remaining": -1}), "body.remaining"),
        (
            json!({"name": "n", "rate_limits": [{"name": "d", "limit": 0, "window": "minute"}]}),
            "body.rate_limits",
        ),
        (
            json!({"name": "n", "quota": {"period": "year", "limit": 1}}),
            "body.quota",
        ),
        (json!({"name": "n", "owner": 1}), "body"),
    ] {
        let res = api
            .post_auth("/api/v1/key-templates", &admin, body.clone())
            .await;
        let fields = error_fields(res).await;
        assert!(
            fields.iter().any(|f| f.starts_with(field)),
            "{body} should name {field}, got {fields:?}"
        );
    }
    let res = api
        .http
        .post(format!("{}/api/v1/key-templates", api.base))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    expect_error(res, 400, "INVALID_JSON").await;
    expect_error(
        api.post_auth(
            "/api/v1/key-templates",
            &admin,
            json!({"name": "x".repeat(2 << 20)}),
        )
        .await,
        413,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    for bad in ["/api/v1/key-templates/abc", "/api/v1/key-templates/999999"] {
        expect_error(api.get(bad, Some(&admin)).await, 404, "NOT_FOUND").await;
    }
    expect_error(
        patch(&api, &admin, &path, json!({"name": null})).await,
        422,
        "VALIDATION_ERROR",
    )
    .await;

    assert_eq!(delete(&api, &admin, &path).await.status(), 204);
    expect_error(api.get(&path, Some(&admin)).await, 404, "NOT_FOUND").await;
    expect_error(delete(&api, &admin, &path).await, 404, "NOT_FOUND").await;
    let actions: Vec<String> = audit_of(&server, "key_template")
        .await
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    assert_eq!(
        actions,
        [
            "key_template.created",
            "key_template.updated",
            "key_template.updated",
            "key_template.created",
            "key_template.deleted"
        ]
    );
}

#[tokio::test]
async fn unused_keys_are_flagged_once_or_disabled_at_the_exact_day() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    let user = user_token(&api, "idle@example.com").await;
    let s = &server.state;
    let scan = |at: i64| lifecycle::scan_unused(s, from_millis(at));

    let k = create(&api, &user, json!({"name": "idle"})).await;
    let id = k["id"].as_i64().unwrap();
    let key = k["key"].as_str().unwrap().to_string();
    let created = keyport::db::keys::find(&s.db, id)
        .await
        .unwrap()
        .unwrap()
        .created_at;
    // No rule: nothing happens.
    assert_eq!(scan(created + 400 * DAY_MS).await.unwrap(), 0);
    set_policy(
        &api,
        &admin,
        json!({"unused_keys": {"after_days": 30, "action": "flag"}}),
    )
    .await;
    // Never used: counted from creation, to the millisecond.
    assert_eq!(scan(created + 30 * DAY_MS - 1).await.unwrap(), 0);
    assert_eq!(scan(created + 30 * DAY_MS).await.unwrap(), 1);
    // Flagged once: not again, however often the scan runs.
    assert_eq!(scan(created + 30 * DAY_MS).await.unwrap(), 0);
    assert_eq!(scan(created + 90 * DAY_MS).await.unwrap(), 0);
    let flagged = keyport::db::keys::find(&s.db, id).await.unwrap().unwrap();
    assert!(flagged.enabled, "flag only");

    // Used again (day 100): eligible again 30 days after that use.
    let req = VerifyRequest {
        key: key.clone(),
        scopes: vec![],
        endpoint: None,
        ip: None,
        cost: None,
    };
    let used_at = created + 100 * DAY_MS;
    let v = verify::verify_key(&s.key_ctx(), &req, None, used_at)
        .await
        .unwrap();
    assert_eq!(v.response.code, verify::VerifyCode::Valid);
    // The use sits in memory; the scan writes it before looking.
    assert_eq!(scan(used_at + 30 * DAY_MS - 1).await.unwrap(), 0);
    assert_eq!(scan(used_at + 30 * DAY_MS).await.unwrap(), 1);

    // Disable: a second, never-used key is disabled by the system.
    let k2 = create(&api, &user, json!({"name": "forgotten"})).await;
    let id2 = k2["id"].as_i64().unwrap();
    let key2 = k2["key"].as_str().unwrap().to_string();
    let created2 = keyport::db::keys::find(&s.db, id2)
        .await
        .unwrap()
        .unwrap()
        .created_at;
    set_policy(
        &api,
        &admin,
        json!({"unused_keys": {"after_days": 10, "action": "disable"}}),
    )
    .await;
    assert_eq!(
        scan(created2 + 10 * DAY_MS).await.unwrap(),
        1,
        "only k2: k was flagged"
    );
    assert_eq!(code_of(&api, &key2).await, "API_KEY_DISABLED");
    assert_eq!(
        get_json(&api, &user, &format!("/api/v1/keys/{id2}")).await["status"],
        "disabled"
    );
    assert_eq!(scan(created2 + 20 * DAY_MS).await.unwrap(), 0);
    // Revoked and expired keys are left alone.
    let k3 = create(&api, &user, json!({"name": "gone"})).await;
    api.post_auth(
        &format!("/api/v1/keys/{}/revoke", k3["id"]),
        &user,
        json!({}),
    )
    .await;
    let k4 = create(
        &api,
        &user,
        json!({"name": "ending", "expires_at": in_days(1)}),
    )
    .await;
    let _ = k4;
    assert_eq!(scan(now_ms() + 50 * DAY_MS).await.unwrap(), 0);

    let audit = audit_of(&server, "api_key").await;
    let system: Vec<&str> = audit
        .iter()
        .filter(|(actor, _)| actor.is_none())
        .map(|(_, a)| a.as_str())
        .collect();
    assert_eq!(system, ["key.unused", "key.unused", "key.disabled"]);
    // Each raised its event for the owner (notices, mail and webhooks follow from it).
    const SQL: &str = "SELECT kind, subject_id FROM events WHERE kind IN ('key.unused', 'key.disabled') ORDER BY id";
    let events: Vec<(String, Option<i64>)> = match &s.db {
        keyport::db::Db::Sqlite(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
        keyport::db::Db::Postgres(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
    };
    assert_eq!(
        events,
        [
            ("key.unused".to_string(), Some(id)),
            ("key.unused".to_string(), Some(id)),
            ("key.disabled".to_string(), Some(id2))
        ]
    );
}
