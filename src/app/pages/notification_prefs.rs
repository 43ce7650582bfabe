//! `/account/notifications`: which events reach the signed-in user on which channel, as one
//! table of checkboxes in one form (no JavaScript needed). Every event type is on the page,
//! so a box left unchecked is off.

use super::signed_in_user;
use crate::app::components::{FormError, PageHeader, action_error};
use crate::app::layout::Shell;
use crate::app::notification_types::{NotificationPreference, NotificationPreferences};
use crate::app::server_fns::notifications::{
    SaveNotificationPreferences, notification_preferences,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

const COLUMNS: [(&str, &str); 3] = [
    ("in_app", "In the portal"),
    ("email", "Email"),
    ("webhook", "Webhooks"),
];

fn group_title(group: &str) -> &'static str {
    match group {
        "keys" => "API keys",
        "traffic" => "Traffic",
        "security" => "Account security",
        _ => "Announcements",
    }
}

#[component]
pub fn NotificationPrefsPage() -> impl IntoView {
    let Some(user) = signed_in_user() else {
        return ().into_any();
    };
    let saved = use_query_map().get_untracked().get("saved").is_some();
    let save = ServerAction::<SaveNotificationPreferences>::new();
    let prefs = Resource::new(|| (), |_| notification_preferences());
    view! {
        <Title text="Notification preferences"/>
        <Shell user=Some(user)>
            <PageHeader title="Notification preferences"
                subtitle="Choose which events reach you in the portal, by email and through your webhooks.".to_string()>
                <a class="btn btn-ghost" href="/notifications">"Your notifications"</a>
                <a class="btn btn-ghost" href="/account">"Account"</a>
            </PageHeader>
            {saved.then(|| view! { <div class="alert alert-success" role="status">"Preferences saved."</div> })}
            <FormError error=action_error(save.value().get_untracked())/>
            <Suspense fallback=|| view! { <p class="muted">"Loading preferences…"</p> }>
                {move || prefs.get().map(|result| match result {
                    Ok(prefs) => view! { <PrefsForm prefs=prefs save=save/> }.into_any(),
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                })}
            </Suspense>
        </Shell>
    }
    .into_any()
}

#[component]
fn PrefsForm(
    prefs: NotificationPreferences,
    save: ServerAction<SaveNotificationPreferences>,
) -> impl IntoView {
    let mut groups: Vec<(String, Vec<NotificationPreference>)> = Vec::new();
    for p in prefs.items {
        match groups.last_mut() {
            Some((g, rows)) if *g == p.group => rows.push(p),
            _ => groups.push((p.group.clone(), vec![p])),
        }
    }
    view! {
        <section class="card" aria-labelledby="prefs-heading">
            <h2 id="prefs-heading">"Events and channels"</h2>
            <p class="muted">"Webhooks reach the endpoints you set up. Security notices are always mailed, so you hear of a change to your account even if someone else made it."</p>
            <ActionForm action=save attr:class="form">
                <div class="table-wrap">
                    <table class="table prefs-table">
                        <thead><tr>
                            <th scope="col">"Event"</th>
                            {COLUMNS.iter().map(|(_, label)| view! { <th scope="col" class="channel">{*label}</th> }).collect_view()}
                        </tr></thead>
                        {groups.into_iter().map(|(group, rows)| view! {
                            <tbody>
                                <tr class="prefs-group"><th scope="colgroup" colspan="4">{group_title(&group)}</th></tr>
                                {rows.into_iter().map(|p| view! { <PrefRow p=p/> }).collect_view()}
                            </tbody>
                        }).collect_view()}
                    </table>
                </div>
                <div class="form-actions">
                    <button class="btn btn-primary" type="submit">"Save preferences"</button>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn PrefRow(p: NotificationPreference) -> impl IntoView {
    let row_id = format!("pref-{}", p.kind.replace('.', "-"));
    view! {
        <tr>
            <th scope="row" id=row_id.clone()>
                <span>{p.label.clone()}</span>
                <br/>
                <small class="muted">{p.description.clone()}</small>
            </th>
            {COLUMNS.iter().map(|(channel, column)| {
                let on = p.channels.get(channel).unwrap_or(false);
                let locked = p.locked.iter().any(|c| c == channel);
                let name = format!("pref[{}][{}]", p.kind, channel);
                let label = format!("{}: {}", p.label, column);
                let title = locked.then_some("Security notices are always mailed");
                view! {
                    <td class="channel">
                        <input type="checkbox" name=name value="on" checked=on disabled=locked
                            aria-label=label title=title/>
                    </td>
                }
            }).collect_view()}
        </tr>
    }
}
