//! PostgreSQL access: connection (with TLS when configured), migrations, and the two writers —
//! [`objects`] for ingest and [`crate::rollup`] for the summary.

pub mod config;
pub(crate) mod copy;
pub mod objects;
pub mod partial_tables;
pub mod secret;
pub mod status;
pub mod tenants;

use std::collections::HashSet;
use std::time::Duration;

use tokio::sync::{Mutex, MutexGuard};
use tokio_postgres::{Client, NoTls};

pub use config::{DbConfig, Identifier, Provisioning, Tenancy, TlsMode};

use crate::error::{Error, Result};

/// Migrations, applied in order, each once, under an advisory lock.
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "partials",
        include_str!("../../sql/migrations/0001_partials.sql"),
    ),
    (
        2,
        "koku_reporting",
        include_str!("../../sql/migrations/0002_koku_reporting.sql"),
    ),
    (
        3,
        "label_sets_and_brin",
        include_str!("../../sql/migrations/0003_label_sets_and_brin.sql"),
    ),
    (
        5,
        "payloads",
        include_str!("../../sql/migrations/0005_payloads.sql"),
    ),
    (6, "gpu", include_str!("../../sql/migrations/0006_gpu.sql")),
];

/// The schema of what per-tenant mode shares across tenants: rejected objects and the index of
/// dirty days (see the README, "Where state lives").
pub const CONTROL_SCHEMA: &str = "ocp_control";

/// Migrations of the control schema, numbered with the tenant schemas' so a version names one file.
const CONTROL_MIGRATIONS: &[(i32, &str, &str)] = &[(
    4,
    "control",
    include_str!("../../sql/migrations/0004_control.sql"),
)];

const MIGRATE_LOCK: &str = include_str!("../../sql/migrate/lock.sql");
const MIGRATE_UNLOCK: &str = include_str!("../../sql/migrate/unlock.sql");
const MIGRATION_HISTORY: &str = include_str!("../../sql/migrate/history.sql");
const APPLIED_MIGRATIONS: &str = include_str!("../../sql/migrate/applied.sql");
const RECORD_MIGRATION: &str = include_str!("../../sql/migrate/record.sql");

/// One connection per execution environment, re-established once if it broke while frozen.
pub struct Database {
    config: DbConfig,
    client: Mutex<Client>,
    /// Schemas this execution environment has migrated: a warm Lambda migrates nothing again.
    migrated: std::sync::Mutex<HashSet<String>>,
}

impl Database {
    /// Connects and applies pending migrations: of `DB_SCHEMA`, or of the control schema when
    /// routing by tenant (tenant schemas are migrated on first use, see [`tenants`]).
    pub async fn connect(config: DbConfig) -> Result<Self> {
        let client = open(&config).await?;
        let schema = match &config.tenancy {
            Tenancy::Single(schema) => {
                migrate(&client, schema, Creation::IfMissing, MIGRATIONS).await?;
                Some(schema.as_str().to_owned())
            }
            Tenancy::PerTenant(_) => {
                migrate(
                    &client,
                    &control_schema()?,
                    Creation::IfMissing,
                    CONTROL_MIGRATIONS,
                )
                .await?;
                None
            }
        };
        Ok(Database {
            config,
            client: Mutex::new(client),
            migrated: std::sync::Mutex::new(schema.into_iter().collect()),
        })
    }

    pub fn tenancy(&self) -> &Tenancy {
        &self.config.tenancy
    }

    /// The connection, checked with one round trip and replaced once if it is dead.
    ///
    /// A connection the server dropped while Lambda was frozen usually does not look closed yet:
    /// the FIN or RST is only seen on the next write. Checking here, before any statement of the
    /// caller's transaction, makes the one retry safe; later failures fail the invocation instead.
    ///
    /// Routing by tenant, its `search_path` is whatever the last user set: tenant work takes
    /// [`Database::client_in`].
    pub async fn client(&self) -> Result<MutexGuard<'_, Client>> {
        self.checked_client("").await
    }

    /// [`Database::client`] with `search_path` on exactly `schema`, so unqualified names reach that
    /// tenant's tables and no other's. Setting the path is the liveness check: no extra round trip.
    pub async fn client_in(&self, schema: &Identifier) -> Result<MutexGuard<'_, Client>> {
        self.checked_client(&format!("SET search_path TO {schema}"))
            .await
    }

    async fn checked_client(&self, first: &str) -> Result<MutexGuard<'_, Client>> {
        let mut guard = self.client.lock().await;
        let alive = !guard.is_closed()
            && matches!(
                tokio::time::timeout(PING_TIMEOUT, guard.batch_execute(first)).await,
                Ok(Ok(()))
            );
        if !alive {
            tracing::warn!("database connection is dead; reconnecting");
            *guard = open(&self.config).await?;
            if !first.is_empty() {
                guard.batch_execute(first).await?;
            }
        }
        Ok(guard)
    }

    fn is_migrated(&self, schema: &Identifier) -> bool {
        self.migrated
            .lock()
            .is_ok_and(|set| set.contains(schema.as_str()))
    }

    fn remember_migrated(&self, schema: &Identifier) {
        if let Ok(mut set) = self.migrated.lock() {
            set.insert(schema.as_str().to_owned());
        }
    }
}

