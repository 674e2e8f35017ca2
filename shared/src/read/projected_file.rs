//! Reading one Parquet object's projected columns under a fixed memory ceiling.
//!
//! The footer is fetched first (one ranged GET of the tail) and checked; then only the byte ranges of
//! the needed column chunks are streamed, concurrently, into a sparse local spill file at their own
//! offsets ([`crate::read::spill`]), and the synchronous arrow reader decodes from that file page by page,
//! waiting for pages still on their way. Peak memory is then one batch plus page buffers, whatever
//! the object's or row group's size (see `shared/notes` on why not the async reader: it buffers
//! whole column chunks of a row group).
//!
//! ```no_run
//! # async fn f(source: ocp_summary::read::object_source::LocalObject) -> ocp_summary::Result<()> {
//! use ocp_summary::read::projected_file::ProjectedFile;
//! use ocp_summary::koku::report::ReportType;
//! let spec = ReportType::PodUsage.spec();
//! let dir = std::path::Path::new("/tmp");
//! let (file, fetch) = ProjectedFile::open(&source, &spec.input_columns(), dir, 16 << 20).await?;
//! // The fetch must be driven while decoding (here: by a thread of its own for the decoder).
//! let decoder = std::thread::spawn(move || -> ocp_summary::Result<usize> {
//!     let mut rows = 0;
//!     for row_group in 0..file.row_groups {
//!         for batch in file.row_group_batches(row_group, 8192)? { rows += batch?.num_rows(); }
//!     }
//!     Ok(rows)
//! });
//! fetch.await?;
//! # let _ = decoder.join();
//! # Ok(()) }
//! ```

use std::path::Path;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Schema, SchemaRef};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::basic::Encoding;
use parquet::file::metadata::{
    ColumnChunkMetaData, FooterTail, ParquetMetaData, ParquetMetaDataReader,
};
use parquet::file::statistics::Statistics;

use super::projection::{chunk_ranges, plan_projection};
use crate::error::{Error, Result};
use crate::koku::report::InputColumn;
use crate::read::object_source::ObjectSource;
use crate::read::spill::Spill;
use crate::time;

/// Bytes of the tail fetched first; most footers fit, larger ones take a second GET.
const TAIL_GUESS: u64 = 64 * 1024;
const FOOTER_LEN: u64 = 8;
/// Requests in flight at most: enough for every projected column of a row group.
const MAX_FETCH_CONCURRENCY: usize = 32;

/// The fetch of an object's projected column chunks; resolves to the bytes fetched.
pub type Fetch<'a> = BoxFuture<'a, Result<u64>>;

/// The projected column chunks of one object, on local disk, with the decoded footer.
pub struct ProjectedFile {
    key: String,
    spill: Spill,
    /// Where the spill file is: local disk for anything else an object needs on disk.
    dir: std::path::PathBuf,
    metadata: Arc<ParquetMetaData>,
    /// The type each column is read as; text columns as dictionaries unless a row group's chunk
    /// holds plain pages (see [`Self::reader_metadata`]).
    hint: SchemaRef,
    /// The projected text columns: field index in `hint`, leaf index.
    text_columns: Vec<(usize, usize)>,
    leaves: Vec<usize>,
    /// The columns of every batch, in order (types as in `hint`).
    schema: SchemaRef,
    pub object_size: u64,
    pub bytes_fetched: u64,
    pub row_groups: usize,
    pub rows_in_file: u64,
    /// Per row group, the earliest time (epoch ms) its statistics claim, if they do.
    first_times_ms: Vec<Option<i64>>,
}

