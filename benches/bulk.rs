//! Bulk revoke of 10,000 keys on SQLite through the domain (`bulk_keys`): chunked writes with
//! one audit row per key, cache invalidation and the per-owner summary notice. Run by
//! `make bench`; prints the median of 5 runs (each on 10,000 fresh keys; target <= 2 s).

use keyport::app::types::{Role, User, UserId};
use keyport::domain::ClientInfo;
use keyport::domain::crypto::Keys;
use keyport::domain::keys::{Actor, KeyContext, bulk::BulkRequest, cache::KeyCache};
use std::time::Instant;

const KEYS: i64 = 10_000;
const RUNS: usize = 5;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = std::env::temp_dir().join(format!("keyport-bulk-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
        let db = keyport::db::Db::connect(&url).await.expect("sqlite");
        db.migrate().await.expect("migrate");
        let keyport::db::Db::Sqlite(pool) = &db else { unreachable!() };
        let uid: i64 = sqlx::query_scalar(
            "INSERT INTO users (email, name, password_hash, role, created_at, updated_at, password_changed_at)
             VALUES ('bench@example.com', 'Bench', 'x', 'user', 0, 0, 0) RETURNING id",
        )
        .fetch_one(pool)
        .await
        .expect("user");
        let now = time::OffsetDateTime::now_utc();
        let actor = Actor {
            user: User { id: UserId(uid), email: "bench@example.com".into(), name: "Bench".into(), role: Role::User, email_verified: true, created_at: now, updated_at: now, suspended_at: None, suspended_reason: None },
            client: ClientInfo { ip: "127.0.0.1".into(), user_agent: "bench".into() },
        };
        let crypto = Keys::derive("bench-secret-0123456789abcdef0123456789");
        let cache = KeyCache::default();
        let traffic = keyport::domain::traffic::table::TrafficTable::default();
        let policies = keyport::domain::policies::set::PolicyRegistry::default();
        let jobs_wake = tokio::sync::Notify::new();
        let ctx = KeyContext { db: &db, crypto: &crypto, cache: &cache, traffic: &traffic, policies: &policies, jobs_wake: &jobs_wake };
        let mut secs = Vec::new();
        for run in 0..RUNS {
            let first: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM api_keys").fetch_one(pool).await.expect("max");
            sqlx::query(
                "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $1)
                 INSERT INTO api_keys (key_hash, prefix, last4, name, owner_user_id, created_at, updated_at)
                 SELECT printf('%064x', $2 * 100000 + n), 'kp', 'abcd', 'bench ' || n, $3, 0, 0 FROM seq",
            )
            .bind(KEYS)
            .bind(run as i64)
            .bind(uid)
            .execute(pool)
            .await
            .expect("keys");
            let ids: Vec<i64> = (first..first + KEYS).collect();
            let req = BulkRequest { action: "revoke".into(), ids: Some(ids), ..BulkRequest::default() };
            let start = Instant::now();
            let out = keyport::domain::keys::bulk::bulk_keys(&ctx, &actor, &req, time::OffsetDateTime::now_utc()).await.expect("bulk");
            secs.push(start.elapsed().as_secs_f64());
            assert!(out.results.iter().all(|r| r.ok), "every key revoked");
        }
        let audits: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'key.revoked'").fetch_one(pool).await.expect("audits");
        assert_eq!(audits, KEYS * RUNS as i64);
        secs.sort_by(|a, b| a.total_cmp(b));
        println!(
            "bulk revoke sqlite ({KEYS} keys, audited): median {:.3} s over {RUNS} runs (min {:.3}, max {:.3}; target <= 2 s: {})",
            secs[RUNS / 2], secs[0], secs[RUNS - 1], if secs[RUNS / 2] <= 2.0 { "MET" } else { "NOT MET" }
        );
        let _ = std::fs::remove_dir_all(&dir);
    });
}
