//! One S3 event record in, one object's partials out: the whole ingest flow, free of Lambda types.
//!
//! classify key → lock the key and compare versions → fetch footer and projected chunks → decode and
//! aggregate on a blocking thread, flushing chunks to COPY whenever the state reaches its budget →
//! stamp the version and mark its days dirty → commit. Any failure before the commit leaves nothing.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use tokio::sync::mpsc;

use crate::aggregate::{PartialChunk, ReportAggregator, RowStats, month_window_ms};
use crate::bounded_reader::{Fetch, ProjectedFile};
use crate::error::{Error, Result};
use crate::layout::{KeyKind, RawObjectKey, classify};
use crate::object_source::ObjectSource;
use crate::report::ReportSpec;
use crate::store::Database;
use crate::store::copy::epoch_day;
use crate::store::partials::{Decision, ObjectEvent, ObjectTransaction, VersionStats};

/// Limits that keep the process under its memory ceiling.
#[derive(Debug, Clone)]
pub struct IngestSettings {
    /// Peak RSS the whole process must stay under.
    pub memory_ceiling: u64,
    /// Where projected column chunks are spilled (Lambda's `/tmp`).
    pub spill_dir: PathBuf,
    pub batch_size: usize,
    /// Bytes (as estimated) of aggregation state plus the chunk being written. They live beside
    /// the runtime, SDK clients, decode buffers and allocator slack (about 30 MiB together), so
    /// `from_env` gives them 30% of the ceiling. Flushing early costs more partial rows, so the
    /// budget is as large as the ceiling allows.
    pub state_budget: usize,
}

impl IngestSettings {
    /// `MEMORY_CEILING_MIB` (default 128), `SPILL_DIR` (default the system temp dir).
    pub fn from_env() -> Result<Self> {
        let mib =
            match std::env::var("MEMORY_CEILING_MIB") {
                Ok(v) => v.parse::<u64>().ok().filter(|m| *m >= 64).ok_or_else(|| {
                    Error::Config(format!("MEMORY_CEILING_MIB={v:?}: a number ≥ 64"))
                })?,
                Err(_) => 128,
            };
        let spill_dir = std::env::var_os("SPILL_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        Ok(IngestSettings {
            memory_ceiling: mib << 20,
            spill_dir,
            batch_size: 16 * 1024,
            state_budget: ((mib << 20) * 3 / 10) as usize,
        })
    }

    /// The footer is the one structure held whole; it must leave room for everything else.
    pub fn max_footer(&self) -> u64 {
        self.memory_ceiling / 8
    }
}

/// What happened to an event record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ingested,
    Removed,
    /// Redelivery or identical content: nothing changed.
    AlreadyCurrent,
    /// Older than the stored version: ignored.
    Stale,
    /// Not a raw OCP Parquet key.
    Skipped(&'static str),
    /// The object changed or vanished since the event; a newer event follows.
    Superseded(String),
    /// Bad for good: recorded in `ocp_ingest_error`, nothing written.
    Rejected(String),
}

/// Figures of one record, for the log line and the metrics record.
#[derive(Debug, Clone)]
pub struct IngestReport {
    pub key: String,
    pub outcome: Outcome,
    pub rows: RowStats,
    pub row_groups: usize,
    pub bytes_fetched: u64,
    pub object_size: u64,
    pub partial_rows: u64,
    pub flushes: u32,
    pub days: Vec<NaiveDate>,
    pub elapsed_ms: u128,
    /// Where decoding waited: for column chunks still being fetched, and for the database to
    /// take the previous chunk (a busy database shows here).
    pub fetch_wait_ms: u128,
    pub write_wait_ms: u128,
}

impl IngestReport {
    fn new(key: &str, outcome: Outcome, started: Instant) -> Self {
        IngestReport {
            key: key.to_owned(),
            outcome,
            rows: RowStats::default(),
            row_groups: 0,
            bytes_fetched: 0,
            object_size: 0,
            partial_rows: 0,
            flushes: 0,
            days: Vec::new(),
            elapsed_ms: started.elapsed().as_millis(),
            fetch_wait_ms: 0,
            write_wait_ms: 0,
        }
    }
}

