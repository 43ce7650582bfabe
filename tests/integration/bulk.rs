//! Bulk key operations over REST: per-item results, audit rows, dry runs, filter selection,
//! bad input, and what a viewer may not do.

use crate::harness::{TestServer, code_of, create, expect_error, set_role, user_token};
use serde_json::{Value, json};

async fn count(server: &TestServer, sql: &str) -> i64 {
    match &server.state.db {
        keyport::db::Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        keyport::db::Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

async fn bulk(api: &crate::harness::Api, token: &str, body: Value) -> Value {
    let res = api.post_auth("/api/v1/keys/bulk", token, body).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn codes(out: &Value) -> Vec<(i64, Option<String>)> {
    out["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_i64().unwrap(),
                r["error_code"].as_str().map(str::to_string),
            )
        })
        .collect()
}

#[tokio::test]
async fn bulk_revoke_mixes_valid_foreign_and_missing_ids() {
    let server = TestServer::start().await;
    let api = server.api();
    let alice = user_token(&api, "alice-bulk@example.com").await;
    let bob = user_token(&api, "bob-bulk@example.com").await;
    let a1 = create(&api, &alice, json!({"name": "a1"})).await;
    let a2 = create(&api, &alice, json!({"name": "a2"})).await;
    let b1 = create(&api, &bob, json!({"name": "b1"})).await;
    let (a1_id, a2_id, b1_id) = (
        a1["id"].as_i64().unwrap(),
        a2["id"].as_i64().unwrap(),
        b1["id"].as_i64().unwrap(),
    );
    assert_eq!(code_of(&api, a1["key"].as_str().unwrap()).await, "VALID");

    // A dry run answers what would change and writes nothing.
    let preview = bulk(
        &api,
        &alice,
        json!({"action": "revoke", "ids": [a1_id, b1_id, 999999, a2_id], "dry_run": true}),
    )
    .await;
    assert_eq!(preview["dry_run"], true);
    assert!(preview["operation_id"].is_null());
    assert_eq!(
        preview["results"][0]["change"], "status: active → revoked",
        "{preview}"
    );
    let audits_before = count(
        &server,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'key.revoked'",
    )
    .await;
    assert_eq!(audits_before, 0);
    assert_eq!(code_of(&api, a1["key"].as_str().unwrap()).await, "VALID");

    let out = bulk(
        &api,
        &alice,
        json!({"action": "revoke", "ids": [a1_id, b1_id, 999999, a2_id]}),
    )
    .await;
    assert_eq!(
        codes(&out),
        vec![
            (a1_id, None),
            (b1_id, Some("NOT_FOUND".into())),
            (999999, Some("NOT_FOUND".into())),
            (a2_id, None),
        ]
    );
    // Bob's key's name is not leaked.
    assert!(out["results"][1].get("name").is_none());
    let op = out["operation_id"].as_i64().unwrap();
    // One audit row per changed item, each naming the operation; revoked keys fail at once.
    let audits = count(
        &server,
        &format!("SELECT COUNT(*) FROM audit_log WHERE action = 'key.revoked' AND new_values LIKE '%\"bulk_operation_id\":{op}%'"),
    )
    .await;
    assert_eq!(audits, 2);
    assert_eq!(
        code_of(&api, a1["key"].as_str().unwrap()).await,
        "API_KEY_REVOKED"
    );
    assert_eq!(
        code_of(&api, a2["key"].as_str().unwrap()).await,
        "API_KEY_REVOKED"
    );
    assert_eq!(code_of(&api, b1["key"].as_str().unwrap()).await, "VALID");

    // Revoking again answers a clear code per item; deleting a revoked key works.
    let again = bulk(&api, &alice, json!({"action": "disable", "ids": [a1_id]})).await;
    assert_eq!(codes(&again), vec![(a1_id, Some("KEY_REVOKED".into()))]);
    let gone = bulk(&api, &alice, json!({"action": "delete", "ids": [a1_id]})).await;
    assert_eq!(codes(&gone), vec![(a1_id, None)]);
    assert_eq!(
        count(
            &server,
            &format!("SELECT COUNT(*) FROM api_keys WHERE id = {a1_id}")
        )
        .await,
        0
    );
    let op_row = count(
        &server,
        &format!("SELECT done FROM bulk_operations WHERE id = {op}"),
    )
    .await;
    assert_eq!(op_row, 2);
    server.stop().await;
}

#[tokio::test]
async fn bulk_extend_tag_untag_and_filter_selection() {
    let server = TestServer::start().await;
    let api = server.api();
    let alice = user_token(&api, "carol-bulk@example.com").await;
    let mut ids = Vec::new();
    for (name, tags) in [
        ("m1", json!(["mobile"])),
        ("m2", json!(["mobile"])),
        ("w1", json!(["web"])),
    ] {
        ids.push(
            create(&api, &alice, json!({"name": name, "tags": tags})).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let out = bulk(
        &api,
        &alice,
        json!({"action": "tag", "ids": ids, "tags": ["beta"]}),
    )
    .await;
    assert!(
        out["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["ok"] == true),
        "{out}"
    );
    let out = bulk(
        &api,
        &alice,
        json!({"action": "untag", "ids": [ids[2]], "tags": ["web"]}),
    )
    .await;
    assert!(out["results"][0]["ok"] == true);
    let out = bulk(
        &api,
        &alice,
        json!({"action": "extend", "ids": [ids[0]], "expires_at": "2099-01-01T00:00:00Z"}),
    )
    .await;
    assert!(out["results"][0]["ok"] == true);
    let k: Value = api
        .get(&format!("/api/v1/keys/{}", ids[0]), Some(&alice))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(k["tags"], json!(["beta", "mobile"]));
    assert!(k["expires_at"].as_str().unwrap().starts_with("2099-01-01"));
    let k: Value = api
        .get(&format!("/api/v1/keys/{}", ids[2]), Some(&alice))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(k["tags"], json!(["beta"]));

    // "All matching this filter": only the mobile keys are disabled.
    let out = bulk(
        &api,
        &alice,
        json!({"action": "disable", "filter": {"tag": "mobile"}}),
    )
    .await;
    let mut got: Vec<i64> = codes(&out).into_iter().map(|(id, _)| id).collect();
    got.sort();
    assert_eq!(got, vec![ids[0], ids[1]]);
    let page: Value = api
        .get("/api/v1/keys?status=disabled", Some(&alice))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 2);
    server.stop().await;
}

#[tokio::test]
async fn bulk_refuses_bad_requests_and_viewers() {
    let server = TestServer::start().await;
    let api = server.api();
    let alice = user_token(&api, "dave-bulk@example.com").await;
    let path = "/api/v1/keys/bulk";
    expect_error(
        api.post_auth(path, &alice, json!({"action": "explode", "ids": [1]}))
            .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    expect_error(
        api.post_auth(path, &alice, json!({"action": "revoke", "ids": "1"}))
            .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    expect_error(
        api.post_auth(path, &alice, json!({"action": "revoke"}))
            .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    expect_error(
        api.post_auth(path, &alice, json!({"action": "extend", "ids": [1]}))
            .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    expect_error(
        api.post_auth(path, &alice, json!({"action": "tag", "ids": [1]}))
            .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    expect_error(
        api.post_auth(
            path,
            &alice,
            json!({"action": "revoke", "filter": {"status": "bogus"}}),
        )
        .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    let many: Vec<i64> = (1..=10_001).collect();
    let body = expect_error(
        api.post_auth(path, &alice, json!({"action": "revoke", "ids": many}))
            .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "body.ids", "{body}");
    let res = api
        .http
        .post(format!("{}{path}", api.base))
        .bearer_auth(&alice)
        .header("content-type", "application/json")
        .body("{\"action\": ")
        .send()
        .await
        .unwrap();
    expect_error(res, 400, "INVALID_JSON").await;
    let key = create(&api, &alice, json!({"name": "mine"})).await;
    set_role(&server, "dave-bulk@example.com", "viewer").await;
    expect_error(
        api.post_auth(
            path,
            &alice,
            json!({"action": "revoke", "ids": [key["id"]]}),
        )
        .await,
        403,
        "FORBIDDEN",
    )
    .await;
    assert_eq!(code_of(&api, key["key"].as_str().unwrap()).await, "VALID");
    server.stop().await;
}

#[tokio::test]
async fn large_background_operations_run_as_a_job_with_progress() {
    let server = TestServer::start().await;
    let api = server.api();
    let alice = user_token(&api, "alice-bg@example.com").await;
    let bob = user_token(&api, "bob-bg@example.com").await;
    let n = keyport::domain::keys::bulk::BACKGROUND_MIN_ITEMS + 1;
    let mut first = None;
    for i in 0..n {
        let k = create(
            &api,
            &alice,
            json!({"name": format!("bg{i}"), "tags": ["bg"]}),
        )
        .await;
        first.get_or_insert(k);
    }
    let first = first.unwrap();
    let key = first["key"].as_str().unwrap();
    // A small selection answers at once, background or not.
    let small = json!({"action": "tag", "ids": [first["id"]], "tags": ["x"], "background": true});
    let out = bulk(&api, &alice, small).await;
    assert!(out.get("queued").is_none() && out["results"][0]["ok"] == true);

    let body = json!({"action": "disable", "filter": {"tag": "bg"}, "background": true});
    let res = api.post_auth("/api/v1/keys/bulk", &alice, body).await;
    assert_eq!(res.status(), 202);
    let out: Value = res.json().await.unwrap();
    assert_eq!(out["queued"], true);
    assert_eq!(out["results"].as_array().unwrap().len(), 0);
    let id = out["operation_id"].as_i64().unwrap();
    let path = format!("/api/v1/keys/bulk/{id}");
    let op: Value = api.get(&path, Some(&alice)).await.json().await.unwrap();
    assert_eq!(
        (op["status"].as_str(), op["total"].as_i64()),
        (Some("queued"), Some(n as i64))
    );
    assert!(op["results"].is_null());
    assert_eq!(
        code_of(&api, key).await,
        "VALID",
        "nothing changed before the job ran"
    );
    // Someone else's operation does not exist for them, over REST and the live stream.
    assert_eq!(api.get(&path, Some(&bob)).await.status(), 404);
    let bob_browser =
        crate::harness::signed_in_browser(&server, "bob-bg@example.com", "long-enough-pw").await;
    let res = bob_browser.get(&format!("/keys/bulk/{id}/live")).await;
    assert_eq!(res.status(), 404);
    let res = bob_browser.get("/keys/bulk/abc/live").await;
    assert_eq!(res.status(), 404);

    crate::harness::run_jobs(&server).await;
    let op: Value = api.get(&path, Some(&alice)).await.json().await.unwrap();
    assert_eq!(op["status"], "done");
    assert_eq!(
        (op["done"].as_i64(), op["failed"].as_i64()),
        (Some(n as i64), Some(0))
    );
    assert_eq!(op["results"].as_array().unwrap().len(), n);
    assert_eq!(code_of(&api, key).await, "API_KEY_DISABLED");
    let audited = count(
        &server,
        &format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'key.disabled' AND new_values LIKE '%\"bulk_operation_id\":{id}%'"
        ),
    )
    .await;
    assert_eq!(audited, n as i64, "every item audited under the operation");
    // The live stream of a finished operation sends its last state and ends.
    let alice_browser =
        crate::harness::signed_in_browser(&server, "alice-bg@example.com", "long-enough-pw").await;
    let res = alice_browser.get(&format!("/keys/bulk/{id}/live")).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(
        text.contains("event: progress") && text.contains("\"status\":\"done\""),
        "{text}"
    );
    server.stop().await;
}
