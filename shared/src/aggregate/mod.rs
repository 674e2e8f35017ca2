//! Partial aggregation: one object's record batches in, its partial GROUP BYs out.
//!
//! Each [`AggregateSpec`](crate::koku::report::AggregateSpec) of a report is a GROUP BY over
//! (time grain, text keys) with sums, maxes and text maxima. The parts, in the order a batch meets
//! them:
//! - [`bind`]: the report bound to the file's columns, once;
//! - [`columns`]: a batch decoded, each column once: times, numbers, and text as ids of the
//!   column's store ([`texts`] for exact text, [`label_sets`] for label maps);
//! - [`groups`]: the GROUP BY state, keyed by [`group_index`];
//! - [`chunk`]: groups taken out for the writer, self-contained;
//! - [`partition`]: which groups a pass over the file aggregates, when they do not all fit.
//!
//! Days are handed over as soon as the rest of the file cannot touch them (rows come hour by hour);
//! otherwise every group stays until the end and is written once.

pub mod bind;
pub mod chunk;
pub mod columns;
pub mod group_index;
pub mod groups;
pub mod label_sets;
pub mod partition;
pub mod spill;
pub mod spilled_groups;
pub mod texts;

use std::collections::BTreeSet;
use std::path::Path;

use arrow_array::RecordBatch;

pub use chunk::{ChunkText, KeyColumn, PartialChunk, TableChunk};
pub use columns::RowStats;
pub use partition::Partition;
pub use texts::TextHasher;

use self::bind::Binding;
use self::columns::{PassFilter, Stores};
use self::groups::{GroupTable, TakenGroups};
use self::spill::{PartitionFile, Record, partition_of};
use self::spilled_groups::SpilledPartition;
use crate::error::{Error, Result};
use crate::koku::report::ReportSpec;
use crate::time::{self, EpochDay};

/// What became of a partition file.
pub enum SpilledOutcome {
    /// Its groups, each once.
    Aggregated(PartialChunk),
    /// Too many groups at once: two files of half the partition each.
    Split([SpilledPartition; 2]),
}

/// What one pass over an object aggregates.
#[derive(Clone)]
pub struct Pass {
    /// The partition of the groups this pass keeps; `None` for all of them.
    pub partition: Option<Partition>,
    /// The text hash of the object, the same for every pass.
    pub hasher: TextHasher,
}

/// Aggregates one pass over one object's batches for one report.
pub struct ReportAggregator {
    object_key: String,
    binding: Binding,
    stores: Stores,
    /// The tables this pass aggregates (all but those the first partition's pass owns).
    tables: Vec<GroupTable>,
    window_ms: (i64, i64),
    filter: PassFilter,
    stats: RowStats,
    days: BTreeSet<EpochDay>,
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

impl ReportAggregator {
    /// An aggregator of `spec` over batches with `binding`'s columns, for the object `key` of the
    /// month `window_ms` (epoch ms, `[start, end)`).
    pub fn new(
        spec: &'static ReportSpec,
        binding: Binding,
        key: &str,
        window_ms: (i64, i64),
        pass: &Pass,
    ) -> Self {
        let first = pass.partition.is_none_or(Partition::is_first);
        let tables: Vec<GroupTable> = (spec.aggregates.iter().zip(&binding.tables))
            .filter(|(_, t)| first || t.partition_position.is_some())
            .map(|(a, t)| GroupTable::new(a, t.clone()))
            .collect();
        let mut all_rows = vec![false; binding.slots.len()];
        for t in tables.iter().map(GroupTable::binding) {
            if t.partition_position.is_none() {
                for &s in t.key_slots.iter().chain(&t.text_max_slots) {
                    all_rows[s] = true;
                }
            }
        }
        ReportAggregator {
            object_key: key.to_owned(),
            stores: Stores::new(&binding, &pass.hasher),
            binding,
            tables,
            window_ms,
            filter: PassFilter {
                partition: pass.partition,
                all_rows,
            },
            stats: RowStats::default(),
            days: BTreeSet::new(),
            order: RowOrder::default(),
        }
    }

