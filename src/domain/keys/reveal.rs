//! Reveal-once handles for the portal. A key made in the portal (or a set of two-factor
//! recovery codes) is shown on the page the browser lands on after the form post; the
//! plaintext waits for that one page view here, in memory only (never in the database,
//! session or logs), bound to the user who made it and to what it is, for at most ten minutes.

use crate::domain::crypto::random_hex;
use std::collections::HashMap;
use std::sync::Mutex;

pub const TTL_MS: i64 = 10 * 60 * 1000;
const MAX_PENDING: usize = 10_000;

/// What a parked plaintext is: a handle taken for one subject never yields another's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// The plaintext of the key with this id.
    Key(i64),
    /// Freshly made two-factor recovery codes, one per line.
    RecoveryCodes,
}

struct Pending {
    user_id: i64,
    subject: Subject,
    plaintext: String,
    expires_ms: i64,
}

#[derive(Default)]
pub struct RevealStore {
    pending: Mutex<HashMap<String, Pending>>,
}

impl std::fmt::Debug for RevealStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RevealStore")
    }
}

impl RevealStore {
    /// Parks `plaintext` and returns the one-time handle for the page URL.
    pub fn park(&self, user_id: i64, subject: Subject, plaintext: String, now_ms: i64) -> String {
        let token = random_hex(16);
        if let Ok(mut map) = self.pending.lock() {
            map.retain(|_, p| p.expires_ms > now_ms);
            if map.len() >= MAX_PENDING {
                // Under a flood, the oldest handles go first.
                if let Some(oldest) = map
                    .iter()
                    .min_by_key(|(_, p)| p.expires_ms)
                    .map(|(k, _)| k.clone())
                {
                    map.remove(&oldest);
                }
            }
            map.insert(
                token.clone(),
                Pending {
                    user_id,
                    subject,
                    plaintext,
                    expires_ms: now_ms + TTL_MS,
                },
            );
        }
        token
    }

    /// Hands the plaintext over once, to the user who made it, for the subject it belongs to.
    pub fn take(&self, token: &str, user_id: i64, subject: Subject, now_ms: i64) -> Option<String> {
        let mut map = self.pending.lock().ok()?;
        let matches = map
            .get(token)
            .is_some_and(|p| p.user_id == user_id && p.subject == subject && p.expires_ms > now_ms);
        if matches {
            map.remove(token).map(|p| p.plaintext)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_once_to_its_owner_before_expiry() {
        let store = RevealStore::default();
        let key = Subject::Key(10);
        let t = store.park(1, key, "kp_secret".into(), 0);
        assert_eq!(store.take(&t, 2, key, 1), None, "another user");
        assert_eq!(store.take(&t, 1, Subject::Key(11), 1), None, "another key");
        assert_eq!(
            store.take(&t, 1, Subject::RecoveryCodes, 1),
            None,
            "not codes"
        );
        assert_eq!(store.take(&t, 1, key, 1).as_deref(), Some("kp_secret"));
        assert_eq!(store.take(&t, 1, key, 2), None, "only once");
        let t = store.park(1, key, "kp_late".into(), 0);
        assert_eq!(store.take(&t, 1, key, TTL_MS), None, "expired");
    }
}
