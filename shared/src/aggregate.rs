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
use arrow_array::{Array, ArrayRef, ArrowPrimitiveType, PrimitiveArray, RecordBatch};
use arrow_buffer::ScalarBuffer;
use arrow_schema::{DataType, TimeUnit};

use crate::error::{Error, Result};
use crate::group_index::{GroupIndex, GroupKeys};
use crate::intern::{Interner, NULL_ID, Texts};
use crate::labels;
use crate::report::{ANOMALY_LIMIT, AggregateSpec, Grain, INTERVAL_START, ReportSpec, ValueSource};

const MS_PER_HOUR: i64 = 3_600_000;
const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;
/// The group of a row that is not kept.
const NO_GROUP: u32 = u32::MAX;

/// Counters for logs and metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RowStats {
    pub rows_read: u64,
    /// Dropped like koku's `_remove_anomalies` (a value > 1e18).
    pub rows_anomalous: u64,
    /// `interval_start` outside the key's year/month, or NULL: koku never summarises those.
    pub rows_outside_month: u64,
}

/// Groups of one aggregate taken out of the aggregator, ready to write. Group `g` is row `g` of
/// every column.
#[derive(Debug)]
pub struct TableChunk {
    pub spec: &'static AggregateSpec,
    /// `[grain, text ids...]` per group.
    pub keys: GroupKeys,
    /// Per value column (the sums, then the maxes), one value per group (NaN = no value = NULL).
    pub values: Vec<Vec<f64>>,
    /// Per text-max column, one interned id per group.
    pub text_maxes: Vec<Vec<u32>>,
}

/// Groups taken out of the aggregator, with the strings their ids refer to.
#[derive(Debug)]
pub struct PartialChunk {
    pub texts: Texts,
    pub tables: Vec<TableChunk>,
}

impl PartialChunk {
    pub fn group_count(&self) -> usize {
        self.tables.iter().map(|t| t.keys.len()).sum()
    }

    /// The label sets the groups refer to, `(id, label-map text)`, each once.
    pub fn label_sets(&self) -> Vec<(uuid::Uuid, &str)> {
        let mut seen = vec![false; self.texts.len()];
        let mut sets = Vec::new();
        for t in &self.tables {
            let positions: Vec<usize> = (t.spec.keys.iter().enumerate())
                .filter(|(_, k)| k.labels)
                .map(|(p, _)| 1 + p)
                .collect();
            for key in t.keys.iter() {
                for &p in &positions {
                    let id = key[p];
                    if let Some(first) = seen.get_mut(id as usize)
                        && !std::mem::replace(first, true)
                        && let (Some(set), Some(text)) =
                            (self.texts.label_set(id), self.texts.get(id))
                    {
                        sets.push((set, text));
                    }
                }
            }
        }
        sets
    }

