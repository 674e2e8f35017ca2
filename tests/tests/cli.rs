//! The operator CLI (`ocp-summary`), the release binary against the test PostgreSQL and S3 server:
//! each subcommand, the progress lines it prints when not on a terminal, and clear failures.

use std::process::{Command, Output};

use integration_tests::harness::{SOURCE, TestEnv, count, raw_key, release_binary};
use integration_tests::koku_parquet::{PodHour, WriteOptions, day, pod_usage};

fn cli(env: &TestEnv, args: &[&str]) -> Output {
    Command::new(release_binary("ocp-summary"))
        .args(args)
        .env("DB_SCHEMA", &env.schema)
        .env("S3_FORCE_PATH_STYLE", "true")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn assert_ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {}: {}\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[track_caller]
fn assert_fails(out: &Output, message: &str) {
    assert!(!out.status.success(), "succeeded: {}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains(message),
        "stderr lacks {message:?}: {}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ingest_rollup_status_and_migrate_from_the_command_line() {
    let env = TestEnv::new("cli").await;
    let nov1 = day(2025, 11, 1);
    // Three pods, all day on one node, half a core each.
    let rows: Vec<PodHour> = (0..3)
        .flat_map(|p| {
            PodHour::new(
                nov1.and_hms_opt(0, 0, 0).unwrap(),
                "app",
                "node-1",
                &format!("pod-{p}"),
                (0.5, 1.0),
                (1.0, 2.0),
                (8.0, 32.0),
            )
            .day_long(nov1)
        })
        .collect();
    let key = raw_key("pod_usage", nov1, 0);
    env.put(&key, pod_usage(&rows, &WriteOptions::default()))
        .await;

    let stdout = assert_ok(&cli(&env, &["migrate"]));
    assert!(
        stdout.contains(&format!("schema {} is migrated", env.schema)),
        "{stdout}"
    );

    let location = format!("s3://{}/{key}", env.bucket);
    let stdout = assert_ok(&cli(&env, &["ingest", &location]));
    assert!(stdout.contains("Ingested"), "{stdout}");
    assert!(
        stdout.contains(&format!("{} rows read", 3 * 24)),
        "{stdout}"
    );
    let client = env.sql().await;
    assert_eq!(count(&client, "ocp_pod_usage_partial").await, 3);
    // The same version again changes nothing.
    let stdout = assert_ok(&cli(&env, &["ingest", &location]));
    assert!(stdout.contains("AlreadyCurrent"), "{stdout}");

    let stdout = assert_ok(&cli(&env, &["status"]));
    assert!(
        stdout.contains(&format!("source {SOURCE}: 1 present")),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 dirty day(s), 2025-11-01..2025-11-01"),
        "{stdout}"
    );
    assert!(stdout.contains(&key), "{stdout}");

    // November in 6-day chunks: 5 chunks, one progress line each (stderr is not a terminal).
    let source = SOURCE.to_string();
    let out = cli(&env, &["rollup", "--source", &source, "--month", "2025-11"]);
    let stdout = assert_ok(&out);
    assert!(stdout.contains("rolled up 30 days in 5 chunks"), "{stdout}");
    let progress = text(&out.stderr);
    let lines: Vec<&str> = progress
        .lines()
        .filter(|l| l.starts_with("chunk "))
        .collect();
    assert_eq!(lines.len(), 5, "{progress}");
    assert!(lines[0].starts_with("chunk 1/5:") && lines[0].contains("2025-11-01..2025-11-06"));
    assert!(lines[4].starts_with("chunk 5/5:") && lines[4].contains("2025-11-25..2025-11-30"));
    // 3 pods × 24 h × 0.5 core = 36 core-hours (the rest of the node is the unallocated rows).
    let cpu: f64 = client
        .query_one(
            "SELECT sum(pod_usage_cpu_core_hours)::float8 FROM reporting_ocpusagelineitem_daily_summary \
             WHERE data_source = 'Pod' AND namespace = 'app'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!((cpu - 36.0).abs() < 1e-9, "{cpu}");

    // The scheduled path: the mark was cleared by the month's roll-up, so nothing is left.
    let stdout = assert_ok(&cli(&env, &["rollup", "--dirty"]));
    assert!(stdout.contains("rolled up 0 days in 0 chunks"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_arguments_and_an_unreachable_database_fail_clearly() {
    let env = TestEnv::new("cli_errors").await;
    let source = SOURCE.to_string();
    assert_fails(
        &cli(
            &env,
            &["rollup", "--source", "not-a-uuid", "--month", "2025-11"],
        ),
        "invalid value 'not-a-uuid' for '--source",
    );
    assert_fails(
        &cli(&env, &["rollup", "--source", &source, "--month", "2025-13"]),
        "month \"2025-13\" is not YYYY-MM",
    );
    assert_fails(
        &cli(&env, &["rollup", "--source", &source]),
        "give --dirty, or --source with --month or with --from and --to",
    );
    assert_fails(
        &cli(
            &env,
            &["ingest", &format!("s3://{}/no/such/key", env.bucket)],
        ),
        "no such object",
    );
    let out = Command::new(release_binary("ocp-summary"))
        .arg("status")
        .env("DB_SCHEMA", &env.schema)
        .env("DATABASE_URL", "postgres://koku:koku@127.0.0.1:1/koku")
        .env("PGPORT", "1")
        .output()
        .unwrap();
    assert_fails(&out, "PostgreSQL");
}
