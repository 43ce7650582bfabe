//! The usage page's breakdown (requests by outcome, busiest keys, routes and client IPs) and the report's
//! route and owner filters match the calls sent, from pending and from stored rollups alike.

use crate::analytics::{portal_sign_in, portal_sign_in_as, report, total};
use crate::apis::admin_token;
use crate::harness::*;
use serde_json::{Value, json};

/// The text of the page between a table's caption and the table's end.
fn table<'a>(html: &'a str, caption: &str) -> &'a str {
    let at = html
        .find(&format!("<caption>{caption}</caption>"))
        .unwrap_or_else(|| panic!("{caption}"));
    let rest = &html[at..];
    &rest[..rest.find("</table>").unwrap()]
}

fn before(text: &str, first: &str, second: &str) -> bool {
    matches!((text.find(first), text.find(second)), (Some(a), Some(b)) if a < b)
}

async fn total_requests(api: &Api, token: &str, query: &str) -> i64 {
    let path = format!("/api/v1/analytics/usage?{query}");
    total(&report(api, token, &path).await, "requests")
}

#[tokio::test]
async fn busiest_keys_and_routes_and_outcomes_from_pending_and_stored_rollups() {
    let data = KeptData::new("breakdown").await;
    let server = data.start().await;
    let api = server.api();
    let alice = user_token(&api, "alice@example.com").await;
    let bobs = user_token(&api, "bob@example.com").await;
    let busy = create(
        &api,
        &alice,
        json!({"name": "busy-key", "scopes": ["read"]}),
    )
    .await;
    let quiet = create(&api, &alice, json!({"name": "quiet-key"})).await;
    let bob_key = create(&api, &bobs, json!({"name": "bobs-key"})).await;
    let call = |key: &Value, endpoint: &str| json!({"key": key["key"], "endpoint": endpoint});
    // The busy key's consumer is named by the caller, once in another spelling of the same
    // address; the quiet key's calls come from the test's own address.
    for (i, ip) in [(1, "2001:db8::7"), (2, "2001:DB8:0::7"), (3, "2001:db8::7")] {
        let mut body = call(&busy, &format!("GET /tickets/{i}"));
        body["ip"] = json!(ip);
        verify_code(&api, body).await;
    }
    let refused = json!({"key": busy["key"], "endpoint": "GET /tickets/4", "scopes": ["admin"], "ip": "2001:db8::7"});
    verify_code(&api, refused).await;
    verify_code(&api, call(&quiet, "POST /orders")).await;
    for _ in 0..5 {
        let mut body = call(&bob_key, "GET /bob");
        body["ip"] = json!("198.51.100.77");
        verify_code(&api, body).await;
    }
    server.state.usage.sync().await;

    let check_page = |html: String| {
        let keys = table(&html, "Busiest keys");
        assert!(before(keys, "busy-key", "quiet-key"), "{keys}");
        assert!(keys.contains(&format!("href=\"/keys/{}\"", busy["id"])));
        let routes = table(&html, "Busiest routes");
        assert!(
            before(routes, "GET /tickets/{id}", "POST /orders"),
            "{routes}"
        );
        let ips = table(&html, "Busiest client IPs");
        assert!(before(ips, "2001:db8::7", "127.0.0.1"), "{ips}");
        assert!(
            ips.contains("<td class=\"num\">4</td><td class=\"num\">1</td>"),
            "4 calls, 1 refused, one entry: {ips}"
        );
        assert!(
            !ips.contains("DB8") && !ips.contains("198.51.100.77"),
            "{ips}"
        );
        let outcomes = table(&html, "By outcome");
        assert!(before(outcomes, "VALID", "PERMISSION_DENIED"), "{outcomes}");
        assert!(outcomes.contains("80.0 %"), "4 of 5 valid: {outcomes}");
        assert!(
            !html.contains("bobs-key") && !html.contains("GET /bob"),
            "not hers"
        );
    };
    let browser = portal_sign_in(&server, "alice@example.com").await;
    check_page(browser.get("/usage?range=1h").await.text().await.unwrap());
    // The key's own page sums its last 24 hours, and links to its charts.
    let key_page = browser
        .get(&format!("/keys/{}", busy["id"]))
        .await
        .text()
        .await
        .unwrap();
    let card = &key_page[key_page.find("Usage, last 24 hours").expect("usage card")..];
    assert!(card.contains(&format!("href=\"/usage?key={}\"", busy["id"])));
    let figures = &card[card.find("data-testid=\"key-usage\"").expect("figures")..];
    assert!(
        figures.contains("stat-value\">4<") && figures.contains("stat-value\">1<"),
        "4 requests, 1 error: {}",
        &figures[..figures.len().min(600)]
    );

    // Filters of the REST report: a route, and an owner (admins only, or yourself).
    let route = "endpoint=GET%20%2Ftickets%2F%7Bid%7D";
    assert_eq!(total_requests(&api, &alice, route).await, 4);
    assert_eq!(
        total_requests(&api, &alice, "endpoint=GET%20%2Fbob").await,
        0
    );
    let bob_id = bob_key["owner_user_id"].as_i64().unwrap();
    let alice_id = busy["owner_user_id"].as_i64().unwrap();
    assert_eq!(
        total_requests(&api, &alice, &format!("owner_user_id={alice_id}")).await,
        5
    );
    let res = api
        .get(
            &format!("/api/v1/analytics/usage?owner_user_id={bob_id}"),
            Some(&alice),
        )
        .await;
    expect_error(res, 403, "FORBIDDEN").await;
    let admin = admin_token(&api).await;
    let bobs_own = format!("owner_user_id={bob_id}");
    assert_eq!(total_requests(&api, &admin, &bobs_own).await, 5);
    for bad in [
        "endpoint=",
        "endpoint=%20%20",
        &format!("endpoint={}", "x".repeat(600)),
    ] {
        let res = api
            .get(&format!("/api/v1/analytics/usage?{bad}"), Some(&alice))
            .await;
        let body = expect_error(res, 422, "VALIDATION_ERROR").await;
        assert_eq!(body["errors"][0]["field"], "query.endpoint", "{bad}");
    }
    server.stop().await; // stores the rollups

    let server = data.start().await;
    let api = server.api();
    let alice = api.login("alice@example.com", "long-enough-pw").await.0;
    assert_eq!(total_requests(&api, &alice, route).await, 4, "stored");
    let browser = portal_sign_in(&server, "alice@example.com").await;
    check_page(browser.get("/usage?range=1h").await.text().await.unwrap());
    // Everyone's busiest keys and clients, by the hour from stored rows (ranked bucket by
    // bucket): Bob's 5 calls before Alice's 4.
    let admin = portal_sign_in_as(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let html = admin.get("/usage?range=24h").await.text().await.unwrap();
    let keys = table(&html, "Busiest keys");
    assert!(before(keys, "bobs-key", "busy-key"), "{keys}");
    assert!(before(keys, "busy-key", "quiet-key"), "{keys}");
    let ips = table(&html, "Busiest client IPs");
    assert!(before(ips, "198.51.100.77", "2001:db8::7"), "{ips}");
    assert!(before(ips, "2001:db8::7", "127.0.0.1"), "{ips}");
}
