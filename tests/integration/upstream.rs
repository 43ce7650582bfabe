//! A real upstream HTTP server for gateway tests, on a free port: it echoes what it got,
//! streams large bodies, redirects, and has an endpoint that never answers.

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::Request,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{any, get},
};
use serde_json::{Value, json};

pub struct Upstream {
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn header_map(h: &HeaderMap) -> Value {
    let mut out = serde_json::Map::new();
    for (name, value) in h {
        out.insert(
            name.as_str().to_string(),
            Value::from(value.to_str().unwrap_or("<binary>")),
        );
    }
    Value::Object(out)
}

async fn echo(req: Request) -> Json<Value> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    Json(json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "headers": header_map(&parts.headers),
        "body_len": bytes.len(),
        "body_head": String::from_utf8_lossy(&bytes[..bytes.len().min(64)]),
    }))
}

/// `n` bytes of a repeating pattern, sent in 64 KiB chunks.
async fn big(axum::extract::Path(n): axum::extract::Path<usize>) -> Response {
    let chunks = (0..n.div_ceil(65_536)).map(move |i| {
        let len = (n - i * 65_536).min(65_536);
        Ok::<_, std::io::Error>(Bytes::from(vec![b'a' + (i % 26) as u8; len]))
    });
    Body::from_stream(futures::stream::iter(chunks)).into_response()
}

impl Upstream {
    pub async fn start() -> Self {
        let app = Router::new()
            .route("/never", any(std::future::pending::<&'static str>))
            .route("/big/{n}", get(big))
            .route(
                "/moved",
                get(|| async { (StatusCode::FOUND, [("location", "/elsewhere")], "") }),
            )
            .route(
                "/teapot",
                get(|| async {
                    (
                        StatusCode::IM_A_TEAPOT,
                        [("x-upstream", "yes")],
                        "short and stout",
                    )
                }),
            )
            .fallback(echo);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Upstream {
            base,
            stop: Some(stop),
        }
    }
}

/// A local address nothing listens on.
pub async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}
