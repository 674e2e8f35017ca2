//! Reading and writing one object at once: the fetch fills the spill file, the decoder thread reads
//! it and hands chunks over, and the writer COPYs each chunk inside the object's transaction while
//! the decoder goes on. At most one chunk is in flight, so the state plus that chunk stay within
//! the budget.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::decode::{ChunkWriter, aggregate_file};
use super::{IngestFigures, IngestSettings, Outcome};
use crate::aggregate::PartialChunk;
use crate::error::{Error, Result};
use crate::koku::layout::RawObjectKey;
use crate::koku::report::ReportSpec;
use crate::read::object_source::ObjectSource;
use crate::read::projected_file::{Fetch, ProjectedFile};
use crate::store::objects::ObjectTransaction;
use crate::time;

/// What the decoder asks of the writer, in order.
enum Command {
    /// A new attempt at the object's partials, reading the file in this many passes.
    Begin(u32),
    Chunk(PartialChunk),
    /// Drop what the attempt wrote.
    Abandon,
}

/// Fetches, decodes, aggregates and writes; returns the figures (outcome `Ingested`).
pub(super) async fn load(
    tx: &mut ObjectTransaction<'_>,
    source: &impl ObjectSource,
    raw: &RawObjectKey,
    object_id: i64,
    settings: &IngestSettings,
) -> Result<IngestFigures> {
    let started = Instant::now();
    let spec = raw.report_type.spec();
    let (file, fetch) = open_projected(source, spec, settings).await?;
    let mut figures = IngestFigures::new(source.key(), Outcome::Ingested, started);
    figures.row_groups = file.row_groups;
    figures.bytes_fetched = file.bytes_fetched;
    figures.object_size = file.object_size;
    tracing::info!(
        key = source.key(),
        object_size = file.object_size,
        row_groups = file.row_groups,
        rows = file.rows_in_file,
        "fetching projected column chunks"
    );

    // Decoding is CPU-bound: it runs on a blocking thread, reading the spill file as the fetch
    // fills it, and the writer COPYs each chunk it hands over while it goes on.
    let (commands_tx, mut commands) = mpsc::channel::<Command>(2);
    let (written_tx, written_rx) = std::sync::mpsc::sync_channel::<()>(1);
    let window = time::month_window_ms(raw.year, raw.month);
    let budget = settings.budget;
    let decoder = tokio::task::spawn_blocking(move || {
        let mut writer = ChannelWriter {
            commands: commands_tx,
            written: written_rx,
            in_flight: 0,
            waited: Duration::ZERO,
        };
        let aggregated = aggregate_file(&file, spec, window, &budget, &mut writer);
        (aggregated, file.fetch_wait(), writer.waited)
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
        let (mut rows, mut attempt_rows) = (0, 0);
        while let Some(command) = commands.recv().await {
            match command {
                Command::Begin(passes) => {
                    tx.begin_attempt(passes > 1).await?;
                    attempt_rows = 0;
                }
                Command::Abandon => {
                    tx.abandon_attempt().await?;
                    rows -= attempt_rows;
                }
                Command::Chunk(chunk) => {
                    let since = Instant::now();
                    let written = tx.write_chunk(&chunk, object_id, raw.source).await;
                    let written = written.map_err(|e| data_error_is_bad_input(e, source.key()))?;
                    tracing::debug!(
                        rows = written,
                        ms = since.elapsed().as_millis(),
                        "wrote a chunk"
                    );
                    rows += written;
                    attempt_rows += written;
                    drop(chunk);
                    let _ = written_tx.send(());
                }
            }
        }
        Ok::<_, Error>(rows)
    };
    let (fetched, written) = tokio::join!(fetched, written);
    let (aggregated, fetch_wait, write_wait) = decoder
        .await
        .map_err(|e| Error::Internal(format!("decoder thread: {e}")))?;
    // A failed fetch or write makes the decoder fail too: report the cause, not the symptom.
    figures.bytes_fetched += fetched?;
    figures.partial_rows = written?;
    let aggregated = aggregated?;
    figures.rows = aggregated.rows;
    figures.passes = aggregated.passes;
    figures.days = aggregated.days.into_iter().map(time::date_of_day).collect();
    figures.fetch_wait_ms = fetch_wait.as_millis();
    figures.write_wait_ms = write_wait.as_millis();
    Ok(figures)
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
        settings.budget.max_footer(),
    )
    .await
}

/// The decoder's end of the channel to the async COPY writer.
struct ChannelWriter {
    commands: mpsc::Sender<Command>,
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
        self.in_flight = chunk.size().max(1);
        self.commands.blocking_send(Command::Chunk(chunk)).is_ok()
    }

    fn begin_attempt(&mut self, passes: u32) -> bool {
        self.commands.blocking_send(Command::Begin(passes)).is_ok()
    }

    fn abandon_attempt(&mut self) -> bool {
        self.commands.blocking_send(Command::Abandon).is_ok()
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
