//! The partials of one object version, written idempotently: one transaction per object, serialized
//! per key, guarded by ETag and S3 sequencer (see [`crate::ingest::versions`]) so redelivered, late
//! or out-of-order events change nothing they should not.

use chrono::NaiveDate;
use tokio_postgres::{Client, Transaction};
use uuid::Uuid;

use super::Identifier;
use super::copy;
use super::partial_tables;
use crate::aggregate::PartialChunk;
use crate::error::Result;
use crate::ingest::payload::Payload;
use crate::ingest::versions::{Decision, ObjectEvent, ObjectState, StoredVersion, decide};

const LOCK_OBJECT: &str = include_str!("../../sql/ingest/lock_object.sql");
const SELECT_OBJECT: &str = include_str!("../../sql/ingest/select_object.sql");
const UPSERT_OBJECT: &str = include_str!("../../sql/ingest/upsert_object.sql");
const TOUCH_OBJECT: &str = include_str!("../../sql/ingest/touch_object.sql");
const MARK_DIRTY: &str = include_str!("../../sql/ingest/mark_dirty.sql");
const RECORD_ERROR: &str = include_str!("../../sql/ingest/record_error.sql");
const STAGE_LABEL_SETS: &str = include_str!("../../sql/ingest/stage_label_sets.sql");
const KEEP_STAGED_LABEL_SETS: &str = include_str!("../../sql/ingest/keep_staged_label_sets.sql");
const PAYLOAD_STATUS: &str = include_str!("../../sql/ingest/payload_status.sql");
const INDEX_DIRTY: &str = include_str!("../../sql/control/index_dirty.sql");

/// Outcome counters of a finished version, stored on the object row.
#[derive(Debug, Default, Clone, Copy)]
pub struct VersionStats {
    pub rows_read: u64,
    pub partial_rows: u64,
    pub bytes_fetched: u64,
    pub object_size: u64,
}

/// An open per-object transaction holding the object's lock.
pub struct ObjectTransaction<'c> {
    tx: Transaction<'c>,
    event: ObjectEvent,
    stored: Option<StoredVersion>,
    object_id: Option<i64>,
    /// Label sets go through a staging table that drops duplicates: a file read in several passes
    /// (see `aggregate::partition`) meets a label set shared by pods of two partitions twice.
    staged_label_sets: bool,
    /// Routing by tenant: the tenant whose marks are mirrored into the control schema's index.
    dirty_index: Option<Identifier>,
}

impl<'c> ObjectTransaction<'c> {
    /// Begins the transaction, takes the key's lock and reads the stored version.
    pub async fn begin(client: &'c mut Client, event: &ObjectEvent) -> Result<Self> {
        let tx = client.transaction().await?;
        tx.execute(LOCK_OBJECT, &[&event.bucket, &event.key])
            .await?;
        let row = tx
            .query_opt(SELECT_OBJECT, &[&event.bucket, &event.key])
            .await?;
        let (object_id, stored) = match row {
            Some(r) => (
                Some(r.get::<_, i64>(0)),
                Some(StoredVersion {
                    etag: r.get(1),
                    sequencer: r.get(2),
                    state: ObjectState::parse(r.get(3)).unwrap_or(ObjectState::Failed),
                    source: r.get(4),
                    days: r.get(5),
                    payload_day: r.get(6),
                }),
            ),
            None => (None, None),
        };
        Ok(ObjectTransaction {
            tx,
            event: event.clone(),
            stored,
            object_id,
            staged_label_sets: false,
            dirty_index: None,
        })
    }

    /// Mirrors the days this transaction marks dirty into the control schema's index, as `tenant`.
    pub fn index_dirty_days(&mut self, tenant: &Identifier) {
        self.dirty_index = Some(tenant.clone());
    }

    pub fn decision(&self) -> Decision {
        decide(self.stored.as_ref(), &self.event)
    }

    /// Records that the stored content is current; commits.
    pub async fn touch(self) -> Result<()> {
        if self.event.sequencer.is_some() {
            let e = &self.event;
            self.tx
                .execute(TOUCH_OBJECT, &[&e.bucket, &e.key, &e.sequencer])
                .await?;
        }
        self.tx.commit().await?;
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }

    /// Deletes the previous version's partials and claims the object id for the new version.
    /// Returns the id to write partials under.
    pub async fn replace_previous(
        &mut self,
        state: ObjectState,
        report_type: &str,
        source: Uuid,
    ) -> Result<i64> {
        self.drop_stored_partials().await?;
        let id = self
            .upsert(
                state,
                Some(report_type),
                Some(source),
                &[],
                None,
                VersionStats::default(),
            )
            .await?;
        self.object_id = Some(id);
        Ok(id)
    }

    /// Records the event's version in `state`; returns the object id.
    async fn upsert(
        &self,
        state: ObjectState,
        report_type: Option<&str>,
        source: Option<Uuid>,
        days: &[NaiveDate],
        payload: Option<&Payload>,
        stats: VersionStats,
    ) -> Result<i64> {
        let e = &self.event;
        let etag = (state != ObjectState::Removed)
            .then_some(&e.etag)
            .cloned()
            .flatten();
        let as_i64 = |v: u64| v.min(i64::MAX as u64) as i64;
        let row = self
            .tx
            .query_one(
                UPSERT_OBJECT,
                &[
                    &e.bucket,
                    &e.key,
                    &etag,
                    &e.sequencer,
                    &state.as_str(),
                    &report_type,
                    &source,
                    &days,
                    &as_i64(stats.rows_read),
                    &as_i64(stats.partial_rows),
                    &as_i64(stats.bytes_fetched),
                    &as_i64(stats.object_size),
                    &payload.map(|p| &p.manifest_id),
                    &payload.map(|p| p.day),
                    &payload.map(|p| p.hours),
                ],
            )
            .await?;
        Ok(row.get(0))
    }