    /// Starts a row group: its rows' time order is watched afresh (see [`Self::settled_day`]).
    pub fn start_row_group(&mut self) {
        self.order = RowOrder::default();
        self.stores.start_row_group();
    }

    /// Folds a batch in. Errors name the object: the file's content is at fault.
    pub fn push(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut stats = RowStats::default();
        let decoded = columns::decode(
            batch,
            &self.binding,
            &mut self.stores,
            self.window_ms,
            &self.filter,
            &mut stats,
        )
        .map_err(|e| Error::bad_input(&self.object_key, e))?;
        // Every pass reads every row; the first counts them.
        if self.filter.partition.is_none_or(Partition::is_first) {
            self.stats = RowStats {
                rows_read: self.stats.rows_read + stats.rows_read,
                rows_anomalous: self.stats.rows_anomalous + stats.rows_anomalous,
                rows_outside_month: self.stats.rows_outside_month + stats.rows_outside_month,
            };
        }
        if let Some(first_ms) = decoded.first_ms {
            self.order.sorted &= decoded.sorted && first_ms >= self.order.latest_ms;
            self.order.latest_ms = self.order.latest_ms.max(decoded.latest_ms);
        }
        let mut last = None;
        for (&day, &ok) in decoded.days.iter().zip(&decoded.valid) {
            if ok && last != Some(day) {
                self.days.insert(day as EpochDay);
                last = Some(day);
            }
        }
        for table in &mut self.tables {
            table.push(&decoded, &self.stores)?;
        }
        Ok(())
    }

    /// While the current row group's rows have come in time order, the day of the latest: the
    /// days before it get no more rows from this row group if the rest of it is in order too.
    /// A guess, never a condition of correctness: rows of a day handed over already just become
    /// more partial rows of that day, which add up.
    pub fn settled_day(&self) -> Option<EpochDay> {
        (self.order.sorted && self.order.latest_ms != i64::MIN)
            .then(|| time::day_of_ms(self.order.latest_ms))
    }

    pub fn stats(&self) -> RowStats {
        self.stats
    }

    /// Days that any group of this pass touched.
    pub fn days(&self) -> &BTreeSet<EpochDay> {
        &self.days
    }

    /// Distinct values of the partition key (the pod) this pass has kept.
    pub fn partition_key_count(&self) -> usize {
        (self.binding.partition_key)
            .and_then(|s| self.stores.text(s))
            .map_or(0, |s| s.len())
    }

    pub fn group_count(&self) -> usize {
        self.tables.iter().map(GroupTable::len).sum()
    }

    /// Heap bytes of the aggregation state: stores, groups, label sets not yet handed over.
    pub fn size(&self) -> usize {
        self.stores.size() + self.tables.iter().map(GroupTable::size).sum::<usize>()
    }

    /// Heap bytes of the text stores alone: what stays in memory whatever is spilled.
    pub fn stores_size(&self) -> usize {
        self.stores.size()
    }

    /// Stops keeping label-map texts (the one part of the stores that is only a speed-up); false
    /// if they were not kept.
    pub fn drop_label_texts(&mut self) -> bool {
        self.stores.drop_label_texts()
    }

    /// Moves half of the groups of the largest table holding the partition key to a partition
    /// file in `dir` (see [`spill`]). False when no table can spill further.
    pub fn spill(&mut self, dir: &Path) -> Result<bool> {
        let largest = (self.tables.iter_mut())
            .filter(|t| t.binding().partition_position.is_some())
            .max_by_key(|t| t.size());
        match largest {
            Some(table) => table.spill(dir),
            None => Ok(false),
        }
    }

    /// The partition files left after the pass's last batch, each with its table's index.
    pub fn take_spilled(&mut self) -> Vec<(usize, SpilledPartition)> {
        let mut all = Vec::new();
        for (t, table) in self.tables.iter_mut().enumerate() {
            while let Some(partition) = table.take_spilled() {
                all.push((t, partition));
            }
        }
        all
    }

