//! A trivial upstream for the gateway benchmark (bench/run.sh): every request gets 200 with a
//! small fixed JSON body, and is counted. `GET /__count` answers that count (itself not
//! counted), so the bench knows from the server side how many calls the gateway forwarded.
//!
//! usage: upstream --addr 127.0.0.1:PORT
//!
//! Not a benchmark by itself: without `--addr` it exits at once, so a plain `cargo bench`
//! passes over it. Stops on SIGTERM or Ctrl-C.

use axum::{Router, extract::State, http::header, response::IntoResponse, routing::get};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

const BODY: &str = "{\"ok\":true}";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(addr) = args
        .iter()
        .position(|a| a == "--addr")
        .and_then(|i| args.get(i + 1))
        .cloned()
    else {
        eprintln!("upstream: run by bench/run.sh (usage: upstream --addr 127.0.0.1:PORT)");
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let served = Arc::new(AtomicU64::new(0));
        let app = Router::new()
            .route("/__count", get(count))
            .fallback(answer)
            .with_state(served.clone());
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .unwrap_or_else(|e| panic!("upstream: cannot listen on {addr}: {e}"));
        eprintln!("upstream: listening on http://{addr}");
        axum::serve(listener, app)
            .with_graceful_shutdown(stopped())
            .await
            .expect("serve");
        eprintln!("upstream: served {}", served.load(Ordering::Relaxed));
    });
}

async fn answer(State(served): State<Arc<AtomicU64>>) -> impl IntoResponse {
    served.fetch_add(1, Ordering::Relaxed);
    ([(header::CONTENT_TYPE, "application/json")], BODY)
}

async fn count(State(served): State<Arc<AtomicU64>>) -> String {
    served.load(Ordering::Relaxed).to_string()
}

async fn stopped() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
}
