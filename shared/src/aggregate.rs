//! Partial aggregation: decoded record batches in, per-object partial rows out.
//!
//! Each [`AggregateSpec`] is a GROUP BY over (time grain, text keys) with sums and maxes. Text is
//! interned, so a group key is a short `[u32]`; dictionary-encoded columns are mapped once per
//! dictionary. Partials are additive (sums and maxes), so when the state outgrows its budget the
//! caller takes a [`PartialChunk`], writes it, and aggregation continues from empty.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, TimestampMillisecondType};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use rustc_hash::FxHashMap;

use crate::error::{Error, Result};
use crate::intern::{Interner, NULL_ID};
use crate::labels;
use crate::report::{ANOMALY_LIMIT, AggregateSpec, Grain, INTERVAL_START, ReportSpec, ValueSource};

const MS_PER_HOUR: i64 = 3_600_000;
const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;

/// Counters for logs and metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RowStats {
    pub rows_read: u64,
    /// Dropped like koku's `_remove_anomalies` (a value > 1e18).
    pub rows_anomalous: u64,
    /// `interval_start` outside the key's year/month, or NULL: koku never summarises those.
    pub rows_outside_month: u64,
}

/// Groups of one aggregate taken out of the aggregator, ready to write.
#[derive(Debug)]
pub struct TableChunk {
    pub spec: &'static AggregateSpec,
    /// Key is `[grain, text ids...]`; value is the group's index into the value arrays.
    pub groups: FxHashMap<Box<[u32]>, u32>,
    /// Per group: the sums then the maxes (NaN = no value = NULL).
    pub values: Vec<f64>,
    /// Per group: the text maxes as interned ids.
    pub text_maxes: Vec<u32>,
}

impl TableChunk {
    pub fn value_width(&self) -> usize {
        self.spec.sums.len() + self.spec.maxes.len()
    }
}

/// Everything aggregated since the last flush, with the strings its ids refer to.
#[derive(Debug)]
pub struct PartialChunk {
    pub interner: Interner,
    pub tables: Vec<TableChunk>,
}

impl PartialChunk {
    pub fn group_count(&self) -> usize {
        self.tables.iter().map(|t| t.groups.len()).sum()
    }
}

/// Aggregates one object's batches for one report.
pub struct ReportAggregator {
    spec: &'static ReportSpec,
    object_key: String,
    /// `[start, end)` of the key's month in epoch milliseconds.
    window_ms: (i64, i64),
    columns: Option<Vec<BoundColumn>>,
    /// Input columns read as interned text, and as numbers (indices into `columns`).
    text_columns: Vec<usize>,
    number_columns: Vec<usize>,
    /// Columns whose values > 1e18 drop the row (a subset of `number_columns`).
    anomaly_columns: Vec<usize>,
    tables: Vec<GroupState>,
    interner: Interner,
    stats: RowStats,
    days: BTreeSet<i32>,
}

/// An input column as found in the batches.
struct BoundColumn {
    name: &'static str,
    index: Option<usize>,
    labels: bool,
    /// The dictionary last mapped, kept alive so pointer identity is a sound cache key.
    dictionary: Option<(ArrayRef, Vec<u32>)>,
}

struct GroupState {
    spec: &'static AggregateSpec,
    key_columns: Vec<usize>,
    text_max_columns: Vec<usize>,
    value_sources: Vec<ResolvedValue>,
    groups: FxHashMap<Box<[u32]>, u32>,
    values: Vec<f64>,
    text_maxes: Vec<u32>,
}

#[derive(Clone, Copy)]
enum ResolvedValue {
    Column(usize),
    /// Per-row max of two columns, NaN-skipping (pandas row max).
    Greatest(usize, usize),
}

