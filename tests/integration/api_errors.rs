use crate::harness::*;
use serde_json::{Value, json};

const AUTH_ENDPOINTS: [&str; 7] = [
    "/api/v1/auth/register",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/2fa/setup",
    "/api/v1/auth/2fa/enable",
    "/api/v1/auth/2fa/disable",
    // last: it ends the session the others are called with
    "/api/v1/auth/logout",
];

#[tokio::test]
async fn bad_bodies_get_contract_errors_on_every_auth_endpoint() {
    let server = TestServer::start().await;
    let api = server.api();
    api.register("body@example.com", "long-enough-pw", "Body")
        .await;
    let (access, _) = api.login("body@example.com", "long-enough-pw").await;
    for path in AUTH_ENDPOINTS {
        let send = |content_type: &'static str, body: Vec<u8>| {
            api.http
                .post(format!("{}{path}", api.base))
                .bearer_auth(&access)
                .header("content-type", content_type)
                .body(body)
                .send()
        };
        if path == "/api/v1/auth/logout" || path == "/api/v1/auth/2fa/setup" {
            // logout and setup take no body; it must still never fail with a 500 whatever is sent
            let res = send("application/json", b"{broken".to_vec()).await.unwrap();
            assert!(res.status().as_u16() < 500, "{path}");
            continue;
        }
        expect_error(
            send("application/json", b"{\"email\": ".to_vec())
                .await
                .unwrap(),
            400,
            "INVALID_JSON",
        )
        .await;
        expect_error(
            send("application/json", b"[1, 2, 3]".to_vec())
                .await
                .unwrap(),
            422,
            "VALIDATION_ERROR",
        )
        .await;
        expect_error(
            send("application/json", b"{}".to_vec()).await.unwrap(),
            422,
            "VALIDATION_ERROR",
        )
        .await;
        expect_error(
            send(
                "application/json",
                br#"{"email": ["a"], "password": {}, "name": 1, "refresh_token": false}"#.to_vec(),
            )
            .await
            .unwrap(),
            422,
            "VALIDATION_ERROR",
        )
        .await;
        expect_error(
            send("text/plain", b"hello".to_vec()).await.unwrap(),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        )
        .await;
        expect_error(
            send("application/x-www-form-urlencoded", b"email=a".to_vec())
                .await
                .unwrap(),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        )
        .await;
        let two_mib = format!("{{\"email\": \"{}\"}}", "a".repeat(2 * 1024 * 1024)).into_bytes();
        expect_error(
            send("application/json", two_mib).await.unwrap(),
            413,
            "PAYLOAD_TOO_LARGE",
        )
        .await;
        expect_error(
            send("application/json", Vec::new()).await.unwrap(),
            400,
            "INVALID_JSON",
        )
        .await;
    }
}

#[tokio::test]
async fn oversize_body_without_content_length_is_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start().await;
    // A chunked body has no Content-Length; the limit still applies while it is read.
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b' '; 1024 * 1024];
    for _ in 0..3 {
        // the server may answer and close before taking everything; that is the point
        if socket
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await
            .is_err()
            || socket.write_all(&chunk).await.is_err()
            || socket.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let _ = socket.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.starts_with("HTTP/1.1 413"),
        "{}",
        &text[..text.len().min(200)]
    );
    assert!(
        text.contains("\"error_code\":\"PAYLOAD_TOO_LARGE\""),
        "{text}"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let server = TestServer::start().await;
    let api = server.api();
    expect_error(api.get("/api/v1/nope", None).await, 404, "NOT_FOUND").await;
    expect_error(api.get("/api/nope", None).await, 404, "NOT_FOUND").await;
    expect_error(api.get("/api", None).await, 404, "NOT_FOUND").await;
    expect_error(api.get("/api/", None).await, 404, "NOT_FOUND").await;
    expect_error(api.get("/api/v1", None).await, 404, "NOT_FOUND").await;
    expect_error(
        api.post("/api/v2/auth/login", json!({})).await,
        404,
        "NOT_FOUND",
    )
    .await;
    let res = api.get("/api/v1/auth/login", None).await;
    assert_eq!(res.headers()["allow"], "POST");
    expect_error(res, 405, "METHOD_NOT_ALLOWED").await;
    let res = api
        .http
        .delete(format!("{}/api/v1/users/me", api.base))
        .send()
        .await
        .unwrap();
    expect_error(res, 405, "METHOD_NOT_ALLOWED").await;
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let server = TestServer::start().await;
    let api = server.api();
    let res = api
        .http
        .get(format!("{}/healthz", api.base))
        .header("x-request-id", "trace-abc.123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-abc.123");
    let res = api
        .http
        .get(format!("{}/api/v1/nope", api.base))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let generated = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(
        res.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'",
        "JSON answers load nothing"
    );
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_ne!(generated, "bad id with spaces");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["request_id"], generated.as_str());
    let page = server.browser().get("/login").await;
    assert!(page.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn openapi_document_covers_every_route() {
    let server = TestServer::start().await;
    let res = server.api().get("/api/v1/openapi.json", None).await;
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/auth/register", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/refresh", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/auth/2fa/setup", "post"),
        ("/api/v1/auth/2fa/enable", "post"),
        ("/api/v1/auth/2fa/disable", "post"),
        ("/api/v1/auth/2fa", "get"),
        ("/api/v1/auth/2fa/recovery-codes", "post"),
        ("/api/v1/admin/users/{id}/2fa/reset", "post"),
        ("/api/v1/auth/password-reset/request", "post"),
        ("/api/v1/auth/password-reset/confirm", "post"),
        ("/api/v1/auth/verify-email", "post"),
        ("/api/v1/users/me", "get"),
        ("/api/v1/users/me", "patch"),
        ("/api/v1/users/me/password", "post"),
    ] {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path} documented");
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|s| s.starts_with('4')),
            "{method} {path} documents its errors"
        );
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn a_number_where_an_enum_string_belongs_is_a_field_error_not_broken_json() {
    let server = TestServer::start().await;
    let api = server.api();
    let token = user_token(&api, "enum@example.com").await;
    let res = api
        .post_auth(
            "/api/v1/keys",
            &token,
            json!({"name": "k", "rate_limits": [{"name": "d", "limit": 1, "window": 3}]}),
        )
        .await;
    let body = expect_error(res, 422, "VALIDATION_ERROR").await;
    assert_eq!(body["errors"][0]["field"], "body.rate_limits[0].window");
}
