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
}
