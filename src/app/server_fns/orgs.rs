//! The organization pages' server functions and the active-org switch: the same domain calls
//! as /api/v1/orgs and /api/v1/invitations/accept.

use crate::app::org_types::{InvitationPreview, OrgPage, OrgScreen, OrgSwitcher};
use crate::error::AppError;
use leptos::prelude::*;

pub const ORGS_PER_PAGE: i64 = 50;
pub const MEMBERS_PER_PAGE: i64 = 100;

/// Where the active org's id lives in the browser session.
#[cfg(feature = "ssr")]
const ACTIVE_ORG_KEY: &str = "active_org_id";

#[cfg(feature = "ssr")]
use crate::app::server_fns::ctx;

/// The session's active org, if the user still belongs to it (a global admin to any org that
/// exists); a stale choice reads as none.
#[cfg(feature = "ssr")]
pub async fn active_org(
    state: &crate::server::state::AppState,
    actor: &crate::domain::keys::Actor,
) -> Result<Option<i64>, AppError> {
    let session = ctx::session().await?;
    let chosen = session.get::<i64>(ACTIVE_ORG_KEY).await.map_err(|e| {
        tracing::error!(error = %e, "session store failed");
        AppError::internal()
    })?;
    let Some(id) = chosen else {
        return Ok(None);
    };
    match crate::domain::orgs::standing(&state.db, actor, id).await {
        Ok(_) => Ok(Some(id)),
        Err(e) if e.code == crate::error::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The user's orgs as choices (the first 200 by name are plenty for a select).
#[cfg(feature = "ssr")]
pub async fn my_org_choices(
    state: &crate::server::state::AppState,
    actor: &crate::domain::keys::Actor,
) -> Result<Vec<crate::app::key_filters::Choice>, AppError> {
    let query = crate::domain::orgs::PageQuery {
        page: Some(1),
        per_page: Some(200),
    };
    let page = crate::domain::orgs::list_my_orgs(&state.db, actor, &query).await?;
    Ok(page
        .items
        .into_iter()
        .map(|o| crate::app::key_filters::Choice {
            id: o.id,
            label: o.name,
        })
        .collect())
}

#[server(prefix = "/sfn", endpoint = "org_switcher")]
pub async fn load_org_switcher() -> Result<OrgSwitcher, AppError> {
    let (state, actor) = ctx::actor()?;
    Ok(OrgSwitcher {
        orgs: my_org_choices(&state, &actor).await?,
        active: active_org(&state, &actor).await?,
    })
}

/// Makes `org_id` the active org ("" for none), then back to `next`.
#[server(prefix = "/sfn", endpoint = "switch_org")]
pub async fn switch_org(org_id: String, next: String) -> Result<(), AppError> {
    let (state, actor) = ctx::actor()?;
    let session = ctx::session().await?;
    let store_failed = |e: tower_sessions::session::Error| {
        tracing::error!(error = %e, "session store failed");
        AppError::internal()
    };
    match org_id.trim() {
        "" => {
            session
                .remove::<i64>(ACTIVE_ORG_KEY)
                .await
                .map_err(store_failed)?;
        }
        text => {
            let id = text
                .parse::<i64>()
                .map_err(|_| AppError::not_found("Organization"))?;
            crate::domain::orgs::standing(&state.db, &actor, id).await?;
            session
                .insert(ACTIVE_ORG_KEY, id)
                .await
                .map_err(store_failed)?;
        }
    }
    super::redirect(&super::auth::local_path_or(Some(next), "/keys"));
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "orgs_page")]
pub async fn orgs_page(page: i64) -> Result<OrgPage, AppError> {
    let (state, actor) = ctx::actor()?;
    let query = crate::domain::orgs::PageQuery {
        page: Some(page.max(1)),
        per_page: Some(ORGS_PER_PAGE),
    };
    crate::domain::orgs::list_my_orgs(&state.db, &actor, &query).await
}

#[server(prefix = "/sfn", endpoint = "create_org")]
pub async fn create_org(name: String, slug: Option<String>) -> Result<(), AppError> {
    use crate::domain::orgs::CreateOrgInput;
    let (state, actor) = ctx::actor()?;
    let slug = slug.filter(|s| !s.trim().is_empty());
    let org = crate::domain::orgs::create_org(
        &state.db,
        &actor,
        CreateOrgInput { name, slug },
        ctx::now(),
    )
    .await?;
    super::redirect(&format!("/orgs/{}?created=1", org.id));
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "org_screen")]
pub async fn load_org_screen(id: i64) -> Result<OrgScreen, AppError> {
    use crate::domain::orgs::{self, PageQuery, invitations};
    let (state, actor) = ctx::actor()?;
    let standing = orgs::standing(&state.db, &actor, id).await?;
    let org = orgs::get_org(&state.db, &actor, id).await?;
    let query = PageQuery {
        page: Some(1),
        per_page: Some(MEMBERS_PER_PAGE),
    };
    let members = orgs::list_members(&state.db, &actor, id, &query).await?;
    let invitations = if standing.manages() {
        Some(invitations::list_pending(&state.db, &actor, id, &query, ctx::now()).await?)
    } else {
        None
    };
    Ok(OrgScreen {
        org,
        manages: standing.manages(),
        owns: standing.owns(),
        me: actor.user.id.0,
        members,
        invitations,
    })
}

