//! A world routed by tenant (`DB_SCHEMA` unset): its own database, because tenant schema names are
//! fixed (`org1234567`, `acct10001`) and the control schema is one per database, so such tests
//! cannot share a database with each other or with the single-schema tests.

use std::sync::atomic::{AtomicU32, Ordering};

use aws_lambda_events::s3::S3Event;
use lambda_runtime::LambdaEvent;
use ocp_summary::store::{Database, DbConfig};
use serde_json::json;
use tokio_postgres::Client;

use crate::harness::{SOURCE, ingest_settings, put_object, s3_client, s3_event, unique_name};

/// koku's raw key of `account` (the key's account part, e.g. `10001` or `org1234567`).
pub fn tenant_key(account: &str, report: &str, day: chrono::NaiveDate, chunk: u32) -> String {
    use chrono::Datelike;
    format!(
        "data/parquet/{account}/OCP/{report}/source={SOURCE}/year={}/month={:02}/{report}.{day}.1.0_{chunk}.parquet",
        day.year(),
        day.month()
    )
}

pub struct TenantWorld {
    /// The world's database.
    pub url: String,
    pub bucket: String,
    pub s3: aws_sdk_s3::Client,
    pub ingest: ingest::Deps,
    pub rollup: rollup::Deps,
    tenants: String,
    sequencer: AtomicU32,
}

impl TenantWorld {
    /// A fresh database and bucket; the functions route by tenant with `TENANTS=tenants`.
    pub async fn new(test: &str, tenants: &str) -> TenantWorld {
        let name = unique_name(test);
        let server = std::env::var("DATABASE_URL").expect("DATABASE_URL: run through make test");
        let admin = ocp_summary::store::open(&single(&server, "public"))
            .await
            .unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let (base, _) = server
            .rsplit_once('/')
            .expect("DATABASE_URL names a database");
        let url = format!("{base}/{name}");
        let bucket = name.replace('_', "-");
        let s3 = s3_client().await;
        s3.create_bucket().bucket(&bucket).send().await.unwrap();
        let config = routed(&url, tenants);
        TenantWorld {
            ingest: ingest::Deps {
                db: Database::connect(config.clone()).await.unwrap(),
                s3: s3.clone(),
                settings: ingest_settings(),
            },
            rollup: rollup::Deps {
                db: Database::connect(config).await.unwrap(),
            },
            url,
            bucket,
            s3,
            tenants: tenants.to_owned(),
            sequencer: AtomicU32::new(1),
        }
    }

    /// Another ingest execution environment (a cold start of its own).
    pub async fn another_ingest(&self) -> ingest::Deps {
        ingest::Deps {
            db: Database::connect(routed(&self.url, &self.tenants))
                .await
                .unwrap(),
            s3: self.s3.clone(),
            settings: ingest_settings(),
        }
    }

    /// A plain connection to the world's database with `search_path` on `schema`.
    pub async fn sql(&self, schema: &str) -> Client {
        ocp_summary::store::open(&single(&self.url, schema))
            .await
            .unwrap()
    }

    /// Uploads an object; returns its ObjectCreated:Put event.
    pub async fn put_event(&self, key: &str, body: Vec<u8>) -> S3Event {
        let (etag, size) = put_object(&self.s3, &self.bucket, key, body, &[]).await;
        self.event(key, &etag, size)
    }

    /// An ObjectCreated:Put event for `key` (whether or not the object exists).
    pub fn event(&self, key: &str, etag: &str, size: u64) -> S3Event {
        let sequencer = format!("{:016X}", self.sequencer.fetch_add(1, Ordering::SeqCst));
        s3_event(
            &self.bucket,
            "ObjectCreated:Put",
            key,
            Some(etag),
            size,
            &sequencer,
        )
    }

    pub async fn ingest(&self, event: S3Event) -> Vec<ingest::RecordOutcome> {
        ingest::handle(&self.ingest, LambdaEvent::new(event, Default::default()))
            .await
            .map_err(|e| e.0)
            .unwrap()
    }

    /// The scheduled roll-up, now.
    pub async fn roll_up(&self) -> serde_json::Value {
        let event = json!({"scheduled_time": chrono::Utc::now().to_rfc3339()});
        rollup::handle(&self.rollup, LambdaEvent::new(event, Default::default()))
            .await
            .map_err(|e| e.0)
            .unwrap()
    }
}

/// Settings routing by tenant on the database at `url`.
pub fn routed(url: &str, tenants: &str) -> DbConfig {
    DbConfig::from_vars(|k| match k {
        "DATABASE_URL" => Some(url.to_owned()),
        "TENANTS" => Some(tenants.to_owned()),
        _ => None,
    })
    .unwrap()
}

fn single(url: &str, schema: &str) -> DbConfig {
    DbConfig::from_vars(|k| match k {
        "DATABASE_URL" => Some(url.to_owned()),
        "DB_SCHEMA" => Some(schema.to_owned()),
        _ => None,
    })
    .unwrap()
}
