//! The generator's files read back with the parquet crate: layout, types, row counts, determinism,
//! and the realism the docs promise. Expected numbers come from the flags.

mod common;

use std::collections::{HashMap, HashSet};

use arrow_schema::{DataType, TimeUnit};
use common::{generate, numbers, page_encodings, read, row_groups, strings};
use parquet::basic::Encoding;

const TIME_COLUMNS: [&str; 4] = [
    "report_period_start",
    "report_period_end",
    "interval_start",
    "interval_end",
];

#[test]
fn daily_mode_writes_koku_keys_and_types() {
    let g = generate(&["--days", "2", "--seed", "42"]);
    // four report types per day, koku's key layout and file names
    assert_eq!(g.files.len(), 8);
    assert_eq!(
        g.files[0].key,
        "data/parquet/org1234567/OCP/pod_usage/source=5235154c-2132-56b5-8b3d-2a3a00f342f5/year=2025/month=11/pod_usage.2025-11-01.1.0_0.parquet"
    );
    assert!(
        g.files[7]
            .key
            .ends_with("/namespace_labels.2025-11-02.1.0_0.parquet")
    );
    for f in &g.files {
        assert_eq!(f.path, g.dir.path().join(&f.key));
        assert_eq!(f.bytes, std::fs::metadata(&f.path).unwrap().len());
        assert_eq!(f.hours, 24);
        let json = f.to_json();
        for field in [
            "\"report_type\": ",
            "\"key\": ",
            "\"path\": ",
            "\"rows\": ",
            "\"row_groups\": ",
            "\"bytes\": ",
            "\"reportdatestart\": \"2025-11-0",
            "\"reportnumhours\": 24",
            "\"seconds\": ",
        ] {
            assert!(json.contains(field), "{field} missing in {json}");
        }
        let file = std::fs::File::open(&f.path).unwrap();
        let builder =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        for field in builder.schema().fields() {
            let expected = if TIME_COLUMNS.contains(&field.name().as_str()) {
                DataType::Timestamp(TimeUnit::Millisecond, None)
            } else if field.name().ends_with("_labels")
                || [
                    "pod",
                    "namespace",
                    "node",
                    "resource_id",
                    "node_role",
                    "persistentvolumeclaim",
                    "persistentvolume",
                    "storageclass",
                    "csi_driver",
                    "csi_volume_handle",
                ]
                .contains(&field.name().as_str())
            {
                DataType::Utf8
            } else {
                DataType::Float64
            };
            assert_eq!(
                field.data_type(),
                &expected,
                "{} in {}",
                field.name(),
                f.key
            );
        }
    }
    // 4 nodes and 10 namespaces (the defaults), one row each per hour
    assert_eq!(g.only("node_labels")[0].rows, 4 * 24);
    assert_eq!(g.only("namespace_labels")[0].rows, 10 * 24);
    let pods = read(&g.only("pod_usage")[0].path, &["pod", "interval_start"]);
    assert_eq!(pods.num_rows(), g.only("pod_usage")[0].rows);
    assert_eq!(row_groups(&g.only("pod_usage")[0].path).len(), 1);
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = generate(&["--days", "1", "--seed", "7"]);
    let b = generate(&["--days", "1", "--seed", "7"]);
    let c = generate(&["--days", "1", "--seed", "8"]);
    for (x, y) in a.files.iter().zip(&b.files) {
        assert_eq!(
            std::fs::read(&x.path).unwrap(),
            std::fs::read(&y.path).unwrap()
        );
    }
    let pod = |g: &common::Generated| std::fs::read(&g.only("pod_usage")[0].path).unwrap();
    assert_ne!(pod(&a), pod(&c));
}

