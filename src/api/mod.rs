//! The REST API under /api/v1 (see the contract). Handlers stay thin: extract, call the
//! domain, answer.

pub mod account_sessions;
pub mod admin;
pub mod alerts;
pub mod analytics;
pub mod apis;
pub mod auth;
pub mod error;
pub mod extract;
pub mod jobs;
pub mod keys;
pub mod lifecycle;
pub mod notifications;
pub mod orgs;
pub mod password_reset;
pub mod rate_limits;
pub mod two_factor;
pub mod users;
pub mod webhooks;
// Admin console
pub mod admin_users;

use crate::server::state::AppState;
use axum::{
    Json, Router,
    routing::{any, get, post},
};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Keyport API", version = "1.0.0",
         description = "Keyport's REST API. Errors always use the ErrorBody shape."),
    paths(
        auth::auth_register, auth::auth_login, auth::auth_refresh, auth::auth_logout,
        account_sessions::sessions_list, account_sessions::sessions_delete,
        account_sessions::sessions_revoke_others,
        password_reset::password_reset_request, password_reset::password_reset_confirm,
        password_reset::verify_email,
        two_factor::two_factor_setup, two_factor::two_factor_enable, two_factor::two_factor_disable,
        two_factor::two_factor_status, two_factor::two_factor_recovery_codes,
        two_factor::admin_two_factor_reset,
        users::users_me, users::users_me_update, users::users_me_password,
        keys::keys_create, keys::keys_list, keys::keys_get, keys::keys_update, keys::keys_delete,
        keys::keys_revoke, keys::keys_rotate, keys::keys_verify,
        lifecycle::lifecycle_policy_get, lifecycle::lifecycle_policy_put,
        lifecycle::key_templates_list, lifecycle::key_templates_get, lifecycle::key_templates_create,
        lifecycle::key_templates_update, lifecycle::key_templates_delete,
        analytics::keys_usage, analytics::analytics_usage,
        analytics::keys_usage_export, analytics::analytics_usage_export,
        apis::apis_list, apis::apis_create, apis::apis_get, apis::apis_update, apis::apis_delete,
        rate_limits::rate_limits_list, rate_limits::rate_limits_create, rate_limits::rate_limits_get,
        rate_limits::rate_limits_update, rate_limits::rate_limits_delete,
        crate::gateway::forward,
        admin::admin_system, jobs::admin_jobs_list, jobs::admin_jobs_retry,
        alerts::alert_rules_list, alerts::alert_rules_update, alerts::alerts_list,
        alerts::notifications_list, alerts::notifications_read, alerts::notifications_read_all,
        webhooks::webhooks_list, webhooks::webhooks_create, webhooks::webhooks_get,
        webhooks::webhooks_update, webhooks::webhooks_delete, webhooks::webhooks_secret,
        webhooks::webhooks_rotate_secret, webhooks::webhooks_test, webhooks::webhooks_deliveries,
        webhooks::webhooks_delivery, webhooks::webhooks_redeliver,
        notifications::preferences_get, notifications::preferences_update,
        notifications::broadcasts_create,
        orgs::orgs_list, orgs::orgs_create, orgs::orgs_get, orgs::orgs_update, orgs::orgs_delete,
        orgs::org_members_list, orgs::org_members_update, orgs::org_members_delete,
        orgs::org_invitations_list, orgs::org_invitations_create, orgs::org_invitations_delete,
        orgs::invitations_accept,
        keys::keys_bulk, keys::saved_filters_list, keys::saved_filters_create,
        keys::saved_filters_delete, keys::keys_bulk_get,
        admin_users::admin_users_list, admin_users::admin_users_get, admin_users::admin_users_update,
        admin_users::admin_users_suspend, admin_users::admin_users_reactivate,
        admin_users::audit_log_list, admin_users::audit_log_export, admin_users::admin_security_events,
    ),
    components(schemas(error::ErrorBody, crate::error::ErrorCode, crate::error::FieldError,
        crate::domain::keys::verify::VerifyCode)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-in with JWT access tokens and rotating refresh tokens; the caller's sessions"),
        (name = "users", description = "The caller's own account"),
        (name = "keys", description = "Issue and manage API keys (session, access token, or a management key with manage:* / manage:keys)"),
        (name = "lifecycle", description = "Key lifecycle: the lifecycle policy (admins) and key templates (admins change; everyone signed in reads)"),
        (name = "verification", description = "Check an API key; the key is the credential"),
        (name = "analytics", description = "Usage reports from minute, hour and day rollups: a key's, or the caller's traffic (admins: everyone's)"),
        (name = "apis", description = "The API registry: the APIs behind the gateway (anyone signed in reads; admins change)"),
        (name = "rate-limits", description = "Rate-limit policies beyond a key's own: global, per API, endpoint, user, org, client IP or key (admins only)"),
        (name = "gateway", description = "Calls to mounted APIs, checked like verification and forwarded upstream"),
        (name = "admin", description = "The running instance and its users, for admins"),
        (name = "alerts", description = "Usage alerts: rules (admins) and the alerts they raised"),
        (name = "notifications", description = "The caller's in-portal notifications and which channels (in-app, email, webhook) each event type reaches"),
        (name = "webhooks", description = "The caller's webhook endpoints: signed deliveries (Standard Webhooks), retries, the delivery log"),
        (name = "orgs", description = "Organizations: members with roles (owner, admin, member, viewer), invitations by mailed single-use link; non-members get 404"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

pub fn openapi_document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi_document())
}

