//! `keyport seed-demo` on a real database: what it writes adds up (keys, raw events, rollups
//! of every granularity, client-IP rows) and is visible to the demo accounts with the
//! rights they have; a second seed is refused and changes nothing.

use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, TestServer, expect_error};
use keyport::domain::demo::{self, DemoPlan};
use serde_json::Value;

const PLAN: DemoPlan = DemoPlan {
    developers: 12,
    keys: 600,
    events: 40_000,
    days: 3,
    minute_days: 1,
    seed: 7,
};

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

async fn report(server: &TestServer, token: &str, query: &str) -> Value {
    let res = server
        .api()
        .get(&format!("/api/v1/analytics/usage?{query}"), Some(token))
        .await;
    assert_eq!(res.status(), 200, "{query}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn seeded_traffic_adds_up_at_every_granularity_and_a_second_seed_is_refused() {
    // Minute rows kept one day, as the plan writes them.
    let server = TestServer::start_with(&[
        ("KEYPORT_ADMIN_EMAIL", ADMIN_EMAIL),
        ("KEYPORT_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("KEYPORT_MINUTE_ROLLUP_DAYS", "1"),
    ])
    .await;
    let state = &server.state;
    let now = time::OffsetDateTime::now_utc();
    let mut days_seen = Vec::new();
    let r = demo::seed(&state.db, &state.crypto, PLAN, now, |line| {
        days_seen.push(line)
    })
    .await
    .unwrap();
    assert_eq!((r.users, r.keys, r.events), (14, 600, 40_000));
    assert_eq!(days_seen.len(), 1 + 3, "users and keys, then each day");
    assert_eq!(
        keyport::db::usage::count(&state.db).await.unwrap(),
        40_000,
        "every event stored raw"
    );

    let api = server.api();
    let (admin, _) = api.login(demo::DEMO_ADMIN, demo::DEMO_PASSWORD).await;
    let (developer, _) = api.login(demo::DEMO_DEVELOPER, demo::DEMO_PASSWORD).await;
    let from = rfc3339(now - time::Duration::days(4));
    let mut totals = Vec::new();
    for granularity in ["hour", "day"] {
        let all = report(
            &server,
            &admin,
            &format!("from={from}&granularity={granularity}"),
        )
        .await;
        let total = all["total"]["requests"].as_i64().unwrap();
        assert_eq!(total, 40_000, "{granularity} rows add up to the raw events");
        totals.push(all["total"]["errors"].as_i64().unwrap());
    }
    assert_eq!(totals[0], totals[1], "errors agree across granularities");
    assert!(
        totals[0] > 0 && totals[0] < 40_000 / 5,
        "some failures: {}",
        totals[0]
    );

    // Minute rows are written for the last day only (minute_days = 1), as the sweeper keeps
    // them: five whole hours before the window's end add up the same by minute and by hour.
    let end = now
        .replace_minute(0)
        .unwrap()
        .replace_second(0)
        .unwrap()
        .replace_nanosecond(0)
        .unwrap();
    let span = format!(
        "from={}&to={}",
        rfc3339(end - time::Duration::hours(5)),
        rfc3339(end)
    );
    let by_minute = report(&server, &admin, &format!("{span}&granularity=minute")).await;
    let by_hour = report(&server, &admin, &format!("{span}&granularity=hour")).await;
    let minute_total = by_minute["total"]["requests"].as_i64().unwrap();
    assert!(minute_total > 0);
    assert_eq!(minute_total, by_hour["total"]["requests"].as_i64().unwrap());
    let old = rfc3339(now - time::Duration::days(2));
    let old_end = rfc3339(now - time::Duration::days(2) + time::Duration::hours(1));
    let res = server
        .api()
        .get(
            &format!("/api/v1/analytics/usage?from={old}&to={old_end}&granularity=minute"),
            Some(&admin),
        )
        .await;
    expect_error(res, 422, "VALIDATION_ERROR").await;

    // The demo developer sees their own share; the admin everyone's.
    let own = report(&server, &developer, &format!("from={from}&granularity=day")).await;
    let own_total = own["total"]["requests"].as_i64().unwrap();
    assert!(
        own_total > 0 && own_total < 40_000,
        "own traffic only: {own_total}"
    );

    let again = demo::seed(&state.db, &state.crypto, PLAN, now, |_| {}).await;
    assert!(again.is_err(), "a second seed is refused");
    assert_eq!(keyport::db::usage::count(&state.db).await.unwrap(), 40_000);
}