impl ReportAggregator {
    pub fn new(spec: &'static ReportSpec, object_key: &str, window_ms: (i64, i64)) -> Self {
        let tables = spec
            .aggregates
            .iter()
            .map(|a| GroupState {
                spec: a,
                key_columns: Vec::new(),
                text_max_columns: Vec::new(),
                value_sources: Vec::new(),
                groups: FxHashMap::default(),
                values: Vec::new(),
                text_maxes: Vec::new(),
            })
            .collect();
        ReportAggregator {
            spec,
            object_key: object_key.to_owned(),
            window_ms,
            columns: None,
            text_columns: Vec::new(),
            number_columns: Vec::new(),
            anomaly_columns: Vec::new(),
            tables,
            interner: Interner::default(),
            stats: RowStats::default(),
            days: BTreeSet::new(),
        }
    }

    pub fn stats(&self) -> RowStats {
        self.stats
    }

    /// Days (since the epoch) that any group touched, over the whole object.
    pub fn days(&self) -> &BTreeSet<i32> {
        &self.days
    }

    /// Approximate heap bytes of the aggregation state, for the flush decision.
    pub fn state_bytes(&self) -> usize {
        let tables: usize = self
            .tables
            .iter()
            .map(|t| {
                let key_len = 1 + t.spec.keys.len();
                // Map slot (fat box pointer + index + control byte) per bucket of capacity, plus each
                // key's own allocation, plus the value columns.
                t.groups.capacity() * 32
                    + t.groups.len() * (key_len * 4 + 16)
                    + t.values.capacity() * 8
                    + t.text_maxes.capacity() * 4
            })
            .sum();
        tables + self.interner.heap_bytes()
    }

    pub fn group_count(&self) -> usize {
        self.tables.iter().map(|t| t.groups.len()).sum()
    }

    /// Takes the groups aggregated so far, leaving the aggregator empty but bound to its columns.
    pub fn take_chunk(&mut self) -> PartialChunk {
        let interner = std::mem::take(&mut self.interner);
        if let Some(columns) = &mut self.columns {
            for c in columns {
                c.dictionary = None;
            }
        }
        let tables = self
            .tables
            .iter_mut()
            .map(|t| TableChunk {
                spec: t.spec,
                groups: std::mem::take(&mut t.groups),
                values: std::mem::take(&mut t.values),
                text_maxes: std::mem::take(&mut t.text_maxes),
            })
            .collect();
        PartialChunk { interner, tables }
    }

    pub fn push(&mut self, batch: &RecordBatch) -> Result<()> {
        if self.columns.is_none() {
            self.bind(batch);
        }
        let rows = batch.num_rows();
        self.stats.rows_read += rows as u64;
        let times = self.interval_starts(batch)?;
        let columns = self.columns.as_ref().map(Vec::len).unwrap_or(0);

        let mut numbers: Vec<Option<Vec<f64>>> = vec![None; columns];
        let mut texts: Vec<Option<Vec<u32>>> = vec![None; columns];
        for c in self.text_columns.clone() {
            texts[c] = Some(self.text_ids(batch, c)?);
        }
        for c in self.number_columns.clone() {
            numbers[c] = Some(self.numbers(batch, c)?);
        }

        let valid = self.valid_rows(&times, &numbers);
        for t in &mut self.tables {
            let group_of_row = t.assign_groups(&times, &valid, &texts, &mut self.days);
            t.accumulate(&group_of_row, &numbers, &texts, &self.interner);
        }
        Ok(())
    }

