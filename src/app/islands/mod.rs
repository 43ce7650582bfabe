//! The only components that run in the browser. Everything else is server-rendered HTML.

pub mod copy;
pub mod password;
pub mod usage_charts;