/// Everything under /api: v1 routes, and the contract's JSON errors for anything else.
/// Every route at its full path: one routing step per request (nesting costs a step per level,
/// which the verify hot path notices). Unknown /api paths get the contract's 404 body.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/auth/register", post(auth::auth_register))
        .route("/api/v1/auth/login", post(auth::auth_login))
        .route("/api/v1/auth/refresh", post(auth::auth_refresh))
        .route("/api/v1/auth/logout", post(auth::auth_logout))
        .route("/api/v1/auth/2fa", get(two_factor::two_factor_status))
        .route(
            "/api/v1/auth/sessions",
            get(account_sessions::sessions_list),
        )
        .route(
            "/api/v1/auth/sessions/revoke-others",
            post(account_sessions::sessions_revoke_others),
        )
        .route(
            "/api/v1/auth/sessions/{id}",
            axum::routing::delete(account_sessions::sessions_delete),
        )
        .route(
            "/api/v1/auth/password-reset/request",
            post(password_reset::password_reset_request),
        )
        .route(
            "/api/v1/auth/password-reset/confirm",
            post(password_reset::password_reset_confirm),
        )
        .route(
            "/api/v1/auth/verify-email",
            post(password_reset::verify_email),
        )
        .route("/api/v1/auth/2fa/setup", post(two_factor::two_factor_setup))
        .route(
            "/api/v1/auth/2fa/recovery-codes",
            post(two_factor::two_factor_recovery_codes),
        )
        .route(
            "/api/v1/auth/2fa/enable",
            post(two_factor::two_factor_enable),
        )
        .route(
            "/api/v1/auth/2fa/disable",
            post(two_factor::two_factor_disable),
        )
        .route(
            "/api/v1/users/me",
            get(users::users_me).patch(users::users_me_update),
        )
        .route("/api/v1/users/me/password", post(users::users_me_password))
        .route("/api/v1/keys", post(keys::keys_create).get(keys::keys_list))
        .route("/api/v1/keys/verify", post(keys::keys_verify))
        .route("/api/v1/keys/bulk", post(keys::keys_bulk))
        .route("/api/v1/keys/bulk/{id}", get(keys::keys_bulk_get))
        .route(
            "/api/v1/keys/saved-filters",
            get(keys::saved_filters_list).post(keys::saved_filters_create),
        )
        .route(
            "/api/v1/keys/saved-filters/{id}",
            axum::routing::delete(keys::saved_filters_delete),
        )
        .route(
            "/api/v1/keys/{id}",
            get(keys::keys_get)
                .patch(keys::keys_update)
                .delete(keys::keys_delete),
        )
        .route("/api/v1/keys/{id}/revoke", post(keys::keys_revoke))
        .route("/api/v1/keys/{id}/rotate", post(keys::keys_rotate))
        .route("/api/v1/keys/{id}/usage", get(analytics::keys_usage))
        .route("/api/v1/analytics/usage", get(analytics::analytics_usage))
        .route(
            "/api/v1/keys/{id}/usage/export",
            get(analytics::keys_usage_export),
        )
        .route(
            "/api/v1/analytics/usage/export",
            get(analytics::analytics_usage_export),
        )
        .route("/api/v1/apis", get(apis::apis_list).post(apis::apis_create))
        .route(
            "/api/v1/apis/{id}",
            get(apis::apis_get)
                .patch(apis::apis_update)
                .delete(apis::apis_delete),
        )
        .route(
            "/api/v1/rate-limits",
            get(rate_limits::rate_limits_list).post(rate_limits::rate_limits_create),
        )
        .route(
            "/api/v1/rate-limits/{id}",
            get(rate_limits::rate_limits_get)
                .patch(rate_limits::rate_limits_update)
                .delete(rate_limits::rate_limits_delete),
        )
        .route("/api/v1/admin/system", get(admin::admin_system))
        .route("/api/v1/admin/jobs", get(jobs::admin_jobs_list))
        .route(
            "/api/v1/admin/jobs/{id}/retry",
            post(jobs::admin_jobs_retry),
        )
        .route(
            "/api/v1/admin/lifecycle-policy",
            get(lifecycle::lifecycle_policy_get).put(lifecycle::lifecycle_policy_put),
        )
        .route(
            "/api/v1/key-templates",
            get(lifecycle::key_templates_list).post(lifecycle::key_templates_create),
        )
        .route(
            "/api/v1/key-templates/{id}",
            get(lifecycle::key_templates_get)
                .patch(lifecycle::key_templates_update)
                .delete(lifecycle::key_templates_delete),
        )
        .route(
            "/api/v1/admin/users/{id}/2fa/reset",
            post(two_factor::admin_two_factor_reset),
        )
        .route("/api/v1/alert-rules", get(alerts::alert_rules_list))
        .route(
            "/api/v1/alert-rules/{kind}",
            axum::routing::patch(alerts::alert_rules_update),
        )
        .route("/api/v1/alerts", get(alerts::alerts_list))
        .route("/api/v1/notifications", get(alerts::notifications_list))
        .route(
            "/api/v1/notification-preferences",
            get(notifications::preferences_get).put(notifications::preferences_update),
        )
        .route(
            "/api/v1/admin/broadcasts",
            post(notifications::broadcasts_create),
        )
        .route(
            "/api/v1/notifications/read-all",
            post(alerts::notifications_read_all),
        )
        .route(
            "/api/v1/notifications/{id}/read",
            post(alerts::notifications_read),
        )
        .route(
            "/api/v1/webhooks",
            get(webhooks::webhooks_list).post(webhooks::webhooks_create),
        )
        .route(
            "/api/v1/webhooks/{id}",
            get(webhooks::webhooks_get)
                .patch(webhooks::webhooks_update)
                .delete(webhooks::webhooks_delete),
        )
        .route(
            "/api/v1/webhooks/{id}/secret",
            get(webhooks::webhooks_secret),
        )
        .route(
            "/api/v1/webhooks/{id}/rotate-secret",
            post(webhooks::webhooks_rotate_secret),
        )
        .route("/api/v1/webhooks/{id}/test", post(webhooks::webhooks_test))
        .route(
            "/api/v1/webhooks/{id}/deliveries",
            get(webhooks::webhooks_deliveries),
        )
        .route(
            "/api/v1/webhooks/{id}/deliveries/{delivery_id}",
            get(webhooks::webhooks_delivery),
        )
        .route(
            "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
            post(webhooks::webhooks_redeliver),
        )
        .route("/api/v1/orgs", get(orgs::orgs_list).post(orgs::orgs_create))
        .route(
            "/api/v1/orgs/{id}",
            get(orgs::orgs_get)
                .patch(orgs::orgs_update)
                .delete(orgs::orgs_delete),
        )
        .route("/api/v1/orgs/{id}/members", get(orgs::org_members_list))
        .route(
            "/api/v1/orgs/{id}/members/{user_id}",
            axum::routing::patch(orgs::org_members_update).delete(orgs::org_members_delete),
        )
        .route(
            "/api/v1/orgs/{id}/invitations",
            get(orgs::org_invitations_list).post(orgs::org_invitations_create),
        )
        .route(
            "/api/v1/orgs/{id}/invitations/{inv_id}",
            axum::routing::delete(orgs::org_invitations_delete),
        )
        .route("/api/v1/invitations/accept", post(orgs::invitations_accept))
        // Admin console
        .route("/api/v1/admin/users", get(admin_users::admin_users_list))
        .route(
            "/api/v1/admin/users/{id}",
            get(admin_users::admin_users_get).patch(admin_users::admin_users_update),
        )
        .route(
            "/api/v1/admin/users/{id}/suspend",
            post(admin_users::admin_users_suspend),
        )
        .route(
            "/api/v1/admin/users/{id}/reactivate",
            post(admin_users::admin_users_reactivate),
        )
        .route("/api/v1/audit-log", get(admin_users::audit_log_list))
        .route(
            "/api/v1/audit-log/export.csv",
            get(admin_users::audit_log_export),
        )
        .route(
            "/api/v1/admin/security-events",
            get(admin_users::admin_security_events),
        )
        .route("/api", any(error::not_found))
        .route("/api/{*rest}", any(error::not_found))
}
