//! Transient faults fail the invocation (so Lambda retries) and write nothing; a redelivery after
//! the fault gives exact totals, through the same execution environment (its connection renewed).

use std::time::{Duration, Instant};

use aws_config::timeout::TimeoutConfig;
use aws_lambda_events::s3::S3Event;
use integration_tests::backend::{CommitGate, backend_pid, backend_query, terminate, wait_until};
use integration_tests::fake_services::{FakeS3, FreezingProxy, Misbehaviour};
use integration_tests::harness::{
    TestEnv, assert_close, assert_fleet_totals, assert_nothing_ingested, db_config_via,
    partial_cpu_seconds, pg_port, pod_totals, raw_key,
};
use integration_tests::koku_parquet::{WriteOptions, day, fleet, pod_usage};
use integration_tests::template;
use ocp_summary::store::{Database, DbConfig};

/// Uploads a day of `pods` fleet pods (chunk `chunk`) and returns its event.
async fn fleet_event(env: &TestEnv, d: chrono::NaiveDate, chunk: u32, pods: usize) -> S3Event {
    let body = pod_usage(&fleet(d, pods, "pod"), &WriteOptions::default());
    env.put_event(&raw_key("pod_usage", d, chunk), body).await
}

/// Points `env`'s ingest at `endpoint`, with the S3 client built as `Deps::from_env` builds it.
async fn use_s3_at(env: &mut TestEnv, endpoint: &str, timeouts: TimeoutConfig) {
    let sdk = ocp_summary::aws::load_config(timeouts).await;
    // The endpoint on the S3 client itself: AWS_ENDPOINT_URL_S3 would win over the shared one.
    let config = ingest::s3_client(&sdk)
        .config()
        .to_builder()
        .endpoint_url(endpoint)
        .build();
    env.ingest.s3 = aws_sdk_s3::Client::from_conf(config);
}

