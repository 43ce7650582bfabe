//! Domain verification of cached keys, in ns/op (no HTTP, no database round trip).
//! Run by `make bench`; prints the median of 7 runs over 10,000 distinct keys.

use keyport::domain::crypto::Keys;
use keyport::domain::keys::{
    cache::KeyCache,
    material,
    verify::{KeyState, VerifyCode, VerifyRequest, key_hash, verify_key},
};
use std::time::Instant;

const KEYS: usize = 10_000;
const CALLS_PER_RUN: usize = 500_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        // The cached path never touches the database; an empty in-memory one stands by.
        let db = keyport::db::Db::connect("sqlite::memory:").await.expect("sqlite");
        let crypto = Keys::derive("bench-secret-0123456789abcdef0123456789");
        let cache = KeyCache::default();
        let traffic = keyport::domain::traffic::table::TrafficTable::default();
        let policies = keyport::domain::policies::set::PolicyRegistry::default();
        let jobs_wake = tokio::sync::Notify::new();
        let ctx = keyport::domain::keys::KeyContext { db: &db, crypto: &crypto, cache: &cache, traffic: &traffic, policies: &policies, jobs_wake: &jobs_wake };
        let requests: Vec<VerifyRequest> = (0..KEYS)
            .map(|i| {
                let key = material::generate("kp");
                let state = KeyState { id: i as i64, enabled: true, scopes: vec!["read".into()], ..KeyState::default() };
                cache.fill(key_hash(&crypto, &key), Some(state), cache.epoch());
                VerifyRequest { key, scopes: vec!["read".into()], endpoint: None, ip: None, cost: None }
            })
            .collect();
        let now = 1_800_000_000_000;
        let mut per_op = Vec::new();
        for _ in 0..7 {
            let start = Instant::now();
            for i in 0..CALLS_PER_RUN {
                let answer = verify_key(&ctx, &requests[i % KEYS], None, now).await.expect("verify").response;
                assert_eq!(answer.code, VerifyCode::Valid);
            }
            per_op.push(start.elapsed().as_nanos() as f64 / CALLS_PER_RUN as f64);
        }
        per_op.sort_by(|a, b| a.total_cmp(b));
        println!(
            "domain verify (cached, {KEYS} keys): median {:.0} ns/op over 7 runs of {CALLS_PER_RUN} (min {:.0}, max {:.0})",
            per_op[3], per_op[0], per_op[6]
        );
    });
}
