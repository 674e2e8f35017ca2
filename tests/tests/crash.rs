//! The release binaries killed with SIGKILL in the middle of their transaction (as when Lambda kills
//! a timed-out or out-of-memory invocation): nothing of that attempt is visible, and the redelivered
//! event gives exact totals. A commit gate holds each transaction just before its commit, all work
//! done, so the kill lands inside it every time.

use std::process::Child;

use integration_tests::backend::{CommitGate, wait_gone};
use integration_tests::harness::{
    SOURCE, TestEnv, assert_close, assert_fleet_totals, assert_nothing_ingested, count,
    partial_cpu_seconds, pod_totals, raw_key,
};
use integration_tests::koku_parquet::{WriteOptions, day, fleet, pod_usage};
use serde_json::json;
use tokio_postgres::Client;

/// SIGKILLs the binary once its transaction is blocked at `gate`, then lets the server clean up.
async fn kill_at_gate(admin: &Client, gate: CommitGate, mut child: Child) {
    let pid = gate.wait_for_blocked(admin).await;
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed: {status}");
    // The server learns of the dead client when its statement can go on; it then rolls back.
    gate.release().await;
    wait_gone(admin, pid).await;
}

/// (source, day, generation) of every dirty mark.
async fn dirty_marks(admin: &Client) -> Vec<(String, String, i64)> {
    admin
        .query(
            "SELECT source_uuid::text, usage_start::text, generation FROM ocp_dirty_day ORDER BY 1, 2",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

#[track_caller]
fn assert_succeeds(output: std::process::Output) {
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_ingest_leaves_nothing_and_its_redelivery_is_exact() {
    let env = TestEnv::new("kill_ingest").await;
    let (d, pods) = (day(2025, 11, 7), 300);
    let body = pod_usage(&fleet(d, pods, "pod"), &WriteOptions::default());
    let event = env.put_event(&raw_key("pod_usage", d, 0), body).await;
    let file = env.event_file("event", &event);
    let admin = env.sql().await;

    let gate = CommitGate::before_ingest_commit(&env.schema, SOURCE.parse().unwrap(), d).await;
    let child = env.function_command("ingest", &file).spawn().unwrap();
    kill_at_gate(&admin, gate, child).await;
    assert_nothing_ingested(&admin).await;

    assert_succeeds(env.function_command("ingest", &file).output().unwrap());
    // 300 pods × 0.25 core × 3600 s × 24 h.
    assert_close(
        partial_cpu_seconds(&admin).await,
        pods as f64 * 0.25 * 3600.0 * 24.0,
        "partial CPU core-seconds",
    );
    assert_eq!(count(&admin, "ocp_dirty_day").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_roll_up_leaves_summary_and_marks_as_they_were_and_its_retry_is_exact() {
    let env = TestEnv::new("kill_rollup").await;
    let d = day(2025, 11, 8);
    let admin = env.sql().await;
    // 200 pods rolled up; then a second file of 100 other pods for the same day.
    let first = pod_usage(&fleet(d, 200, "a"), &WriteOptions::default());
    env.ingest(env.put_event(&raw_key("pod_usage", d, 0), first).await)
        .await;
    env.roll_up().await;
    assert_fleet_totals(pod_totals(&admin, d).await, 200);
    let second = pod_usage(&fleet(d, 100, "b"), &WriteOptions::default());
    env.ingest(env.put_event(&raw_key("pod_usage", d, 1), second).await)
        .await;
    let marks_before = dirty_marks(&admin).await;
    assert_eq!(marks_before.len(), 1);

    let file = env.event_file(
        "schedule",
        &json!({"scheduled_time": chrono::Utc::now().to_rfc3339()}),
    );
    let gate = CommitGate::before_rollup_commit(&env.schema).await;
    let child = env.function_command("rollup", &file).spawn().unwrap();
    kill_at_gate(&admin, gate, child).await;
    // The day's old rows are still there (the delete rolled back with the insert); the mark stays.
    assert_fleet_totals(pod_totals(&admin, d).await, 200);
    assert_eq!(dirty_marks(&admin).await, marks_before);

    // The scheduler's retry carries the same event.
    assert_succeeds(env.function_command("rollup", &file).output().unwrap());
    assert_fleet_totals(pod_totals(&admin, d).await, 300);
    assert_eq!(count(&admin, "ocp_dirty_day").await, 0);
}
