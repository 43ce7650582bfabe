//! The API registry over REST, as admins, users and scripts use it (the portal's pages are in
//! apis_portal.rs).

use crate::harness::*;
use serde_json::{Value, json};

pub async fn delete(api: &Api, token: &str, path: &str) -> reqwest::Response {
    api.http
        .delete(format!("{}{path}", api.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

pub async fn admin_token(api: &Api) -> String {
    api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.0
}

pub async fn create_api(api: &Api, token: &str, body: Value) -> Value {
    let res = api.post_auth("/api/v1/apis", token, body.clone()).await;
    assert_eq!(res.status(), 201, "create {body}");
    res.json().await.unwrap()
}

pub async fn get_json(api: &Api, token: &str, path: &str) -> Value {
    let res = api.get(path, Some(token)).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

pub fn tickets() -> Value {
    json!({"name": "Tickets", "slug": "tickets", "upstream_url": "https://tickets.example.com/v2"})
}

/// The fields named in a 422 answer.
pub async fn error_fields(res: reqwest::Response) -> Vec<String> {
    let body = expect_error(res, 422, "VALIDATION_ERROR").await;
    body["errors"]
        .as_array()
        .expect("errors[] on a 422")
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

/// (action, target_id, old_values, new_values) of the API audit records, oldest first.
async fn api_audit(
    server: &TestServer,
) -> Vec<(String, Option<i64>, Option<String>, Option<String>)> {
    const SQL: &str = "SELECT action, target_id, old_values, new_values FROM audit_log
                       WHERE target_type = 'api' ORDER BY id";
    match &server.state.db {
        keyport::db::Db::Sqlite(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
        keyport::db::Db::Postgres(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
    }
}

#[tokio::test]
async fn admin_registers_edits_and_deletes_an_api() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    let me = get_json(&api, &admin, "/api/v1/users/me").await;

    let created = create_api(
        &api,
        &admin,
        json!({"name": "  Tickets  ", "slug": "tickets", "description": "Support tickets",
               "upstream_url": "HTTPS://Tickets.Example.com/v2",
               "default_rate_limits": [{"name": "default", "limit": 100, "window": "minute", "burst": 20}]}),
    )
    .await;
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["name"], "Tickets", "trimmed");
    assert_eq!(created["slug"], "tickets");
    assert_eq!(created["upstream_url"], "https://tickets.example.com/v2");
    assert_eq!(created["gateway_path"], "/gw/tickets/");
    assert_eq!(created["timeout_ms"], 30_000);
    assert_eq!(created["enabled"], true);
    assert_eq!(created["created_by"], me["id"]);
    assert_eq!(
        created["default_rate_limits"],
        json!([{"name": "default", "limit": 100, "window": "minute", "burst": 20}])
    );
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        get_json(&api, &admin, &format!("/api/v1/apis/{id}")).await,
        created
    );

    // The gateway's directory sees the API at once, and every change after.
    let s = &server.state;
    let route = s.apis.by_slug(&s.db, "tickets").await.unwrap().unwrap();
    assert_eq!(route.upstream, "https://tickets.example.com/v2");
    assert_eq!(route.default_rates.len(), 1);

    let path = format!("/api/v1/apis/{id}");
    let res = patch(
        &api,
        &admin,
        &path,
        json!({"name": "Helpdesk", "slug": "helpdesk", "description": null, "default_rate_limits": null,
               "timeout_ms": 5000, "enabled": false, "upstream_url": "http://10.0.0.7:8080"}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let edited: Value = res.json().await.unwrap();
    assert_eq!(edited["name"], "Helpdesk");
    assert_eq!(edited["gateway_path"], "/gw/helpdesk/");
    assert_eq!(edited["description"], "");
    assert_eq!(edited["default_rate_limits"], json!([]));
    assert_eq!(edited["timeout_ms"], 5000);
    assert_eq!(edited["enabled"], false);
    assert_eq!(edited["upstream_url"], "http://10.0.0.7:8080/");
    assert_eq!(edited["created_at"], created["created_at"]);
    assert!(s.apis.by_slug(&s.db, "tickets").await.unwrap().is_none());
    let route = s.apis.by_slug(&s.db, "helpdesk").await.unwrap().unwrap();
    assert!(!route.enabled && route.timeout_ms == 5000 && route.default_rates.is_empty());

    // Absent fields keep their values.
    let res = patch(&api, &admin, &path, json!({"enabled": true})).await;
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["name"], "Helpdesk");
    assert_eq!(again["timeout_ms"], 5000);
    assert_eq!(again["enabled"], true);

    assert_eq!(delete(&api, &admin, &path).await.status(), 204);
    expect_error(api.get(&path, Some(&admin)).await, 404, "NOT_FOUND").await;
    expect_error(delete(&api, &admin, &path).await, 404, "NOT_FOUND").await;
    assert!(s.apis.by_slug(&s.db, "helpdesk").await.unwrap().is_none());
    let listed = get_json(&api, &admin, "/api/v1/apis").await;
    assert_eq!(listed["total"], 0);

    // One audit record per change, with the values before and after.
    let audit = api_audit(&server).await;
    let actions: Vec<&str> = audit.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(
        actions,
        ["api.created", "api.disabled", "api.enabled", "api.deleted"]
    );
    assert!(audit.iter().all(|a| a.1 == Some(id)));
    assert!(audit[0].2.is_none() && audit[0].3.as_deref().unwrap().contains("\"tickets\""));
    assert!(audit[1].2.as_deref().unwrap().contains("\"tickets\""));
    assert!(audit[1].3.as_deref().unwrap().contains("\"helpdesk\""));
    assert!(audit[3].3.is_none());
}

#[tokio::test]
async fn only_admins_change_the_registry() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    let user = user_token(&api, "dev@example.com").await;
    api.register("viewer@example.com", "long-enough-pw", "Viewer")
        .await;
    set_role(&server, "viewer@example.com", "viewer").await;
    let (viewer, _) = api.login("viewer@example.com", "long-enough-pw").await;
    let created = create_api(&api, &admin, tickets()).await;
    let path = format!("/api/v1/apis/{}", created["id"]);

    for token in [&user, &viewer] {
        // Reading is for everyone signed in: developers pick an API for their keys.
        assert_eq!(get_json(&api, token, "/api/v1/apis").await["total"], 1);
        assert_eq!(get_json(&api, token, &path).await, created);
        let other =
            json!({"name": "Mine", "slug": "mine", "upstream_url": "https://mine.example.com"});
        expect_error(
            api.post_auth("/api/v1/apis", token, other).await,
            403,
            "FORBIDDEN",
        )
        .await;
        // Refused before the body is even looked at.
        expect_error(
            api.post_auth("/api/v1/apis", token, json!({})).await,
            403,
            "FORBIDDEN",
        )
        .await;
        expect_error(
            patch(
                &api,
                token,
                &path,
                json!({"upstream_url": "https://evil.example.com"}),
            )
            .await,
            403,
            "FORBIDDEN",
        )
        .await;
        expect_error(delete(&api, token, &path).await, 403, "FORBIDDEN").await;
    }
    // A management key may read the registry, but manage:keys is for keys only.
    let manager = create(
        &api,
        &admin,
        json!({"name": "ci", "scopes": ["manage:keys"]}),
    )
    .await["key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(get_json(&api, &manager, &path).await, created);
    expect_error(
        patch(&api, &manager, &path, json!({"enabled": false})).await,
        403,
        "FORBIDDEN",
    )
    .await;
    // Anonymous callers get nothing.
    expect_error(api.get("/api/v1/apis", None).await, 401, "UNAUTHORIZED").await;
    expect_error(api.get(&path, None).await, 401, "UNAUTHORIZED").await;
    expect_error(
        api.post("/api/v1/apis", tickets()).await,
        401,
        "UNAUTHORIZED",
    )
    .await;

    // Nothing changed, and nothing was audited but the admin's create.
    assert_eq!(get_json(&api, &admin, &path).await, created);
    assert_eq!(get_json(&api, &admin, "/api/v1/apis").await["total"], 1);
    assert_eq!(api_audit(&server).await.len(), 1);

    // An admin (not only the super admin) may change it.
    set_role(&server, "dev@example.com", "admin").await;
    let (promoted, _) = api.login("dev@example.com", "long-enough-pw").await;
    let res = patch(&api, &promoted, &path, json!({"name": "Tickets v2"})).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn slugs_are_unique() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    create_api(&api, &admin, tickets()).await;
    let same =
        json!({"name": "Other", "slug": "tickets", "upstream_url": "https://other.example.com"});
    let body = expect_error(
        api.post_auth("/api/v1/apis", &admin, same).await,
        409,
        "SLUG_TAKEN",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("tickets"));
    let other = create_api(
        &api,
        &admin,
        json!({"name": "Other", "slug": "other", "upstream_url": "https://other.example.com"}),
    )
    .await;
    let path = format!("/api/v1/apis/{}", other["id"]);
    expect_error(
        patch(
            &api,
            &admin,
            &path,
            json!({"slug": "tickets", "name": "Renamed"}),
        )
        .await,
        409,
        "SLUG_TAKEN",
    )
    .await;
    let still = get_json(&api, &admin, &path).await;
    assert_eq!(
        (still["slug"].as_str(), still["name"].as_str()),
        (Some("other"), Some("Other"))
    );
    assert_eq!(get_json(&api, &admin, "/api/v1/apis").await["total"], 2);
    // Keeping one's own slug is no conflict.
    assert_eq!(
        patch(&api, &admin, &path, json!({"slug": "other"}))
            .await
            .status(),
        200
    );
    assert_eq!(
        api_audit(&server).await.len(),
        3,
        "refused writes leave no audit record"
    );
}

#[tokio::test]
async fn bad_input_is_refused_field_by_field_and_changes_nothing() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    let with = |patch: Value| {
        let mut body = tickets();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "body.name"),
        (with(json!({"name": ""})), "body.name"),
        (with(json!({"name": "   "})), "body.name"),
        (with(json!({"name": "x".repeat(101)})), "body.name"),
        (with(json!({"name": 5})), "body.name"),
        (with(json!({"slug": ""})), "body.slug"),
        (with(json!({"slug": "-tickets"})), "body.slug"),
        (with(json!({"slug": "tickets-"})), "body.slug"),
        (with(json!({"slug": "Tickets"})), "body.slug"),
        (with(json!({"slug": "tick ets"})), "body.slug"),
        (with(json!({"slug": "tick_ets"})), "body.slug"),
        (with(json!({"slug": "tïckets"})), "body.slug"),
        (with(json!({"slug": "a".repeat(41)})), "body.slug"),
        (with(json!({"slug": ["tickets"]})), "body.slug"),
        (with(json!({"upstream_url": ""})), "body.upstream_url"),
        (
            with(json!({"upstream_url": "tickets.example.com"})),
            "body.upstream_url",
        ),
        (
            with(json!({"upstream_url": "ftp://files.example.com"})),
            "body.upstream_url",
        ),
        (
            with(json!({"upstream_url": "https://user:pass@tickets.example.com"})),
            "body.upstream_url",
        ),
        (
            with(json!({"upstream_url": "https://tickets.example.com/v2?token=x"})),
            "body.upstream_url",
        ),
        (
            with(json!({"upstream_url": "https://tickets.example.com/#frag"})),
            "body.upstream_url",
        ),
        (
            with(json!({"upstream_url": "javascript:alert(1)"})),
            "body.upstream_url",
        ),
        (
            with(json!({"upstream_url": format!("https://example.com/{}", "a".repeat(2100))})),
            "body.upstream_url",
        ),
        (
            with(json!({"description": "d".repeat(1001)})),
            "body.description",
        ),
        (with(json!({"timeout_ms": 99})), "body.timeout_ms"),
        (with(json!({"timeout_ms": 300_001})), "body.timeout_ms"),
        (with(json!({"timeout_ms": -1})), "body.timeout_ms"),
        (with(json!({"timeout_ms": "fast"})), "body.timeout_ms"),
        (with(json!({"timeout_ms": 1.5})), "body.timeout_ms"),
        (with(json!({"timeout_ms": 1e30})), "body.timeout_ms"),
        (with(json!({"enabled": "yes"})), "body.enabled"),
        (
            with(
                json!({"default_rate_limits": [{"name": "default", "limit": 0, "window": "minute"}]}),
            ),
            "body.default_rate_limits[0].limit",
        ),
        (
            with(
                json!({"default_rate_limits": [{"name": "Bad Name", "limit": 5, "window": "minute"}]}),
            ),
            "body.default_rate_limits[0].name",
        ),
        (
            with(
                json!({"default_rate_limits": [{"name": "a", "limit": 1, "window": "second"},
                                                 {"name": "a", "limit": 2, "window": "day"}]}),
            ),
            "body.default_rate_limits[1].name",
        ),
        (
            with(
                json!({"default_rate_limits": [{"name": "default", "limit": 5, "window": "fortnight"}]}),
            ),
            "body.default_rate_limits[0].window",
        ),
        (
            with(
                json!({"default_rate_limits": [{"name": "default", "limit": -5, "window": "minute"}]}),
            ),
            "body.default_rate_limits[0].limit",
        ),
        (
            with(json!({"default_rate_limits": {"name": "default"}})),
            "body.default_rate_limits",
        ),
    ];
    for (body, field) in cases {
        let res = api.post_auth("/api/v1/apis", &admin, body.clone()).await;
        let fields = error_fields(res).await;
        assert!(
            fields.iter().any(|f| f == field),
            "{field} in {fields:?} for {body}"
        );
    }
    // Every problem at once.
    let res = api
        .post_auth(
            "/api/v1/apis",
            &admin,
            json!({"name": "", "slug": "BAD", "upstream_url": "ftp://u:p@x.example/?q", "timeout_ms": 5,
                   "description": "d".repeat(1001),
                   "default_rate_limits": [{"name": "default", "limit": 0, "window": "minute"}]}),
        )
        .await;
    let mut fields = error_fields(res).await;
    fields.dedup();
    assert_eq!(
        fields,
        [
            "body.name",
            "body.slug",
            "body.description",
            "body.upstream_url",
            "body.default_rate_limits[0].limit",
            "body.timeout_ms"
        ]
    );

    let raw = |body: &'static str, content_type: &'static str| {
        api.http
            .post(format!("{}/api/v1/apis", api.base))
            .bearer_auth(&admin)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    expect_error(
        raw("{\"name\":", "application/json").await.unwrap(),
        400,
        "INVALID_JSON",
    )
    .await;
    expect_error(
        raw("name=x", "application/x-www-form-urlencoded")
            .await
            .unwrap(),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    let big = with(json!({"description": "x".repeat(2 * 1024 * 1024)}));
    expect_error(
        api.post_auth("/api/v1/apis", &admin, big).await,
        413,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    assert_eq!(
        get_json(&api, &admin, "/api/v1/apis").await["total"],
        0,
        "no partial writes"
    );

    // Edits: the same rules; null where there is nothing to clear to.
    let created = create_api(&api, &admin, tickets()).await;
    let path = format!("/api/v1/apis/{}", created["id"]);
    for (body, field) in [
        (json!({"name": null}), "body.name"),
        (json!({"slug": null}), "body.slug"),
        (json!({"upstream_url": null}), "body.upstream_url"),
        (json!({"timeout_ms": null}), "body.timeout_ms"),
        (json!({"enabled": null}), "body.enabled"),
        (json!({"slug": "UPPER", "name": "fine"}), "body.slug"),
        (
            json!({"upstream_url": "https://a:b@x.example"}),
            "body.upstream_url",
        ),
        (json!({"timeout_ms": 300_001}), "body.timeout_ms"),
        (
            json!({"default_rate_limits": [{"name": "d", "limit": 1, "window": "minute", "burst": 2_000_000_000}]}),
            "body.default_rate_limits[0].burst",
        ),
    ] {
        let fields = error_fields(patch(&api, &admin, &path, body.clone()).await).await;
        assert!(
            fields.iter().any(|f| f == field),
            "{field} in {fields:?} for {body}"
        );
    }
    assert_eq!(
        get_json(&api, &admin, &path).await,
        created,
        "nothing changed"
    );
    assert_eq!(api_audit(&server).await.len(), 1);

    // Paging and search parameters.
    for query in [
        "?page=0",
        "?per_page=0",
        "?per_page=201",
        "?page=abc",
        "?per_page=1.5",
    ] {
        let res = api.get(&format!("/api/v1/apis{query}"), Some(&admin)).await;
        expect_error(res, 422, "VALIDATION_ERROR").await;
    }
    let long_q = format!("/api/v1/apis?q={}", "q".repeat(201));
    expect_error(
        api.get(&long_q, Some(&admin)).await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
}

#[tokio::test]
async fn hostile_strings_are_kept_as_data() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    let name = "'; DROP TABLE apis; -- \"quoted\" <script>alert(1)</script> Zoë 李 🚀";
    let description = "<img src=x onerror=alert(1)>\nline two\t'\"\\";
    let created = create_api(
        &api,
        &admin,
        json!({"name": name, "slug": "hostile", "description": description,
               "upstream_url": "https://xn--bcher-kva.example/p%C3%A4th/'quote'"}),
    )
    .await;
    assert_eq!(created["name"], name);
    assert_eq!(created["description"], description);
    let got = get_json(&api, &admin, &format!("/api/v1/apis/{}", created["id"])).await;
    assert_eq!(got, created);
    // Wildcards in the search are literal; unicode matches.
    let found = get_json(&api, &admin, "/api/v1/apis?q=%C3%AB%20%E6%9D%8E").await;
    assert_eq!(found["total"], 1);
    let none = get_json(&api, &admin, "/api/v1/apis?q=%25%27%20OR%201%3D1").await;
    assert_eq!(none["total"], 0);
    let none = get_json(&api, &admin, "/api/v1/apis?q=_").await;
    assert_eq!(none["total"], 0);

    // The portal shows it escaped.
    let browser = server.browser();
    browser
        .form(
            "/sfn/login",
            &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        )
        .await;
    let html = browser.get("/apis").await.text().await.unwrap();
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    for path in [
        "/api/v1/apis/999999",
        "/api/v1/apis/abc",
        "/api/v1/apis/99999999999999999999",
    ] {
        expect_error(api.get(path, Some(&admin)).await, 404, "NOT_FOUND").await;
        expect_error(
            patch(&api, &admin, path, json!({"name": "x"})).await,
            404,
            "NOT_FOUND",
        )
        .await;
        expect_error(delete(&api, &admin, path).await, 404, "NOT_FOUND").await;
    }
    assert!(api_audit(&server).await.is_empty());
}

#[tokio::test]
async fn list_pages_by_name_and_searches_name_and_slug() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = admin_token(&api).await;
    for (name, slug) in [
        ("echo", "e-5"),
        ("Alpha", "a-1"),
        ("delta", "payments-d"),
        ("Charlie", "c-3"),
        ("bravo", "b-2"),
    ] {
        create_api(
            &api,
            &admin,
            json!({"name": name, "slug": slug, "upstream_url": "https://up.example.com"}),
        )
        .await;
    }
    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_string())
            .collect()
    };
    let first = get_json(&api, &admin, "/api/v1/apis?per_page=2").await;
    assert_eq!(
        (
            first["total"].as_i64(),
            first["page"].as_i64(),
            first["per_page"].as_i64()
        ),
        (Some(5), Some(1), Some(2))
    );
    assert_eq!(names(&first), ["Alpha", "bravo"], "by name, any case");
    let third = get_json(&api, &admin, "/api/v1/apis?per_page=2&page=3").await;
    assert_eq!(names(&third), ["echo"]);
    let past = get_json(&api, &admin, "/api/v1/apis?per_page=2&page=9").await;
    assert_eq!((names(&past).len(), past["total"].as_i64()), (0, Some(5)));
    let default = get_json(&api, &admin, "/api/v1/apis").await;
    assert_eq!(default["per_page"], 50);

    let by_name = get_json(&api, &admin, "/api/v1/apis?q=CHAR").await;
    assert_eq!(names(&by_name), ["Charlie"]);
    let by_slug = get_json(&api, &admin, "/api/v1/apis?q=payments").await;
    assert_eq!(names(&by_slug), ["delta"]);
    let hyphen = get_json(&api, &admin, "/api/v1/apis?q=-&per_page=3").await;
    assert_eq!(hyphen["total"], 5);
    let empty_q = get_json(&api, &admin, "/api/v1/apis?q=").await;
    assert_eq!(empty_q["total"], 5);
}

#[tokio::test]
async fn openapi_documents_the_registry() {
    let server = TestServer::start().await;
    let doc: Value = server
        .api()
        .get("/api/v1/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    let list = &doc["paths"]["/api/v1/apis"];
    assert!(list["get"].is_object() && list["post"].is_object());
    let one = &doc["paths"]["/api/v1/apis/{id}"];
    assert!(one["get"].is_object() && one["patch"].is_object() && one["delete"].is_object());
    let schemas = &doc["components"]["schemas"];
    for name in ["Api", "ApiPage", "CreateApiInput", "UpdateApiInput"] {
        assert!(schemas[name].is_object(), "{name} schema");
    }
    assert!(schemas["Api"]["properties"]["gateway_path"].is_object());
    assert!(doc.to_string().contains("SLUG_TAKEN"));
}