/// Handles one event record. `open` binds to the object version (S3 in production); it is only
/// called when the object must be read.
pub async fn ingest_object<S, F, Fut>(
    db: &Database,
    event: &ObjectEvent,
    open: F,
    settings: &IngestSettings,
) -> Result<IngestReport>
where
    S: ObjectSource,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<S>>,
{
    let started = Instant::now();
    let raw = match classify(&event.key) {
        KeyKind::Skip(why) => {
            tracing::info!(key = %event.key, reason = why, "skipping object");
            return Ok(IngestReport::new(
                &event.key,
                Outcome::Skipped(why),
                started,
            ));
        }
        KeyKind::Raw(raw) => raw,
    };
    let mut client = db.client().await?;
    let mut tx = ObjectTransaction::begin(&mut client, event).await?;
    match tx.decision() {
        Decision::Stale => {
            tx.rollback().await?;
            return Ok(IngestReport::new(&event.key, Outcome::Stale, started));
        }
        Decision::AlreadyCurrent => {
            tx.touch().await?;
            return Ok(IngestReport::new(
                &event.key,
                Outcome::AlreadyCurrent,
                started,
            ));
        }
        Decision::Remove => {
            tx.remove().await?;
            return Ok(IngestReport::new(&event.key, Outcome::Removed, started));
        }
        Decision::Ingest => {}
    }

    let report_type = raw.report_type.path_segment();
    let object_id = tx
        .replace_previous("present", report_type, raw.source)
        .await?;
    let result = async {
        let source = open().await?;
        load(&mut tx, &source, &raw, object_id, settings).await
    }
    .await;
    let mut report = match result {
        Ok(report) => report,
        Err(Error::Superseded { what, .. }) => {
            tx.rollback().await?;
            tracing::info!(key = %event.key, what, "object changed since the event; skipping");
            return Ok(IngestReport::new(
                &event.key,
                Outcome::Superseded(what.into()),
                started,
            ));
        }
        Err(e) if e.is_permanent() => {
            tx.rollback().await?;
            let reason = e.to_string();
            // A fresh transaction: the version may have moved on while we read.
            let tx = ObjectTransaction::begin(&mut client, event).await?;
            if tx.decision() == Decision::Ingest {
                tx.fail(report_type, raw.source, &reason).await?;
            } else {
                tx.rollback().await?;
            }
            tracing::warn!(key = %event.key, reason = %reason, "rejected bad object");
            return Ok(IngestReport::new(
                &event.key,
                Outcome::Rejected(reason),
                started,
            ));
        }
        Err(e) => {
            tx.rollback().await.ok();
            return Err(e);
        }
    };
    tx.finish(
        report_type,
        raw.source,
        &report.days,
        VersionStats {
            rows_read: report.rows.rows_read,
            partial_rows: report.partial_rows,
            bytes_fetched: report.bytes_fetched,
            object_size: report.object_size,
        },
    )
    .await?;
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}

