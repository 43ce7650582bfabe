//! /api/v1/orgs (organizations, members, invitations) and /api/v1/invitations/accept.
//! Non-members get 404 (ids reveal nothing); members lacking the role 403.

use super::error::ErrorBody;
use super::extract::{ApiJson, ApiPath, ApiQuery, Client, CurrentUser};
use crate::app::org_types::{Org, OrgInvitation, OrgInvitationPage, OrgMemberPage, OrgPage};
use crate::domain::keys::Actor;
use crate::domain::orgs::{
    self, CreateOrgInput, MemberRoleInput, PageQuery, UpdateOrgInput,
    invitations::{self, AcceptInput, InviteInput},
};
use crate::error::AppError;
use crate::server::state::AppState;
use axum::{Json, extract::State, http::StatusCode};
use time::OffsetDateTime;

/// Org endpoints are account endpoints: a `manage:keys`-only key may not use them.
fn actor(caller: CurrentUser, client: Client) -> Result<Actor, AppError> {
    caller.require_account_access()?;
    Ok(Actor {
        user: caller.user,
        client: client.0,
    })
}

#[utoipa::path(get, path = "/api/v1/orgs", tag = "orgs", security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of the caller's orgs, by name, with the caller's role", body = OrgPage),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid paging", body = ErrorBody),
    ))]
pub async fn orgs_list(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    query: Result<ApiQuery<PageQuery>, AppError>,
) -> Result<Json<OrgPage>, AppError> {
    let actor = actor(caller, client)?;
    let ApiQuery(query) = query?;
    Ok(Json(orgs::list_my_orgs(&state.db, &actor, &query).await?))
}

#[utoipa::path(post, path = "/api/v1/orgs", tag = "orgs", security(("bearer" = [])),
    request_body = CreateOrgInput,
    responses(
        (status = 201, description = "Created (audited); the caller is its owner", body = Org),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Global viewers cannot create orgs", body = ErrorBody),
        (status = 409, description = "SLUG_TAKEN", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn orgs_create(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    input: Result<ApiJson<CreateOrgInput>, AppError>,
) -> Result<(StatusCode, Json<Org>), AppError> {
    let actor = actor(caller, client)?;
    let ApiJson(input) = input?;
    let org = orgs::create_org(&state.db, &actor, input, OffsetDateTime::now_utc()).await?;
    Ok((StatusCode::CREATED, Json(org)))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}", tag = "orgs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Org id")),
    responses(
        (status = 200, description = "The org", body = Org),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such org, or not a member", body = ErrorBody),
    ))]
pub async fn orgs_get(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Org>, AppError> {
    let actor = actor(caller, client)?;
    Ok(Json(orgs::get_org(&state.db, &actor, id).await?))
}

#[utoipa::path(patch, path = "/api/v1/orgs/{id}", tag = "orgs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Org id")),
    request_body = UpdateOrgInput,
    responses(
        (status = 200, description = "Renamed (audited)", body = Org),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 403, description = "Not an owner or admin of the org", body = ErrorBody),
        (status = 404, description = "No such org, or not a member", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn orgs_update(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
    input: Result<ApiJson<UpdateOrgInput>, AppError>,
) -> Result<Json<Org>, AppError> {
    let actor = actor(caller, client)?;
    let ApiJson(input) = input?;
    Ok(Json(
        orgs::rename_org(&state.db, &actor, id, input, OffsetDateTime::now_utc()).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/orgs/{id}", tag = "orgs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Org id")),
    responses(
        (status = 204, description = "Deleted (audited) with its members and invitations"),
        (status = 403, description = "Not an owner of the org", body = ErrorBody),
        (status = 404, description = "No such org, or not a member", body = ErrorBody),
        (status = 409, description = "ORG_HAS_KEYS: the org owns keys that are not revoked", body = ErrorBody),
    ))]
pub async fn orgs_delete(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    let actor = actor(caller, client)?;
    orgs::delete_org(&state.db, &actor, id, None, OffsetDateTime::now_utc()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/members", tag = "orgs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Org id"), PageQuery),
    responses(
        (status = 200, description = "A page of members, by email", body = OrgMemberPage),
        (status = 404, description = "No such org, or not a member", body = ErrorBody),
        (status = 422, description = "Invalid paging", body = ErrorBody),
    ))]
pub async fn org_members_list(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
    query: Result<ApiQuery<PageQuery>, AppError>,
) -> Result<Json<OrgMemberPage>, AppError> {
    let actor = actor(caller, client)?;
    let ApiQuery(query) = query?;
    Ok(Json(
        orgs::list_members(&state.db, &actor, id, &query).await?,
    ))
}

#[utoipa::path(patch, path = "/api/v1/orgs/{id}/members/{user_id}", tag = "orgs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Org id"), ("user_id" = i64, Path, description = "Member's user id")),
    request_body = MemberRoleInput,
    responses(
        (status = 204, description = "Role changed (audited)"),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 403, description = "Not an owner or admin (only owners touch the owner role)", body = ErrorBody),
        (status = 404, description = "No such org or member", body = ErrorBody),
        (status = 409, description = "LAST_OWNER: the org would have no owner", body = ErrorBody),
        (status = 422, description = "Unknown role", body = ErrorBody),
    ))]