    fn bind(&mut self, batch: &RecordBatch) {
        let schema = batch.schema();
        let mut columns: Vec<BoundColumn> = Vec::new();
        let mut index_of = |name: &'static str, labels: bool| -> usize {
            if let Some(i) = columns.iter().position(|c| c.name == name) {
                return i;
            }
            columns.push(BoundColumn {
                name,
                index: schema.index_of(name).ok(),
                labels,
                dictionary: None,
            });
            columns.len() - 1
        };
        for t in &mut self.tables {
            t.key_columns = t
                .spec
                .keys
                .iter()
                .map(|k| index_of(k.name, k.labels))
                .collect();
            t.text_max_columns = t
                .spec
                .text_maxes
                .iter()
                .map(|k| index_of(k.name, k.labels))
                .collect();
            t.value_sources = t
                .spec
                .sums
                .iter()
                .chain(t.spec.maxes)
                .map(|v| match v.source {
                    ValueSource::Column(c) => ResolvedValue::Column(index_of(c, false)),
                    ValueSource::ColumnOrGreatest { column, a, b } => {
                        if schema.index_of(column).is_ok() {
                            ResolvedValue::Column(index_of(column, false))
                        } else {
                            ResolvedValue::Greatest(index_of(a, false), index_of(b, false))
                        }
                    }
                })
                .collect();
        }
        let anomaly_columns: Vec<usize> = self
            .spec
            .anomaly_columns
            .iter()
            .map(|c| index_of(c, false))
            .collect();
        let mut text_columns = Vec::new();
        let mut number_columns = anomaly_columns.clone();
        for t in &self.tables {
            text_columns.extend(t.key_columns.iter().chain(&t.text_max_columns));
            for v in &t.value_sources {
                match *v {
                    ResolvedValue::Column(a) => number_columns.push(a),
                    ResolvedValue::Greatest(a, b) => number_columns.extend([a, b]),
                }
            }
        }
        for set in [&mut text_columns, &mut number_columns] {
            set.sort_unstable();
            set.dedup();
        }
        self.text_columns = text_columns;
        self.number_columns = number_columns;
        self.anomaly_columns = anomaly_columns;
        self.columns = Some(columns);
    }

    fn column<'b>(&self, batch: &'b RecordBatch, c: usize) -> Option<&'b ArrayRef> {
        let index = self.columns.as_ref()?.get(c)?.index?;
        Some(batch.column(index))
    }

    fn bad(&self, reason: impl std::fmt::Display) -> Error {
        Error::bad_input(&self.object_key, reason)
    }

    /// `interval_start` in epoch milliseconds, `i64::MIN` for NULL.
    fn interval_starts(&self, batch: &RecordBatch) -> Result<Vec<i64>> {
        let array = batch
            .column_by_name(INTERVAL_START)
            .ok_or_else(|| self.bad("missing required column interval_start"))?;
        let target = DataType::Timestamp(TimeUnit::Millisecond, None);
        let millis = arrow_cast::cast(array, &target)
            .map_err(|e| self.bad(format!("interval_start: {e}")))?;
        let millis = millis.as_primitive::<TimestampMillisecondType>();
        Ok((0..millis.len())
            .map(|i| {
                if millis.is_null(i) {
                    i64::MIN
                } else {
                    millis.value(i)
                }
            })
            .collect())
    }

    /// A numeric column as f64, NULL and NaN both NaN (skipped by sums and maxes).
    fn numbers(&self, batch: &RecordBatch, c: usize) -> Result<Vec<f64>> {
        let name = self.columns.as_ref().map(|cs| cs[c].name).unwrap_or("?");
        let array = self
            .column(batch, c)
            .ok_or_else(|| self.bad(format!("missing required column {name}")))?;
        let floats = arrow_cast::cast(array, &DataType::Float64)
            .map_err(|e| self.bad(format!("column {name}: {e}")))?;
        let floats = floats.as_primitive::<Float64Type>();
        if floats.null_count() == 0 {
            return Ok(floats.values().to_vec());
        }
        Ok((0..floats.len())
            .map(|i| {
                if floats.is_null(i) {
                    f64::NAN
                } else {
                    floats.value(i)
                }
            })
            .collect())
    }

    /// Interned ids of a text column, one per row; NULL ids for an absent optional column.
    fn text_ids(&mut self, batch: &RecordBatch, c: usize) -> Result<Vec<u32>> {
        let rows = batch.num_rows();
        let Some(array) = self.column(batch, c).cloned() else {
            return Ok(vec![NULL_ID; rows]);
        };
        if let DataType::Dictionary(key, _) = array.data_type()
            && **key == DataType::Int32
        {
            let dict = array.as_dictionary::<Int32Type>();
            let mapping = self.dictionary_ids(c, dict.values())?;
            let keys = dict.keys();
            return Ok((0..rows)
                .map(|i| {
                    if keys.is_null(i) {
                        NULL_ID
                    } else {
                        mapping
                            .get(keys.value(i) as usize)
                            .copied()
                            .unwrap_or(NULL_ID)
                    }
                })
                .collect());
        }
        let strings = arrow_cast::cast(&array, &DataType::Utf8)
            .map_err(|e| self.bad(format!("column {}: {e}", self.column_name(c))))?;
        let strings = strings.as_string::<i32>();
        let labels = self.is_labels(c);
        (0..rows)
            .map(|i| {
                if strings.is_null(i) {
                    Ok(NULL_ID)
                } else {
                    self.intern_checked(strings.value(i), labels, c)
                }
            })
            .collect()
    }

    fn dictionary_ids(&mut self, c: usize, values: &ArrayRef) -> Result<Vec<u32>> {
        if let Some((cached, mapping)) = self
            .columns
            .as_ref()
            .and_then(|cs| cs[c].dictionary.as_ref())
            && Arc::ptr_eq(cached, values)
        {
            return Ok(mapping.clone());
        }
        let strings = arrow_cast::cast(values, &DataType::Utf8)
            .map_err(|e| self.bad(format!("column {}: {e}", self.column_name(c))))?;
        let strings = strings.as_string::<i32>();
        let labels = self.is_labels(c);
        let mapping = (0..strings.len())
            .map(|i| {
                if strings.is_null(i) {
                    Ok(NULL_ID)
                } else {
                    self.intern_checked(strings.value(i), labels, c)
                }
            })
            .collect::<Result<Vec<u32>>>()?;
        if let Some(cs) = self.columns.as_mut() {
            cs[c].dictionary = Some((Arc::clone(values), mapping.clone()));
        }
        Ok(mapping)
    }

    fn intern_checked(&mut self, s: &str, labels: bool, c: usize) -> Result<u32> {
        let id = self.interner.intern(s);
        if labels && !self.interner.label_checked(id) {
            labels::validate(s)
                .map_err(|e| self.bad(format!("column {}: {e}", self.column_name(c))))?;
            self.interner.mark_label_checked(id);
        }
        Ok(id)
    }

    fn column_name(&self, c: usize) -> &'static str {
        self.columns.as_ref().map(|cs| cs[c].name).unwrap_or("?")
    }

    fn is_labels(&self, c: usize) -> bool {
        self.columns.as_ref().is_some_and(|cs| cs[c].labels)
    }

    /// Rows kept: a time inside the key's month and no anomalous value.
    fn valid_rows(&mut self, times: &[i64], numbers: &[Option<Vec<f64>>]) -> Vec<bool> {
        let (start, end) = self.window_ms;
        let mut valid: Vec<bool> = times.iter().map(|&t| t >= start && t < end).collect();
        let outside = valid.iter().filter(|v| !**v).count();
        self.stats.rows_outside_month += outside as u64;
        for &c in &self.anomaly_columns {
            let Some(values) = numbers.get(c).and_then(Option::as_deref) else {
                continue;
            };
            for (ok, v) in valid.iter_mut().zip(values) {
                if *ok && *v > ANOMALY_LIMIT {
                    *ok = false;
                    self.stats.rows_anomalous += 1;
                }
            }
        }
        valid
    }
}

