//! The real services of `make test`: a throwaway PostgreSQL (`DATABASE_URL`) and an S3-compatible
//! server (`AWS_ENDPOINT_URL_S3`). Each test gets its own schema and bucket, so tests run in parallel.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_lambda_events::s3::S3Event;
use lambda_runtime::LambdaEvent;
use ocp_summary::ingest::{IngestSettings, MemoryBudget, Overhead};
use ocp_summary::store::{Database, DbConfig};
use serde_json::json;
use tokio_postgres::Client;

pub const SOURCE: &str = "5235154c-2132-56b5-8b3d-2a3a00f342f5";

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run the tests through `make test`, which starts PostgreSQL and S3"
        )
    })
}

/// The test PostgreSQL's port on loopback.
pub fn pg_port() -> u16 {
    var("PGPORT").parse().unwrap()
}

/// A unique, valid schema/bucket name for a test.
pub fn unique_name(test: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let clean: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(30)
        .collect();
    format!("t_{clean}_{}_{n}", std::process::id())
}

pub fn db_config(schema: &str) -> DbConfig {
    db_config_from(var("DATABASE_URL"), schema)
}

/// The test database reached through another loopback port (a proxy in front of PostgreSQL).
pub fn db_config_via(port: u16, schema: &str) -> DbConfig {
    let url = var("DATABASE_URL");
    let server = format!(":{}/", var("PGPORT"));
    assert!(url.contains(&server), "{url} does not name port {server}");
    db_config_from(url.replace(&server, &format!(":{port}/")), schema)
}

fn db_config_from(url: String, schema: &str) -> DbConfig {
    DbConfig::from_vars(|k| match k {
        "DATABASE_URL" => Some(url.clone()),
        "DB_SCHEMA" => Some(schema.to_owned()),
        _ => None,
    })
    .unwrap()
}

/// A plain connection with `search_path` on the test's schema, for assertions.
pub async fn sql(schema: &str) -> Client {
    ocp_summary::store::open(&db_config(schema)).await.unwrap()
}

/// The AWS configuration of the test services (moto serves every AWS service on one port).
pub async fn services_sdk_config() -> aws_config::SdkConfig {
    var("AWS_ENDPOINT_URL_S3");
    aws_config::load_defaults(aws_config::BehaviorVersion::latest())
        .await
        .into_builder()
        .endpoint_url(var("AWS_ENDPOINT_URL_S3"))
        .build()
}