impl ProjectedFile {
    /// Fetches and checks the footer, and returns the file with the fetch of the chunks of
    /// `columns` (name, required) into a spill file in `dir`. The fetch must be driven while the
    /// file is decoded (on another thread): reads wait for their bytes. Dropping the file stops the
    /// fetch. `bytes_fetched` counts the footer's request only. `max_footer` bounds the footer's
    /// size, the one part that must be held in memory whole.
    pub async fn open<'a, S: ObjectSource>(
        source: &'a S,
        columns: &[InputColumn],
        dir: &Path,
        max_footer: u64,
    ) -> Result<(Self, Fetch<'a>)> {
        let key = source.key().to_owned();
        let bad = |reason: String| Error::bad_input(&key, reason);
        let size = source.size();
        if size < 12 {
            return Err(bad(format!("not a Parquet file: only {size} bytes")));
        }

        let tail_len = size.min(TAIL_GUESS);
        let mut tail = read_all(source, size - tail_len..size).await?;
        let footer: &[u8; 8] = tail[tail.len() - 8..]
            .try_into()
            .map_err(|_| bad("truncated footer".into()))?;
        let footer = FooterTail::try_new(footer)
            .map_err(|e| bad(format!("not a Parquet file (no PAR1 footer): {e}")))?;
        if footer.is_encrypted_footer() {
            return Err(bad("encrypted Parquet footers are not supported".into()));
        }
        let metadata_len = footer.metadata_length() as u64;
        if metadata_len + FOOTER_LEN + 4 > size {
            return Err(bad(format!(
                "truncated: footer says {metadata_len} bytes of metadata in a {size} byte object"
            )));
        }
        if metadata_len > max_footer {
            return Err(Error::OverCeiling {
                key: key.clone(),
                ceiling_mib: max_footer >> 20,
                reason: format!("footer metadata is {metadata_len} bytes"),
            });
        }
        let metadata_start = size - FOOTER_LEN - metadata_len;
        if metadata_len + FOOTER_LEN > tail_len {
            let rest = read_all(source, metadata_start..size - tail_len).await?;
            tail.splice(0..0, rest);
        }
        let tail_start = size - tail.len() as u64;
        let metadata_bytes = &tail[(metadata_start - tail_start) as usize..tail.len() - 8];
        let metadata = guarded(&key, "footer", || {
            ParquetMetaDataReader::decode_metadata(metadata_bytes)
        })?
        .map_err(|e| bad(format!("corrupt Parquet footer: {e}")))?;
        let metadata = Arc::new(metadata);

        let projection = plan_projection(&metadata, columns).map_err(bad)?;
        let first_times_ms = match projection.time {
            Some((leaf, field)) => {
                first_times_ms(&metadata, leaf, projection.hint.field(field).data_type())
            }
            None => vec![None; metadata.num_row_groups()],
        };
        // Checks the types once, before anything is fetched.
        let options = ArrowReaderOptions::new().with_schema(Arc::clone(&projection.hint));
        guarded(&key, "schema", || {
            ArrowReaderMetadata::try_new(Arc::clone(&metadata), options)
        })?
        .map_err(|e| bad(format!("unsupported column types: {e}")))?;

        // The tail already fetched covers the end of the data; fetch only what lies before it.
        let ranges: Vec<_> = chunk_ranges(&metadata, &projection.leaves, metadata_start)
            .map_err(bad)?
            .into_iter()
            .filter_map(|r| (r.start < tail_start).then(|| r.start..r.end.min(tail_start)))
            .collect();
        let spill = Spill::create(dir, size, &tail, ranges)?;
        let concurrency = (projection.leaves.len() + 1).min(MAX_FETCH_CONCURRENCY);
        let fetch = Box::pin(spill.fetch(source, concurrency)?);

        let file = ProjectedFile {
            key,
            spill,
            dir: dir.to_owned(),
            object_size: size,
            bytes_fetched: tail.len() as u64,
            row_groups: metadata.num_row_groups(),
            rows_in_file: metadata.file_metadata().num_rows().max(0) as u64,
            hint: projection.hint,
            text_columns: projection.text_columns,
            leaves: projection.leaves,
            schema: projection.schema,
            metadata,
            first_times_ms,
        };
        Ok((file, fetch))
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// The local directory of the object's spill file.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The columns of every batch, in order.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Uncompressed bytes per row of the projected columns, as the footer counts them.
    pub fn bytes_per_row(&self) -> u64 {
        let bytes: i64 = (self.metadata.row_groups().iter())
            .flat_map(|rg| {
                self.leaves
                    .iter()
                    .map(|&l| rg.column(l).uncompressed_size())
            })
            .sum();
        (bytes.max(0) as u64) / self.rows_in_file.max(1)
    }

    /// Decodes one row group's projected columns in batches of `batch_size` rows. Decode errors
    /// name the object.
    pub fn row_group_batches(
        &self,
        row_group: usize,
        batch_size: usize,
    ) -> Result<impl Iterator<Item = Result<RecordBatch>> + use<>> {
        let projection = ProjectionMask::leaves(
            self.metadata.file_metadata().schema_descr(),
            self.leaves.iter().copied(),
        );
        self.batches(row_group, projection, batch_size)
    }

    /// Decodes one projected column of a row group, alone (e.g. to count the values of a key).
    pub fn column_batches(
        &self,
        row_group: usize,
        column: &str,
        batch_size: usize,
    ) -> Result<impl Iterator<Item = Result<RecordBatch>> + use<>> {
        let leaf = (self.text_columns.iter())
            .find(|&&(field, _)| self.hint.field(field).name() == column)
            .map(|&(_, leaf)| leaf)
            .ok_or_else(|| Error::Internal(format!("{column} is not a projected text column")))?;
        let projection =
            ProjectionMask::leaves(self.metadata.file_metadata().schema_descr(), [leaf]);
        self.batches(row_group, projection, batch_size)
    }

    fn batches(
        &self,
        row_group: usize,
        projection: ProjectionMask,
        batch_size: usize,
    ) -> Result<impl Iterator<Item = Result<RecordBatch>> + use<>> {
        let key = self.key.clone();
        let spill = self.spill.reader()?;
        let metadata = self.reader_metadata(row_group)?;
        let mut reader = guarded(&key, "row group", || {
            ParquetRecordBatchReaderBuilder::new_with_metadata(spill, metadata)
                .with_projection(projection)
                .with_row_groups(vec![row_group])
                .with_batch_size(batch_size)
                .build()
        })?
        .map_err(|e| Error::bad_input(&key, format!("cannot decode: {e}")))?;
        Ok(std::iter::from_fn(move || {
            let batch = match guarded(&key, "column data", || reader.next()) {
                Ok(batch) => batch?,
                Err(e) => return Some(Err(e)),
            };
            Some(batch.map_err(|e| Error::bad_input(&key, format!("corrupt column data: {e}"))))
        }))
    }

    /// The reader's view of a row group: a text column whose chunk is dictionary-encoded
    /// throughout is read as a dictionary (its values are interned once per dictionary); one with
    /// plain pages (pyarrow falls back to plain once the dictionary passes 1 MiB) as string views,
    /// which point into the pages instead of building a dictionary row by row.
    fn reader_metadata(&self, row_group: usize) -> Result<ArrowReaderMetadata> {
        let rg = self.metadata.row_group(row_group);
        let fields: Vec<_> = (self.hint.fields().iter().enumerate())
            .map(
                |(i, f)| match self.text_columns.iter().find(|&&(field, _)| field == i) {
                    Some(&(_, leaf)) if !all_dictionary(rg.column(leaf)) => {
                        Arc::new(f.as_ref().clone().with_data_type(DataType::Utf8View))
                    }
                    _ => Arc::clone(f),
                },
            )
            .collect();
        let options = ArrowReaderOptions::new().with_schema(Arc::new(Schema::new(fields)));
        guarded(&self.key, "schema", || {
            ArrowReaderMetadata::try_new(Arc::clone(&self.metadata), options)
        })?
        .map_err(|e| Error::bad_input(&self.key, format!("unsupported column types: {e}")))
    }

    /// How long decoding has waited for column chunks still being fetched.
    pub fn fetch_wait(&self) -> std::time::Duration {
        self.spill.waited()
    }

    /// The first day (since the epoch) that the row groups after `row_group` may hold, by their
    /// statistics: days before it are complete once `row_group` is read (`i32::MAX` after the last
    /// row group). `None` if a later row group has no usable statistics. Statistics that lie cost
    /// extra partial rows, never wrong sums: partials of one day from several chunks add up.
    pub fn first_day_after(&self, row_group: usize) -> Option<time::EpochDay> {
        let later = self.first_times_ms.get(row_group + 1..).unwrap_or_default();
        later.iter().try_fold(time::EpochDay::MAX, |min, t| {
            t.map(|t| min.min(time::day_of_ms(t)))
        })
    }
}

