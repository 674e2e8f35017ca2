//! The roll-up when objects are routed by tenant: the control schema's index names the tenants
//! with dirty days (one indexed query, however many tenants there are), and each tenant's days
//! are rolled up in its own schema, with `search_path` on that schema alone, so a tenant's
//! summary is made of its own partials only.

use chrono::{DateTime, Utc};

use super::{ChunkProgress, RollupReport, RollupRequest, run, run_in};
use crate::error::{Error, Result};
use crate::store::{Database, Identifier, Tenancy};

const DIRTY_TENANTS: &str = include_str!("../../sql/control/dirty_tenants.sql");

/// Rolls up what `request` covers: in `DB_SCHEMA`, or routing by tenant, in `tenant` when given,
/// else in every tenant with days marked dirty no later than the request's time.
pub async fn run_all(
    db: &Database,
    request: &RollupRequest,
    tenant: Option<&Identifier>,
    mut progress: impl FnMut(&ChunkProgress<'_>),
) -> Result<RollupReport> {
    if let Tenancy::Single(schema) = db.tenancy() {
        if tenant.is_some_and(|t| t != schema) {
            return Err(Error::Config(format!(
                "this deployment serves schema {} only (DB_SCHEMA)",
                schema.as_str()
            )));
        }
        let mut client = db.client().await?;
        return run(&mut client, request, progress).await;
    }
    let started = std::time::Instant::now();
    let tenants = match (request, tenant) {
        (_, Some(tenant)) => vec![tenant.clone()],
        (RollupRequest::Dirty { at }, None) => dirty_tenants(db, at).await?,
        (RollupRequest::Range { .. }, None) => {
            return Err(Error::Config(
                "routing by tenant, a manual roll-up names its tenant (\"tenant\": \"org1234567\")"
                    .into(),
            ));
        }
    };
    let mut report = RollupReport::default();
    for tenant in &tenants {
        if !db.prepare_tenant(tenant).await? {
            tracing::warn!(tenant = tenant.as_str(), "tenant schema is gone; skipped");
            continue;
        }
        let mut client = db.client_in(tenant).await?;
        let done = run_in(&mut client, request, Some(tenant), &mut progress).await?;
        report.chunks += done.chunks;
        report.days += done.days;
        report.rows_written += done.rows_written;
    }
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}

/// Tenants with a day marked no later than `at`.
pub async fn dirty_tenants(db: &Database, at: &DateTime<Utc>) -> Result<Vec<Identifier>> {
    let client = db.client().await?;
    let rows = client.query(DIRTY_TENANTS, &[at]).await?;
    let mut tenants = Vec::with_capacity(rows.len());
    for row in rows {
        let name: String = row.get(0);
        // Written from validated routes only; checked again before it becomes a search_path.
        match crate::koku::tenant::tenant_schema_named(&name) {
            Ok(schema) => tenants.push(schema),
            Err(why) => tracing::warn!(tenant = %name, %why, "not a tenant schema; skipped"),
        }
    }
    Ok(tenants)
}
