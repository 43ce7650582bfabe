//! Two-factor sign-in codes: RFC 6238 time-based one-time passwords (SHA-1, 6 digits, 30-second
//! steps: what every authenticator app reads from an `otpauth://` URI) and one-time recovery
//! codes. Pure: the time is passed in, and the caller stores the last step a user's code was
//! accepted in, which is what refuses a replayed code.

use crate::app::format::url_encode;
use totp_rs::{Algorithm, Secret, TOTP};

pub const STEP_SECONDS: u64 = 30;
pub const DIGITS: usize = 6;
/// Steps either side of the current one a code may come from (clock drift, typing time).
const SKEW_STEPS: u64 = 1;
/// 160 bits, RFC 4226's recommended length (the RFC's minimum is 128).
const SECRET_BYTES: usize = 20;
const MIN_SECRET_BYTES: usize = 16;

/// Recovery codes shown to a user at once.
pub const RECOVERY_CODES: usize = 10;
/// Letters of a recovery code: Crockford's base32 (no i, l, o, u), 5 bits each; typed
/// look-alikes are read as what they look like (o as 0, i and l as 1).
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// 10 letters (50 bits), shown as two groups of five.
const RECOVERY_LETTERS: usize = 10;

/// A user's shared TOTP secret. Never logged: `Debug` prints no bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl TotpSecret {
    /// A fresh secret from the OS random generator.
    pub fn generate() -> Self {
        TotpSecret(super::crypto::random_bytes::<SECRET_BYTES>().to_vec())
    }

    /// The secret as apps and people type it (base32, no padding); `None` for text that is not
    /// base32 or holds fewer than 128 bits.
    pub fn from_base32(text: &str) -> Option<Self> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '=')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bytes = Secret::Encoded(compact).to_bytes().ok()?;
        (bytes.len() >= MIN_SECRET_BYTES).then_some(TotpSecret(bytes))
    }

    pub fn to_base32(&self) -> String {
        match Secret::Raw(self.0.clone()).to_encoded() {
            Secret::Encoded(text) => text.trim_end_matches('=').to_string(),
            Secret::Raw(_) => String::new(),
        }
    }

    /// The `otpauth://totp/` URI an authenticator app enrolls from (Key Uri Format): the label
    /// `issuer:account`, with both escaped so an account name cannot add parameters.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let issuer = url_encode(issuer, false);
        format!(
            "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            url_encode(account, false),
            self.to_base32(),
        )
    }

    fn totp(&self) -> TOTP {
        // Checked lengths (≥ 128 bits, 6 digits): the unchecked constructor cannot fail.
        TOTP::new_unchecked(Algorithm::SHA1, DIGITS, 0, STEP_SECONDS, self.0.clone())
    }

    /// The code of the step holding `unix_seconds` (what the app shows then).
    pub fn code_at(&self, unix_seconds: u64) -> String {
        self.totp().generate(unix_seconds)
    }
}

/// The 30-second step a code belongs to (`unix_seconds / 30`).
pub type Step = u64;

/// What a typed code is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeCheck {
    /// The code of this step: store it as the user's last used step.
    Accepted(Step),
    /// A code of a step already used (or older): someone may have watched it being typed.
    Replayed,
    /// Not the code of the current step or of one either side of it, or not six digits.
    Invalid,
}

/// The digits of a typed code (apps show `123 456`); `None` unless exactly six digits.
fn typed_digits(code: &str) -> Option<String> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Checks `code` at `now_unix` (seconds): the current step's code or one either side is
/// accepted once; a step at or before `last_used` is a replay.
pub fn check_code(
    secret: &TotpSecret,
    code: &str,
    now_unix: u64,
    last_used: Option<Step>,
) -> CodeCheck {
    let Some(code) = typed_digits(code) else {
        return CodeCheck::Invalid;
    };
    let totp = secret.totp();
    let now = now_unix / STEP_SECONDS;
    // Every candidate is compared (in constant time), so the answer's timing does not tell
    // which step matched.
    let mut matched = None;
    for step in now.saturating_sub(SKEW_STEPS)..=now.saturating_add(SKEW_STEPS) {
        let expected = totp.generate(step * STEP_SECONDS);
        if super::crypto::constant_time_eq(expected.as_bytes(), code.as_bytes()) {
            matched = Some(step);
        }
    }
    match matched {
        None => CodeCheck::Invalid,
        Some(step) if last_used.is_some_and(|used| step <= used) => CodeCheck::Replayed,
        Some(step) => CodeCheck::Accepted(step),
    }
}

/// Ten fresh recovery codes as shown to the user (`abcde-fghjk`); store only their hashes
/// (of [`recovery_code_key`]).
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let letters: String = super::crypto::random_bytes::<RECOVERY_LETTERS>()
                .iter()
                .map(|b| RECOVERY_ALPHABET[usize::from(b & 31)] as char)
                .collect();
            format!("{}-{}", &letters[..5], &letters[5..])
        })
        .collect()
}

