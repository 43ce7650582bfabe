use crate::harness::*;

#[tokio::test]
async fn health_and_readiness() {
    let server = TestServer::start().await;
    let api = server.api();
    let res = api.get("/healthz", None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "ok");
    assert_eq!(api.get("/readyz", None).await.status(), 200);
}

#[tokio::test]
async fn graceful_shutdown_finishes_and_data_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("keyport-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data_dir = dir.display().to_string();
    let mut vars = vec![
        ("KEYPORT_DATA_DIR", data_dir.as_str()),
        ("KEYPORT_ADMIN_EMAIL", ADMIN_EMAIL),
        ("KEYPORT_ADMIN_PASSWORD", ADMIN_PASSWORD),
    ];
    // On PostgreSQL both runs use one database, so migrations must be idempotent there too.
    let db_url = fresh_database_url().await;
    if let Some(url) = &db_url {
        vars.push(("KEYPORT_DATABASE_URL", url.as_str()));
    }
    let server = TestServer::start_with(&vars).await;
    let api = server.api();
    api.register("persist@example.com", "long-enough-pw", "Persist")
        .await;
    let (access, _) = api.login("persist@example.com", "long-enough-pw").await;
    server.stop().await;

    let again = TestServer::start_with(&vars).await;
    let api = again.api();
    // Same secret (kept in the data dir) and same database: the old token still verifies.
    assert_eq!(
        api.get("/api/v1/users/me", Some(&access)).await.status(),
        200
    );
    api.login("persist@example.com", "long-enough-pw").await;
    again.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn sweeper_removes_only_what_has_aged_out() {
    let server = TestServer::start().await;
    let api = server.api();
    api.register("sweep@example.com", "long-enough-pw", "Sweep")
        .await;
    let (_, refresh) = api.login("sweep@example.com", "long-enough-pw").await;
    let now_ms = keyport::domain::to_millis(time::OffsetDateTime::now_utc());
    const DAY_MS: i64 = 24 * 3600 * 1000;

    // A day on, nothing live is touched: the refresh token still works.
    keyport::jobs::sweep(&server.state.db, now_ms + DAY_MS).await;
    let res = api
        .post(
            "/api/v1/auth/refresh",
            serde_json::json!({"refresh_token": refresh}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let pair: serde_json::Value = res.json().await.unwrap();
    let history =
        keyport::db::attempts::history_for_email(&server.state.db, "sweep@example.com", 0)
            .await
            .unwrap();
    assert_eq!(history.succeeded, 1);

    // Past the session's end plus 30 days, and past 90 days for attempts, rows are gone.
    keyport::jobs::sweep(&server.state.db, now_ms + 91 * DAY_MS).await;
    let res = api
        .post(
            "/api/v1/auth/refresh",
            serde_json::json!({"refresh_token": pair["refresh_token"]}),
        )
        .await;
    expect_error(res, 401, "INVALID_TOKEN").await;
    let history =
        keyport::db::attempts::history_for_email(&server.state.db, "sweep@example.com", 0)
            .await
            .unwrap();
    assert_eq!(history.succeeded + history.failed, 0);
}
