//! `/notifications`: the signed-in user's notifications, newest first, each marked read with a
//! plain form (no JavaScript needed).

use super::{page_param, signed_in_user};
use crate::app::alert_types::{Notification, NotificationPage};
use crate::app::components::{FormError, PageHeader, action_error};
use crate::app::format;
use crate::app::layout::Shell;
use crate::app::notification_types::{CATALOG, FAMILIES, event_type};
use crate::app::server_fns::notifications::{
    MarkAllNotificationsRead, MarkNotificationRead, notifications_href, notifications_page,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// A link stored with a notification, followed only when it is a path of this portal.
fn portal_path(link: &str) -> Option<String> {
    let ok = link.starts_with('/') && !link.starts_with("//") && !link.contains('\\');
    ok.then(|| link.to_string())
}

/// An https link of an admin's broadcast (opened as an outside page).
fn outside_link(link: &str) -> Option<String> {
    let ok = link.starts_with("https://") && !link.chars().any(|c| c.is_whitespace() || c == '\\');
    ok.then(|| link.to_string())
}

/// A `?kind=` value the list knows (an event type or a family); anything else is ignored.
fn known_kind(kind: &str) -> bool {
    event_type(kind).is_some() || FAMILIES.iter().any(|(k, _)| *k == kind)
}

fn kind_label(kind: &str) -> String {
    event_type(kind)
        .map(|e| e.label.to_string())
        .or_else(|| {
            FAMILIES
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, l)| l.to_string())
        })
        .unwrap_or_else(|| kind.to_string())
}

/// The key an alert notification is about, from its usage link (`/usage?key=12&range=24h`).
fn key_of(link: &str) -> Option<i64> {
    link.strip_prefix("/usage?")?
        .split('&')
        .find_map(|pair| pair.strip_prefix("key="))?
        .parse()
        .ok()
}

fn marked_text(n: u64) -> String {
    match n {
        0 => "Nothing was unread.".into(),
        1 => "1 notification marked read.".into(),
        n => format!("{n} notifications marked read."),
    }
}

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let Some(user) = signed_in_user() else {
        return ().into_any();
    };
    let query = use_query_map().get_untracked();
    let unread_only = query
        .get("unread")
        .is_some_and(|v| matches!(v.as_str(), "true" | "1" | "on"));
    let kind = query
        .get("kind")
        .filter(|k| known_kind(k))
        .unwrap_or_default();
    let page = page_param(&query);
    let notice = query
        .get("marked")
        .and_then(|n| n.parse::<u64>().ok())
        .map(marked_text);
    let list = Resource::new(
        {
            let kind = kind.clone();
            move || (unread_only, kind.clone(), page)
        },
        |(u, k, p)| notifications_page(u, k, p),
    );
    let mark = ServerAction::<MarkNotificationRead>::new();
    let mark_all = ServerAction::<MarkAllNotificationsRead>::new();
    let error = action_error(mark.value().get_untracked())
        .or_else(|| action_error(mark_all.value().get_untracked()));
    view! {
        <Title text="Notifications"/>
        <Shell user=Some(user)>
            <Suspense fallback=|| view! { <p class="muted">"Loading notifications…"</p> }>
                {move || list.get().map(|result| match result {
                    Ok(list) => view! {
                        <Header unread=list.unread mark_all=mark_all/>
                        {notice.clone().map(|n| view! { <div class="alert alert-success" role="status">{n}</div> })}
                        <FormError error=error.clone()/>
                        <NotificationList list=list unread_only=unread_only kind=kind.clone() mark=mark/>
                    }.into_any(),
                    Err(e) => view! {
                        <PageHeader title="Notifications"/>
                        <div class="alert alert-error" role="alert">{e.detail}</div>
                    }.into_any(),
                })}
            </Suspense>
        </Shell>
    }
    .into_any()
}

#[component]
fn Header(unread: i64, mark_all: ServerAction<MarkAllNotificationsRead>) -> impl IntoView {
    let subtitle = match unread {
        0 => "You have no unread notifications.".to_string(),
        1 => "You have 1 unread notification.".to_string(),
        n => format!("You have {n} unread notifications."),
    };
    view! {
        <PageHeader title="Notifications" subtitle=subtitle>
            <a class="btn btn-ghost" href="/account/notifications">"Preferences"</a>
            {(unread > 0).then(|| view! {
                <ActionForm action=mark_all>
                    <button class="btn btn-secondary" type="submit">"Mark all read"</button>
                </ActionForm>
            })}
        </PageHeader>
    }
}

