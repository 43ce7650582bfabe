//! Calendar periods for quotas and credit refills, on UTC boundaries: a day starts at 00:00
//! UTC, a week on Monday 00:00 UTC (ISO), a month on the 1st. A custom period of N days
//! starts at 00:00 UTC of its anchor date and repeats every N days.

pub use crate::app::limit_types::PeriodName;
use time::{Date, Duration, Month, OffsetDateTime, Time};

const DAY_MS: i64 = 86_400_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
    Month,
    /// Every N days from `anchor_day` (days since 1970-01-01).
    Days {
        days: u32,
        anchor_day: i64,
    },
}

impl Period {
    /// The period a name stands for; `custom` needs its length and anchor day.
    pub fn from_name(
        name: PeriodName,
        days: Option<u32>,
        anchor_day: Option<i64>,
    ) -> Option<Period> {
        Some(match name {
            PeriodName::Day => Period::Day,
            PeriodName::Week => Period::Week,
            PeriodName::Month => Period::Month,
            PeriodName::Custom => Period::Days {
                days: days?,
                anchor_day: anchor_day?,
            },
        })
    }

    /// The period containing `now_ms`: `[start, end)` in epoch milliseconds.
    pub fn bounds(&self, now_ms: i64) -> (i64, i64) {
        let day = now_ms.div_euclid(DAY_MS);
        match *self {
            Period::Day => (day * DAY_MS, (day + 1) * DAY_MS),
            Period::Week => {
                // 1970-01-01 was a Thursday: Monday-based weekday index is (day + 3) mod 7.
                let start = day - (day + 3).rem_euclid(7);
                (start * DAY_MS, (start + 7) * DAY_MS)
            }
            Period::Month => {
                let date = date_of_day(day);
                let first = date.replace_day(1).unwrap_or(date);
                let next = next_month(first);
                (ms_of_date(first), ms_of_date(next))
            }
            Period::Days { days, anchor_day } => {
                let n = i64::from(days.max(1));
                let start = anchor_day + (day - anchor_day).div_euclid(n) * n;
                (start * DAY_MS, (start + n) * DAY_MS)
            }
        }
    }
}

fn date_of_day(day: i64) -> Date {
    (OffsetDateTime::UNIX_EPOCH + Duration::days(day)).date()
}

fn next_month(first: Date) -> Date {
    let (year, month) = match first.month() {
        Month::December => (first.year() + 1, Month::January),
        m => (first.year(), m.next()),
    };
    Date::from_calendar_date(year, month, 1).unwrap_or(first)
}

fn ms_of_date(date: Date) -> i64 {
    crate::domain::to_millis(date.with_time(Time::MIDNIGHT).assume_utc())
}

/// Days since 1970-01-01 of the UTC date containing `ms` (an anchor for custom periods).
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn ms(t: OffsetDateTime) -> i64 {
        crate::domain::to_millis(t)
    }

    #[test]
    fn days_and_weeks_on_utc_boundaries() {
        let now = ms(datetime!(2026-11-25 23:59:59.999 UTC)); // a Wednesday
        assert_eq!(
            Period::Day.bounds(now),
            (
                ms(datetime!(2026-11-25 00:00 UTC)),
                ms(datetime!(2026-11-26 00:00 UTC))
            )
        );
        assert_eq!(
            Period::Week.bounds(now),
            (
                ms(datetime!(2026-11-23 00:00 UTC)),
                ms(datetime!(2026-11-30 00:00 UTC))
            )
        );
        // the first instant of a period belongs to it
        let monday = ms(datetime!(2026-11-30 00:00 UTC));
        assert_eq!(Period::Week.bounds(monday).0, monday);
        assert_eq!(Period::Day.bounds(monday - 1).1, monday);
    }

    #[test]
    fn months_of_every_length() {
        for (now, start, end) in [
            (
                datetime!(2026-02-14 12:00 UTC),
                datetime!(2026-02-01 00:00 UTC),
                datetime!(2026-03-01 00:00 UTC),
            ),
            (
                datetime!(2028-02-29 23:00 UTC),
                datetime!(2028-02-01 00:00 UTC),
                datetime!(2028-03-01 00:00 UTC),
            ),
            (
                datetime!(2026-12-31 23:59:59.999 UTC),
                datetime!(2026-12-01 00:00 UTC),
                datetime!(2027-01-01 00:00 UTC),
            ),
        ] {
            assert_eq!(Period::Month.bounds(ms(now)), (ms(start), ms(end)));
        }
    }

    #[test]
    fn custom_periods_repeat_from_their_anchor() {
        let anchor_day = day_of(ms(datetime!(2026-11-10 15:00 UTC)));
        let p = Period::Days {
            days: 14,
            anchor_day,
        };
        assert_eq!(
            p.bounds(ms(datetime!(2026-11-23 23:00 UTC))),
            (
                ms(datetime!(2026-11-10 00:00 UTC)),
                ms(datetime!(2026-11-24 00:00 UTC))
            )
        );
        assert_eq!(
            p.bounds(ms(datetime!(2026-11-24 00:00 UTC))).0,
            ms(datetime!(2026-11-24 00:00 UTC))
        );
        // before the anchor too (a clock set back)
        assert_eq!(
            p.bounds(ms(datetime!(2026-11-09 00:00 UTC))).0,
            ms(datetime!(2026-10-27 00:00 UTC))
        );
    }
}
