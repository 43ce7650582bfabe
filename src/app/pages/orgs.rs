//! `/orgs` (the caller's organizations and a form to create one), `/orgs/:id` (members,
//! invitations, settings) and `/invitations/:token` (accepting an emailed invitation).

use super::{page_param, signed_in_user};
use crate::app::components::{FormError, PageHeader, action_error};
use crate::app::format;
use crate::app::layout::Shell;
use crate::app::org_types::{OrgInvitationPage, OrgMember, OrgPage, OrgScreen};
use crate::app::pages::errors::NotFound;
use crate::app::server_fns::orgs::{
    AcceptInvitation, ChangeOrgMember, CreateOrg, DeleteOrg, InviteToOrg, RenameOrg,
    RevokeOrgInvitation, load_invitation_preview, load_org_screen, orgs_page,
};
use crate::app::types::{OrgRole, Role};
use crate::error::ErrorCode;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

const ROLES: [OrgRole; 4] = [
    OrgRole::Owner,
    OrgRole::Admin,
    OrgRole::Member,
    OrgRole::Viewer,
];

fn role_badge(role: Option<OrgRole>) -> impl IntoView {
    let (class, label) = match role {
        Some(OrgRole::Owner) => ("badge badge-blue", "Owner"),
        Some(OrgRole::Admin) => ("badge badge-blue", "Admin"),
        Some(OrgRole::Member) => ("badge badge-green", "Member"),
        Some(OrgRole::Viewer) => ("badge badge-gray", "Viewer"),
        None => ("badge badge-gray", "Instance admin"),
    };
    view! { <span class=class>{label}</span> }
}

fn notice(text: &'static str) -> impl IntoView {
    view! { <div class="alert alert-success" role="status">{text}</div> }
}

#[component]
pub fn OrgsPage() -> impl IntoView {
    let Some(user) = signed_in_user() else {
        return ().into_any();
    };
    let query = use_query_map().get_untracked();
    let page = page_param(&query);
    let done = ["deleted", "left"]
        .into_iter()
        .find(|k| query.get(k).is_some());
    let list = Resource::new(move || page, orgs_page);
    let create = ServerAction::<CreateOrg>::new();
    let error = action_error(create.value().get_untracked());
    let can_create = user.role != Role::Viewer;
    view! {
        <Title text="Organizations"/>
        <Shell user=Some(user)>
            <PageHeader title="Organizations" subtitle="Share keys with a team: an organization owns its keys, and its members see and manage them by role.".to_string()/>
            {done.map(|d| notice(if d == "left" { "You left the organization." } else { "Organization deleted." }))}
            <section class="card" aria-labelledby="my-orgs">
                <h2 id="my-orgs">"Your organizations"</h2>
                <Suspense fallback=|| view! { <p class="muted">"Loading organizations…"</p> }>
                    {move || list.get().map(|result| match result {
                        Ok(list) => view! { <OrgTable list=list/> }.into_any(),
                        Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                    })}
                </Suspense>
            </section>
            {can_create.then(|| view! {
                <section class="card" aria-labelledby="new-org">
                    <h2 id="new-org">"Create an organization"</h2>
                    <FormError error=error/>
                    <ActionForm action=create attr:class="form">
                        <div class="field">
                            <label for="org-name">"Name"</label>
                            <input id="org-name" name="name" type="text" required maxlength="100" placeholder="Acme Inc."/>
                        </div>
                        <div class="field">
                            <label for="org-slug">"Slug (optional)"</label>
                            <input id="org-slug" name="slug" type="text" maxlength="40" pattern="[a-z0-9]+(-[a-z0-9]+)*"
                                aria-describedby="org-slug-hint" autocapitalize="none" spellcheck="false"/>
                            <p class="hint" id="org-slug-hint">"Lower-case letters, digits and hyphens; made from the name when left empty."</p>
                        </div>
                        <div class="form-actions"><button class="btn btn-primary" type="submit">"Create organization"</button></div>
                    </ActionForm>
                </section>
            })}
        </Shell>
    }
    .into_any()
}

