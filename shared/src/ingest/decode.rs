//! The decode loop of one object, on the decoder's thread: row groups in, chunks out to a writer
//! that COPYs them while decoding goes on, within the memory ceiling.
//!
//! A pass reads the file's row groups in order and hands over, as soon as they are complete, the
//! days before both the latest day of a row group read in time order and the first day later row
//! groups hold; whatever is left at the end. When the groups do not fit beside everything else
//! (see [`MemoryBudget`]), the attempt's chunks are dropped (a savepoint) and the file is read
//! again in as many passes as its partition key (the pod) needs, each pass aggregating the groups
//! of one partition (see [`crate::aggregate::partition`]), so every group is still written once.

use std::collections::BTreeSet;

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_schema::DataType;
use rustc_hash::FxHashSet;

use super::budget::{MemoryBudget, MemoryMeter};
use crate::aggregate::bind::Binding;
use crate::aggregate::partition::MAX_PARTITIONS;
use crate::aggregate::{
    PartialChunk, Partition, Pass, ReportAggregator, RowStats, SpilledOutcome, TextHasher,
};
use crate::error::{Error, Result};
use crate::koku::report::ReportSpec;
use crate::read::projected_file::ProjectedFile;
use crate::time::EpochDay;

/// Where the decoder hands its chunks.
pub trait ChunkWriter {
    /// Heap bytes of a chunk handed over and not yet written.
    fn in_flight(&self) -> usize;
    /// Waits until the chunk in flight is written. False when the writer has failed.
    fn settle(&mut self) -> bool;
    /// Hands over a chunk without waiting for it to be written. False when the writer has failed.
    fn send(&mut self, chunk: PartialChunk) -> bool;
    /// Starts an attempt at the object's partials, reading it in `passes` passes. False when the
    /// writer has failed.
    fn begin_attempt(&mut self, passes: u32) -> bool;
    /// Drops everything written since the attempt began. False when the writer has failed.
    fn abandon_attempt(&mut self) -> bool;
}

/// What decoding an object gave.
#[derive(Debug, Clone, Default)]
pub struct Aggregated {
    pub rows: RowStats,
    /// Days any group touched.
    pub days: BTreeSet<EpochDay>,
    /// Passes over the file of the attempt that succeeded.
    pub passes: u32,
}

/// How a pass ended.
enum PassEnd {
    Done,
    /// The text stores outgrew the ceiling (groups can spill, stores cannot): their bytes and
    /// the partition keys they held then.
    Overflow {
        stores: usize,
        keys: usize,
    },
    /// The writer failed; its error is the one to report.
    WriterFailed,
}

/// Decodes `file` as `spec` into `writer`, within `budget`; the key's month is `window_ms`.
pub fn aggregate_file(
    file: &ProjectedFile,
    spec: &'static ReportSpec,
    window_ms: (i64, i64),
    budget: &MemoryBudget,
    writer: &mut impl ChunkWriter,
) -> Result<Aggregated> {
    let binding = Binding::new(spec, file.schema()).map_err(|e| Error::bad_input(file.key(), e))?;
    let batch_rows = budget.batch_rows(file.bytes_per_row());
    let hasher = TextHasher::default();
    let mut passes = 1;
    let mut keys_in_file = None;
    loop {
        let mut result = Aggregated {
            passes,
            ..Aggregated::default()
        };
        if !writer.begin_attempt(passes) {
            return Ok(result);
        }
        let mut overflow = None;
        for partition in Partition::all(passes) {
            let pass = Pass {
                partition: (passes > 1).then_some(partition),
                hasher: hasher.clone(),
            };
            let mut aggregator =
                ReportAggregator::new(spec, binding.clone(), file.key(), window_ms, &pass);
            // Each pass is measured afresh: what earlier passes freed goes back to the OS first
            // instead of counting as overhead.
            let mut meter = budget.meter();
            let run = Run {
                file,
                batch_rows,
                label_set_queue: budget.label_set_queue(),
                ceiling_mib: budget.ceiling_mib(),
            };
            match run.pass(&mut aggregator, &mut meter, writer)? {
                PassEnd::Done => {
                    let stats = aggregator.stats();
                    result.rows.rows_read += stats.rows_read;
                    result.rows.rows_anomalous += stats.rows_anomalous;
                    result.rows.rows_outside_month += stats.rows_outside_month;
                    result.days.extend(aggregator.days());
                }
                PassEnd::WriterFailed => return Ok(result),
                PassEnd::Overflow { stores, keys } => {
                    overflow = Some((stores, keys, meter.limit()));
                    break;
                }
            }
        }
        let Some((stores, keys, limit)) = overflow else {
            return Ok(result);
        };
        if !(writer.settle() && writer.abandon_attempt()) {
            return Ok(result);
        }
        let total_keys = match keys_in_file {
            Some(n) => n,
            None => {
                *keys_in_file.insert(count_partition_keys(file, &binding, &hasher, batch_rows)?)
            }
        };
        let needed = passes_needed(passes, (stores, keys), total_keys, limit);
        tracing::info!(
            key = file.key(),
            passes = needed,
            stores_bytes = stores,
            limit_bytes = limit,
            partition_keys = total_keys,
            "groups do not fit under the memory ceiling; reading the file in partitions"
        );
        if needed > MAX_PARTITIONS {
            return Err(Error::OverCeiling {
                key: file.key().to_owned(),
                ceiling_mib: budget.ceiling_mib(),
                reason: format!(
                    "the groups of {total_keys} partition keys need more than {MAX_PARTITIONS} \
                     passes over the file beside what decoding it holds"
                ),
            });
        }
        passes = needed;
    }
}

