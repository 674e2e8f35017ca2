//! The roll-up Lambda: invoked on a schedule (EventBridge rule or EventBridge Scheduler) or by an
//! operator with a source and a date range or month. The work is derived from the event alone, so a
//! retry of the same event does the same work.

use chrono::{DateTime, NaiveDate, Utc};
use function_runtime::HandlerError;
use lambda_runtime::LambdaEvent;
use ocp_summary::koku::tenant::tenant_schema_named;
use ocp_summary::metrics::{emf_record, peak_rss_kib};
use ocp_summary::rollup::tenants::run_all;
use ocp_summary::rollup::{RollupReport, RollupRequest};
use ocp_summary::store::secret::apply_secret_from_env;
use ocp_summary::store::{Database, DbConfig, Identifier};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

pub struct Deps {
    pub db: Database,
}

impl Deps {
    pub async fn from_env() -> Result<Self, ocp_summary::Error> {
        let mut db_config = DbConfig::from_env()?;
        if std::env::var_os("DB_SECRET_ARN").is_some() {
            let sdk = ocp_summary::aws::load_config(ocp_summary::aws::timeouts()).await;
            apply_secret_from_env(&mut db_config, || aws_sdk_secretsmanager::Client::new(&sdk))
                .await?;
        }
        Ok(Deps {
            db: Database::connect(db_config).await?,
        })
    }
}

/// The shapes the roll-up accepts.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RollupEvent {
    /// An operator's re-summarize: `{"source_uuid": ..., "month": "2025-11"}` or with
    /// `"start_date"`/`"end_date"` (inclusive); routing by tenant, with `"tenant": "org1234567"`
    /// (the schema name).
    Manual {
        source_uuid: Uuid,
        month: Option<String>,
        start_date: Option<NaiveDate>,
        end_date: Option<NaiveDate>,
        tenant: Option<String>,
    },
    /// EventBridge Scheduler input: `{"scheduled_time": "<aws.scheduler.scheduled-time>"}`.
    Scheduler { scheduled_time: DateTime<Utc> },
    /// An EventBridge scheduled rule's event (`"detail-type": "Scheduled Event"`).
    Schedule {
        #[serde(rename = "detail-type")]
        detail_type: String,
        time: DateTime<Utc>,
    },
}

impl RollupEvent {
    /// The tenant schema a manual request names, validated.
    pub fn tenant(&self) -> Result<Option<Identifier>, ocp_summary::Error> {
        match self {
            RollupEvent::Manual {
                tenant: Some(name), ..
            } => tenant_schema_named(name)
                .map(Some)
                .map_err(|e| ocp_summary::Error::Config(format!("tenant: {e}"))),
            _ => Ok(None),
        }
    }

    pub fn request(&self) -> Result<RollupRequest, ocp_summary::Error> {
        let bad = |m: String| ocp_summary::Error::Config(m);
        match self {
            RollupEvent::Scheduler { scheduled_time } => Ok(RollupRequest::Dirty {
                at: *scheduled_time,
            }),
            RollupEvent::Schedule { time, .. } => Ok(RollupRequest::Dirty { at: *time }),
            RollupEvent::Manual {
                source_uuid,
                month,
                start_date,
                end_date,
                ..
            } => match (month, start_date, end_date) {
                (Some(month), None, None) => RollupRequest::month(*source_uuid, month),
                (None, Some(first), Some(last)) => {
                    RollupRequest::range(*source_uuid, *first, *last)
                }
                _ => Err(bad(
                    "give either \"month\" or both \"start_date\" and \"end_date\"".into(),
                )),
            },
        }
    }
}

