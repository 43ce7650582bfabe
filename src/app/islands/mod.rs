//! The only components that run in the browser. Everything else is server-rendered HTML.

pub mod bell;
pub mod bulk_progress;
pub mod copy;
#[cfg(feature = "hydrate")]
pub mod echarts;
pub mod password;
pub mod system;
pub mod usage_charts;

/// The `<script>` that loads the vendored ECharts: pages with charts render it (deferred), so
/// it may finish after hydration (see `echarts::when_loaded`).
pub const ECHARTS_SCRIPT_ID: &str = "echarts-script";