pub async fn s3_client() -> aws_sdk_s3::Client {
    let sdk = services_sdk_config().await;
    let config = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// One test's world: schema, bucket, the two functions' dependencies.
pub struct TestEnv {
    pub schema: String,
    pub bucket: String,
    pub s3: aws_sdk_s3::Client,
    pub ingest: ingest::Deps,
    pub rollup: rollup::Deps,
    sequencer: AtomicU32,
}

impl TestEnv {
    pub async fn new(test: &str) -> TestEnv {
        TestEnv::with_db(test, db_config).await
    }

    /// Like [`TestEnv::new`], with the functions' connections configured by `config` (given the
    /// schema), e.g. through a proxy.
    pub async fn with_db(test: &str, config: impl Fn(&str) -> DbConfig) -> TestEnv {
        let schema = unique_name(test);
        let bucket = schema.replace('_', "-");
        let s3 = s3_client().await;
        s3.create_bucket().bucket(&bucket).send().await.unwrap();
        let ingest = ingest::Deps {
            db: Database::connect(config(&schema)).await.unwrap(),
            s3: s3.clone(),
            settings: ingest_settings(),
        };
        let rollup = rollup::Deps {
            db: Database::connect(config(&schema)).await.unwrap(),
        };
        TestEnv {
            schema,
            bucket,
            s3,
            ingest,
            rollup,
            sequencer: AtomicU32::new(1),
        }
    }

    pub async fn sql(&self) -> Client {
        sql(&self.schema).await
    }

    /// Another ingest execution environment: its own connection, the same bucket and settings.
    pub async fn another_ingest(&self) -> ingest::Deps {
        ingest::Deps {
            db: Database::connect(db_config(&self.schema)).await.unwrap(),
            s3: self.s3.clone(),
            settings: self.ingest.settings.clone(),
        }
    }

    /// Writes `event` to a file for a function binary's `--event`.
    pub fn event_file(&self, name: &str, event: &impl serde::Serialize) -> PathBuf {
        let path = std::env::temp_dir().join(format!("{}-{name}.json", self.schema));
        std::fs::write(&path, serde_json::to_vec(event).unwrap()).unwrap();
        path
    }

    /// The release binary `ingest` or `rollup` handling `event_file` on this test's schema, with
    /// the services' environment inherited (as Lambda would pass its configuration).
    pub fn function_command(&self, binary: &str, event_file: &Path) -> Command {
        let mut command = Command::new(release_binary(binary));
        command
            .arg("--event")
            .arg(event_file)
            .env("DB_SCHEMA", &self.schema)
            .env("S3_FORCE_PATH_STYLE", "true")
            .env("RUST_LOG", "warn");
        command
    }

    /// Uploads an object; returns its ETag (bare) and size.
    pub async fn put(&self, key: &str, body: Vec<u8>) -> (String, u64) {
        put_object(&self.s3, &self.bucket, key, body, &[]).await
    }

    /// Uploads an object with S3 user metadata (as koku tags payloads) and returns the matching
    /// ObjectCreated:Put event (with a fresh sequencer).
    pub async fn put_event_with_metadata(
        &self,
        key: &str,
        body: Vec<u8>,
        metadata: &[(&str, &str)],
    ) -> S3Event {
        let (etag, size) = put_object(&self.s3, &self.bucket, key, body, metadata).await;
        self.created_event(key, &etag, size)
    }

    /// Deletes an object and returns the matching ObjectRemoved:Delete event.
    pub async fn delete_event(&self, key: &str) -> S3Event {
        self.s3
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .unwrap();
        s3_event(
            &self.bucket,
            "ObjectRemoved:Delete",
            key,
            None,
            0,
            &self.next_sequencer(),
        )
    }

    pub fn next_sequencer(&self) -> String {
        format!("{:016X}", self.sequencer.fetch_add(1, Ordering::SeqCst))
    }

    /// Uploads and returns the matching ObjectCreated:Put event (with a fresh sequencer).
    pub async fn put_event(&self, key: &str, body: Vec<u8>) -> S3Event {
        let (etag, size) = self.put(key, body).await;
        self.created_event(key, &etag, size)
    }

    fn created_event(&self, key: &str, etag: &str, size: u64) -> S3Event {
        s3_event(
            &self.bucket,
            "ObjectCreated:Put",
            key,
            Some(etag),
            size,
            &self.next_sequencer(),
        )
    }

    pub async fn ingest(&self, event: S3Event) -> Vec<ingest::RecordOutcome> {
        self.try_ingest(event).await.unwrap()
    }

    pub async fn try_ingest(
        &self,
        event: S3Event,
    ) -> Result<Vec<ingest::RecordOutcome>, function_runtime::HandlerError> {
        ingest::handle(&self.ingest, LambdaEvent::new(event, Default::default())).await
    }

    /// Runs the scheduled roll-up as the schedule would, now.
    pub async fn roll_up(&self) -> serde_json::Value {
        let event = json!({"scheduled_time": chrono::Utc::now().to_rfc3339()});
        self.roll_up_event(event).await
    }

    pub async fn roll_up_event(&self, event: serde_json::Value) -> serde_json::Value {
        rollup::handle(&self.rollup, LambdaEvent::new(event, Default::default()))
            .await
            .map_err(|e| e.0)
            .unwrap()
    }
}

/// The functions' settings with a fixed overhead: the test process runs many ingests at once, so
/// its resident size says nothing about one of them (the release-binary tests measure that).
pub fn ingest_settings() -> IngestSettings {
    let budget = MemoryBudget::with_ceiling_mib(MemoryBudget::DEFAULT_CEILING_MIB).unwrap();
    IngestSettings {
        budget: budget.with_overhead(Overhead::Fixed(48 << 20)),
        spill_dir: std::env::temp_dir(),
    }
}

/// `target/release/<name>`, built by `make test` before the tests run.
pub fn release_binary(name: &str) -> PathBuf {
    // target/release/deps/<test binary> → target/release/<name>
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join(name);
    assert!(
        path.exists(),
        "{} missing: run `cargo build --release --bins` (make test does)",
        path.display()
    );
    path
}

/// Every table ingest writes to, for checks that a failed attempt left nothing.
pub const INGEST_TABLES: [&str; 9] = [
    "ocp_pod_usage_partial",
    "ocp_gpu_usage_partial",
    "ocp_node_capacity_partial",
    "ocp_storage_usage_partial",
    "ocp_node_labels_partial",
    "ocp_namespace_labels_partial",
    "ocp_ingested_object",
    "ocp_dirty_day",
    "ocp_ingest_error",
];

/// Asserts that no ingest table has a row.
pub async fn assert_nothing_ingested(client: &Client) {
    for table in INGEST_TABLES {
        assert_eq!(count(client, table).await, 0, "{table} must be empty");
    }
}

pub async fn count(client: &Client, table: &str) -> i64 {
    client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap()
        .get(0)
}

/// An S3 notification record as S3 sends it: key form-urlencoded.
pub fn s3_event(
    bucket: &str,
    name: &str,
    key: &str,
    etag: Option<&str>,
    size: u64,
    sequencer: &str,
) -> S3Event {
    let encoded = form_urlencode(key);
    let mut object = json!({"key": encoded, "sequencer": sequencer});
    if !name.starts_with("ObjectRemoved") {
        object["size"] = json!(size);
        object["eTag"] = json!(etag);
    }
    serde_json::from_value(json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2025-11-02T00:00:00.000Z", "eventName": name,
        "userIdentity": {"principalId": "AWS:TEST"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "TEST", "x-amz-id-2": "test"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "test",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "TEST"}, "arn": format!("arn:aws:s3:::{bucket}")},
               "object": object}
    }]}))
    .unwrap()
}

