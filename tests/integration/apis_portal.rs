//! The API registry in the portal, as a browser without JavaScript uses it.

use crate::apis::{admin_token, create_api, get_json, tickets};
use crate::harness::*;
use serde_json::json;

async fn sign_in(browser: &Browser, email: &str, password: &str) {
    let res = browser
        .form("/sfn/login", &[("email", email), ("password", password)])
        .await;
    assert_eq!(location(&res), "/dashboard");
}

fn api_form<'a>(name: &'a str, slug: &'a str, limit: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("slug", slug),
        ("description", ""),
        ("upstream_url", "https://portal.example.com/v1"),
        ("timeout_ms", "30000"),
        ("limit_row", "1"),
        ("rate_limit", limit),
        ("rate_window", "minute"),
        ("rate_burst", ""),
        ("enabled", "on"),
    ]
}

#[tokio::test]
async fn admins_manage_apis_in_the_portal() {
    let server = TestServer::start().await;
    let admin = server.browser();
    sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let html = admin.get("/apis").await.text().await.unwrap();
    assert!(html.contains("No APIs yet"));
    assert!(
        html.contains("action=\"/sfn/create_api\""),
        "admins get the create form"
    );
    assert!(html.contains("href=\"/apis\""), "nav link");
    assert!(html.contains("<label for=\"api-slug\""), "labelled fields");

    let res = admin
        .form("/sfn/create_api", &api_form("Portal API", "portal", "60"))
        .await;
    assert_eq!(location(&res), "/apis?created=1");
    let html = admin.get("/apis?created=1").await.text().await.unwrap();
    assert!(html.contains("API added."));
    let table = &html[html.find("<table").expect("a table of APIs")..];
    assert!(table.contains("Portal API") && table.contains("/gw/portal/"));
    assert!(table.contains("https://portal.example.com/v1") && table.contains("60 / minute"));

    let api = server.api();
    let token = admin_token(&api).await;
    let listed = get_json(&api, &token, "/api/v1/apis").await;
    let created = &listed["items"][0];
    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        created["default_rate_limits"],
        json!([{"name": "default", "limit": 60, "window": "minute", "burst": 0}])
    );
    assert_eq!(created["enabled"], true);

    // Bad input comes back as an error and creates nothing.
    let res = admin
        .form("/sfn/create_api", &api_form("Second", "Bad Slug", ""))
        .await;
    assert!(location(&res).contains("__err="));
    let res = admin
        .form("/sfn/create_api", &api_form("Dup", "portal", ""))
        .await;
    assert!(location(&res).contains("__err="));
    assert_eq!(get_json(&api, &token, "/api/v1/apis").await["total"], 1);

    // Edit: the detail page shows the form filled in; clearing the limit removes it and an
    // unchecked box disables the API.
    let html = admin
        .get(&format!("/apis/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("action=\"/sfn/update_api\"") && html.contains("value=\"portal\""));
    let id_text = id.to_string();
    let mut edit = api_form("Portal API v2", "portal-v2", "");
    edit.retain(|(k, _)| *k != "enabled");
    edit.push(("id", &id_text));
    let res = admin.form("/sfn/update_api", &edit).await;
    assert_eq!(location(&res), format!("/apis/{id}?saved=1"));
    let got = get_json(&api, &token, &format!("/api/v1/apis/{id}")).await;
    assert_eq!(
        (got["name"].as_str(), got["slug"].as_str()),
        (Some("Portal API v2"), Some("portal-v2"))
    );
    assert_eq!(
        (got["default_rate_limits"].clone(), got["enabled"].clone()),
        (json!([]), json!(false))
    );

    // Limits the one-row form cannot show are kept by it.
    let two = json!({"default_rate_limits": [{"name": "burst", "limit": 10, "window": "second"},
                                               {"name": "daily", "limit": 5000, "window": "day"}]});
    assert_eq!(
        patch(&api, &token, &format!("/api/v1/apis/{id}"), two)
            .await
            .status(),
        200
    );
    let html = admin
        .get(&format!("/apis/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("name=\"rate_limit\"") && html.contains("they are kept"));
    let keep: Vec<(&str, &str)> = edit
        .iter()
        .copied()
        .filter(|(k, _)| !k.starts_with("rate_") && *k != "limit_row")
        .collect();
    admin.form("/sfn/update_api", &keep).await;
    let got = get_json(&api, &token, &format!("/api/v1/apis/{id}")).await;
    assert_eq!(got["default_rate_limits"].as_array().unwrap().len(), 2);

    // Delete sits behind a confirmation step.
    let html = admin
        .get(&format!("/apis/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<details class=\"confirm\"") && html.contains("action=\"/sfn/delete_api\"")
    );
    let res = admin.form("/sfn/delete_api", &[("id", &id_text)]).await;
    assert_eq!(location(&res), "/apis?deleted=1");
    assert!(
        admin
            .get("/apis?deleted=1")
            .await
            .text()
            .await
            .unwrap()
            .contains("API deleted.")
    );
    assert_eq!(admin.get(&format!("/apis/{id}")).await.status(), 404);
    assert_eq!(get_json(&api, &token, "/api/v1/apis").await["total"], 0);
}

#[tokio::test]
async fn users_see_apis_in_the_portal_but_cannot_change_them() {
    let server = TestServer::start().await;
    let api = server.api();
    let token = admin_token(&api).await;
    let created = create_api(&api, &token, tickets()).await;
    let id = created["id"].as_i64().unwrap().to_string();

    let anonymous = server.browser();
    let res = anonymous.get("/apis").await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (302, "/login?next=/apis".to_string())
    );

    let user = server.browser();
    let res = user
        .form(
            "/sfn/register",
            &[
                ("name", "Dev"),
                ("email", "dev-portal@example.com"),
                ("password", "dev-password-1"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/dashboard");
    let html = user.get("/apis").await.text().await.unwrap();
    assert!(html.contains("Tickets") && html.contains("/gw/tickets/"));
    assert!(
        !html.contains("/sfn/create_api") && !html.contains("Add API"),
        "no create form for users"
    );
    let html = user.get(&format!("/apis/{id}")).await.text().await.unwrap();
    assert!(html.contains("https://tickets.example.com/v2"));
    assert!(!html.contains("/sfn/update_api") && !html.contains("/sfn/delete_api"));

    // The server functions refuse too.
    let res = user
        .form("/sfn/create_api", &api_form("Mine", "mine", ""))
        .await;
    assert!(location(&res).contains("__err="));
    let mut edit = api_form("Stolen", "stolen", "");
    edit.push(("id", &id));
    assert!(location(&user.form("/sfn/update_api", &edit).await).contains("__err="));
    assert!(location(&user.form("/sfn/delete_api", &[("id", &id)]).await).contains("__err="));
    assert_eq!(
        get_json(&api, &token, &format!("/api/v1/apis/{id}")).await,
        created
    );
    assert_eq!(get_json(&api, &token, "/api/v1/apis").await["total"], 1);
}