/// Passes for the next attempt: the stores seen at the overflow, scaled from the partition keys
/// they held to the partition's share of the file's, must fit in half the limit (the other half
/// for groups, which can spill to partition files); at least twice the passes that did not fit.
fn passes_needed(
    passes: u32,
    (stores, keys): (usize, usize),
    total_keys: usize,
    limit: u64,
) -> u32 {
    let keys_per_partition = total_keys as f64 / passes as f64;
    let stores_per_partition = stores as f64 * (keys_per_partition / keys.max(1) as f64).max(1.0);
    let needed = (passes as f64 * stores_per_partition * 2.0 / limit.max(1) as f64).ceil();
    (needed.min(2.0 * MAX_PARTITIONS as f64) as u32)
        .max(passes * 2)
        .next_power_of_two()
}

/// One pass's fixed inputs.
struct Run<'f> {
    file: &'f ProjectedFile,
    batch_rows: usize,
    /// Label sets waiting are handed over once they pass this many bytes.
    label_set_queue: usize,
    ceiling_mib: u64,
}

impl Run<'_> {
    fn pass(
        &self,
        aggregator: &mut ReportAggregator,
        meter: &mut MemoryMeter,
        writer: &mut impl ChunkWriter,
    ) -> Result<PassEnd> {
        let send = |writer: &mut dyn ChunkWriter, chunk: PartialChunk| {
            chunk.is_empty() || (writer.settle() && writer.send(chunk))
        };
        // Days before this are handed over already (or were never held).
        let mut handed_over = EpochDay::MIN;
        for row_group in 0..self.file.row_groups {
            aggregator.start_row_group();
            let later = self.file.first_day_after(row_group);
            for batch in self.file.row_group_batches(row_group, self.batch_rows)? {
                aggregator.push(&batch?)?;
                let settled = aggregator.settled_day().zip(later).map(|(s, l)| s.min(l));
                if let Some(day) = settled.filter(|&d| d > handed_over) {
                    handed_over = day;
                    if !send(writer, aggregator.take_days_before(day)) {
                        return Ok(PassEnd::WriterFailed);
                    }
                }
                if aggregator.new_label_sets_size() > self.label_set_queue
                    && !send(writer, aggregator.take_label_sets())
                {
                    return Ok(PassEnd::WriterFailed);
                }
                if !meter.fits((aggregator.size() + writer.in_flight()) as u64) {
                    // The chunk being written is the one part that will shrink on its own.
                    if !writer.settle() {
                        return Ok(PassEnd::WriterFailed);
                    }
                    let fits = meter.fits(aggregator.size() as u64)
                        || (aggregator.drop_label_texts() && meter.fits(aggregator.size() as u64));
                    if !fits && !self.spill(aggregator, meter)? {
                        return Ok(PassEnd::Overflow {
                            stores: aggregator.stores_size(),
                            keys: aggregator.partition_key_count(),
                        });
                    }
                }
            }
            if let Some(day) = later.filter(|&d| d > handed_over) {
                handed_over = day;
                if !send(writer, aggregator.take_days_before(day)) {
                    return Ok(PassEnd::WriterFailed);
                }
            }
        }
        if !send(writer, aggregator.take_all()) {
            return Ok(PassEnd::WriterFailed);
        }
        self.drain_spilled(aggregator, meter, writer)
    }

    /// Moves half of the groups in memory to a partition file, when the text stores leave a
    /// quarter of the limit for groups (else only more passes help). False when that is not
    /// possible.
    fn spill(&self, aggregator: &mut ReportAggregator, meter: &MemoryMeter) -> Result<bool> {
        if aggregator.stores_size() as u64 > meter.limit() / 4 * 3 {
            return Ok(false);
        }
        let spilled = aggregator.spill(self.file.dir())?;
        if spilled {
            tracing::info!(
                key = self.file.key(),
                state_bytes = aggregator.size(),
                limit_bytes = meter.limit(),
                "groups do not fit under the memory ceiling; moving half of them to a partition file"
            );
        }
        Ok(spilled)
    }

    /// Aggregates the partition files left by the pass, one at a time, splitting any whose groups
    /// do not fit.
    fn drain_spilled(
        &self,
        aggregator: &mut ReportAggregator,
        meter: &mut MemoryMeter,
        writer: &mut impl ChunkWriter,
    ) -> Result<PassEnd> {
        let mut queue = aggregator.take_spilled();
        while let Some((table, partition)) = queue.pop() {
            if partition.count > MAX_PARTITIONS {
                return Err(Error::OverCeiling {
                    key: self.file.key().to_owned(),
                    ceiling_mib: self.ceiling_mib,
                    reason: "the groups of one partition key alone do not fit".into(),
                });
            }
            if !writer.settle() {
                return Ok(PassEnd::WriterFailed);
            }
            let stores = aggregator.stores_size();
            let mut fits = |groups: usize| meter.fits((stores + groups) as u64);
            match aggregator.aggregate_spilled(table, partition, self.file.dir(), &mut fits)? {
                SpilledOutcome::Aggregated(chunk) => {
                    if !writer.send(chunk) {
                        return Ok(PassEnd::WriterFailed);
                    }
                }
                SpilledOutcome::Split(halves) => {
                    queue.extend(halves.into_iter().map(|h| (table, h)));
                }
            }
        }
        Ok(PassEnd::Done)
    }
}

