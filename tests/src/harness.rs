//! The real services of `make test`: a throwaway PostgreSQL (`DATABASE_URL`) and an S3-compatible
//! server (`AWS_ENDPOINT_URL_S3`). Each test gets its own schema and bucket, so tests run in parallel.

use std::sync::atomic::{AtomicU32, Ordering};

use aws_lambda_events::s3::S3Event;
use lambda_runtime::LambdaEvent;
use ocp_summary::ingest::IngestSettings;
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
    let url = var("DATABASE_URL");
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

pub async fn s3_client() -> aws_sdk_s3::Client {
    var("AWS_ENDPOINT_URL_S3");
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
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
        let schema = unique_name(test);
        let bucket = schema.replace('_', "-");
        let s3 = s3_client().await;
        s3.create_bucket().bucket(&bucket).send().await.unwrap();
        let ingest = ingest::Deps {
            db: Database::connect(db_config(&schema)).await.unwrap(),
            s3: s3.clone(),
            settings: IngestSettings {
                memory_ceiling: 128 << 20,
                spill_dir: std::env::temp_dir(),
                batch_size: 8192,
                state_budget: (128 << 20) * 3 / 10,
            },
        };
        let rollup = rollup::Deps {
            db: Database::connect(db_config(&schema)).await.unwrap(),
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

    /// Uploads an object; returns its ETag (bare) and size.
    pub async fn put(&self, key: &str, body: Vec<u8>) -> (String, u64) {
        let size = body.len() as u64;
        let out = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(body.into())
            .send()
            .await
            .unwrap();
        (out.e_tag().unwrap().trim_matches('"').to_owned(), size)
    }

    pub fn next_sequencer(&self) -> String {
        format!("{:016X}", self.sequencer.fetch_add(1, Ordering::SeqCst))
    }

    /// Uploads and returns the matching ObjectCreated:Put event (with a fresh sequencer).
    pub async fn put_event(&self, key: &str, body: Vec<u8>) -> S3Event {
        let (etag, size) = self.put(key, body).await;
        s3_event(
            &self.bucket,
            "ObjectCreated:Put",
            key,
            Some(&etag),
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
    ) -> Result<Vec<ingest::RecordOutcome>, ingest::HandlerError> {
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