/// S3's event key encoding: spaces as `+`, reserved characters percent-encoded.
pub fn form_urlencode(key: &str) -> String {
    key.bytes()
        .map(|b| match b {
            b' ' => "+".to_owned(),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' | b'*' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Uploads an object with S3 user metadata; returns its ETag (bare) and size.
pub async fn put_object(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
    metadata: &[(&str, &str)],
) -> (String, u64) {
    let size = body.len() as u64;
    let mut put = s3.put_object().bucket(bucket).key(key).body(body.into());
    for (name, value) in metadata {
        put = put.metadata(*name, *value);
    }
    let out = put.send().await.unwrap();
    (out.e_tag().unwrap().trim_matches('"').to_owned(), size)
}

/// koku's raw key for a report type, day and file chunk.
pub fn raw_key(report: &str, day: chrono::NaiveDate, chunk: u32) -> String {
    use chrono::Datelike;
    format!(
        "data/parquet/org1234567/OCP/{report}/source={SOURCE}/year={}/month={:02}/{report}.{day}.1.0_{chunk}.parquet",
        day.year(),
        day.month()
    )
}

/// Float assertion with a relative tolerance (koku's values are 15 significant digits).
#[track_caller]
pub fn assert_close(actual: f64, expected: f64, what: &str) {
    let tolerance = 1e-9 * expected.abs().max(1e-9);
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: got {actual}, expected {expected}"
    );
}

/// One summary row as the tests compare it: text columns and numbers by name.
#[derive(Debug, Clone)]
pub struct SummaryRow {
    pub data_source: String,
    pub usage_start: String,
    pub namespace: Option<String>,
    pub node: Option<String>,
    pub resource_id: Option<String>,
    pub pvc: Option<String>,
    pub pod_labels: Option<serde_json::Value>,
    pub volume_labels: Option<serde_json::Value>,
    pub all_labels: Option<serde_json::Value>,
    pub cost_category: Option<String>,
    pub numbers: std::collections::BTreeMap<String, Option<f64>>,
}

impl SummaryRow {
    #[track_caller]
    pub fn num(&self, column: &str) -> f64 {
        self.numbers
            .get(column)
            .unwrap_or_else(|| panic!("no column {column}"))
            .unwrap_or_else(|| panic!("{column} is NULL in {self:?}"))
    }

    pub fn is_null(&self, column: &str) -> bool {
        self.numbers.get(column).is_some_and(Option::is_none)
    }
}

pub const NUMBER_COLUMNS: [&str; 20] = [
    "pod_usage_cpu_core_hours",
    "pod_request_cpu_core_hours",
    "pod_effective_usage_cpu_core_hours",
    "pod_limit_cpu_core_hours",
    "pod_usage_memory_gigabyte_hours",
    "pod_request_memory_gigabyte_hours",
    "pod_effective_usage_memory_gigabyte_hours",
    "pod_limit_memory_gigabyte_hours",
    "node_capacity_cpu_cores",
    "node_capacity_cpu_core_hours",
    "node_capacity_memory_gigabytes",
    "node_capacity_memory_gigabyte_hours",
    "cluster_capacity_cpu_core_hours",
    "cluster_capacity_memory_gigabyte_hours",
    "persistentvolumeclaim_capacity_gigabyte",
    "persistentvolumeclaim_capacity_gigabyte_months",
    "volume_request_storage_gigabyte_months",
    "persistentvolumeclaim_usage_gigabyte_months",
    "infrastructure_raw_cost",
    "distributed_cost",
];

/// Every summary row, ordered by day, source, namespace, node, claim.
pub async fn summary_rows(client: &Client) -> Vec<SummaryRow> {
    let numbers = NUMBER_COLUMNS
        .iter()
        .map(|c| format!("s.{c}::float8"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT s.data_source, s.usage_start::text, s.namespace::text, s.node::text, s.resource_id::text,
                s.persistentvolumeclaim::text, s.pod_labels, s.volume_labels, s.all_labels, c.name, {numbers}
         FROM reporting_ocpusagelineitem_daily_summary s
         LEFT JOIN reporting_ocp_cost_category c ON c.id = s.cost_category_id
         ORDER BY s.usage_start, s.data_source, s.namespace NULLS FIRST, s.node NULLS FIRST,
                  s.persistentvolumeclaim NULLS FIRST, s.pod_labels::text NULLS FIRST"
    );
    client
        .query(&sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| SummaryRow {
            data_source: r.get(0),
            usage_start: r.get(1),
            namespace: r.get(2),
            node: r.get(3),
            resource_id: r.get(4),
            pvc: r.get(5),
            pod_labels: r.get(6),
            volume_labels: r.get(7),
            all_labels: r.get(8),
            cost_category: r.get(9),
            numbers: NUMBER_COLUMNS
                .iter()
                .enumerate()
                .map(|(i, c)| ((*c).to_owned(), r.get(10 + i)))
                .collect(),
        })
        .collect()
}

/// The single row matching `pick`, with a readable failure.
#[track_caller]
pub fn one<'a>(
    rows: &'a [SummaryRow],
    what: &str,
    pick: impl Fn(&SummaryRow) -> bool,
) -> &'a SummaryRow {
    let found: Vec<&SummaryRow> = rows.iter().filter(|r| pick(r)).collect();
    assert_eq!(
        found.len(),
        1,
        "{what}: expected one row, found {}: {rows:#?}",
        found.len()
    );
    found[0]
}

/// Checks named numbers of a row.
#[track_caller]
pub fn assert_numbers(row: &SummaryRow, expected: &[(&str, f64)]) {
    for (column, value) in expected {
        assert_close(
            row.num(column),
            *value,
            &format!(
                "{} {:?} {:?} {column}",
                row.data_source, row.namespace, row.node
            ),
        );
    }
}

/// Totals of the summary's Pod rows of real namespaces (`ns-*`, not the unallocated rows) of a day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PodTotals {
    pub rows: i64,
    pub cpu_usage_core_hours: f64,
    pub cpu_request_core_hours: f64,
    pub memory_usage_gib_hours: f64,
}

