//! koku's GPU UI summary, `reporting_ocp_gpu_summary_p`, as its on-prem usage-only SQL writes it
//! (koku-ocp-gpu-vm.md §5.2): replaced for the chunk's days inside the chunk's transaction, so a GPU
//! file's dirty days rebuild it with the daily summary and a reader never sees half a chunk.
//!
//! koku runs the usage-only SQL only when the cost model has no GPU rate (§5.4); this pipeline has
//! no cost model, so it always does. koku's cost-bearing writer (§6.1) deletes the same days first
//! even when the source has no GPU data, which the unconditional delete here reproduces.

use chrono::NaiveDate;
use tokio_postgres::Transaction;
use uuid::Uuid;

use crate::error::Result;

const ENSURE_PARTITION: &str = include_str!("../../sql/rollup/gpu_ensure_partition.sql");
const DELETE_DAYS: &str = include_str!("../../sql/rollup/gpu_delete_days.sql");
const INSERT_ROWS: &str = include_str!("../../sql/rollup/gpu_insert_rows.sql");

/// The cluster a source's rows are labelled with (from the chunk's report period).
pub struct Cluster<'a> {
    pub id: &'a str,
    pub alias: Option<&'a str>,
}

/// Replaces the GPU summary rows of `source` on `days` (all of one month, `month_start`); returns
/// the rows inserted.
pub async fn replace_days(
    tx: &Transaction<'_>,
    source: Uuid,
    days: &[NaiveDate],
    month_start: NaiveDate,
    cluster: &Cluster<'_>,
) -> Result<u64> {
    let (Some(first), Some(last)) = (days.iter().min(), days.iter().max()) else {
        return Ok(0);
    };
    tx.execute(ENSURE_PARTITION, &[&month_start]).await?;
    tx.execute(DELETE_DAYS, &[&source, &days]).await?;
    let rows = tx
        .execute(
            INSERT_ROWS,
            &[&source, &days, first, last, &cluster.id, &cluster.alias],
        )
        .await?;
    Ok(rows)
}
