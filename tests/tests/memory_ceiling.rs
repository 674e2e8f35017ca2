//! The memory ceiling, measured from outside: the real ingest binary ingests a 2M-row pod file
//! written as ONE row group (hundreds of MiB if decoded whole) and its peak RSS (VmHWM, read by the
//! process from /proc at the end of the invocation) must stay under the configured 128 MiB.

use integration_tests::harness::{TestEnv, raw_key};
use integration_tests::koku_parquet::{PodHour, WriteOptions, day, pod_usage};

const CEILING_MIB: u64 = 128;

#[tokio::test(flavor = "multi_thread")]
async fn two_million_rows_in_one_row_group_stay_under_the_ceiling() {
    let env = TestEnv::new("memory_ceiling").await;
    // 83,334 pods × 24 hours ≈ 2M rows, each pod with its own label map (high cardinality).
    let d = day(2025, 11, 1);
    let pods = 2_000_000 / 24 + 1;
    let mut rows = Vec::with_capacity(pods * 24);
    for hour in 0..24 {
        let at = d.and_hms_opt(hour, 0, 0).unwrap();
        for p in 0..pods {
            let node = format!("node-{}", p % 400);
            let mut row = PodHour::new(
                at,
                &format!("ns-{}", p % 500),
                &node,
                &format!("pod-{p}"),
                (0.25, 0.5),
                (0.5, 1.0),
                (32.0, 128.0),
            );
            row.pod_labels = format!(
                r#"{{"app": "app-{}", "pod_template_hash": "h{p:08x}"}}"#,
                p % 50
            );
            rows.push(row);
        }
    }
    let total_rows = rows.len();
    let body = pod_usage(
        &rows,
        &WriteOptions {
            row_group_rows: total_rows,
            ..WriteOptions::default()
        },
    );
    drop(rows);
    let key = raw_key("pod_usage", d, 0);
    let event = env.put_event(&key, body).await;
    let event_file = env.event_file("event", &event);

    let output = env
        .function_command("ingest", &event_file)
        .env("MEMORY_CEILING_MIB", CEILING_MIB.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "ingest failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metrics: serde_json::Value = stdout
        .lines()
        .find(|l| l.contains("\"_aws\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .expect("an EMF metrics line");
    assert_eq!(metrics["outcome"], "Ingested");
    assert_eq!(metrics["RowsRead"].as_f64().unwrap() as usize, total_rows);
    assert_eq!(metrics["RowGroups"], 1.0);
    let peak_kib = metrics["PeakRssKiB"].as_f64().unwrap();
    eprintln!(
        "peak RSS {:.1} MiB for {total_rows} rows in one row group",
        peak_kib / 1024.0
    );
    assert!(
        peak_kib > 0.0 && peak_kib < (CEILING_MIB * 1024) as f64,
        "peak RSS {peak_kib} KiB over the ceiling"
    );

    // And nothing was lost by flushing under the budget: 2M rows × 0.25 core × 3600 s.
    let sum: f64 = env
        .sql()
        .await
        .query_one(
            "SELECT sum(pod_usage_cpu_core_seconds) FROM ocp_pod_usage_partial",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let expected = total_rows as f64 * 0.25 * 3600.0;
    assert!(
        (sum - expected).abs() < 1e-9 * expected,
        "usage {sum} vs {expected}"
    );
}
