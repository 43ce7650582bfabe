//! A real Keyport server on a free port, on SQLite in a temp dir, or on a fresh PostgreSQL
//! database when KEYPORT_TEST_DATABASE_URL points at a server (make test does that).

use keyport::config::Config;
use reqwest::{Client, Response, header, redirect::Policy};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use tokio::sync::oneshot;

pub const ADMIN_EMAIL: &str = "root@keyport.test";
pub const ADMIN_PASSWORD: &str = "admin-password-123";
/// A request the server never answers fails the test with its URL instead of hanging the
/// suite (see `pages_keep_rendering_while_other_routers_are_built` for the hang this caught).
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

pub struct TestServer {
    pub base: String,
    /// The server's state, for tests that drive background work with a chosen `now`.
    pub state: keyport::server::state::AppState,
    /// The temp data dir this server made (removed on drop); None when the caller gave one.
    own_dir: Option<PathBuf>,
    data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// A fresh database URL on the test PostgreSQL server, or None when testing on SQLite.
pub async fn fresh_database_url() -> Option<String> {
    match std::env::var("KEYPORT_TEST_DATABASE_URL") {
        Ok(pg) => Some(fresh_postgres_database(&pg).await),
        Err(_) => None,
    }
}

async fn fresh_postgres_database(base_url: &str) -> String {
    use sqlx::Connection;
    let name = unique("keyport_t");
    let mut conn = sqlx::PgConnection::connect(base_url)
        .await
        .expect("connect to test PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let (head, _) = base_url.rsplit_once('/').expect("database URL has a path");
    format!("{head}/{name}")
}

impl TestServer {
    /// A server whose super admin already exists (setup done).
    pub async fn start() -> Self {
        Self::start_with(&[
            ("KEYPORT_ADMIN_EMAIL", ADMIN_EMAIL),
            ("KEYPORT_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ])
        .await
    }

    pub async fn start_with(vars: &[(&str, &str)]) -> Self {
        log_buffer();
        let mut env: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.insert("KEYPORT_ADDR".into(), "127.0.0.1:0".into());
        // Tests run the job queue themselves (`keyport::jobs::runner::run_due` with a chosen
        // `now`), so what a test sees never depends on when a background pass happened. A
        // test that wants the background runner sets KEYPORT_RUN_JOBS=true.
        env.entry("KEYPORT_RUN_JOBS".into())
            .or_insert_with(|| "false".into());
        let own_dir = if env.contains_key("KEYPORT_DATA_DIR") {
            None
        } else {
            let dir = std::env::temp_dir().join(unique("keyport-test"));
            env.insert("KEYPORT_DATA_DIR".into(), dir.display().to_string());
            Some(dir)
        };
        if !env.contains_key("KEYPORT_DATABASE_URL")
            && let Some(url) = fresh_database_url().await
        {
            env.insert("KEYPORT_DATABASE_URL".into(), url);
        }
        let config = Config::from_lookup(|k| env.get(k).cloned()).expect("test config");
        let data_dir = config.data_dir.clone();
        let state = keyport::server::prepare(config)
            .await
            .expect("server prepares");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let served = state.clone();
        let done = tokio::spawn(async move {
            keyport::server::serve(served, listener, async {
                let _ = stopped.await;
            })
            .await
            .expect("server runs");
        });
        Self {
            base,
            state,
            own_dir,
            data_dir,
            stop: Some(stop),
            done: Some(done),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A client that behaves like a script: no cookies, no redirects followed.
    pub fn api(&self) -> Api {
        Api {
            base: self.base.clone(),
            http: Client::builder()
                .redirect(Policy::none())
                .timeout(REQUEST_TIMEOUT)
                .build()
                .unwrap(),
        }
    }

    /// A client with a cookie jar that sends what a browser sends on same-site form posts.
    pub fn browser(&self) -> Browser {
        Browser {
            base: self.base.clone(),
            http: Client::builder()
                .redirect(Policy::none())
                .timeout(REQUEST_TIMEOUT)
                .cookie_store(true)
                .build()
                .unwrap(),
        }
    }

    /// Stops the server the way SIGTERM does and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(done) = self.done.take() {
            done.await.unwrap();
        }
    }
}

/// A data dir and database that outlive the servers started on them (to restart, or to read
/// what a stopped server stored). The dir is removed when this is dropped.
pub struct KeptData {
    dir: PathBuf,
    vars: Vec<(String, String)>,
}

impl KeptData {
    pub async fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(unique(&format!("keyport-{name}")));
        let mut vars = vec![
            ("KEYPORT_ADMIN_EMAIL".to_string(), ADMIN_EMAIL.to_string()),
            (
                "KEYPORT_ADMIN_PASSWORD".to_string(),
                ADMIN_PASSWORD.to_string(),
            ),
            ("KEYPORT_DATA_DIR".to_string(), dir.display().to_string()),
        ];
        if let Some(url) = fresh_database_url().await {
            vars.push(("KEYPORT_DATABASE_URL".to_string(), url));
        }
        Self { dir, vars }
    }

    /// The database the servers use (SQLite in the data dir unless PostgreSQL was given).
    pub fn database_url(&self) -> String {
        let vars: HashMap<String, String> = self.vars.iter().cloned().collect();
        Config::from_lookup(|k| vars.get(k).cloned())
            .expect("test config")
            .database_url
    }

    pub async fn start(&self) -> TestServer {
        self.start_with(&[]).await
    }

    /// A server on this data with `extra` settings too.
    pub async fn start_with(&self, extra: &[(&str, &str)]) -> TestServer {
        let mut vars: Vec<(&str, &str)> = self
            .vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        vars.extend_from_slice(extra);
        TestServer::start_with(&vars).await
    }
}

impl Drop for KeptData {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(dir) = &self.own_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

pub struct Api {
    pub base: String,
    pub http: Client,
}

impl Api {
    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_auth(&self, path: &str, token: &str, body: Value) -> Response {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub async fn register(&self, email: &str, password: &str, name: &str) -> Value {
        let res = self
            .post(
                "/api/v1/auth/register",
                serde_json::json!({"email": email, "password": password, "name": name}),
            )
            .await;
        assert_eq!(res.status(), 201, "register {email}");
        res.json().await.unwrap()
    }

    /// Returns (access_token, refresh_token).
    pub async fn login(&self, email: &str, password: &str) -> (String, String) {
        let res = self
            .post(
                "/api/v1/auth/login",
                serde_json::json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(res.status(), 200, "login {email}");
        let body: Value = res.json().await.unwrap();
        (
            body["access_token"].as_str().unwrap().to_string(),
            body["refresh_token"].as_str().unwrap().to_string(),
        )
    }
}

pub struct Browser {
    pub base: String,
    pub http: Client,
}

impl Browser {
    pub async fn get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header(header::ACCEPT, "text/html")
            .send()
            .await
            .unwrap()
    }

    /// A same-origin form post, as a browser without JavaScript sends it.
    pub async fn form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.form_from(path, fields, &self.base.clone(), "same-origin")
            .await
    }

    pub async fn form_from(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        origin: &str,
        fetch_site: &str,
    ) -> Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header(header::ACCEPT, "text/html")
            .header(header::ORIGIN, origin)
            .header("sec-fetch-site", fetch_site)
            .header(header::REFERER, format!("{}/login", self.base))
            .form(fields)
            .send()
            .await
            .unwrap()
    }
}

pub fn location(res: &Response) -> String {
    res.headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Asserts the contract's error body and returns it.
pub async fn expect_error(res: Response, status: u16, code: &str) -> Value {
    let got = res.status().as_u16();
    let request_id = res
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_string());
    let body: Value = res.json().await.expect("error body is JSON");
    assert_eq!(got, status, "status for {body}");
    assert_eq!(body["error_code"], code, "error_code in {body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "detail in {body}"
    );
    assert!(
        body["path"].as_str().is_some_and(|p| p == "/api"
            || p.starts_with("/api/")
            || p == "/usage/live"
            || p == "/admin/system/live"
            || p == "/notifications/live"),
        "path in {body}"
    );
    assert!(
        body["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')),
        "timestamp in {body}"
    );
    assert_eq!(
        body["request_id"].as_str(),
        request_id.as_deref(),
        "request_id matches header"
    );
    body
}

/// Sets a user's role straight in the database (role management arrives with the admin console).
pub async fn set_role(server: &TestServer, email: &str, role: &str) {
    const SQL: &str = "UPDATE users SET role = $1 WHERE email = $2";
    match &server.state.db {
        keyport::db::Db::Sqlite(p) => {
            sqlx::query(SQL)
                .bind(role)
                .bind(email)
                .execute(p)
                .await
                .unwrap();
        }
        keyport::db::Db::Postgres(p) => {
            sqlx::query(SQL)
                .bind(role)
                .bind(email)
                .execute(p)
                .await
                .unwrap();
        }
    }
}

/// Every log line the servers in this test binary wrote, at debug level and above.
pub fn captured_logs() -> String {
    let buffer = log_buffer();
    let bytes = buffer.lock().map(|b| b.clone()).unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn log_buffer() -> &'static std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    static BUFFER: std::sync::OnceLock<std::sync::Arc<std::sync::Mutex<Vec<u8>>>> =
        std::sync::OnceLock::new();
    BUFFER.get_or_init(|| {
        let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_ansi(false)
            .with_writer(move || LogSink(sink.clone()))
            .try_init();
        buffer
    })
}

struct LogSink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(data);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// Shared steps of the key stories.

pub async fn user_token(api: &Api, email: &str) -> String {
    api.register(email, "long-enough-pw", email.split('@').next().unwrap())
        .await;
    api.login(email, "long-enough-pw").await.0
}

pub async fn create(api: &Api, token: &str, body: Value) -> Value {
    let res = api.post_auth("/api/v1/keys", token, body).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

pub async fn verify_code(api: &Api, body: Value) -> Value {
    let res = api.post("/api/v1/keys/verify", body).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

pub async fn code_of(api: &Api, key: &str) -> String {
    verify_code(api, json!({"key": key})).await["code"]
        .as_str()
        .unwrap()
        .to_string()
}

pub async fn patch(api: &Api, token: &str, path: &str, body: Value) -> reqwest::Response {
    api.http
        .patch(format!("{}{path}", api.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A browser (cookie jar, no JavaScript) signed in to the portal as `email`.
pub async fn signed_in_browser(server: &TestServer, email: &str, password: &str) -> Browser {
    let browser = server.browser();
    let res = browser
        .form("/sfn/login", &[("email", email), ("password", password)])
        .await;
    assert_eq!(location(&res), "/dashboard", "portal sign-in of {email}");
    browser
}

/// The page at `path` as HTML, which must answer 200.
pub async fn page_html(browser: &Browser, path: &str) -> String {
    let res = browser.get(path).await;
    assert_eq!(res.status(), 200, "GET {path}");
    res.text().await.unwrap()
}

/// Runs every job due now (event dispatches, deliveries, scans) until none is left: test
/// servers leave the queue to the tests.
pub async fn run_jobs(server: &TestServer) {
    run_jobs_at(
        server,
        keyport::domain::to_millis(time::OffsetDateTime::now_utc()),
    )
    .await;
}

/// [`run_jobs`] as of `at_ms` (for work a test raised with a `now` of its own).
pub async fn run_jobs_at(server: &TestServer, at_ms: i64) {
    let now = keyport::domain::from_millis(at_ms);
    for _ in 0..50 {
        let report = keyport::jobs::runner::run_due(&server.state, now).await;
        if report.claimed == 0 {
            return;
        }
    }
    panic!("jobs kept coming");
}

/// Runs one SQL statement on the server's database (test setup the API has no call for).
pub async fn execute_sql(server: &TestServer, sql: &str) {
    match &server.state.db {
        keyport::db::Db::Sqlite(pool) => {
            sqlx::query(sql).execute(pool).await.unwrap();
        }
        keyport::db::Db::Postgres(pool) => {
            sqlx::query(sql).execute(pool).await.unwrap();
        }
    }
}
