//! A password input with a show/hide toggle and, for new passwords, a strength meter that
//! updates as you type. Without JavaScript it is a plain password input.

use leptos::prelude::*;

/// 0 (too short) to 4 (strong), from length and character variety.
pub fn strength_score(password: &str) -> u8 {
    let len = password.chars().count();
    if len < 10 {
        return 0;
    }
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|present| **present)
    .count();
    let mut score = 1;
    if len >= 14 {
        score += 1;
    }
    if classes >= 3 {
        score += 1;
    }
    if len >= 20 || (len >= 16 && classes >= 3) {
        score += 1;
    }
    score.min(4)
}

pub fn strength_label(score: u8) -> &'static str {
    match score {
        0 => "Too short",
        1 => "Weak",
        2 => "Fair",
        3 => "Good",
        _ => "Strong",
    }
}

#[island]
pub fn PasswordField(
    #[prop(into)] id: String,
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    #[prop(into)] autocomplete: String,
    strength: bool,
    #[prop(optional, into)] hint: Option<String>,
) -> impl IntoView {
    let (visible, set_visible) = signal(false);
    let (score, set_score) = signal(0u8);
    let (typed, set_typed) = signal(false);
    let hint_id = format!("{id}-hint");
    let described_by = hint.as_ref().map(|_| hint_id.clone());
    view! {
        <div class="field password-field">
            <label for=id.clone()>{label}</label>
            <div class="password-input">
                <input
                    id=id
                    name=name
                    type=move || if visible.get() { "text" } else { "password" }
                    autocomplete=autocomplete
                    required
                    maxlength="256"
                    aria-describedby=described_by
                    on:input=move |ev| {
                        set_typed.set(true);
                        set_score.set(strength_score(&event_target_value(&ev)));
                    }
                />
                <button
                    type="button"
                    class="password-toggle"
                    aria-pressed=move || if visible.get() { "true" } else { "false" }
                    aria-label=move || if visible.get() { "Hide password" } else { "Show password" }
                    on:click=move |_| set_visible.update(|v| *v = !*v)
                >
                    {move || if visible.get() { "Hide" } else { "Show" }}
                </button>
            </div>
            {strength.then(|| view! {
                <div class="strength" aria-live="polite">
                    <div class="strength-bar" data-score=move || score.get().to_string()></div>
                    <span class="strength-label">{move || if typed.get() { strength_label(score.get()) } else { "" }}</span>
                </div>
            })}
            {hint.map(|h| view! { <p class="hint" id=hint_id>{h}</p> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_grows_with_length_and_variety() {
        assert_eq!(strength_score("short"), 0);
        assert_eq!(strength_score("abcdefghij"), 1);
        assert_eq!(strength_score("abcdefghijklmn"), 2);
        assert_eq!(strength_score("Abcdefgh1jklmn"), 3);
        assert_eq!(strength_score("correct horse battery staple"), 3);
        assert_eq!(strength_score("Correct horse battery st4ple"), 4);
        assert_eq!(strength_label(0), "Too short");
        assert_eq!(strength_label(9), "Strong");
    }
}
