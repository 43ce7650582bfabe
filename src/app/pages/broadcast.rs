//! The admin page's broadcast form: a message to every user, or to every user of one role, as
//! an in-app notification (and a mail to those who opted in to announcement mail).

use crate::app::components::FormError;
use crate::app::components::action_error;
use crate::app::server_fns::notifications::SendBroadcast;
use leptos::prelude::*;

#[component]
pub fn BroadcastForm(
    /// How many users the last broadcast is for (`?broadcast=N` after sending).
    sent: Option<i64>,
) -> impl IntoView {
    let send = ServerAction::<SendBroadcast>::new();
    view! {
        <section class="card" aria-labelledby="broadcast-heading">
            <h2 id="broadcast-heading">"Broadcast"</h2>
            <p class="muted">"Tell everyone, or everyone of one role, about maintenance, changes or news. It arrives as a notification, and by mail to those who chose announcement mail."</p>
            {sent.map(|n| view! {
                <div class="alert alert-success" role="status">{match n {
                    1 => "Broadcast sent to 1 user: it arrives within moments.".to_string(),
                    n => format!("Broadcast sent to {n} users: it arrives within moments."),
                }}</div>
            })}
            <FormError error=action_error(send.value().get_untracked())/>
            <ActionForm action=send attr:class="form">
                <div class="field">
                    <label for="broadcast-title">"Title"</label>
                    <input id="broadcast-title" name="title" type="text" required maxlength="120"/>
                </div>
                <div class="field">
                    <label for="broadcast-body">"Message"</label>
                    <textarea id="broadcast-body" name="body" rows="4" required maxlength="2000"></textarea>
                </div>
                <div class="field">
                    <label for="broadcast-link">"Link (optional)"</label>
                    <input id="broadcast-link" name="link" type="text" maxlength="500" placeholder="/docs or https://status.example.com"/>
                </div>
                <div class="field">
                    <label for="broadcast-role">"Send to"</label>
                    <select id="broadcast-role" name="role">
                        <option value="">"Everyone"</option>
                        <option value="user">"Users"</option>
                        <option value="viewer">"Viewers"</option>
                        <option value="admin">"Admins"</option>
                        <option value="super_admin">"Super admins"</option>
                    </select>
                </div>
                <div class="form-actions">
                    <button class="btn btn-primary" type="submit">"Send broadcast"</button>
                </div>
            </ActionForm>
        </section>
    }
}
