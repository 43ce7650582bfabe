//! The wire shapes of organizations, members and invitations (REST and portal alike).

use crate::app::types::OrgRole;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// An organization, with the caller's role in it (`null` for a global admin who is no member).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Org {
    pub id: i64,
    pub name: String,
    pub slug: String,
    /// owner | admin | member | viewer
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, example = "owner"))]
    pub role: Option<OrgRole>,
    pub created_by: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrgPage {
    pub items: Vec<Org>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrgMember {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    #[cfg_attr(feature = "ssr", schema(value_type = String, example = "member"))]
    pub role: OrgRole,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub joined_at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrgMemberPage {
    pub items: Vec<OrgMember>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// A pending invitation (the token is only ever in the mailed link).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrgInvitation {
    pub id: i64,
    pub org_id: i64,
    pub email: String,
    #[cfg_attr(feature = "ssr", schema(value_type = String, example = "member"))]
    pub role: OrgRole,
    pub invited_by: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub expires_at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrgInvitationPage {
    pub items: Vec<OrgInvitation>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// An invitation link's offer, shown before it is accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationPreview {
    pub org_name: String,
    pub role: OrgRole,
    pub email: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// An org's page: the org with the caller's standing, its members and (for those who manage
/// it) its pending invitations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgScreen {
    pub org: Org,
    /// Owner, admin or global admin: may rename, change members and invite.
    pub manages: bool,
    /// Owner or global admin: may delete the org and grant the owner role.
    pub owns: bool,
    /// The signed-in user's id (to offer "Leave" on their own row).
    pub me: i64,
    pub members: OrgMemberPage,
    pub invitations: Option<OrgInvitationPage>,
}

/// The org switcher's choices and the active org (none: everything the user can see).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSwitcher {
    pub orgs: Vec<crate::app::key_filters::Choice>,
    pub active: Option<i64>,
}
