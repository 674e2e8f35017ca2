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