pub async fn org_members_update(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath((id, user_id)): ApiPath<(i64, i64)>,
    input: Result<ApiJson<MemberRoleInput>, AppError>,
) -> Result<StatusCode, AppError> {
    let actor = actor(caller, client)?;
    let ApiJson(input) = input?;
    let now = OffsetDateTime::now_utc();
    orgs::change_member(&state.db, &actor, id, user_id, Some(input), now).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/orgs/{id}/members/{user_id}", tag = "orgs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Org id"), ("user_id" = i64, Path, description = "Member's user id")),
    responses(
        (status = 204, description = "Removed (audited); a member may remove themselves (leave)"),
        (status = 403, description = "Not an owner or admin (only owners remove owners)", body = ErrorBody),
        (status = 404, description = "No such org or member", body = ErrorBody),
        (status = 409, description = "LAST_OWNER: the org would have no owner", body = ErrorBody),
    ))]
pub async fn org_members_delete(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath((id, user_id)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, AppError> {
    let actor = actor(caller, client)?;
    let now = OffsetDateTime::now_utc();
    orgs::change_member(&state.db, &actor, id, user_id, None, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/invitations", tag = "orgs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Org id"), PageQuery),
    responses(
        (status = 200, description = "A page of pending invitations, newest first", body = OrgInvitationPage),
        (status = 403, description = "Not an owner or admin of the org", body = ErrorBody),
        (status = 404, description = "No such org, or not a member", body = ErrorBody),
    ))]
pub async fn org_invitations_list(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
    query: Result<ApiQuery<PageQuery>, AppError>,
) -> Result<Json<OrgInvitationPage>, AppError> {
    let actor = actor(caller, client)?;
    let ApiQuery(query) = query?;
    let now = OffsetDateTime::now_utc();
    Ok(Json(
        invitations::list_pending(&state.db, &actor, id, &query, now).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/orgs/{id}/invitations", tag = "orgs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Org id")),
    request_body = InviteInput,
    responses(
        (status = 201, description = "Invited (audited); the single-use link (7 days) is mailed", body = OrgInvitation),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 403, description = "Not an owner or admin (only owners invite owners)", body = ErrorBody),
        (status = 404, description = "No such org, or not a member", body = ErrorBody),
        (status = 422, description = "Invalid email or role", body = ErrorBody),
    ))]
pub async fn org_invitations_create(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
    input: Result<ApiJson<InviteInput>, AppError>,
) -> Result<(StatusCode, Json<OrgInvitation>), AppError> {
    let actor = actor(caller, client)?;
    let ApiJson(input) = input?;
    let inv = invitations::invite(
        &state.db,
        &state.crypto,
        &state.mailer,
        &actor,
        id,
        input,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(inv)))
}

#[utoipa::path(delete, path = "/api/v1/orgs/{id}/invitations/{inv_id}", tag = "orgs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Org id"), ("inv_id" = i64, Path, description = "Invitation id")),
    responses(
        (status = 204, description = "Revoked (audited); its link stops working"),
        (status = 403, description = "Not an owner or admin of the org", body = ErrorBody),
        (status = 404, description = "No such org or pending invitation", body = ErrorBody),
    ))]
pub async fn org_invitations_delete(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath((id, inv_id)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, AppError> {
    let actor = actor(caller, client)?;
    invitations::revoke(&state.db, &actor, id, inv_id, OffsetDateTime::now_utc()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/invitations/accept", tag = "orgs", security(("bearer" = [])),
    request_body = AcceptInput,
    responses(
        (status = 200, description = "Joined (audited); the org with the caller's role", body = Org),
        (status = 400, description = "Malformed JSON; INVITATION_INVALID (unknown, used, revoked) or INVITATION_EXPIRED", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "INVITATION_EMAIL_MISMATCH: sent to another address", body = ErrorBody),
    ))]
pub async fn invitations_accept(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    input: Result<ApiJson<AcceptInput>, AppError>,
) -> Result<Json<Org>, AppError> {
    let actor = actor(caller, client)?;
    let ApiJson(input) = input?;
    let now = OffsetDateTime::now_utc();
    let org_id = invitations::accept(&state.db, &state.crypto, &actor, input, now).await?;
    Ok(Json(orgs::get_org(&state.db, &actor, org_id).await?))
}
