//! Progressive limiting: a key or client IP that keeps running into its limits gets
//! escalating penalties, which relax again after a quiet spell.
//!
//! | level | penalty                                              |
//! |-------|------------------------------------------------------|
//! | 0     | none                                                 |
//! | 1     | stricter: each request is charged two tokens (half rate) |
//! | 2     | cool-down: refused outright for 1 minute, then as 1  |
//! | 3     | cool-down: refused outright for 15 minutes, then as 1|
//!
//! `STRIKES_TO_ESCALATE` refusals within `STRIKE_WINDOW_MS` raise the level by one (each rise
//! is a security event); `QUIET_TO_RELAX_MS` without a refusal lowers it by one.

pub const STRIKES_TO_ESCALATE: u32 = 20;
pub const STRIKE_WINDOW_MS: i64 = 60_000;
pub const QUIET_TO_RELAX_MS: i64 = 10 * 60_000;
pub const MAX_LEVEL: u8 = 3;

/// How long a level's cool-down block lasts, if it has one.
pub fn block_ms(level: u8) -> Option<i64> {
    match level {
        2 => Some(60_000),
        3 => Some(15 * 60_000),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Penalty {
    level: u8,
    strikes: u32,
    strikes_since_ms: i64,
    last_strike_ms: i64,
    blocked_until_ms: i64,
}

/// A rise in level, to be recorded as a security event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Escalation {
    pub level: u8,
    pub blocked_until_ms: Option<i64>,
}

impl Penalty {
    /// The level in force at `now_ms`, counting the relaxation earned since the last refusal.
    pub fn level(&self, now_ms: i64) -> u8 {
        if self.level == 0 {
            return 0;
        }
        // Quiet time counts from the last refusal or the end of a block, whichever is later.
        let quiet_since = self.last_strike_ms.max(self.blocked_until_ms);
        let relaxed = ((now_ms - quiet_since).max(0) / QUIET_TO_RELAX_MS).min(i64::from(MAX_LEVEL));
        self.level.saturating_sub(relaxed as u8)
    }

    /// Tokens each request takes at `now_ms` (2 while any penalty is in force).
    pub fn tokens_per_request(&self, now_ms: i64) -> u32 {
        if self.level(now_ms) > 0 { 2 } else { 1 }
    }

    /// The end of a cool-down block in force at `now_ms`.
    pub fn blocked_until(&self, now_ms: i64) -> Option<i64> {
        (self.blocked_until_ms > now_ms).then_some(self.blocked_until_ms)
    }

    /// True when nothing is left to remember.
    pub fn is_clear(&self, now_ms: i64) -> bool {
        self.level(now_ms) == 0 && self.strikes_since_ms + STRIKE_WINDOW_MS <= now_ms
    }

    /// Records one refusal for a limit; returns the escalation it caused, if any.
    pub fn strike(&mut self, now_ms: i64) -> Option<Escalation> {
        // Settle relaxation first, so a level earned long ago does not jump back.
        self.level = self.level(now_ms);
        if now_ms - self.strikes_since_ms >= STRIKE_WINDOW_MS {
            self.strikes = 0;
            self.strikes_since_ms = now_ms;
        }
        self.strikes += 1;
        self.last_strike_ms = now_ms;
        if self.strikes < STRIKES_TO_ESCALATE || self.level >= MAX_LEVEL {
            return None;
        }
        self.level += 1;
        self.strikes = 0;
        self.strikes_since_ms = now_ms;
        let blocked_until_ms = block_ms(self.level).map(|ms| now_ms + ms);
        if let Some(until) = blocked_until_ms {
            self.blocked_until_ms = until;
        }
        Some(Escalation {
            level: self.level,
            blocked_until_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strikes(p: &mut Penalty, n: u32, at: i64) -> Vec<Escalation> {
        (0..n).filter_map(|_| p.strike(at)).collect()
    }

    #[test]
    fn escalates_step_by_step_and_blocks() {
        let mut p = Penalty::default();
        let t = 1_000_000;
        assert!(strikes(&mut p, STRIKES_TO_ESCALATE - 1, t).is_empty());
        assert_eq!(p.tokens_per_request(t), 1);
        let e = strikes(&mut p, 1, t);
        assert_eq!(
            e,
            vec![Escalation {
                level: 1,
                blocked_until_ms: None
            }]
        );
        assert_eq!(p.tokens_per_request(t), 2);
        assert_eq!(p.blocked_until(t), None);

        let e = strikes(&mut p, STRIKES_TO_ESCALATE, t + 1);
        assert_eq!(e[0].level, 2);
        assert_eq!(p.blocked_until(t + 1), Some(t + 1 + 60_000));
        assert_eq!(
            p.blocked_until(t + 1 + 60_000),
            None,
            "the block ends on time"
        );

        strikes(&mut p, STRIKES_TO_ESCALATE, t + 2);
        assert_eq!(p.level(t + 2), 3);
        assert_eq!(p.blocked_until(t + 2), Some(t + 2 + 15 * 60_000));
        // no level beyond the last
        assert!(strikes(&mut p, STRIKES_TO_ESCALATE * 3, t + 3).is_empty());
    }

    #[test]
    fn strikes_spread_out_do_not_escalate() {
        let mut p = Penalty::default();
        for i in 0..100 {
            // ten per window, never twenty
            assert!(p.strike(i * (STRIKE_WINDOW_MS / 10)).is_none());
        }
        assert_eq!(p.level(100 * STRIKE_WINDOW_MS), 0);
    }

    #[test]
    fn good_behaviour_relaxes_one_level_per_quiet_spell() {
        let mut p = Penalty::default();
        let t = 0;
        strikes(&mut p, STRIKES_TO_ESCALATE * 3, t);
        assert_eq!(p.level(t), 3);
        let block_end = t + 15 * 60_000;
        assert_eq!(p.level(block_end + QUIET_TO_RELAX_MS - 1), 3);
        assert_eq!(p.level(block_end + QUIET_TO_RELAX_MS), 2);
        assert_eq!(p.level(block_end + 2 * QUIET_TO_RELAX_MS), 1);
        assert_eq!(p.level(block_end + 3 * QUIET_TO_RELAX_MS), 0);
        assert!(p.is_clear(block_end + 3 * QUIET_TO_RELAX_MS));
    }

    #[test]
    fn a_relaxed_offender_starts_again_from_its_relaxed_level() {
        let mut p = Penalty::default();
        strikes(&mut p, STRIKES_TO_ESCALATE, 0);
        assert_eq!(p.level(0), 1);
        let later = QUIET_TO_RELAX_MS * 5;
        assert_eq!(p.level(later), 0);
        let e = strikes(&mut p, STRIKES_TO_ESCALATE, later);
        assert_eq!(e[0].level, 1, "back to 1, not 2");
    }
}
