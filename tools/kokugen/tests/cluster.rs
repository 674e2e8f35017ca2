//! The large-cluster and churn modes read back: shape from the flags, plain-encoded labels, one
//! label value per pod, the shuffled row order, pods replaced across days.

mod common;

use std::collections::{HashMap, HashSet};

use common::{generate, page_encodings, read, row_groups, strings};
use parquet::basic::Encoding;

/// Runs of equal neighbours in `values`.
fn runs(values: &[&str]) -> usize {
    1 + values.windows(2).filter(|w| w[0] != w[1]).count()
}

#[test]
fn large_cluster_shape_labels_and_order() {
    // 10,000 pods: 100 nodes, 500 namespaces, 240,000 rows
    let g = generate(&["--cluster-pods", "10000", "--rows-per-row-group", "100000"]);
    assert_eq!(g.files.len(), 1);
    let f = &g.files[0];
    assert_eq!(f.rows, 240_000);
    assert_eq!(row_groups(&f.path), vec![100_000, 100_000, 40_000]);
    let shape = g.shape.unwrap();
    assert_eq!(
        (shape.pods, shape.nodes, shape.namespaces),
        (10_000, 100, 500)
    );
    assert_eq!(shape.distinct_pod_labels, 10_000);

    let b = read(&f.path, &["pod", "namespace", "node", "pod_labels"]);
    let (pods, namespaces, nodes, labels) = (
        strings(&b, "pod"),
        strings(&b, "namespace"),
        strings(&b, "node"),
        strings(&b, "pod_labels"),
    );
    // every pod every hour, in the same order each hour
    let mut hours_of: HashMap<(&str, &str), usize> = HashMap::new();
    for i in 0..b.num_rows() {
        *hours_of.entry((namespaces[i], pods[i])).or_default() += 1;
    }
    assert_eq!(hours_of.len(), 10_000);
    assert!(hours_of.values().all(|&h| h == 24));
    assert_eq!(pods[..10_000], pods[10_000..20_000]);
    // one label set per pod, 3-8 keys, 200-500 bytes, with the unique key
    let first_hour: HashSet<&str> = labels[..10_000].iter().copied().collect();
    assert_eq!(first_hour.len(), 10_000);
    for l in &labels[..10_000] {
        assert!((200..=500).contains(&l.len()), "{} bytes: {l}", l.len());
        let keys = l.matches("\": \"").count();
        assert!((3..=8).contains(&keys), "{keys} keys: {l}");
        assert!(l.contains("\"controller_uid\": \""));
        assert!(l.starts_with("{\"") && l.ends_with("\"}"));
    }
    // not grouped by node or namespace: a grouped hour has 100 node runs and 500 namespace runs
    assert!(
        runs(&nodes[..10_000]) > 9_000,
        "{} node runs",
        runs(&nodes[..10_000])
    );
    assert!(runs(&namespaces[..10_000]) > 9_000);
    let node_count: HashSet<&str> = nodes.iter().copied().collect();
    assert_eq!(node_count.len(), 100);
}

#[test]
fn large_cluster_labels_fall_back_to_plain_after_a_mib_of_dictionary() {
    let g = generate(&["--cluster-pods", "10000"]);
    let encodings = page_encodings(&g.files[0].path, "pod_labels");
    assert_eq!(encodings.len(), 1);
    let (dictionary, data) = &encodings[0];
    assert!(dictionary);
    // dictionary pages first (about 1 MiB / 350 bytes = 3,000 values), then PLAIN to the end
    assert_eq!(data.first(), Some(&Encoding::RLE_DICTIONARY));
    assert_eq!(data.last(), Some(&Encoding::PLAIN));
    let plain = data.iter().filter(|e| **e == Encoding::PLAIN).count();
    assert!(
        plain > data.len() / 2,
        "{plain} of {} pages plain",
        data.len()
    );
    // the low-cardinality columns keep their dictionaries
    for (dictionary, data) in page_encodings(&g.files[0].path, "node") {
        assert!(dictionary && data.iter().all(|e| *e == Encoding::RLE_DICTIONARY));
    }
}

#[test]
fn churn_replaces_every_pod_within_the_longest_lifetime() {
    // mean lifetime 2 days: lifetimes of 1-3 days, so by day 5 every place holds a new pod
    let g = generate(&[
        "--cluster-pods",
        "2000",
        "--churn",
        "--churn-days",
        "2",
        "--days",
        "5",
        "--start-day",
        "3",
    ]);
    assert_eq!(g.files.len(), 5);
    assert!(
        g.files[4]
            .key
            .ends_with("/pod_usage.2025-11-07.1.0_0.parquet")
    );
    let day = |i: usize| read(&g.files[i].path, &["pod", "pod_labels", "namespace"]);
    let (first, last) = (day(0), day(4));
    let first_labels: HashSet<&str> = strings(&first, "pod_labels").into_iter().collect();
    let last_labels: HashSet<&str> = strings(&last, "pod_labels").into_iter().collect();
    assert!(first_labels.is_disjoint(&last_labels));
    let first_pods: HashSet<&str> = strings(&first, "pod").into_iter().collect();
    let last_pods: HashSet<&str> = strings(&last, "pod").into_iter().collect();
    let kept = last_pods.intersection(&first_pods).count();
    assert!(
        kept < last_pods.len() / 5,
        "{kept} of {} names kept",
        last_pods.len()
    );
    // each day: every place every hour, plus a row for each pod replaced within an hour
    for f in &g.files {
        assert!(f.rows >= 2000 * 24, "{} rows", f.rows);
        assert!(f.rows < 2000 * 24 * 2);
    }
    // a day's file does not depend on which days are written with it
    let alone = generate(&[
        "--cluster-pods",
        "2000",
        "--churn",
        "--churn-days",
        "2",
        "--days",
        "1",
        "--start-day",
        "7",
    ]);
    assert_eq!(
        std::fs::read(&alone.files[0].path).unwrap(),
        std::fs::read(&g.files[4].path).unwrap()
    );
}
