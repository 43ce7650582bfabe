//! "Copy" for a value shown in a read-only input (a new key): writes it to the clipboard and
//! says so. Without JavaScript the input is still there to select and copy by hand.

use leptos::prelude::*;

#[island]
pub fn CopyButton(#[prop(into)] target: String) -> impl IntoView {
    let (copied, set_copied) = signal(false);
    let on_click = move |_| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let value = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id(&target))
                .and_then(|el| el.dyn_into::<web_sys::HtmlInputElement>().ok())
                .map(|input| input.value());
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
    view! {
        <button type="button" class="btn btn-secondary" on:click=on_click>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
        <span class="sr-only" aria-live="polite">{move || if copied.get() { "Key copied to the clipboard" } else { "" }}</span>
    }
}
