//! The demo keys: who owns each, what it is bound to and how it has lived (created before or
//! during the window, some revoked, expired, disabled, rate-limited or locked to one client
//! address), drawn from a seeded RNG.

use super::catalog::{self, APIS, SCOPES, TAGS};
use super::traffic::DemoKey;
use crate::app::limit_types::{RateLimitSpec, Window};
use crate::db::keys::{KeyRow, TrafficColumns};
use crate::domain::crypto::Keys;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const DAY_MS: i64 = 86_400_000;
pub const PREFIX: &str = "demo";
/// Share of keys nobody calls in the window.
const DORMANT_SHARE: f64 = 0.35;

/// A key as planned: the row to insert and what traffic generation needs of it.
pub struct PlannedKey {
    pub row: KeyRow,
    pub demo: DemoKey,
}

/// Who owns the keys: the demo developer owns `demo_keys` of them, the other developers
/// share the rest.
pub struct Owners<'a> {
    pub demo_developer: i64,
    pub demo_keys: u64,
    pub developers: &'a [i64],
}

impl Owners<'_> {
    fn of(&self, n: u64) -> i64 {
        if n < self.demo_keys || self.developers.is_empty() {
            self.demo_developer
        } else {
            let i = catalog::mix(n) % self.developers.len() as u64;
            self.developers[i as usize]
        }
    }
}

fn pick<'a>(rng: &mut StdRng, from: &[&'a str], at_most: usize) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for _ in 0..rng.gen_range(0..=at_most) {
        let s = from[rng.gen_range(0..from.len())];
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_string())
}

/// `count` keys for a window of `days` days ending at `end_ms`; `api_ids` in catalog order.
/// Each gets real key material (hashed with `crypto`), whose plaintext is dropped: nobody
/// has seen it, so nobody can call with it.
pub fn plan(
    count: u64,
    owners: &Owners,
    api_ids: &[i64],
    crypto: &Keys,
    end_ms: i64,
    days: u32,
    seed: u64,
) -> Vec<PlannedKey> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6b65_7973);
    let window_start = end_ms - i64::from(days) * DAY_MS;
    (0..count)
        .map(|n| {
            let owner = owners.of(n);
            let api = rng.gen_bool(0.7).then(|| rng.gen_range(0..APIS.len()));
            // Most keys predate the window; some are made during it.
            let created_at = if rng.gen_bool(0.85) {
                window_start - rng.gen_range(0..180 * DAY_MS)
            } else {
                rng.gen_range(window_start..end_ms)
            };
            let revoked_at = rng
                .gen_bool(0.04)
                .then(|| rng.gen_range(created_at..end_ms));
            let expires_at = rng
                .gen_bool(0.2)
                .then(|| created_at + rng.gen_range(90..366) * DAY_MS);
            let enabled = !rng.gen_bool(0.02);
            let rate_limited = rng.gen_bool(0.35);
            let noisy = rate_limited && rng.gen_bool(0.15);
            let ip_locked = rng.gen_bool(0.08);
            let (_, key_hash, last4) = crate::domain::keys::new_material(crypto, PREFIX);
            let limits = if rate_limited {
                vec![RateLimitSpec {
                    name: "default".into(),
                    limit: if noisy { 20 } else { 100 },
                    window: Window::Second,
                    burst: 10,
                }]
            } else {
                vec![]
            };
            let allowlist: Vec<String> = if ip_locked {
                vec![catalog::client_ip(n, 0)]
            } else {
                vec![]
            };
            let row = KeyRow {
                id: 0,
                key_hash,
                prefix: PREFIX.to_string(),
                last4,
                name: catalog::key_name(n),
                description: "Demo key (make seed-demo).".to_string(),
                scopes: json(&pick(&mut rng, &SCOPES, 3)),
                tags: json(&pick(&mut rng, &TAGS, 2)),
                metadata: "{}".to_string(),
                ip_allowlist: json(&allowlist),
                allowed_origins: "[]".to_string(),
                owner_user_id: owner,
                org_id: None,
                api_id: api.and_then(|a| api_ids.get(a).copied()),
                created_by: Some(owner),
                enabled,
                created_at,
                updated_at: created_at,
                expires_at,
                revoked_at,
                rotated_to_id: None,
                last_used_at: None,
                traffic: TrafficColumns {
                    rate_limits: json(&limits),
                    ..TrafficColumns::default()
                },
            };
            let demo = DemoKey {
                id: 0,
                owner_user_id: owner,
                api,
                created_at,
                revoked_at,
                expires_at,
                enabled,
                rate_limited,
                noisy,
                ip_locked,
                dormant: rng.gen_bool(DORMANT_SHARE),
                n,
            };
            PlannedKey { row, demo }
        })
        .collect()
}

/// The key the surge scenario uses: the demo developer's first key that is rate-limited and
/// in good standing for the whole window.
pub fn surge_key(keys: &[DemoKey], demo_developer: i64, window_start: i64) -> Option<usize> {
    keys.iter().position(|k| {
        k.owner_user_id == demo_developer
            && k.rate_limited
            && k.enabled
            && !k.dormant
            && !k.ip_locked
            && k.revoked_at.is_none()
            && k.expires_at.is_none()
            && k.created_at <= window_start
    })
}