    async fn drop_stored_partials(&mut self) -> Result<()> {
        let (Some(id), Some(stored)) = (self.object_id, &self.stored) else {
            return Ok(());
        };
        let Some(source) = stored.source else {
            return Ok(());
        };
        if !stored.days.is_empty() {
            let (first, last) = span(&stored.days);
            self.tx
                .execute(
                    &partial_tables::delete_object_partials(),
                    &[&id, &source, &first, &last],
                )
                .await?;
        }
        // Its payload's day too: the version took part in ranking that day's payloads, even
        // without rows there, so the day's kept payload may change with it gone.
        let mut days = stored.days.clone();
        days.extend(stored.payload_day);
        mark_dirty(&self.tx, source, &days, self.dirty_index.as_ref()).await
    }

    /// Marks where an attempt at the object's partials starts; with `staged_label_sets`, label
    /// sets go through the staging table from now on.
    pub async fn begin_attempt(&mut self, staged_label_sets: bool) -> Result<()> {
        self.tx.batch_execute("SAVEPOINT attempt").await?;
        if staged_label_sets {
            self.tx.batch_execute(STAGE_LABEL_SETS).await?;
        }
        self.staged_label_sets = staged_label_sets;
        Ok(())
    }

    /// Drops everything written since the attempt began.
    pub async fn abandon_attempt(&mut self) -> Result<()> {
        self.tx
            .batch_execute("ROLLBACK TO SAVEPOINT attempt")
            .await?;
        Ok(())
    }

    /// Writes one chunk of partials under `object_id`, and the label sets it brings.
    pub async fn write_chunk(
        &mut self,
        chunk: &PartialChunk,
        object_id: i64,
        source: Uuid,
    ) -> Result<u64> {
        for sets in &chunk.label_sets {
            copy::copy_label_sets(&self.tx, sets, object_id, self.staged_label_sets).await?;
        }
        let mut rows = 0;
        for table in &chunk.tables {
            rows += copy::copy_chunk(&self.tx, table, object_id, source).await?;
        }
        Ok(rows)
    }

    /// Stamps the version's days, payload tag and counters, marks its days (and its payload's day,
    /// whose kept payload it may change) dirty, and commits. Returns the payload status of a tagged
    /// version ('counted' or 'superseded by manifest X') as of the commit.
    pub async fn finish(
        self,
        report_type: &str,
        source: Uuid,
        days: &[NaiveDate],
        payload: Option<&Payload>,
        stats: VersionStats,
    ) -> Result<Option<String>> {
        if self.staged_label_sets {
            self.tx.batch_execute(KEEP_STAGED_LABEL_SETS).await?;
        }
        let object_id = self
            .upsert(
                ObjectState::Present,
                Some(report_type),
                Some(source),
                days,
                payload,
                stats,
            )
            .await?;
        let mut dirty = days.to_vec();
        dirty.extend(payload.map(|p| p.day));
        mark_dirty(&self.tx, source, &dirty, self.dirty_index.as_ref()).await?;
        let mut status = None;
        if let Some(payload) = payload {
            status = self
                .tx
                .query_opt(
                    PAYLOAD_STATUS,
                    &[&source, &report_type, &payload.day, &object_id],
                )
                .await?
                .map(|r| r.get(0));
            tracing::info!(
                key = %self.event.key,
                manifest_id = %payload.manifest_id,
                payload_day = %payload.day,
                payload_hours = payload.hours,
                status = status.as_deref().unwrap_or("unknown"),
                "payload recorded"
            );
        }
        self.tx.commit().await?;
        Ok(status)
    }

    /// Removes the object's partials, leaving a tombstone with the event's sequencer; commits.
    pub async fn remove(mut self) -> Result<()> {
        self.drop_stored_partials().await?;
        let source = self.stored.as_ref().and_then(|s| s.source);
        self.upsert(
            ObjectState::Removed,
            None,
            source,
            &[],
            None,
            VersionStats::default(),
        )
        .await?;
        self.tx.commit().await?;
        Ok(())
    }

    /// The object's content is bad for good: drop any previous version's partials, mark the
    /// version failed and record why; commits.
    pub async fn fail(mut self, report_type: &str, source: Uuid, reason: &str) -> Result<()> {
        self.replace_previous(ObjectState::Failed, report_type, source)
            .await?;
        let e = &self.event;
        self.tx
            .execute(
                RECORD_ERROR,
                &[&e.bucket, &e.key, &e.etag, &e.sequencer, &reason],
            )
            .await?;
        self.tx.commit().await?;
        Ok(())
    }
}

/// Marks days for the roll-up, in ascending order so concurrent writers lock rows alike; with
/// `index`, mirrors the marks into the control schema's index as that tenant's.
async fn mark_dirty(
    tx: &Transaction<'_>,
    source: Uuid,
    days: &[NaiveDate],
    index: Option<&Identifier>,
) -> Result<()> {
    if days.is_empty() {
        return Ok(());
    }
    let mut days = days.to_vec();
    days.sort_unstable();
    days.dedup();
    tx.execute(MARK_DIRTY, &[&source, &days]).await?;
    if let Some(tenant) = index {
        tx.execute(INDEX_DIRTY, &[&source, &days, &tenant.as_str()])
            .await?;
    }
    Ok(())
}

/// The first and last of some days (none: an empty range).
fn span(days: &[NaiveDate]) -> (NaiveDate, NaiveDate) {
    let first = days.iter().min().copied().unwrap_or(NaiveDate::MAX);
    let last = days.iter().max().copied().unwrap_or(NaiveDate::MIN);
    (first, last)
}
