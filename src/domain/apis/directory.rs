//! The gateway's view of the API registry: slug to route, held in memory and dropped on
//! every registry change, so the gateway reads the database once per API, not per call.

use crate::db::{self, Db, apis::ApiRow};
use crate::domain::db_failure;
use crate::domain::traffic::gcra::Rate;
use crate::domain::traffic::settings::rate_of;
use crate::error::AppResult;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// What the gateway needs of one API.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiRoute {
    pub id: i64,
    pub slug: String,
    /// Base URL without a trailing slash; the call's path is appended.
    pub upstream: String,
    pub timeout_ms: u64,
    pub enabled: bool,
    /// Limits for keys that have none of their own; bucket names carry the API's id so two
    /// APIs' defaults never share a bucket.
    pub default_rates: Vec<(String, Rate)>,
}

impl ApiRoute {
    pub fn from_row(row: &ApiRow) -> Self {
        let specs: Vec<crate::app::limit_types::RateLimitSpec> =
            serde_json::from_str(&row.default_rate_limits).unwrap_or_default();
        ApiRoute {
            id: row.id,
            slug: row.slug.clone(),
            upstream: row.upstream_url.trim_end_matches('/').to_string(),
            timeout_ms: u64::try_from(row.timeout_ms).unwrap_or(30_000),
            enabled: row.enabled,
            default_rates: specs
                .iter()
                .map(|s| (format!("api{}:{}", row.id, s.name), rate_of(s)))
                .collect(),
        }
    }
}

#[derive(Debug, Default)]
pub struct ApiDirectory {
    /// None: the slug is known not to exist.
    routes: RwLock<HashMap<String, Option<Arc<ApiRoute>>>>,
    /// Bumped by every change, so a lookup that read the database before a change cannot
    /// store its stale answer after it.
    generation: AtomicU64,
}

/// Unknown slugs remembered at most this many, so random paths cannot grow memory.
const MAX_REMEMBERED: usize = 10_000;

impl ApiDirectory {
    pub async fn by_slug(&self, db: &Db, slug: &str) -> AppResult<Option<Arc<ApiRoute>>> {
        if let Ok(map) = self.routes.read()
            && let Some(known) = map.get(slug)
        {
            return Ok(known.clone());
        }
        let seen = self.generation.load(Ordering::Acquire);
        let route = db::apis::find_by_slug(db, slug)
            .await
            .map_err(db_failure)?
            .map(|row| Arc::new(ApiRoute::from_row(&row)));
        let mut map = self.routes.write().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) != seen {
            return Ok(route);
        }
        if map.len() >= MAX_REMEMBERED {
            map.clear();
        }
        map.insert(slug.to_string(), route.clone());
        Ok(route)
    }

    /// Call after any change to the registry.
    pub fn forget_all(&self) {
        let mut map = self.routes.write().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        map.clear();
    }
}
