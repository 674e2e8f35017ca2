//! Ingest against the real PostgreSQL and S3 server: partial figures by hand, idempotence per object,
//! and bad input. Figures in comments are computed from the rows written, never from the code.

use arrow_schema::TimeUnit;
use integration_tests::harness::{
    SOURCE, TestEnv, assert_close, form_urlencode, raw_key, s3_event,
};
use integration_tests::koku_parquet::{
    GIB, PodHour, StorageHour, WriteOptions, day, hours, label_day, labels, pod_usage,
    storage_usage,
};

const NOV1: (i32, u32, u32) = (2025, 11, 1);

fn nov(d: u32) -> chrono::NaiveDate {
    day(NOV1.0, NOV1.1, d)
}

/// p1 on n1 (4 cores, 16 GiB) all day: 0.5 of 1 core, 1 of 2 GiB (the spec's §6 pod).
fn worked_pod(d: chrono::NaiveDate) -> Vec<PodHour> {
    PodHour::new(
        d.and_hms_opt(0, 0, 0).unwrap(),
        "app",
        "n1",
        "p1",
        (0.5, 1.0),
        (1.0, 2.0),
        (4.0, 16.0),
    )
    .day_long(d)
}

async fn pod_totals(env: &TestEnv) -> (i64, f64, f64, f64, f64) {
    let row = env
        .sql()
        .await
        .query_one(
            "SELECT count(*), coalesce(sum(pod_usage_cpu_core_seconds), 0),
                    coalesce(sum(pod_request_cpu_core_seconds), 0),
                    coalesce(sum(pod_effective_usage_cpu_core_seconds), 0),
                    coalesce(sum(pod_effective_usage_memory_byte_seconds), 0)
             FROM ocp_pod_usage_partial",
            &[],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4))
}

