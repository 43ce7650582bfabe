//! The navigation's notification bell: the unread count rendered on the server (so it is right
//! without JavaScript), then kept current from `/notifications/live` (server-sent events): a
//! new notification, or one marked read in another tab, changes it without a reload.

use leptos::prelude::*;

/// The live count's stream.
pub const LIVE_URL: &str = "/notifications/live";

/// "3", or "99+" past 99.
pub fn shown(n: i64) -> String {
    if n > 99 {
        "99+".to_string()
    } else {
        n.to_string()
    }
}

/// What screen readers hear: the count only when there is one.
pub fn label(n: i64) -> Option<String> {
    (n > 0).then(|| format!("Notifications, {n} unread"))
}

#[island]
pub fn NotificationBell(
    /// The unread count when the page was rendered.
    unread: i64,
    /// Whether this is the notifications page (the link is marked current).
    current: bool,
) -> impl IntoView {
    let (count, set_count) = signal(unread);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| browser::follow(set_count));
    #[cfg(not(feature = "hydrate"))]
    let _ = set_count;
    let badge = move || {
        let n = count.get();
        (n > 0).then(|| {
            view! { <span class="badge badge-blue nav-count" aria-hidden="true" data-testid="unread-count">{shown(n)}</span> }
        })
    };
    view! {
        <a href="/notifications" class="nav-bell" aria-current=current.then_some("page") aria-label=move || label(count.get())>
            <svg class="bell-icon" aria-hidden="true" width="16" height="16" viewBox="0 0 24 24" fill="none"
                stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                <path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9"/>
                <path d="M13.73 21a2 2 0 0 1-3.46 0"/>
            </svg>
            "Notifications"
            {badge}
        </a>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::LIVE_URL;
    use crate::app::islands::echarts::listen;
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;

    #[derive(serde::Deserialize)]
    struct Unread {
        unread: i64,
    }

    /// Follows the stream for as long as the page lives; the browser reconnects by itself
    /// after the server ends a stream, and gives up once the session is gone (401).
    pub fn follow(set_count: WriteSignal<i64>) {
        let Ok(source) = web_sys::EventSource::new(LIVE_URL) else {
            return;
        };
        listen(&source, "unread", move |e| {
            let data = e
                .dyn_ref::<web_sys::MessageEvent>()
                .and_then(|m| m.data().as_string());
            if let Some(update) = data.and_then(|d| serde_json::from_str::<Unread>(&d).ok()) {
                set_count.set(update.unread.max(0));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_is_short_and_said_in_words() {
        assert_eq!(shown(7), "7");
        assert_eq!(shown(100), "99+");
        assert_eq!(label(0), None);
        assert_eq!(label(2).as_deref(), Some("Notifications, 2 unread"));
    }
}
