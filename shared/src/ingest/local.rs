//! Ingest's read path over bytes on local disk, without S3 or PostgreSQL: footer checks, projected
//! fetch, decode and aggregation, exactly as `ingest` runs them before its COPY. The fuzz targets
//! (`fuzz/`) and the fuzz regression tests drive it, so a crash found by one reproduces in the other.

use std::io::Write;

use super::IngestSettings;
use super::decode::{ChunkWriter, aggregate_file};
use super::load::open_projected;
use crate::aggregate::{PartialChunk, RowStats};
use crate::error::Result;
use crate::koku::report::ReportType;
use crate::read::object_source::LocalObject;
use crate::time;

/// The key's month: koku's worked example's, so rows of real seeds fall inside it and get grouped.
const YEAR: i32 = 2025;
const MONTH: u32 = 11;

/// What aggregating the bytes as one report type gave.
#[derive(Debug)]
pub struct LocalOutcome {
    pub report_type: ReportType,
    /// The object key the bytes were read as; every error about them must name it.
    pub key: String,
    pub result: Result<LocalSummary>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalSummary {
    pub rows: RowStats,
    /// Partial rows over all chunks (what ingest would COPY).
    pub groups: usize,
}

/// Reads `bytes` as an object of each report type in turn, with `settings`' limits, through ingest's
/// own decode loop ([`aggregate_file`]); chunks are dropped where ingest would COPY them. The outer
/// error is only for the local temporary file and runtime.
pub fn aggregate_as_each_report(
    bytes: &[u8],
    settings: &IngestSettings,
) -> Result<Vec<LocalOutcome>> {
    let mut file = tempfile::NamedTempFile::new_in(&settings.spill_dir)?;
    file.write_all(bytes)?;
    // The fetch is async only for S3; a local object needs no I/O driver.
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    ReportType::ALL
        .into_iter()
        .map(|report_type| {
            let key = format!(
                "data/parquet/org1234567/OCP/{segment}/source=00000000-0000-0000-0000-000000000000/\
                 year={YEAR}/month={MONTH:02}/{segment}.local.parquet",
                segment = report_type.path_segment()
            );
            let source = LocalObject::open(file.path(), &key)?;
            let result = runtime.block_on(aggregate(&source, report_type, settings));
            Ok(LocalOutcome {
                report_type,
                key,
                result,
            })
        })
        .collect()
}

async fn aggregate(
    source: &LocalObject,
    report_type: ReportType,
    settings: &IngestSettings,
) -> Result<LocalSummary> {
    let spec = report_type.spec();
    let (mut file, fetch) = open_projected(source, spec, settings).await?;
    // A local object: fetch it all before decoding, nothing else would drive the fetch meanwhile.
    file.bytes_fetched += fetch.await?;
    let mut writer = Discard { groups: 0 };
    let window = time::month_window_ms(YEAR, MONTH);
    let aggregated = aggregate_file(&file, spec, window, &settings.budget, &mut writer)?;
    Ok(LocalSummary {
        rows: aggregated.rows,
        groups: writer.groups,
    })
}

/// Stands in for ingest's COPY: counts the partial rows and drops each chunk at once.
struct Discard {
    groups: usize,
}

impl ChunkWriter for Discard {
    fn in_flight(&self) -> usize {
        0
    }

    fn settle(&mut self) -> bool {
        true
    }

    fn send(&mut self, chunk: PartialChunk) -> bool {
        self.groups += chunk.group_count();
        true
    }

    fn begin_attempt(&mut self, _passes: u32) -> bool {
        self.groups = 0;
        true
    }

    fn abandon_attempt(&mut self) -> bool {
        true
    }
}
