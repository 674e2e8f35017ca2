//! `ocp-summary`: what an operator otherwise does by writing event JSON by hand — ingest one
//! object, re-summarize or backfill, look at the state of a schema, apply migrations — on the same
//! code paths as the functions. Configuration is the functions' environment (`DATABASE_URL` or
//! `PG*`, `DB_SCHEMA`, `MEMORY_CEILING_MIB`, `AWS_*`).

mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{NaiveDate, Utc};
use clap::{Args, Parser, Subcommand};
use ocp_summary::ingest::versions::ObjectEvent;
use ocp_summary::ingest::{IngestFigures, ingest_object};
use ocp_summary::koku::tenant::tenant_schema_named;
use ocp_summary::read::object_source::LocalObject;
use ocp_summary::read::s3_object::S3Object;
use ocp_summary::rollup::RollupRequest;
use ocp_summary::rollup::tenants::run_all;
use ocp_summary::store::status::status;
use ocp_summary::store::{Database, Identifier, Tenancy};
use uuid::Uuid;

#[derive(Parser)]
#[command(
    name = "ocp-summary",
    version,
    about = "Operate the OpenShift cost summary pipeline"
)]
struct Cli {
    /// The schema to work in, for every object whatever its key (overrides DB_SCHEMA).
    #[arg(long, global = true, conflicts_with = "tenant")]
    schema: Option<String>,
    /// Routing by tenant (DB_SCHEMA unset): the tenant schema to look at or roll up
    /// (org<digits> or acct<digits>).
    #[arg(long, global = true)]
    tenant: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ingest one object (s3://bucket/key) or local Parquet file into partials, as the ingest
    /// function does for an ObjectCreated event.
    Ingest {
        /// s3://bucket/key, or a path to a local file.
        object: String,
        /// The object key a local file stands for (koku's raw layout,
        /// data/parquet/{account}/OCP/{report}/source=…/year=…/month=…/…); by default the part of
        /// the path from `data/parquet/` on.
        #[arg(long)]
        key: Option<String>,
    },
    /// Roll up the partials into koku's summary tables.
    Rollup(RollupArgs),
    /// Per source: objects, the latest object of each day, days waiting for a roll-up; error rows.
    Status {
        /// Days shown per source, newest first.
        #[arg(long, default_value_t = 7)]
        days: i64,
        /// Error rows shown, newest first.
        #[arg(long, default_value_t = 10)]
        errors: i64,
    },
    /// Create the schema and apply pending migrations.
    Migrate,
}

#[derive(Args)]
struct RollupArgs {
    /// Every day marked dirty until now, as the schedule does.
    #[arg(long, conflicts_with_all = ["source", "month", "from", "to"])]
    dirty: bool,
    /// Re-summarize this source (with --month, or --from and --to).
    #[arg(long, required_unless_present = "dirty")]
    source: Option<Uuid>,
    /// A month, YYYY-MM.
    #[arg(long, requires = "source", conflicts_with_all = ["from", "to"])]
    month: Option<String>,
    /// First day, YYYY-MM-DD (with --to, inclusive).
    #[arg(long, requires_all = ["source", "to"])]
    from: Option<NaiveDate>,
    /// Last day, YYYY-MM-DD.
    #[arg(long, requires = "from")]
    to: Option<NaiveDate>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(schema) = &cli.schema {
        // SAFETY: the process has one thread here: the runtime below is not built yet.
        unsafe { std::env::set_var("DB_SCHEMA", schema) };
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, cli.tenant.as_deref())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, tenant: Option<&str>) -> Result<(), ocp_summary::Error> {
    let tenant = tenant
        .map(|t| {
            tenant_schema_named(t).map_err(|e| ocp_summary::Error::Config(format!("--tenant: {e}")))
        })
        .transpose()?;
    match command {
        Command::Ingest { object, key } => {
            let figures = match object.strip_prefix("s3://") {
                Some(location) => ingest_s3(location).await?,
                None => ingest_local(PathBuf::from(&object), key).await?,
            };
            print_ingest(&figures);
        }
        Command::Rollup(args) => {
            let request = rollup_request(&args)?;
            let deps = rollup_function::Deps::from_env().await?;
            let mut progress = progress::Progress::new();
            let report = run_all(&deps.db, &request, tenant.as_ref(), |p| {
                progress.chunk_done(p)
            })
            .await?;
            progress.finish();
            println!(
                "rolled up {} days in {} chunks: {} summary rows in {:.1} s",
                report.days,
                report.chunks,
                report.rows_written,
                report.elapsed_ms as f64 / 1000.0
            );
        }
        Command::Status { days, errors } => {
            let deps = rollup_function::Deps::from_env().await?;
            let schema = schema_of(&deps.db, tenant).await?;
            let client = deps.db.client_in(&schema).await?;
            print_status(schema.as_str(), &status(&client, days, errors).await?);
        }
        Command::Migrate => {
            let deps = rollup_function::Deps::from_env().await?;
            let schema = schema_of(&deps.db, tenant).await?;
            println!("schema {} is migrated", schema.as_str());
        }
    }
    Ok(())
}

/// The schema a command works in: the single schema, or the tenant's (migrated, and existing).
async fn schema_of(
    db: &Database,
    tenant: Option<Identifier>,
) -> Result<Identifier, ocp_summary::Error> {
    match (db.tenancy(), tenant) {
        (Tenancy::Single(schema), None) => Ok(schema.clone()),
        (Tenancy::Single(schema), Some(_)) => Err(ocp_summary::Error::Config(format!(
            "--tenant with DB_SCHEMA={} set: every object goes to that schema",
            schema.as_str()
        ))),
        (Tenancy::PerTenant(_), None) => Err(ocp_summary::Error::Config(
            "routing by tenant (DB_SCHEMA unset): give --tenant or --schema".into(),
        )),
        (Tenancy::PerTenant(_), Some(tenant)) => {
            if db.prepare_tenant(&tenant).await? {
                Ok(tenant)
            } else {
                Err(ocp_summary::Error::Config(format!(
                    "tenant schema {} does not exist",
                    tenant.as_str()
                )))
            }
        }
    }
}

fn rollup_request(args: &RollupArgs) -> Result<RollupRequest, ocp_summary::Error> {
    match (args.dirty, args.source, &args.month, args.from, args.to) {
        (true, ..) => Ok(RollupRequest::Dirty { at: Utc::now() }),
        (false, Some(source), Some(month), ..) => RollupRequest::month(source, month),
        (false, Some(source), None, Some(first), Some(last)) => {
            RollupRequest::range(source, first, last)
        }
        _ => Err(ocp_summary::Error::Config(
            "give --dirty, or --source with --month or with --from and --to".into(),
        )),
    }
}

async fn ingest_s3(location: &str) -> Result<IngestFigures, ocp_summary::Error> {
    let (bucket, key) = location
        .split_once('/')
        .filter(|(b, k)| !b.is_empty() && !k.is_empty())
        .ok_or_else(|| {
            ocp_summary::Error::Config(format!("s3://{location}: not s3://bucket/key"))
        })?;
    let deps = ingest_function::Deps::from_env().await?;
    // The current version, as an ObjectCreated event would name it.
    let head = (deps.s3.head_object().bucket(bucket).key(key).send().await).map_err(|e| {
        ocp_summary::Error::Config(format!(
            "s3://{location}: {}",
            aws_error_message(&e.into_service_error())
        ))
    })?;
    let etag = head.e_tag().map(|e| e.trim_matches('"').to_owned());
    let size = head.content_length().and_then(|s| u64::try_from(s).ok());
    let event = ObjectEvent {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        etag: etag.clone(),
        sequencer: None,
        removed: false,
    };
    let open = || S3Object::open(deps.s3.clone(), bucket, key, etag.as_deref(), size);
    ingest_object(&deps.db, &event, open, &deps.settings).await
}

/// Local files are recorded under the bucket name `local`.
async fn ingest_local(
    path: PathBuf,
    key: Option<String>,
) -> Result<IngestFigures, ocp_summary::Error> {
    let key = match key {
        Some(key) => key,
        None => path
            .to_string_lossy()
            .split_once("data/parquet/")
            .map(|(_, rest)| format!("data/parquet/{rest}"))
            .ok_or_else(|| {
                ocp_summary::Error::Config(format!(
                    "{}: give --key (the path does not contain data/parquet/)",
                    path.display()
                ))
            })?,
    };
    let object = LocalObject::open(&path, &key)
        .map_err(|e| ocp_summary::Error::Config(format!("{}: {e}", path.display())))?;
    let deps = ingest_function::Deps::from_env().await?;
    let event = ObjectEvent {
        bucket: "local".into(),
        key,
        etag: None,
        sequencer: None,
        removed: false,
    };
    ingest_object(&deps.db, &event, || async { Ok(object) }, &deps.settings).await
}

fn aws_error_message(e: &aws_sdk_s3::operation::head_object::HeadObjectError) -> String {
    match e {
        aws_sdk_s3::operation::head_object::HeadObjectError::NotFound(_) => "no such object".into(),
        other => other.to_string(),
    }
}

fn print_ingest(f: &IngestFigures) {
    println!(
        "{}: {:?}{} — {} rows read, {} partial rows, {} pass(es), {:.1} s",
        f.key,
        f.outcome,
        f.payload_status
            .as_deref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default(),
        f.rows.rows_read,
        f.partial_rows,
        f.passes,
        f.elapsed_ms as f64 / 1000.0
    );
}

fn print_status(schema: &str, s: &ocp_summary::store::status::Status) {
    println!("schema {schema}: {} source(s)", s.sources.len());
    for source in &s.sources {
        let dirty = match source.dirty_span {
            Some((first, last)) => format!("{} dirty day(s), {first}..{last}", source.dirty_days),
            None => "no dirty days".into(),
        };
        println!(
            "source {}: {} present, {} removed, {} failed object(s); {dirty}",
            source.source, source.present, source.removed, source.failed
        );
        for day in &source.latest {
            println!(
                "  {}  {}  {}  {}",
                day.day,
                day.report_type.as_deref().unwrap_or("-"),
                day.at.format("%Y-%m-%d %H:%M:%S"),
                day.key
            );
        }
    }
    println!("{} error row(s)", s.error_rows);
    for e in &s.latest_errors {
        println!(
            "  {}  {}: {}",
            e.at.format("%Y-%m-%d %H:%M:%S"),
            e.key,
            e.reason
        );
    }
}
