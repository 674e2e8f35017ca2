//! GPU usage (koku-ocp-gpu-vm.md): koku's raw hourly gpu_usage Parquet ingested and rolled up into
//! `reporting_ocp_gpu_summary_p`, every column compared with the spec's rows (the §7 worked example,
//! verified there against koku's on-prem SQL) or with values worked out by hand from §5.2 beside
//! them.

use chrono::{NaiveDate, NaiveDateTime};
use integration_tests::harness::{TestEnv, count};
use integration_tests::koku_parquet::{GpuColumns, GpuHour, WriteOptions, day, gpu_usage};
use tokio_postgres::Client;

/// The worked example's source, cluster and day (§7).
const SPEC_SOURCE: &str = "3f1a2b4c-0000-4000-8000-000000000001";

fn aug10() -> NaiveDate {
    day(2026, 8, 10)
}

fn at(d: NaiveDate, hour: u32) -> NaiveDateTime {
    d.and_hms_opt(hour, 0, 0).unwrap()
}

fn gpu_key(d: NaiveDate, chunk: u32) -> String {
    format!(
        "data/parquet/org1234567/OCP/gpu_usage/source={SPEC_SOURCE}/year=2026/month=08/gpu_usage.{d}.1.0_{chunk}.parquet"
    )
}

/// The spec's cluster id and alias for its source, and a cost category `ml-%` with id 7 (§7).
async fn spec_setup(client: &Client) {
    client
        .batch_execute(&format!(
            "INSERT INTO ocp_source_cluster (source_uuid, cluster_id, cluster_alias)
                 VALUES ('{SPEC_SOURCE}', 'my-cluster', 'My Cluster');
             INSERT INTO reporting_ocp_cost_category (id, name) VALUES (7, 'ML');
             INSERT INTO reporting_ocp_cost_category_namespace (namespace, cost_category_id)
                 VALUES ('ml-%', 7);"
        ))
        .await
        .unwrap();
}

async fn put_gpu(env: &TestEnv, key: &str, body: Vec<u8>) {
    let out = env.ingest(env.put_event(key, body).await).await;
    assert_eq!(out[0].outcome, "ingested", "{key}: {:?}", out[0].detail);
}

/// The summary's columns in the order [`summary`] returns them.
const COLUMNS: [&str; 27] = [
    "namespace",
    "model_name",
    "memory_capacity_gb",
    "mig_instance_id",
    "gpu_uuid",
    "gpu_mode",
    "mig_profile",
    "mig_slice_count",
    "gpu_max_slices",
    "mig_strategy",
    "mig_memory_capacity_gb",
    "usage_start",
    "usage_end",
    "node",
    "vendor_name",
    "source_uuid",
    "cluster_id",
    "cluster_alias",
    "cost_category_id",
    "gpu_count",
    "cost_model_gpu_cost",
    "cost_model_cpu_cost",
    "cost_model_memory_cost",
    "cost_model_volume_cost",
    "cost_model_rate_type",
    "raw_currency",
    "id IS NOT NULL",
];

/// Every summary row, each column as PostgreSQL's text (NULL as `None`).
async fn summary(client: &Client) -> Vec<Vec<Option<String>>> {
    let select: Vec<String> = COLUMNS.iter().map(|c| format!("({c})::text")).collect();
    let rows = client
        .query(
            &format!(
                "SELECT {} FROM reporting_ocp_gpu_summary_p \
                 ORDER BY namespace, gpu_uuid, mig_instance_id NULLS FIRST",
                select.join(", ")
            ),
            &[],
        )
        .await
        .unwrap();
    (rows.iter())
        .map(|r| (0..COLUMNS.len()).map(|i| r.get(i)).collect())
        .collect()
}

/// The columns every row of the worked example shares (§7.4), after the eleven that differ.
fn shared_columns(d: &str) -> Vec<Option<&'static str>> {
    let d: &'static str = Box::leak(d.to_owned().into_boxed_str());
    vec![
        Some(d),
        Some(d),
        Some("gpu-node-1"),
        Some("nvidia"),
        Some(SPEC_SOURCE),
        Some("my-cluster"),
        Some("My Cluster"),
        Some("7"),
        Some("1"),
        None,
        None,
        None,
        None,
        None,
        None,
        Some("true"),
    ]
}

#[track_caller]
fn assert_rows(got: &[Vec<Option<String>>], expected: &[Vec<Option<&str>>]) {
    assert_eq!(got.len(), expected.len(), "row count: {got:?}");
    for (g, e) in got.iter().zip(expected) {
        for ((column, g), e) in COLUMNS.iter().zip(g).zip(e) {
            assert_eq!(g.as_deref(), *e, "{column} of {g:?} / {e:?}");
        }
    }
}

