//! What an operator asks of a schema: per source, its objects, the latest object of each day, the
//! days waiting for a roll-up, and the objects that failed.

use chrono::{DateTime, NaiveDate, Utc};
use tokio_postgres::Client;
use uuid::Uuid;

use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct SourceStatus {
    pub source: Uuid,
    pub present: i64,
    pub removed: i64,
    pub failed: i64,
    pub last_change: Option<DateTime<Utc>>,
    pub dirty_days: i64,
    /// First and last dirty day, when there are any.
    pub dirty_span: Option<(NaiveDate, NaiveDate)>,
    /// The latest present object of each of the latest days with data, newest day first.
    pub latest: Vec<DayObject>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DayObject {
    pub day: NaiveDate,
    pub key: String,
    pub report_type: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ErrorRow {
    pub key: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub sources: Vec<SourceStatus>,
    /// Error rows in all, and the latest of them.
    pub error_rows: i64,
    pub latest_errors: Vec<ErrorRow>,
}

/// The status of the client's schema, with up to `days` days per source and `errors` error rows.
pub async fn status(client: &Client, days: i64, errors: i64) -> Result<Status> {
    let mut sources = Vec::new();
    for row in client
        .query(include_str!("../../sql/status/sources.sql"), &[])
        .await?
    {
        let source: Uuid = row.get("source_uuid");
        let latest = client
            .query(
                include_str!("../../sql/status/latest_per_day.sql"),
                &[&source, &days],
            )
            .await?
            .iter()
            .map(|r| DayObject {
                day: r.get("day"),
                key: r.get("object_key"),
                report_type: r.get("report_type"),
                at: r.get("updated_at"),
            })
            .collect();
        let first: Option<NaiveDate> = row.get("first_dirty");
        let last: Option<NaiveDate> = row.get("last_dirty");
        sources.push(SourceStatus {
            source,
            present: row.get("present"),
            removed: row.get("removed"),
            failed: row.get("failed"),
            last_change: row.get("last_change"),
            dirty_days: row.get("dirty_days"),
            dirty_span: first.zip(last),
            latest,
        });
    }
    let error_rows = client
        .query(include_str!("../../sql/status/errors.sql"), &[&errors])
        .await?;
    Ok(Status {
        sources,
        error_rows: error_rows.first().map_or(0, |r| r.get("total")),
        latest_errors: error_rows
            .iter()
            .map(|r| ErrorRow {
                key: r.get("object_key"),
                reason: r.get("reason"),
                at: r.get("failed_at"),
            })
            .collect(),
    })
}