/// The ingest of `event` must fail as a transient S3 fault within `limit` and write nothing.
async fn assert_fails_as_s3_unavailable(env: &TestEnv, event: S3Event, limit: Duration) {
    let started = Instant::now();
    let result = tokio::time::timeout(limit, env.try_ingest(event))
        .await
        .unwrap_or_else(|_| panic!("ingest still running after {limit:?}: S3 requests unbounded"));
    let err = result.expect_err("must fail so Lambda retries");
    eprintln!("failed after {:?}: {}", started.elapsed(), err.0);
    assert_eq!(err.0.kind(), "S3Unavailable", "{}", err.0);
    assert!(!err.0.is_permanent());
    assert_nothing_ingested(&env.sql().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_s3_fails_the_invocation_and_writes_nothing() {
    let mut env = TestEnv::new("s3_down").await;
    let event = fleet_event(&env, day(2025, 11, 1), 0, 1).await;
    // A port where nothing listens: connection refused, as during an outage.
    use_s3_at(&mut env, "http://127.0.0.1:9", ocp_summary::aws::timeouts()).await;
    assert_fails_as_s3_unavailable(&env, event, Duration::from_secs(15)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_server_errors_are_retried_then_fail_the_invocation() {
    for status in [500, 503] {
        let mut env = TestEnv::new("s3_5xx").await;
        let event = fleet_event(&env, day(2025, 11, 1), 0, 1).await;
        let s3 = FakeS3::start(Misbehaviour::ServerError(status)).await;
        use_s3_at(&mut env, &s3.url(), ocp_summary::aws::timeouts()).await;
        assert_fails_as_s3_unavailable(&env, event, Duration::from_secs(15)).await;
        // The SDK's standard policy: three attempts, with backoff, before giving up.
        assert_eq!(s3.requests(), 3, "attempts against a {status}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_s3_that_never_answers_fails_the_invocation_within_its_timeouts() {
    let mut env = TestEnv::new("s3_silent").await;
    let event = fleet_event(&env, day(2025, 11, 1), 0, 1).await;
    let s3 = FakeS3::start(Misbehaviour::Silent).await;
    // The production bounds scaled down 10×, so the test is quick; the next test checks the real ones.
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(300))
        .read_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(6))
        .build();
    use_s3_at(&mut env, &s3.url(), timeouts).await;
    assert_fails_as_s3_unavailable(&env, event, Duration::from_secs(12)).await;
    assert!(s3.requests() >= 2, "timed-out attempts are retried");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_s3_body_that_stalls_fails_the_invocation() {
    let mut env = TestEnv::new("s3_stall").await;
    let event = fleet_event(&env, day(2025, 11, 1), 0, 1).await;
    let s3 = FakeS3::start(Misbehaviour::StalledBody).await;
    use_s3_at(&mut env, &s3.url(), ocp_summary::aws::timeouts()).await;
    // Stalled-stream protection: 5 s without a byte of body.
    assert_fails_as_s3_unavailable(&env, event, Duration::from_secs(15)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_aws_request_is_bounded_well_within_the_lambda_timeout() {
    let timeouts = ocp_summary::aws::timeouts();
    let bound = |what: &str, t: Option<Duration>| t.unwrap_or_else(|| panic!("no {what}"));
    bound("connect timeout", timeouts.connect_timeout());
    bound("read timeout", timeouts.read_timeout());
    let attempt = bound("attempt timeout", timeouts.operation_attempt_timeout());
    let operation = bound("operation timeout", timeouts.operation_timeout());
    assert!(attempt <= operation);
    // A hung S3 or Secrets Manager call must leave most of the invocation's time unused.
    let lambda: u64 = template::parameter_default(&template::text(), "IngestTimeoutSeconds")
        .parse()
        .unwrap();
    assert!(
        operation * 4 <= Duration::from_secs(lambda),
        "operation timeout {operation:?} vs the {lambda} s Lambda timeout"
    );

    // The client of `Deps::from_env` carries them, and cuts off stalled bodies.
    let sdk = ocp_summary::aws::load_config(timeouts.clone()).await;
    let s3 = ingest::s3_client(&sdk);
    assert_eq!(s3.config().timeout_config(), Some(&timeouts));
    let stall = s3
        .config()
        .stalled_stream_protection()
        .expect("stalled-stream protection configured");
    assert!(stall.is_enabled() && stall.grace_period() <= Duration::from_secs(10));
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

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_dropped_mid_copy_fails_the_invocation_and_the_redelivery_is_exact() {
    let env = TestEnv::new("mid_copy").await;
    // 10,000 pods × 24 h; the partials' COPY waits on a table lock held here, so it is caught
    // running.
    let pods = 10_000;
    let d = day(2025, 11, 4);
    let event = fleet_event(&env, d, 0, pods).await;
    let admin = env.sql().await;
    let pid = backend_pid(&env.ingest.db).await;
    let gate = CommitGate::before_partial_copy(&env.schema).await;
    let (result, ()) = tokio::join!(env.try_ingest(event.clone()), async {
        wait_until("the ingest's COPY", Duration::from_secs(15), || async {
            backend_query(&admin, pid)
                .await
                .filter(|q| q.starts_with("COPY ocp_pod_usage_partial"))
        })
        .await;
        terminate(&admin, pid).await;
    });
    gate.release().await;
    let err = result.expect_err("the connection died mid-COPY");
    assert_eq!(err.0.kind(), "PostgresUnavailable", "{}", err.0);
    assert!(!err.0.is_permanent());
    assert_nothing_ingested(&admin).await;

    // Lambda retries the same event in the same environment: a new connection, exact totals.
    let out = env.ingest(event).await;
    assert_eq!(out[0].outcome, "ingested", "{:?}", out[0].detail);
    assert_ne!(backend_pid(&env.ingest.db).await, pid);
    // 10,000 pods × 0.25 core × 3600 s × 24 h.
    assert_close(
        partial_cpu_seconds(&admin).await,
        pods as f64 * 0.25 * 3600.0 * 24.0,
        "partial CPU core-seconds",
    );
    env.roll_up().await;
    assert_fleet_totals(pod_totals(&admin, d).await, pods);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_that_died_while_frozen_is_replaced_before_any_work() {
    let proxy = FreezingProxy::start(pg_port()).await;
    let env = TestEnv::with_db("frozen", |schema| db_config_via(proxy.port(), schema)).await;
    let (d1, d2) = (day(2025, 11, 5), day(2025, 11, 6));
    let out = env.ingest(fleet_event(&env, d1, 0, 4).await).await;
    assert_eq!(out[0].outcome, "ingested");
    env.roll_up().await;
    let before = [
        backend_pid(&env.ingest.db).await,
        backend_pid(&env.rollup.db).await,
    ];

    // The environment is frozen; meanwhile the server ends both sessions (idle timeout, failover).
    // Thawed, the functions see open sockets: the end shows only at their next write.
    proxy.freeze();
    let admin = env.sql().await;
    for pid in before {
        terminate(&admin, pid).await;
    }

    let out = env.ingest(fleet_event(&env, d2, 0, 4).await).await;
    assert_eq!(out[0].outcome, "ingested", "{:?}", out[0].detail);
    env.roll_up().await;
    let after = [
        backend_pid(&env.ingest.db).await,
        backend_pid(&env.rollup.db).await,
    ];
    assert!(after.iter().all(|pid| !before.contains(pid)), "reconnected");
    for d in [d1, d2] {
        assert_fleet_totals(pod_totals(&admin, d).await, 4);
    }
}
