//! Reading one Parquet object's projected columns under a fixed memory ceiling.
//!
//! The footer is fetched first (one ranged GET of the tail) and checked; then only the byte ranges of
//! the needed column chunks are streamed, concurrently, into a sparse local spill file at their own
//! offsets ([`crate::spill`]), and the synchronous arrow reader decodes from that file page by page,
//! waiting for pages still on their way. Peak memory is then one batch plus page buffers, whatever
//! the object's or row group's size (see `shared/notes` on why not the async reader: it buffers
//! whole column chunks of a row group).
//!
//! ```no_run
//! # async fn f(source: ocp_summary::object_source::LocalObject) -> ocp_summary::Result<()> {
//! use ocp_summary::bounded_reader::ProjectedFile;
//! use ocp_summary::report::ReportType;
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
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::basic::Type as PhysicalType;
use parquet::file::metadata::{FooterTail, ParquetMetaData, ParquetMetaDataReader};
use parquet::file::statistics::Statistics;

use crate::error::{Error, Result};
use crate::object_source::ObjectSource;
use crate::report::{ColumnKind, InputColumn};
use crate::spill::Spill;

/// Bytes of the tail fetched first; most footers fit, larger ones take a second GET.
const TAIL_GUESS: u64 = 64 * 1024;
const FOOTER_LEN: u64 = 8;
/// Column chunks closer than this are fetched as one request, while it stays under
/// [`MERGE_LIMIT`]: small chunks share a request, large ones get their own so that every column of a
/// row group arrives at once and decoding can start on its first pages.
const MERGE_GAP: u64 = 64 * 1024;
const MERGE_LIMIT: u64 = 1 << 20;
/// Requests in flight at most: enough for every projected column of a row group.
const MAX_FETCH_CONCURRENCY: usize = 32;

/// The fetch of an object's projected column chunks; resolves to the bytes fetched.
pub type Fetch<'a> = BoxFuture<'a, Result<u64>>;

/// The projected column chunks of one object, on local disk, with the decoded footer.
pub struct ProjectedFile {
    key: String,
    spill: Spill,
    metadata: ArrowReaderMetadata,
    projection: ProjectionMask,
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

        let (leaves, time_leaf, hint) = plan_projection(&metadata, columns).map_err(bad)?;
        let first_times_ms = match time_leaf {
            Some((leaf, field)) => first_times_ms(&metadata, leaf, hint.field(field).data_type()),
            None => vec![None; metadata.num_row_groups()],
        };
        let options = ArrowReaderOptions::new().with_schema(hint);
        let arrow_metadata = guarded(&key, "schema", || {
            ArrowReaderMetadata::try_new(Arc::clone(&metadata), options)
        })?
        .map_err(|e| bad(format!("unsupported column types: {e}")))?;
        let projection = ProjectionMask::leaves(
            metadata.file_metadata().schema_descr(),
            leaves.iter().copied(),
        );

        // The tail already fetched covers the end of the data; fetch only what lies before it.
        let ranges: Vec<_> = chunk_ranges(&metadata, &leaves, metadata_start)
            .map_err(bad)?
            .into_iter()
            .filter_map(|r| (r.start < tail_start).then(|| r.start..r.end.min(tail_start)))
            .collect();
        let spill = Spill::create(dir, size, &tail, ranges)?;
        let fetch = Box::pin(spill.fetch(source, (leaves.len() + 1).min(MAX_FETCH_CONCURRENCY))?);

