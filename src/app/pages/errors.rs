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

/// Where a suspended account's browser lands: its session ended when the suspension was seen,
/// so the page cannot know who is asking. The admin's reason is a note for admins and is not
/// shown here.
#[component]
pub fn AccountSuspended() -> impl IntoView {
    view! {
        <Title text="Account suspended"/>
        <Shell user=None>
            <div class="error-page">
                <p class="error-code">"Suspended"</p>
                <h1>"Your account is suspended"</h1>
                <p>"An administrator of this Keyport instance suspended your account. While it is suspended you cannot sign in, your access tokens and management keys are refused, and your API keys answer "<code>"API_KEY_DISABLED"</code>"."</p>
                <p>"If you think this is a mistake, contact an administrator of this instance and ask them to reactivate the account. Once they do, sign in again; your keys work again at once."</p>
                <a class="btn btn-primary" href="/login">"Back to sign-in"</a>
            </div>
        </Shell>
    }
}
