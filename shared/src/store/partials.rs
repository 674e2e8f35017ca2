//! The partials of one object version, written idempotently: one transaction per object, serialized
//! per key, guarded by ETag and S3 sequencer so redelivered, late or out-of-order events change
//! nothing they should not.

use std::cmp::Ordering;
use std::collections::HashSet;

use chrono::NaiveDate;
use tokio_postgres::{Client, Transaction};
use uuid::Uuid;

use crate::aggregate::PartialChunk;
use crate::error::Result;

const LOCK_OBJECT: &str = include_str!("../../sql/ingest/lock_object.sql");
const SELECT_OBJECT: &str = include_str!("../../sql/ingest/select_object.sql");
const UPSERT_OBJECT: &str = include_str!("../../sql/ingest/upsert_object.sql");
const TOUCH_OBJECT: &str = include_str!("../../sql/ingest/touch_object.sql");
const DELETE_PARTIALS: &str = include_str!("../../sql/ingest/delete_partials.sql");
const MARK_DIRTY: &str = include_str!("../../sql/ingest/mark_dirty.sql");
const RECORD_ERROR: &str = include_str!("../../sql/ingest/record_error.sql");

/// What an S3 event says happened to an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEvent {
    pub bucket: String,
    pub key: String,
    pub etag: Option<String>,
    pub sequencer: Option<String>,
    pub removed: bool,
}

/// The version of an object the database holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVersion {
    pub etag: Option<String>,
    pub sequencer: Option<String>,
    pub state: String,
    pub source: Option<Uuid>,
    pub days: Vec<NaiveDate>,
}

/// What to do with an event, given what is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Read the object and replace whatever the key had.
    Ingest,
    /// Drop the key's partials and leave a tombstone.
    Remove,
    /// Same content already stored (redelivery or identical re-upload): move the sequencer only.
    AlreadyCurrent,
    /// An older event than the one stored: ignore.
    Stale,
}

/// S3 sequencers are hex strings of varying length; compare them as numbers (left-padded).
pub fn compare_sequencers(a: &str, b: &str) -> Ordering {
    let width = a.len().max(b.len());
    let pad = |s: &str| format!("{:0>width$}", s.to_ascii_uppercase());
    pad(a).cmp(&pad(b))
}

