//! Routing an object to its tenant's schema, and bringing that schema into service: validated
//! from the key before the database is touched, created or required to exist per `TENANTS`,
//! migrated once per execution environment.

use super::{Creation, Database, Identifier, MIGRATIONS, Provisioning, Tenancy, migrate};
use crate::error::Result;
use crate::ingest::versions::ObjectEvent;
use crate::koku::tenant::tenant_schema;

const SCHEMA_EXISTS: &str = include_str!("../../sql/control/schema_exists.sql");
const RECORD_REJECTED: &str = include_str!("../../sql/control/record_rejected.sql");

/// Where an object's rows go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// This schema, which exists and is migrated.
    Tenant(Identifier),
    /// Nowhere: the key names no tenant we may write to. Record it with
    /// [`Database::record_rejected`].
    Rejected(String),
}

impl Database {
    /// The schema for an object whose key has `account` as its account part: `DB_SCHEMA` when set;
    /// otherwise the account's tenant schema, validated first, then created (`TENANTS=create`) or
    /// required to exist (`TENANTS=existing`), and migrated the first time this execution
    /// environment uses it.
    pub async fn route(&self, account: &str) -> Result<Route> {
        let provisioning = match self.tenancy() {
            Tenancy::Single(schema) => return Ok(Route::Tenant(schema.clone())),
            Tenancy::PerTenant(provisioning) => *provisioning,
        };
        let schema = match tenant_schema(account) {
            Ok(schema) => schema,
            Err(why) => return Ok(Route::Rejected(why.to_string())),
        };
        if self.is_migrated(&schema) {
            return Ok(Route::Tenant(schema));
        }
        let creation = match provisioning {
            Provisioning::Create => Creation::IfMissing,
            Provisioning::Existing => Creation::MustExist,
        };
        if self.prepare(&schema, creation).await? {
            Ok(Route::Tenant(schema))
        } else {
            Ok(Route::Rejected(format!(
                "tenant schema {} does not exist (TENANTS=existing: koku creates tenant schemas)",
                schema.as_str()
            )))
        }
    }

    /// Makes sure a tenant schema that has dirty marks is migrated by this execution environment
    /// before the roll-up uses it; false when the schema is gone.
    pub async fn prepare_tenant(&self, schema: &Identifier) -> Result<bool> {
        if self.is_migrated(schema) {
            return Ok(true);
        }
        self.prepare(schema, Creation::MustExist).await
    }

    /// Creates (when allowed) and migrates `schema`; false when it must exist and does not.
    async fn prepare(&self, schema: &Identifier, creation: Creation) -> Result<bool> {
        let client = self.client().await?;
        if creation == Creation::MustExist {
            let exists: bool = client
                .query_one(SCHEMA_EXISTS, &[&schema.as_str()])
                .await?
                .get(0);
            if !exists {
                return Ok(false);
            }
        }
        migrate(&client, schema, creation, MIGRATIONS).await?;
        self.remember_migrated(schema);
        tracing::info!(schema = schema.as_str(), "tenant schema ready");
        Ok(true)
    }

    /// Records an object that [`Database::route`] rejected, in the control schema.
    pub async fn record_rejected(&self, event: &ObjectEvent, reason: &str) -> Result<()> {
        // A key is any UTF-8 the uploader chose; PostgreSQL text cannot hold NUL.
        let clean = |s: &str| s.replace('\0', "\u{FFFD}");
        let client = self.client().await?;
        client
            .execute(
                RECORD_REJECTED,
                &[
                    &event.bucket,
                    &clean(&event.key),
                    &event.etag.as_deref().map(clean),
                    &event.sequencer.as_deref().map(clean),
                    &clean(reason),
                ],
            )
            .await?;
        Ok(())
    }

    /// Whether dirty marks are mirrored into the control schema's index (routing by tenant).
    pub fn indexes_dirty_days(&self) -> bool {
        matches!(self.tenancy(), Tenancy::PerTenant(_))
    }
}
