//! One record batch decoded for the GROUP BYs, each needed column once: times as hours and days,
//! numbers as `f64` (NULL as NaN), text as ids of the column's store. Rows the aggregation does not
//! keep (outside the key's month, anomalous, or of another partition) are marked, not removed.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, TimestampMillisecondType};
use arrow_array::{Array, ArrayRef, ArrowPrimitiveType, PrimitiveArray, RecordBatch};
use arrow_buffer::ScalarBuffer;
use arrow_schema::{DataType, TimeUnit};

use super::bind::Binding;
use super::label_sets::LabelSetStore;
use super::partition::Partition;
use super::texts::{NULL_ID, SKIPPED, TextHasher, TextStore};
use crate::koku::report::ANOMALY_LIMIT;
use crate::time;

/// Counters for logs and metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RowStats {
    pub rows_read: u64,
    /// Dropped like koku's `_remove_anomalies` (a value > 1e18).
    pub rows_anomalous: u64,
    /// `interval_start` outside the key's year/month, or NULL: koku never summarises those.
    pub rows_outside_month: u64,
}

/// The stores of a report's text slots: one exact store per text column, and one label-set store
/// for every label column (a map is one label set of the object whichever column holds it).
pub struct Stores {
    /// Per slot, for plain text columns.
    texts: Vec<Option<TextStore>>,
    labels: LabelSetStore,
    /// Per slot: whether it holds label maps, and its previous row's label-set id (the hint).
    label_slots: Vec<Option<u32>>,
    /// Per slot: the dictionary last mapped (kept alive, so pointer identity is a sound cache key)
    /// and the ids of its values.
    dictionaries: Vec<Option<(ArrayRef, Vec<u32>)>>,
}

impl Stores {
    pub fn new(binding: &Binding, hasher: &TextHasher) -> Self {
        let slots = binding.slots.len();
        let mut texts: Vec<Option<TextStore>> = (0..slots).map(|_| None).collect();
        let mut label_slots = vec![None; slots];
        for &s in &binding.text_slots {
            if binding.slots[s].labels {
                label_slots[s] = Some(NULL_ID);
            } else {
                texts[s] = Some(TextStore::new(hasher.clone()));
            }
        }
        Stores {
            texts,
            labels: LabelSetStore::default(),
            label_slots,
            dictionaries: (0..slots).map(|_| None).collect(),
        }
    }

    pub fn size(&self) -> usize {
        let dictionaries: usize = (self.dictionaries.iter().flatten())
            .map(|(_, ids)| ids.capacity() * 4)
            .sum();
        let texts: usize = self.texts.iter().flatten().map(TextStore::size).sum();
        texts + self.labels.size() + dictionaries
    }

    /// A row group starts: the hints' previous rows and the dictionaries are the last one's.
    pub fn start_row_group(&mut self) {
        self.texts
            .iter_mut()
            .flatten()
            .for_each(TextStore::restart_hints);
        self.label_slots
            .iter_mut()
            .flatten()
            .for_each(|p| *p = NULL_ID);
        self.dictionaries.iter_mut().for_each(|d| *d = None);
    }

    pub fn text(&self, slot: usize) -> Option<&TextStore> {
        self.texts.get(slot)?.as_ref()
    }

    /// The label-set store, if `slot` holds label maps.
    pub fn labels(&self, slot: usize) -> Option<&LabelSetStore> {
        self.label_slots.get(slot)?.map(|_| &self.labels)
    }

    /// Drops the label-map texts (see `label_sets`); false if they were not kept.
    pub fn drop_label_texts(&mut self) -> bool {
        let kept = self.labels.keeps_texts();
        self.labels.drop_texts();
        kept
    }

    pub fn label_sets_mut(&mut self) -> &mut LabelSetStore {
        &mut self.labels
    }

    /// The id of a value of `slot`; `sequential` for row after row (the hint is tried first).
    fn intern(
        &mut self,
        slot: usize,
        value: &[u8],
        sequential: bool,
        partition: Option<Partition>,
    ) -> Result<u32, String> {
        let mut utf8_checked_by_arrow = |_: &[u8]| Ok(());
        if let Some(Some(previous)) = self.label_slots.get_mut(slot) {
            return match sequential {
                true => self.labels.intern_next(value, previous),
                false => self.labels.intern_one(value),
            };
        }
        match (self.texts.get_mut(slot), sequential) {
            (Some(Some(s)), true) => s.intern_next(value, partition, &mut utf8_checked_by_arrow),
            (Some(Some(s)), false) => s.intern(value, partition, &mut utf8_checked_by_arrow),
            _ => Err("not bound as text".into()),
        }
    }
}

