use crate::app::layout::Shell;
use crate::app::server_fns::{current_user, set_status};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
fn ErrorPage(code: u16, title: &'static str, message: &'static str) -> impl IntoView {
    set_status(code);
    view! {
        <Title text=title/>
        <Shell user=current_user()>
            <div class="error-page">
                <p class="error-code">{code}</p>
                <h1>{title}</h1>
                <p>{message}</p>
                <a class="btn btn-primary" href="/">"Back to Keyport"</a>
            </div>
        </Shell>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! { <ErrorPage code=404 title="Page not found" message="The page you asked for does not exist or has moved."/> }
}

#[component]
pub fn Forbidden() -> impl IntoView {
    view! { <ErrorPage code=403 title="Access denied" message="Your role does not allow this page. Ask an administrator if you need access."/> }
}
