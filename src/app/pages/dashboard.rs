use super::signed_in_user;
use crate::app::components::{PageHeader, Stat};
use crate::app::layout::Shell;
use crate::app::server_fns::dashboard::load_dashboard;
use crate::app::types::DashboardStats;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let Some(user) = signed_in_user() else {
        return ().into_any();
    };
    let stats = Resource::new(|| (), |_| load_dashboard());
    let greeting = format!("Welcome back, {}.", user.name);
    let verified = leptos_router::hooks::use_query_map()
        .get_untracked()
        .get("verified")
        .is_some();
    view! {
        <Title text="Dashboard"/>
        <Shell user=Some(user)>
            <PageHeader title="Dashboard" subtitle=greeting/>
            {verified.then(|| view! { <div class="alert alert-success" role="status">"Your email address is confirmed."</div> })}
            <Suspense fallback=|| view! { <p class="muted">"Loading figures…"</p> }>
                {move || stats.get().map(|result| match result {
                    Ok(s) => view! { <DashboardBody stats=s/> }.into_any(),
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                })}
            </Suspense>
        </Shell>
    }
    .into_any()
}

#[component]
fn DashboardBody(stats: DashboardStats) -> impl IntoView {
    let last = stats.last_signin.clone().unwrap_or_else(|| "—".into());
    view! {
        <section class="card" aria-labelledby="activity">
            <h2 id="activity">"Your account activity"</h2>
            <div class="grid">
                <Stat label="Sign-ins, 30 days" value=stats.signins_30d.to_string() hint=format!("Last: {last}")/>
                <Stat label="Failed sign-ins, 30 days" value=stats.failed_signins_30d.to_string()/>
                <Stat label="Browser sessions" value=stats.browser_sessions_active.to_string() hint="signed in now".to_string()/>
                <Stat label="API sessions" value=stats.api_sessions_active.to_string() hint="live refresh tokens".to_string()/>
            </div>
        </section>
        {stats.admin.map(|a| view! {
            <section class="card" aria-labelledby="instance">
                <h2 id="instance">"This instance"</h2>
                <div class="grid">
                    <Stat label="Users" value=a.users_total.to_string() hint=format!("{} new this week", a.users_new_7d)/>
                    <Stat label="Admins" value=a.admins.to_string()/>
                    <Stat label="Viewers" value=a.viewers.to_string()/>
                    <Stat label="Failed sign-ins, 24 h" value=a.failed_signins_24h.to_string()/>
                </div>
                <p><a href="/admin">"Manage users →"</a></p>
            </section>
        })}
        <section class="card" aria-labelledby="next">
            <h2 id="next">"Get started"</h2>
            <ul class="stack">
                <li><a href="/docs">"Explore the REST API"</a>" — sign in with "<code>"POST /api/v1/auth/login"</code>" and call it from scripts."</li>
                <li><a href="/account">"Review your account"</a>" — keep your name and password up to date."</li>
            </ul>
        </section>
    }
}
