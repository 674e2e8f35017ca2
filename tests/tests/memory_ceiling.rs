//! The memory ceiling, enforced the way Lambda enforces MemorySize: the release ingest binary runs
//! inside a memory cgroup limited to its `MEMORY_CEILING_MIB` and ingests a large cluster's day —
//! 83,334 pods × 24 hours in ONE row group, each pod with a label of its own, so the label column
//! is plain-encoded and every pod is a group — at 128 MiB and at 64 MiB. Over the limit the kernel
//! kills it; so it must exit successfully, report a peak RSS (VmHWM) under the ceiling, and write
//! exactly one partial row per group with nothing lost.

use integration_tests::harness::{TestEnv, count, raw_key};
use integration_tests::koku_parquet::{GIB, PodHour, WriteOptions, day, pod_usage};
use integration_tests::memory_cgroup::MemoryCgroup;

const PODS: usize = 83_334;
const NODES: usize = 833;
const NAMESPACES: usize = 4_167;
const HOURS: usize = 24;

/// The day's file: the pods of an hour in a fixed order that is grouped by neither node nor
/// namespace; ~200 bytes of labels per pod, one value unique to the pod.
fn large_cluster_day() -> Vec<u8> {
    let d = day(2025, 11, 1);
    let mut rows = Vec::with_capacity(PODS * HOURS);
    for hour in 0..HOURS as u32 {
        let at = d.and_hms_opt(hour, 0, 0).unwrap();
        for p in 0..PODS {
            let mut row = PodHour::new(
                at,
                &format!("namespace-{:05}", p % NAMESPACES),
                &format!("worker-node-{:04}", p % NODES),
                &format!("deployment-{p:06}-7d9f8c6b5-x{:05}", p % 99_991),
                (0.25, 0.5),
                (0.5, 1.0),
                (32.0, 128.0),
            );
            row.pod_labels = format!(
                r#"{{"app": "app-{}", "component": "backend", "environment": "production", "team": "team-{}", "version": "v1.{}.0", "pod_template_hash": "{p:010x}"}}"#,
                p % 50,
                p % 17,
                p % 9
            );
            rows.push(row);
        }
    }
    pod_usage(
        &rows,
        &WriteOptions {
            row_group_rows: rows.len(),
            ..WriteOptions::default()
        },
    )
}

async fn ingest_within(env: &TestEnv, body: Vec<u8>, ceiling_mib: u64) {
    let key = raw_key("pod_usage", day(2025, 11, 1), 0);
    let event = env.put_event(&key, body).await;
    let event_file = env.event_file("event", &event);
    let mut command = env.function_command("ingest", &event_file);
    command.env("MEMORY_CEILING_MIB", ceiling_mib.to_string());
    let cgroup = MemoryCgroup::new(&env.schema, ceiling_mib << 20);
    let output = cgroup.wrap(&command).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "ingest at {ceiling_mib} MiB failed ({}, {} OOM kills): {stdout}\n{}",
        output.status,
        cgroup.oom_kills(),
        String::from_utf8_lossy(&output.stderr)
    );
    let metrics: serde_json::Value = stdout
        .lines()
        .find(|l| l.contains("\"_aws\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .expect("an EMF metrics line");
    assert_eq!(metrics["outcome"], "Ingested");
    assert_eq!(metrics["RowsRead"].as_f64().unwrap() as usize, PODS * HOURS);
    assert_eq!(metrics["RowGroups"], 1.0);
    let peak_kib = metrics["PeakRssKiB"].as_f64().unwrap();
    eprintln!(
        "{ceiling_mib} MiB: peak RSS {:.1} MiB, {} passes, {} partial rows",
        peak_kib / 1024.0,
        metrics["passes"],
        metrics["PartialRowsWritten"]
    );
    assert!(
        peak_kib > 0.0 && peak_kib <= (ceiling_mib * 1024) as f64,
        "peak RSS {peak_kib} KiB over the {ceiling_mib} MiB ceiling"
    );

    // One row per group: each pod is one group of the day (its labels never change), each node
    // one capacity row; whatever passes or spills it took.
    let client = env.sql().await;
    assert_eq!(count(&client, "ocp_pod_usage_partial").await, PODS as i64);
    assert_eq!(
        count(&client, "ocp_node_capacity_partial").await,
        NODES as i64
    );
    let (pods, cpu, memory): (i64, f64, f64) = client
        .query_one(
            "SELECT count(DISTINCT pod), sum(pod_usage_cpu_core_seconds), \
             sum(pod_usage_memory_byte_seconds) FROM ocp_pod_usage_partial",
            &[],
        )
        .await
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .unwrap();
    assert_eq!(pods, PODS as i64);
    // Every row: 0.25 core and 0.5 GiB for an hour.
    let rows = (PODS * HOURS) as f64;
    let expected_cpu = rows * 0.25 * 3600.0;
    let expected_memory = rows * 0.5 * GIB * 3600.0;
    assert!(
        (cpu - expected_cpu).abs() <= 1e-9 * expected_cpu,
        "cpu {cpu} vs {expected_cpu}"
    );
    assert!(
        (memory - expected_memory).abs() <= 1e-9 * expected_memory,
        "memory {memory} vs {expected_memory}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_cluster_day_in_one_row_group_ingests_inside_128_and_64_mib_cgroups() {
    let body = large_cluster_day();
    for ceiling_mib in [128, 64] {
        let env = TestEnv::new(&format!("memory_ceiling_{ceiling_mib}")).await;
        ingest_within(&env, body.clone(), ceiling_mib).await;
    }
}
