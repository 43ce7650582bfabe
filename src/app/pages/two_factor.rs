//! /account/two-factor: turn two-factor sign-in on (scan or type the secret, confirm with a
//! first code, save the recovery codes shown once), make new recovery codes, turn it off.
//! Plain forms throughout; only "Copy" needs JavaScript.

use super::signed_in_user;
use crate::app::components::{FormError, PageHeader, action_error};
use crate::app::format;
use crate::app::islands::copy::CopyButton;
use crate::app::islands::password::PasswordField;
use crate::app::layout::Shell;
use crate::app::server_fns::two_factor::{
    CancelTwoFactor, DisableTwoFactor, EnableTwoFactor, RegenerateRecoveryCodes, StartTwoFactor,
    take_recovery_codes, two_factor_page,
};
use crate::app::types::{Enrollment, TwoFactorStatus, TwoFactorView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Below this many unused recovery codes the page suggests making new ones.
const FEW_CODES_LEFT: i64 = 3;

/// Every form of the page, so an error from any of them shows where it belongs.
#[derive(Clone, Copy)]
struct Actions {
    start: ServerAction<StartTwoFactor>,
    cancel: ServerAction<CancelTwoFactor>,
    enable: ServerAction<EnableTwoFactor>,
    regenerate: ServerAction<RegenerateRecoveryCodes>,
    disable: ServerAction<DisableTwoFactor>,
}

#[component]
pub fn TwoFactorPage() -> impl IntoView {
    let Some(user) = signed_in_user() else {
        return ().into_any();
    };
    let actions = Actions {
        start: ServerAction::new(),
        cancel: ServerAction::new(),
        enable: ServerAction::new(),
        regenerate: ServerAction::new(),
        disable: ServerAction::new(),
    };
    let query = use_query_map().get_untracked();
    let codes_token = query.get("codes");
    let codes = codes_token.as_deref().and_then(take_recovery_codes);
    let codes_gone = codes_token.is_some() && codes.is_none();
    let turned_off = query.get("saved").as_deref() == Some("off");
    let data = Resource::new(|| (), |_| two_factor_page());
    view! {
        <Title text="Two-factor sign-in"/>
        <Shell user=Some(user)>
            <PageHeader title="Two-factor sign-in" subtitle="A code from an app on your phone, on top of your password.".to_string()>
                <a class="btn btn-ghost" href="/account">"← Account"</a>
            </PageHeader>
            {turned_off.then(|| view! {
                <div class="alert alert-success" role="status">"Two-factor sign-in is off. Your recovery codes no longer work."</div>
            })}
            {codes_gone.then(|| view! {
                <div class="alert alert-warning" role="status">"These recovery codes were shown once already and cannot be shown again. If you did not save them, make new ones below."</div>
            })}
            {codes.map(|codes| view! { <RecoveryCodesOnce codes=codes/> })}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || data.get().map(|result| match result {
                    Ok(page) => view! { <TwoFactorBody page=page actions=actions/> }.into_any(),
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                })}
            </Suspense>
        </Shell>
    }
    .into_any()
}

#[component]
fn TwoFactorBody(page: TwoFactorView, actions: Actions) -> impl IntoView {
    match (page.status.enabled, page.enrollment) {
        (true, _) => view! { <TurnedOn status=page.status actions=actions/> }.into_any(),
        (false, Some(enrollment)) => {
            view! { <Enroll enrollment=enrollment actions=actions/> }.into_any()
        }
        (false, None) => view! { <TurnedOff actions=actions/> }.into_any(),
    }
}

#[component]
fn TurnedOff(actions: Actions) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="off">
            <h2 id="off">"Two-factor sign-in is off"</h2>
            <p>"With it on, signing in asks for a 6-digit code from an authenticator app (1Password, Google Authenticator, Microsoft Authenticator, Aegis, Authy…) after your password, so a leaked password alone does not open your account."</p>
            <FormError error=action_error(actions.start.value().get_untracked())/>
            <ActionForm action=actions.start>
                <button class="btn btn-primary" type="submit">"Set up two-factor sign-in"</button>
            </ActionForm>
        </section>
    }
}

