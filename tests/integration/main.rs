//! Integration stories against a real server. The same tests run on SQLite (default) and on
//! PostgreSQL (KEYPORT_TEST_DATABASE_URL set).

mod alerts;
mod alerts_portal;
mod analytics;
mod api_auth;
mod api_errors;
mod api_keys;
mod apis;
mod apis_portal;
mod demo;
mod email_verification;
mod gateway;
mod harness;
mod mail;
mod mail_notices;
mod metrics;
mod notification_center;
mod notification_prefs;
mod ops;
mod password_reset;
mod policies;
mod portal;
mod sessions;
mod smtp;
mod system;
mod traffic;
mod two_factor;
mod two_factor_manage;
mod upstream;
mod usage;
mod usage_breakdown;
mod usage_live;