/// Distinct values of the partition key in the whole file (by hash: a collision only makes the
/// count an estimate, which is all it is used as). Reads that one column.
fn count_partition_keys(
    file: &ProjectedFile,
    binding: &Binding,
    hasher: &TextHasher,
    batch_rows: usize,
) -> Result<usize> {
    let Some(name) = binding.partition_key.map(|s| binding.slots[s].name) else {
        return Ok(1);
    };
    let mut seen: FxHashSet<u64> = FxHashSet::default();
    let mut add = |value: &str| {
        seen.insert(hasher.hash(value.as_bytes()));
    };
    for row_group in 0..file.row_groups {
        for batch in file.column_batches(row_group, name, batch_rows)? {
            let batch = batch?;
            let column = batch.column(0);
            match column.data_type() {
                DataType::Dictionary(k, v) if **k == DataType::Int32 && **v == DataType::Utf8 => {
                    let dictionary = column.as_dictionary::<Int32Type>();
                    dictionary
                        .values()
                        .as_string::<i32>()
                        .iter()
                        .flatten()
                        .for_each(&mut add);
                }
                _ => {
                    let strings = arrow_cast::cast(column, &DataType::Utf8View)
                        .map_err(|e| Error::bad_input(file.key(), format!("column {name}: {e}")))?;
                    strings.as_string_view().iter().flatten().for_each(&mut add);
                }
            }
        }
    }
    Ok(seen.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_grow_with_the_keys_still_to_come() {
        let mib = 1usize << 20;
        // 100 MiB of stores for 200K of 417K pods, 80 MiB allowed: 208.5 MiB in halves of 80 MiB
        // → 6, rounded up to 8 passes.
        assert_eq!(passes_needed(1, (100 * mib, 200_000), 417_000, 80 << 20), 8);
        // Every key seen already: the stores as they were, at least doubled passes.
        assert_eq!(passes_needed(2, (30 * mib, 1000), 2000, 80 << 20), 4);
        assert_eq!(passes_needed(1, (0, 0), 0, 0), 2);
    }
}