/// "JBSWY3DPEHPK3PXP…" in groups of four, easier to type.
fn grouped(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

#[component]
fn Enroll(enrollment: Enrollment, actions: Actions) -> impl IntoView {
    let error = action_error(actions.enable.value().get_untracked())
        .or_else(|| action_error(actions.cancel.value().get_untracked()));
    view! {
        <section class="card enroll" aria-labelledby="enroll">
            <h2 id="enroll">"Set up your authenticator app"</h2>
            <p>"Two-factor sign-in turns on once you enter a first code from the app."</p>
            <ol class="steps">
                <li>
                    <h3>"Scan this QR code with the app"</h3>
                    <div class="qr" inner_html=enrollment.qr_svg></div>
                </li>
                <li>
                    <h3>"Or type this setup key"</h3>
                    <p>
                        <code id="totp-secret" class="mono secret" data-secret=enrollment.secret.clone()>{grouped(&enrollment.secret)}</code>
                    </p>
                    <p class="hint">"Time-based (TOTP), 6 digits, every 30 seconds, account: your email."</p>
                    <details>
                        <summary>"Show the setup link"</summary>
                        <p class="mono break">{enrollment.otpauth_uri}</p>
                    </details>
                </li>
                <li>
                    <h3>"Enter the code the app shows"</h3>
                    <FormError error=error/>
                    <ActionForm action=actions.enable attr:class="form">
                        <div class="field">
                            <label for="code">"Authentication code"</label>
                            <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code"
                                required maxlength="12" placeholder="123456" aria-describedby="code-hint"/>
                            <p class="hint" id="code-hint">"The 6-digit code for Keyport in your app."</p>
                        </div>
                        <div class="form-actions">
                            <button class="btn btn-primary" type="submit">"Turn on two-factor sign-in"</button>
                        </div>
                    </ActionForm>
                </li>
            </ol>
            <ActionForm action=actions.cancel>
                <button class="btn btn-ghost" type="submit">"Cancel setup"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn TurnedOn(status: TwoFactorStatus, actions: Actions) -> impl IntoView {
    let left = status.recovery_codes_left;
    let regenerate_error = action_error(actions.regenerate.value().get_untracked());
    let disable_error = action_error(actions.disable.value().get_untracked());
    // A form that failed stays open, with its error.
    let regenerate_open = regenerate_error.is_some();
    let disable_open = disable_error.is_some();
    view! {
        <div class="grid">
            <section class="card" aria-labelledby="on">
                <h2 id="on">"Two-factor sign-in is on " <span class="badge badge-green">"On"</span></h2>
                <dl class="kv">
                    <dt>"Since"</dt><dd>{status.enabled_at.map(format::date).unwrap_or_default()}</dd>
                    <dt>"Recovery codes left"</dt><dd>{format!("{left} of 10")}</dd>
                </dl>
                {(left <= FEW_CODES_LEFT).then(|| view! {
                    <div class="alert alert-warning" role="status">
                        {if left == 0 { "You have no recovery codes left. Make new ones, or you cannot sign in without your phone.".to_string() }
                         else { format!("Only {left} recovery code{} left. Make new ones soon.", if left == 1 { "" } else { "s" }) }}
                    </div>
                })}
            </section>
            <section class="card" aria-labelledby="codes-heading">
                <h2 id="codes-heading">"Recovery codes"</h2>
                <p>"Each works once in place of a code, if you lose your phone. New codes replace all the old ones."</p>
                <details class="confirm" open=regenerate_open>
                    <summary class="btn btn-secondary">"Make new recovery codes…"</summary>
                    <FormError error=regenerate_error/>
                    <ActionForm action=actions.regenerate attr:class="form">
                        <SecondFactorFields prefix="regen"/>
                        <button class="btn btn-primary" type="submit">"Make new recovery codes"</button>
                    </ActionForm>
                </details>
            </section>
            <section class="card" aria-labelledby="off-heading">
                <h2 id="off-heading">"Turn off"</h2>
                <p>"Signing in will ask for your password only."</p>
                <details class="confirm" open=disable_open>
                    <summary class="btn btn-danger">"Turn off two-factor sign-in…"</summary>
                    <FormError error=disable_error/>
                    <ActionForm action=actions.disable attr:class="form">
                        <SecondFactorFields prefix="off"/>
                        <button class="btn btn-danger" type="submit">"Turn off two-factor sign-in"</button>
                    </ActionForm>
                </details>
            </section>
        </div>
    }
}

/// The password and a code, which changing two-factor settings asks for.
#[component]
fn SecondFactorFields(prefix: &'static str) -> impl IntoView {
    let password_id = format!("{prefix}-password");
    let code_id = format!("{prefix}-code");
    view! {
        <PasswordField id=password_id name="password" label="Password" autocomplete="current-password" strength=false/>
        <div class="field">
            <label for=code_id.clone()>"Authentication code or recovery code"</label>
            <input id=code_id name="code" type="text" autocomplete="one-time-code" required maxlength="32"/>
        </div>
    }
}

/// The one showing of new recovery codes.
#[component]
fn RecoveryCodesOnce(codes: Vec<String>) -> impl IntoView {
    view! {
        <dialog open class="card reveal" aria-labelledby="codes-title">
            <h2 id="codes-title">"Save your recovery codes"</h2>
            <p>"Each code signs you in once if you lose your phone. Keep them somewhere safe, like a password manager. They will not be shown again."</p>
            <pre id="recovery-codes" class="mono codes" aria-label="Recovery codes">{codes.join("\n")}</pre>
            <div class="row">
                <CopyButton target="recovery-codes" what="Recovery codes"/>
                <form method="dialog"><button class="btn btn-primary" type="submit">"I have saved them"</button></form>
            </div>
        </dialog>
    }
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn secrets_are_grouped_by_four() {
        assert_eq!(grouped("JBSWY3DPEHPK3PXP"), "JBSW Y3DP EHPK 3PXP");
        assert_eq!(grouped("ABCDEF"), "ABCD EF");
        assert_eq!(grouped(""), "");
    }
}
