//! The portal over HTTP, as a browser without JavaScript uses it (Chromium specs in end2end/
//! cover the same with JavaScript on).

use crate::harness::*;

async fn register_in_portal(browser: &Browser, name: &str, email: &str, password: &str) {
    let res = browser
        .form(
            "/sfn/register",
            &[("name", name), ("email", email), ("password", password)],
        )
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "/dashboard");
}

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("keyport_session="))
}

#[tokio::test]
async fn register_sign_out_sign_in_and_change_password() {
    let server = TestServer::start().await;
    let browser = server.browser();
    register_in_portal(
        &browser,
        "Grace Hopper",
        "grace@example.com",
        "cobol-forever-1",
    )
    .await;
    let dash = browser.get("/dashboard").await;
    assert_eq!(dash.status(), 200);
    let html = dash.text().await.unwrap();
    assert!(html.contains("Grace Hopper"));
    assert!(html.contains("Sign-ins, 30 days"));

    let res = browser.form("/sfn/logout", &[]).await;
    assert_eq!(location(&res), "/login");
    let res = browser.get("/dashboard").await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "/login?next=/dashboard");

    // Wrong password: back to the form with the error shown, still signed out.
    let res = browser
        .form(
            "/sfn/login",
            &[
                ("email", "grace@example.com"),
                ("password", "wrong-password"),
            ],
        )
        .await;
    assert_eq!(res.status(), 302);
    let back = location(&res);
    assert!(back.contains("/login") && back.contains("__err="), "{back}");
    let page = browser
        .get(&back.replace(&server.base, ""))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Invalid email or password."),
        "error is rendered without JavaScript"
    );
    assert_eq!(browser.get("/dashboard").await.status(), 302);

    let res = browser
        .form(
            "/sfn/login",
            &[
                ("email", "grace@example.com"),
                ("password", "cobol-forever-1"),
                ("next", "/account"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/account");
    let res = browser
        .form(
            "/sfn/change_password",
            &[
                ("current_password", "cobol-forever-1"),
                ("new_password", "cobol-forever-2"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/account?saved=password");
    let page = browser
        .get("/account?saved=password")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Password changed."));

    browser.form("/sfn/logout", &[]).await;
    let res = browser
        .form(
            "/sfn/login",
            &[
                ("email", "grace@example.com"),
                ("password", "cobol-forever-1"),
            ],
        )
        .await;
    assert!(location(&res).contains("__err="));
    let res = browser
        .form(
            "/sfn/login",
            &[
                ("email", "grace@example.com"),
                ("password", "cobol-forever-2"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/dashboard");
}

#[tokio::test]
async fn session_cookie_is_hardened_and_renewed_at_sign_in() {
    let server = TestServer::start().await;
    let browser = server.browser();
    register_in_portal(&browser, "Ken", "ken@example.com", "unix-password-1").await;
    let res = browser
        .form(
            "/sfn/login",
            &[
                ("email", "ken@example.com"),
                ("password", "unix-password-1"),
            ],
        )
        .await;
    let cookie = session_cookie(&res).expect("sign-in sets the session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http in tests: {cookie}");
    let first_id = cookie.split(';').next().unwrap().to_string();

    let res = browser
        .form(
            "/sfn/login",
            &[
                ("email", "ken@example.com"),
                ("password", "unix-password-1"),
            ],
        )
        .await;
    let second_id = session_cookie(&res)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert_ne!(first_id, second_id, "a new session id at every sign-in");

    // The replaced id no longer signs anyone in.
    let stale = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = stale
        .get(server.url("/dashboard"))
        .header("cookie", &first_id)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
}

#[tokio::test]
async fn password_change_signs_out_other_browsers() {
    let server = TestServer::start().await;
    let laptop = server.browser();
    let phone = server.browser();
    register_in_portal(&laptop, "Lin", "lin@example.com", "first-password").await;
    phone
        .form(
            "/sfn/login",
            &[("email", "lin@example.com"), ("password", "first-password")],
        )
        .await;
    assert_eq!(phone.get("/dashboard").await.status(), 200);
    laptop
        .form(
            "/sfn/change_password",
            &[
                ("current_password", "first-password"),
                ("new_password", "second-password"),
            ],
        )
        .await;
    assert_eq!(
        laptop.get("/dashboard").await.status(),
        200,
        "the changing session stays signed in"
    );
    assert_eq!(
        phone.get("/dashboard").await.status(),
        302,
        "other sessions are signed out"
    );
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let server = TestServer::start().await;
    let browser = server.browser();
    register_in_portal(
        &browser,
        "Mallory Target",
        "target@example.com",
        "target-password",
    )
    .await;
    for (origin, site) in [
        ("https://evil.example", "cross-site"),
        ("https://evil.example", "same-site"),
    ] {
        let res = browser
            .form_from(
                "/sfn/change_password",
                &[
                    ("current_password", "target-password"),
                    ("new_password", "hacked-password"),
                ],
                origin,
                site,
            )
            .await;
        assert_eq!(res.status(), 403);
    }
    // Without fetch metadata, a foreign Origin is refused too.
    let res = browser
        .http
        .post(server.url("/sfn/logout"))
        .header("origin", "https://evil.example")
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // REST calls riding on the cookie are checked as well.
    let res = browser
        .http
        .post(server.url("/api/v1/auth/logout"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    expect_error(res, 403, "CSRF_FAILED").await;
    // Nothing changed: the old password still works.
    server
        .api()
        .login("target@example.com", "target-password")
        .await;
}

#[tokio::test]
async fn security_headers_and_csp_nonce() {
    let server = TestServer::start().await;
    let res = server.browser().get("/login").await;
    let headers = res.headers().clone();
    let csp = headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(csp.contains("object-src 'none'"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "same-origin");
    let html = res.text().await.unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the CSP nonce"
    );
    assert!(
        !html.contains("<script>"),
        "no inline script without a nonce"
    );
}

#[tokio::test]
async fn pages_need_sign_in_and_admin_pages_need_admins() {
    let server = TestServer::start().await;
    let browser = server.browser();
    for path in ["/dashboard", "/account", "/admin"] {
        let res = browser.get(path).await;
        assert_eq!(res.status(), 302, "{path}");
        assert!(location(&res).starts_with("/login?next="), "{path}");
    }
    register_in_portal(
        &browser,
        "Plain User",
        "plain@example.com",
        "plain-password",
    )
    .await;
    let res = browser.get("/admin").await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("Access denied"));
    let html = browser.get("/dashboard").await.text().await.unwrap();
    assert!(!html.contains("href=\"/admin\""), "no Admin link for users");

    let admin = server.browser();
    admin
        .form(
            "/sfn/login",
            &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        )
        .await;
    let html = admin.get("/admin?q=plain").await.text().await.unwrap();
    let table = &html[html.find("<table").expect("a users table")..];
    assert!(table.contains("plain@example.com"));
    assert!(!table.contains(ADMIN_EMAIL), "search filters the list");
    let html = admin
        .get("/admin?q=%25%27%20OR%201%3D1")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("No users match"),
        "LIKE wildcards and quotes are literal"
    );
    let html = admin.get("/dashboard").await.text().await.unwrap();
    assert!(html.contains("href=\"/admin\"") && html.contains("This instance"));
    // Server functions enforce the same rule as the page.
    let res = browser
        .form("/sfn/admin_users", &[("q", ""), ("page", "1")])
        .await;
    assert!(
        location(&res).contains("__err="),
        "non-admin call is refused"
    );
}

#[tokio::test]
async fn not_found_page_and_static_files() {
    let server = TestServer::start().await;
    let res = server.browser().get("/no-such-page").await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn one_time_setup_page_creates_the_super_admin() {
    let server = TestServer::start_with(&[]).await;
    let browser = server.browser();
    let res = browser.get("/").await;
    assert_eq!(location(&res), "/setup");
    assert_eq!(location(&browser.get("/login").await), "/setup");
    let res = browser
        .form(
            "/sfn/setup",
            &[
                ("name", "Owner"),
                ("email", "owner@example.com"),
                ("password", "owner-password"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/dashboard");
    let html = browser.get("/dashboard").await.text().await.unwrap();
    assert!(html.contains("Owner") && html.contains("Super admin"));
    // Setup is one-time.
    assert_eq!(location(&browser.get("/setup").await), "/login");
    let other = server.browser();
    let res = other
        .form(
            "/sfn/setup",
            &[
                ("name", "Intruder"),
                ("email", "intruder@example.com"),
                ("password", "intruder-pass"),
            ],
        )
        .await;
    assert!(location(&res).contains("__err="));
    // Registration is open now.
    server
        .api()
        .register("later@example.com", "later-password", "Later")
        .await;
}

#[tokio::test]
async fn keys_in_the_portal_without_javascript() {
    let server = TestServer::start().await;
    let alice = server.browser();
    register_in_portal(
        &alice,
        "Alice",
        "alice-portal@example.com",
        "alice-password",
    )
    .await;
    assert!(
        alice
            .get("/keys")
            .await
            .text()
            .await
            .unwrap()
            .contains("No API keys yet")
    );
    let res = alice
        .form(
            "/sfn/create_key",
            &[
                ("name", "web"),
                ("scopes", "read, write"),
                ("tags", "prod"),
                ("expires_on", ""),
            ],
        )
        .await;
    let to = location(&res);
    assert!(to.starts_with("/keys/") && to.contains("?reveal="), "{to}");
    let page = alice.get(&to).await.text().await.unwrap();
    let start = page.find("value=\"kp_").expect("the key is shown") + 7;
    let key = &page[start..start + 41];
    let api = server.api();
    let verdict: serde_json::Value = api
        .post("/api/v1/keys/verify", serde_json::json!({"key": key}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verdict["code"], "VALID");
    // Shown once only.
    let again = alice.get(&to).await.text().await.unwrap();
    assert!(!again.contains(key) && again.contains("cannot be shown again"));
    let id: i64 = to
        .trim_start_matches("/keys/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    // Another user can neither see nor touch it.
    let mallory = server.browser();
    register_in_portal(
        &mallory,
        "Mallory",
        "mallory-portal@example.com",
        "mallory-password",
    )
    .await;
    let res = mallory.get(&format!("/keys/{id}")).await;
    assert_eq!(res.status(), 404);
    // The key's name nowhere (the navigation's "Webhooks" is not it).
    assert!(!res.text().await.unwrap().contains(">web<"));
    for action in ["revoke", "disable", "delete"] {
        let res = mallory
            .form(
                "/sfn/key_action",
                &[("id", &id.to_string()), ("action", action)],
            )
            .await;
        assert!(location(&res).contains("__err="), "{action}");
    }
    let res = mallory
        .form(
            "/sfn/rotate_key",
            &[("id", &id.to_string()), ("grace_period_seconds", "0")],
        )
        .await;
    assert!(location(&res).contains("__err="));
    let edit = [
        ("id", id.to_string()),
        ("name", "stolen".to_string()),
        ("description", String::new()),
        ("scopes", "admin".to_string()),
        ("tags", String::new()),
        ("expires_on", String::new()),
        ("ip_allowlist", String::new()),
        ("allowed_origins", String::new()),
    ];
    let edit: Vec<(&str, &str)> = edit.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert!(location(&mallory.form("/sfn/update_key", &edit).await).contains("__err="));
    let res = mallory
        .form("/sfn/key_detail", &[("id", &id.to_string())])
        .await;
    assert!(
        location(&res).contains("__err="),
        "the detail server function refuses too"
    );
    let res = mallory
        .form(
            "/sfn/key_action",
            &[("id", &id.to_string()), ("action", "enable")],
        )
        .await;
    assert!(location(&res).contains("__err="));
    let list = mallory.get("/keys").await.text().await.unwrap();
    assert!(
        list.contains("No API keys yet"),
        "someone else's keys are not listed"
    );
    let verdict: serde_json::Value = api
        .post("/api/v1/keys/verify", serde_json::json!({"key": key}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verdict["code"], "VALID", "nothing changed");

    // The owner revokes it.
    let res = alice
        .form(
            "/sfn/key_action",
            &[("id", &id.to_string()), ("action", "revoke")],
        )
        .await;
    assert_eq!(location(&res), format!("/keys/{id}?done=revoke"));
    let verdict: serde_json::Value = api
        .post("/api/v1/keys/verify", serde_json::json!({"key": key}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verdict["code"], "API_KEY_REVOKED");
    let list = alice
        .get("/keys?status=revoked")
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("Revoked") && list.contains(">web<"));
}

/// Leptos suppresses every resource in the process while it walks the app to list its routes;
/// a page whose resource first polled in that window never answered (the hang fresh-clone CI
/// runs hit about once in four, with ~75 test servers starting beside rendering pages). Routers
/// built while pages render must not stall them.
#[tokio::test]
async fn pages_keep_rendering_while_other_routers_are_built() {
    let server = TestServer::start().await;
    let browser = server.browser();
    register_in_portal(&browser, "Router", "router@example.com", "long-enough-pw").await;

    let state = server.state.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let building = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut built = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                drop(keyport::server::router(state.clone()));
                built += 1;
            }
            built
        })
    };
    let page_timeout = std::time::Duration::from_secs(10);
    for round in 0..100 {
        let res = tokio::time::timeout(page_timeout, async {
            let res = browser.get("/dashboard").await;
            let status = res.status();
            (status, res.text().await.unwrap_or_default())
        })
        .await;
        let Ok((status, html)) = res else {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            panic!("the dashboard never answered in round {round}");
        };
        assert_eq!(status, 200);
        assert!(html.contains("Sign-ins, 30 days"), "round {round}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(building.join().unwrap() > 0, "routers were built meanwhile");
}
