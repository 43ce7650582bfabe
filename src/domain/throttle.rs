//! Sign-in throttling. Failures are counted per account and per client IP over a sliding
//! window; past the limit, further attempts are refused (without checking the password) until
//! the oldest counted failure leaves the window. A success resets the account's count.

pub const WINDOW_MS: i64 = 15 * 60 * 1000;
pub const MAX_FAILURES_PER_ACCOUNT: usize = 5;
pub const MAX_FAILURES_PER_IP: usize = 20;

/// Seconds until another attempt is allowed, or `None` if one is allowed now.
/// `failures_ms` are failure times in ascending order.
pub fn retry_after_secs(failures_ms: &[i64], limit: usize, now_ms: i64) -> Option<u64> {
    let recent: Vec<i64> = failures_ms
        .iter()
        .copied()
        .filter(|t| *t > now_ms - WINDOW_MS && *t <= now_ms)
        .collect();
    if limit == 0 || recent.len() < limit {
        return None;
    }
    // The attempt becomes possible when fewer than `limit` failures remain in the window.
    let unlock_at = recent[recent.len() - limit] + WINDOW_MS;
    let wait_ms = (unlock_at - now_ms).max(1);
    Some(((wait_ms + 999) / 1000) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn allows_until_the_limit_then_refuses() {
        let now = 100 * MIN;
        let four: Vec<i64> = (0..4).map(|i| now - (4 - i) * MIN).collect();
        assert_eq!(retry_after_secs(&four, 5, now), None);
        let five: Vec<i64> = (0..5).map(|i| now - (5 - i) * MIN).collect();
        // oldest failure was 5 minutes ago: 10 more minutes to wait
        assert_eq!(retry_after_secs(&five, 5, now), Some(600));
    }

    #[test]
    fn window_boundary_is_exact() {
        let now = 100 * MIN;
        let failures: Vec<i64> = (0..5).map(|i| now - WINDOW_MS + i).collect();
        // the oldest sits exactly on the window edge and no longer counts
        assert_eq!(retry_after_secs(&failures, 5, now), None);
        assert_eq!(retry_after_secs(&failures, 5, now - 1), Some(1));
    }

    #[test]
    fn old_failures_do_not_count() {
        let now = 100 * MIN;
        let failures = vec![
            now - 60 * MIN,
            now - 50 * MIN,
            now - 40 * MIN,
            now - 30 * MIN,
            now - 20 * MIN,
        ];
        assert_eq!(retry_after_secs(&failures, 5, now), None);
    }

    #[test]
    fn waits_for_the_oldest_of_the_last_limit_failures() {
        let now = 100 * MIN;
        let failures: Vec<i64> = (0..7).map(|i| now - (7 - i) * MIN).collect();
        // 7 failures at now-7..now-1 minutes; with limit 5 the 3rd oldest (now-5m) must expire
        assert_eq!(retry_after_secs(&failures, 5, now), Some(600));
    }
}