/// Fetches, decodes, aggregates and writes; returns the figures (outcome `Ingested`).
async fn load(
    tx: &mut ObjectTransaction<'_>,
    source: &impl ObjectSource,
    raw: &RawObjectKey,
    object_id: i64,
    settings: &IngestSettings,
) -> Result<IngestReport> {
    let started = Instant::now();
    let spec = raw.report_type.spec();
    let (file, fetch) = open_projected(source, spec, settings).await?;
    let mut report = IngestReport::new(source.key(), Outcome::Ingested, started);
    report.row_groups = file.row_groups;
    report.bytes_fetched = file.bytes_fetched;
    report.object_size = file.object_size;
    tracing::info!(
        key = source.key(),
        object_size = file.object_size,
        row_groups = file.row_groups,
        rows = file.rows_in_file,
        "fetching projected column chunks"
    );

    // Decoding is CPU-bound: it runs on a blocking thread, reading the spill file as the fetch
    // fills it, and the writer COPYs each chunk it hands over while it goes on (see
    // `aggregate_file` for the memory bound).
    let (chunks_tx, mut chunks_rx) = mpsc::channel::<PartialChunk>(1);
    let (written_tx, written_rx) = std::sync::mpsc::sync_channel::<()>(1);
    let key = source.key().to_owned();
    let window = month_window_ms(raw.year, raw.month);
    let limits = (settings.batch_size, settings.state_budget);
    let decoder = tokio::task::spawn_blocking(move || -> Result<Decoded> {
        let mut aggregator = ReportAggregator::new(spec, &key, window);
        let mut writer = ChannelWriter {
            chunks: chunks_tx,
            written: written_rx,
            in_flight: 0,
            waited: Duration::ZERO,
        };
        aggregate_file(&file, &mut aggregator, limits, &mut writer)?;
        Ok(Decoded {
            rows: aggregator.stats(),
            days: aggregator.days().iter().copied().collect(),
            fetch_wait: file.fetch_wait(),
            write_wait: writer.waited,
        })
    });

    let fetched = async {
        let fetched = fetch.await;
        if let Ok(bytes) = &fetched {
            tracing::info!(key = source.key(), bytes, "fetched projected column chunks");
        }
        fetched
    };
    let written = async {
        // Leaving this block drops both channel ends, which stops the decoder on a write error.
        let written_tx = written_tx;
        while let Some(chunk) = chunks_rx.recv().await {
            let since = Instant::now();
            let rows = tx.write_chunk(&chunk, object_id, raw.source).await;
            let rows = rows.map_err(|e| data_error_is_bad_input(e, source.key()))?;
            tracing::debug!(rows, ms = since.elapsed().as_millis(), "wrote a chunk");
            report.partial_rows += rows;
            report.flushes += 1;
            drop(chunk);
            let _ = written_tx.send(());
        }
        Ok::<_, Error>(())
    };
    let (fetched, written) = tokio::join!(fetched, written);
    let decoded = decoder
        .await
        .map_err(|e| Error::Internal(format!("decoder thread: {e}")))?;
    // A failed fetch or write makes the decoder fail too: report the cause, not the symptom.
    report.bytes_fetched += fetched?;
    written?;
    let decoded = decoded?;
    report.rows = decoded.rows;
    report.days = decoded
        .days
        .into_iter()
        .map(|d| epoch_day(d as i64))
        .collect();
    report.fetch_wait_ms = decoded.fetch_wait.as_millis();
    report.write_wait_ms = decoded.write_wait.as_millis();
    Ok(report)
}

/// What the decoder thread returns.
struct Decoded {
    rows: RowStats,
    /// Days since the epoch that any group touched.
    days: Vec<i32>,
    fetch_wait: Duration,
    write_wait: Duration,
}

/// Reads the footer and sets up the fetch of the column chunks `spec` reads, within `settings`'
/// limits: the read every path through ingest shares (see [`ProjectedFile::open`]).
pub async fn open_projected<'a, S: ObjectSource>(
    source: &'a S,
    spec: &ReportSpec,
    settings: &IngestSettings,
) -> Result<(ProjectedFile, Fetch<'a>)> {
    ProjectedFile::open(
        source,
        &spec.input_columns(),
        &settings.spill_dir,
        settings.max_footer(),
    )
    .await
}

/// Like [`open_projected`], with every column chunk fetched before decoding starts: for local
/// sources, where nothing would drive the fetch meanwhile.
pub async fn fetch_projected(
    source: &impl ObjectSource,
    spec: &ReportSpec,
    settings: &IngestSettings,
) -> Result<ProjectedFile> {
    let (mut file, fetch) = open_projected(source, spec, settings).await?;
    file.bytes_fetched += fetch.await?;
    Ok(file)
}