/// A batch's columns as the GROUP BYs read them.
pub struct DecodedBatch {
    pub rows: usize,
    /// Rows kept: inside the month, not anomalous.
    pub valid: Vec<bool>,
    /// Rows kept and of this pass's partition (the tables holding the partition key read these).
    pub member: Vec<bool>,
    /// Per row, hours and days since the epoch (as group keys store them: `u32` of an `i32`).
    pub hours: Vec<u32>,
    pub days: Vec<u32>,
    /// The first and the latest time of a kept row, epoch ms; `None` if no row is kept.
    pub first_ms: Option<i64>,
    pub latest_ms: i64,
    /// Whether the kept rows came in time order.
    pub sorted: bool,
    /// Per slot: numbers (NaN for NULL) and text ids.
    pub numbers: Vec<Option<ScalarBuffer<f64>>>,
    pub texts: Vec<Option<Vec<u32>>>,
}

/// What a pass reads of each batch.
pub struct PassFilter {
    /// The partition of the partition key (by its text) whose rows the pass aggregates.
    pub partition: Option<Partition>,
    /// Per slot: read for every kept row, not only the partition's (a table of this pass that does
    /// not hold the partition key uses it).
    pub all_rows: Vec<bool>,
}

/// Decodes `batch` as `binding` says. `window` is the key's month in epoch ms.
pub fn decode(
    batch: &RecordBatch,
    binding: &Binding,
    stores: &mut Stores,
    window: (i64, i64),
    filter: &PassFilter,
    stats: &mut RowStats,
) -> Result<DecodedBatch, String> {
    let rows = batch.num_rows();
    let times = interval_starts(batch.column(binding.time_index))?;
    let mut valid: Vec<bool> = times
        .iter()
        .map(|&t| t >= window.0 && t < window.1)
        .collect();
    stats.rows_read += rows as u64;
    stats.rows_outside_month += valid.iter().filter(|v| !**v).count() as u64;

    let mut numbers: Vec<Option<ScalarBuffer<f64>>> = vec![None; binding.slots.len()];
    for &s in &binding.number_slots {
        let slot = &binding.slots[s];
        // Absent: an optional column (the reader refused files lacking a required one); it stays
        // `None`, which sums and maxes skip, so it reads as NULL.
        let Some(array) = slot.index.map(|i| batch.column(i)) else {
            continue;
        };
        numbers[s] = Some(floats(array).map_err(|e| format!("column {}: {e}", slot.name))?);
    }
    stats.rows_anomalous += drop_anomalies(&mut valid, binding, &numbers);

    // The partition key comes first and decides the members; a slot only tables holding it read
    // is read for the members alone.
    let mut member = valid.clone();
    let mut texts: Vec<Option<Vec<u32>>> = vec![None; binding.slots.len()];
    for &s in &binding.text_slots {
        let slot = &binding.slots[s];
        let is_key = binding.partition_key == Some(s);
        let part = filter.partition.filter(|_| is_key);
        let rows_read = match filter.all_rows.get(s) {
            Some(true) if !is_key => &mut valid,
            _ => &mut member,
        };
        let ids = match slot.index {
            Some(i) => text_ids(stores, s, batch.column(i), rows_read, part)
                .map_err(|e| format!("column {}: {e}", slot.name))?,
            None => vec![NULL_ID; rows],
        };
        texts[s] = Some(ids);
    }

    let (mut first_ms, mut latest_ms, mut sorted) = (None, i64::MIN, true);
    for (&t, &ok) in times.iter().zip(&valid) {
        if ok {
            first_ms.get_or_insert(t);
            sorted &= t >= latest_ms;
            latest_ms = latest_ms.max(t);
        }
    }
    let hours: Vec<u32> = times.iter().map(|&t| time::hour_of_ms(t) as u32).collect();
    let days = hours
        .iter()
        .map(|&h| time::day_of_hour(h as i32 as i64) as u32)
        .collect();
    Ok(DecodedBatch {
        rows,
        valid,
        member,
        hours,
        days,
        first_ms,
        latest_ms,
        sorted,
        numbers,
        texts,
    })
}

/// Marks rows with a value over 1e18 in an anomaly column; returns how many kept rows it dropped.
/// A pass per column that the compiler vectorizes; rows are only looked at one by one in the rare
/// column that has an anomaly (NaN is never one).
fn drop_anomalies(
    valid: &mut [bool],
    binding: &Binding,
    numbers: &[Option<ScalarBuffer<f64>>],
) -> u64 {
    let mut dropped = 0;
    for values in (binding.anomaly_slots.iter()).filter_map(|&s| numbers[s].as_deref()) {
        if values
            .iter()
            .fold(false, |any, &v| any | (v > ANOMALY_LIMIT))
        {
            for (ok, &v) in valid.iter_mut().zip(values) {
                let bad = *ok & (v > ANOMALY_LIMIT);
                dropped += bad as u64;
                *ok &= !bad;
            }
        }
    }
    dropped
}