#[component]
fn NotificationList(
    list: NotificationPage,
    unread_only: bool,
    kind: String,
    mark: ServerAction<MarkNotificationRead>,
) -> impl IntoView {
    let mut heading = if unread_only {
        "Unread notifications".to_string()
    } else {
        "All notifications".to_string()
    };
    if !kind.is_empty() {
        heading = format!("{heading}: {}", kind_label(&kind));
    }
    let pages = (list.total + list.per_page - 1) / list.per_page;
    let prev = (list.page > 1).then(|| notifications_href(unread_only, &kind, list.page - 1));
    let next = (list.page < pages).then(|| notifications_href(unread_only, &kind, list.page + 1));
    let page = list.page;
    let body = if list.items.is_empty() {
        empty_state(list.total, unread_only, &kind).into_any()
    } else {
        view! {
            <ul class="notification-list">
                {list.items.into_iter().map(|n| view! {
                    <NotificationItem n=n unread_only=unread_only kind=kind.clone() page=page mark=mark/>
                }).collect_view()}
            </ul>
            <nav class="row" aria-label="Pagination">
                <span class="muted">{format!("{} notification{} · page {} of {}", list.total, if list.total == 1 { "" } else { "s" }, list.page, pages.max(1))}</span>
                {prev.map(|href| view! { <a class="btn btn-ghost" href=href>"← Previous"</a> })}
                {next.map(|href| view! { <a class="btn btn-ghost" href=href>"Next →"</a> })}
            </nav>
        }
        .into_any()
    };
    view! {
        <section class="card" aria-labelledby="notifications-heading">
            <div class="row notifications-head">
                <h2 id="notifications-heading">{heading}</h2>
                <form class="row" method="get" action="/notifications">
                    <label for="notification-kind">"Type"</label>
                    <select id="notification-kind" name="kind">
                        <option value="" selected=kind.is_empty()>"All types"</option>
                        {FAMILIES.iter().map(|(k, label)| view! {
                            <option value=*k selected=kind == *k>{*label}</option>
                        }).collect_view()}
                        {CATALOG.iter().map(|e| view! {
                            <option value=e.kind selected=kind == e.kind>{e.label}</option>
                        }).collect_view()}
                    </select>
                    <label>
                        <input type="checkbox" name="unread" value="true" checked=unread_only/>
                        " Unread only"
                    </label>
                    <button class="btn btn-secondary" type="submit">"Filter"</button>
                </form>
            </div>
            {body}
        </section>
    }
}

fn empty_state(total: i64, unread_only: bool, kind: &str) -> impl IntoView {
    if total > 0 {
        // A page past the end (e.g. after marking the last unread one of a later page read).
        return view! {
            <div class="empty-state">
                <h3>"Nothing on this page"</h3>
                <a class="btn btn-secondary" href=notifications_href(unread_only, kind, 1)>"First page"</a>
            </div>
        }
        .into_any();
    }
    if !kind.is_empty() {
        return view! {
            <div class="empty-state">
                <h3>"No notifications of this type"</h3>
                <p>{format!("Nothing matches “{}”{}.", kind_label(kind), if unread_only { " among the unread ones" } else { "" })}</p>
                <a class="btn btn-secondary" href="/notifications">"Show all"</a>
            </div>
        }
        .into_any();
    }
    if unread_only {
        return view! {
            <div class="empty-state">
                <h3>"No unread notifications"</h3>
                <p>"You have read everything. Older notifications stay in the full list."</p>
                <a class="btn btn-secondary" href="/notifications">"Show all"</a>
            </div>
        }
        .into_any();
    }
    view! {
        <div class="empty-state">
            <h3>"No notifications yet"</h3>
            <p>"Keyport notifies you here when something happens to your keys (created, rotated, revoked, expiring soon), when a usage alert fires for one of your keys, about your account's security and when the admins announce something."</p>
            <a class="btn btn-secondary" href="/account/notifications">"Choose what you hear of"</a>
        </div>
    }
    .into_any()
}

#[component]
fn NotificationItem(
    n: Notification,
    unread_only: bool,
    kind: String,
    page: i64,
    mark: ServerAction<MarkNotificationRead>,
) -> impl IntoView {
    let unread = n.read_at.is_none();
    let class = if unread {
        "notification unread"
    } else {
        "notification"
    };
    let key = n
        .kind
        .starts_with("alert.")
        .then(|| key_of(&n.link))
        .flatten();
    let link = portal_path(&n.link);
    let outside = link.is_none().then(|| outside_link(&n.link)).flatten();
    let type_label = event_type(&n.kind).map(|e| e.label);
    let mark_label = format!("Mark read: {}", n.title);
    let read_text = n
        .read_at
        .map(|t| format!(" · read {}", format::datetime(t)))
        .unwrap_or_default();
    view! {
        <li class=class>
            <div class="notification-main">
                <h3 class="notification-title">
                    {unread.then(|| view! { <span class="badge badge-blue">"Unread"</span>" " })}
                    {n.title.clone()}
                </h3>
                <p>{n.body.clone()}</p>
                <p class="notification-meta">
                    <span class="muted">{type_label.map(|l| format!("{l} · "))}{format::datetime(n.created_at)}{read_text}</span>
                    {key.map(|id| view! { <a href=format!("/keys/{id}")>"Open key"</a> })}
                    {link.map(|href| {
                        let text = if href.starts_with("/usage") { "View usage" } else { "Open" };
                        view! { <a href=href>{text}</a> }
                    })}
                    {outside.map(|href| view! { <a href=href rel="noopener noreferrer" target="_blank">"Open link"</a> })}
                </p>
            </div>
            {unread.then(|| view! {
                <ActionForm action=mark>
                    <input type="hidden" name="id" value=n.id/>
                    <input type="hidden" name="unread" value=if unread_only { "true" } else { "" }/>
                    <input type="hidden" name="kind" value=kind.clone()/>
                    <input type="hidden" name="page" value=page/>
                    <button class="btn btn-ghost" type="submit" aria-label=mark_label>"Mark read"</button>
                </ActionForm>
            })}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_links_lead_to_the_key_and_stay_in_the_portal() {
        assert_eq!(key_of("/usage?key=12&range=24h"), Some(12));
        assert_eq!(key_of("/usage?range=1h"), None);
        assert_eq!(key_of("/keys?key=12"), None);
        assert_eq!(
            portal_path("/usage?range=1h").as_deref(),
            Some("/usage?range=1h")
        );
        assert_eq!(portal_path("//evil.example/x"), None);
        assert_eq!(portal_path("https://evil.example/"), None);
        assert_eq!(portal_path(""), None);
    }
}
