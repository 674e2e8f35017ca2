//! Roll-up from Parquet through ingest to koku's summary rows, with every expected figure computed by
//! hand from the spec (§4–§9) in the comments beside it. Month of November: 30 days.

use integration_tests::harness::{
    SOURCE, SummaryRow, TestEnv, assert_numbers, one, raw_key, s3_event, summary_rows,
};
use integration_tests::koku_parquet::{
    PodHour, StorageHour, WriteOptions, day, label_day, labels, pod_usage, storage_usage,
};
use serde_json::json;

fn nov(d: u32) -> chrono::NaiveDate {
    day(2025, 11, d)
}

fn pod(
    d: chrono::NaiveDate,
    ns: &str,
    node: &str,
    name: &str,
    cpu: (f64, f64),
    mem: (f64, f64),
    size: (f64, f64),
) -> Vec<PodHour> {
    PodHour::new(
        d.and_hms_opt(0, 0, 0).unwrap(),
        ns,
        node,
        name,
        cpu,
        mem,
        size,
    )
    .day_long(d)
}

async fn put(env: &TestEnv, report: &str, d: chrono::NaiveDate, chunk: u32, body: Vec<u8>) {
    let out = env
        .ingest(env.put_event(&raw_key(report, d, chunk), body).await)
        .await;
    assert_eq!(out[0].outcome, "ingested", "{:?}", out[0].detail);
}

async fn node_labels(env: &TestEnv, d: chrono::NaiveDate, nodes: &[(&str, &str)]) {
    let rows: Vec<_> = nodes.iter().flat_map(|(n, l)| label_day(d, n, l)).collect();
    put(
        env,
        "node_labels",
        d,
        0,
        labels("node", &rows, &WriteOptions::default()),
    )
    .await;
}

fn pods(rows: &[SummaryRow]) -> Vec<&SummaryRow> {
    rows.iter().filter(|r| r.data_source == "Pod").collect()
}

fn ns(r: &SummaryRow) -> &str {
    r.namespace.as_deref().unwrap_or("<NULL>")
}

