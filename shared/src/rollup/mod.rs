//! The roll-up: turns the partials of changed (source, day) pairs into koku's summary rows.
//!
//! Work is planned from dirty marks (scheduled runs) or from a date range (operators), split into
//! chunks of at most six days of one source and month — koku's chunking — and each chunk is replaced
//! in one transaction: delete the days' rows (koku's predicate), stage Pod and Storage rows, refresh
//! node roles, insert them and the unallocated rows, replace the days' GPU summary rows ([`gpu`]),
//! and clear exactly the marks that were read. Routing by tenant, [`tenants`] runs this in each
//! dirty tenant's schema in turn.

pub mod fanout;
pub mod gpu;
pub mod tenants;

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use tokio_postgres::Client;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::store::{Identifier, partial_tables};

const DIRTY_DAYS: &str = include_str!("../../sql/rollup/dirty_days.sql");
const DIRTY_DAYS_IN_RANGE: &str = include_str!("../../sql/rollup/dirty_days_in_range.sql");
const LOCK_SOURCE: &str = include_str!("../../sql/rollup/lock_source.sql");
const ENSURE_REPORT_PERIOD: &str = include_str!("../../sql/rollup/ensure_report_period.sql");
const ENSURE_PARTITION: &str = include_str!("../../sql/rollup/ensure_partition.sql");
const DELETE_DAYS: &str = include_str!("../../sql/rollup/delete_days.sql");
const STAGE_TABLE: &str = include_str!("../../sql/rollup/stage_table.sql");
const STAGE_ROWS: &str = include_str!("../../sql/rollup/stage_rows.sql");
const REFRESH_NODES: &str = include_str!("../../sql/rollup/refresh_nodes.sql");
const INSERT_SUMMARY_ROWS: &str = include_str!("../../sql/rollup/insert_summary_rows.sql");
const INSERT_UNALLOCATED_ROWS: &str = include_str!("../../sql/rollup/insert_unallocated_rows.sql");
const CLEAR_DIRTY: &str = include_str!("../../sql/rollup/clear_dirty.sql");
const CLEAR_DIRTY_INDEX: &str = include_str!("../../sql/control/clear_dirty_index.sql");

/// koku summarises at most six days per chunk (`date_range_pair` with step 5, bounds inclusive).
pub const MAX_DAYS_PER_CHUNK: usize = 6;

/// What a run should roll up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollupRequest {
    /// Every day marked dirty no later than `at` (the schedule's time).
    Dirty { at: DateTime<Utc> },
    /// Every day of a source in `[first, last]`, dirty or not (backfill, after enabling tag keys).
    Range {
        source: Uuid,
        first: NaiveDate,
        last: NaiveDate,
    },
}

impl RollupRequest {
    /// Every day of `source`'s month `month` (`YYYY-MM`).
    pub fn month(source: Uuid, month: &str) -> Result<Self> {
        let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
            .map_err(|_| Error::Config(format!("month {month:?} is not YYYY-MM")))?;
        let last = first
            .checked_add_months(chrono::Months::new(1))
            .and_then(|next| next.pred_opt())
            .ok_or_else(|| Error::Config(format!("month {month:?} out of range")))?;
        Ok(RollupRequest::Range {
            source,
            first,
            last,
        })
    }

    /// Every day of `source` from `first` to `last`, inclusive.
    pub fn range(source: Uuid, first: NaiveDate, last: NaiveDate) -> Result<Self> {
        if last < first {
            return Err(Error::Config(format!("empty range {first}..{last}")));
        }
        Ok(RollupRequest::Range {
            source,
            first,
            last,
        })
    }
}

/// A day to roll up, with the dirty mark's generation when it had one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayMark {
    pub source: Uuid,
    pub day: NaiveDate,
    pub generation: Option<i64>,
}

/// Days of one source and month, replaced in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub source: Uuid,
    pub days: Vec<DayMark>,
}

impl Chunk {
    /// The first and last day.
    pub fn span(&self) -> Result<(NaiveDate, NaiveDate)> {
        let days = self.days.iter().map(|m| m.day);
        days.clone()
            .min()
            .zip(days.max())
            .ok_or_else(|| Error::Internal("a roll-up chunk without days".into()))
    }