pub async fn pod_totals(client: &Client, day: chrono::NaiveDate) -> PodTotals {
    let row = client
        .query_one(
            "SELECT count(*), coalesce(sum(pod_usage_cpu_core_hours), 0)::float8,
                    coalesce(sum(pod_request_cpu_core_hours), 0)::float8,
                    coalesce(sum(pod_usage_memory_gigabyte_hours), 0)::float8
             FROM reporting_ocpusagelineitem_daily_summary
             WHERE data_source = 'Pod' AND usage_start = $1 AND namespace LIKE 'ns-%'",
            &[&day],
        )
        .await
        .unwrap();
    PodTotals {
        rows: row.get(0),
        cpu_usage_core_hours: row.get(1),
        cpu_request_core_hours: row.get(2),
        memory_usage_gib_hours: row.get(3),
    }
}

/// The Pod totals of a day of [`crate::koku_parquet::fleet`] pods, worked out by hand: per pod,
/// 0.25 core, 0.5 core requested and 1 GiB for 24 hours; one row per (namespace, node) pair in use
/// (pod labels are dropped: no tag key is enabled), pod `k` on pair (k mod 3, k mod 2), so up to 6.
#[track_caller]
pub fn assert_fleet_totals(actual: PodTotals, pods: usize) {
    assert_eq!(actual.rows, pods.min(6) as i64, "Pod rows: {actual:?}");
    let pods = pods as f64;
    assert_close(actual.cpu_usage_core_hours, pods * 0.25 * 24.0, "CPU usage");
    assert_close(
        actual.cpu_request_core_hours,
        pods * 0.5 * 24.0,
        "CPU request",
    );
    assert_close(actual.memory_usage_gib_hours, pods * 24.0, "memory usage");
}

/// Sum of the CPU usage core-seconds in the pod partials (before any roll-up).
pub async fn partial_cpu_seconds(client: &Client) -> f64 {
    client
        .query_one(
            "SELECT coalesce(sum(pod_usage_cpu_core_seconds), 0)::float8 FROM ocp_pod_usage_partial",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}
