//! The roll-up fan-out's two halves (issue 16, phase 2), without a queue yet. The planner: every
//! tenant's dirty marks from the control schema's index in one query, cut into one message per
//! (tenant, source, chunk of at most six days of one month) — koku's chunking, as [`super::plan`].
//! A FIFO queue would take [`ChunkMessage::group_id`] as `MessageGroupId` (chunks of one source in
//! order, one at a time; different sources in parallel) and [`ChunkMessage::deduplication_id`] as
//! the deduplication id: a retried planner sees the same marks and sends nothing new, a mark set
//! again (new generation) makes a new message. The worker ([`run_message`]): one message's chunk.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio_postgres::Client;
use uuid::Uuid;

use super::{Chunk, DayMark, plan, roll_up_chunk_in};
use crate::error::{Error, Result};
use crate::koku::tenant::tenant_schema_named;
use crate::store::Database;
use crate::store::partial_tables;

const DIRTY_MARKS: &str = include_str!("../../sql/control/dirty_marks.sql");

/// A dirty day of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantMark {
    /// The tenant schema's name (validated again by whoever acts on it).
    pub tenant: String,
    pub mark: DayMark,
}

/// One chunk of work for a worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkMessage {
    pub tenant: String,
    pub source: Uuid,
    pub days: Vec<NaiveDate>,
    /// The generation of each day's mark, in the order of `days`.
    pub generations: Vec<i64>,
}

impl ChunkMessage {
    /// Chunks of one tenant's source run in order, one at a time. Under SQS's 128 characters:
    /// a schema name (≤ 63) and a uuid (36).
    pub fn group_id(&self) -> String {
        format!("{}:{}", self.tenant, self.source)
    }

    /// Names the chunk and the marks it was planned from: equal for a retried planner, new once
    /// any of its days is marked again. 64 hex digits (SQS allows 128).
    pub fn deduplication_id(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(self.tenant.as_bytes());
        hash.update([0]);
        hash.update(self.source.as_bytes());
        for (day, generation) in self.days.iter().zip(&self.generations) {
            hash.update(day.to_string().as_bytes());
            hash.update(generation.to_be_bytes());
        }
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Every tenant's marks set no later than `at` (a connection on any schema: the index is
/// qualified).
pub async fn dirty_marks(client: &Client, at: &DateTime<Utc>) -> Result<Vec<TenantMark>> {
    Ok(client
        .query(DIRTY_MARKS, &[at])
        .await?
        .iter()
        .map(|r| TenantMark {
            tenant: r.get(0),
            mark: DayMark {
                source: r.get(1),
                day: r.get(2),
                generation: Some(r.get(3)),
            },
        })
        .collect())
}

/// One message per (tenant, source, chunk), tenants in name order, chunks as [`plan`] cuts them.
pub fn messages(marks: Vec<TenantMark>) -> Vec<ChunkMessage> {
    let mut by_tenant: BTreeMap<String, Vec<DayMark>> = BTreeMap::new();
    for m in marks {
        by_tenant.entry(m.tenant).or_default().push(m.mark);
    }
    by_tenant
        .into_iter()
        .flat_map(|(tenant, marks)| {
            plan(marks).into_iter().map(move |chunk| ChunkMessage {
                tenant: tenant.clone(),
                source: chunk.source,
                days: chunk.days.iter().map(|m| m.day).collect(),
                generations: chunk
                    .days
                    .iter()
                    .map(|m| m.generation.unwrap_or(0))
                    .collect(),
            })
        })
        .collect()
}

/// The worker's half: rolls up exactly the message's chunk in its tenant's schema, clearing the
/// marks of the generations it names (a mark set again since stays for the next message). Returns
/// the summary rows written.
pub async fn run_message(db: &Database, message: &ChunkMessage) -> Result<u64> {
    let tenant = tenant_schema_named(&message.tenant)
        .map_err(|e| Error::Config(format!("message tenant: {e}")))?;
    if message.days.is_empty() || message.days.len() != message.generations.len() {
        return Err(Error::Config(
            "a chunk message needs a generation per day".into(),
        ));
    }
    if !db.prepare_tenant(&tenant).await? {
        tracing::warn!(
            tenant = tenant.as_str(),
            "tenant schema is gone; chunk dropped"
        );
        return Ok(0);
    }
    let chunk = Chunk {
        source: message.source,
        days: message
            .days
            .iter()
            .zip(&message.generations)
            .map(|(&day, &generation)| DayMark {
                source: message.source,
                day,
                generation: Some(generation),
            })
            .collect(),
    };
    let mut client = db.client_in(&tenant).await?;
    client
        .batch_execute(&partial_tables::analyze_partials())
        .await?;
    roll_up_chunk_in(&mut client, &chunk, Some(&tenant)).await
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn month_of_marks(tenants: &[&str], sources: u128, generation: i64) -> Vec<TenantMark> {
        let mut marks = Vec::new();
        for tenant in tenants {
            for source in 1..=sources {
                for day in 1..=30 {
                    marks.push(TenantMark {
                        tenant: (*tenant).to_owned(),
                        mark: DayMark {
                            source: Uuid::from_u128(source),
                            day: NaiveDate::from_ymd_opt(2025, 11, day).unwrap(),
                            generation: Some(generation),
                        },
                    });
                }
            }
        }
        marks
    }

    #[test]
    fn two_tenants_by_25_sources_by_a_month_make_a_message_per_six_days() {
        let sent = messages(month_of_marks(&["acct10001", "org1234567"], 25, 7));
        // 30 days of November in chunks of six: 5 per (tenant, source).
        assert_eq!(sent.len(), 2 * 25 * 5);
        let groups: BTreeSet<String> = sent.iter().map(ChunkMessage::group_id).collect();
        assert_eq!(groups.len(), 2 * 25);
        let bounds: BTreeSet<(u32, u32)> = sent
            .iter()
            .map(|m| {
                use chrono::Datelike;
                (m.days[0].day(), m.days[m.days.len() - 1].day())
            })
            .collect();
        assert_eq!(
            bounds,
            BTreeSet::from([(1, 6), (7, 12), (13, 18), (19, 24), (25, 30)])
        );
        let ids: BTreeSet<String> = sent.iter().map(ChunkMessage::deduplication_id).collect();
        assert_eq!(
            ids.len(),
            sent.len(),
            "every chunk its own deduplication id"
        );
        assert!(ids.iter().all(|id| id.len() == 64));
    }

    #[test]
    fn a_retried_planner_sends_the_same_ids_and_a_new_mark_a_new_one() {
        let first = messages(month_of_marks(&["org1"], 1, 7));
        let retried = messages(month_of_marks(&["org1"], 1, 7));
        let ids = |m: &[ChunkMessage]| -> Vec<String> {
            m.iter().map(ChunkMessage::deduplication_id).collect()
        };
        assert_eq!(ids(&first), ids(&retried));
        let mut marks = month_of_marks(&["org1"], 1, 7);
        marks[0].mark.generation = Some(8); // 1 November marked again
        let again = ids(&messages(marks));
        assert_ne!(again[0], ids(&first)[0]);
        assert_eq!(again[1..], ids(&first)[1..]);
        // The same source under another tenant is another group and other messages.
        let other = messages(month_of_marks(&["acct1"], 1, 7));
        assert_ne!(other[0].group_id(), first[0].group_id());
        assert_ne!(ids(&other)[0], ids(&first)[0]);
    }
}
