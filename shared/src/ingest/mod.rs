//! One S3 event record in, one object's partials out: the whole ingest flow, free of Lambda types.
//!
//! classify key → route its account to the tenant schema ([`crate::store::tenants`]; a key naming
//! no tenant is recorded in the control schema and writes nothing) → lock the key and decide from
//! the versions ([`versions`]) → fetch footer and projected chunks → decode and aggregate on a
//! blocking thread ([`decode`]) while the writer COPYs the chunks it hands over ([`load`]), all
//! within the memory ceiling ([`budget`]) → stamp the version with its payload tag ([`payload`])
//! and mark its days dirty → commit. Any failure before the commit leaves nothing.

pub mod budget;
pub mod decode;
mod load;
pub mod local;
pub mod payload;
pub mod versions;

use std::path::PathBuf;
use std::time::Instant;

use chrono::NaiveDate;

pub use self::budget::{MemoryBudget, Overhead};
use self::payload::Payload;
use self::versions::{Decision, ObjectEvent, ObjectState};
use crate::aggregate::RowStats;
use crate::error::{Error, Result};
use crate::koku::layout::{KeyKind, classify};
use crate::read::object_source::ObjectSource;
use crate::store::Database;
use crate::store::objects::{ObjectTransaction, VersionStats};
use crate::store::tenants::Route;

/// Where and within what an ingest runs.
#[derive(Debug, Clone)]
pub struct IngestSettings {
    pub budget: MemoryBudget,
    /// Where projected column chunks are spilled (Lambda's `/tmp`).
    pub spill_dir: PathBuf,
}

impl IngestSettings {
    /// `MEMORY_CEILING_MIB` (default 128), `SPILL_DIR` (default the system temp dir).
    pub fn from_env() -> Result<Self> {
        let spill_dir = std::env::var_os("SPILL_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        Ok(IngestSettings {
            budget: MemoryBudget::from_env()?,
            spill_dir,
        })
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
    /// Bad for good: recorded in `ocp_ingest_error` (bad content) or in the control schema's
    /// `ocp_rejected_object` (a key naming no tenant), nothing written.
    Rejected(String),
}

/// Figures of one record, for the log line and the metrics record.
#[derive(Debug, Clone)]
pub struct IngestFigures {
    pub key: String,
    pub outcome: Outcome,
    pub rows: RowStats,
    pub row_groups: usize,
    pub bytes_fetched: u64,
    pub object_size: u64,
    pub partial_rows: u64,
    /// Passes over the file: more than one when its groups did not fit in memory at once.
    pub passes: u32,
    pub days: Vec<NaiveDate>,
    pub elapsed_ms: u128,
    /// Where decoding waited: for column chunks still being fetched, and for the database to
    /// take the previous chunk (a busy database shows here).
    pub fetch_wait_ms: u128,
    pub write_wait_ms: u128,
    /// For an object tagged with koku's payload metadata: 'counted', or 'superseded by manifest X'
    /// when its day keeps another payload (view `ocp_object_payload`).
    pub payload_status: Option<String>,
}

impl IngestFigures {
    fn new(key: &str, outcome: Outcome, started: Instant) -> Self {
        IngestFigures {
            key: key.to_owned(),
            outcome,
            rows: RowStats::default(),
            row_groups: 0,
            bytes_fetched: 0,
            object_size: 0,
            partial_rows: 0,
            passes: 0,
            days: Vec::new(),
            elapsed_ms: started.elapsed().as_millis(),
            fetch_wait_ms: 0,
            write_wait_ms: 0,
            payload_status: None,
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
) -> Result<IngestFigures>
where
    S: ObjectSource,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<S>>,
{
    let started = Instant::now();
    let raw = match classify(&event.key) {
        KeyKind::Skip(why) => {
            tracing::info!(key = %event.key, reason = why, "skipping object");
            return Ok(IngestFigures::new(
                &event.key,
                Outcome::Skipped(why),
                started,
            ));
        }
        KeyKind::Raw(raw) => raw,
    };
    let schema = match db.route(&raw.account).await? {
        Route::Tenant(schema) => schema,
        Route::Rejected(reason) => {
            db.record_rejected(event, &reason).await?;
            tracing::warn!(key = %event.key, reason = %reason, "rejected key naming no tenant");
            return Ok(IngestFigures::new(
                &event.key,
                Outcome::Rejected(reason),
                started,
            ));
        }
    };
    let index_as = db.indexes_dirty_days().then_some(&schema);
    let mut client = db.client_in(&schema).await?;
    let mut tx = ObjectTransaction::begin(&mut client, event).await?;
    if let Some(tenant) = index_as {
        tx.index_dirty_days(tenant);
    }
    match tx.decision() {
        Decision::Stale => {
            tx.rollback().await?;
            return Ok(IngestFigures::new(&event.key, Outcome::Stale, started));
        }
        Decision::AlreadyCurrent => {
            tx.touch().await?;
            return Ok(IngestFigures::new(
                &event.key,
                Outcome::AlreadyCurrent,
                started,
            ));
        }
        Decision::Remove => {
            tx.remove().await?;
            return Ok(IngestFigures::new(&event.key, Outcome::Removed, started));
        }
        Decision::Ingest => {}
    }

    let report_type = raw.report_type.path_segment();
    let object_id = tx
        .replace_previous(ObjectState::Present, report_type, raw.source)
        .await?;
    let result = async {
        let source = open().await?;
        let report = load::load(&mut tx, &source, &raw, object_id, settings).await?;
        // After the load: the reads have brought the object's metadata.
        let payload = Payload::of_object(&event.key, |name| source.user_metadata(name));
        Ok((report, payload))
    }
    .await;
    let (mut report, payload) = match result {
        Ok(loaded) => loaded,
        Err(Error::Superseded { what, .. }) => {
            tx.rollback().await?;
            tracing::info!(key = %event.key, what, "object changed since the event; skipping");
            return Ok(IngestFigures::new(
                &event.key,
                Outcome::Superseded(what.into()),
                started,
            ));
        }
        Err(e) if e.is_permanent() => {
            tx.rollback().await?;
            let reason = e.to_string();
            // A fresh transaction: the version may have moved on while we read.
            let mut tx = ObjectTransaction::begin(&mut client, event).await?;
            if let Some(tenant) = index_as {
                tx.index_dirty_days(tenant);
            }
            if tx.decision() == Decision::Ingest {
                tx.fail(report_type, raw.source, &reason).await?;
            } else {
                tx.rollback().await?;
            }
            tracing::warn!(key = %event.key, reason = %reason, "rejected bad object");
            return Ok(IngestFigures::new(
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
    report.payload_status = tx
        .finish(
            report_type,
            raw.source,
            &report.days,
            payload.as_ref(),
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
