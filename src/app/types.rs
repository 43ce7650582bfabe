//! Types shared by the server and the browser build: what server functions return and pages show.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct UserId(pub i64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    SuperAdmin,
    Admin,
    User,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::SuperAdmin => "super_admin",
            Role::Admin => "admin",
            Role::User => "user",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "super_admin" => Some(Role::SuperAdmin),
            "admin" => Some(Role::Admin),
            "user" => Some(Role::User),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::SuperAdmin => "Super admin",
            Role::Admin => "Admin",
            Role::User => "User",
            Role::Viewer => "Viewer",
        }
    }

    pub fn is_admin(self) -> bool {
        matches!(self, Role::SuperAdmin | Role::Admin)
    }
}

/// A member's role inside an organization (independent of their global `Role`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrgRole {
    Owner,
    Admin,
    Member,
    Viewer,
}

impl OrgRole {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Owner => "owner",
            OrgRole::Admin => "admin",
            OrgRole::Member => "member",
            OrgRole::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "owner" => Some(OrgRole::Owner),
            "admin" => Some(OrgRole::Admin),
            "member" => Some(OrgRole::Member),
            "viewer" => Some(OrgRole::Viewer),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            OrgRole::Owner => "Owner",
            OrgRole::Admin => "Admin",
            OrgRole::Member => "Member",
            OrgRole::Viewer => "Viewer",
        }
    }

    /// Owners and admins manage the org's members, invitations and every org key.
    pub fn manages(self) -> bool {
        matches!(self, OrgRole::Owner | OrgRole::Admin)
    }
}

/// A user as shown to themselves and to admins (never the password hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct User {
    #[cfg_attr(feature = "ssr", schema(value_type = i64, example = 7))]
    pub id: UserId,
    #[cfg_attr(feature = "ssr", schema(example = "ada@example.com"))]
    pub email: String,
    #[cfg_attr(feature = "ssr", schema(example = "Ada Lovelace"))]
    pub name: String,
    pub role: Role,
    /// Whether the address was confirmed through the mailed link.
    #[serde(default)]
    pub email_verified: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
    /// Set while an admin has the account suspended: nothing of it works until reactivated.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub suspended_at: Option<OffsetDateTime>,
    /// The admin's note on why (admins only see it; null when not suspended).
    #[serde(default)]
    pub suspended_reason: Option<String>,
}

impl User {
    /// Up to two initials for the avatar.
    pub fn initials(&self) -> String {
        let mut initials: String = self
            .name
            .split_whitespace()
            .filter_map(|word| word.chars().next())
            .take(2)
            .flat_map(char::to_uppercase)
            .collect();
        if initials.is_empty() {
            initials = self
                .email
                .chars()
                .take(1)
                .flat_map(char::to_uppercase)
                .collect();
        }
        initials
    }
}

/// Figures on the dashboard, read from the database on every visit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardStats {
    pub signins_30d: i64,
    pub failed_signins_30d: i64,
    pub api_sessions_active: i64,
    pub browser_sessions_active: i64,
    pub last_signin: Option<String>,
    /// Only filled for admins.
    pub admin: Option<AdminStats>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminStats {
    pub users_total: i64,
    pub users_new_7d: i64,
    pub admins: i64,
    pub viewers: i64,
    pub failed_signins_24h: i64,
}

/// A user as lists for admins show them: the account and its sign-in protection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserSummary {
    #[serde(flatten)]
    pub user: User,
    pub two_factor_enabled: bool,
}

/// Whether an account signs in with a second factor, and how many recovery codes are left.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TwoFactorStatus {
    pub enabled: bool,
    /// When it was turned on.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub enabled_at: Option<OffsetDateTime>,
    /// An enrollment is waiting for its first code.
    pub pending: bool,
    /// Unused recovery codes (0 while off).
    pub recovery_codes_left: i64,
}

/// The portal's two-factor page: the status and, while enrollment waits for a code, what to
/// scan or type into an authenticator app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorView {
    pub status: TwoFactorStatus,
    pub enrollment: Option<Enrollment>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrollment {
    /// Base32, for typing.
    pub secret: String,
    pub otpauth_uri: String,
    /// The URI as an inline SVG QR code, drawn on the server.
    pub qr_svg: String,
}

/// A page of the admin users table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserListPage {
    pub items: Vec<UserSummary>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct KeyId(pub i64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    Active,
    Revoked,
    Expired,
    Disabled,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Revoked => "revoked",
            KeyStatus::Expired => "expired",
            KeyStatus::Disabled => "disabled",
        }
    }
}