impl GroupState {
    /// The group index of each row (`u32::MAX` for rows not kept), creating groups as needed.
    fn assign_groups(
        &mut self,
        times: &[i64],
        valid: &[bool],
        texts: &[Option<Vec<u32>>],
        days: &mut BTreeSet<i32>,
    ) -> Vec<u32> {
        let width = self.spec.sums.len() + self.spec.maxes.len();
        let text_width = self.spec.text_maxes.len();
        let key_ids: Vec<&[u32]> = self
            .key_columns
            .iter()
            .map(|&c| texts[c].as_deref().unwrap_or(&[]))
            .collect();
        let mut key = vec![0u32; 1 + key_ids.len()];
        let mut last_day = i32::MIN;
        times
            .iter()
            .enumerate()
            .map(|(row, &t)| {
                if !valid[row] {
                    return u32::MAX;
                }
                let day = t.div_euclid(MS_PER_DAY) as i32;
                if day != last_day {
                    days.insert(day);
                    last_day = day;
                }
                key[0] = match self.spec.grain {
                    Grain::Day => day as u32,
                    Grain::Hour => t.div_euclid(MS_PER_HOUR) as u32,
                };
                for (slot, ids) in key[1..].iter_mut().zip(&key_ids) {
                    *slot = ids.get(row).copied().unwrap_or(NULL_ID);
                }
                if let Some(&g) = self.groups.get(&key[..]) {
                    return g;
                }
                let g = self.groups.len() as u32;
                self.groups.insert(key.clone().into_boxed_slice(), g);
                // Sums start at 0 (pandas sums skip NaN); maxes start at NaN (no value yet).
                let sums = self.spec.sums.len();
                self.values
                    .extend((0..width).map(|j| if j < sums { 0.0 } else { f64::NAN }));
                self.text_maxes
                    .extend(std::iter::repeat_n(NULL_ID, text_width));
                g
            })
            .collect()
    }

