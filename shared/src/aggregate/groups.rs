//! The state of one GROUP BY: the key store ([`GroupIndex`]) and, column-major, each group's sums,
//! maxes and text maxima. A group is a key `[grain, text ids...]` (the grain is the day or hour
//! since the epoch); its values fold in rows as they come, so a group costs the same whether it saw
//! one row or a thousand.

use super::bind::{ResolvedValue, TableBinding};
use super::columns::{DecodedBatch, Stores};
use super::group_index::{GroupIndex, GroupKeys};
use super::spill::{PartitionFile, RecordShape, partition_of};
use super::spilled_groups::Spilled;
use super::texts::NULL_ID;
use crate::error::Result;
use crate::koku::report::{AggregateSpec, Grain};
use crate::time;

/// The group of a row that is not kept.
const NO_GROUP: u32 = u32::MAX;
/// The group of a row of a partition that lives in a file.
pub(super) const SPILLED: u32 = u32::MAX - 1;

pub struct GroupTable {
    pub spec: &'static AggregateSpec,
    pub(super) binding: TableBinding,
    pub(super) index: GroupIndex,
    /// Per value (sums, then maxes), one `f64` per group; NaN = no value yet (SQL NULL).
    pub(super) values: Vec<Vec<f64>>,
    /// Per text max, one id per group.
    pub(super) text_maxes: Vec<Vec<u32>>,
    /// Scratch: a batch's keys row-major, and each row's group.
    pub(super) keys: Vec<u32>,
    pub(super) group_of_row: Vec<u32>,
    /// Once the groups outgrew the budget: the partitions kept in files.
    pub(super) spilled: Option<Spilled>,
}

/// Groups taken out of a table, ready to become a chunk: group `g` is row `g` of every column.
#[derive(Debug)]
pub struct TakenGroups {
    /// `[grain, text ids...]` per group.
    pub keys: GroupKeys,
    pub values: Vec<Vec<f64>>,
    pub text_maxes: Vec<Vec<u32>>,
}

impl GroupTable {
    pub fn new(spec: &'static AggregateSpec, binding: TableBinding) -> Self {
        GroupTable {
            index: new_index(&binding),
            values: vec![Vec::new(); binding.values.len()],
            text_maxes: vec![Vec::new(); binding.text_max_slots.len()],
            keys: Vec::new(),
            group_of_row: Vec::new(),
            spilled: None,
            spec,
            binding,
        }
    }

