//! Invitations to an org by a mailed single-use link `/invitations/{token}`. The token is
//! random (256 bits) and stored only as a keyed hash; the link works once, for 7 days, and
//! only for a signed-in user whose address is the invited one.

use super::{PageQuery, Standing, forbidden, parse_role, standing};
use crate::app::org_types::{OrgInvitation, OrgInvitationPage};
use crate::app::types::OrgRole;
use crate::db::{self, Db, orgs::InvitationRow};
use crate::domain::accounts::{self, normalize_email};
use crate::domain::keys::Actor;
use crate::domain::{Timestamp, crypto::Keys, db_failure, from_millis, paging, to_millis};
use crate::error::{AppError, AppResult, ErrorCode, Validator};
use crate::mail::{Mail, Mailer, Recipient};
use serde::Deserialize;

pub const INVITATION_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;
const MAX_TOKEN_CHARS: usize = 128;

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteInput {
    pub email: String,
    /// owner | admin | member | viewer (only owners invite owners)
    pub role: String,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInput {
    pub token: String,
}

fn view(row: &InvitationRow) -> Option<OrgInvitation> {
    Some(OrgInvitation {
        id: row.id,
        org_id: row.org_id,
        email: row.email.clone(),
        role: OrgRole::parse(&row.role)?,
        invited_by: row.invited_by,
        created_at: from_millis(row.created_at),
        expires_at: from_millis(row.expires_at),
    })
}

fn managing(s: &Standing) -> AppResult<()> {
    if s.manages() {
        Ok(())
    } else {
        Err(forbidden(
            "Only the organization's owners and admins manage invitations.",
        ))
    }
}

/// Invites `email` with a role and mails the link through the outbox. Returns the invitation.
pub async fn invite(
    db: &Db,
    keys: &Keys,
    mailer: &Mailer,
    actor: &Actor,
    org_id: i64,
    input: InviteInput,
    now: Timestamp,
) -> AppResult<OrgInvitation> {
    let s = standing(db, actor, org_id).await?;
    managing(&s)?;
    let mut v = Validator::default();
    let email = normalize_email(&input.email);
    v.check(
        email.chars().count() <= accounts::MAX_EMAIL_CHARS && accounts::is_plausible_email(&email),
        "body.email",
        "must be a valid email address",
    );
    let role = parse_role(&mut v, "body.role", &input.role);
    v.finish()?;
    let role = role.ok_or_else(AppError::internal)?;
    if role == OrgRole::Owner && !s.owns() {
        return Err(forbidden("Only owners can invite owners."));
    }
    let token = crate::domain::password_reset::new_link_token();
    let now_ms = to_millis(now);
    let expires_at = now_ms + INVITATION_TTL_MS;
    let new_values = serde_json::json!({"email": email, "role": role.as_str()}).to_string();
    let audit = actor.audit_entry("org.invitation_created", None, Some(new_values), now_ms);
    let token_hash = keys.hash_token(&token);
    let id = db::orgs::invite(
        db,
        &db::orgs::NewInvitation {
            org_id,
            email: &email,
            role: role.as_str(),
            token_hash: &token_hash,
            invited_by: actor.user.id.0,
            expires_at,
        },
        &audit,
    )
    .await
    .map_err(db_failure)?;
    let to = Recipient {
        email: email.clone(),
        name: String::new(),
    };
    let mail = Mail::OrgInvitation {
        token,
        org_name: s.org.name.clone(),
        inviter: actor.user.name.clone(),
        role: role.label().to_string(),
        valid_days: INVITATION_TTL_MS / 86_400_000,
    };
    mailer.send(db, &to, None, &mail, now).await?;
    tracing::info!(org_id, invitation_id = id, "org invitation sent");
    Ok(OrgInvitation {
        id,
        org_id,
        email,
        role,
        invited_by: Some(actor.user.id.0),
        created_at: now,
        expires_at: from_millis(expires_at),
    })
}

pub async fn list_pending(
    db: &Db,
    actor: &Actor,
    org_id: i64,
    query: &PageQuery,
    now: Timestamp,
) -> AppResult<OrgInvitationPage> {
    managing(&standing(db, actor, org_id).await?)?;
    let mut v = Validator::default();
    let (page, per_page) = paging(&mut v, query.page, query.per_page);
    v.finish()?;
    let (rows, total) =
        db::orgs::pending(db, org_id, to_millis(now), per_page, (page - 1) * per_page)
            .await
            .map_err(db_failure)?;
    Ok(OrgInvitationPage {
        items: rows.iter().filter_map(view).collect(),
        total,
        page,
        per_page,
    })
}

pub async fn revoke(db: &Db, actor: &Actor, org_id: i64, id: i64, now: Timestamp) -> AppResult<()> {
    managing(&standing(db, actor, org_id).await?)?;
    let old = Some(serde_json::json!({"invitation_id": id}).to_string());
    let audit = actor.audit_entry("org.invitation_revoked", old, None, to_millis(now));
    if db::orgs::revoke_invitation(db, org_id, id, &audit)
        .await
        .map_err(db_failure)?
    {
        Ok(())
    } else {
        Err(AppError::not_found("Invitation"))
    }
}

/// The invitation a link's token names, if it still works: INVITATION_INVALID (unknown, used,
/// revoked) or INVITATION_EXPIRED otherwise.
pub async fn check(db: &Db, keys: &Keys, token: &str, now: Timestamp) -> AppResult<InvitationRow> {
    let invalid = || {
        AppError::new(
            ErrorCode::InvitationInvalid,
            "This invitation link is not valid: it was used, revoked or mistyped. Ask for a new one.",
        )
    };
    let token = token.trim();
    if token.is_empty() || token.chars().count() > MAX_TOKEN_CHARS {
        return Err(invalid());
    }
    let row = db::orgs::find_invitation_by_hash(db, &keys.hash_token(token))
        .await
        .map_err(db_failure)?
        .ok_or_else(invalid)?;
    if row.accepted_at.is_some() || row.revoked_at.is_some() {
        return Err(invalid());
    }
    if row.expires_at <= to_millis(now) {
        return Err(AppError::new(
            ErrorCode::InvitationExpired,
            "This invitation has expired. Ask for a new one.",
        ));
    }
    Ok(row)
}

/// Accepts an invitation for the signed-in actor; returns the org id.
pub async fn accept(
    db: &Db,
    keys: &Keys,
    actor: &Actor,
    input: AcceptInput,
    now: Timestamp,
) -> AppResult<i64> {
    let row = check(db, keys, &input.token, now).await?;
    if normalize_email(&actor.user.email) != normalize_email(&row.email) {
        return Err(AppError::new(
            ErrorCode::InvitationEmailMismatch,
            "This invitation was sent to another address. Sign in with that account to accept it.",
        ));
    }
    let new_values =
        serde_json::json!({"user_id": actor.user.id.0, "role": row.role, "invitation_id": row.id})
            .to_string();
    let audit = actor.audit_entry(
        "org.invitation_accepted",
        None,
        Some(new_values),
        to_millis(now),
    );
    if !db::orgs::accept(db, &row, actor.user.id.0, &audit)
        .await
        .map_err(db_failure)?
    {
        return Err(AppError::new(
            ErrorCode::InvitationInvalid,
            "This invitation link was used already.",
        ));
    }
    Ok(row.org_id)
}

/// What an invitation link offers, for the page that asks to accept it: the org's name, the
/// role, the invited address and when the link stops working.
pub async fn preview(
    db: &Db,
    keys: &Keys,
    token: &str,
    now: Timestamp,
) -> AppResult<crate::app::org_types::InvitationPreview> {
    let row = check(db, keys, token, now).await?;
    let org = db::orgs::find(db, row.org_id)
        .await
        .map_err(db_failure)?
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::InvitationInvalid,
                "This organization no longer exists.",
            )
        })?;
    Ok(crate::app::org_types::InvitationPreview {
        org_name: org.name,
        role: OrgRole::parse(&row.role).ok_or_else(AppError::internal)?,
        email: row.email,
        expires_at: from_millis(row.expires_at),
    })
}