    /// Approximate heap bytes of the groups (the strings are shared with the aggregator, or were
    /// counted in its state when taken whole).
    pub fn heap_bytes(&self) -> usize {
        self.tables
            .iter()
            .map(|t| {
                t.keys.len() * 4 * (1 + t.spec.keys.len())
                    + t.keys.len() * 8 * t.values.len()
                    + t.keys.len() * 4 * t.text_maxes.len()
            })
            .sum()
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
    order: RowOrder,
}

/// Whether the kept rows of the current row group have come in time order so far, and the latest
/// time among them. koku's files are written hour by hour, so while this holds, the days before
/// the latest one are complete (as far as this row group goes).
#[derive(Debug, Clone, Copy)]
struct RowOrder {
    latest_ms: i64,
    sorted: bool,
}

impl Default for RowOrder {
    fn default() -> Self {
        RowOrder {
            latest_ms: i64::MIN,
            sorted: true,
        }
    }
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
    index: GroupIndex,
    /// Column-major, like [`TableChunk`]: a column's loop over a batch touches one vector.
    values: Vec<Vec<f64>>,
    text_maxes: Vec<Vec<u32>>,
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
                index: new_index(a),
                values: vec![Vec::new(); a.sums.len() + a.maxes.len()],
                text_maxes: vec![Vec::new(); a.text_maxes.len()],
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
            order: RowOrder::default(),
        }
    }

    /// Starts a row group: its rows' time order is watched afresh (see [`Self::settled_day`]).
    pub fn start_row_group(&mut self) {
        self.order = RowOrder::default();
    }

    /// While the current row group's rows have come in time order, the day of the latest: the
    /// days before it get no more rows from this row group if the rest of it is in order too.
    /// A guess, never a condition of correctness: rows of a day handed over already just become
    /// more partial rows of that day, which add up.
    pub fn settled_day(&self) -> Option<i32> {
        (self.order.sorted && self.order.latest_ms != i64::MIN)
            .then(|| self.order.latest_ms.div_euclid(MS_PER_DAY) as i32)
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
                t.index.heap_bytes()
                    + t.values.iter().map(|v| v.capacity() * 8).sum::<usize>()
                    + t.text_maxes.iter().map(|v| v.capacity() * 4).sum::<usize>()
            })
            .sum();
        tables + self.interner.heap_bytes()
    }

    pub fn group_count(&self) -> usize {
        self.tables.iter().map(|t| t.index.len()).sum()
    }

    /// Takes the groups aggregated so far, leaving the aggregator empty but bound to its columns.
    pub fn take_chunk(&mut self) -> PartialChunk {
        let texts = std::mem::take(&mut self.interner).into_texts();
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
                keys: std::mem::replace(&mut t.index, new_index(t.spec)).into_keys(),
                values: t.values.iter_mut().map(std::mem::take).collect(),
                text_maxes: t.text_maxes.iter_mut().map(std::mem::take).collect(),
            })
            .collect();
        PartialChunk { texts, tables }
    }

    /// Takes the groups of days before `day` (days since the epoch), which the rest of the file
    /// cannot touch, so they can be written while decoding goes on. The strings stay interned.
    pub fn take_days_before(&mut self, day: i32) -> PartialChunk {
        let tables: Vec<TableChunk> = self
            .tables
            .iter_mut()
            .map(|t| t.split_off_before(day))
            .collect();
        // Most row groups complete no day: no need to share the strings then.
        let texts = if tables.iter().any(|t| !t.keys.is_empty()) {
            self.interner.texts()
        } else {
            Texts::default()
        };
        PartialChunk { texts, tables }
    }

    pub fn push(&mut self, batch: &RecordBatch) -> Result<()> {
        if self.columns.is_none() {
            self.bind(batch);
        }
        let rows = batch.num_rows();
        self.stats.rows_read += rows as u64;
        let times = self.interval_starts(batch)?;
        let columns = self.columns.as_ref().map(Vec::len).unwrap_or(0);

        let mut numbers: Vec<Option<ScalarBuffer<f64>>> = vec![None; columns];
        let mut texts: Vec<Option<Vec<u32>>> = vec![None; columns];
        for i in 0..self.text_columns.len() {
            let c = self.text_columns[i];
            texts[c] = Some(self.text_ids(batch, c)?);
        }
        for &c in &self.number_columns {
            numbers[c] = Some(self.numbers(batch, c)?);
        }

        let valid = self.valid_rows(&times, &numbers);
        self.watch_order(&times, &valid);
        // Each row's hour and day (since the epoch) as group keys store them, once for all tables.
        let hours: Vec<u32> = times
            .iter()
            .map(|&t| t.div_euclid(MS_PER_HOUR) as u32)
            .collect();
        let days: Vec<u32> = hours
            .iter()
            .map(|&h| (h as i32).div_euclid(24) as u32)
            .collect();
        self.note_days(&days, &valid);
        let mut group_of_row = Vec::with_capacity(rows);
        for t in &mut self.tables {
            let grain = match t.spec.grain {
                Grain::Day => &days,
                Grain::Hour => &hours,
            };
            t.assign_groups(grain, &valid, &texts, &mut group_of_row);
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
    fn interval_starts(&self, batch: &RecordBatch) -> Result<ScalarBuffer<i64>> {
        let array = batch
            .column_by_name(INTERVAL_START)
            .ok_or_else(|| self.bad("missing required column interval_start"))?;
        let target = DataType::Timestamp(TimeUnit::Millisecond, None);
        let millis = arrow_cast::cast(array, &target)
            .map_err(|e| self.bad(format!("interval_start: {e}")))?;
        Ok(values_nulls_as(
            millis.as_primitive::<TimestampMillisecondType>(),
            i64::MIN,
        ))
    }

    /// A numeric column as f64, NULL and NaN both NaN (skipped by sums and maxes). A float column
    /// without NULLs is used in place, not copied.
    fn numbers(&self, batch: &RecordBatch, c: usize) -> Result<ScalarBuffer<f64>> {
        let name = self.column_name(c);
        let array = self
            .column(batch, c)
            .ok_or_else(|| self.bad(format!("missing required column {name}")))?;
        let floats = arrow_cast::cast(array, &DataType::Float64)
            .map_err(|e| self.bad(format!("column {name}: {e}")))?;
        Ok(values_nulls_as(
            floats.as_primitive::<Float64Type>(),
            f64::NAN,
        ))
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
            self.map_dictionary(c, dict.values())?;
            let mapping = self
                .columns
                .as_ref()
                .and_then(|cs| cs[c].dictionary.as_ref())
                .map(|(_, m)| m.as_slice())
                .unwrap_or_default();
            let id = |k: i32| mapping.get(k as usize).copied().unwrap_or(NULL_ID);
            let keys = dict.keys();
            if keys.null_count() == 0 {
                return Ok(keys.values().iter().map(|&k| id(k)).collect());
            }
            return Ok(keys.iter().map(|k| k.map_or(NULL_ID, id)).collect());
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

    /// Interns a dictionary's values once; the mapping is kept with the column while the reader
    /// hands out the same dictionary (pointer identity, the array kept alive).
    fn map_dictionary(&mut self, c: usize, values: &ArrayRef) -> Result<()> {
        if let Some((cached, _)) = self
            .columns
            .as_ref()
            .and_then(|cs| cs[c].dictionary.as_ref())
            && Arc::ptr_eq(cached, values)
        {
            return Ok(());
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
            cs[c].dictionary = Some((Arc::clone(values), mapping));
        }
        Ok(())
    }

    fn intern_checked(&mut self, s: &str, labels: bool, c: usize) -> Result<u32> {
        let id = self.interner.intern(s);
        if labels && !self.interner.is_label_set(id) {
            labels::validate(s)
                .map_err(|e| self.bad(format!("column {}: {e}", self.column_name(c))))?;
            self.interner.mark_label_set(id);
        }
        Ok(id)
    }

    fn column_name(&self, c: usize) -> &'static str {
        self.columns.as_ref().map(|cs| cs[c].name).unwrap_or("?")
    }

    fn is_labels(&self, c: usize) -> bool {
        self.columns.as_ref().is_some_and(|cs| cs[c].labels)
    }

    fn note_days(&mut self, days: &[u32], valid: &[bool]) {
        let mut last = None;
        for (&day, &ok) in days.iter().zip(valid) {
            if ok && last != Some(day) {
                self.days.insert(day as i32);
                last = Some(day);
            }
        }
    }

    fn watch_order(&mut self, times: &[i64], valid: &[bool]) {
        let RowOrder {
            mut latest_ms,
            mut sorted,
        } = self.order;
        for (&t, &ok) in times.iter().zip(valid) {
            if ok {
                sorted &= t >= latest_ms;
                latest_ms = latest_ms.max(t);
            }
        }
        self.order = RowOrder { latest_ms, sorted };
    }

    /// Rows kept: a time inside the key's month and no anomalous value.
    fn valid_rows(&mut self, times: &[i64], numbers: &[Option<ScalarBuffer<f64>>]) -> Vec<bool> {
        let (start, end) = self.window_ms;
        let mut valid: Vec<bool> = times.iter().map(|&t| t >= start && t < end).collect();
        let outside = valid.iter().filter(|v| !**v).count();
        self.stats.rows_outside_month += outside as u64;
        // A pass per column that the compiler vectorizes; rows are only looked at one by one in
        // the rare column that has an anomaly (NaN is never one).
        let mut anomalous = 0u64;
        for values in self
            .anomaly_columns
            .iter()
            .filter_map(|&c| numbers.get(c).and_then(Option::as_deref))
        {
            if values
                .iter()
                .fold(false, |any, &v| any | (v > ANOMALY_LIMIT))
            {
                for (ok, &v) in valid.iter_mut().zip(values) {
                    let bad = *ok & (v > ANOMALY_LIMIT);
                    anomalous += bad as u64;
                    *ok &= !bad;
                }
            }
        }
        self.stats.rows_anomalous += anomalous;
        valid
    }
}

impl GroupState {
    fn day_of(&self, grain_key: u32) -> i32 {
        match self.spec.grain {
            Grain::Day => grain_key as i32,
            Grain::Hour => (grain_key as i64).div_euclid(24) as i32,
        }
    }

    /// Moves the groups of days before `day` into a chunk, re-indexing the rest.
    fn split_off_before(&mut self, day: i32) -> TableChunk {
        let (taken, kept): (Vec<u32>, Vec<u32>) =
            (0..self.index.len() as u32).partition(|&g| self.day_of(self.index.key(g)[0]) < day);
        let old = std::mem::replace(&mut self.index, new_index(self.spec));
        for &g in &kept {
            self.index.find_or_insert(old.key(g));
        }
        let keys = old.into_keys().gather(&taken);
        TableChunk {
            spec: self.spec,
            keys,
            values: split_columns(&mut self.values, &taken, &kept),
            text_maxes: split_columns(&mut self.text_maxes, &taken, &kept),
        }
    }

    /// Sets each row's group ([`NO_GROUP`] for rows not kept) in `out`, creating groups as needed.
    fn assign_groups(
        &mut self,
        grain: &[u32],
        valid: &[bool],
        texts: &[Option<Vec<u32>>],
        out: &mut Vec<u32>,
    ) {
        // The batch's keys row by row, `[grain, text ids...]`, filled column by column.
        let width = 1 + self.key_columns.len();
        let mut keys = vec![NULL_ID; grain.len() * width];
        for (key, &g) in keys.chunks_exact_mut(width).zip(grain) {
            key[0] = g;
        }
        for (k, &c) in self.key_columns.iter().enumerate() {
            if let Some(ids) = texts[c].as_deref() {
                for (key, &id) in keys.chunks_exact_mut(width).zip(ids) {
                    key[1 + k] = id;
                }
            }
        }
        out.clear();
        out.resize(grain.len(), NO_GROUP);
        // Rows of one group often come in a run (a node's pods in an hour): the previous row's
        // group is tried before the index.
        let mut previous: Option<(&[u32], u32)> = None;
        for ((key, &ok), group) in keys.chunks_exact(width).zip(valid).zip(out.iter_mut()) {
            if !ok {
                continue;
            }
            if let Some((last, g)) = previous
                && last == key
            {
                *group = g;
                continue;
            }
            let (g, new) = self.index.find_or_insert(key);
            previous = Some((key, g));
            if new {
                // Sums start at 0 (pandas sums skip NaN); maxes start at NaN (no value yet).
                let sums = self.spec.sums.len();
                for (j, column) in self.values.iter_mut().enumerate() {
                    column.push(if j < sums { 0.0 } else { f64::NAN });
                }
                for column in &mut self.text_maxes {
                    column.push(NULL_ID);
                }
            }
            *group = g;
        }
    }

    /// Folds each row's values into its group, one column at a time.
    fn accumulate(
        &mut self,
        group_of_row: &[u32],
        numbers: &[Option<ScalarBuffer<f64>>],
        texts: &[Option<Vec<u32>>],
        interner: &Interner,
    ) {
        let sums = self.spec.sums.len();
        for (j, source) in self.value_sources.iter().enumerate() {
            let slots = &mut self.values[j];
            let column = |c: usize| numbers[c].as_deref();
            // Sums skip NaN (no value), as pandas and SQL do; f64::max ignores a NaN operand.
            let sum = |slot: f64, v: f64| if v.is_nan() { slot } else { slot + v };
            match (*source, j < sums) {
                (ResolvedValue::Column(a), is_sum) => {
                    let Some(xs) = column(a) else { continue };
                    // Most columns have no NaN in a batch: then a plain add, which is cheaper.
                    if is_sum && xs.iter().fold(false, |any, v| any | v.is_nan()) {
                        fold(slots, group_of_row, xs.iter().copied(), sum);
                    } else if is_sum {
                        fold(slots, group_of_row, xs.iter().copied(), |slot, v| slot + v);
                    } else {
                        fold(slots, group_of_row, xs.iter().copied(), f64::max);
                    }
                }
                (ResolvedValue::Greatest(a, b), is_sum) => {
                    let (Some(xs), Some(ys)) = (column(a), column(b)) else {
                        continue;
                    };
                    let greatest = xs.iter().zip(ys).map(|(x, y)| x.max(*y));
                    if is_sum {
                        fold(slots, group_of_row, greatest, sum);
                    } else {
                        fold(slots, group_of_row, greatest, f64::max);
                    }
                }
            }
        }
        for (j, &c) in self.text_max_columns.iter().enumerate() {
            let Some(ids) = texts[c].as_deref() else {
                continue;
            };
            let slots = &mut self.text_maxes[j];
            for (&g, &id) in group_of_row.iter().zip(ids) {
                if let Some(slot) = slots.get_mut(g as usize) {
                    *slot = interner.max_by_text(*slot, id);
                }
            }
        }
    }
}

/// Folds each row's value into its group's slot; rows of [`NO_GROUP`] fall outside the slots.
#[inline(always)]
fn fold(
    slots: &mut [f64],
    group_of_row: &[u32],
    values: impl Iterator<Item = f64>,
    op: impl Fn(f64, f64) -> f64,
) {
    for (&g, v) in group_of_row.iter().zip(values) {
        if let Some(slot) = slots.get_mut(g as usize) {
            *slot = op(*slot, v);
        }
    }
}

/// The values of `array` with NULL cells as `null`: the array's own buffer when it has no NULLs.
fn values_nulls_as<T: ArrowPrimitiveType>(
    array: &PrimitiveArray<T>,
    null: T::Native,
) -> ScalarBuffer<T::Native> {
    if array.null_count() == 0 {
        return array.values().clone();
    }
    array
        .iter()
        .map(|v| v.unwrap_or(null))
        .collect::<Vec<_>>()
        .into()
}

/// An empty GROUP BY index for `spec`'s keys: `[grain, text ids...]`, hinted by its hint key.
fn new_index(spec: &AggregateSpec) -> GroupIndex {
    let hint = spec.keys.iter().position(|k| k.name == spec.hint_key);
    GroupIndex::new(1 + spec.keys.len(), hint.map(|p| 1 + p))
}

/// Splits column-major `columns` into the `taken` groups (returned) and the `kept` ones (left).
fn split_columns<T: Copy>(columns: &mut [Vec<T>], taken: &[u32], kept: &[u32]) -> Vec<Vec<T>> {
    let gather = |column: &[T], groups: &[u32]| -> Vec<T> {
        groups.iter().map(|&g| column[g as usize]).collect()
    };
    columns
        .iter_mut()
        .map(|column| {
            let out = gather(column, taken);
            *column = gather(column, kept);
            out
        })
        .collect()
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
