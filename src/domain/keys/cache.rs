//! The verification hot path's memory: key state by hash, so a known key is checked with no
//! database round trip. Unknown hashes go to a bounded two-generation negative cache, and
//! database look-ups on misses are limited in concurrency, so a flood of random keys neither
//! grows memory without bound nor swamps the pool. `last_used_at` is recorded here and
//! written to the database in batches by a background job.

use super::verify::KeyState;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::Semaphore;

pub type KeyHash = [u8; 32];

/// Remembered unknown hashes per generation; at most twice this many are held.
pub const NEGATIVE_GENERATION_SIZE: usize = 50_000;
/// Concurrent database look-ups for hashes not in memory.
pub const MISS_LOOKUP_CONCURRENCY: usize = 4;

pub struct CachedKey {
    pub state: KeyState,
    last_used_ms: AtomicI64,
    dirty: AtomicBool,
}

impl CachedKey {
    pub fn new(state: KeyState) -> Self {
        let last = state.last_used_ms.unwrap_or(0);
        Self {
            state,
            last_used_ms: AtomicI64::new(last),
            dirty: AtomicBool::new(false),
        }
    }

    pub fn mark_used(&self, now_ms: i64) {
        self.last_used_ms.fetch_max(now_ms, Ordering::Relaxed);
        self.dirty.store(true, Ordering::Release);
    }

    pub fn last_used_ms(&self) -> Option<i64> {
        Some(self.last_used_ms.load(Ordering::Relaxed)).filter(|ms| *ms > 0)
    }
}

#[derive(Default)]
struct Negative {
    current: HashSet<KeyHash>,
    previous: HashSet<KeyHash>,
}

pub struct KeyCache {
    known: RwLock<HashMap<KeyHash, Arc<CachedKey>>>,
    unknown: Mutex<Negative>,
    /// Bumped by every forget; a look-up that started before a bump must not fill the cache
    /// with what it read, since that may predate the change.
    epoch: AtomicU64,
    pub miss_lookups: Semaphore,
}

impl Default for KeyCache {
    fn default() -> Self {
        Self {
            known: RwLock::new(HashMap::new()),
            unknown: Mutex::new(Negative::default()),
            epoch: AtomicU64::new(0),
            miss_lookups: Semaphore::new(MISS_LOOKUP_CONCURRENCY),
        }
    }
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (known, unknown) = self.len();
        f.debug_struct("KeyCache")
            .field("known", &known)
            .field("unknown", &unknown)
            .finish()
    }
}

/// What the cache knows of a hash.
pub enum Lookup {
    Known(Arc<CachedKey>),
    Unknown,
    Miss,
}

impl KeyCache {
    pub fn lookup(&self, hash: &KeyHash) -> Lookup {
        if let Some(found) = self.known.read().ok().and_then(|m| m.get(hash).cloned()) {
            return Lookup::Known(found);
        }
        let unknown = match self.unknown.lock() {
            Ok(n) => n.current.contains(hash) || n.previous.contains(hash),
            Err(_) => false,
        };
        if unknown {
            Lookup::Unknown
        } else {
            Lookup::Miss
        }
    }

    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Records a database answer, unless something changed since `epoch` was read.
    pub fn fill(
        &self,
        hash: KeyHash,
        state: Option<KeyState>,
        epoch: u64,
    ) -> Option<Arc<CachedKey>> {
        let entry = state.map(|s| Arc::new(CachedKey::new(s)));
        match &entry {
            Some(cached) => {
                if let Ok(mut known) = self.known.write()
                    && self.epoch() == epoch
                {
                    known.insert(hash, cached.clone());
                }
            }
            None => {
                if let Ok(mut n) = self.unknown.lock()
                    && self.epoch() == epoch
                {
                    if n.current.len() >= NEGATIVE_GENERATION_SIZE {
                        n.previous = std::mem::take(&mut n.current);
                    }
                    n.current.insert(hash);
                }
            }
        }
        entry
    }