pub fn decide(stored: Option<&StoredVersion>, event: &ObjectEvent) -> Decision {
    let Some(stored) = stored else {
        return if event.removed {
            Decision::Remove
        } else {
            Decision::Ingest
        };
    };
    let order = match (&event.sequencer, &stored.sequencer) {
        (Some(e), Some(s)) => Some(compare_sequencers(e, s)),
        _ => None,
    };
    if order == Some(Ordering::Less) {
        return Decision::Stale;
    }
    if event.removed {
        return if order == Some(Ordering::Equal) && stored.state == "removed" {
            Decision::AlreadyCurrent
        } else {
            Decision::Remove
        };
    }
    let same_content =
        stored.state != "removed" && event.etag.is_some() && event.etag == stored.etag;
    if same_content {
        Decision::AlreadyCurrent
    } else {
        Decision::Ingest
    }
}

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
    /// Label sets written for this version so far.
    label_sets: HashSet<Uuid>,
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
                    state: r.get(3),
                    source: r.get(4),
                    days: r.get(5),
                }),
            ),
            None => (None, None),
        };
        Ok(ObjectTransaction {
            tx,
            event: event.clone(),
            stored,
            object_id,
            label_sets: HashSet::new(),
        })
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
        state: &str,
        report_type: &str,
        source: Uuid,
    ) -> Result<i64> {
        self.drop_stored_partials().await?;
        let e = &self.event;
        let no_days: Vec<NaiveDate> = Vec::new();
        let id: i64 = self
            .tx
            .query_one(
                UPSERT_OBJECT,
                &[
                    &e.bucket,
                    &e.key,
                    &e.etag,
                    &e.sequencer,
                    &state,
                    &report_type,
                    &source,
                    &no_days,
                    &0i64,
                    &0i64,
                    &0i64,
                    &0i64,
                ],
            )
            .await?
            .get(0);
        self.object_id = Some(id);
        Ok(id)
    }

    async fn drop_stored_partials(&mut self) -> Result<()> {
        if let (Some(id), Some(stored)) = (self.object_id, &self.stored)
            && let Some(source) = stored.source
            && !stored.days.is_empty()
        {
            self.tx
                .execute(DELETE_PARTIALS, &[&id, &source, &stored.days])
                .await?;
            mark_dirty(&self.tx, source, &stored.days).await?;
        }
        Ok(())
    }

    /// Writes one chunk of partials under `object_id`, and the label sets it brings.
    pub async fn write_chunk(
        &mut self,
        chunk: &PartialChunk,
        object_id: i64,
        source: Uuid,
    ) -> Result<u64> {
        let new_sets: Vec<(Uuid, &str)> = (chunk.label_sets().into_iter())
            .filter(|(id, _)| self.label_sets.insert(*id))
            .collect();
        super::copy::copy_label_sets(&self.tx, &new_sets, object_id).await?;
        let mut rows = 0;
        for table in &chunk.tables {
            rows +=
                super::copy::copy_chunk(&self.tx, table, &chunk.texts, object_id, source).await?;
        }
        Ok(rows)
    }

    /// Stamps the version's days and counters, marks its days dirty, and commits.
    pub async fn finish(
        self,
        report_type: &str,
        source: Uuid,
        days: &[NaiveDate],
        stats: VersionStats,
    ) -> Result<()> {
        let e = &self.event;
        let as_i64 = |v: u64| v.min(i64::MAX as u64) as i64;
        self.tx
            .query_one(
                UPSERT_OBJECT,
                &[
                    &e.bucket,
                    &e.key,
                    &e.etag,
                    &e.sequencer,
                    &"present",
                    &report_type,
                    &source,
                    &days,
                    &as_i64(stats.rows_read),
                    &as_i64(stats.partial_rows),
                    &as_i64(stats.bytes_fetched),
                    &as_i64(stats.object_size),
                ],
            )
            .await?;
        mark_dirty(&self.tx, source, days).await?;
        self.tx.commit().await?;
        Ok(())
    }

    /// Removes the object's partials, leaving a tombstone with the event's sequencer; commits.
    pub async fn remove(mut self) -> Result<()> {
        self.drop_stored_partials().await?;
        let e = &self.event;
        let no_days: Vec<NaiveDate> = Vec::new();
        let report_type: Option<&str> = None;
        let source = self.stored.as_ref().and_then(|s| s.source);
        self.tx
            .query_one(
                UPSERT_OBJECT,
                &[
                    &e.bucket,
                    &e.key,
                    &None::<String>,
                    &e.sequencer,
                    &"removed",
                    &report_type,
                    &source,
                    &no_days,
                    &0i64,
                    &0i64,
                    &0i64,
                    &0i64,
                ],
            )
            .await?;
        self.tx.commit().await?;
        Ok(())
    }

    /// The object's content is bad for good: drop any previous version's partials, mark the
    /// version failed and record why; commits.
    pub async fn fail(mut self, report_type: &str, source: Uuid, reason: &str) -> Result<()> {
        self.replace_previous("failed", report_type, source).await?;
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

/// Marks days for the roll-up, in ascending order so concurrent writers lock rows alike.
async fn mark_dirty(tx: &Transaction<'_>, source: Uuid, days: &[NaiveDate]) -> Result<()> {
    if days.is_empty() {
        return Ok(());
    }
    let mut days = days.to_vec();
    days.sort_unstable();
    days.dedup();
    tx.execute(MARK_DIRTY, &[&source, &days]).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(etag: &str, seq: Option<&str>, removed: bool) -> ObjectEvent {
        ObjectEvent {
            bucket: "b".into(),
            key: "k".into(),
            etag: (!etag.is_empty()).then(|| etag.into()),
            sequencer: seq.map(Into::into),
            removed,
        }
    }

    fn stored(etag: Option<&str>, seq: Option<&str>, state: &str) -> StoredVersion {
        StoredVersion {
            etag: etag.map(Into::into),
            sequencer: seq.map(Into::into),
            state: state.into(),
            source: None,
            days: vec![],
        }
    }

    #[test]
    fn sequencers_compare_as_padded_hex() {
        assert_eq!(compare_sequencers("0A", "9"), Ordering::Greater);
        assert_eq!(compare_sequencers("00000000001", "1"), Ordering::Equal);
        assert_eq!(compare_sequencers("5f0e9a", "5F0E9B"), Ordering::Less);
    }

    #[test]
    fn first_sight_ingests_or_leaves_a_tombstone() {
        assert_eq!(
            decide(None, &event("e1", Some("01"), false)),
            Decision::Ingest
        );
        assert_eq!(decide(None, &event("", Some("01"), true)), Decision::Remove);
    }

    #[test]
    fn redelivery_and_identical_reupload_change_nothing() {
        let s = stored(Some("e1"), Some("01"), "present");
        assert_eq!(
            decide(Some(&s), &event("e1", Some("01"), false)),
            Decision::AlreadyCurrent
        );
        assert_eq!(
            decide(Some(&s), &event("e1", Some("02"), false)),
            Decision::AlreadyCurrent
        );
        assert_eq!(
            decide(Some(&s), &event("e1", None, false)),
            Decision::AlreadyCurrent
        );
    }

    #[test]
    fn overwrite_replaces_and_older_events_are_stale() {
        let s = stored(Some("e2"), Some("02"), "present");
        assert_eq!(
            decide(Some(&s), &event("e3", Some("03"), false)),
            Decision::Ingest
        );
        assert_eq!(
            decide(Some(&s), &event("e1", Some("01"), false)),
            Decision::Stale
        );
        assert_eq!(
            decide(Some(&s), &event("", Some("01"), true)),
            Decision::Stale
        );
        assert_eq!(
            decide(Some(&s), &event("", Some("03"), true)),
            Decision::Remove
        );
    }

    #[test]
    fn late_create_after_remove_is_stale_but_a_newer_one_restores() {
        let tomb = stored(None, Some("05"), "removed");
        assert_eq!(
            decide(Some(&tomb), &event("e1", Some("04"), false)),
            Decision::Stale
        );
        assert_eq!(
            decide(Some(&tomb), &event("e1", Some("06"), false)),
            Decision::Ingest
        );
        assert_eq!(
            decide(Some(&tomb), &event("", Some("05"), true)),
            Decision::AlreadyCurrent
        );
    }

    #[test]
    fn failed_versions_are_retried_only_for_new_content() {
        let failed = stored(Some("bad"), Some("02"), "failed");
        assert_eq!(
            decide(Some(&failed), &event("bad", Some("02"), false)),
            Decision::AlreadyCurrent
        );
        assert_eq!(
            decide(Some(&failed), &event("good", Some("03"), false)),
            Decision::Ingest
        );
    }
}