/// An API key as its owner and admins see it. The plaintext is never part of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiKey {
    #[cfg_attr(feature = "ssr", schema(value_type = i64, example = 12))]
    pub id: KeyId,
    #[cfg_attr(feature = "ssr", schema(example = "Customer portal"))]
    pub name: String,
    pub description: String,
    #[cfg_attr(feature = "ssr", schema(example = "kp"))]
    pub prefix: String,
    #[cfg_attr(feature = "ssr", schema(example = "x9Qa"))]
    pub last4: String,
    pub status: KeyStatus,
    pub enabled: bool,
    pub scopes: Vec<String>,
    pub tags: Vec<String>,
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub metadata: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub last_used_at: Option<OffsetDateTime>,
    /// When the key stops (or stopped) working: set by revoke, or in the future while a
    /// rotated key's grace period runs.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub revoked_at: Option<OffsetDateTime>,
    /// The key that replaced this one by rotation.
    #[cfg_attr(feature = "ssr", schema(value_type = Option<i64>))]
    pub rotated_to_id: Option<KeyId>,
    /// Named rate limits; every one must pass.
    pub rate_limits: Vec<crate::app::limit_types::RateLimitSpec>,
    /// The quota with this period's usage (null without a quota).
    pub quota: Option<crate::app::limit_types::KeyQuota>,
    /// Credits left (null when the key is not usage-limited).
    pub remaining: Option<i64>,
    /// Resets `remaining` every interval (null without refills).
    pub refill: Option<crate::app::limit_types::RefillSpec>,
    /// Each rate limit's current window: requests left and when it is full again.
    pub rate_limit_status: Vec<crate::app::limit_types::RateLimitStatus>,
    pub ip_allowlist: Vec<String>,
    pub allowed_origins: Vec<String>,
    pub api_id: Option<i64>,
    #[cfg_attr(feature = "ssr", schema(value_type = i64))]
    pub owner_user_id: UserId,
    pub org_id: Option<i64>,
    #[cfg_attr(feature = "ssr", schema(value_type = Option<i64>))]
    pub created_by: Option<UserId>,
}

/// A key just created or rotated: the only time its plaintext is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IssuedKey {
    #[serde(flatten)]
    pub api_key: ApiKey,
    /// The key itself. Store it now: it cannot be shown again.
    #[cfg_attr(
        feature = "ssr",
        schema(example = "kp_3xAmpLe0000000000000000000000000Ab12cD")
    )]
    pub key: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct ApiId(pub i64);

/// An API behind the gateway, as everyone signed in sees it (developers pick one for their
/// keys; admins manage them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Api {
    #[cfg_attr(feature = "ssr", schema(value_type = i64, example = 1))]
    pub id: ApiId,
    #[cfg_attr(feature = "ssr", schema(example = "Tickets"))]
    pub name: String,
    /// The gateway serves the API at `/gw/{slug}/`.
    #[cfg_attr(feature = "ssr", schema(example = "tickets"))]
    pub slug: String,
    pub description: String,
    /// Where the gateway forwards calls; the path after `/gw/{slug}` is appended.
    #[cfg_attr(
        feature = "ssr",
        schema(example = "https://tickets.internal.example.com/v2")
    )]
    pub upstream_url: String,
    /// Limits for keys that have none of their own.
    pub default_rate_limits: Vec<crate::app::limit_types::RateLimitSpec>,
    /// How long the gateway waits for the upstream.
    #[cfg_attr(feature = "ssr", schema(example = 30000))]
    pub timeout_ms: i64,
    /// A disabled API is not served by the gateway.
    pub enabled: bool,
    #[cfg_attr(feature = "ssr", schema(value_type = Option<i64>))]
    pub created_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
    /// Where consumers call it on this server.
    #[cfg_attr(feature = "ssr", schema(example = "/gw/tickets/"))]
    pub gateway_path: String,
}

impl Api {
    pub fn gateway_path_of(slug: &str) -> String {
        format!("/gw/{slug}/")
    }
}

/// A page of APIs (`GET /apis`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiPage {
    pub items: Vec<Api>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_admin_flags() {
        for role in [Role::SuperAdmin, Role::Admin, Role::User, Role::Viewer] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert!(Role::SuperAdmin.is_admin() && Role::Admin.is_admin());
        assert!(!Role::User.is_admin() && !Role::Viewer.is_admin());
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn initials_come_from_name_or_email() {
        let mut user = User {
            id: UserId(1),
            email: "zed@example.com".into(),
            name: "ada king lovelace".into(),
            role: Role::User,
            email_verified: true,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            suspended_at: None,
            suspended_reason: None,
        };
        assert_eq!(user.initials(), "AK");
        user.name = "   ".into();
        assert_eq!(user.initials(), "Z");
    }
}
