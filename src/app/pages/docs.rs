use crate::app::components::PageHeader;
use crate::app::layout::Shell;
use crate::app::server_fns::current_user;
use leptos::prelude::*;
use leptos_meta::{Stylesheet, Title};

/// The REST reference, rendered from /api/v1/openapi.json by the vendored Swagger UI.
#[component]
pub fn DocsPage() -> impl IntoView {
    view! {
        <Title text="API docs"/>
        <Stylesheet href="/vendor/swagger-ui/swagger-ui.css"/>
        <Shell user=current_user()>
            <PageHeader title="API reference" subtitle="Every REST endpoint, its request and response shapes, and its errors.".to_string()>
                <a class="btn btn-secondary" href="/api/v1/openapi.json">"Download OpenAPI JSON"</a>
            </PageHeader>
            <noscript>
                <div class="alert alert-info" role="status">
                    "The interactive reference needs JavaScript. The raw document is at "
                    <a href="/api/v1/openapi.json">"/api/v1/openapi.json"</a>"."
                </div>
            </noscript>
            <div id="swagger-ui" data-spec-url="/api/v1/openapi.json"></div>
            <script src="/vendor/swagger-ui/swagger-ui-bundle.js" defer></script>
            <script src="/docs.js" defer></script>
        </Shell>
    }
}
