//! "Copy" for a value shown on the page (a new key in a read-only input, recovery codes in a
//! block of text): writes it to the clipboard and says so. Without JavaScript the value is
//! still there to select and copy by hand.

use leptos::prelude::*;

#[island]
pub fn CopyButton(
    /// The id of the element whose value (an input) or text (anything else) is copied.
    #[prop(into)]
    target: String,
    /// What is copied, for the screen-reader announcement ("Key" unless given).
    #[prop(optional, into)]
    what: Option<String>,
) -> impl IntoView {
    let (copied, set_copied) = signal(false);
    let what = what.unwrap_or_else(|| "Key".to_string());
    let on_click = move |_| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let element = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id(&target));
            let value = element.and_then(|el| match el.dyn_ref::<web_sys::HtmlInputElement>() {
                Some(input) => Some(input.value()),
                None => el.text_content(),
            });
            if let (Some(value), Some(window)) = (value, web_sys::window()) {
                let promise = window.navigator().clipboard().write_text(&value);
                leptos::task::spawn_local(async move {
                    if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
                        set_copied.set(true);
                    }
                });
            }
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = (&target, set_copied);
        }
    };
    let announcement = format!("{what} copied to the clipboard");
    view! {
        <button type="button" class="btn btn-secondary" on:click=on_click>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
        <span class="sr-only" aria-live="polite">{move || if copied.get() { announcement.clone() } else { String::new() }}</span>
    }
}
