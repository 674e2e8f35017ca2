//! PostgreSQL access: connection (with TLS when configured), migrations, and the two writers —
//! [`objects`] for ingest and [`crate::rollup`] for the summary.

pub mod config;
pub(crate) mod copy;
pub mod objects;
pub mod partial_tables;
pub mod secret;

use std::time::Duration;

use tokio::sync::{Mutex, MutexGuard};
use tokio_postgres::{Client, NoTls};

pub use config::{DbConfig, Identifier, TlsMode};

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

const MIGRATE_LOCK: &str = include_str!("../../sql/migrate/lock.sql");
const MIGRATE_UNLOCK: &str = include_str!("../../sql/migrate/unlock.sql");
const MIGRATION_HISTORY: &str = include_str!("../../sql/migrate/history.sql");
const APPLIED_MIGRATIONS: &str = include_str!("../../sql/migrate/applied.sql");
const RECORD_MIGRATION: &str = include_str!("../../sql/migrate/record.sql");

/// One connection per execution environment, re-established once if it broke while frozen.
pub struct Database {
    config: DbConfig,
    client: Mutex<Client>,
}

impl Database {
    /// Connects and applies pending migrations.
    pub async fn connect(config: DbConfig) -> Result<Self> {
        let client = open(&config).await?;
        migrate(&client, &config.schema).await?;
        Ok(Database {
            config,
            client: Mutex::new(client),
        })
    }

    pub fn schema(&self) -> &Identifier {
        &self.config.schema
    }

    /// The connection, checked with one round trip and replaced once if it is dead.
    ///
    /// A connection the server dropped while Lambda was frozen usually does not look closed yet:
    /// the FIN or RST is only seen on the next write. Checking here, before any statement of the
    /// caller's transaction, makes the one retry safe; later failures fail the invocation instead.
    pub async fn client(&self) -> Result<MutexGuard<'_, Client>> {
        let mut guard = self.client.lock().await;
        let alive = !guard.is_closed()
            && matches!(
                tokio::time::timeout(PING_TIMEOUT, guard.batch_execute("")).await,
                Ok(Ok(()))
            );
        if !alive {
            tracing::warn!("database connection is dead; reconnecting");
            *guard = open(&self.config).await?;
        }
        Ok(guard)
    }
}

/// A ping on a healthy connection takes a round trip; a silently dropped peer (no RST, e.g. a NAT
/// entry expired while frozen) would otherwise hang until TCP gives up, minutes later.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a connection with `search_path` set to the configured schema.
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
    client
        .batch_execute(&format!("SET search_path TO {}", config.schema))
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

/// Creates the schema and applies pending migrations; concurrent cold starts wait on one lock.
pub async fn migrate(client: &Client, schema: &Identifier) -> Result<()> {
    // Lock first: concurrent CREATE SCHEMA IF NOT EXISTS can still collide on the catalog.
    let lock_key = format!("ocp-summary-migrate:{}", schema.as_str());
    client.execute(MIGRATE_LOCK, &[&lock_key]).await?;
    let result = async {
        client
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await?;
        apply_pending(client).await
    }
    .await;
    client.execute(MIGRATE_UNLOCK, &[&lock_key]).await?;
    result
}

async fn apply_pending(client: &Client) -> Result<()> {
    client.batch_execute(MIGRATION_HISTORY).await?;
    let applied: Vec<i32> = client
        .query(APPLIED_MIGRATIONS, &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for &(version, name, sql) in MIGRATIONS {
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
