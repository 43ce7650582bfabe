//! Usage alerts and notifications in the portal, as a browser without JavaScript uses them:
//! /notifications with the unread count in the navigation, marking read through server
//! functions (one's own only), and the admins' /admin/alerts rule forms and alert table.

use crate::analytics::{alice_and_bob_keys, portal_sign_in, portal_sign_in_as};
use crate::apis::{admin_token, get_json};
use crate::harness::*;
use serde_json::{Value, json};

/// The alert rules over REST, by kind.
async fn rule(api: &Api, admin: &str, kind: &str) -> Value {
    let rules = get_json(api, admin, "/api/v1/alert-rules").await;
    rules
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == kind)
        .cloned()
        .unwrap()
}

async fn unread(api: &Api, token: &str) -> i64 {
    get_json(api, token, "/api/v1/notifications").await["unread"]
        .as_i64()
        .unwrap()
}

async fn page(browser: &Browser, path: &str) -> String {
    let res = browser.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

/// Raises one error-rate alert on Alice's key (3 of 4 calls fine: 25 %, the threshold) and
/// one failed-IP alert for the admins (2 failures from one address, the lowered threshold).
async fn raise_two_alerts(server: &TestServer, admin: &str) -> Value {
    let api = server.api();
    let (key, _) = alice_and_bob_keys(&api).await;
    for (kind, body) in [
        ("error_rate", json!({"min_requests": 4})),
        ("failed_ip", json!({"threshold": 2})),
    ] {
        let res = patch(&api, admin, &format!("/api/v1/alert-rules/{kind}"), body).await;
        assert_eq!(res.status(), 200);
    }
    for body in [
        json!({"key": key["key"]}),
        json!({"key": key["key"]}),
        json!({"key": key["key"]}),
        json!({"key": key["key"], "scopes": ["admin"]}),
        json!({"key": "kp_not_a_key", "ip": "203.0.113.9"}),
        json!({"key": "kp_not_a_key", "ip": "203.0.113.9"}),
    ] {
        verify_code(&api, body).await;
    }
    server.state.usage.sync().await;
    // The keys' "created" notices are not what these tests are about: start from none.
    crate::harness::run_jobs(server).await;
    crate::harness::execute_sql(server, "DELETE FROM notifications").await;
    let now = keyport::domain::to_millis(time::OffsetDateTime::now_utc()) + 60_000;
    let raised =
        keyport::domain::alerts::evaluate(&server.state.db, server.state.usage.pending(), now)
            .await
            .unwrap();
    assert_eq!(raised, 2, "the key's error rate and the address");
    crate::harness::run_jobs_at(server, now).await;
    key
}

#[tokio::test]
async fn notifications_are_listed_counted_and_marked_read_in_the_portal() {
    // No job runner: the key's `key.created` event stays undispatched, so the alert is the
    // only notification and the counts below are exact.
    let server = TestServer::start_with(&[
        ("KEYPORT_ADMIN_EMAIL", ADMIN_EMAIL),
        ("KEYPORT_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("KEYPORT_RUN_JOBS", "false"),
    ])
    .await;
    let api = server.api();
    let admin_api = admin_token(&api).await;
    let key = raise_two_alerts(&server, &admin_api).await;
    let key_id = key["id"].as_i64().unwrap();
    let alice_api = api.login("alice@example.com", "long-enough-pw").await.0;

    // Alice: her notification, unread, with its links; the count in the navigation.
    let alice = portal_sign_in(&server, "alice@example.com").await;
    let html = page(&alice, "/notifications").await;
    assert!(html.contains("High error rate on key"), "the notification");
    assert!(
        html.contains("class=\"notification unread\""),
        "unread ones are marked"
    );
    assert!(
        html.contains(&format!("href=\"/keys/{key_id}\"")),
        "to the key"
    );
    assert!(
        html.contains(&format!("href=\"/usage?key={key_id}&amp;range=24h\"")),
        "to its usage"
    );
    assert!(html.contains("action=\"/sfn/mark_notification_read\""));
    assert!(html.contains("action=\"/sfn/mark_all_notifications_read\""));
    assert!(
        html.contains("aria-label=\"Notifications, 1 unread\""),
        "the navigation's unread count"
    );
    assert!(html.contains("You have 1 unread notification."));
    let dashboard = page(&alice, "/dashboard").await;
    assert!(
        dashboard.contains("aria-label=\"Notifications, 1 unread\""),
        "on every page"
    );
    assert!(
        !html.contains("203.0.113.9"),
        "the admins' notification only"
    );

    let id = get_json(&api, &alice_api, "/api/v1/notifications").await["items"][0]["id"]
        .as_i64()
        .unwrap()
        .to_string();

    // Bob cannot mark Alice's notification read: an error, and nothing changes.
    let bob = portal_sign_in(&server, "bob@example.com").await;
    let html = page(&bob, "/notifications").await;
    assert!(html.contains("No notifications yet"), "the empty state");
    assert!(
        !html.contains("Notifications, "),
        "no count without unread ones"
    );
    assert!(
        !html.contains("mark_all_notifications_read"),
        "nothing to mark"
    );
    for fields in [
        vec![("id", id.as_str()), ("unread", ""), ("page", "1")],
        vec![("id", id.as_str())],
    ] {
        let res = bob.form("/sfn/mark_notification_read", &fields).await;
        assert!(location(&res).contains("__err="), "{fields:?}");
    }
    let res = bob.form("/sfn/mark_all_notifications_read", &[]).await;
    assert_eq!(location(&res), "/notifications?marked=0");
    assert_eq!(unread(&api, &alice_api).await, 1, "still unread");

    // The unread filter is kept in the URL and through a mark-read post.
    let html = page(&alice, "/notifications?unread=true").await;
    assert!(html.contains("Unread notifications") && html.contains("High error rate"));
    assert!(html.contains("name=\"unread\" value=\"true\" checked"));
    let res = alice
        .form(
            "/sfn/mark_notification_read",
            &[("id", &id), ("unread", "true"), ("page", "1")],
        )
        .await;
    assert_eq!(location(&res), "/notifications?unread=true&marked=1");
    assert_eq!(unread(&api, &alice_api).await, 0);
    let html = page(&alice, "/notifications?unread=true&marked=1").await;
    assert!(html.contains("1 notification marked read."));
    assert!(html.contains("No unread notifications"));
    assert!(
        !html.contains("Notifications, 1 unread"),
        "the count dropped"
    );
    let html = page(&alice, "/notifications").await;
    assert!(html.contains("High error rate") && !html.contains("notification unread"));
    assert!(html.contains("You have no unread notifications."));

    // The admin's address alert; "Mark all read" clears it.
    let admin = portal_sign_in_as(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let html = page(&admin, "/notifications").await;
    assert!(html.contains("Many failed calls from 203.0.113.9"));
    assert!(html.contains("href=\"/usage?range=1h\""));
    assert!(html.contains("aria-label=\"Notifications, 1 unread\""));
    let res = admin.form("/sfn/mark_all_notifications_read", &[]).await;
    assert_eq!(location(&res), "/notifications?marked=1");
    assert_eq!(unread(&api, &admin_api).await, 0);
    let html = page(&admin, "/notifications?marked=1").await;
    assert!(!html.contains("Notifications, 1 unread"));

    // Signed out: to the sign-in page, and the server functions refuse.
    let nobody = server.browser();
    let res = nobody.get("/notifications").await;
    assert_eq!(location(&res), "/login?next=/notifications");
    let res = nobody
        .form("/sfn/mark_notification_read", &[("id", &id)])
        .await;
    assert!(location(&res).contains("__err="));
}

#[tokio::test]
async fn admins_change_alert_rules_and_read_alerts_on_their_page() {
    let server = TestServer::start().await;
    let api = server.api();
    let admin_api = admin_token(&api).await;
    let key = raise_two_alerts(&server, &admin_api).await;
    let key_id = key["id"].as_i64().unwrap();

    // Users are refused the page and the form.
    let alice = portal_sign_in(&server, "alice@example.com").await;
    let res = alice.get("/admin/alerts").await;
    assert_eq!(res.status(), 403);
    let html = res.text().await.unwrap();
    assert!(html.contains("Access denied") && !html.contains("update_alert_rule"));
    let res = alice
        .form(
            "/sfn/update_alert_rule",
            &[
                ("kind", "error_rate"),
                ("enabled", "on"),
                ("threshold", "0.9"),
            ],
        )
        .await;
    assert!(location(&res).contains("__err="));
    assert_eq!(
        rule(&api, &admin_api, "error_rate").await["threshold"],
        0.25
    );
    let res = server.browser().get("/admin/alerts").await;
    assert_eq!(location(&res), "/login?next=/admin/alerts");

    // Admins: linked from the admin page; a form per rule; the alerts raised.
    let admin = portal_sign_in_as(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(
        page(&admin, "/admin")
            .await
            .contains("href=\"/admin/alerts\"")
    );
    let html = page(&admin, "/admin/alerts").await;
    for kind in ["error_rate", "rate_limited", "traffic_spike", "failed_ip"] {
        assert!(html.contains(&format!("id=\"rule-{kind}\"")), "{kind}");
        assert!(
            html.contains(&format!("name=\"kind\" value=\"{kind}\"")),
            "{kind}"
        );
    }
    assert_eq!(html.matches("action=\"/sfn/update_alert_rule\"").count(), 4);
    assert!(html.contains("<label for=\"rule-error_rate-threshold\""));
    assert!(
        !html.contains("id=\"rule-failed_ip-window_minutes\""),
        "the IP rule counts clock hours"
    );
    let table = &html[html.find("<table").expect("a table of alerts")..];
    assert!(table.contains("Error rate") && table.contains(&format!("href=\"/keys/{key_id}\"")));
    assert!(table.contains("1 of 4 calls refused or failed (25.0 %; alert at 25.0 %)"));
    assert!(table.contains("Failed calls from an IP") && table.contains("203.0.113.9"));
    assert!(table.contains("2 refused or failed calls (alert at 2)"));

    // Saving: every field of the form, and an unchecked box turns the rule off.
    let res = admin
        .form(
            "/sfn/update_alert_rule",
            &[
                ("kind", "error_rate"),
                ("enabled", "on"),
                ("threshold", "0.5"),
                ("window_minutes", "30"),
                ("min_requests", "10"),
            ],
        )
        .await;
    assert_eq!(
        location(&res),
        "/admin/alerts?saved=error_rate#rule-error_rate"
    );
    let saved = rule(&api, &admin_api, "error_rate").await;
    assert_eq!(
        (
            &saved["enabled"],
            &saved["threshold"],
            &saved["window_minutes"],
            &saved["min_requests"]
        ),
        (&json!(true), &json!(0.5), &json!(30), &json!(10))
    );
    let res = admin
        .form(
            "/sfn/update_alert_rule",
            &[("kind", "rate_limited"), ("threshold", "7")],
        )
        .await;
    assert_eq!(
        location(&res),
        "/admin/alerts?saved=rate_limited#rule-rate_limited"
    );
    let saved = rule(&api, &admin_api, "rate_limited").await;
    assert_eq!(
        (&saved["enabled"], &saved["threshold"]),
        (&json!(false), &json!(7.0))
    );
    let html = page(&admin, "/admin/alerts?saved=rate_limited").await;
    assert!(html.contains("Rule “Rate-limit refusals of a key” saved."));

    // Refused values: nothing changes, and the page shows why next to the field of that
    // rule's form, in the contract's words.
    for (fields, field, message) in [
        (
            vec![
                ("kind", "error_rate"),
                ("threshold", "25"),
                ("window_minutes", "30"),
            ],
            "threshold",
            "Threshold must be between 0.01 and 1 (a share of calls)",
        ),
        (
            vec![
                ("kind", "error_rate"),
                ("threshold", "0.5"),
                ("window_minutes", "0"),
            ],
            "window_minutes",
            "Window minutes must be between 1 and 1440",
        ),
        (
            vec![("kind", "error_rate"), ("threshold", "lots")],
            "threshold",
            "Threshold must be a number",
        ),
    ] {
        let res = admin.form("/sfn/update_alert_rule", &fields).await;
        let back = location(&res);
        let query = back.split_once('?').map(|(_, q)| q).unwrap_or_default();
        assert!(query.contains("__err="), "{fields:?}");
        let html = page(&admin, &format!("/admin/alerts?{query}")).await;
        let form = &html[html.find("id=\"rule-error_rate\"").unwrap()..];
        let form = &form[..form.find("id=\"rule-rate_limited\"").unwrap()];
        let error =
            format!("<p id=\"rule-error_rate-{field}-error\" class=\"field-error\">{message}");
        assert!(form.contains(&error), "{fields:?}: {form}");
        assert!(form.contains("aria-invalid=\"true\"") && form.contains("Not saved."));
        assert_eq!(
            html.matches("class=\"field-error\"").count(),
            1,
            "at that form only"
        );
    }
    let kept = rule(&api, &admin_api, "error_rate").await;
    assert_eq!(
        (&kept["threshold"], &kept["window_minutes"]),
        (&json!(0.5), &json!(30))
    );
    let res = admin
        .form(
            "/sfn/update_alert_rule",
            &[("kind", "nope"), ("threshold", "1")],
        )
        .await;
    assert!(location(&res).contains("__err="));
}
