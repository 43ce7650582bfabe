//! Test support: a migrated SQLite database in a temp file of its own.

use super::Db;
use std::path::PathBuf;

/// A migrated SQLite database in its own temp file, removed on drop.
pub struct TempDb {
    pub db: Db,
    dir: PathBuf,
}

impl TempDb {
    pub async fn new() -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "keyport-usage-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let db = Db::connect(&format!("sqlite://{}", dir.join("usage.db").display()))
            .await
            .unwrap();
        db.migrate().await.unwrap();
        Self { db, dir }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
