//! `GET /metrics` and the figures it reads from the running server.

use super::Gauges;
use super::render::resident_memory_bytes;

/// The figures read from the running parts of `state` at this moment.
pub fn gauges(state: &crate::server::state::AppState) -> Gauges {
    let pool = state.db.pool_stats();
    let uptime = state.started_at.elapsed().as_secs_f64();
    let now_s = crate::domain::to_millis(time::OffsetDateTime::now_utc()) as f64 / 1000.0;
    Gauges {
        usage: state.usage.stats(),
        usage_queue_capacity: state.config.usage_queue_capacity as u64,
        rollup_rows_pending: state.usage.pending().len() as u64,
        db_backend: pool.backend,
        db_pool_size: u64::from(pool.size),
        db_pool_idle: u64::from(pool.idle),
        db_pool_max: u64::from(pool.max),
        resident_memory_bytes: resident_memory_bytes(),
        start_time_s: (now_s - uptime).floor(),
        uptime_s: (uptime * 1000.0).round() / 1000.0,
        cached_keys: state.key_cache.len().0 as u64,
    }
}

/// `GET /metrics`: the Prometheus text format, for the scraper's token
/// (KEYPORT_METRICS_TOKEN) or an admin's access token.
pub async fn metrics_endpoint(
    axum::extract::State(state): axum::extract::State<crate::server::state::AppState>,
    req: axum::extract::Request,
) -> Result<axum::response::Response, crate::error::AppError> {
    use axum::extract::FromRequestParts;
    use axum::response::IntoResponse;
    let (mut parts, _) = req.into_parts();
    let bearer = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let scraper = match (&state.config.metrics_token, bearer) {
        (Some(token), Some(given)) => {
            crate::domain::crypto::constant_time_eq(token.expose().as_bytes(), given.as_bytes())
        }
        _ => false,
    };
    if !scraper {
        let caller =
            crate::api::extract::CurrentUser::from_request_parts(&mut parts, &state).await?;
        if !caller.user.role.is_admin() {
            return Err(crate::error::AppError::new(
                crate::error::ErrorCode::Forbidden,
                "Metrics are for admins and the metrics token.",
            ));
        }
    }
    let body = state.metrics.render(&gauges(&state));
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response())
}