    pub fn binding(&self) -> &TableBinding {
        &self.binding
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Heap bytes held, for the memory budget: what is in use (untouched capacity of large
    /// vectors is not resident), the hash table whole, the partition files' buffers.
    pub fn size(&self) -> usize {
        let files: usize = (self.spilled.iter())
            .flat_map(|s| s.files.iter().flatten())
            .map(PartitionFile::size)
            .sum();
        self.index.heap_bytes()
            + self.values.iter().map(|v| v.len() * 8).sum::<usize>()
            + self.text_maxes.iter().map(|v| v.len() * 4).sum::<usize>()
            + (self.keys.capacity() + self.group_of_row.capacity()) * 4
            + files
    }

    /// The shape of this table's partition-file records.
    pub fn shape(&self) -> RecordShape {
        RecordShape {
            key: 1 + self.binding.key_slots.len(),
            text_maxes: self.text_maxes.len(),
            values: self.values.len(),
        }
    }

    /// Folds the kept rows of a batch into their groups; rows of partitions in files are appended
    /// to them.
    pub fn push(&mut self, batch: &DecodedBatch, stores: &Stores) -> Result<()> {
        let grain = match self.spec.grain {
            Grain::Day => &batch.days,
            Grain::Hour => &batch.hours,
        };
        self.assign_groups(grain, batch);
        if self.spilled.is_some() {
            self.spill_rows(batch)?;
        }
        self.accumulate(batch, stores);
        Ok(())
    }

    /// Sets each row's group ([`NO_GROUP`] for rows not kept), creating groups as needed.
    fn assign_groups(&mut self, grain: &[u32], batch: &DecodedBatch) {
        let width = 1 + self.binding.key_slots.len();
        self.keys.clear();
        self.keys.resize(batch.rows * width, NULL_ID);
        for (key, &g) in self.keys.chunks_exact_mut(width).zip(grain) {
            key[0] = g;
        }
        for (k, &slot) in self.binding.key_slots.iter().enumerate() {
            if let Some(ids) = batch.texts[slot].as_deref() {
                for (key, &id) in self.keys.chunks_exact_mut(width).zip(ids) {
                    key[1 + k] = id;
                }
            }
        }
        self.group_of_row.clear();
        self.group_of_row.resize(batch.rows, NO_GROUP);
        let spilled = self.spilled.as_ref().map(|s| s.count);
        let partition_position = self.binding.partition_position.map(|p| 1 + p);
        // Rows of one group often come in a run: the previous row's group is tried first.
        let mut previous: Option<(&[u32], u32)> = None;
        let kept = match partition_position {
            Some(_) => &batch.member,
            None => &batch.valid,
        };
        let rows = self.keys.chunks_exact(width).zip(kept);
        for ((key, &ok), group) in rows.zip(self.group_of_row.iter_mut()) {
            if !ok {
                continue;
            }
            if let (Some(count), Some(p)) = (spilled, partition_position)
                && partition_of(key[p], count) != 0
            {
                *group = SPILLED;
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
    fn accumulate(&mut self, batch: &DecodedBatch, stores: &Stores) {
        let sums = self.spec.sums.len();
        let groups = &self.group_of_row;
        for (j, source) in self.binding.values.iter().enumerate() {
            let slots = &mut self.values[j];
            let column = |s: usize| batch.numbers[s].as_deref();
            // Sums skip NaN (no value), as pandas and SQL do; f64::max ignores a NaN operand.
            let nan_skipping_sum = |slot: f64, v: f64| if v.is_nan() { slot } else { slot + v };
            match (*source, j < sums) {
                (ResolvedValue::Column(a), is_sum) => {
                    let Some(xs) = column(a) else { continue };
                    // Most columns have no NaN in a batch: then a plain add, which is cheaper.
                    if is_sum && xs.iter().fold(false, |any, v| any | v.is_nan()) {
                        fold(slots, groups, xs.iter().copied(), nan_skipping_sum);
                    } else if is_sum {
                        fold(slots, groups, xs.iter().copied(), |slot, v| slot + v);
                    } else {
                        fold(slots, groups, xs.iter().copied(), f64::max);
                    }
                }
                (ResolvedValue::Greatest(a, b), is_sum) => {
                    let (Some(xs), Some(ys)) = (column(a), column(b)) else {
                        continue;
                    };
                    let greatest = xs.iter().zip(ys).map(|(x, y)| x.max(*y));
                    if is_sum {
                        fold(slots, groups, greatest, nan_skipping_sum);
                    } else {
                        fold(slots, groups, greatest, f64::max);
                    }
                }
            }
        }
        for (j, &slot) in self.binding.text_max_slots.iter().enumerate() {
            let (Some(ids), Some(store)) = (batch.texts[slot].as_deref(), stores.text(slot)) else {
                continue;
            };
            let maxes = &mut self.text_maxes[j];
            for (&g, &id) in groups.iter().zip(ids) {
                if let Some(max) = maxes.get_mut(g as usize) {
                    *max = store.max_by_text(*max, id);
                }
            }
        }
    }

    /// Keeps only the groups `kept` (ascending), renumbered, in place.
    pub(super) fn keep_groups(&mut self, kept: &[u32]) {
        self.index.retain(kept);
        retain_in_place(&mut self.values, kept);
        retain_in_place(&mut self.text_maxes, kept);
    }

    /// Takes the groups of days before `day`, re-indexing the rest.
    pub fn take_days_before(&mut self, day: time::EpochDay) -> TakenGroups {
        let grain = self.spec.grain;
        let (taken, kept): (Vec<u32>, Vec<u32>) = (0..self.index.len() as u32)
            .partition(|&g| day_of_grain(grain, self.index.key(g)[0]) < day);
        if taken.is_empty() {
            return self.empty();
        }
        let keys = GroupKeys::of(&self.index, &taken);
        let (values, text_maxes) = (
            gather(&self.values, &taken),
            gather(&self.text_maxes, &taken),
        );
        self.keep_groups(&kept);
        TakenGroups {
            keys,
            values,
            text_maxes,
        }
    }

    /// Takes every group, leaving the table empty.
    pub fn take_all(&mut self) -> TakenGroups {
        TakenGroups {
            keys: std::mem::replace(&mut self.index, new_index(&self.binding)).into_keys(),
            values: self.values.iter_mut().map(std::mem::take).collect(),
            text_maxes: self.text_maxes.iter_mut().map(std::mem::take).collect(),
        }
    }

    fn empty(&self) -> TakenGroups {
        TakenGroups {
            keys: new_index(&self.binding).into_keys(),
            values: vec![Vec::new(); self.values.len()],
            text_maxes: vec![Vec::new(); self.text_maxes.len()],
        }
    }
}

/// The day of a group key's grain value.
pub fn day_of_grain(grain: Grain, value: u32) -> time::EpochDay {
    match grain {
        Grain::Day => value as i32,
        Grain::Hour => time::day_of_hour(value as i32 as i64),
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

/// An empty GROUP BY index for a table's keys: `[grain, text ids...]`, hinted by its hint key.
fn new_index(binding: &TableBinding) -> GroupIndex {
    GroupIndex::new(
        1 + binding.key_slots.len(),
        binding.hint_position.map(|p| 1 + p),
    )
}

/// The values of the groups `taken` of each column-major column.
fn gather<T: Copy>(columns: &[Vec<T>], taken: &[u32]) -> Vec<Vec<T>> {
    let column = |c: &Vec<T>| taken.iter().map(|&g| c[g as usize]).collect();
    columns.iter().map(column).collect()
}

/// Keeps, in each column-major column, the values of the groups `kept` (ascending), in place.
fn retain_in_place<T: Copy>(columns: &mut [Vec<T>], kept: &[u32]) {
    for column in columns {
        for (new, &old) in kept.iter().enumerate() {
            column[new] = column[old as usize];
        }
        column.truncate(kept.len());
        column.shrink_to_fit();
    }
}
