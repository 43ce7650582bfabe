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
