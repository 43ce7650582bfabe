//! Small building blocks for pages.

use crate::error::AppError;
use leptos::prelude::*;

/// The outcome of a server function posted from a plain form, as an alert.
#[component]
pub fn FormError(error: Option<AppError>) -> impl IntoView {
    error.map(|e| {
        let fields = e.errors.clone();
        view! {
            <div class="alert alert-error" role="alert">
                <p>{e.detail.clone()}</p>
                {(fields.len() > 1).then(|| view! {
                    <ul>
                        {fields.into_iter().map(|f| view! { <li>{field_label(&f.field)}" "{f.message}</li> }).collect_view()}
                    </ul>
                })}
            </div>
        }
    })
}

/// "body.new_password" → "New password".
pub fn field_label(field: &str) -> String {
    let name = field.rsplit('.').next().unwrap_or(field).replace('_', " ");
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The last error a server function reported for this page (no-JS form posts come back with
/// it in the URL).
pub fn action_error<T: Clone + Send + Sync + 'static>(
    value: Option<Result<T, AppError>>,
) -> Option<AppError> {
    match value {
        Some(Err(e)) => Some(e),
        _ => None,
    }
}

#[component]
pub fn PageHeader(
    title: &'static str,
    #[prop(optional)] subtitle: Option<String>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="page-header">
            <div>
                <h1>{title}</h1>
                {subtitle.map(|s| view! { <p class="subtitle">{s}</p> })}
            </div>
            {children.map(|c| view! { <div class="actions">{c()}</div> })}
        </div>
    }
}

#[component]
pub fn Stat(
    label: &'static str,
    value: String,
    #[prop(optional)] hint: Option<String>,
) -> impl IntoView {
    view! {
        <div class="stat">
            <span class="stat-label">{label}</span>
            <span class="stat-value">{value}</span>
            {hint.map(|h| view! { <span class="stat-hint">{h}</span> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_labels_read_well() {
        assert_eq!(field_label("body.new_password"), "New password");
        assert_eq!(field_label("email"), "Email");
        assert_eq!(field_label(""), "");
    }
}
