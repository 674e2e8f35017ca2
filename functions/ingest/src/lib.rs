//! The ingest Lambda: S3 object-created/removed records in, one object's partials each.
//! All logic is in `ocp-summary`; this crate maps the event in and the outcome (and errors) out.

use aws_lambda_events::s3::{S3Event, S3EventRecord};
use function_runtime::HandlerError;
use lambda_runtime::LambdaEvent;
use ocp_summary::ingest::versions::ObjectEvent;
use ocp_summary::ingest::{IngestFigures, IngestSettings, Outcome, ingest_object};
use ocp_summary::koku::layout::decode_event_key;
use ocp_summary::metrics::{emf_record, peak_rss_kib};
use ocp_summary::read::s3_object::S3Object;
use ocp_summary::store::secret::apply_secret_from_env;
use ocp_summary::store::{Database, DbConfig};
use serde::Serialize;
use serde_json::json;

/// Clients built once per execution environment.
pub struct Deps {
    pub db: Database,
    pub s3: aws_sdk_s3::Client,
    pub settings: IngestSettings,
}

impl Deps {
    /// Reads the configuration, connects to Postgres (applying migrations) and builds the S3 client.
    pub async fn from_env() -> Result<Self, ocp_summary::Error> {
        let settings = IngestSettings::from_env()?;
        let sdk = ocp_summary::aws::load_config(ocp_summary::aws::timeouts()).await;
        let mut db_config = DbConfig::from_env()?;
        apply_secret_from_env(&mut db_config, || aws_sdk_secretsmanager::Client::new(&sdk)).await?;
        let db = Database::connect(db_config).await?;
        Ok(Deps {
            db,
            s3: s3_client(&sdk),
            settings,
        })
    }
}

/// The S3 client of [`Deps::from_env`]: `sdk`'s timeouts, path-style addressing when
/// `S3_FORCE_PATH_STYLE=true` (S3-compatible servers on one host name).
pub fn s3_client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let mut s3 = aws_sdk_s3::config::Builder::from(sdk);
    if std::env::var("S3_FORCE_PATH_STYLE").is_ok_and(|v| v == "true") {
        s3 = s3.force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(s3.build())
}

#[derive(Debug, Serialize)]
pub struct RecordOutcome {
    pub key: String,
    pub outcome: String,
    pub detail: Option<String>,
}

/// Handles every record; the first transient failure fails the invocation so it is retried (the
/// records already done are idempotent).
pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<S3Event>,
) -> Result<Vec<RecordOutcome>, HandlerError> {
    let mut outcomes = Vec::with_capacity(event.payload.records.len());
    for record in &event.payload.records {
        let Some(object) = object_event(record) else {
            tracing::warn!("record without bucket or key; skipped");
            continue;
        };
        let size = record.s3.object.size.and_then(|s| u64::try_from(s).ok());
        let s3 = deps.s3.clone();
        let open = || {
            S3Object::open(
                s3,
                &object.bucket,
                &object.key,
                object.etag.as_deref(),
                size,
            )
        };
        let report = ingest_object(&deps.db, &object, open, &deps.settings)
            .await
            .map_err(|e| {
                tracing::error!(key = %object.key, error = %e, kind = e.kind(), "ingest failed; will be retried");
                HandlerError(e)
            })?;
        emit_metrics(&report);
        outcomes.push(outcome_of(report));
    }
    Ok(outcomes)
}

/// The domain view of a record: decoded key, bare ETag, and whether it is a removal.
pub fn object_event(record: &S3EventRecord) -> Option<ObjectEvent> {
    let bucket = record.s3.bucket.name.clone()?;
    let key = decode_event_key(record.s3.object.key.as_deref()?).into_owned();
    Some(ObjectEvent {
        bucket,
        key,
        etag: record
            .s3
            .object
            .e_tag
            .as_ref()
            .map(|e| e.trim_matches('"').to_owned()),
        sequencer: record.s3.object.sequencer.clone(),
        removed: record
            .event_name
            .as_deref()
            .is_some_and(|n| n.starts_with("ObjectRemoved")),
    })
}

fn outcome_of(report: IngestFigures) -> RecordOutcome {
    let (outcome, detail) = match report.outcome {
        Outcome::Ingested => ("ingested", report.payload_status),
        Outcome::Removed => ("removed", None),
        Outcome::AlreadyCurrent => ("already_current", None),
        Outcome::Stale => ("stale", None),
        Outcome::Skipped(why) => ("skipped", Some(why.to_owned())),
        Outcome::Superseded(why) => ("superseded", Some(why)),
        Outcome::Rejected(why) => ("rejected", Some(why)),
    };
    RecordOutcome {
        key: report.key,
        outcome: outcome.to_owned(),
        detail,
    }
}

/// One EMF record per object: rows, row groups, bytes fetched vs size, partial rows, peak RSS, time,
/// and how long decoding waited for the fetch and for the database.
fn emit_metrics(report: &IngestFigures) {
    let record = emf_record(
        "OcpSummary",
        &[("Function", "ingest")],
        &[
            ("RowsRead", "Count", report.rows.rows_read as f64),
            (
                "RowsDroppedAnomalous",
                "Count",
                report.rows.rows_anomalous as f64,
            ),
            (
                "RowsOutsideMonth",
                "Count",
                report.rows.rows_outside_month as f64,
            ),
            ("RowGroups", "Count", report.row_groups as f64),
            ("BytesFetched", "Bytes", report.bytes_fetched as f64),
            ("ObjectSize", "Bytes", report.object_size as f64),
            ("PartialRowsWritten", "Count", report.partial_rows as f64),
            (
                "PeakRssKiB",
                "Kilobytes",
                peak_rss_kib().unwrap_or(0) as f64,
            ),
            ("ElapsedMs", "Milliseconds", report.elapsed_ms as f64),
            ("FetchWaitMs", "Milliseconds", report.fetch_wait_ms as f64),
            ("WriteWaitMs", "Milliseconds", report.write_wait_ms as f64),
        ],
        &[
            ("key", json!(report.key)),
            ("outcome", json!(format!("{:?}", report.outcome))),
            ("passes", json!(report.passes)),
        ],
    );
    // EMF must be a log line of its own, untouched by the log formatter.
    println!("{record}");
}
