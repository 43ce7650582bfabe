//! Rate limiting with GCRA (the generic cell rate algorithm): a token bucket kept as one
//! instant, the "theoretical arrival time" (TAT) of the next request at the steady rate.
//!
//! A limit of `limit` per `window` with `burst` allows, from rest, `limit + burst` requests at
//! once, then refills one token every `window / limit`. So in any window-length interval at
//! most `limit + burst` requests pass in steady state, and the long-run rate never exceeds
//! `limit / window`. Arithmetic is exact: times are integer nanoseconds scaled by `limit`, so
//! an emission interval that does not divide evenly (1 minute / 7) accumulates no rounding.
//!
//! Deciding and spending are separate (`peek`, then `commit`) so that a request refused by a
//! later check spends nothing.

const NS_PER_MS: i128 = 1_000_000;
const NS_PER_SEC: i128 = 1_000_000_000;

pub use crate::app::limit_types::Window;

fn window_nanos(window: Window) -> i128 {
    i128::from(window.seconds()) * NS_PER_SEC
}

/// The shape of one limit: `limit` requests per `window`, plus `burst` extra at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub limit: u32,
    pub window: Window,
    pub burst: u32,
}

impl Rate {
    pub fn capacity(&self) -> i128 {
        i128::from(self.limit) + i128::from(self.burst)
    }
}

/// One bucket's memory. `tat` is in nanoseconds × limit (see the module comment); zero means
/// a bucket at rest (full).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bucket {
    tat: i128,
    /// The limit and window `tat` is scaled for; an edited limit rescales it on next use.
    scaled_for: Option<(u32, Window)>,
}

/// What a request would get from one bucket at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Tokens left after this request (when allowed) or now (when refused).
    pub remaining: u64,
    /// When the bucket will be full again, epoch milliseconds (rounded up).
    pub reset_ms: i64,
    /// When refused: milliseconds until one token is back (at least 1).
    pub retry_after_ms: i64,
    next_tat: i128,
    scaled_for: (u32, Window),
}

fn ceil_div(a: i128, b: i128) -> i128 {
    if a <= 0 { 0 } else { (a + b - 1) / b }
}

impl Bucket {
    /// What a request costing one token would get at `now_ms`; changes nothing.
    pub fn peek(&self, rate: &Rate, now_ms: i64) -> Decision {
        self.peek_tokens(rate, now_ms, 1)
    }

    /// As `peek`, for a request that needs one token to pass but is charged `tokens` (a
    /// penalty: the sustained rate drops to 1/`tokens`, even for a bucket of one).
    pub fn peek_tokens(&self, rate: &Rate, now_ms: i64, tokens: u32) -> Decision {
        let limit = i128::from(rate.limit.max(1));
        let interval = window_nanos(rate.window); // one emission interval, scaled by `limit`
        let step = interval * i128::from(tokens.max(1));
        let now = i128::from(now_ms) * NS_PER_MS * limit;
        let span = rate.capacity().max(1) * interval; // a full bucket's worth of time
        let tat = self.tat_for(rate, now_ms).max(now);
        let allowed = tat + interval - now <= span;
        let next_tat = if allowed { tat + step } else { tat };
        let remaining = ((now + span - next_tat) / interval).max(0) as u64;
        let to_ms = |scaled: i128| ceil_div(scaled, NS_PER_MS * limit) as i64;
        Decision {
            allowed,
            remaining,
            reset_ms: to_ms(next_tat),
            retry_after_ms: if allowed {
                0
            } else {
                to_ms(tat + interval - span - now).max(1)
            },
            next_tat,
            scaled_for: (rate.limit, rate.window),
        }
    }

    /// `tat` in `rate`'s scale. After an edit of the limit or window, the requests already
    /// counted against the bucket stay counted: the debt (TAT ahead of now) is kept as a
    /// number of emission intervals, which are one window each in the scaled units.
    fn tat_for(&self, rate: &Rate, now_ms: i64) -> i128 {
        match self.scaled_for {
            Some((limit, window)) if (limit, window) != (rate.limit, rate.window) => {
                let old_now = i128::from(now_ms) * NS_PER_MS * i128::from(limit.max(1));
                let debt = (self.tat - old_now).max(0);
                let new_now = i128::from(now_ms) * NS_PER_MS * i128::from(rate.limit.max(1));
                new_now + debt * window_nanos(rate.window) / window_nanos(window)
            }
            _ => self.tat,
        }
    }

    /// Spends what `decision` (from `peek` on this bucket) said; refused decisions spend nothing.
    pub fn commit(&mut self, decision: &Decision) {
        if decision.allowed {
            self.tat = decision.next_tat;
            self.scaled_for = Some(decision.scaled_for);
        }
    }

    /// True when the bucket is full again at `now_ms`, so it may be forgotten.
    pub fn is_at_rest(&self, rate: &Rate, now_ms: i64) -> bool {
        self.tat <= i128::from(now_ms) * NS_PER_MS * i128::from(rate.limit.max(1))
    }

