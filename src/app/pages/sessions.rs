//! `/account/sessions`: where the account is signed in, browsers and REST token pairs, with
//! "Sign out" per session and "Sign out everywhere else", each confirmed in a `<details>`
//! first (works without JavaScript).

use super::signed_in_user;
use crate::app::components::{FormError, PageHeader, action_error};
use crate::app::format;
use crate::app::layout::Shell;
use crate::app::server_fns::sessions::{EndOtherSessions, EndSession, my_sessions};
use crate::app::session_types::{SessionInfo, SessionKind, SessionPage};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn notice_text(query: &leptos_router::params::ParamsMap) -> Option<String> {
    if let Some(kind) = query.get("signed_out") {
        return Some(match kind.as_str() {
            "api" => "The REST session was signed out; its tokens no longer work.".into(),
            _ => "The browser session was signed out.".into(),
        });
    }
    let n = query.get("signed_out_others")?.parse::<u64>().ok()?;
    Some(match n {
        0 => "There were no other sessions to sign out.".into(),
        n => format!(
            "Signed out {}. This session stays signed in.",
            plural(n, "other session", "other sessions")
        ),
    })
}

#[component]
pub fn SessionsPage() -> impl IntoView {
    let Some(user) = signed_in_user() else {
        return ().into_any();
    };
    let notice = notice_text(&use_query_map().get_untracked());
    let end = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let error = action_error(end.value().get_untracked())
        .or_else(|| action_error(end_others.value().get_untracked()));
    let list = Resource::new(|| (), |_| my_sessions());
    view! {
        <Title text="Sessions"/>
        <Shell user=Some(user)>
            <PageHeader title="Sessions" subtitle="Where your account is signed in. Sign out anything you do not recognise, then change your password.".to_string()>
                <a class="btn btn-ghost" href="/account">"← Account"</a>
            </PageHeader>
            {notice.map(|n| view! { <div class="alert alert-success" role="status">{n}</div> })}
            <FormError error=error/>
            <Suspense fallback=|| view! { <p class="muted">"Loading sessions…"</p> }>
                {move || list.get().map(|result| match result {
                    Ok(page) => view! { <Sessions page=page end=end end_others=end_others/> }.into_any(),
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                })}
            </Suspense>
        </Shell>
    }
    .into_any()
}

#[component]
fn Sessions(
    page: SessionPage,
    end: ServerAction<EndSession>,
    end_others: ServerAction<EndOtherSessions>,
) -> impl IntoView {
    let others = page.items.iter().filter(|s| !s.current).count() as u64;
    let more = (page.total > page.items.len() as i64).then(|| {
        format!(
            "Showing the {} most recently active of {} sessions.",
            page.items.len(),
            page.total
        )
    });
    let (browsers, apis): (Vec<SessionInfo>, Vec<SessionInfo>) = page
        .items
        .into_iter()
        .partition(|s| s.kind == SessionKind::Browser);
    view! {
        <section class="card" aria-labelledby="everywhere-heading">
            <h2 id="everywhere-heading">"Sign out everywhere else"</h2>
            {if others == 0 {
                view! { <p class="muted">"This is the only session signed in to your account."</p> }.into_any()
            } else {
                view! {
                    <p>{format!("Ends {} at once: every other browser and every REST sign-in, whose refresh tokens stop working. This session stays signed in.", plural(others, "other session", "other sessions"))}</p>
                    <details class="confirm">
                        <summary class="btn btn-danger">"Sign out everywhere else…"</summary>
                        <p>"Signed-out browsers and scripts must sign in again. This cannot be undone."</p>
                        <ActionForm action=end_others>
                            <button class="btn btn-danger" type="submit">"Sign out everywhere else"</button>
                        </ActionForm>
                    </details>
                }.into_any()
            }}
            {more.map(|m| view! { <p class="muted">{m}</p> })}
        </section>
        <SessionTable
            heading="Browser sessions"
            id="browser-sessions"
            empty="No browser is signed in."
            items=browsers
            end=end
        />
        <SessionTable
            heading="API sessions"
            id="api-sessions"
            empty="No REST sign-ins. Scripts that call POST /api/v1/auth/login appear here with their refresh tokens."
            items=apis
            end=end
        />
    }
}

#[component]
fn SessionTable(
    heading: &'static str,
    id: &'static str,
    empty: &'static str,
    items: Vec<SessionInfo>,
    end: ServerAction<EndSession>,
) -> impl IntoView {
    let body = if items.is_empty() {
        view! {
            <div class="empty-state">
                <h3>"None"</h3>
                <p>{empty}</p>
            </div>
        }
        .into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="table sessions-table" aria-labelledby=id>
                    <thead>
                        <tr>
                            <th scope="col">"Device"</th>
                            <th scope="col">"IP address"</th>
                            <th scope="col">"Signed in"</th>
                            <th scope="col">"Last seen"</th>
                            <th scope="col"><span class="sr-only">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {items.into_iter().map(|s| view! { <SessionRow s=s end=end/> }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="card" aria-labelledby=id>
            <h2 id=id>{heading}</h2>
            {body}
        </section>
    }
}

#[component]
fn SessionRow(s: SessionInfo, end: ServerAction<EndSession>) -> impl IntoView {
    let what = format!("{} from {}", s.device, s.ip);
    let ua = if s.user_agent.is_empty() {
        "No user agent sent".to_string()
    } else {
        s.user_agent.clone()
    };
    let action = if s.current {
        view! { <span class="badge badge-green">"This session"</span> }.into_any()
    } else {
        let summary_label = format!("Sign out {what}…");
        let button_label = format!("Sign out {what}");
        view! {
            <details class="confirm">
                <summary class="btn btn-ghost" aria-label=summary_label>"Sign out…"</summary>
                <p>{format!("Sign out {what}? It must sign in again to use your account.")}</p>
                <ActionForm action=end>
                    <input type="hidden" name="kind" value=s.kind.as_str()/>
                    <input type="hidden" name="id" value=s.id/>
                    <button class="btn btn-danger" type="submit" aria-label=button_label>"Sign out"</button>
                </ActionForm>
            </details>
        }
        .into_any()
    };
    view! {
        <tr class:current=s.current>
            <td>
                <strong>{s.device.clone()}</strong>
                <div class="muted session-ua" title=ua.clone()>{ua.clone()}</div>
            </td>
            <td class="mono">{s.ip.clone()}</td>
            <td>{format::datetime(s.created_at)}</td>
            <td>{format::datetime(s.last_seen_at)}</td>
            <td>{action}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_read_well() {
        let q = |s: &str| {
            leptos_router::params::ParamsMap::from_iter([(
                s.split('=').next().unwrap_or("").to_string(),
                s.split('=').nth(1).unwrap_or("").to_string(),
            )])
        };
        assert_eq!(
            notice_text(&q("signed_out_others=1")).as_deref(),
            Some("Signed out 1 other session. This session stays signed in.")
        );
        assert_eq!(
            notice_text(&q("signed_out_others=0")).as_deref(),
            Some("There were no other sessions to sign out.")
        );
        assert!(notice_text(&q("signed_out_others=x")).is_none());
        assert!(
            notice_text(&q("signed_out=api"))
                .unwrap()
                .contains("REST session")
        );
    }
}
