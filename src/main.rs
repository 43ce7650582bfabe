//! `keyport`: configuration → database → state → serve, until Ctrl-C or SIGTERM.
//! `keyport seed-demo`: fill the database with demo data (`server::seed_cli`).

use keyport::{config::Config, server};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("keyport: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    server::init_logging(config.log_format);
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => {}
        Some("seed-demo") => return server::seed_cli::run(config, &args[1..]).await,
        Some(other) => {
            eprintln!(
                "keyport: unknown command {other}\nusage: keyport (serve)\n{}",
                server::seed_cli::USAGE
            );
            return ExitCode::from(2);
        }
    }
    let addr = config.addr;
    let state = match server::prepare(config).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "could not start");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, %addr, "could not listen");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        "Keyport is serving http://{} (database: {})",
        listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| addr.to_string()),
        state.db.backend()
    );
    if let Err(e) = server::serve(state, listener, server::shutdown_signal()).await {
        tracing::error!(error = %e, "server failed");
        return ExitCode::FAILURE;
    }
    tracing::info!("stopped");
    ExitCode::SUCCESS
}