    /// Folds each row's values into its group, one column at a time.
    fn accumulate(
        &mut self,
        group_of_row: &[u32],
        numbers: &[Option<Vec<f64>>],
        texts: &[Option<Vec<u32>>],
        interner: &Interner,
    ) {
        let width = self.spec.sums.len() + self.spec.maxes.len();
        let sums = self.spec.sums.len();
        for (j, source) in self.value_sources.iter().enumerate() {
            let (a, b) = match *source {
                ResolvedValue::Column(a) => (a, None),
                ResolvedValue::Greatest(a, b) => (a, Some(b)),
            };
            let Some(xs) = numbers[a].as_deref() else {
                continue;
            };
            let ys = b.and_then(|b| numbers[b].as_deref());
            for (row, &g) in group_of_row.iter().enumerate() {
                if g == u32::MAX {
                    continue;
                }
                // f64::max ignores a NaN operand: the NaN-skipping max of pandas and SQL.
                let v = match ys {
                    Some(ys) => xs[row].max(ys[row]),
                    None => xs[row],
                };
                let slot = &mut self.values[g as usize * width + j];
                if j < sums {
                    if !v.is_nan() {
                        *slot += v;
                    }
                } else {
                    *slot = slot.max(v);
                }
            }
        }
        let text_width = self.spec.text_maxes.len();
        for (j, &c) in self.text_max_columns.iter().enumerate() {
            let Some(ids) = texts[c].as_deref() else {
                continue;
            };
            for (row, &g) in group_of_row.iter().enumerate() {
                if g == u32::MAX {
                    continue;
                }
                let slot = &mut self.text_maxes[g as usize * text_width + j];
                *slot = interner.max_by_text(*slot, ids[row]);
            }
        }
    }
}

/// Epoch-millisecond bounds of a month, for [`ReportAggregator::new`].
pub fn month_window_ms(year: i32, month: u32) -> (i64, i64) {
    use chrono::NaiveDate;
    let start = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN);
    let end = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .unwrap_or(NaiveDate::MAX);
    let ms = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis())
    };
    (ms(start).unwrap_or(i64::MIN), ms(end).unwrap_or(i64::MAX))
}