        let file = ProjectedFile {
            key,
            spill,
            projection,
            object_size: size,
            bytes_fetched: tail.len() as u64,
            row_groups: metadata.num_row_groups(),
            rows_in_file: metadata.file_metadata().num_rows().max(0) as u64,
            metadata: arrow_metadata,
            first_times_ms,
        };
        Ok((file, fetch))
    }

    /// Decodes one row group's projected columns in batches of `batch_size` rows. Decode errors
    /// name the object.
    pub fn row_group_batches(
        &self,
        row_group: usize,
        batch_size: usize,
    ) -> Result<impl Iterator<Item = Result<RecordBatch>> + use<>> {
        let key = self.key.clone();
        let spill = self.spill.reader()?;
        let mut reader = guarded(&key, "row group", || {
            ParquetRecordBatchReaderBuilder::new_with_metadata(spill, self.metadata.clone())
                .with_projection(self.projection.clone())
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

    /// How long decoding has waited for column chunks still being fetched.
    pub fn fetch_wait(&self) -> std::time::Duration {
        self.spill.waited()
    }

    /// The first day (since the epoch) that the row groups after `row_group` may hold, by their
    /// statistics: days before it are complete once `row_group` is read (`i32::MAX` after the last
    /// row group). `None` if a later row group has no usable statistics. Statistics that lie cost
    /// extra partial rows, never wrong sums: partials of one day from several chunks add up.
    pub fn first_day_after(&self, row_group: usize) -> Option<i32> {
        let later = self.first_times_ms.get(row_group + 1..).unwrap_or_default();
        later.iter().try_fold(i32::MAX, |min, t| {
            t.map(|t| min.min(t.div_euclid(86_400_000) as i32))
        })
    }
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
    let to_ms = |v: i64| -> Option<i64> {
        match data_type {
            DataType::Timestamp(TimeUnit::Second, _) => v.checked_mul(1000),
            DataType::Timestamp(TimeUnit::Millisecond, _) | DataType::Date64 => Some(v),
            DataType::Timestamp(TimeUnit::Microsecond, _) => Some(v.div_euclid(1000)),
            DataType::Timestamp(TimeUnit::Nanosecond, _) => Some(v.div_euclid(1_000_000)),
            DataType::Date32 => v.checked_mul(86_400_000),
            _ => None,
        }
    };
    metadata
        .row_groups()
        .iter()
        .map(|rg| match rg.column(leaf).statistics()? {
            Statistics::Int64(s) => s.min_opt().and_then(|&v| to_ms(v)),
            Statistics::Int32(s) => s.min_opt().and_then(|&v| to_ms(v as i64)),
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

/// The leaves to read, the time column's leaf and field index, and the reader's schema hint.
type Projection = (Vec<usize>, Option<(usize, usize)>, Arc<Schema>);

/// Finds each wanted top-level column's leaf, checks its type, and builds the reader's schema hint.
fn plan_projection(
    metadata: &ParquetMetaData,
    columns: &[InputColumn],
) -> Result<Projection, String> {
    let descr = metadata.file_metadata().schema_descr();
    let inferred = parquet::arrow::parquet_to_arrow_schema(
        descr,
        metadata.file_metadata().key_value_metadata(),
    )
    .map_err(|e| format!("unreadable schema: {e}"))?;

    let mut leaves = Vec::new();
    let mut time_leaf = None;
    let mut missing = Vec::new();
    let mut fields: Vec<Field> = inferred
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    for &InputColumn {
        name,
        kind,
        required,
    } in columns
    {
        let matching: Vec<usize> = descr
            .columns()
            .iter()
            .enumerate()
            .filter(|(_, c)| c.path().parts().first().map(String::as_str) == Some(name))
            .map(|(i, _)| i)
            .collect();
        let Some(field_index) = fields.iter().position(|f| f.name() == name) else {
            if required {
                missing.push(name);
            }
            continue;
        };
        let [leaf] = matching[..] else {
            return Err(format!("column {name} is nested; expected a flat column"));
        };
        let field = &fields[field_index];
        let physical = descr.column(leaf).physical_type();
        let data_type = field.data_type();
        let wrong = || format!("column {name} has type {data_type}, expected {kind:?}");
        let new_type = match kind {
            ColumnKind::Time => match data_type {
                DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => {
                    time_leaf = Some((leaf, field_index));
                    None
                }
                _ => return Err(wrong()),
            },
            ColumnKind::Number if data_type.is_numeric() || *data_type == DataType::Null => None,
            ColumnKind::Number => return Err(wrong()),
            // Text is read as dictionaries: rows then carry small keys, not copied strings.
            ColumnKind::Text => match data_type {
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                    if physical == PhysicalType::BYTE_ARRAY =>
                {
                    Some(DataType::Dictionary(
                        Box::new(DataType::Int32),
                        Box::new(DataType::Utf8),
                    ))
                }
                DataType::Dictionary(_, v) if v.is_string() => None,
                DataType::Null => None,
                _ => return Err(wrong()),
            },
        };
        if let Some(t) = new_type {
            fields[field_index] = field.clone().with_data_type(t);
        }
        leaves.push(leaf);
    }
    if !missing.is_empty() {
        return Err(format!(
            "missing required column(s): {}",
            missing.join(", ")
        ));
    }
    Ok((leaves, time_leaf, Arc::new(Schema::new(fields))))
}

/// Merged byte ranges of the wanted column chunks, checked against the object's bounds.
fn chunk_ranges(
    metadata: &ParquetMetaData,
    leaves: &[usize],
    data_end: u64,
) -> Result<Vec<std::ops::Range<u64>>, String> {
    let mut ranges = Vec::new();
    for (rg_index, rg) in metadata.row_groups().iter().enumerate() {
        for &leaf in leaves {
            let (start, len) = rg.column(leaf).byte_range();
            if start < 4 || start.saturating_add(len) > data_end {
                return Err(format!(
                    "truncated or corrupt: row group {rg_index} column chunk {leaf} lies outside the file"
                ));
            }
            ranges.push(start..start + len);
        }
    }
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<std::ops::Range<u64>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            // Near and small enough to share a request; overlapping chunks (a corrupt footer)
            // become one range, however large.
            Some(last)
                if r.start < last.end
                    || (r.start <= last.end + MERGE_GAP
                        && r.end.max(last.end) - last.start <= MERGE_LIMIT) =>
            {
                last.end = last.end.max(r.end)
            }
            _ => merged.push(r),
        }
    }
    Ok(merged)
}