#[component]
fn OrgTable(list: OrgPage) -> impl IntoView {
    if list.items.is_empty() {
        return view! {
            <div class="empty-state">
                <h3>"No organizations yet"</h3>
                <p class="muted">"Create one below, or ask a colleague to invite you to theirs."</p>
            </div>
        }
        .into_any();
    }
    view! {
        <table class="table">
            <thead><tr><th scope="col">"Name"</th><th scope="col">"Slug"</th><th scope="col">"Your role"</th><th scope="col">"Created"</th></tr></thead>
            <tbody>
                {list.items.into_iter().map(|o| view! {
                    <tr>
                        <td><a href=format!("/orgs/{}", o.id)>{o.name.clone()}</a></td>
                        <td class="mono">{o.slug.clone()}</td>
                        <td>{role_badge(o.role)}</td>
                        <td>{format::datetime(o.created_at)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
pub fn OrgDetailPage() -> impl IntoView {
    let Some(user) = signed_in_user() else {
        return ().into_any();
    };
    let Some(id) = use_params_map()
        .get_untracked()
        .get("id")
        .and_then(|s| s.parse::<i64>().ok())
    else {
        return view! { <Shell user=Some(user)><NotFound/></Shell> }.into_any();
    };
    let query = use_query_map().get_untracked();
    let done = [
        ("created", "Organization created. Invite your team below."),
        (
            "joined",
            "Welcome! You are now a member, and this is your active organization.",
        ),
        ("renamed", "Organization renamed."),
        (
            "invited",
            "Invitation sent. The link in the mail works once, for 7 days.",
        ),
        (
            "invitation_revoked",
            "Invitation revoked: its link no longer works.",
        ),
        ("members", "Members updated."),
    ]
    .into_iter()
    .find(|(k, _)| query.get(k).is_some())
    .map(|(_, text)| text);
    let data = Resource::new(move || id, load_org_screen);
    view! {
        <Title text="Organization"/>
        <Shell user=Some(user)>
            {done.map(notice)}
            <Suspense fallback=|| view! { <p class="muted">"Loading organization…"</p> }>
                {move || data.get().map(|result| match result {
                    Ok(screen) => view! { <OrgView screen=screen/> }.into_any(),
                    Err(e) if e.code == ErrorCode::NotFound => view! { <NotFound/> }.into_any(),
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                })}
            </Suspense>
        </Shell>
    }
    .into_any()
}

#[component]
fn OrgView(screen: OrgScreen) -> impl IntoView {
    let member_action = ServerAction::<ChangeOrgMember>::new();
    let org = screen.org.clone();
    let id = org.id;
    let can_add_keys = org.role.is_some_and(|r| r != OrgRole::Viewer);
    view! {
        <Title text=org.name.clone()/>
        <div class="page-header">
            <div>
                <h1>{org.name.clone()}" "{role_badge(org.role)}</h1>
                <p class="subtitle mono">{org.slug.clone()}</p>
            </div>
            <div class="actions">
                <a class="btn btn-secondary" href=format!("/keys?org={id}")>"Organization keys"</a>
                {can_add_keys.then(|| view! { <a class="btn btn-primary" href=format!("/keys/new?org={id}")>"New key for this organization"</a> })}
                <a class="btn btn-ghost" href="/orgs">"← All organizations"</a>
            </div>
        </div>
        <FormError error=action_error(member_action.value().get_untracked())/>
        <section class="card" aria-labelledby="members">
            <h2 id="members">{format!("Members ({})", screen.members.total)}</h2>
            <table class="table">
                <thead><tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Joined"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                <tbody>
                    {screen.members.items.into_iter().map(|m| view! {
                        <MemberRow m=m org_id=id manages=screen.manages owns=screen.owns me=screen.me act=member_action/>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        {screen.invitations.map(|inv| view! { <Invitations org_id=id list=inv owns=screen.owns/> })}
        {screen.manages.then(|| view! { <Settings name=org.name.clone() slug=org.slug.clone() id=id owns=screen.owns/> })}
    }
}

#[component]
fn MemberRow(
    m: OrgMember,
    org_id: i64,
    manages: bool,
    owns: bool,
    me: i64,
    act: ServerAction<ChangeOrgMember>,
) -> impl IntoView {
    let is_me = m.user_id == me;
    // Only owners grant or take away the owner role.
    let may_change = manages && (owns || m.role != OrgRole::Owner);
    let select_id = format!("role-{}", m.user_id);
    let email = m.email.clone();
    let role_form = may_change.then(|| {
        view! {
            <ActionForm action=act attr:class="inline-form">
                <input type="hidden" name="id" value=org_id/>
                <input type="hidden" name="user_id" value=m.user_id/>
                <label class="sr-only" for=select_id.clone()>{format!("Role of {email}")}</label>
                <select id=select_id name="role">
                    {ROLES.into_iter().filter(|r| owns || *r != OrgRole::Owner).map(|r| view! {
                        <option value=r.as_str() selected=r == m.role>{r.label()}</option>
                    }).collect_view()}
                </select>
                <button class="btn btn-secondary" type="submit">"Save role"</button>
            </ActionForm>
        }
    });
    let remove_label = if is_me {
        "Leave organization"
    } else {
        "Remove member"
    };
    let remove = (may_change || is_me).then(|| {
        view! {
            <details class="confirm">
                <summary class="btn btn-ghost">{if is_me { "Leave…" } else { "Remove…" }}</summary>
                <p>{if is_me {
                    "You lose access to the organization's keys. Keys you made for it stay with it.".to_string()
                } else {
                    format!("{} loses access to the organization's keys; keys they made for it stay with it.", m.email)
                }}</p>
                <ActionForm action=act attr:class="inline-form">
                    <input type="hidden" name="id" value=org_id/>
                    <input type="hidden" name="user_id" value=m.user_id/>
                    <input type="hidden" name="role" value="remove"/>
                    <button class="btn btn-danger" type="submit">{remove_label}</button>
                </ActionForm>
            </details>
        }
    });
    view! {
        <tr>
            <td>{m.name.clone()}{is_me.then(|| view! { " "<span class="muted">"(you)"</span> })}</td>
            <td>{m.email.clone()}</td>
            <td>{role_form.map(IntoAny::into_any).unwrap_or_else(|| role_badge(Some(m.role)).into_any())}</td>
            <td>{format::datetime(m.joined_at)}</td>
            <td>{remove}</td>
        </tr>
    }
}

#[component]
fn Invitations(org_id: i64, list: OrgInvitationPage, owns: bool) -> impl IntoView {
    let invite = ServerAction::<InviteToOrg>::new();
    let revoke = ServerAction::<RevokeOrgInvitation>::new();
    let error = action_error(invite.value().get_untracked())
        .or_else(|| action_error(revoke.value().get_untracked()));
    view! {
        <section class="card" aria-labelledby="invitations">
            <h2 id="invitations">"Invitations"</h2>
            <FormError error=error/>
            {if list.items.is_empty() {
                view! { <p class="muted">"No pending invitations."</p> }.into_any()
            } else {
                view! {
                    <table class="table">
                        <thead><tr><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Expires"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                        <tbody>
                            {list.items.into_iter().map(|i| view! {
                                <tr>
                                    <td>{i.email.clone()}</td>
                                    <td>{role_badge(Some(i.role))}</td>
                                    <td>{format::datetime(i.expires_at)}</td>
                                    <td>
                                        <ActionForm action=revoke attr:class="inline-form">
                                            <input type="hidden" name="id" value=org_id/>
                                            <input type="hidden" name="invitation_id" value=i.id/>
                                            <button class="btn btn-ghost" type="submit" aria-label=format!("Revoke the invitation of {}", i.email)>"Revoke"</button>
                                        </ActionForm>
                                    </td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            <h3>"Invite someone"</h3>
            <ActionForm action=invite attr:class="form row">
                <input type="hidden" name="id" value=org_id/>
                <div class="field">
                    <label for="invite-email">"Email"</label>
                    <input id="invite-email" name="email" type="email" required maxlength="254" placeholder="colleague@example.com"/>
                </div>
                <div class="field">
                    <label for="invite-role">"Role"</label>
                    <select id="invite-role" name="role">
                        {ROLES.into_iter().filter(|r| owns || *r != OrgRole::Owner).map(|r| view! {
                            <option value=r.as_str() selected=r == OrgRole::Member>{r.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="form-actions"><button class="btn btn-primary" type="submit">"Send invitation"</button></div>
            </ActionForm>
        </section>
    }
}

#[component]
fn Settings(name: String, slug: String, id: i64, owns: bool) -> impl IntoView {
    let rename = ServerAction::<RenameOrg>::new();
    let delete = ServerAction::<DeleteOrg>::new();
    let error = action_error(rename.value().get_untracked())
        .or_else(|| action_error(delete.value().get_untracked()));
    view! {
        <section class="card" aria-labelledby="settings">
            <h2 id="settings">"Settings"</h2>
            <FormError error=error/>
            <ActionForm action=rename attr:class="form row">
                <input type="hidden" name="id" value=id/>
                <div class="field">
                    <label for="org-rename">"Name"</label>
                    <input id="org-rename" name="name" type="text" required maxlength="100" value=name/>
                </div>
                <div class="form-actions"><button class="btn btn-secondary" type="submit">"Rename"</button></div>
            </ActionForm>
            {owns.then(|| view! {
                <details class="confirm">
                    <summary class="btn btn-danger">"Delete organization…"</summary>
                    <p>"Deleting removes the organization, its members and invitations. It is refused while the organization owns keys that are not revoked: revoke them first."</p>
                    <ActionForm action=delete attr:class="form">
                        <input type="hidden" name="id" value=id/>
                        <div class="field">
                            <label for="org-delete-confirm">{format!("Type {slug} to confirm")}</label>
                            <input id="org-delete-confirm" name="confirm" type="text" required autocomplete="off"/>
                        </div>
                        <button class="btn btn-danger" type="submit">"Delete organization"</button>
                    </ActionForm>
                </details>
            })}
        </section>
    }
}

#[component]
pub fn InvitationPage() -> impl IntoView {
    let Some(user) = signed_in_user() else {
        return ().into_any();
    };
    let token = use_params_map()
        .get_untracked()
        .get("token")
        .unwrap_or_default();
    let accept = ServerAction::<AcceptInvitation>::new();
    let accept_error = action_error(accept.value().get_untracked());
    let offer = Resource::new(
        {
            let t = token.clone();
            move || t.clone()
        },
        load_invitation_preview,
    );
    let signed_in_as = user.email.clone();
    view! {
        <Title text="Invitation"/>
        <Shell user=Some(user)>
            <PageHeader title="Invitation"/>
            <section class="card">
                <FormError error=accept_error/>
                <Suspense fallback=|| view! { <p class="muted">"Checking the invitation…"</p> }>
                    {move || {
                        let (token, signed_in_as) = (token.clone(), signed_in_as.clone());
                        offer.get().map(move |result| match result {
                        Ok(p) => {
                            let other_address = !p.email.trim().eq_ignore_ascii_case(signed_in_as.trim());
                            view! {
                                <p>{format!("You are invited to join {} as {}.", p.org_name, p.role.label().to_lowercase())}</p>
                                <p class="muted">{format!("Sent to {}; the link works until {}.", p.email, format::datetime(p.expires_at))}</p>
                                {other_address.then(|| view! {
                                    <div class="alert alert-warning" role="status">{format!(
                                        "You are signed in as {signed_in_as}. Sign out and sign in as {} to accept.", p.email)}</div>
                                })}
                                <ActionForm action=accept attr:class="form">
                                    <input type="hidden" name="token" value=token.clone()/>
                                    <div class="form-actions">
                                        <button class="btn btn-primary" type="submit">"Accept invitation"</button>
                                        <a class="btn btn-ghost" href="/dashboard">"Not now"</a>
                                    </div>
                                </ActionForm>
                            }.into_any()
                        }
                        Err(e) => view! {
                            <div class="alert alert-error" role="alert">{e.detail}</div>
                            <a class="btn btn-secondary" href="/orgs">"Your organizations"</a>
                        }.into_any(),
                    })}}
                </Suspense>
            </section>
        </Shell>
    }
    .into_any()
}