#[test]
fn daily_usage_is_realistic() {
    let g = generate(&["--days", "1", "--nodes", "5", "--pods-per-node", "12"]);
    let f = &g.only("pod_usage")[0];
    let b = read(
        &f.path,
        &[
            "pod",
            "node",
            "namespace",
            "interval_start",
            "pod_labels",
            "node_role",
            "pod_usage_cpu_core_seconds",
            "pod_request_cpu_core_seconds",
            "pod_limit_cpu_core_seconds",
            "pod_usage_memory_byte_seconds",
            "pod_request_memory_byte_seconds",
            "pod_limit_memory_byte_seconds",
            "pod_effective_usage_cpu_core_seconds",
            "pod_effective_usage_memory_byte_seconds",
            "node_capacity_cpu_cores",
            "node_capacity_cpu_core_seconds",
        ],
    );
    let (uc, rc, lc) = (
        numbers(&b, "pod_usage_cpu_core_seconds"),
        numbers(&b, "pod_request_cpu_core_seconds"),
        numbers(&b, "pod_limit_cpu_core_seconds"),
    );
    let (um, rm, lm) = (
        numbers(&b, "pod_usage_memory_byte_seconds"),
        numbers(&b, "pod_request_memory_byte_seconds"),
        numbers(&b, "pod_limit_memory_byte_seconds"),
    );
    let (ec, em) = (
        numbers(&b, "pod_effective_usage_cpu_core_seconds"),
        numbers(&b, "pod_effective_usage_memory_byte_seconds"),
    );
    let mut over_request = 0;
    for i in 0..b.num_rows() {
        assert!(
            uc[i] <= lc[i] && um[i] <= lm[i],
            "usage above limit in row {i}"
        );
        assert_eq!(ec[i], uc[i].max(rc[i]));
        assert_eq!(em[i], um[i].max(rm[i]));
        over_request += usize::from(uc[i] > rc[i]);
    }
    assert!(over_request > 0, "no pod ever uses more than its request");
    let cores = numbers(&b, "node_capacity_cpu_cores");
    let core_seconds = numbers(&b, "node_capacity_cpu_core_seconds");
    assert!(
        cores
            .iter()
            .zip(&core_seconds)
            .all(|(c, s)| c * 3600.0 == *s)
    );
    // master, infra and workers; the kube-apiserver on the master; a KubeVirt VM; platform and
    // user namespaces; cron jobs whose partial hours have fewer than 3600 requested seconds
    let (pods, roles, namespaces, labels) = (
        strings(&b, "pod"),
        strings(&b, "node_role"),
        strings(&b, "namespace"),
        strings(&b, "pod_labels"),
    );
    let roles: HashSet<&str> = roles.into_iter().collect();
    assert_eq!(roles, HashSet::from(["master", "infra", "worker"]));
    assert!(namespaces.contains(&"openshift-kube-apiserver"));
    assert!(
        namespaces
            .iter()
            .any(|n| !n.starts_with("openshift-") && !n.starts_with("kube-"))
    );
    assert!(
        labels
            .iter()
            .any(|l| l.contains("\"vm_kubevirt_io_name\": "))
    );
    assert!(pods.iter().any(|p| p.starts_with("virt-launcher-")));
    let mut hours_of: HashMap<&str, usize> = HashMap::new();
    for p in &pods {
        *hours_of.entry(p).or_default() += 1;
    }
    assert!(hours_of.values().any(|&h| h < 24), "no cron job pod");
    assert!(hours_of.values().any(|&h| h == 24));
    // usage of a node's pods in an hour stays under its capacity
    let nodes = strings(&b, "node");
    let starts = b.column_by_name("interval_start").unwrap().clone();
    let starts = starts
        .as_any()
        .downcast_ref::<arrow_array::TimestampMillisecondArray>()
        .unwrap();
    let mut per_node_hour: HashMap<(&str, i64), (f64, f64)> = HashMap::new();
    for i in 0..b.num_rows() {
        let e = per_node_hour
            .entry((nodes[i], starts.value(i)))
            .or_default();
        e.0 += uc[i];
        e.1 = core_seconds[i];
    }
    assert!(per_node_hour.values().all(|(used, cap)| used <= cap));
}

#[test]
fn storage_rows_per_claim_pod_and_hour() {
    let g = generate(&["--days", "1"]);
    let f = &g.only("storage_usage")[0];
    let b = read(
        &f.path,
        &[
            "persistentvolumeclaim",
            "pod",
            "node",
            "storageclass",
            "csi_driver",
            "csi_volume_handle",
            "persistentvolumeclaim_usage_byte_seconds",
        ],
    );
    let (claims, pods, nodes) = (
        strings(&b, "persistentvolumeclaim"),
        strings(&b, "pod"),
        strings(&b, "node"),
    );
    // 6 claims (the default), one of them shared by two pods: 7 mounts, all long-running
    assert_eq!(b.num_rows(), 7 * 24);
    let shared: Vec<usize> = (0..b.num_rows())
        .filter(|&i| claims[i].ends_with("-shared"))
        .collect();
    assert_eq!(shared.len(), 2 * 24);
    let shared_pods: HashSet<&str> = shared.iter().map(|&i| pods[i]).collect();
    let shared_nodes: HashSet<&str> = shared.iter().map(|&i| nodes[i]).collect();
    assert_eq!((shared_pods.len(), shared_nodes.len()), (2, 2));
    let (classes, drivers, handles) = (
        strings(&b, "storageclass"),
        strings(&b, "csi_driver"),
        strings(&b, "csi_volume_handle"),
    );
    let gp2: Vec<usize> = (0..b.num_rows()).filter(|&i| classes[i] == "gp2").collect();
    assert!(!gp2.is_empty());
    assert!(
        gp2.iter()
            .all(|&i| drivers[i].is_empty() && handles[i].is_empty())
    );
    assert!(
        (0..b.num_rows())
            .filter(|&i| classes[i] != "gp2")
            .all(|i| !drivers[i].is_empty())
    );
}

#[test]
fn pod_rows_mode_writes_exactly_n_rows() {
    // ceil(1000 / 24) = 42 pods over ceil(1000 / 42) = 24 hours; row groups of 300 rows: 4
    let g = generate(&["--pod-rows", "1000", "--rows-per-row-group", "300"]);
    assert_eq!(g.files.len(), 1);
    assert_eq!(g.files[0].rows, 1000);
    assert_eq!(row_groups(&g.files[0].path), vec![300, 300, 300, 100]);
    let shape = g.shape.unwrap();
    assert_eq!((shape.pods, shape.hours), (42, 24));
    assert_eq!(g.files[0].hours, 24);
}

#[test]
fn small_cluster_labels_stay_dictionary_encoded() {
    let g = generate(&["--pod-rows", "100000"]);
    for (dictionary, data) in page_encodings(&g.files[0].path, "pod_labels") {
        assert!(dictionary);
        assert!(
            data.iter()
                .all(|e| *e == Encoding::RLE_DICTIONARY || *e == Encoding::PLAIN_DICTIONARY)
        );
    }
}