/// The worked example's seven hourly rows as koku writes them (§7.1–§7.2): the MIG columns derived,
/// the A100's cells empty, and its derived numbers NULL (the chunk has MIG rows, so they exist).
fn worked_example_rows() -> Vec<GpuHour> {
    let d = aug10();
    let a100 = |h, uptime| {
        GpuHour::dedicated(
            at(d, h),
            ("gpu-node-1", "ml-train", "trainer-0"),
            ("GPU-1111", "NVIDIA A100 SXM4 80GB", 81920.0),
            uptime,
        )
    };
    let h100 = |h, uptime, instance, profile, slices, mib| {
        GpuHour::dedicated(
            at(d, h),
            ("gpu-node-1", "ml-serve", "infer-0"),
            ("GPU-2222", "NVIDIA H100 80GB HBM3", 81559.0),
            uptime,
        )
        .mig(
            (instance, profile, "mixed"),
            (Some(slices), Some(mib), Some(7)),
        )
    };
    vec![
        a100(0, 3600.0),
        a100(1, 3600.0),
        a100(2, 1800.0),
        h100(0, 3600.0, "MIG-aaaa", "3g.40gb", 3, 40960),
        h100(0, 3600.0, "MIG-bbbb", "1g.10gb", 1, 10240),
        h100(1, 3600.0, "MIG-aaaa", "3g.40gb", 3, 40960),
        h100(1, 1800.0, "MIG-bbbb", "1g.10gb", 1, 10240),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn worked_example_matches_kokus_gpu_rows_in_every_column() {
    let env = TestEnv::new("gpu_worked").await;
    let client = env.sql().await;
    spec_setup(&client).await;
    let rows = worked_example_rows();
    let body = gpu_usage(&rows, GpuColumns::for_rows(&rows), &WriteOptions::default());
    let event = env.put_event(&gpu_key(aug10(), 0), body).await;
    assert_eq!(env.ingest(event.clone()).await[0].outcome, "ingested");
    // Per-object idempotence as for pod files: a redelivered event changes nothing.
    assert_eq!(env.ingest(event).await[0].outcome, "already_current");
    // Three pod-GPU-instance-day partial rows (§7.3).
    assert_eq!(count(&client, "ocp_gpu_usage_partial").await, 3);
    let result = env.roll_up().await;
    assert_eq!(result["days"], 1);

    // §7.4, verified there by running koku's on-prem SQL on PostgreSQL 15.
    let row = |differing: [Option<&'static str>; 11]| {
        let mut r = differing.to_vec();
        r.extend(shared_columns("2026-08-10"));
        r
    };
    let expected = [
        row([
            Some("ml-serve"),
            Some("NVIDIA H100 80GB HBM3"),
            Some("85.520809984000000"),
            Some("MIG-aaaa"),
            Some("GPU-2222"),
            Some("MIG"),
            Some("3g.40gb"),
            Some("3"),
            Some("7"),
            Some("mixed"),
            Some("42.949672960000000"),
        ]),
        row([
            Some("ml-serve"),
            Some("NVIDIA H100 80GB HBM3"),
            Some("85.520809984000000"),
            Some("MIG-bbbb"),
            Some("GPU-2222"),
            Some("MIG"),
            Some("1g.10gb"),
            Some("1"),
            Some("7"),
            Some("mixed"),
            Some("10.737418240000000"),
        ]),
        row([
            Some("ml-train"),
            Some("NVIDIA A100 SXM4 80GB"),
            Some("85.899345920000000"),
            Some(""),
            Some("GPU-1111"),
            Some("dedicated"),
            None,
            None,
            None,
            Some(""),
            None,
        ]),
    ];
    assert_rows(&summary(&client).await, &expected);

    // What a cost step reads (§6.4, §7.3): each pod's daily uptime on each GPU or instance.
    let uptimes = client
        .query(
            "SELECT pod, mig_instance_id, sum(gpu_pod_uptime) FROM ocp_gpu_usage_partial
             GROUP BY pod, gpu_uuid, mig_instance_id ORDER BY pod, mig_instance_id",
            &[],
        )
        .await
        .unwrap();
    let uptimes: Vec<(String, String, f64)> = (uptimes.iter())
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        uptimes,
        [
            ("infer-0".into(), "MIG-aaaa".into(), 7200.0),
            ("infer-0".into(), "MIG-bbbb".into(), 5400.0),
            ("trainer-0".into(), "".into(), 9000.0),
        ]
    );
    assert_eq!(
        count(&client, "reporting_ocpusagelineitem_daily_summary").await,
        0,
        "a GPU file alone writes no daily summary rows"
    );
}

/// A Tesla T4 (15360 MiB) on `node`, dedicated, as a MIG-aware operator reports it.
fn t4(d: NaiveDate, hour: u32, ns: &str, pod: &str, uuid: &str) -> GpuHour {
    GpuHour::dedicated(
        at(d, hour),
        ("gpu-node-2", ns, pod),
        (uuid, "Tesla T4", 15360.0),
        3600.0,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn null_and_empty_mig_keys_are_separate_groups_and_pods_sharing_a_gpu_make_one_row() {
    let env = TestEnv::new("gpu_keys").await;
    let client = env.sql().await;
    spec_setup(&client).await;
    let d = aug10();
    // File 0, a MIG-aware operator: GPU-3 shared by two pods of team-a (one row, §10 G4), and
    // GPU-4 reported once with empty MIG cells and once with NULL ones (a model koku cleared of
    // its MIG fields, §3.3): '' and NULL are different keys (§10 G1), so two rows.
    let mut cleared = t4(d, 1, "team-a", "p3", "GPU-4");
    cleared.mig_instance_id = None;
    cleared.mig_profile = None;
    cleared.mig_strategy = None;
    let rows = vec![
        t4(d, 0, "team-a", "p1", "GPU-3"),
        t4(d, 0, "team-a", "p2", "GPU-3"),
        t4(d, 0, "team-a", "p3", "GPU-4"),
        cleared,
    ];
    let columns = GpuColumns {
        mig_strings: true,
        derived: false,
        utilization: true,
    };
    put_gpu(
        &env,
        &gpu_key(d, 0),
        gpu_usage(&rows, columns, &WriteOptions::default()),
    )
    .await;
    // File 1, an old operator without any MIG column: GPU-5 reads NULL in all of them (§10 G1 a).
    let old = GpuColumns {
        mig_strings: false,
        derived: false,
        utilization: false,
    };
    let rows = [t4(d, 2, "team-b", "p4", "GPU-5")];
    put_gpu(
        &env,
        &gpu_key(d, 1),
        gpu_usage(&rows, old, &WriteOptions::default()),
    )
    .await;
    env.roll_up().await;

    // 15360 MiB × 0.001048576 = 16.10612736 GB. No category matches team-*. gpu_count is 1: the
    // instance id ('' or NULL) coalesces to the GPU's uuid.
    let row = |ns: &'static str, uuid: &'static str, mig: Option<&'static str>| {
        let mut r = vec![
            Some(ns),
            Some("Tesla T4"),
            Some("16.106127360000000"),
            mig,
            Some(uuid),
            Some("dedicated"),
            None,
            None,
            None,
            mig,
            None,
        ];
        let mut rest = shared_columns("2026-08-10");
        rest[2] = Some("gpu-node-2");
        rest[7] = None;
        r.extend(rest);
        r
    };
    let expected = [
        row("team-a", "GPU-3", Some("")),
        row("team-a", "GPU-4", None),
        row("team-a", "GPU-4", Some("")),
        row("team-b", "GPU-5", None),
    ];
    assert_rows(&summary(&client).await, &expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gpu_file_alone_rolls_up_its_days_and_its_removal_clears_them() {
    let env = TestEnv::new("gpu_alone").await;
    let client = env.sql().await;
    spec_setup(&client).await;
    let (d1, d2) = (aug10(), day(2026, 8, 11));
    // One GPU used across midnight, in one file: a row on each day (§10 G5).
    let rows = vec![
        t4(d1, 23, "ml-a", "p1", "GPU-6"),
        t4(d2, 0, "ml-a", "p1", "GPU-6"),
    ];
    let key = gpu_key(d1, 0);
    put_gpu(
        &env,
        &key,
        gpu_usage(&rows, GpuColumns::for_rows(&rows), &WriteOptions::default()),
    )
    .await;
    let result = env.roll_up().await;
    assert_eq!(result["days"], 2);
    let days = client
        .query(
            "SELECT usage_start::text, usage_end::text, cost_category_id
             FROM reporting_ocp_gpu_summary_p ORDER BY usage_start",
            &[],
        )
        .await
        .unwrap();
    let days: Vec<(String, String, Option<i32>)> = days
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        days,
        [
            ("2026-08-10".into(), "2026-08-10".into(), Some(7)),
            ("2026-08-11".into(), "2026-08-11".into(), Some(7)),
        ]
    );
    assert_eq!(
        count(&client, "reporting_ocpusagelineitem_daily_summary").await,
        0
    );

    // A second roll-up with nothing dirty changes nothing; removing the object empties both days.
    assert_eq!(env.roll_up().await["days"], 0);
    assert_eq!(count(&client, "reporting_ocp_gpu_summary_p").await, 2);
    let out = env.ingest(env.delete_event(&key).await).await;
    assert_eq!(out[0].outcome, "removed", "{:?}", out[0].detail);
    assert_eq!(env.roll_up().await["days"], 2);
    assert_eq!(count(&client, "reporting_ocp_gpu_summary_p").await, 0);
    assert_eq!(count(&client, "ocp_gpu_usage_partial").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unparsed_profile_across_two_files_of_a_day_and_an_overwrite() {
    let env = TestEnv::new("gpu_mig").await;
    let client = env.sql().await;
    spec_setup(&client).await;
    let d = aug10();
    let h100 = |hour, ns: &str, memory_mib| {
        GpuHour::dedicated(
            at(d, hour),
            ("gpu-node-1", ns, "infer-1"),
            ("GPU-7", "NVIDIA H100 80GB HBM3", memory_mib),
            3600.0,
        )
    };
    // A media-extension profile koku cannot parse keeps its text and max slices, with no slice
    // count or MIG memory (§10 G1 d). The GPU's hours come in two files of the day; a blank memory
    // cell (0.0) in the second does not lower the max (§10 G6).
    let unparsed = |g: GpuHour| g.mig(("0", "1g.10gb+me", "single"), (None, None, Some(7)));
    let first = [unparsed(h100(0, "ml-a", 81559.0))];
    let second = [unparsed(h100(1, "ml-a", 0.0))];
    let columns = GpuColumns::for_rows(&first);
    let options = WriteOptions::default();
    put_gpu(&env, &gpu_key(d, 0), gpu_usage(&first, columns, &options)).await;
    put_gpu(&env, &gpu_key(d, 1), gpu_usage(&second, columns, &options)).await;
    env.roll_up().await;
    let mut expected = vec![
        Some("ml-a"),
        Some("NVIDIA H100 80GB HBM3"),
        Some("85.520809984000000"),
        Some("0"),
        Some("GPU-7"),
        Some("MIG"),
        Some("1g.10gb+me"),
        None,
        Some("7"),
        Some("single"),
        None,
    ];
    expected.extend(shared_columns("2026-08-10"));
    assert_rows(&summary(&client).await, std::slice::from_ref(&expected));

    // Overwriting the second file with the GPU in another namespace moves that hour's row.
    let moved = [unparsed(h100(1, "ml-b", 81559.0))];
    put_gpu(&env, &gpu_key(d, 1), gpu_usage(&moved, columns, &options)).await;
    env.roll_up().await;
    let mut in_b = expected.clone();
    in_b[0] = Some("ml-b");
    assert_rows(&summary(&client).await, &[expected, in_b]);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_gpu_files_are_rejected_and_write_nothing() {
    let env = TestEnv::new("gpu_bad").await;
    let client = env.sql().await;
    let rows = worked_example_rows();
    let columns = GpuColumns::for_rows(&rows);
    let cases = [
        (
            WriteOptions {
                drop_columns: vec!["gpu_pod_uptime"],
                ..WriteOptions::default()
            },
            "missing required column(s): gpu_pod_uptime",
        ),
        (
            WriteOptions {
                as_text: vec!["gpu_memory_capacity_mib"],
                ..WriteOptions::default()
            },
            "column gpu_memory_capacity_mib has type Utf8, expected Number",
        ),
    ];
    for (i, (options, reason)) in cases.iter().enumerate() {
        let key = gpu_key(aug10(), i as u32);
        let out = env
            .ingest(
                env.put_event(&key, gpu_usage(&rows, columns, options))
                    .await,
            )
            .await;
        assert_eq!(out[0].outcome, "rejected", "{reason}");
        let detail = out[0].detail.clone().unwrap_or_default();
        assert!(detail.contains(reason), "{detail}");
        let recorded = client
            .query_one(
                "SELECT reason FROM ocp_ingest_error WHERE object_key = $1",
                &[&key],
            )
            .await
            .unwrap();
        assert!(recorded.get::<_, String>(0).contains(reason));
    }
    assert_eq!(count(&client, "ocp_gpu_usage_partial").await, 0);
    assert_eq!(count(&client, "ocp_dirty_day").await, 0);
}