/// Whether every data page of a column chunk is dictionary-encoded, by its encoding statistics.
fn all_dictionary(chunk: &ColumnChunkMetaData) -> bool {
    chunk.dictionary_page_offset().is_some()
        && chunk.page_encoding_stats_mask().is_some_and(|mask| {
            mask.is_only(Encoding::RLE_DICTIONARY) || mask.is_only(Encoding::PLAIN_DICTIONARY)
        })
}

/// Runs a call into the Parquet decoder, turning a panic on malformed input (the fuzzer found some,
/// e.g. definition levels pointing past a page) into the object's bad-input error instead of a
/// crashed invocation that the platform would retry forever.
fn guarded<T>(key: &str, what: &str, call: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)).map_err(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Error::bad_input(
            key,
            format!("corrupt {what}: the decoder failed: {message}"),
        )
    })
}

/// Per row group, the minimum of the time column from its statistics, in epoch milliseconds.
fn first_times_ms(
    metadata: &ParquetMetaData,
    leaf: usize,
    data_type: &DataType,
) -> Vec<Option<i64>> {
    metadata
        .row_groups()
        .iter()
        .map(|rg| match rg.column(leaf).statistics()? {
            Statistics::Int64(s) => s
                .min_opt()
                .and_then(|&v| time::raw_time_to_ms(v, data_type)),
            Statistics::Int32(s) => s
                .min_opt()
                .and_then(|&v| time::raw_time_to_ms(v as i64, data_type)),
            _ => None,
        })
        .collect()
}

async fn read_all(source: &impl ObjectSource, range: std::ops::Range<u64>) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity((range.end - range.start) as usize);
    let mut stream = source.read_range(range).await?;
    while let Some(piece) = stream.next().await {
        out.extend_from_slice(&piece?);
    }
    Ok(out)
}
