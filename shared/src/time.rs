//! Day and hour arithmetic, in one place. Rows carry `interval_start` as a UTC time; group keys hold
//! hours or days since 1970-01-01 (an [`EpochDay`] is such a day); PostgreSQL holds dates, which its
//! binary format counts from 2000-01-01.

use arrow_schema::{DataType, TimeUnit};
use chrono::{Datelike, NaiveDate};

pub const MS_PER_HOUR: i64 = 3_600_000;
pub const HOURS_PER_DAY: i64 = 24;
pub const MS_PER_DAY: i64 = HOURS_PER_DAY * MS_PER_HOUR;

/// Days since 1970-01-01.
pub type EpochDay = i32;

/// 1970-01-01 counted from 0001-01-01 (chrono's "days from CE", day 1).
const UNIX_EPOCH_FROM_CE: i32 = 719_163;
/// PostgreSQL's binary dates count from 2000-01-01, day 10,957 since 1970-01-01.
const PG_EPOCH_DAY: EpochDay = 10_957;

/// Hours since the epoch of a time in epoch milliseconds.
pub fn hour_of_ms(ms: i64) -> i64 {
    ms.div_euclid(MS_PER_HOUR)
}

pub fn day_of_ms(ms: i64) -> EpochDay {
    ms.div_euclid(MS_PER_DAY) as EpochDay
}

pub fn day_of_hour(hour: i64) -> EpochDay {
    hour.div_euclid(HOURS_PER_DAY) as EpochDay
}

/// The hour within its UTC day, 0–23.
pub fn hour_in_day(hour: i64) -> usize {
    hour.rem_euclid(HOURS_PER_DAY) as usize
}

pub fn date_of_day(day: EpochDay) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(day.saturating_add(UNIX_EPOCH_FROM_CE))
        .unwrap_or(NaiveDate::MIN)
}

pub fn day_of_date(date: NaiveDate) -> EpochDay {
    date.num_days_from_ce() - UNIX_EPOCH_FROM_CE
}

/// A day as PostgreSQL's binary `date`: days since 2000-01-01.
pub fn pg_date(day: EpochDay) -> i32 {
    day - PG_EPOCH_DAY
}

/// The first day of `date`'s month.
pub fn month_start(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

/// `[start, end)` of a month in epoch milliseconds: rows of a key's month fall inside it.
pub fn month_window_ms(year: i32, month: u32) -> (i64, i64) {
    let start = NaiveDate::from_ymd_opt(year, month, 1);
    let end = start.and_then(|s| s.checked_add_months(chrono::Months::new(1)));
    let ms = |d: Option<NaiveDate>, default: i64| {
        d.map_or(default, |d| i64::from(day_of_date(d)) * MS_PER_DAY)
    };
    (ms(start, i64::MIN), ms(end, i64::MAX))
}

/// A raw time value of a column of `data_type` in epoch milliseconds (statistics are raw values).
pub fn raw_time_to_ms(value: i64, data_type: &DataType) -> Option<i64> {
    match data_type {
        DataType::Timestamp(TimeUnit::Second, _) => value.checked_mul(1000),
        DataType::Timestamp(TimeUnit::Millisecond, _) | DataType::Date64 => Some(value),
        DataType::Timestamp(TimeUnit::Microsecond, _) => Some(value.div_euclid(1000)),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => Some(value.div_euclid(1_000_000)),
        DataType::Date32 => value.checked_mul(MS_PER_DAY),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn days_and_dates_round_trip() {
        assert_eq!(date_of_day(0), date(1970, 1, 1));
        // 2025-11-01: 55 years of 365 days plus 14 leap days, plus 304 days of 2025.
        assert_eq!(day_of_date(date(2025, 11, 1)), 55 * 365 + 14 + 304);
        assert_eq!(date_of_day(20393), date(2025, 11, 1));
        assert_eq!(pg_date(day_of_date(date(2000, 1, 2))), 1);
    }

    #[test]
    fn hours_fall_in_their_utc_day() {
        let day = 20393i64;
        let ms = day * MS_PER_DAY + 23 * MS_PER_HOUR + 59 * 60_000;
        assert_eq!(hour_of_ms(ms), day * 24 + 23);
        assert_eq!(day_of_ms(ms), 20393);
        assert_eq!(hour_in_day(hour_of_ms(ms)), 23);
        // Before 1970, euclidean division keeps the hour inside its day.
        assert_eq!(day_of_ms(-1), -1);
        assert_eq!(hour_in_day(hour_of_ms(-1)), 23);
    }

    #[test]
    fn month_windows_end_at_the_next_month() {
        let (start, end) = month_window_ms(2025, 12);
        assert_eq!(day_of_ms(start), day_of_date(date(2025, 12, 1)));
        assert_eq!(day_of_ms(end), day_of_date(date(2026, 1, 1)));
        assert_eq!(month_window_ms(2025, 13), (i64::MIN, i64::MAX));
    }

    #[test]
    fn raw_times_of_each_unit() {
        let ms = |v, t| raw_time_to_ms(v, &t);
        assert_eq!(
            ms(2, DataType::Timestamp(TimeUnit::Second, None)),
            Some(2000)
        );
        assert_eq!(
            ms(2500, DataType::Timestamp(TimeUnit::Microsecond, None)),
            Some(2)
        );
        assert_eq!(ms(1, DataType::Date32), Some(MS_PER_DAY));
        assert_eq!(ms(1, DataType::Utf8), None);
    }
}
