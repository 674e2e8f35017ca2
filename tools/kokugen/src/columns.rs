//! Arrow columns from rows: the few shapes every report's batches are made of.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, StringArray, TimestampMillisecondArray};

/// A string column of `f(row)` for each row.
pub fn text<'a, T>(rows: &[T], f: impl Fn(&T) -> &'a str) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(rows.iter().map(f)))
}

/// A float64 column of `f(row)` for each row.
pub fn number<T>(rows: &[T], f: impl Fn(&T) -> f64) -> ArrayRef {
    Arc::new(Float64Array::from_iter_values(rows.iter().map(f)))
}

/// A timestamp[ms] column holding `ms` on each of `n` rows.
pub fn same_time(ms: i64, n: usize) -> ArrayRef {
    Arc::new(TimestampMillisecondArray::from_iter_values(
        std::iter::repeat_n(ms, n),
    ))
}