async fn count(env: &TestEnv, sql: &str) -> i64 {
    env.sql().await.query_one(sql, &[]).await.unwrap().get(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn pod_partials_hold_daily_sums_and_hourly_capacity() {
    let env = TestEnv::new("pod_partials").await;
    let key = raw_key("pod_usage", nov(1), 0);
    let out = env
        .ingest(
            env.put_event(
                &key,
                pod_usage(&worked_pod(nov(1)), &WriteOptions::default()),
            )
            .await,
        )
        .await;
    assert_eq!(out[0].outcome, "ingested");

    let client = env.sql().await;
    let row = client
        .query_one(
            "SELECT count(*), sum(pod_usage_cpu_core_seconds), sum(pod_request_cpu_core_seconds),
                    sum(pod_limit_cpu_core_seconds), sum(pod_usage_memory_byte_seconds),
                    max(node_capacity_cpu_cores), max(node_capacity_memory_bytes),
                    max(resource_id), max(usage_start)::text, max(ls.labels::text),
                    bool_and(p.pod_labels_id
                             = encode(substr(sha256(convert_to('{}', 'UTF8')), 1, 16), 'hex')::uuid)
             FROM ocp_pod_usage_partial p
             JOIN ocp_label_set ls ON ls.label_set_id = p.pod_labels_id AND ls.object_id = p.object_id",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 1, "one pod-day group");
    assert_close(row.get(1), 24.0 * 1800.0, "usage: 24 h × 0.5 core × 3600 s");
    assert_close(row.get(2), 24.0 * 3600.0, "request: 24 h × 1 core");
    assert_close(row.get(3), 24.0 * 7200.0, "limit: 24 h × 2 cores");
    assert_close(row.get(4), 24.0 * GIB * 3600.0, "memory: 24 h × 1 GiB");
    assert_close(row.get(5), 4.0, "cores");
    assert_close(row.get(6), 16.0 * GIB, "node bytes");
    assert_eq!(row.get::<_, String>(7), "i-n1");
    assert_eq!(row.get::<_, String>(8), "2025-11-01");
    assert_eq!(row.get::<_, String>(9), "{}");
    assert!(
        row.get::<_, bool>(10),
        "the label set is named by the SHA-256 of the file's text"
    );
    assert_eq!(
        count(&env, "SELECT count(*) FROM ocp_label_set").await,
        1,
        "one label set for the object, though 24 rows carry it"
    );

    let cap = client
        .query_one(
            "SELECT count(*), sum(node_capacity_cpu_core_seconds), min(interval_start)::text
             FROM ocp_node_capacity_hour",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(cap.get::<_, i64>(0), 24, "a value for every node-hour");
    assert_close(cap.get(1), 24.0 * 14400.0, "96 core-hours in core-seconds");
    assert_eq!(cap.get::<_, String>(2), "2025-11-01 00:00:00");

    let dirty = count(
        &env,
        "SELECT count(*) FROM ocp_dirty_day WHERE usage_start = '2025-11-01'",
    )
    .await;
    assert_eq!(dirty, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn capacity_is_the_max_over_pods_per_hour() {
    let env = TestEnv::new("capacity_max").await;
    // Two pods on n1 in the same hour; one row reports 0 cores (empty capacity cells, spec §9).
    let at = nov(1).and_hms_opt(5, 0, 0).unwrap();
    let a = PodHour::new(at, "app", "n1", "a", (1.0, 1.0), (1.0, 1.0), (4.0, 16.0));
    let mut b = PodHour::new(at, "app", "n1", "b", (1.0, 1.0), (1.0, 1.0), (0.0, 16.0));
    b.node_cores = 0.0;
    env.ingest(
        env.put_event(
            &raw_key("pod_usage", nov(1), 0),
            pod_usage(&[a, b], &WriteOptions::default()),
        )
        .await,
    )
    .await;
    let row = env
        .sql()
        .await
        .query_one(
            "SELECT count(*), max(node_capacity_cpu_core_seconds) FROM ocp_node_capacity_hour",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 1);
    assert_close(row.get(1), 14400.0, "max(4×3600, 0)");
}

#[tokio::test(flavor = "multi_thread")]
async fn storage_and_label_partials_are_written() {
    let env = TestEnv::new("storage_labels").await;
    let storage: Vec<StorageHour> = StorageHour::new(
        nov(1).and_hms_opt(0, 0, 0).unwrap(),
        "app",
        "p1",
        "data",
        (20.0, 20.0, 5.0),
    )
    .day_long(nov(1));
    env.ingest(
        env.put_event(
            &raw_key("storage_usage", nov(1), 0),
            storage_usage(&storage, &WriteOptions::default()),
        )
        .await,
    )
    .await;
    let nodes = label_day(
        nov(1),
        "n1",
        r#"{"node_role_kubernetes_io": "infra", "zone": "a"}"#,
    );
    env.ingest(
        env.put_event(
            &raw_key("node_labels", nov(1), 0),
            labels("node", &nodes, &WriteOptions::default()),
        )
        .await,
    )
    .await;
    let namespaces = label_day(nov(1), "app", r#"{"team": "x"}"#);
    env.ingest(
        env.put_event(
            &raw_key("namespace_labels", nov(1), 0),
            labels("namespace", &namespaces, &WriteOptions::default()),
        )
        .await,
    )
    .await;

    let client = env.sql().await;
    let s = client
        .query_one(
            "SELECT count(*), sum(persistentvolumeclaim_capacity_byte_seconds),
                    sum(volume_request_storage_byte_seconds), sum(persistentvolumeclaim_usage_byte_seconds),
                    max(persistentvolumeclaim_capacity_bytes), max(csi_volume_handle)
             FROM ocp_storage_usage_partial",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(s.get::<_, i64>(0), 1);
    assert_close(s.get(1), 20.0 * GIB * 86400.0, "20 GiB all day");
    assert_close(s.get(2), 20.0 * GIB * 86400.0, "20 GiB requested all day");
    assert_close(s.get(3), 5.0 * GIB * 86400.0, "5 GiB used all day");
    assert_close(s.get(4), 20.0 * GIB, "capacity bytes");
    assert_eq!(
        s.get::<_, Option<String>>(5),
        None,
        "csi_volume_handle absent from the file: NULL"
    );

    let n = client
        .query_one(
            "SELECT count(*), max(ls.labels ->> 'zone')
             FROM ocp_node_labels_partial p
             JOIN ocp_label_set ls ON ls.label_set_id = p.node_labels_id AND ls.object_id = p.object_id",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (n.get::<_, i64>(0), n.get::<_, String>(1)),
        (1, "a".to_owned()),
        "24 identical hours, one row"
    );
    let ns = count(
        &env,
        "SELECT count(*) FROM ocp_namespace_labels_partial p
         JOIN ocp_label_set ls ON ls.label_set_id = p.namespace_labels_id AND ls.object_id = p.object_id
         WHERE ls.labels = '{\"team\": \"x\"}'",
    )
    .await;
    assert_eq!(ns, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn redelivered_event_changes_nothing() {
    let env = TestEnv::new("redelivery").await;
    let event = env
        .put_event(
            &raw_key("pod_usage", nov(1), 0),
            pod_usage(&worked_pod(nov(1)), &WriteOptions::default()),
        )
        .await;
    assert_eq!(env.ingest(event.clone()).await[0].outcome, "ingested");
    let before = pod_totals(&env).await;
    let generation = count(&env, "SELECT generation FROM ocp_dirty_day").await;
    assert_eq!(
        env.ingest(event.clone()).await[0].outcome,
        "already_current"
    );
    // Same event twice at once: the per-key lock lets one through; the other sees it done.
    let (a, b) = tokio::join!(env.ingest(event.clone()), env.ingest(event));
    assert_eq!(
        (a[0].outcome.as_str(), b[0].outcome.as_str()),
        ("already_current", "already_current")
    );
    assert_eq!(pod_totals(&env).await, before);
    assert_eq!(
        count(&env, "SELECT generation FROM ocp_dirty_day").await,
        generation,
        "no new dirty mark"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn parallel_first_deliveries_write_once() {
    let env = TestEnv::new("parallel_first").await;
    let event = env
        .put_event(
            &raw_key("pod_usage", nov(1), 0),
            pod_usage(&worked_pod(nov(1)), &WriteOptions::default()),
        )
        .await;
    let (a, b) = tokio::join!(env.ingest(event.clone()), env.ingest(event));
    let mut outcomes = [a[0].outcome.clone(), b[0].outcome.clone()];
    outcomes.sort();
    assert_eq!(outcomes, ["already_current", "ingested"]);
    let (rows, usage, ..) = pod_totals(&env).await;
    assert_eq!(rows, 1);
    assert_close(usage, 43200.0, "counted once");
}

#[tokio::test(flavor = "multi_thread")]
async fn overwrite_replaces_and_stale_events_are_ignored() {
    let env = TestEnv::new("overwrite").await;
    let key = raw_key("pod_usage", nov(1), 0);
    let mut two_pods = worked_pod(nov(1));
    two_pods.extend(
        PodHour::new(
            nov(1).and_hms_opt(0, 0, 0).unwrap(),
            "web",
            "n1",
            "p2",
            (1.0, 1.0),
            (1.0, 1.0),
            (4.0, 16.0),
        )
        .day_long(nov(1)),
    );
    let v1 = env
        .put_event(&key, pod_usage(&two_pods, &WriteOptions::default()))
        .await;
    env.ingest(v1.clone()).await;
    assert_eq!(pod_totals(&env).await.0, 2);

    // The overwrite has one pod only: no orphan of p2 may survive.
    let v2 = env
        .put_event(
            &key,
            pod_usage(&worked_pod(nov(1)), &WriteOptions::default()),
        )
        .await;
    assert_eq!(env.ingest(v2).await[0].outcome, "ingested");
    let (rows, usage, ..) = pod_totals(&env).await;
    assert_eq!(rows, 1);
    assert_close(usage, 43200.0, "only p1's 24 × 1800");

    // v1's event arriving late: older sequencer, ignored (its etag no longer matches either).
    assert_eq!(env.ingest(v1).await[0].outcome, "stale");
    assert_eq!(pod_totals(&env).await.0, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn removal_deletes_partials_and_a_late_create_is_stale() {
    let env = TestEnv::new("removal").await;
    let key = raw_key("pod_usage", nov(1), 0);
    let created = env
        .put_event(
            &key,
            pod_usage(&worked_pod(nov(1)), &WriteOptions::default()),
        )
        .await;
    env.ingest(created.clone()).await;
    let generation = count(&env, "SELECT generation FROM ocp_dirty_day").await;

    env.s3
        .delete_object()
        .bucket(&env.bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
    let removed = s3_event(
        &env.bucket,
        "ObjectRemoved:Delete",
        &key,
        None,
        0,
        &env.next_sequencer(),
    );
    assert_eq!(env.ingest(removed).await[0].outcome, "removed");
    assert_eq!(pod_totals(&env).await.0, 0);
    assert_eq!(
        count(&env, "SELECT count(*) FROM ocp_node_capacity_hour").await,
        0
    );
    assert!(
        count(&env, "SELECT generation FROM ocp_dirty_day").await > generation,
        "day re-marked"
    );

    // The create event of the removed version, redelivered late.
    assert_eq!(env.ingest(created).await[0].outcome, "stale");
    assert_eq!(pod_totals(&env).await.0, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn object_changed_or_gone_since_the_event_writes_nothing() {
    let env = TestEnv::new("superseded").await;
    let key = raw_key("pod_usage", nov(1), 0);
    let old = env
        .put_event(
            &key,
            pod_usage(&worked_pod(nov(1)), &WriteOptions::default()),
        )
        .await;
    // Overwritten before this event was handled: If-Match fails with 412.
    env.put(
        &key,
        pod_usage(&worked_pod(nov(2)), &WriteOptions::default()),
    )
    .await;
    let out = env.ingest(old.clone()).await;
    assert_eq!(out[0].outcome, "superseded", "{:?}", out[0].detail);
    // Deleted before the event was handled: 404.
    env.s3
        .delete_object()
        .bucket(&env.bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
    let gone = env
        .ingest(s3_event(
            &env.bucket,
            "ObjectCreated:Put",
            &key,
            Some("0123"),
            0,
            &env.next_sequencer(),
        ))
        .await;
    assert_eq!(gone[0].outcome, "superseded", "{:?}", gone[0].detail);
    assert_eq!(pod_totals(&env).await.0, 0);
    assert_eq!(
        count(&env, "SELECT count(*) FROM ocp_ingest_error").await,
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn url_encoded_keys_with_spaces_and_equals_are_decoded() {
    let env = TestEnv::new("encoded_key").await;
    let key = format!(
        "data/parquet/org1234567/OCP/pod_usage/source={SOURCE}/year=2025/month=11/pod usage+a=b 2025-11-01.parquet"
    );
    let event = env
        .put_event(
            &key,
            pod_usage(&worked_pod(nov(1)), &WriteOptions::default()),
        )
        .await;
    assert!(
        serde_json::to_string(&event)
            .unwrap()
            .contains(&form_urlencode("usage+a=b"))
    );
    let out = env.ingest(event).await;
    assert_eq!(
        (out[0].outcome.as_str(), out[0].key.as_str()),
        ("ingested", key.as_str())
    );
    let stored = count(
        &env,
        &format!("SELECT count(*) FROM ocp_ingested_object WHERE object_key = '{key}'"),
    )
    .await;
    assert_eq!(stored, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn daily_and_foreign_keys_are_skipped() {
    let env = TestEnv::new("skipped").await;
    for key in [
        format!(
            "data/parquet/daily/org1234567/OCP/pod_usage/source={SOURCE}/year=2025/month=11/pod_usage.2025-11-01.1.0_daily_0.parquet"
        ),
        "some/other/file.csv".to_owned(),
    ] {
        let out = env
            .ingest(env.put_event(&key, b"not even parquet".to_vec()).await)
            .await;
        assert_eq!(out[0].outcome, "skipped", "{key}");
    }
    assert_eq!(
        count(&env, "SELECT count(*) FROM ocp_ingested_object").await,
        0
    );
    assert_eq!(
        count(&env, "SELECT count(*) FROM ocp_ingest_error").await,
        0
    );
}

/// Bad files: an error row with key, etag and reason, nothing in the partials, `Ok` to Lambda.
#[tokio::test(flavor = "multi_thread")]
async fn bad_files_get_an_error_row_and_write_nothing() {
    let env = TestEnv::new("bad_files").await;
    let good = pod_usage(&worked_pod(nov(1)), &WriteOptions::default());
    let wrong_type = WriteOptions {
        drop_columns: vec!["pod_usage_cpu_core_seconds"],
        ..WriteOptions::default()
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "not_parquet",
            b"namespace,node\napp,n1\n".repeat(10),
            "not a Parquet file",
        ),
        (
            "truncated",
            good[..good.len() / 2].to_vec(),
            "not a Parquet file",
        ),
        ("tiny", b"PAR1".to_vec(), "only 4 bytes"),
        ("empty", Vec::new(), "only 0 bytes"),
        (
            "missing_column",
            pod_usage(&worked_pod(nov(1)), &wrong_type),
            "missing required column(s): pod_usage_cpu_core_seconds",
        ),
        (
            "wrong_type",
            pod_usage(
                &worked_pod(nov(1)),
                &WriteOptions {
                    as_text: vec!["pod_request_cpu_core_seconds"],
                    ..WriteOptions::default()
                },
            ),
            "column pod_request_cpu_core_seconds has type Utf8, expected Number",
        ),
        (
            // A storage file under a pod_usage key lacks the pod columns: a wrong schema for its type.
            "wrong_report",
            storage_usage(
                &StorageHour::new(
                    nov(1).and_hms_opt(0, 0, 0).unwrap(),
                    "app",
                    "p1",
                    "data",
                    (1.0, 1.0, 1.0),
                )
                .day_long(nov(1)),
                &WriteOptions::default(),
            ),
            "missing required column(s)",
        ),
        (
            "bad_labels",
            pod_usage(
                &worked_pod(nov(1))
                    .into_iter()
                    .map(|p| p.labels("app:koku|env:prod"))
                    .collect::<Vec<_>>(),
                &WriteOptions::default(),
            ),
            "not a JSON object",
        ),
        (
            "nul_labels",
            pod_usage(
                &worked_pod(nov(1))
                    .into_iter()
                    .map(|p| p.labels(r#"{"a": "x\u0000"}"#))
                    .collect::<Vec<_>>(),
                &WriteOptions::default(),
            ),
            "NUL",
        ),
    ];
    for (i, (name, body, reason)) in cases.iter().enumerate() {
        let key = raw_key("pod_usage", nov(1), i as u32);
        let event = env.put_event(&key, body.clone()).await;
        let out = env.ingest(event).await;
        assert_eq!(out[0].outcome, "rejected", "{name}");
        let detail = out[0].detail.clone().unwrap_or_default();
        assert!(
            detail.contains(reason) && detail.contains(&key),
            "{name}: {detail}"
        );
        let row = env
            .sql()
            .await
            .query_one(
                "SELECT etag, reason FROM ocp_ingest_error WHERE object_key = $1",
                &[&key],
            )
            .await
            .unwrap();
        assert!(
            row.get::<_, Option<String>>(0).is_some(),
            "{name}: etag recorded"
        );
        assert!(row.get::<_, String>(1).contains(reason), "{name}");
    }
    assert_eq!(pod_totals(&env).await.0, 0);
    assert_eq!(
        count(&env, "SELECT count(*) FROM ocp_node_capacity_hour").await,
        0
    );
    assert_eq!(
        count(
            &env,
            "SELECT count(*) FROM ocp_ingested_object WHERE state = 'failed'"
        )
        .await,
        cases.len() as i64
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_overwrite_drops_the_previous_version() {
    let env = TestEnv::new("bad_overwrite").await;
    let key = raw_key("pod_usage", nov(1), 0);
    env.ingest(
        env.put_event(
            &key,
            pod_usage(&worked_pod(nov(1)), &WriteOptions::default()),
        )
        .await,
    )
    .await;
    assert_eq!(pod_totals(&env).await.0, 1);
    let out = env
        .ingest(env.put_event(&key, b"garbage".to_vec()).await)
        .await;
    assert_eq!(out[0].outcome, "rejected");
    assert_eq!(
        pod_totals(&env).await.0,
        0,
        "the object's current content contributes nothing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn effective_usage_is_the_hourly_max_when_the_column_is_absent() {
    let env = TestEnv::new("effective").await;
    // Spec §6: hour 1 uses 2 of 1 requested core, hour 2 uses 0 of 1: effective 3 core-hours, not 2.
    let h1 = PodHour::new(
        nov(1).and_hms_opt(1, 0, 0).unwrap(),
        "app",
        "n1",
        "p1",
        (2.0, 1.0),
        (1.0, 1.0),
        (4.0, 16.0),
    );
    let h2 = PodHour::new(
        nov(1).and_hms_opt(2, 0, 0).unwrap(),
        "app",
        "n1",
        "p1",
        (0.0, 1.0),
        (3.0, 1.0),
        (4.0, 16.0),
    );
    let options = WriteOptions {
        drop_columns: vec![
            "pod_effective_usage_cpu_core_seconds",
            "pod_effective_usage_memory_byte_seconds",
        ],
        ..WriteOptions::default()
    };
    let out = env
        .ingest(
            env.put_event(
                &raw_key("pod_usage", nov(1), 0),
                pod_usage(&[h1, h2], &options),
            )
            .await,
        )
        .await;
    assert_eq!(out[0].outcome, "ingested");
    let (_, usage, request, effective, effective_mem) = pod_totals(&env).await;
    assert_close(usage, 2.0 * 3600.0, "usage 2 + 0 core-hours");
    assert_close(request, 2.0 * 3600.0, "request 1 + 1");
    assert_close(effective, 3.0 * 3600.0, "max(2,1) + max(0,1)");
    assert_close(
        effective_mem,
        4.0 * GIB * 3600.0,
        "max(1,1) + max(3,1) GiB-hours",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn compatible_variants_are_accepted() {
    let env = TestEnv::new("variants").await;
    let variants = [
        WriteOptions {
            int_numbers: true,
            ..WriteOptions::default()
        },
        WriteOptions {
            time_unit: TimeUnit::Microsecond,
            ..WriteOptions::default()
        },
        WriteOptions {
            time_unit: TimeUnit::Nanosecond,
            extra_column: true,
            ..WriteOptions::default()
        },
        WriteOptions {
            row_group_rows: 5,
            ..WriteOptions::default()
        },
    ];
    for (i, options) in variants.iter().enumerate() {
        let out = env
            .ingest(
                env.put_event(
                    &raw_key("pod_usage", nov(1), i as u32),
                    pod_usage(&worked_pod(nov(1)), options),
                )
                .await,
            )
            .await;
        assert_eq!(
            out[0].outcome, "ingested",
            "variant {i}: {:?}",
            out[0].detail
        );
    }
    let (rows, usage, ..) = pod_totals(&env).await;
    assert_eq!(rows, 4);
    assert_close(usage, 4.0 * 43200.0, "each variant 24 × 1800");
}

#[tokio::test(flavor = "multi_thread")]
async fn anomalous_and_out_of_month_rows_are_dropped_like_koku() {
    let env = TestEnv::new("anomalies").await;
    let mut rows = worked_pod(nov(1));
    rows[3].usage_mem = 2e18; // koku drops the whole row
    rows[4].node_cores = f64::INFINITY;
    rows[5].usage_cpu = f64::NAN; // NaN is NULL: skipped by the sum, row kept
    let mut december = worked_pod(day(2025, 12, 1));
    december.truncate(2);
    rows.extend(december); // not this key's month
    env.ingest(
        env.put_event(
            &raw_key("pod_usage", nov(1), 0),
            pod_usage(&rows, &WriteOptions::default()),
        )
        .await,
    )
    .await;
    let (groups, usage, request, ..) = pod_totals(&env).await;
    assert_eq!(groups, 1);
    assert_close(usage, 21.0 * 1800.0, "22 kept rows, one with NaN usage");
    assert_close(request, 22.0 * 3600.0, "24 − 2 anomalous rows");
    assert_eq!(
        count(&env, "SELECT count(*) FROM ocp_node_capacity_hour").await,
        22
    );
    assert_eq!(
        count(&env, "SELECT count(*) FROM ocp_dirty_day").await,
        1,
        "December not marked"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn groups_that_do_not_fit_are_read_in_partitions_each_written_once() {
    use ocp_summary::ingest::versions::ObjectEvent;
    use ocp_summary::ingest::{MemoryBudget, Outcome, Overhead, ingest_object};
    use ocp_summary::read::s3_object::S3Object;

    let mut env = TestEnv::new("partitions").await;
    // Room for a few groups only (64 MiB less 8 MiB headroom less the fixed overhead, in tiny
    // batches), so 200 pods × 24 hours need more than one pass over the file.
    let budget = MemoryBudget::with_ceiling_mib(64)
        .unwrap()
        .with_max_batch_rows(7);
    env.ingest.settings.budget = budget.with_overhead(Overhead::Fixed((56 << 20) - (24 << 10)));
    let mut rows = Vec::new();
    for p in 0..200 {
        rows.extend(
            PodHour::new(
                nov(1).and_hms_opt(0, 0, 0).unwrap(),
                "app",
                "n1",
                &format!("p{p}"),
                (0.5, 1.0),
                (1.0, 2.0),
                (4.0, 16.0),
            )
            // Some maps shared across pods (and so across partitions): each set stored once.
            .labels(&format!(r#"{{"team": "t{}"}}"#, p % 7))
            .day_long(nov(1)),
        );
    }
    let key = raw_key("pod_usage", nov(1), 0);
    let (etag, size) = env
        .put(&key, pod_usage(&rows, &WriteOptions::default()))
        .await;
    let event = ObjectEvent {
        bucket: env.bucket.clone(),
        key: key.clone(),
        etag: Some(etag.clone()),
        sequencer: Some("01".into()),
        removed: false,
    };
    let open = || S3Object::open(env.s3.clone(), &env.bucket, &key, Some(&etag), Some(size));
    let figures = ingest_object(&env.ingest.db, &event, open, &env.ingest.settings)
        .await
        .unwrap();
    assert_eq!(figures.outcome, Outcome::Ingested);
    assert!(figures.passes >= 2, "read in {} passes", figures.passes);
    // One partial row per pod and one node-day of capacity, as without partitions.
    assert_eq!(figures.partial_rows, 201);
    let (partial_rows, usage, ..) = pod_totals(&env).await;
    assert_eq!(partial_rows, 200);
    assert_close(usage, 200.0 * 24.0 * 1800.0, "200 pods × 24 h × 0.5 core");
    assert_eq!(count(&env, "SELECT count(*) FROM ocp_label_set").await, 7);
    let hours = count(&env, "SELECT count(*) FROM ocp_node_capacity_hour").await;
    assert_eq!(hours, hours_in_a_day());
}

fn hours_in_a_day() -> i64 {
    hours(nov(1)).count() as i64
}

#[tokio::test(flavor = "multi_thread")]
async fn a_parquet_file_with_no_rows_is_ingested_as_nothing() {
    let env = TestEnv::new("zero_rows").await;
    let out = env
        .ingest(
            env.put_event(
                &raw_key("pod_usage", nov(1), 0),
                pod_usage(&[], &WriteOptions::default()),
            )
            .await,
        )
        .await;
    assert_eq!(out[0].outcome, "ingested");
    assert_eq!(pod_totals(&env).await.0, 0);
    assert_eq!(
        count(&env, "SELECT count(*) FROM ocp_dirty_day").await,
        0,
        "no day touched"
    );
    assert_eq!(
        count(
            &env,
            "SELECT count(*) FROM ocp_ingested_object WHERE state = 'present'"
        )
        .await,
        1
    );
}

/// The object as S3 serves it, overwritten in S3 right after the first ranged read: every later
/// read carries the event's ETag in `If-Match` and must get 412.
struct OverwrittenMidRead {
    inner: ocp_summary::read::s3_object::S3Object,
    s3: aws_sdk_s3::Client,
    bucket: String,
    replacement: Vec<u8>,
    reads: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl ocp_summary::read::object_source::ObjectSource for OverwrittenMidRead {
    fn key(&self) -> &str {
        self.inner.key()
    }

    fn size(&self) -> u64 {
        self.inner.size()
    }

    async fn read_range(
        &self,
        range: std::ops::Range<u64>,
    ) -> ocp_summary::Result<ocp_summary::read::object_source::RangeStream> {
        if self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 1 {
            self.s3
                .put_object()
                .bucket(&self.bucket)
                .key(self.inner.key())
                .body(self.replacement.clone().into())
                .send()
                .await
                .unwrap();
        }
        self.inner.read_range(range).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_object_overwritten_mid_read_is_superseded_and_writes_nothing() {
    use integration_tests::koku_parquet::fleet;
    use ocp_summary::ingest::versions::ObjectEvent;
    use ocp_summary::ingest::{Outcome, ingest_object};

    let env = TestEnv::new("mid_read_412").await;
    let key = raw_key("pod_usage", nov(1), 0);
    // Large enough that the footer read (the last 64 KiB) leaves column chunks to fetch.
    let body = pod_usage(&fleet(nov(1), 10_000, "p"), &WriteOptions::default());
    assert!(body.len() > 200 * 1024, "{} bytes", body.len());
    let (etag, size) = env.put(&key, body).await;
    let event = ObjectEvent {
        bucket: env.bucket.clone(),
        key: key.clone(),
        etag: Some(etag.clone()),
        sequencer: Some(env.next_sequencer()),
        removed: false,
    };
    let source = OverwrittenMidRead {
        inner: ocp_summary::read::s3_object::S3Object::open(
            env.s3.clone(),
            &env.bucket,
            &key,
            Some(&etag),
            Some(size),
        )
        .await
        .unwrap(),
        s3: env.s3.clone(),
        bucket: env.bucket.clone(),
        replacement: pod_usage(&worked_pod(nov(2)), &WriteOptions::default()),
        reads: Default::default(),
    };
    let reads = std::sync::Arc::clone(&source.reads);
    let report = ingest_object(
        &env.ingest.db,
        &event,
        || async { Ok(source) },
        &env.ingest.settings,
    )
    .await
    .unwrap();
    assert!(
        reads.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "the overwrite happened between two reads"
    );
    assert!(
        matches!(report.outcome, Outcome::Superseded(_)),
        "{:?}",
        report.outcome
    );
    assert_eq!(pod_totals(&env).await.0, 0, "no partial rows");
    for table in ["ocp_ingested_object", "ocp_dirty_day", "ocp_ingest_error"] {
        assert_eq!(
            count(&env, &format!("SELECT count(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }
}
