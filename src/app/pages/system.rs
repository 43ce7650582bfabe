//! The admin system dashboard (`/admin/system`): this process's traffic, latency, usage queue,
//! database pool, memory and background jobs, live while open.

use super::signed_in_admin;
use crate::app::components::PageHeader;
use crate::app::islands::ECHARTS_SCRIPT_ID;
use crate::app::islands::system::SystemDashboard;
use crate::app::layout::Shell;
use crate::app::server_fns::admin::load_system_view;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SystemPage() -> impl IntoView {
    let user = match signed_in_admin() {
        Ok(user) => user,
        Err(instead) => return instead,
    };
    let figures = Resource::new(|| (), |_| load_system_view());
    view! {
        <Title text="System"/>
        <Shell user=Some(user)>
            <PageHeader title="System" subtitle="This server process, live: traffic, latency, usage queue, database and jobs.".to_string()>
                <a class="btn btn-secondary" href="/admin">"Users"</a>
                <a class="btn btn-secondary" href="/metrics">"Prometheus metrics"</a>
            </PageHeader>
            <script id=ECHARTS_SCRIPT_ID src="/vendor/echarts/echarts.min.js" defer></script>
            <Suspense fallback=|| view! { <p class="muted">"Loading figures…"</p> }>
                {move || figures.get().map(|result| match result {
                    Ok(view) => view! { <SystemDashboard view/> }.into_any(),
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                })}
            </Suspense>
        </Shell>
    }
    .into_any()
}