pub async fn handle(deps: &Deps, event: LambdaEvent<Value>) -> Result<Value, HandlerError> {
    let parsed: RollupEvent = serde_json::from_value(event.payload).map_err(|e| {
        HandlerError(ocp_summary::Error::Config(format!(
            "not a schedule, Scheduler input or manual request: {e}"
        )))
    })?;
    let request = parsed.request().map_err(HandlerError)?;
    let tenant = parsed.tenant().map_err(HandlerError)?;
    tracing::info!(?request, ?tenant, "roll-up starting");
    let report = run_all(&deps.db, &request, tenant.as_ref(), |p| {
        tracing::info!(
            tenant = p.tenant.map(Identifier::as_str),
            chunk = p.index + 1,
            of = p.total,
            source = %p.chunk.source,
            first_day = %p.chunk.days[0].day,
            days = p.chunk.days.len(),
            rows = p.rows_written,
            elapsed_ms = p.elapsed_ms as u64,
            "rolled up chunk"
        );
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, kind = e.kind(), "roll-up failed; will be retried");
        HandlerError(e)
    })?;
    emit_metrics(&report);
    Ok(json!({
        "chunks": report.chunks,
        "days": report.days,
        "rows_written": report.rows_written,
        "elapsed_ms": report.elapsed_ms as u64,
    }))
}

fn emit_metrics(report: &RollupReport) {
    let record = emf_record(
        "OcpSummary",
        &[("Function", "rollup")],
        &[
            ("DaysRolledUp", "Count", report.days as f64),
            ("Chunks", "Count", report.chunks as f64),
            ("SummaryRowsWritten", "Count", report.rows_written as f64),
            (
                "PeakRssKiB",
                "Kilobytes",
                peak_rss_kib().unwrap_or(0) as f64,
            ),
            ("ElapsedMs", "Milliseconds", report.elapsed_ms as f64),
        ],
        &[],
    );
    println!("{record}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> RollupRequest {
        serde_json::from_value::<RollupEvent>(v)
            .unwrap()
            .request()
            .unwrap()
    }

    #[test]
    fn schedules_take_their_time_from_the_event() {
        let at: DateTime<Utc> = "2025-11-02T02:00:00Z".parse().unwrap();
        let rule = json!({"version": "0", "id": "x", "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "1", "time": "2025-11-02T02:00:00Z",
            "region": "us-east-1", "resources": [], "detail": {}});
        assert_eq!(parse(rule), RollupRequest::Dirty { at });
        assert_eq!(
            parse(json!({"scheduled_time": "2025-11-02T02:00:00Z"})),
            RollupRequest::Dirty { at }
        );
    }

    #[test]
    fn manual_requests_name_a_month_or_a_range() {
        let source = "5235154c-2132-56b5-8b3d-2a3a00f342f5";
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            parse(json!({"source_uuid": source, "month": "2024-02"})),
            RollupRequest::Range {
                source: source.parse().unwrap(),
                first: d("2024-02-01"),
                last: d("2024-02-29")
            }
        );
        assert_eq!(
            parse(
                json!({"source_uuid": source, "start_date": "2025-11-03", "end_date": "2025-11-05"})
            ),
            RollupRequest::Range {
                source: source.parse().unwrap(),
                first: d("2025-11-03"),
                last: d("2025-11-05")
            }
        );
        let bad = serde_json::from_value::<RollupEvent>(json!({"source_uuid": source})).unwrap();
        assert!(bad.request().is_err());
        let named = serde_json::from_value::<RollupEvent>(
            json!({"source_uuid": source, "month": "2025-11", "tenant": "acct10001"}),
        )
        .unwrap();
        assert_eq!(named.tenant().unwrap().unwrap().as_str(), "acct10001");
        let hostile = serde_json::from_value::<RollupEvent>(
            json!({"source_uuid": source, "month": "2025-11", "tenant": "public"}),
        )
        .unwrap();
        assert!(hostile.tenant().is_err());
        let bad = serde_json::from_value::<RollupEvent>(
            json!({"source_uuid": source, "start_date": "2025-11-05", "end_date": "2025-11-03"}),
        )
        .unwrap();
        assert!(bad.request().is_err());
    }
}