#[server(prefix = "/sfn", endpoint = "rename_org")]
pub async fn rename_org(id: i64, name: String) -> Result<(), AppError> {
    use crate::domain::orgs::UpdateOrgInput;
    let (state, actor) = ctx::actor()?;
    crate::domain::orgs::rename_org(&state.db, &actor, id, UpdateOrgInput { name }, ctx::now())
        .await?;
    super::redirect(&format!("/orgs/{id}?renamed=1"));
    Ok(())
}

/// Deletes the org once `confirm` repeats its slug (a typed confirmation, as on GitHub).
#[server(prefix = "/sfn", endpoint = "delete_org")]
pub async fn delete_org(id: i64, confirm: String) -> Result<(), AppError> {
    let (state, actor) = ctx::actor()?;
    crate::domain::orgs::delete_org(&state.db, &actor, id, Some(&confirm), ctx::now()).await?;
    super::redirect("/orgs?deleted=1");
    Ok(())
}

/// Changes a member's role; `role` "remove" removes them (leaving, when it is oneself).
#[server(prefix = "/sfn", endpoint = "change_org_member")]
pub async fn change_org_member(id: i64, user_id: i64, role: String) -> Result<(), AppError> {
    use crate::domain::orgs::MemberRoleInput;
    let (state, actor) = ctx::actor()?;
    let removing = role == "remove";
    let input = (!removing).then_some(MemberRoleInput { role });
    crate::domain::orgs::change_member(&state.db, &actor, id, user_id, input, ctx::now()).await?;
    if removing && user_id == actor.user.id.0 {
        super::redirect("/orgs?left=1");
    } else {
        super::redirect(&format!("/orgs/{id}?members=1"));
    }
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "invite_to_org")]
pub async fn invite_to_org(id: i64, email: String, role: String) -> Result<(), AppError> {
    use crate::domain::orgs::invitations::{InviteInput, invite};
    let (state, actor) = ctx::actor()?;
    invite(
        &state.db,
        &state.crypto,
        &state.mailer,
        &actor,
        id,
        InviteInput { email, role },
        ctx::now(),
    )
    .await?;
    super::redirect(&format!("/orgs/{id}?invited=1"));
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "revoke_org_invitation")]
pub async fn revoke_org_invitation(id: i64, invitation_id: i64) -> Result<(), AppError> {
    let (state, actor) = ctx::actor()?;
    crate::domain::orgs::invitations::revoke(&state.db, &actor, id, invitation_id, ctx::now())
        .await?;
    super::redirect(&format!("/orgs/{id}?invitation_revoked=1"));
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "invitation_preview")]
pub async fn load_invitation_preview(token: String) -> Result<InvitationPreview, AppError> {
    let state = ctx::state()?;
    ctx::require_user()?;
    crate::domain::orgs::invitations::preview(&state.db, &state.crypto, &token, ctx::now()).await
}

/// Accepts the invitation, makes its org the active one, and opens it.
#[server(prefix = "/sfn", endpoint = "accept_invitation")]
pub async fn accept_invitation(token: String) -> Result<(), AppError> {
    use crate::domain::orgs::invitations::{AcceptInput, accept};
    let (state, actor) = ctx::actor()?;
    let org_id = accept(
        &state.db,
        &state.crypto,
        &actor,
        AcceptInput { token },
        ctx::now(),
    )
    .await?;
    let session = ctx::session().await?;
    // The membership stands either way; a lost preference is only logged.
    if let Err(e) = session.insert(ACTIVE_ORG_KEY, org_id).await {
        tracing::warn!(error = %e, "could not make the joined org active");
    }
    super::redirect(&format!("/orgs/{org_id}?joined=1"));
    Ok(())
}
