//! The busiest keys or clients of a range (client IPs of every owner or of one, keys of every
//! owner), found from each bucket's busiest rather than by adding up every row of the range
//! (Fagin's threshold algorithm).
//!
//! Each bucket's rows can be read busiest first (an index on requests). Reading them a page
//! at a time, bucket by bucket, and looking up the exact range total of every key met, we
//! may stop as soon as the `k`-th best exact total beats the threshold: the sum of the last
//! count read in each bucket not read to its end. A key not met yet has at most that many
//! requests in every bucket where it was not met, so at most the threshold in all. The
//! answer is exact, ties broken as the full query breaks them. Traffic is skewed (a few
//! keys carry most calls), so this usually stops after the first page of each bucket; when
//! it does not within [`MAX_READ`] rows, the full query answers instead.

use crate::db::Db;
use crate::db::rollup_breakdown::{self as store, TopBy, TopTotals};
use crate::db::rollups::RollupFilter;
use std::collections::HashMap;

/// Rows read busiest first per bucket on the first pass (doubled each further pass).
const FIRST_PAGE: i64 = 32;
/// Past this many rows read in order, the full query is cheaper.
const MAX_READ: usize = 20_000;

/// Where one bucket's list has been read to.
struct Cursor {
    bucket_start: i64,
    last: Option<TopTotals>,
    done: bool,
}

/// What the reads so far allow: the answer, or not yet.
#[derive(Default)]
pub struct Threshold {
    /// Exact range totals of every key or client met, by id.
    exact: HashMap<(i64, String), TopTotals>,
}

fn id(t: &TopTotals) -> (i64, String) {
    (t.key_id, t.name.clone())
}

/// The full query's order: most requests first, then by id.
fn order(by: TopBy, a: &TopTotals, b: &TopTotals) -> std::cmp::Ordering {
    b.requests.cmp(&a.requests).then_with(|| match by {
        TopBy::Key => a.key_id.cmp(&b.key_id),
        TopBy::Endpoint | TopBy::Ip => a.name.cmp(&b.name),
    })
}

impl Threshold {
    /// The entries of `page` not met before.
    pub fn unseen(&self, page: &[TopTotals]) -> Vec<TopTotals> {
        let mut out: Vec<TopTotals> = page
            .iter()
            .filter(|t| !self.exact.contains_key(&id(t)))
            .cloned()
            .collect();
        out.sort_by_key(id);
        out.dedup_by_key(|t| id(t));
        out
    }

    pub fn learn(&mut self, totals: Vec<TopTotals>) {
        for t in totals {
            self.exact.insert(id(&t), t);
        }
    }

    /// The `k` busiest if no entry not met yet can be among them, given that none has more
    /// than `threshold` requests in all.
    pub fn answer(
        &self,
        by: TopBy,
        k: usize,
        threshold: i64,
        all_read: bool,
    ) -> Option<Vec<TopTotals>> {
        let mut best: Vec<TopTotals> = self.exact.values().cloned().collect();
        best.sort_by(|a, b| order(by, a, b));
        best.truncate(k);
        let certain =
            all_read || (best.len() == k && best.last().is_some_and(|t| t.requests > threshold));
        certain.then_some(best)
    }
}

/// The `k` busiest keys or clients (`by`) of the rows `filter` selects in `[from_ms, to_ms)`
/// by `granularity`, as `store::top` would answer; for lists `store::ranked_by_bucket` allows.
/// Each pass reads a page of every bucket not read to its end in one statement, then the
/// exact totals of everything it met for the first time in another.
pub async fn busiest(
    db: &Db,
    by: TopBy,
    filter: &RollupFilter,
    granularity: &str,
    (from_ms, to_ms, step): (i64, i64, i64),
    k: usize,
) -> Result<Vec<TopTotals>, sqlx::Error> {
    let mut cursors: Vec<Cursor> = (0..)
        .map(|i| from_ms + i * step)
        .take_while(|&b| b < to_ms)
        .map(|bucket_start| Cursor {
            bucket_start,
            last: None,
            done: false,
        })
        .collect();
    let mut state = Threshold::default();
    let mut page = FIRST_PAGE;
    let mut read = 0;
    loop {
        let open: Vec<usize> = (0..cursors.len()).filter(|&i| !cursors[i].done).collect();
        let starts: Vec<store::PageStart> = open
            .iter()
            .map(|&i| store::PageStart {
                bucket_start: cursors[i].bucket_start,
                after: cursors[i].last.as_ref(),
            })
            .collect();
        let pages = store::ranked_pages(db, by, filter, granularity, &starts, page).await?;
        let mut met = Vec::new();
        for (&i, rows) in open.iter().zip(pages) {
            let c = &mut cursors[i];
            read += rows.len();
            c.done = (rows.len() as i64) < page;
            if let Some(last) = rows.last() {
                c.last = Some(last.clone());
            }
            met.extend(rows);
        }
        let fresh = state.unseen(&met);
        if !fresh.is_empty() {
            let range = (from_ms, to_ms);
            state.learn(store::exact_totals(db, by, filter, granularity, range, &fresh).await?);
        }
        let threshold: i64 = cursors
            .iter()
            .filter(|c| !c.done)
            .filter_map(|c| c.last.as_ref().map(|t| t.requests))
            .sum();
        let all_read = cursors.iter().all(|c| c.done);
        if let Some(best) = state.answer(by, k, threshold, all_read) {
            return Ok(best);
        }
        if read > MAX_READ {
            return store::top(db, granularity, from_ms, to_ms, filter, by, k as i64).await;
        }
        page *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: i64, requests: i64) -> TopTotals {
        TopTotals {
            key_id: id,
            requests,
            ..TopTotals::default()
        }
    }

    #[test]
    fn an_answer_needs_the_kth_total_above_the_threshold() {
        let mut t = Threshold::default();
        t.learn(vec![key(1, 100), key(2, 50), key(3, 40)]);
        assert!(
            t.answer(TopBy::Key, 2, 50, false).is_none(),
            "50 is not above 50: a tie may wait"
        );
        let best = t.answer(TopBy::Key, 2, 49, false).unwrap();
        assert_eq!(best.iter().map(|t| t.key_id).collect::<Vec<_>>(), [1, 2]);
        assert!(
            t.answer(TopBy::Key, 4, 0, false).is_none(),
            "fewer than k met"
        );
        assert_eq!(
            t.answer(TopBy::Key, 4, 999, true).unwrap().len(),
            3,
            "all read"
        );
    }

    #[test]
    fn ties_break_by_id_as_the_full_query_does() {
        let mut t = Threshold::default();
        t.learn(vec![key(9, 10), key(3, 10), key(5, 10)]);
        let best = t.answer(TopBy::Key, 2, 0, false).unwrap();
        assert_eq!(best.iter().map(|t| t.key_id).collect::<Vec<_>>(), [3, 5]);
        assert_eq!(t.unseen(&[key(3, 1), key(4, 1), key(4, 2)]).len(), 1);
    }
}