#[tokio::test(flavor = "multi_thread")]
async fn master_infra_and_worker_nodes_of_different_sizes() {
    let env = TestEnv::new("roles").await;
    let d = nov(1);
    let mut rows = pod(
        d,
        "openshift-kube-apiserver",
        "m1",
        "apiserver",
        (0.5, 1.0),
        (1.0, 2.0),
        (4.0, 16.0),
    );
    rows.extend(pod(
        d,
        "openshift-ingress",
        "i1",
        "router",
        (1.0, 1.0),
        (2.0, 2.0),
        (8.0, 32.0),
    ));
    rows.extend(pod(
        d,
        "app",
        "w1",
        "web",
        (2.0, 4.0),
        (4.0, 8.0),
        (16.0, 64.0),
    ));
    put(
        &env,
        "pod_usage",
        d,
        0,
        pod_usage(&rows, &WriteOptions::default()),
    )
    .await;
    node_labels(
        &env,
        d,
        &[
            ("m1", "{}"),
            ("i1", r#"{"node_role_kubernetes_io": "infra"}"#),
            ("w1", "{}"),
        ],
    )
    .await;
    env.roll_up().await;
    let rows = summary_rows(&env.sql().await).await;
    assert_eq!(rows.len(), 6, "three Pod rows and three unallocated rows");

    // Cluster capacity: (4 + 8 + 16) cores × 24 h = 672; (16 + 32 + 64) GiB × 24 h = 2688.
    let cluster = [
        ("cluster_capacity_cpu_core_hours", 672.0),
        ("cluster_capacity_memory_gigabyte_hours", 2688.0),
    ];
    let api = one(&rows, "apiserver", |r| ns(r) == "openshift-kube-apiserver");
    assert_numbers(
        api,
        &[
            ("pod_usage_cpu_core_hours", 12.0),
            ("pod_request_cpu_core_hours", 24.0),
            ("pod_effective_usage_cpu_core_hours", 24.0),
            ("pod_limit_cpu_core_hours", 48.0),
            ("pod_usage_memory_gigabyte_hours", 24.0),
            ("pod_request_memory_gigabyte_hours", 48.0),
            ("node_capacity_cpu_cores", 4.0),
            ("node_capacity_cpu_core_hours", 96.0),
            ("node_capacity_memory_gigabytes", 16.0),
            ("node_capacity_memory_gigabyte_hours", 384.0),
        ],
    );
    assert_numbers(api, &cluster);
    assert_eq!(
        api.cost_category.as_deref(),
        Some("Platform"),
        "openshift-% pattern"
    );
    let web = one(&rows, "web", |r| ns(r) == "app");
    assert_numbers(
        web,
        &[
            ("pod_usage_cpu_core_hours", 48.0),
            ("pod_request_cpu_core_hours", 96.0),
            ("pod_usage_memory_gigabyte_hours", 96.0),
            ("pod_request_memory_gigabyte_hours", 192.0),
            ("node_capacity_cpu_core_hours", 384.0),
            ("node_capacity_memory_gigabyte_hours", 1536.0),
        ],
    );
    assert_numbers(web, &cluster);
    assert_eq!(web.cost_category, None);

    // master m1 (apiserver namespace ran there): 96 − 12 = 84, 96 − 24 = 72; 384 − 24 = 360, 384 − 48 = 336.
    let m1 = one(&rows, "m1 unallocated", |r| {
        r.node.as_deref() == Some("m1") && ns(r) == "Platform unallocated"
    });
    assert_numbers(
        m1,
        &[
            ("pod_usage_cpu_core_hours", 84.0),
            ("pod_request_cpu_core_hours", 72.0),
            ("pod_effective_usage_cpu_core_hours", 72.0),
            ("pod_usage_memory_gigabyte_hours", 360.0),
            ("pod_request_memory_gigabyte_hours", 336.0),
            ("pod_effective_usage_memory_gigabyte_hours", 336.0),
        ],
    );
    assert!(m1.is_null("pod_limit_cpu_core_hours"));
    assert_eq!(
        m1.cost_category.as_deref(),
        Some("Platform"),
        "'Platform unallocated' pattern"
    );
    assert_eq!(m1.all_labels, Some(json!({})));
    // infra i1 (by node label): 192 − 24 = 168 cores; 768 − 48 = 720 GiB.
    let i1 = one(&rows, "i1 unallocated", |r| {
        r.node.as_deref() == Some("i1") && ns(r) == "Platform unallocated"
    });
    assert_numbers(
        i1,
        &[
            ("pod_usage_cpu_core_hours", 168.0),
            ("pod_usage_memory_gigabyte_hours", 720.0),
        ],
    );
    // worker w1: 384 − 48 = 336, 384 − 96 = 288; 1536 − 96 = 1440, 1536 − 192 = 1344.
    let w1 = one(&rows, "w1 unallocated", |r| ns(r) == "Worker unallocated");
    assert_numbers(
        w1,
        &[
            ("pod_usage_cpu_core_hours", 336.0),
            ("pod_request_cpu_core_hours", 288.0),
            ("pod_usage_memory_gigabyte_hours", 1440.0),
            ("pod_request_memory_gigabyte_hours", 1344.0),
        ],
    );
    assert_eq!(w1.cost_category, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn shared_claims_claims_without_pods_and_pods_without_nodes() {
    let env = TestEnv::new("storage").await;
    let d = nov(1);
    let mut rows = pod(d, "app", "w1", "pa", (1.0, 1.0), (1.0, 1.0), (4.0, 16.0));
    rows.extend(pod(
        d,
        "app",
        "w2",
        "pb",
        (1.0, 1.0),
        (1.0, 1.0),
        (8.0, 32.0),
    ));
    rows.extend(pod(d, "app", "", "pc", (1.0, 1.0), (1.0, 1.0), (2.0, 8.0))); // no node
    put(
        &env,
        "pod_usage",
        d,
        0,
        pod_usage(&rows, &WriteOptions::default()),
    )
    .await;
    node_labels(&env, d, &[("w1", "{}")]).await; // w2 has no node-label rows
    let at = d.and_hms_opt(0, 0, 0).unwrap();
    let mut storage = StorageHour::new(at, "app", "pa", "shared", (10.0, 10.0, 4.0)).day_long(d);
    storage.extend(StorageHour::new(at, "app", "pb", "shared", (10.0, 10.0, 4.0)).day_long(d));
    storage.extend(StorageHour::new(at, "app", "ghost", "orphan", (20.0, 20.0, 5.0)).day_long(d));
    storage.extend(StorageHour::new(at, "app", "pc", "nodeless", (3.0, 3.0, 3.0)).day_long(d));
    put(
        &env,
        "storage_usage",
        d,
        0,
        storage_usage(&storage, &WriteOptions::default()),
    )
    .await;
    env.roll_up().await;
    let rows = summary_rows(&env.sql().await).await;

    // Pod rows: pc (node '') has none, but its node still counts in cluster capacity: (4 + 8 + 2) × 24.
    let pod_rows = pods(&rows);
    let named: Vec<_> = pod_rows
        .iter()
        .filter(|r| ns(r) == "app")
        .map(|r| r.node.clone().unwrap())
        .collect();
    assert_eq!(named, ["w1", "w2"]);
    assert_numbers(pod_rows[0], &[("cluster_capacity_cpu_core_hours", 336.0)]);

    // The shared claim: one row per node, request and usage halved (node_count 2), capacity not.
    // capacity 10 GiB × 86400 s / (86400 × 30) = 1/3; request 10 / 2 / 30; usage 4 / 2 / 30.
    for node in ["w1", "w2"] {
        let r = one(&rows, node, |r| {
            r.pvc.as_deref() == Some("shared") && r.node.as_deref() == Some(node)
        });
        assert_numbers(
            r,
            &[
                ("persistentvolumeclaim_capacity_gigabyte", 10.0),
                (
                    "persistentvolumeclaim_capacity_gigabyte_months",
                    10.0 / 30.0,
                ),
                ("volume_request_storage_gigabyte_months", 5.0 / 30.0),
                ("persistentvolumeclaim_usage_gigabyte_months", 2.0 / 30.0),
            ],
        );
        assert!(r.is_null("pod_usage_cpu_core_hours"));
        assert_eq!(r.resource_id.as_deref(), Some(format!("i-{node}").as_str()));
    }
    // No pod row for its pod: node and resource_id NULL, node_count taken as 1 (on-prem, §8.3).
    let orphan = one(&rows, "orphan", |r| r.pvc.as_deref() == Some("orphan"));
    assert_eq!(
        (orphan.node.as_deref(), orphan.resource_id.as_deref()),
        (None, None)
    );
    assert_numbers(
        orphan,
        &[
            (
                "persistentvolumeclaim_capacity_gigabyte_months",
                20.0 / 30.0,
            ),
            ("volume_request_storage_gigabyte_months", 20.0 / 30.0),
            ("persistentvolumeclaim_usage_gigabyte_months", 5.0 / 30.0),
        ],
    );
    // Mounted by the node-less pod: node '' (not NULL, §9).
    let nodeless = one(&rows, "nodeless", |r| r.pvc.as_deref() == Some("nodeless"));
    assert_eq!(nodeless.node.as_deref(), Some(""));
    assert_numbers(
        nodeless,
        &[("persistentvolumeclaim_usage_gigabyte_months", 3.0 / 30.0)],
    );

    // Unallocated: w1 is a worker; w2 has no node-label rows, so no role: namespace NULL (§8.5).
    let w1 = one(&rows, "w1", |r| {
        r.data_source == "Pod" && ns(r) == "Worker unallocated"
    });
    assert_eq!(w1.node.as_deref(), Some("w1"));
    let w2 = one(&rows, "w2", |r| {
        r.data_source == "Pod" && r.namespace.is_none()
    });
    assert_numbers(w2, &[("pod_usage_cpu_core_hours", 8.0 * 24.0 - 24.0)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn labels_follow_node_namespace_pod_precedence_and_enabled_keys() {
    let env = TestEnv::new("labels").await;
    let d = nov(1);
    let rows: Vec<PodHour> = pod(d, "app", "n1", "p1", (1.0, 1.0), (1.0, 1.0), (4.0, 16.0))
        .into_iter()
        .map(|p| p.labels(r#"{"env": "pod", "app": "a", "vm_kubevirt_io_name": "vm1"}"#))
        .collect();
    put(
        &env,
        "pod_usage",
        d,
        0,
        pod_usage(&rows, &WriteOptions::default()),
    )
    .await;
    node_labels(
        &env,
        d,
        &[("n1", r#"{"env": "node", "zone": "z1", "tier": "n"}"#)],
    )
    .await;
    let ns_rows = label_day(d, "app", r#"{"env": "ns", "team": "t"}"#);
    put(
        &env,
        "namespace_labels",
        d,
        0,
        labels("namespace", &ns_rows, &WriteOptions::default()),
    )
    .await;
    let mut storage = StorageHour::new(
        d.and_hms_opt(0, 0, 0).unwrap(),
        "app",
        "p1",
        "data",
        (1.0, 1.0, 1.0),
    );
    storage.pv_labels = r#"{"env": "pv", "disk": "ssd"}"#.into();
    storage.pvc_labels = r#"{"env": "pvc"}"#.into();
    put(
        &env,
        "storage_usage",
        d,
        0,
        storage_usage(&storage.day_long(d), &WriteOptions::default()),
    )
    .await;

    // No key enabled: only vm_kubevirt_io_name survives (PostgreSQL behaviour, §8.4).
    env.roll_up().await;
    let rows = summary_rows(&env.sql().await).await;
    let p = one(&rows, "pod", |r| r.data_source == "Pod" && ns(r) == "app");
    assert_eq!(p.pod_labels, Some(json!({"vm_kubevirt_io_name": "vm1"})));
    assert_eq!(p.all_labels, p.pod_labels);
    let s = one(&rows, "storage", |r| r.data_source == "Storage");
    assert_eq!(s.volume_labels, Some(json!({})));

    // Enable keys, then re-summarize the month as an operator would.
    env.sql()
        .await
        .batch_execute(
            "INSERT INTO reporting_enabledtagkeys (key, enabled, provider_type)
             VALUES ('env', true, 'OCP'), ('team', true, 'OCP'), ('zone', true, 'OCP'),
                    ('disk', true, 'OCP'), ('tier', false, 'OCP')",
        )
        .await
        .unwrap();
    let result = env
        .roll_up_event(json!({"source_uuid": SOURCE, "month": "2025-11"}))
        .await;
    assert_eq!(result["days"], 30, "the whole month, in chunks of six days");
    assert_eq!(result["chunks"], 5);
    let rows = summary_rows(&env.sql().await).await;
    let p = one(&rows, "pod", |r| r.data_source == "Pod" && ns(r) == "app");
    // env: node < namespace < pod; team from the namespace; zone from the node; tier disabled.
    assert_eq!(
        p.pod_labels,
        Some(json!({"env": "pod", "team": "t", "zone": "z1", "vm_kubevirt_io_name": "vm1"}))
    );
    let s = one(&rows, "storage", |r| r.data_source == "Storage");
    // Volume labels: node, namespace, PV, then PVC last.
    assert_eq!(
        s.volume_labels,
        Some(json!({"env": "pvc", "team": "t", "zone": "z1", "disk": "ssd"}))
    );
    assert_eq!(s.all_labels, s.volume_labels);
    assert_eq!(
        rows.len(),
        3,
        "pod, storage, unallocated; nothing duplicated by the re-run"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn labels_changing_within_a_day_multiply_rows_like_koku() {
    let env = TestEnv::new("multiply").await;
    let d = nov(1);
    put(
        &env,
        "pod_usage",
        d,
        0,
        pod_usage(
            &pod(d, "app", "n1", "p1", (1.0, 1.0), (1.0, 1.0), (4.0, 16.0)),
            &WriteOptions::default(),
        ),
    )
    .await;
    // The node's enabled label changes at noon: two filtered maps that day (§8.1).
    let mut rows = label_day(d, "n1", r#"{"zone": "a"}"#);
    for r in rows.iter_mut().skip(12) {
        r.2 = r#"{"zone": "b"}"#.into();
    }
    put(
        &env,
        "node_labels",
        d,
        0,
        labels("node", &rows, &WriteOptions::default()),
    )
    .await;
    env.sql().await.batch_execute("INSERT INTO reporting_enabledtagkeys (key, enabled, provider_type) VALUES ('zone', true, 'OCP')").await.unwrap();
    env.roll_up().await;
    let rows = summary_rows(&env.sql().await).await;
    let app: Vec<_> = rows.iter().filter(|r| ns(r) == "app").collect();
    assert_eq!(app.len(), 2, "one row per label set");
    for r in &app {
        assert_numbers(r, &[("pod_usage_cpu_core_hours", 24.0)]); // the whole day, in each row
    }
    // The unallocated row subtracts both copies: 96 − 2 × 24.
    let w = one(&rows, "unallocated", |r| ns(r) == "Worker unallocated");
    assert_numbers(w, &[("pod_usage_cpu_core_hours", 48.0)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn cost_categories_match_like_patterns_and_overlaps_duplicate() {
    let env = TestEnv::new("categories").await;
    let d = nov(1);
    let mut rows = Vec::new();
    for namespace in [
        "openshift-monitoring",
        "kube-system",
        "openshiftx",
        "my-kube-app",
    ] {
        rows.extend(pod(
            d,
            namespace,
            "n1",
            &format!("{namespace}-pod"),
            (0.25, 0.25),
            (1.0, 1.0),
            (4.0, 16.0),
        ));
    }
    put(
        &env,
        "pod_usage",
        d,
        0,
        pod_usage(&rows, &WriteOptions::default()),
    )
    .await;
    env.sql()
        .await
        .batch_execute(
            "INSERT INTO reporting_ocp_cost_category (name) VALUES ('Custom');
             INSERT INTO reporting_ocp_cost_category_namespace (namespace, cost_category_id)
             SELECT 'kube-sys%', id FROM reporting_ocp_cost_category WHERE name = 'Custom'",
        )
        .await
        .unwrap();
    env.roll_up().await;
    let rows = summary_rows(&env.sql().await).await;
    let category = |n: &str| one(&rows, n, |r| ns(r) == n).cost_category.clone();
    assert_eq!(
        category("openshift-monitoring").as_deref(),
        Some("Platform")
    );
    assert_eq!(category("openshiftx"), None);
    assert_eq!(category("my-kube-app"), None);
    // kube-system matches 'kube-%' and 'kube-sys%': joined before the sum, so counted twice (§8.1),
    // with max() of the two category ids (Custom was created after Platform).
    let kube = one(&rows, "kube-system", |r| ns(r) == "kube-system");
    assert_eq!(kube.cost_category.as_deref(), Some("Custom"));
    assert_numbers(kube, &[("pod_usage_cpu_core_hours", 2.0 * 6.0)]);
    assert_numbers(
        one(&rows, "openshiftx", |r| ns(r) == "openshiftx"),
        &[("pod_usage_cpu_core_hours", 6.0)],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn gigabyte_months_divide_by_the_days_of_each_month() {
    let env = TestEnv::new("months").await;
    for (d, gib) in [
        (day(2025, 12, 1), 31.0),
        (day(2026, 2, 1), 28.0),
        (day(2024, 2, 1), 29.0),
    ] {
        put(
            &env,
            "pod_usage",
            d,
            0,
            pod_usage(
                &pod(d, "app", "n1", "p1", (1.0, 1.0), (1.0, 1.0), (4.0, 16.0)),
                &WriteOptions::default(),
            ),
        )
        .await;
        let s = StorageHour::new(
            d.and_hms_opt(0, 0, 0).unwrap(),
            "app",
            "p1",
            "data",
            (gib, gib, gib),
        )
        .day_long(d);
        put(
            &env,
            "storage_usage",
            d,
            0,
            storage_usage(&s, &WriteOptions::default()),
        )
        .await;
    }
    env.roll_up().await;
    let rows = summary_rows(&env.sql().await).await;
    // G GiB for one day of a G-day month is exactly one GiB-month: 31/31, 28/28, 29/29 (leap year).
    for day in ["2025-12-01", "2026-02-01", "2024-02-01"] {
        let s = one(&rows, day, |r| {
            r.data_source == "Storage" && r.usage_start == day
        });
        assert_numbers(
            s,
            &[
                ("persistentvolumeclaim_capacity_gigabyte_months", 1.0),
                ("volume_request_storage_gigabyte_months", 1.0),
                ("persistentvolumeclaim_usage_gigabyte_months", 1.0),
            ],
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_day_in_two_objects_then_overwritten_then_removed() {
    let env = TestEnv::new("two_objects").await;
    let d = nov(1);
    let all = pod(d, "app", "n1", "p1", (0.5, 1.0), (1.0, 2.0), (4.0, 16.0));
    let (morning, afternoon) = all.split_at(12);
    node_labels(&env, d, &[("n1", "{}")]).await;
    put(
        &env,
        "pod_usage",
        d,
        0,
        pod_usage(morning, &WriteOptions::default()),
    )
    .await;
    put(
        &env,
        "pod_usage",
        d,
        1,
        pod_usage(afternoon, &WriteOptions::default()),
    )
    .await;
    env.roll_up().await;
    let usage =
        |rows: &[SummaryRow], n: &str| one(rows, n, |r| ns(r) == n).num("pod_usage_cpu_core_hours");
    let rows = summary_rows(&env.sql().await).await;
    assert_eq!(
        usage(&rows, "app"),
        12.0,
        "the worked example's 12 core-hours from two halves"
    );
    assert_numbers(
        one(&rows, "cap", |r| ns(r) == "app"),
        &[("node_capacity_cpu_core_hours", 96.0)],
    );

    // The afternoon is re-sent using a full core: 6 + 12 = 18.
    let busier: Vec<PodHour> = afternoon
        .iter()
        .cloned()
        .map(|mut p| {
            p.usage_cpu = 3600.0;
            p
        })
        .collect();
    put(
        &env,
        "pod_usage",
        d,
        1,
        pod_usage(&busier, &WriteOptions::default()),
    )
    .await;
    env.roll_up().await;
    let rows = summary_rows(&env.sql().await).await;
    assert_eq!(usage(&rows, "app"), 18.0);
    assert_eq!(usage(&rows, "Worker unallocated"), 96.0 - 18.0);

    // The morning object is removed: 12 core-hours and 12 hours of capacity remain.
    let key = raw_key("pod_usage", d, 0);
    env.s3
        .delete_object()
        .bucket(&env.bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
    env.ingest(s3_event(
        &env.bucket,
        "ObjectRemoved:Delete",
        &key,
        None,
        0,
        &env.next_sequencer(),
    ))
    .await;
    env.roll_up().await;
    let rows = summary_rows(&env.sql().await).await;
    assert_eq!(usage(&rows, "app"), 12.0);
    assert_numbers(
        one(&rows, "cap", |r| ns(r) == "app"),
        &[("node_capacity_cpu_core_hours", 48.0)],
    );
    assert_eq!(rows.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn rolling_up_twice_or_after_a_redelivery_changes_nothing() {
    let env = TestEnv::new("idempotent").await;
    let d = nov(1);
    let event = env
        .put_event(
            &raw_key("pod_usage", d, 0),
            pod_usage(
                &pod(d, "app", "n1", "p1", (0.5, 1.0), (1.0, 2.0), (4.0, 16.0)),
                &WriteOptions::default(),
            ),
        )
        .await;
    env.ingest(event.clone()).await;
    env.roll_up().await;
    let first = format!("{:?}", summary_rows(&env.sql().await).await);
    let again = env.roll_up().await;
    assert_eq!(again["days"], 0, "nothing dirty");
    env.roll_up_event(
        json!({"source_uuid": SOURCE, "start_date": "2025-11-01", "end_date": "2025-11-01"}),
    )
    .await;
    assert_eq!(format!("{:?}", summary_rows(&env.sql().await).await), first);
    env.ingest(event).await; // redelivered
    assert_eq!(env.roll_up().await["days"], 0, "a redelivery marks nothing");
    assert_eq!(format!("{:?}", summary_rows(&env.sql().await).await), first);
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_above_capacity_give_negative_unallocated_values() {
    let env = TestEnv::new("negative").await;
    let d = nov(1);
    // 3 cores requested on a 2-core node: unallocated request = 48 − 72 = −24 (no clamp, §8.6).
    put(
        &env,
        "pod_usage",
        d,
        0,
        pod_usage(
            &pod(d, "app", "n1", "p1", (1.0, 3.0), (1.0, 1.0), (2.0, 16.0)),
            &WriteOptions::default(),
        ),
    )
    .await;
    env.roll_up().await;
    let rows = summary_rows(&env.sql().await).await;
    let unallocated = one(&rows, "unallocated", |r| {
        r.data_source == "Pod" && ns(r) != "app"
    });
    assert_eq!(
        unallocated.namespace, None,
        "no node-label rows: no role, NULL namespace"
    );
    assert_numbers(
        unallocated,
        &[
            ("pod_request_cpu_core_hours", -24.0),
            ("pod_usage_cpu_core_hours", 24.0),
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_with_infrastructure_cost_survive_a_roll_up() {
    let env = TestEnv::new("keep_cost_rows").await;
    let d = nov(1);
    put(
        &env,
        "pod_usage",
        d,
        0,
        pod_usage(
            &pod(d, "app", "n1", "p1", (1.0, 1.0), (1.0, 1.0), (4.0, 16.0)),
            &WriteOptions::default(),
        ),
    )
    .await;
    env.roll_up().await;
    // An OCP-on-cloud row written by another writer (infrastructure_raw_cost ≠ 0).
    env.sql()
        .await
        .batch_execute(
            "INSERT INTO reporting_ocpusagelineitem_daily_summary
                 (report_period_id, usage_start, usage_end, namespace, data_source, infrastructure_raw_cost)
             SELECT id, '2025-11-01', '2025-11-01', 'Storage unattributed', 'Storage', 1.5
             FROM reporting_ocpusagereportperiod",
        )
        .await
        .unwrap();
    env.roll_up_event(json!({"source_uuid": SOURCE, "month": "2025-11"}))
        .await;
    let rows = summary_rows(&env.sql().await).await;
    assert_eq!(
        rows.len(),
        3,
        "pod, unallocated, and the cost row kept by koku's delete predicate"
    );
    assert_numbers(
        one(&rows, "cost row", |r| ns(r) == "Storage unattributed"),
        &[("infrastructure_raw_cost", 1.5)],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mark_set_while_the_roll_up_runs_is_not_lost() {
    use ocp_summary::rollup::{RollupRequest, marks_for, plan, roll_up_chunk};
    let env = TestEnv::new("mark_race").await;
    let d = nov(1);
    put(
        &env,
        "pod_usage",
        d,
        0,
        pod_usage(
            &pod(d, "app", "n1", "p1", (1.0, 1.0), (1.0, 1.0), (4.0, 16.0)),
            &WriteOptions::default(),
        ),
    )
    .await;
    // The roll-up reads its marks...
    let mut client = env.sql().await;
    let request = RollupRequest::Dirty {
        at: chrono::Utc::now(),
    };
    let chunks = plan(marks_for(&client, &request).await.unwrap());
    // ...then ingest overwrites the day's object before the roll-up finishes.
    put(
        &env,
        "pod_usage",
        d,
        0,
        pod_usage(
            &pod(d, "app", "n1", "p1", (2.0, 2.0), (1.0, 1.0), (4.0, 16.0)),
            &WriteOptions::default(),
        ),
    )
    .await;
    for chunk in &chunks {
        roll_up_chunk(&mut client, chunk).await.unwrap();
    }
    let marks: i64 = client
        .query_one("SELECT count(*) FROM ocp_dirty_day", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        marks, 1,
        "the newer mark survives the roll-up that read the older one"
    );
    // The next scheduled run picks it up and the summary shows the new content: 2 cores × 24 h.
    env.roll_up().await;
    let rows = summary_rows(&env.sql().await).await;
    assert_numbers(
        one(&rows, "app", |r| ns(r) == "app"),
        &[("pod_usage_cpu_core_hours", 48.0)],
    );
}