    /// Drops what is known of `hash`; the next verification reads the database. Called after
    /// every change to a key, before the change is reported done.
    pub fn forget(&self, hash: &KeyHash) {
        // Take both locks so no fill can interleave between the bump and the removal.
        let mut known = self.known.write().ok();
        let mut unknown = self.unknown.lock().ok();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        if let Some(k) = known.as_mut() {
            k.remove(hash);
        }
        if let Some(u) = unknown.as_mut() {
            u.current.remove(hash);
            u.previous.remove(hash);
        }
    }

    /// Drops every key of `owner_user_id` (their account was suspended or reactivated), with
    /// the same epoch bump as [`forget`](Self::forget) so no older read refills one.
    pub fn forget_owner(&self, owner_user_id: i64) {
        let mut known = self.known.write().ok();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        if let Some(k) = known.as_mut() {
            k.retain(|_, cached| cached.state.owner_user_id != owner_user_id);
        }
    }

    /// Takes the last-used times recorded since the previous call: (key id, epoch ms).
    pub fn take_last_used(&self) -> Vec<(i64, i64)> {
        let Ok(known) = self.known.read() else {
            return Vec::new();
        };
        known
            .values()
            .filter(|k| k.dirty.swap(false, Ordering::AcqRel))
            .filter_map(|k| k.last_used_ms().map(|ms| (k.state.id, ms)))
            .collect()
    }

    /// The freshest last-used time of a key, if it is in memory.
    pub fn last_used_of(&self, hash: &KeyHash) -> Option<i64> {
        self.known.read().ok()?.get(hash)?.last_used_ms()
    }

    pub fn len(&self) -> (usize, usize) {
        let known = self.known.read().map(|m| m.len()).unwrap_or(0);
        let unknown = self
            .unknown
            .lock()
            .map(|n| n.current.len() + n.previous.len())
            .unwrap_or(0);
        (known, unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(id: i64) -> KeyState {
        KeyState {
            id,
            ..KeyState::default()
        }
    }

    #[test]
    fn known_unknown_and_forget() {
        let cache = KeyCache::default();
        let (a, b) = ([1u8; 32], [2u8; 32]);
        assert!(matches!(cache.lookup(&a), Lookup::Miss));
        cache.fill(a, Some(state(1)), cache.epoch());
        cache.fill(b, None, cache.epoch());
        assert!(matches!(cache.lookup(&a), Lookup::Known(k) if k.state.id == 1));
        assert!(matches!(cache.lookup(&b), Lookup::Unknown));
        cache.forget(&a);
        cache.forget(&b);
        assert!(matches!(cache.lookup(&a), Lookup::Miss));
        assert!(matches!(cache.lookup(&b), Lookup::Miss));
    }

    #[test]
    fn a_fill_from_before_a_change_is_dropped() {
        let cache = KeyCache::default();
        let a = [1u8; 32];
        let before = cache.epoch();
        cache.forget(&a); // a mutation lands while the look-up is in flight
        cache.fill(a, Some(state(1)), before);
        assert!(matches!(cache.lookup(&a), Lookup::Miss));
    }

    #[test]
    fn negative_cache_is_bounded() {
        let cache = KeyCache::default();
        for i in 0..(NEGATIVE_GENERATION_SIZE * 3) as u64 {
            let mut h = [0u8; 32];
            h[..8].copy_from_slice(&i.to_le_bytes());
            cache.fill(h, None, cache.epoch());
        }
        let (_, unknown) = cache.len();
        assert!(unknown <= 2 * NEGATIVE_GENERATION_SIZE, "{unknown}");
    }

    #[test]
    fn last_used_is_taken_once() {
        let cache = KeyCache::default();
        let a = [1u8; 32];
        let k = cache.fill(a, Some(state(7)), cache.epoch()).unwrap();
        assert!(cache.take_last_used().is_empty());
        k.mark_used(1_000);
        k.mark_used(900); // out-of-order requests never move it back
        assert_eq!(cache.take_last_used(), vec![(7, 1_000)]);
        assert!(cache.take_last_used().is_empty());
        assert_eq!(cache.last_used_of(&a), Some(1_000));
    }
}
