//! The lifecycle pages without JavaScript: the policy form, key templates (create, edit,
//! delete), and a key created on /keys/new from a template chosen with a plain GET.

use crate::apis::{admin_token, get_json};
use crate::harness::*;
use keyport::domain::lifecycle;
use serde_json::json;

#[tokio::test]
async fn admins_set_the_policy_and_templates_and_users_create_keys_from_them() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin = signed_in_browser(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let html = page_html(&admin, "/admin").await;
    assert!(html.contains("/admin/lifecycle") && html.contains("/admin/key-templates"));
    let html = page_html(&admin, "/admin/lifecycle").await;
    assert!(html.contains("Key lifecycle policy") && html.contains("30, 7, 1"));

    let res = admin
        .form(
            "/sfn/save_lifecycle_policy",
            &[
                ("max_lifetime_days", "60"),
                ("default_expiry_days", "30"),
                ("expiry_required", "on"),
                ("warning_days", "14, 2"),
                ("unused_days", "90"),
                ("unused_action", "disable"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/admin/lifecycle?saved=1");
    let p = lifecycle::current_policy(&server.state.db).await.unwrap();
    assert_eq!(
        (
            p.max_lifetime_days,
            p.default_expiry_days,
            p.expiry_required
        ),
        (Some(60), Some(30), true)
    );
    assert_eq!(p.warning_days, vec![14, 2]);
    assert_eq!(p.unused_keys.map(|r| r.after_days), Some(90));
    // Bad numbers come back as errors, nothing saved.
    let res = admin
        .form(
            "/sfn/save_lifecycle_policy",
            &[("max_lifetime_days", "lots"), ("warning_days", "0")],
        )
        .await;
    assert!(location(&res).contains("__err="));
    assert_eq!(
        lifecycle::current_policy(&server.state.db)
            .await
            .unwrap()
            .max_lifetime_days,
        Some(60)
    );

    let html = page_html(&admin, "/admin/key-templates").await;
    assert!(html.contains("No key templates yet"));
    let res = admin
        .form(
            "/sfn/save_key_template",
            &[
                ("name", "<script>alert(1)</script> CI"),
                ("scopes", "deploy:write read"),
                ("tags", "ci"),
                ("name_template", "{team}-{seq}"),
                ("expiry_days", "7"),
                ("prefix", "ci"),
                ("rate_limit", "10"),
                ("rate_window", "second"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/admin/key-templates?created=1");
    let html = page_html(&admin, "/admin/key-templates").await;
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; CI"));
    assert!(!html.contains("<script>alert(1)"));
    let token = admin_token(&api).await;
    let list = get_json(&api, &token, "/api/v1/key-templates").await;
    let t = &list["items"][0];
    let tid = t["id"].as_i64().unwrap().to_string();
    assert_eq!(t["rate_limits"][0]["limit"], 10);
    // A bad naming template is refused with the field named.
    let res = admin
        .form(
            "/sfn/save_key_template",
            &[("name", "Broken"), ("name_template", "{Team}")],
        )
        .await;
    assert!(location(&res).contains("__err="));

    // A user picks the template with a GET; the form comes pre-filled.
    let user = server.browser();
    let res = user
        .form(
            "/sfn/register",
            &[
                ("name", "Dev"),
                ("email", "dev-lc@example.com"),
                ("password", "dev-password-1"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/dashboard");
    let html = page_html(&user, "/keys/new").await;
    assert!(html.contains("Start from a template"));
    let html = page_html(&user, &format!("/keys/new?template={tid}")).await;
    assert!(html.contains(&format!("name=\"template_id\" value=\"{tid}\"")));
    assert!(html.contains("deploy:write read") && html.contains("name_vars"));
    assert!(html.contains("Lifecycle policy: keys live at most 60 days"));
    // Admin pages stay closed to users.
    for path in ["/admin/lifecycle", "/admin/key-templates"] {
        let res = user.get(path).await;
        assert_eq!(res.status(), 403, "{path}");
        assert!(!res.text().await.unwrap().contains("/sfn/save_"));
    }
    let res = user
        .form("/sfn/save_lifecycle_policy", &[("max_lifetime_days", "1")])
        .await;
    assert!(location(&res).contains("__err="));
    assert!(
        location(&user.form("/sfn/delete_key_template", &[("id", &tid)]).await).contains("__err=")
    );

    let res = user
        .form(
            "/sfn/create_key",
            &[
                ("name", ""),
                ("template_id", &tid),
                ("name_vars", "team=core"),
                ("scopes", "deploy:write read"),
                ("tags", "ci"),
                ("rate_limit", "10"),
                ("rate_window", "second"),
                ("expires_on", ""),
            ],
        )
        .await;
    let to = location(&res);
    assert!(to.starts_with("/keys/") && to.contains("?reveal="), "{to}");
    let id: i64 = to
        .trim_start_matches("/keys/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let (user_token, _) = api.login("dev-lc@example.com", "dev-password-1").await;
    let key = get_json(&api, &user_token, &format!("/api/v1/keys/{id}")).await;
    assert_eq!(key["name"], "core-1");
    assert_eq!(key["prefix"], "ci");
    assert!(key["expires_at"].is_string(), "the template's 7 days");
    // Missing variables come back as errors.
    let res = user
        .form(
            "/sfn/create_key",
            &[("name", ""), ("template_id", &tid), ("name_vars", "")],
        )
        .await;
    assert!(location(&res).contains("__err="));

    // Edit and delete (confirmed on the page).
    let html = page_html(&admin, &format!("/admin/key-templates/{tid}")).await;
    assert!(html.contains("Delete template") && html.contains("<details"));
    let res = admin
        .form(
            "/sfn/save_key_template",
            &[("id", &tid), ("name", "CI"), ("scopes", "read")],
        )
        .await;
    assert_eq!(
        location(&res),
        format!("/admin/key-templates/{tid}?saved=1")
    );
    let t = get_json(&api, &token, &format!("/api/v1/key-templates/{tid}")).await;
    assert_eq!(
        (t["name"].clone(), t["scopes"].clone()),
        (json!("CI"), json!(["read"]))
    );
    let res = admin
        .form("/sfn/delete_key_template", &[("id", &tid)])
        .await;
    assert_eq!(location(&res), "/admin/key-templates?deleted=1");
    assert_eq!(
        get_json(&api, &token, "/api/v1/key-templates").await["total"],
        0
    );
}
