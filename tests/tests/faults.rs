//! Transient faults fail the invocation (so Lambda retries) and write nothing.

use integration_tests::harness::{TestEnv, raw_key};
use integration_tests::koku_parquet::{PodHour, WriteOptions, day, pod_usage};
use ocp_summary::store::{Database, DbConfig};

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_s3_fails_the_invocation_and_writes_nothing() {
    let mut env = TestEnv::new("s3_down").await;
    let d = day(2025, 11, 1);
    let rows = PodHour::new(
        d.and_hms_opt(0, 0, 0).unwrap(),
        "app",
        "n1",
        "p1",
        (1.0, 1.0),
        (1.0, 1.0),
        (4.0, 16.0),
    )
    .day_long(d);
    let event = env
        .put_event(
            &raw_key("pod_usage", d, 0),
            pod_usage(&rows, &WriteOptions::default()),
        )
        .await;
    // Point ingest at a port where nothing listens (connection refused, as during an outage).
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let dead = aws_sdk_s3::config::Builder::from(&sdk)
        .endpoint_url("http://127.0.0.1:9")
        .force_path_style(true)
        .build();
    env.ingest.s3 = aws_sdk_s3::Client::from_conf(dead);
    let err = env
        .try_ingest(event)
        .await
        .expect_err("must fail so Lambda retries");
    assert_eq!(err.0.kind(), "S3Unavailable", "{}", err.0);
    assert!(!err.0.is_permanent());
    let client = env.sql().await;
    for table in [
        "ocp_pod_usage_partial",
        "ocp_ingested_object",
        "ocp_dirty_day",
        "ocp_ingest_error",
    ] {
        let n: i64 = client
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "{table}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_down_at_start_is_a_transient_error() {
    let config = DbConfig::from_vars(|k| match k {
        "DATABASE_URL" => Some("postgres://koku:secret-password@127.0.0.1:9/koku".into()),
        _ => None,
    })
    .unwrap();
    let err = Database::connect(config)
        .await
        .err()
        .expect("nothing listens on port 9");
    assert_eq!(err.kind(), "PostgresUnavailable");
    assert!(
        !err.to_string().contains("secret-password"),
        "no secret in the message: {err}"
    );
}
