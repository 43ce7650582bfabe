//! Security events of accounts (sign-in failures, two-factor changes and failures, recovery
//! code use, password changes), recorded with who, from where and when for the admin views.
//! A failure to record is logged and never fails what it records.

use super::{ClientInfo, Timestamp, to_millis};
use crate::db::{self, Db};

/// The longest email address there can be (RFC 5321's path limit).
const MAX_EMAIL_CHARS: usize = 254;

/// What happened, as stored in `security_events.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountEvent {
    SignInFailed,
    TotpFailed,
    RecoveryCodeUsed,
    TotpEnabled,
    TotpDisabled,
    /// An admin turned the user's two-factor sign-in off.
    TotpReset,
    RecoveryCodesRegenerated,
    PasswordChanged,
    /// An admin suspended the account.
    AccountSuspended,
    AccountReactivated,
}

impl AccountEvent {
    pub fn kind(self) -> &'static str {
        match self {
            Self::SignInFailed => "auth.sign_in_failed",
            Self::TotpFailed => "auth.totp_failed",
            Self::RecoveryCodeUsed => "auth.recovery_code_used",
            Self::TotpEnabled => "auth.totp_enabled",
            Self::TotpDisabled => "auth.totp_disabled",
            Self::TotpReset => "auth.totp_reset",
            Self::RecoveryCodesRegenerated => "auth.recovery_codes_regenerated",
            Self::PasswordChanged => "auth.password_changed",
            Self::AccountSuspended => "auth.account_suspended",
            Self::AccountReactivated => "auth.account_reactivated",
        }
    }
}

/// Records `event` about the account `email` (normalized; the user's id when there is one: a
/// failed sign-in may name no account).
pub async fn record(
    db: &Db,
    event: AccountEvent,
    user_id: Option<i64>,
    email: &str,
    client: &ClientInfo,
    now: Timestamp,
) {
    // A failed sign-in names whatever email was typed: never more than an address can be.
    let subject: String = email.chars().take(MAX_EMAIL_CHARS).collect();
    let row = db::security_events::NewSecurityEvent {
        kind: event.kind(),
        subject_type: "account",
        subject: &subject,
        user_id,
        detail: "{}",
        ip: &client.ip,
        user_agent: &client.user_agent,
        at_ms: to_millis(now),
    };
    if let Err(err) = db::security_events::insert(db, &row).await {
        tracing::warn!(kind = event.kind(), error = %err, "recording a security event failed");
    }
    if let (Some(user_id), Some(notice)) = (user_id, notice_of(event)) {
        let data = serde_json::json!({
            "title": notice.title, "body": notice.body, "link": "/account",
            "ip": client.ip, "security_event": event.kind(),
        });
        let new = db::events::NewEvent {
            kind: notice.kind,
            user_id: Some(user_id),
            org_id: None,
            subject_type: "user",
            subject_id: Some(user_id),
            data,
        };
        // The dispatch job picks it up at its next poll; a failure never fails the change.
        if let Err(err) = db::events::insert(db, &new, to_millis(now)).await {
            tracing::warn!(kind = notice.kind, error = %err, "emitting a security event failed");
        }
    }
}

/// The `security.*` event (type, title, body) an account change raises for its owner's
/// notification center and webhooks; failures and sign-ins raise none.
struct SecurityNotice {
    kind: &'static str,
    title: &'static str,
    body: &'static str,
}

fn notice_of(event: AccountEvent) -> Option<SecurityNotice> {
    let (kind, title, body) = match event {
        AccountEvent::PasswordChanged => (
            "security.password_changed",
            "Your password was changed",
            "The password of your account was changed and your other sessions were signed out. If this was not you, reset your password now.",
        ),
        AccountEvent::TotpEnabled => (
            "security.2fa_changed",
            "Two-factor sign-in turned on",
            "Signing in now asks for a code from your authenticator app.",
        ),
        AccountEvent::TotpDisabled => (
            "security.2fa_changed",
            "Two-factor sign-in turned off",
            "Signing in now needs only your password.",
        ),
        AccountEvent::TotpReset => (
            "security.2fa_changed",
            "An admin turned off your two-factor sign-in",
            "Signing in now needs only your password. Set it up again from your account page.",
        ),
        AccountEvent::RecoveryCodesRegenerated => (
            "security.recovery_codes",
            "New recovery codes",
            "New two-factor recovery codes were made; the old ones no longer work.",
        ),
        AccountEvent::RecoveryCodeUsed => (
            "security.recovery_codes",
            "A recovery code was used",
            "Someone signed in to your account with one of your recovery codes; that code no longer works.",
        ),
        // A suspended account reads no notices; the reactivated user sees the admin's page.
        AccountEvent::SignInFailed
        | AccountEvent::TotpFailed
        | AccountEvent::AccountSuspended
        | AccountEvent::AccountReactivated => return None,
    };
    Some(SecurityNotice { kind, title, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_changes_raise_catalogued_security_events_and_failures_none() {
        use AccountEvent::*;
        for e in [
            PasswordChanged,
            TotpEnabled,
            TotpDisabled,
            TotpReset,
            RecoveryCodesRegenerated,
            RecoveryCodeUsed,
        ] {
            let n = notice_of(e).unwrap();
            assert!(
                crate::app::notification_types::event_type(n.kind).is_some(),
                "{}",
                n.kind
            );
        }
        assert!(notice_of(SignInFailed).is_none() && notice_of(TotpFailed).is_none());
    }
}