/// Ids of one text column for the kept rows ([`SKIPPED`] for the others). For the partition key,
/// rows whose value is of another partition become not kept.
fn text_ids(
    stores: &mut Stores,
    slot: usize,
    array: &ArrayRef,
    valid: &mut [bool],
    partition: Option<Partition>,
) -> Result<Vec<u32>, String> {
    let mut ids = vec![SKIPPED; array.len()];
    match array.data_type() {
        DataType::Null => ids.fill(NULL_ID),
        DataType::Dictionary(key, value)
            if **key == DataType::Int32 && **value == DataType::Utf8 =>
        {
            let dictionary = array.as_dictionary::<Int32Type>();
            let cached = stores.dictionaries[slot].as_ref();
            if !cached.is_some_and(|(c, _)| Arc::ptr_eq(c, dictionary.values())) {
                let values = dictionary.values().as_string::<i32>();
                let mapping = (0..values.len())
                    .map(|i| match values.is_valid(i) {
                        true => stores.intern(slot, values.value(i).as_bytes(), false, partition),
                        false => Ok(NULL_ID),
                    })
                    .collect::<Result<Vec<u32>, String>>()?;
                stores.dictionaries[slot] = Some((Arc::clone(dictionary.values()), mapping));
            }
            let mapping = (stores.dictionaries[slot].as_ref())
                .map(|(_, m)| m.as_slice())
                .unwrap_or_default();
            for ((id, ok), key) in ids.iter_mut().zip(valid.iter_mut()).zip(dictionary.keys()) {
                if *ok {
                    *id = key.map_or(NULL_ID, |k| {
                        mapping.get(k as usize).copied().unwrap_or(NULL_ID)
                    });
                    *ok = *id != SKIPPED;
                }
            }
        }
        DataType::Utf8View => {
            let strings = array.as_string_view();
            intern_rows(stores, slot, &mut ids, valid, partition, |i| {
                strings.is_valid(i).then(|| strings.value(i).as_bytes())
            })?;
        }
        DataType::Utf8 => {
            let strings = array.as_string::<i32>();
            intern_rows(stores, slot, &mut ids, valid, partition, |i| {
                strings.is_valid(i).then(|| strings.value(i).as_bytes())
            })?;
        }
        _ => {
            let strings =
                arrow_cast::cast(array, &DataType::Utf8View).map_err(|e| e.to_string())?;
            let strings = strings.as_string_view();
            intern_rows(stores, slot, &mut ids, valid, partition, |i| {
                strings.is_valid(i).then(|| strings.value(i).as_bytes())
            })?;
        }
    }
    Ok(ids)
}

/// Interns row by row, each value first compared with the one that followed the previous row's.
fn intern_rows<'a>(
    stores: &mut Stores,
    slot: usize,
    ids: &mut [u32],
    valid: &mut [bool],
    partition: Option<Partition>,
    value: impl Fn(usize) -> Option<&'a [u8]>,
) -> Result<(), String> {
    for (i, (id, ok)) in ids.iter_mut().zip(valid.iter_mut()).enumerate() {
        if *ok {
            *id = match value(i) {
                Some(v) => stores.intern(slot, v, true, partition)?,
                None => NULL_ID,
            };
            *ok = *id != SKIPPED;
        }
    }
    Ok(())
}

/// `interval_start` in epoch milliseconds, `i64::MIN` for NULL.
fn interval_starts(array: &ArrayRef) -> Result<ScalarBuffer<i64>, String> {
    let target = DataType::Timestamp(TimeUnit::Millisecond, None);
    let millis = arrow_cast::cast(array, &target).map_err(|e| format!("interval_start: {e}"))?;
    Ok(values_nulls_as(
        millis.as_primitive::<TimestampMillisecondType>(),
        i64::MIN,
    ))
}

/// A numeric column as f64, NULL and NaN both NaN (skipped by sums and maxes). A float column
/// without NULLs is used in place, not copied.
fn floats(array: &ArrayRef) -> Result<ScalarBuffer<f64>, String> {
    let floats = arrow_cast::cast(array, &DataType::Float64).map_err(|e| e.to_string())?;
    Ok(values_nulls_as(
        floats.as_primitive::<Float64Type>(),
        f64::NAN,
    ))
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
