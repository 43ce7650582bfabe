//! The /keys page's filters in the URL, saved filters, and "all matching" bulk previews, as
//! a browser without JavaScript uses them.

use crate::harness::*;
use serde_json::json;

const PASSWORD: &str = "long-enough-pw";

#[tokio::test]
async fn filters_live_in_the_url_and_can_be_saved() {
    let server = TestServer::start().await;
    let api = server.api();
    let alice_api = user_token(&api, "alice@example.com").await;
    let bob_api = user_token(&api, "bob@example.com").await;
    create(
        &api,
        &alice_api,
        json!({"name": "m-read", "tags": ["mobile"], "scopes": ["read"]}),
    )
    .await;
    create(
        &api,
        &alice_api,
        json!({"name": "m-write", "tags": ["mobile", "prod"], "scopes": ["write"]}),
    )
    .await;
    create(
        &api,
        &alice_api,
        json!({"name": "w-read", "tags": ["web"], "scopes": ["read"]}),
    )
    .await;
    create(&api, &bob_api, json!({"name": "bobs", "tags": ["mobile"]})).await;
    let alice = signed_in_browser(&server, "alice@example.com", PASSWORD).await;

    let shown = |html: &str| -> Vec<&str> {
        ["m-read", "m-write", "w-read", "bobs"]
            .into_iter()
            .filter(|n| html.contains(&format!(">{n}</a>")))
            .collect()
    };
    for (query, expected) in [
        ("", vec!["m-read", "m-write", "w-read"]),
        ("tag=mobile", vec!["m-read", "m-write"]),
        ("tag=mobile,prod", vec!["m-write"]),
        ("scope=read", vec!["m-read", "w-read"]),
        ("q=w-", vec!["w-read"]),
        ("never_used=true&tag=web", vec!["w-read"]),
        ("owner=bob%40example.com", vec![]),
        ("owner=alice%40example.com&scope=write", vec!["m-write"]),
        (
            "created_from=2000-01-01&created_to=2999-01-01&tag=web",
            vec!["w-read"],
        ),
        ("created_to=2000-01-01", vec![]),
        ("last_used_before=2999-01-01&tag=prod", vec!["m-write"]),
        ("sort=name&org=all", vec!["m-read", "m-write", "w-read"]),
    ] {
        let html = page_html(&alice, &format!("/keys?{query}")).await;
        assert_eq!(shown(&html), expected, "/keys?{query}");
    }
    // The form keeps what was asked, and the advanced filters open when one is set.
    let html = page_html(&alice, "/keys?scope=read&tag=mobile").await;
    assert!(html.contains("id=\"scope\" name=\"scope\" type=\"text\" value=\"read\""));
    let at = html.find("more-filters").unwrap();
    let tag = &html[html[..at].rfind('<').unwrap()..at + html[at..].find('>').unwrap()];
    assert!(tag.contains(" open"), "{tag}");
    // Bad values are named, never a 500.
    for (query, says) in [
        ("org=abc", "must be a positive whole number"),
        ("api=-1", "must be a positive whole number"),
        ("created_from=yesterday", "RFC 3339"),
        (
            "status=gone",
            "must be active, revoked, expired or disabled",
        ),
        ("never_used=maybe", "must be true or false"),
        ("sort=%3Cscript%3E", "must be name, created_at"),
    ] {
        let res = alice.get(&format!("/keys?{query}")).await;
        assert_eq!(res.status(), 200, "{query}");
        let html = res.text().await.unwrap();
        assert!(html.contains("role=\"alert\""), "{query}");
        assert!(
            html.contains(says) || html.contains("invalid"),
            "{query}: {says}"
        );
    }

    // Save the current filter, open it from the chips, delete it.
    let html = page_html(&alice, "/keys").await;
    assert!(html.contains("None yet"));
    let res = alice
        .form(
            "/sfn/save_key_filter",
            &[
                ("name", "Mobile keys"),
                ("query", "tag=mobile&status=&bogus=1"),
            ],
        )
        .await;
    let loc = location(&res);
    assert!(loc.starts_with("/keys?tag=mobile&saved="), "{loc}");
    let html = page_html(&alice, &loc).await;
    assert!(html.contains("Filter saved"));
    assert!(html.contains("href=\"/keys?tag=mobile\" aria-current=\"true\">Mobile keys</a>"));
    let res = alice
        .form(
            "/sfn/save_key_filter",
            &[("name", "Mobile keys"), ("query", "tag=web")],
        )
        .await;
    assert!(
        location(&res).contains("__err="),
        "names are unique per user"
    );
    let res = alice
        .form(
            "/sfn/save_key_filter",
            &[("name", ""), ("query", "tag=web")],
        )
        .await;
    assert!(location(&res).contains("__err="), "a name is needed");
    let saved = json_of_saved(&api, &alice_api).await;
    assert_eq!(saved.len(), 1);
    let id = saved[0]["id"].as_i64().unwrap().to_string();
    // Bob cannot delete alice's filter; alice can.
    let bob = signed_in_browser(&server, "bob@example.com", PASSWORD).await;
    let res = bob.form("/sfn/delete_key_filter", &[("id", &id)]).await;
    assert!(location(&res).contains("__err="));
    assert_eq!(json_of_saved(&api, &alice_api).await.len(), 1);
    let res = alice.form("/sfn/delete_key_filter", &[("id", &id)]).await;
    assert_eq!(location(&res), "/keys?filter_deleted=1");
    assert!(json_of_saved(&api, &alice_api).await.is_empty());

    // "All matching" previews exactly the filtered list (empty fields and all).
    let html = page_html(
        &alice,
        "/keys/bulk?filter=q%3D%26status%3D%26tag%3Dmobile%26org%3Dall&all=1&action=revoke&expires_at=&tags=",
    )
    .await;
    assert!(html.contains("2 of 2 key(s) will change."), "{html}");
    assert!(html.contains("Confirm: revoke 2 key(s)"));
    server.stop().await;
}

async fn json_of_saved(api: &Api, token: &str) -> Vec<serde_json::Value> {
    let res = api.get("/api/v1/keys/saved-filters", Some(token)).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    body.get("items")
        .and_then(|i| i.as_array().cloned())
        .or_else(|| body.as_array().cloned())
        .unwrap_or_default()
}