    /// The instant from which the bucket is at rest.
    pub fn at_rest_from_ms(&self, rate: &Rate) -> i64 {
        ceil_div(self.tat, NS_PER_MS * i128::from(rate.limit.max(1))) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(limit: u32, window: Window, burst: u32) -> Rate {
        Rate {
            limit,
            window,
            burst,
        }
    }

    /// Spends as many tokens as the bucket gives at `now`, up to `max`.
    fn drain(b: &mut Bucket, r: &Rate, now: i64, max: usize) -> usize {
        let mut n = 0;
        while n < max {
            let d = b.peek(r, now);
            if !d.allowed {
                break;
            }
            b.commit(&d);
            n += 1;
        }
        n
    }

    #[test]
    fn from_rest_the_whole_limit_then_refusal() {
        let r = rate(3, Window::Minute, 0);
        let mut b = Bucket::default();
        let t0 = 1_000_000;
        let first = b.peek(&r, t0);
        assert!(first.allowed);
        assert_eq!(first.remaining, 2);
        b.commit(&first);
        assert_eq!(drain(&mut b, &r, t0, 10), 2);
        let refused = b.peek(&r, t0);
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        // one token comes back after window / limit = 20 s
        assert_eq!(refused.retry_after_ms, 20_000);
        assert_eq!(refused.reset_ms, t0 + 60_000);
    }

    #[test]
    fn an_edited_limit_keeps_what_was_used() {
        let t0 = 5_000_000;
        let mut b = Bucket::default();
        assert_eq!(drain(&mut b, &rate(2, Window::Hour, 0), t0, 10), 2);
        // two used of a new three: one left, at once
        assert_eq!(drain(&mut b, &rate(3, Window::Hour, 0), t0, 10), 1);
        // three used of ten a day: seven left
        assert_eq!(drain(&mut b, &rate(10, Window::Day, 0), t0, 100), 7);
        // a lower limit than already used: ten counted, five allowed, so nothing until six
        // of the old intervals (2.4 h each) have passed and four are counted
        let r = rate(5, Window::Day, 0);
        let old_interval = 86_400_000 / 10;
        assert!(!b.peek(&r, t0).allowed);
        assert!(!b.peek(&r, t0 + 6 * old_interval - 1).allowed);
        assert!(b.peek(&r, t0 + 6 * old_interval).allowed);
    }

    #[test]
    fn window_edges_are_exact() {
        let r = rate(3, Window::Minute, 0);
        let mut b = Bucket::default();
        let t0 = 5_000_000;
        assert_eq!(drain(&mut b, &r, t0, 10), 3);
        assert!(!b.peek(&r, t0 + 19_999).allowed, "one ms early");
        assert!(
            b.peek(&r, t0 + 20_000).allowed,
            "exactly one interval later"
        );
        assert_eq!(
            drain(&mut b, &r, t0 + 60_000, 10),
            3,
            "a full window refills all"
        );
    }

    #[test]
    fn burst_adds_to_the_limit_at_once_but_not_to_the_rate() {
        let r = rate(10, Window::Second, 5);
        let mut b = Bucket::default();
        let t0 = 0;
        assert_eq!(drain(&mut b, &r, t0, 100), 15);
        // then 10 per second: one every 100 ms
        assert_eq!(drain(&mut b, &r, t0 + 99, 100), 0);
        assert_eq!(drain(&mut b, &r, t0 + 100, 100), 1);
        assert_eq!(drain(&mut b, &r, t0 + 1_100, 100), 10);
    }

    #[test]
    fn uneven_intervals_accumulate_no_rounding() {
        // 7 per minute: 8571.428… ms apart. Over 7 minutes exactly 49 pass after the first 7.
        let r = rate(7, Window::Minute, 0);
        let mut b = Bucket::default();
        let mut passed = drain(&mut b, &r, 0, 100);
        assert_eq!(passed, 7);
        for ms in 1..=420_000 {
            if b.peek(&r, ms).allowed {
                b.commit(&b.peek(&r, ms));
                passed += 1;
            }
        }
        assert_eq!(passed, 7 + 49);
    }

    #[test]
    fn refused_requests_spend_nothing() {
        let r = rate(2, Window::Second, 0);
        let mut b = Bucket::default();
        assert_eq!(drain(&mut b, &r, 0, 10), 2);
        for _ in 0..1_000 {
            let d = b.peek(&r, 10);
            assert!(!d.allowed);
            b.commit(&d);
        }
        assert!(
            b.peek(&r, 500).allowed,
            "hammering did not push the refill back"
        );
    }

    #[test]
    fn a_request_taking_two_tokens_halves_the_rate() {
        let r = rate(4, Window::Second, 0);
        let mut b = Bucket::default();
        let mut n = 0;
        while b.peek_tokens(&r, 0, 2).allowed {
            b.commit(&b.peek_tokens(&r, 0, 2));
            n += 1;
        }
        assert_eq!(n, 2);
        assert_eq!(b.peek_tokens(&r, 0, 2).retry_after_ms, 250);
        // a bucket of one still passes requests, at half the rate
        let one = rate(1, Window::Second, 0);
        let mut b = Bucket::default();
        let allowed: Vec<i64> = (0..=4_000)
            .step_by(500)
            .filter(|&t| {
                let d = b.peek_tokens(&one, t, 2);
                b.commit(&d);
                d.allowed
            })
            .collect();
        assert_eq!(allowed, vec![0, 2_000, 4_000]);
    }

    #[test]
    fn peeking_changes_nothing_and_rest_is_detected() {
        let r = rate(1, Window::Hour, 0);
        let mut b = Bucket::default();
        let d = b.peek(&r, 0);
        assert_eq!(b, Bucket::default());
        b.commit(&d);
        assert!(!b.is_at_rest(&r, 3_599_999));
        assert!(b.is_at_rest(&r, 3_600_000));
    }

    #[test]
    fn remaining_counts_down_and_reset_moves_out() {
        let r = rate(5, Window::Second, 0);
        let mut b = Bucket::default();
        let mut seen = vec![];
        for _ in 0..5 {
            let d = b.peek(&r, 1_000);
            b.commit(&d);
            seen.push((d.remaining, d.reset_ms));
        }
        assert_eq!(
            seen,
            vec![(4, 1_200), (3, 1_400), (2, 1_600), (1, 1_800), (0, 2_000)]
        );
    }
}