    /// Aggregates one partition file of table `t` on its own into a chunk. `fits` says whether
    /// the groups' bytes fit beside everything else; when they do not, the file is split in two
    /// by the next bit of the partition (in `dir`), to be aggregated in turn.
    pub fn aggregate_spilled(
        &mut self,
        t: usize,
        partition: SpilledPartition,
        dir: &Path,
        fits: &mut dyn FnMut(usize) -> bool,
    ) -> Result<SpilledOutcome> {
        let Some(spilled_from) = self.tables.get(t) else {
            return Err(Error::Internal(format!("no table {t}")));
        };
        let spec = spilled_from.spec;
        let binding = spilled_from.binding().clone();
        let records = partition.file.records();
        let mut reader = partition.file.into_records()?;
        let mut table = GroupTable::new(spec, binding.clone());
        let mut record = Record::default();
        let mut read = 0u64;
        while reader.next_into(&mut record)? {
            table.merge(&record, &self.stores);
            read += 1;
            if read.is_multiple_of(1024) && !fits(table.size()) {
                drop(table);
                reader.rewind(records)?;
                let position = binding.partition_position.map_or(1, |p| 1 + p);
                let count = partition.count * 2;
                let high = partition.residue + partition.count;
                let mut halves = [
                    PartitionFile::create(dir, reader.shape())?,
                    PartitionFile::create(dir, reader.shape())?,
                ];
                while reader.next_into(&mut record)? {
                    let half = (partition_of(record.key[position], count) == high) as usize;
                    halves[half].append(&record.key, &record.text_maxes, &record.values)?;
                }
                let [low_file, high_file] = halves;
                return Ok(SpilledOutcome::Split([
                    SpilledPartition {
                        count,
                        residue: partition.residue,
                        file: low_file,
                    },
                    SpilledPartition {
                        count,
                        residue: high,
                        file: high_file,
                    },
                ]));
            }
        }
        let groups = table.take_all();
        let b = table.binding();
        let chunk = TableChunk::new(
            spec,
            (&b.key_slots, &b.text_max_slots),
            groups,
            &self.stores,
        );
        Ok(SpilledOutcome::Aggregated(PartialChunk {
            label_sets: Vec::new(),
            tables: vec![chunk],
        }))
    }

    /// Bytes of label sets seen first and not yet handed over.
    pub fn new_label_sets_size(&mut self) -> usize {
        self.stores.label_sets_mut().new_sets_size()
    }

    /// Takes the groups of days before `day`, which the rest of the file cannot touch, with the
    /// label sets seen first so far.
    pub fn take_days_before(&mut self, day: EpochDay) -> PartialChunk {
        self.take(|t| t.take_days_before(day), false)
    }

    /// Takes every group and the label sets not yet handed over.
    pub fn take_all(&mut self) -> PartialChunk {
        self.take(GroupTable::take_all, true)
    }

    /// Takes only the label sets not yet handed over (their texts are the one part of the state
    /// that grows with the rows' variety while groups stay few).
    pub fn take_label_sets(&mut self) -> PartialChunk {
        self.take(|t| t.take_days_before(EpochDay::MIN), true)
    }

    /// Takes groups as `take` says; the new label sets go along when asked to or with groups.
    fn take(
        &mut self,
        mut take: impl FnMut(&mut GroupTable) -> TakenGroups,
        with_label_sets: bool,
    ) -> PartialChunk {
        let tables: Vec<TableChunk> = self
            .tables
            .iter_mut()
            .map(|t| {
                let groups = take(t);
                let b = t.binding();
                TableChunk::new(
                    t.spec,
                    (&b.key_slots, &b.text_max_slots),
                    groups,
                    &self.stores,
                )
            })
            .filter(|t| !t.is_empty())
            .collect();
        if !with_label_sets && tables.is_empty() {
            return PartialChunk::default();
        }
        let new_sets = self.stores.label_sets_mut().take_new_sets();
        let label_sets = (!new_sets.is_empty())
            .then_some(new_sets)
            .into_iter()
            .collect();
        PartialChunk { label_sets, tables }
    }
}

#[cfg(test)]
mod tests;