/// Where the decoder hands its chunks.
pub trait ChunkWriter {
    /// Heap bytes of a chunk handed over and not yet written.
    fn in_flight(&self) -> usize;
    /// Waits until the chunk in flight is written. False when the writer has failed.
    fn settle(&mut self) -> bool;
    /// Hands over a chunk without waiting for it to be written. False when the writer has failed.
    fn send(&mut self, chunk: PartialChunk) -> bool;
}

/// Decodes `file` row group by row group into `aggregator`, handing chunks to `writer` so they are
/// written while decoding goes on: the days that are complete (before both the row group's latest
/// day while its rows come in time order, and the first day a later row group holds), and
/// whatever the state holds when it outgrows the budget. The state plus the chunk in flight stay
/// within `budget`: a chunk is only handed over once the previous one is written.
pub fn aggregate_file(
    file: &ProjectedFile,
    aggregator: &mut ReportAggregator,
    (batch_size, budget): (usize, usize),
    writer: &mut impl ChunkWriter,
) -> Result<()> {
    let send = |writer: &mut dyn ChunkWriter, chunk: PartialChunk| {
        chunk.group_count() == 0 || (writer.settle() && writer.send(chunk))
    };
    // Days before this are handed over already (or were never held).
    let mut handed_over = i32::MIN;
    // Hands over the days before `day` unless they were already; false if the writer failed.
    let mut hand_over =
        |day: Option<i32>, aggregator: &mut ReportAggregator, writer: &mut dyn ChunkWriter| {
            match day {
                Some(day) if day > handed_over => {
                    handed_over = day;
                    send(writer, aggregator.take_days_before(day))
                }
                _ => true,
            }
        };
    for row_group in 0..file.row_groups {
        aggregator.start_row_group();
        let later = file.first_day_after(row_group);
        for batch in file.row_group_batches(row_group, batch_size)? {
            aggregator.push(&batch?)?;
            let settled = aggregator.settled_day().zip(later).map(|(s, l)| s.min(l));
            if !hand_over(settled, aggregator, writer) {
                return Ok(()); // the writer failed; its error is reported
            }
            if aggregator.state_bytes() + writer.in_flight() > budget {
                if !writer.settle() {
                    return Ok(());
                }
                if aggregator.state_bytes() > budget && !send(writer, aggregator.take_chunk()) {
                    return Ok(());
                }
            }
        }
        if !hand_over(later, aggregator, writer) {
            return Ok(());
        }
    }
    send(writer, aggregator.take_chunk());
    Ok(())
}

/// The decoder's end of the channel to the async COPY writer.
struct ChannelWriter {
    chunks: mpsc::Sender<PartialChunk>,
    written: std::sync::mpsc::Receiver<()>,
    in_flight: usize,
    /// Time spent waiting for chunks to be written.
    waited: Duration,
}

impl ChunkWriter for ChannelWriter {
    fn in_flight(&self) -> usize {
        self.in_flight
    }

    fn settle(&mut self) -> bool {
        if self.in_flight == 0 {
            return true;
        }
        self.in_flight = 0;
        let since = Instant::now();
        let written = self.written.recv().is_ok();
        self.waited += since.elapsed();
        written
    }

    fn send(&mut self, chunk: PartialChunk) -> bool {
        // Counted even when empty of bytes, so the next send waits for its acknowledgement.
        self.in_flight = chunk.heap_bytes().max(1);
        self.chunks.blocking_send(chunk).is_ok()
    }
}

/// PostgreSQL refusing a value (SQLSTATE class 22, e.g. text jsonb will not hold) is the file's
/// fault, not a transient one: retrying would fail forever.
fn data_error_is_bad_input(e: Error, key: &str) -> Error {
    if let Error::Postgres(pg) = &e
        && let Some(code) = pg.code()
        && code.code().starts_with("22")
    {
        return Error::bad_input(key, format!("value refused by PostgreSQL: {pg}"));
    }
    e
}