    pub fn month_start(&self) -> NaiveDate {
        let d = self.days[0].day;
        d.with_day(1).unwrap_or(d)
    }
}

/// Progress after each chunk, for logs.
#[derive(Debug, Clone)]
pub struct ChunkProgress<'a> {
    /// Routing by tenant, whose schema the chunk was in.
    pub tenant: Option<&'a Identifier>,
    pub index: usize,
    pub total: usize,
    pub chunk: &'a Chunk,
    pub rows_written: u64,
    pub elapsed_ms: u128,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RollupReport {
    pub chunks: usize,
    pub days: usize,
    pub rows_written: u64,
    pub elapsed_ms: u128,
}

/// Groups days by source and month, sorted, in chunks of at most [`MAX_DAYS_PER_CHUNK`].
pub fn plan(mut marks: Vec<DayMark>) -> Vec<Chunk> {
    marks.sort_by_key(|m| (m.source, m.day));
    marks.dedup_by_key(|m| (m.source, m.day));
    let mut by_month: BTreeMap<(Uuid, i32, u32), Vec<DayMark>> = BTreeMap::new();
    for m in marks {
        by_month
            .entry((m.source, m.day.year(), m.day.month()))
            .or_default()
            .push(m);
    }
    by_month
        .into_iter()
        .flat_map(|((source, _, _), days)| {
            days.chunks(MAX_DAYS_PER_CHUNK)
                .map(|c| Chunk {
                    source,
                    days: c.to_vec(),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The days a request covers, with their dirty generations.
pub async fn marks_for(client: &Client, request: &RollupRequest) -> Result<Vec<DayMark>> {
    let to_mark = |r: &tokio_postgres::Row| DayMark {
        source: r.get(0),
        day: r.get(1),
        generation: Some(r.get(2)),
    };
    match request {
        RollupRequest::Dirty { at } => Ok(client
            .query(DIRTY_DAYS, &[at])
            .await?
            .iter()
            .map(to_mark)
            .collect()),
        RollupRequest::Range {
            source,
            first,
            last,
        } => {
            if last < first {
                return Err(Error::Config(format!("empty date range {first}..{last}")));
            }
            let dirty: Vec<DayMark> = client
                .query(DIRTY_DAYS_IN_RANGE, &[source, first, last])
                .await?
                .iter()
                .map(to_mark)
                .collect();
            Ok(first
                .iter_days()
                .take_while(|d| d <= last)
                .map(|day| {
                    dirty
                        .iter()
                        .find(|m| m.day == day)
                        .copied()
                        .unwrap_or(DayMark {
                            source: *source,
                            day,
                            generation: None,
                        })
                })
                .collect())
        }
    }
}

/// Rolls up everything `request` covers in the connection's schema, calling `progress` after each
/// chunk.
pub async fn run(
    client: &mut Client,
    request: &RollupRequest,
    progress: impl FnMut(&ChunkProgress<'_>),
) -> Result<RollupReport> {
    run_in(client, request, None, progress).await
}

/// [`run`]; with `indexed_as`, also clears the marks it read from the control schema's index, as
/// that tenant's.
pub async fn run_in(
    client: &mut Client,
    request: &RollupRequest,
    indexed_as: Option<&Identifier>,
    mut progress: impl FnMut(&ChunkProgress<'_>),
) -> Result<RollupReport> {
    let started = Instant::now();
    let chunks = plan(marks_for(client, request).await?);
    if !chunks.is_empty() {
        client
            .batch_execute(&partial_tables::analyze_partials())
            .await?;
    }
    let mut report = RollupReport {
        chunks: chunks.len(),
        ..RollupReport::default()
    };
    for (index, chunk) in chunks.iter().enumerate() {
        let chunk_started = Instant::now();
        let rows = roll_up_chunk_in(client, chunk, indexed_as).await?;
        report.days += chunk.days.len();
        report.rows_written += rows;
        progress(&ChunkProgress {
            tenant: indexed_as,
            index,
            total: chunks.len(),
            chunk,
            rows_written: rows,
            elapsed_ms: chunk_started.elapsed().as_millis(),
        });
    }
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}

/// Replaces one chunk's summary rows; returns the rows inserted.
pub async fn roll_up_chunk(client: &mut Client, chunk: &Chunk) -> Result<u64> {
    roll_up_chunk_in(client, chunk, None).await
}

/// [`roll_up_chunk`]; with `indexed_as`, the marks cleared are also cleared from the control
/// schema's index, in the same transaction.
pub async fn roll_up_chunk_in(
    client: &mut Client,
    chunk: &Chunk,
    indexed_as: Option<&Identifier>,
) -> Result<u64> {
    let days: Vec<NaiveDate> = chunk.days.iter().map(|m| m.day).collect();
    let source = chunk.source;
    let tx = client.transaction().await?;
    tx.execute(LOCK_SOURCE, &[&source]).await?;
    let period = tx
        .query_one(ENSURE_REPORT_PERIOD, &[&source, &chunk.month_start()])
        .await?;
    let (period_id, cluster_id, cluster_alias): (i32, String, Option<String>) =
        (period.get(0), period.get(1), period.get(2));
    tx.execute(ENSURE_PARTITION, &[&chunk.month_start()])
        .await?;
    tx.execute(DELETE_DAYS, &[&period_id, &days]).await?;
    tx.batch_execute(STAGE_TABLE).await?;
    // The range lets the partials' BRIN indexes find the days.
    let (first, last) = chunk.span()?;
    tx.execute(STAGE_ROWS, &[&source, &days, &first, &last])
        .await?;
    tx.execute(REFRESH_NODES, &[&source, &days, &first, &last, &cluster_id])
        .await?;
    let summary_params: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
        [&period_id, &cluster_id, &cluster_alias, &source];
    let mut rows = tx.execute(INSERT_SUMMARY_ROWS, &summary_params).await?;
    rows += tx.execute(INSERT_UNALLOCATED_ROWS, &summary_params).await?;
    let cluster = gpu::Cluster {
        id: &cluster_id,
        alias: cluster_alias.as_deref(),
    };
    rows += gpu::replace_days(&tx, source, &days, chunk.month_start(), &cluster).await?;
    let seen: Vec<&DayMark> = chunk
        .days
        .iter()
        .filter(|m| m.generation.is_some())
        .collect();
    let sources: Vec<Uuid> = seen.iter().map(|m| m.source).collect();
    let seen_days: Vec<NaiveDate> = seen.iter().map(|m| m.day).collect();
    let generations: Vec<i64> = seen.iter().filter_map(|m| m.generation).collect();
    tx.execute(CLEAR_DIRTY, &[&sources, &seen_days, &generations])
        .await?;
    if let Some(tenant) = indexed_as {
        tx.execute(
            CLEAR_DIRTY_INDEX,
            &[&sources, &seen_days, &generations, &tenant.as_str()],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(source: u128, y: i32, m: u32, d: u32) -> DayMark {
        DayMark {
            source: Uuid::from_u128(source),
            day: NaiveDate::from_ymd_opt(y, m, d).unwrap(),
            generation: Some(1),
        }
    }

    #[test]
    fn chunks_are_per_source_and_month_and_at_most_six_days() {
        let mut marks: Vec<DayMark> = (1..=14).map(|d| mark(1, 2025, 11, d)).collect();
        marks.push(mark(1, 2025, 12, 1));
        marks.push(mark(2, 2025, 11, 3));
        marks.push(mark(1, 2025, 11, 2)); // duplicate
        let chunks = plan(marks);
        let shape: Vec<(u128, usize, NaiveDate)> = chunks
            .iter()
            .map(|c| (c.source.as_u128(), c.days.len(), c.days[0].day))
            .collect();
        let day = |m, d| NaiveDate::from_ymd_opt(2025, m, d).unwrap();
        assert_eq!(
            shape,
            [
                (1, 6, day(11, 1)),
                (1, 6, day(11, 7)),
                (1, 2, day(11, 13)),
                (1, 1, day(12, 1)),
                (2, 1, day(11, 3)),
            ]
        );
        assert_eq!(chunks[3].month_start(), day(12, 1));
    }
}
