//! The groups of a table that live in partition files once they outgrew the budget (Grace hash
//! aggregation): rows of those partitions are appended to the files as they come, and each file is
//! aggregated on its own after the pass, so every group is still written once.

use std::path::Path;

use super::bind::ResolvedValue;
use super::columns::{DecodedBatch, Stores};
use super::groups::{GroupTable, SPILLED};
use super::spill::{PartitionFile, Record, partition_of};
use super::texts::NULL_ID;
use crate::error::Result;

/// The partitions of a table's groups (by the partition key's id) that live in files: all but
/// partition 0 of `count`. Each doubling of `count` moves half of the groups in memory to a new
/// file, so file `b` holds partition 2^b of 2^(b+1): the ids whose partition has `b` trailing
/// zero bits.
pub(super) struct Spilled {
    pub(super) count: u32,
    pub(super) files: Vec<Option<PartitionFile>>,
}

impl Spilled {
    /// The file of a row or group of partition `partition` (not 0) of `count`.
    pub(super) fn file_for(&mut self, partition: u32) -> Option<&mut PartitionFile> {
        self.files
            .get_mut(partition.trailing_zeros() as usize)?
            .as_mut()
    }
}

/// A partition file taken out of a table, to aggregate on its own.
pub struct SpilledPartition {
    /// The partition of `count` it holds.
    pub count: u32,
    pub residue: u32,
    pub file: PartitionFile,
}

impl GroupTable {
    /// Appends the rows routed to partition files, each as a record of its own.
    pub(super) fn spill_rows(&mut self, batch: &DecodedBatch) -> Result<()> {
        let Some(spilled) = self.spilled.as_mut() else {
            return Ok(());
        };
        let (width, sums) = (1 + self.binding.key_slots.len(), self.spec.sums.len());
        let position = self.binding.partition_position.map_or(1, |p| 1 + p);
        let mut text_maxes = vec![NULL_ID; self.binding.text_max_slots.len()];
        let mut values = vec![0.0; self.binding.values.len()];
        for (row, &g) in self.group_of_row.iter().enumerate() {
            if g != SPILLED {
                continue;
            }
            let key = &self.keys[row * width..(row + 1) * width];
            for (slot, &s) in text_maxes.iter_mut().zip(&self.binding.text_max_slots) {
                *slot = batch.texts[s].as_deref().map_or(NULL_ID, |ids| ids[row]);
            }
            for (j, (value, source)) in values.iter_mut().zip(&self.binding.values).enumerate() {
                let at = |s: usize| batch.numbers[s].as_deref().map_or(f64::NAN, |v| v[row]);
                let v = match *source {
                    ResolvedValue::Column(a) => at(a),
                    ResolvedValue::Greatest(a, b) => at(a).max(at(b)),
                };
                // A row as a group of one: sums skip a missing value, maxes keep it missing.
                *value = if j < sums && v.is_nan() { 0.0 } else { v };
            }
            if let Some(file) = spilled.file_for(partition_of(key[position], spilled.count)) {
                file.append(key, &text_maxes, &values)?;
            }
        }
        Ok(())
    }

    /// Keeps half of the groups in memory and moves the other half to a new file in `dir` (the
    /// first time, partition 1 of 2; then 2 of 4, and so on); rows of those partitions go to the
    /// files from now on. False when the table cannot spill (its groups do not hold the
    /// partition key, or it has as many partitions as allowed).
    pub fn spill(&mut self, dir: &Path) -> Result<bool> {
        let Some(position) = self.binding.partition_position.map(|p| 1 + p) else {
            return Ok(false);
        };
        let count = self.spilled.as_ref().map_or(2, |s| s.count * 2);
        if count > super::partition::MAX_PARTITIONS {
            return Ok(false);
        }
        let mut file = PartitionFile::create(dir, self.shape())?;
        let (moved, kept): (Vec<u32>, Vec<u32>) = (0..self.index.len() as u32)
            .partition(|&g| partition_of(self.index.key(g)[position], count) != 0);
        for &g in &moved {
            let text_maxes: Vec<u32> = self.text_maxes.iter().map(|c| c[g as usize]).collect();
            let values: Vec<f64> = self.values.iter().map(|c| c[g as usize]).collect();
            file.append(self.index.key(g), &text_maxes, &values)?;
        }
        let spilled = self.spilled.get_or_insert_with(|| Spilled {
            count,
            files: Vec::new(),
        });
        spilled.count = count;
        spilled.files.push(Some(file));
        self.keep_groups(&kept);
        Ok(true)
    }

    /// The next partition file, to be aggregated on its own once the pass is over.
    pub fn take_spilled(&mut self) -> Option<SpilledPartition> {
        let spilled = self.spilled.as_mut()?;
        let (bit, file) = (spilled.files.iter_mut().enumerate())
            .find_map(|(b, f)| f.take().map(|f| (b as u32, f)))?;
        Some(SpilledPartition {
            count: 2 << bit,
            residue: 1 << bit,
            file,
        })
    }

    /// Folds one partition-file record into its group (a fresh table aggregating a file).
    pub fn merge(&mut self, record: &Record, stores: &Stores) {
        let (g, new) = self.index.find_or_insert(&record.key);
        let sums = self.spec.sums.len();
        if new {
            for (column, &v) in self.values.iter_mut().zip(&record.values) {
                column.push(v);
            }
            for (column, &id) in self.text_maxes.iter_mut().zip(&record.text_maxes) {
                column.push(id);
            }
            return;
        }
        let g = g as usize;
        for (j, (column, &v)) in self.values.iter_mut().zip(&record.values).enumerate() {
            column[g] = if j < sums {
                column[g] + v
            } else {
                column[g].max(v)
            };
        }
        for ((column, &id), &slot) in (self.text_maxes.iter_mut())
            .zip(&record.text_maxes)
            .zip(&self.binding.text_max_slots)
        {
            if let Some(store) = stores.text(slot) {
                column[g] = store.max_by_text(column[g], id);
            }
        }
    }
}
