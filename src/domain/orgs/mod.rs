//! Organizations: orgs, members with a role, invitations (in `invitations`). Who may do what:
//!
//! - Anyone signed in (not a global viewer) creates an org and becomes its owner.
//! - Members read the org and its member list; owners and admins (`OrgRole::manages`) rename
//!   it, change roles, remove members and manage invitations; only owners touch the owner
//!   role and delete the org. A member may always leave (remove themselves).
//! - A global admin acts as an owner of every org; a global viewer changes nothing.
//! - Non-members get NOT_FOUND, so ids reveal nothing; members lacking the role FORBIDDEN.
//! - An org never loses its last owner (LAST_OWNER), and is deleted only when it owns no key
//!   that is not revoked (ORG_HAS_KEYS): revoke or move them first, so no live key is orphaned.

pub mod invitations;

use super::keys::Actor;
use super::{Timestamp, db_failure, from_millis, paging, to_millis};
use crate::app::org_types::{Org, OrgMember, OrgMemberPage, OrgPage};
use crate::app::types::{OrgRole, Role};
use crate::db::{self, Db, orgs::Outcome};
use crate::error::{AppError, AppResult, ErrorCode, Validator};
use serde::Deserialize;

pub const MAX_NAME_CHARS: usize = 100;

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgInput {
    pub name: String,
    /// a-z, 0-9 and inner hyphens, 1-40 characters; made from the name when left out.
    pub slug: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrgInput {
    pub name: String,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberRoleInput {
    /// owner | admin | member | viewer
    pub role: String,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub page: Option<i64>,
    /// 1-200, default 50.
    pub per_page: Option<i64>,
}

/// The org and the actor's standing in it: `None` role for a global admin who is no member.
pub struct Standing {
    pub org: db::orgs::OrgRow,
    pub role: Option<OrgRole>,
    admin: bool,
    viewer: bool,
}

impl Standing {
    /// Owners, admins and global admins manage; global viewers never change anything.
    pub fn manages(&self) -> bool {
        !self.viewer && (self.admin || self.role.is_some_and(OrgRole::manages))
    }

    pub fn owns(&self) -> bool {
        !self.viewer && (self.admin || self.role == Some(OrgRole::Owner))
    }
}

fn not_found() -> AppError {
    AppError::not_found("Organization")
}

pub(crate) fn forbidden(detail: &str) -> AppError {
    AppError::new(ErrorCode::Forbidden, detail)
}

/// The actor's standing in org `id`; NOT_FOUND unless they are a member or a global admin.
pub async fn standing(db: &Db, actor: &Actor, id: i64) -> AppResult<Standing> {
    let org = db::orgs::find(db, id)
        .await
        .map_err(db_failure)?
        .ok_or_else(not_found)?;
    let role = db::orgs::memberships(db, actor.user.id.0)
        .await
        .map_err(db_failure)?
        .into_iter()
        .find_map(|(org_id, role)| (org_id == id).then(|| OrgRole::parse(&role)).flatten());
    let admin = actor.user.role.is_admin();
    if role.is_none() && !admin {
        return Err(not_found());
    }
    Ok(Standing {
        org,
        role,
        admin,
        viewer: actor.user.role == Role::Viewer,
    })
}

pub fn parse_role(v: &mut Validator, field: &str, text: &str) -> Option<OrgRole> {
    let role = OrgRole::parse(text);
    v.check(
        role.is_some(),
        field,
        "must be one of owner, admin, member, viewer",
    );
    role
}

fn check_name(v: &mut Validator, name: &str) -> String {
    let name = name.trim().to_string();
    v.check(
        !name.is_empty()
            && name.chars().count() <= MAX_NAME_CHARS
            && !name.chars().any(char::is_control),
        "body.name",
        "must be 1-100 characters without control characters",
    );
    name
}

fn view(row: &db::orgs::OrgRow, role: Option<OrgRole>) -> Org {
    Org {
        id: row.id,
        name: row.name.clone(),
        slug: row.slug.clone(),
        role,
        created_by: row.created_by,
        created_at: from_millis(row.created_at),
        updated_at: from_millis(row.updated_at),
    }
}

fn audit_json(org: &db::orgs::OrgRow) -> Option<String> {
    Some(serde_json::json!({"id": org.id, "name": org.name, "slug": org.slug}).to_string())
}

pub async fn create_org(
    db: &Db,
    actor: &Actor,
    input: CreateOrgInput,
    now: Timestamp,
) -> AppResult<Org> {
    if actor.user.role == Role::Viewer {
        return Err(forbidden("Viewers cannot create organizations."));
    }
    let mut v = Validator::default();
    let name = check_name(&mut v, &input.name);
    let slug = match input.slug {
        Some(s) => s.trim().to_string(),
        None => crate::domain::lifecycle::naming::slug(&name),
    };
    crate::domain::apis::validate::slug(&mut v, &slug);
    v.finish()?;
    let now_ms = to_millis(now);
    let mut row = db::orgs::OrgRow {
        id: 0,
        name,
        slug,
        created_by: Some(actor.user.id.0),
        created_at: now_ms,
        updated_at: now_ms,
    };
    let audit = actor.audit_entry("org.created", None, audit_json(&row), now_ms);
    row.id = match db::orgs::create(db, &row.name, &row.slug, actor.user.id.0, &audit).await {
        Ok(id) => id,
        Err(e) if db::is_unique_violation(&e) => {
            return Err(AppError::new(
                ErrorCode::SlugTaken,
                "Another organization has this slug.",
            ));
        }
        Err(e) => return Err(db_failure(e)),
    };
    Ok(view(&row, Some(OrgRole::Owner)))
}

pub async fn list_my_orgs(db: &Db, actor: &Actor, query: &PageQuery) -> AppResult<OrgPage> {
    let mut v = Validator::default();
    let (page, per_page) = paging(&mut v, query.page, query.per_page);
    v.finish()?;
    let (rows, total) =
        db::orgs::list_for_user(db, actor.user.id.0, per_page, (page - 1) * per_page)
            .await
            .map_err(db_failure)?;
    let items = rows
        .into_iter()
        .map(|r| Org {
            id: r.id,
            name: r.name,
            slug: r.slug,
            role: OrgRole::parse(&r.role),
            created_by: r.created_by,
            created_at: from_millis(r.created_at),
            updated_at: from_millis(r.updated_at),
        })
        .collect();
    Ok(OrgPage {
        items,
        total,
        page,
        per_page,
    })
}

pub async fn get_org(db: &Db, actor: &Actor, id: i64) -> AppResult<Org> {
    let s = standing(db, actor, id).await?;
    Ok(view(&s.org, s.role))
}

pub async fn rename_org(
    db: &Db,
    actor: &Actor,
    id: i64,
    input: UpdateOrgInput,
    now: Timestamp,
) -> AppResult<Org> {
    let s = standing(db, actor, id).await?;
    if !s.manages() {
        return Err(forbidden(
            "Only the organization's owners and admins can rename it.",
        ));
    }
    let mut v = Validator::default();
    let name = check_name(&mut v, &input.name);
    v.finish()?;
    let now_ms = to_millis(now);
    let mut row = s.org.clone();
    row.name = name;
    row.updated_at = now_ms;
    let audit = actor.audit_entry("org.renamed", audit_json(&s.org), audit_json(&row), now_ms);
    if !db::orgs::rename(db, id, &row.name, &audit)
        .await
        .map_err(db_failure)?
    {
        return Err(not_found());
    }
    Ok(view(&row, s.role))
}

/// Deletes the org. `confirm`, when given (the portal's typed confirmation), must repeat the
/// org's slug; it is checked after the caller's right to delete, so it reveals nothing.
pub async fn delete_org(
    db: &Db,
    actor: &Actor,
    id: i64,
    confirm: Option<&str>,
    now: Timestamp,
) -> AppResult<()> {
    let s = standing(db, actor, id).await?;
    if !s.owns() {
        return Err(forbidden("Only the organization's owners can delete it."));
    }
    if confirm.is_some_and(|c| c.trim() != s.org.slug) {
        let mut v = Validator::default();
        v.check(
            false,
            "body.confirm",
            &format!("type the organization's slug, {}, to confirm", s.org.slug),
        );
        v.finish()?;
    }
    let audit = actor.audit_entry("org.deleted", audit_json(&s.org), None, to_millis(now));
    match db::orgs::delete(db, id, &audit).await.map_err(db_failure)? {
        Outcome::Done => Ok(()),
        Outcome::HasKeys => Err(AppError::new(
            ErrorCode::OrgHasKeys,
            "The organization still owns keys that are not revoked. Revoke them first.",
        )),
        _ => Err(not_found()),
    }
}

pub async fn list_members(
    db: &Db,
    actor: &Actor,
    id: i64,
    query: &PageQuery,
) -> AppResult<OrgMemberPage> {
    standing(db, actor, id).await?;
    let mut v = Validator::default();
    let (page, per_page) = paging(&mut v, query.page, query.per_page);
    v.finish()?;
    let (rows, total) = db::orgs::members(db, id, per_page, (page - 1) * per_page)
        .await
        .map_err(db_failure)?;
    let items = rows
        .into_iter()
        .filter_map(|r| {
            Some(OrgMember {
                user_id: r.user_id,
                email: r.email,
                name: r.name,
                role: OrgRole::parse(&r.role)?,
                joined_at: from_millis(r.created_at),
            })
        })
        .collect();
    Ok(OrgMemberPage {
        items,
        total,
        page,
        per_page,
    })
}

/// Changes a member's role (`Some`) or removes them (`None`).
pub async fn change_member(
    db: &Db,
    actor: &Actor,
    id: i64,
    user_id: i64,
    role: Option<MemberRoleInput>,
    now: Timestamp,
) -> AppResult<()> {
    let s = standing(db, actor, id).await?;
    let mut v = Validator::default();
    let new_role = match &role {
        Some(r) => Some(parse_role(&mut v, "body.role", &r.role)),
        None => None,
    };
    v.finish()?;
    let new_role = new_role.flatten();
    let leaving = role.is_none() && user_id == actor.user.id.0 && s.role.is_some();
    if !leaving && !s.manages() {
        return Err(forbidden(
            "Only the organization's owners and admins can change its members.",
        ));
    }
    let (members, _) = db::orgs::members(db, id, i64::MAX, 0)
        .await
        .map_err(db_failure)?;
    let Some(target) = members.iter().find(|m| m.user_id == user_id) else {
        return Err(AppError::not_found("Member"));
    };
    let touches_owner = target.role == "owner" || new_role == Some(OrgRole::Owner);
    if touches_owner && !leaving && !s.owns() {
        return Err(forbidden("Only owners can grant or change the owner role."));
    }
    let now_ms = to_millis(now);
    let old = Some(serde_json::json!({"user_id": user_id, "role": target.role}).to_string());
    let new =
        new_role.map(|r| serde_json::json!({"user_id": user_id, "role": r.as_str()}).to_string());
    let action = if new_role.is_some() {
        "org.member_role_changed"
    } else {
        "org.member_removed"
    };
    let audit = actor.audit_entry(action, old, new, now_ms);
    match db::orgs::change_member(db, id, user_id, new_role.map(OrgRole::as_str), &audit)
        .await
        .map_err(db_failure)?
    {
        Outcome::Done => Ok(()),
        Outcome::LastOwner => Err(AppError::new(
            ErrorCode::LastOwner,
            "An organization needs at least one owner: make someone else owner first.",
        )),
        _ => Err(AppError::not_found("Member")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(role: Option<OrgRole>, admin: bool, viewer: bool) -> Standing {
        Standing {
            org: db::orgs::OrgRow {
                id: 1,
                name: "Acme".into(),
                slug: "acme".into(),
                created_by: None,
                created_at: 0,
                updated_at: 0,
            },
            role,
            admin,
            viewer,
        }
    }

    #[test]
    fn roles_decide_managing_and_owning() {
        for (role, manages, owns) in [
            (OrgRole::Owner, true, true),
            (OrgRole::Admin, true, false),
            (OrgRole::Member, false, false),
            (OrgRole::Viewer, false, false),
        ] {
            let s = standing(Some(role), false, false);
            assert_eq!((s.manages(), s.owns()), (manages, owns), "{role:?}");
        }
        assert!(standing(None, true, false).owns());
        // A global viewer changes nothing, whatever their org role.
        assert!(!standing(Some(OrgRole::Owner), false, true).manages());
    }

    #[test]
    fn names_are_checked() {
        let mut v = Validator::default();
        assert_eq!(check_name(&mut v, "  Acme  "), "Acme");
        assert!(v.finish().is_ok());
        for bad in ["", "   ", "a\u{0}b", &"x".repeat(101)] {
            let mut v = Validator::default();
            check_name(&mut v, bad);
            assert!(v.finish().is_err(), "{bad:?}");
        }
    }
}