/// The control schema's name as an identifier.
pub fn control_schema() -> Result<Identifier> {
    Identifier::parse(CONTROL_SCHEMA)
}

/// A ping on a healthy connection takes a round trip; a silently dropped peer (no RST, e.g. a NAT
/// entry expired while frozen) would otherwise hang until TCP gives up, minutes later.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a connection with `search_path` set to the configured schema (routing by tenant: the
/// control schema, which holds no tenant's rows).
pub async fn open(config: &DbConfig) -> Result<Client> {
    let client = match &config.tls {
        TlsMode::Disable => {
            let (client, connection) = config.pg.connect(NoTls).await?;
            tokio::spawn(drive(connection));
            client
        }
        TlsMode::VerifyFull { root_cert } => {
            let tls = tokio_postgres_rustls::MakeRustlsConnect::new(
                DbConfig::rustls_config(root_cert)?.as_ref().clone(),
            );
            let (client, connection) = config.pg.connect(tls).await?;
            tokio::spawn(drive(connection));
            client
        }
    };
    let schema = match &config.tenancy {
        Tenancy::Single(schema) => schema.clone(),
        Tenancy::PerTenant(_) => control_schema()?,
    };
    client
        .batch_execute(&format!("SET search_path TO {schema}"))
        .await?;
    Ok(client)
}

async fn drive<C>(connection: C)
where
    C: std::future::Future<Output = std::result::Result<(), tokio_postgres::Error>>,
{
    if let Err(e) = connection.await {
        tracing::warn!(error = %e, "database connection ended");
    }
}

/// Whether [`migrate`] may create the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creation {
    IfMissing,
    /// koku's tenant schemas: koku creates them (and we may lack the privilege to).
    MustExist,
}

/// Creates the schema (if allowed) and applies pending `migrations` to it; concurrent cold starts
/// wait on one lock per schema. Leaves `search_path` on the schema.
pub async fn migrate(
    client: &Client,
    schema: &Identifier,
    creation: Creation,
    migrations: &[(i32, &str, &str)],
) -> Result<()> {
    // Lock first: concurrent CREATE SCHEMA IF NOT EXISTS can still collide on the catalog.
    let lock_key = format!("ocp-summary-migrate:{}", schema.as_str());
    client.execute(MIGRATE_LOCK, &[&lock_key]).await?;
    let result = async {
        if creation == Creation::IfMissing {
            client
                .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .await?;
        }
        client
            .batch_execute(&format!("SET search_path TO {schema}"))
            .await?;
        apply_pending(client, migrations).await
    }
    .await;
    client.execute(MIGRATE_UNLOCK, &[&lock_key]).await?;
    result
}

async fn apply_pending(client: &Client, migrations: &[(i32, &str, &str)]) -> Result<()> {
    client.batch_execute(MIGRATION_HISTORY).await?;
    let applied: Vec<i32> = client
        .query(APPLIED_MIGRATIONS, &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for &(version, name, sql) in migrations {
        if applied.contains(&version) {
            continue;
        }
        tracing::info!(version, name, "applying migration");
        client.batch_execute("BEGIN").await?;
        let step = async {
            client.batch_execute(sql).await?;
            client.execute(RECORD_MIGRATION, &[&version, &name]).await?;
            Ok::<_, Error>(())
        };
        match step.await {
            Ok(()) => client.batch_execute("COMMIT").await?,
            Err(e) => {
                client.batch_execute("ROLLBACK").await.ok();
                return Err(e);
            }
        }
    }
    Ok(())
}