/// A typed recovery code as it is hashed: lowercase, without spaces or dashes; `None` when it
/// cannot be one (wrong length or letters), so it is refused without a lookup.
pub fn recovery_code_key(typed: &str) -> Option<String> {
    let key: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            c => c,
        })
        .collect();
    let valid =
        key.len() == RECOVERY_LETTERS && key.bytes().all(|b| RECOVERY_ALPHABET.contains(&b));
    valid.then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 secret.
    fn rfc_secret() -> TotpSecret {
        TotpSecret(b"12345678901234567890".to_vec())
    }

    #[test]
    fn codes_match_rfc_6238_test_vectors() {
        // The RFC lists 8 digits; a 6-digit code is the same number's last six.
        for (time, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(rfc_secret().code_at(time), eight[2..], "t = {time}");
        }
    }

    #[test]
    fn one_step_either_side_is_accepted_two_are_not() {
        let s = rfc_secret();
        let step = 1_234_567_890 / STEP_SECONDS; // the code's step
        let code = s.code_at(step * STEP_SECONDS);
        let at = |t: u64| check_code(&s, &code, t, None);
        let start = step * STEP_SECONDS;
        assert_eq!(at(start), CodeCheck::Accepted(step));
        assert_eq!(at(start + STEP_SECONDS - 1), CodeCheck::Accepted(step));
        // The step before (the app's clock runs ahead) and the one after (typing time).
        assert_eq!(at(start - STEP_SECONDS), CodeCheck::Accepted(step));
        assert_eq!(at(start + 2 * STEP_SECONDS - 1), CodeCheck::Accepted(step));
        // Boundaries of the window, to the second.
        assert_eq!(at(start - STEP_SECONDS - 1), CodeCheck::Invalid);
        assert_eq!(at(start + 2 * STEP_SECONDS), CodeCheck::Invalid);
    }

    #[test]
    fn a_used_step_cannot_be_used_again() {
        let s = rfc_secret();
        let t = 2_000_000_000;
        let step = t / STEP_SECONDS;
        let code = s.code_at(t);
        assert_eq!(
            check_code(&s, &code, t, Some(step - 1)),
            CodeCheck::Accepted(step)
        );
        assert_eq!(check_code(&s, &code, t, Some(step)), CodeCheck::Replayed);
        assert_eq!(
            check_code(&s, &code, t + 30, Some(step)),
            CodeCheck::Replayed
        );
        // An older code still inside the window, once a later one was used.
        let earlier = s.code_at(t - STEP_SECONDS);
        assert_eq!(check_code(&s, &earlier, t, Some(step)), CodeCheck::Replayed);
        // The next step's code is fine.
        let next = s.code_at(t + STEP_SECONDS);
        assert_eq!(
            check_code(&s, &next, t + STEP_SECONDS, Some(step)),
            CodeCheck::Accepted(step + 1)
        );
    }

    #[test]
    fn typed_codes_are_six_digits_spaces_allowed() {
        let s = rfc_secret();
        let t = 59;
        assert_eq!(check_code(&s, "287 082", t, None), CodeCheck::Accepted(1));
        assert_eq!(check_code(&s, " 287082\n", t, None), CodeCheck::Accepted(1));
        for bad in [
            "",
            "28708",
            "2870821",
            "94287082",
            "28708a",
            "２８７０８２",
            "287-082",
        ] {
            assert_eq!(check_code(&s, bad, t, None), CodeCheck::Invalid, "{bad:?}");
        }
        // Near the epoch there is no step before the first.
        assert_eq!(
            check_code(&s, &s.code_at(0), 0, None),
            CodeCheck::Accepted(0)
        );
    }

    #[test]
    fn secrets_round_trip_as_base32_and_short_ones_are_refused() {
        let s = TotpSecret::generate();
        assert_eq!(s.0.len(), SECRET_BYTES);
        assert_ne!(s, TotpSecret::generate());
        let text = s.to_base32();
        assert_eq!(text.len(), 32);
        assert!(!text.contains('='));
        assert_eq!(TotpSecret::from_base32(&text), Some(s.clone()));
        let spaced = text
            .to_lowercase()
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(TotpSecret::from_base32(&spaced), Some(s.clone()));
        assert_eq!(TotpSecret::from_base32("GEZDGNBVGY3TQOJQ"), None, "80 bits");
        assert_eq!(TotpSecret::from_base32("not base32!"), None);
        assert_eq!(TotpSecret::from_base32(""), None);
        assert_eq!(format!("{s:?}"), "TotpSecret(<redacted>)");
    }

    #[test]
    fn the_otpauth_uri_escapes_issuer_and_account() {
        let s = rfc_secret();
        let uri = s.otpauth_uri("Keyport", "ann@example.com");
        assert_eq!(
            uri,
            format!(
                "otpauth://totp/Keyport:ann%40example.com?secret={}&issuer=Keyport&algorithm=SHA1&digits=6&period=30",
                s.to_base32()
            )
        );
        let hostile = s.otpauth_uri("Acme Inc", "x&secret=AAAA:y?#");
        assert!(
            hostile.starts_with("otpauth://totp/Acme%20Inc:x%26secret%3DAAAA%3Ay%3F%23?secret=")
        );
        assert_eq!(hostile.matches("secret=").count(), 1);
    }

    #[test]
    fn recovery_codes_are_distinct_and_typed_loosely() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let distinct: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
        for c in &codes {
            assert_eq!(c.len(), 11);
            assert_eq!(&c[5..6], "-");
            let key = recovery_code_key(c).unwrap();
            assert_eq!(key, c.replace('-', ""));
            assert_eq!(
                recovery_code_key(&format!(" {} ", c.to_uppercase())),
                Some(key.clone())
            );
            assert_eq!(recovery_code_key(&key), Some(key));
        }
        assert_eq!(
            recovery_code_key("AbOde-fgIjL"),
            Some("ab0defg1j1".to_string())
        );
        for bad in [
            "",
            "abcde-fghj",
            "abcde-fghjkm",
            "abcde-fghju",
            "abcdé-fghjk",
            "abcde_fghjk",
        ] {
            assert_eq!(recovery_code_key(bad), None, "{bad:?}");
        }
    }
}
