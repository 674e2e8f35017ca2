//! Hours and report periods as koku writes them: `interval_start` the hour, `interval_end` the hour
//! plus 59m59s, the report period the calendar month (spec §2).

use chrono::{Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};

pub const HOUR_MS: i64 = 3_600_000;
/// `interval_end - interval_start`: 59m59s.
pub const INTERVAL_END_MS: i64 = HOUR_MS - 1000;

/// Midnight starting `day`.
pub fn midnight(day: NaiveDate) -> NaiveDateTime {
    day.and_time(NaiveTime::MIN)
}

/// The 24 hours of `day`, as `interval_start` values.
pub fn hours(day: NaiveDate) -> impl Iterator<Item = NaiveDateTime> {
    (0..24).map(move |h| midnight(day) + TimeDelta::hours(h))
}

/// The first of `day`'s month.
pub fn month_start(day: NaiveDate) -> NaiveDate {
    day - Days::new(u64::from(day.day0()))
}

/// `report_period_start` and `report_period_end` of a row at `at`: the first of its month and of
/// the next month, at midnight.
pub fn period(at: NaiveDateTime) -> (NaiveDateTime, NaiveDateTime) {
    let start = month_start(at.date());
    (midnight(start), midnight(start + Months::new(1)))
}

/// Milliseconds since the epoch of a naive (UTC) time, as `timestamp[ms]` stores it.
pub fn millis(at: NaiveDateTime) -> i64 {
    at.and_utc().timestamp_millis()
}

/// Days in `day`'s month.
pub fn month_days(day: NaiveDate) -> u32 {
    let start = month_start(day);
    ((start + Months::new(1)) - start).num_days() as u32
}
