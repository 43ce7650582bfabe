//! The admin console's portal pages: /admin/users/{id} with its forms (no JavaScript),
//! /admin/audit and /admin/security with filters in the URL, and who may open them.

use crate::admin_console::root_token;
use crate::harness::*;
use crate::orgs::user_id;
use serde_json::json;

#[tokio::test]
async fn admins_manage_a_user_from_the_portal() {
    let server = TestServer::start().await;
    let api = server.api();
    let root = root_token(&api).await;
    let bob = user_token(&api, "bob@example.com").await;
    let bob_id = user_id(&api, &bob).await;
    let key = create(&api, &bob, json!({"name": "bob's"})).await;
    let key = key["key"].as_str().unwrap().to_string();
    let admin = signed_in_browser(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = format!("/admin/users/{bob_id}");

    let list = page_html(&admin, "/admin?role=user&status=active").await;
    assert!(
        list.contains(&format!("href=\"{page}\"")),
        "rows link to the user"
    );
    let table = &list[list.find("<table").expect("a users table")..];
    assert!(!table.contains(ADMIN_EMAIL), "role filter");
    let none = page_html(&admin, "/admin?status=suspended").await;
    assert!(none.contains("No users match"));
    let html = page_html(&admin, &page).await;
    for text in [
        "bob@example.com",
        "Last sign-in",
        "Two-factor sign-in",
        "1 (1 active)",
        "Suspend…",
        "Save role",
    ] {
        assert!(html.contains(text), "{text} on the user page");
    }
    assert!(html.contains("No admin action has been recorded"));

    let id = bob_id.to_string();
    let reason = "<b>spam</b>";
    let res = admin
        .form(
            "/sfn/admin_suspend_user",
            &[("id", &id), ("reason", reason)],
        )
        .await;
    assert_eq!(location(&res), format!("{page}?done=suspended"));
    assert_eq!(code_of(&api, &key).await, "API_KEY_DISABLED");
    let html = page_html(&admin, &format!("{page}?done=suspended")).await;
    assert!(html.contains("Account suspended"));
    assert!(
        html.contains("&lt;b&gt;spam&lt;/b&gt;"),
        "the reason is escaped"
    );
    assert!(html.contains("user.suspended"), "recent audit records");
    assert!(html.contains("Reactivate account"));
    let suspended = page_html(&admin, "/admin?status=suspended").await;
    assert!(suspended.contains("bob@example.com"));

    let res = admin
        .form("/sfn/admin_reactivate_user", &[("id", &id)])
        .await;
    assert_eq!(location(&res), format!("{page}?done=reactivated"));
    assert_eq!(code_of(&api, &key).await, "VALID");
    let res = admin
        .form("/sfn/admin_change_role", &[("id", &id), ("role", "viewer")])
        .await;
    assert_eq!(location(&res), format!("{page}?done=role"));
    let res = admin
        .form("/sfn/admin_change_role", &[("id", &id), ("role", "god")])
        .await;
    assert!(location(&res).contains("__err="));
    let detail = api
        .get(&format!("/api/v1/admin/users/{bob_id}"), Some(&root))
        .await;
    let detail: serde_json::Value = detail.json().await.unwrap();
    assert_eq!(detail["role"], "viewer");
    assert!(detail["last_sign_in_at"].is_string(), "{detail}");
    // The super admin's own page offers no action on themselves.
    let root_id = user_id(&api, &root).await;
    let own = page_html(&admin, &format!("/admin/users/{root_id}")).await;
    assert!(own.contains("This is your own account") && !own.contains("Save role"));
    let res = admin.get("/admin/users/999999").await;
    assert_eq!(res.status(), 404);

    let audit = page_html(&admin, "/admin/audit?action=user.suspended").await;
    assert!(audit.contains(&format!("user:{bob_id}")));
    assert!(audit.contains("href=\"/api/v1/audit-log/export.csv?action=user.suspended\""));
    assert!(audit.contains("1 record"));
    let filtered = page_html(
        &admin,
        &format!("/admin/audit?target=user:{bob_id}&from=2000-01-01T00:00"),
    )
    .await;
    assert!(filtered.contains("user.role_changed") && filtered.contains("user.reactivated"));
    let empty = page_html(&admin, "/admin/audit?from=2999-01-01T00:00").await;
    assert!(empty.contains("No audit records match"));
    let bad = page_html(&admin, "/admin/audit?from=soon").await;
    assert!(bad.contains("RFC 3339"), "a bad filter says why");
    let events = page_html(&admin, "/admin/security?kind=auth.account_suspended").await;
    assert!(events.contains("bob@example.com") && events.contains("1 event"));
    let none = page_html(&admin, &format!("/admin/security?user={}", bob_id + 100)).await;
    assert!(none.contains("No security events match"));
    server.stop().await;
}

#[tokio::test]
async fn console_pages_are_for_admins_only() {
    let server = TestServer::start().await;
    let api = server.api();
    let bob = user_token(&api, "bob@example.com").await;
    let bob_id = user_id(&api, &bob).await;
    let pages = [
        format!("/admin/users/{bob_id}"),
        "/admin/audit".to_string(),
        "/admin/security".to_string(),
    ];
    let anonymous = server.browser();
    let user = signed_in_browser(&server, "bob@example.com", "long-enough-pw").await;
    user_token(&api, "vera@example.com").await;
    set_role(&server, "vera@example.com", "viewer").await;
    let viewer = signed_in_browser(&server, "vera@example.com", "long-enough-pw").await;
    let admin = signed_in_browser(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for path in &pages {
        let res = anonymous.get(path).await;
        assert!(location(&res).starts_with("/login?next="), "{path}");
        for who in [&user, &viewer] {
            let res = who.get(path).await;
            assert_eq!(res.status(), 403, "{path}");
            assert!(res.text().await.unwrap().contains("Access denied"));
        }
        assert_eq!(admin.get(path).await.status(), 200, "{path}");
    }
    let hub = page_html(&admin, "/admin").await;
    assert!(hub.contains("href=\"/admin/audit\"") && hub.contains("href=\"/admin/security\""));
    server.stop().await;
}
