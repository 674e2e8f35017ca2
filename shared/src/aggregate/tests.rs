//! The aggregation without PostgreSQL: batches built by hand, figures worked out by hand.

use std::sync::Arc;

use arrow_array::{
    ArrayRef, Float64Array, RecordBatch, StringArray, StringViewArray, TimestampMillisecondArray,
};
use arrow_schema::{Field, Schema};

use super::*;
use crate::koku::report::ReportType;

const NOV_1: i64 = 20393; // days since 1970-01-01
const HOUR_MS: i64 = 3_600_000;

/// One pod-hour row: (hour of Nov 1 (24+ for later days), namespace, node, pod, labels,
/// resource id, cpu usage, cpu request, node cores).
type Row = (
    i64,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    f64,
    f64,
    f64,
);

/// A pod_usage batch of `rows`, text as plain strings (`views`: as string views, the way plain
/// pages are read). Memory usage is cpu usage × 1e9, limits twice the requests, capacity seconds
/// the cores × 3600.
fn pod_batch(rows: &[Row], views: bool) -> RecordBatch {
    let text = |f: &dyn Fn(&Row) -> Option<&'static str>| -> ArrayRef {
        let values: Vec<Option<&str>> = rows.iter().map(f).collect();
        if views {
            Arc::new(StringViewArray::from(values))
        } else {
            Arc::new(StringArray::from(values))
        }
    };
    let num = |f: &dyn Fn(&Row) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from(rows.iter().map(f).collect::<Vec<_>>()))
    };
    let times = rows
        .iter()
        .map(|r| (NOV_1 * 24 + r.0) * HOUR_MS)
        .collect::<Vec<_>>();
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "interval_start",
            Arc::new(TimestampMillisecondArray::from(times)),
        ),
        ("namespace", text(&|r| Some(r.1))),
        ("node", text(&|r| Some(r.2))),
        ("pod", text(&|r| Some(r.3))),
        ("pod_labels", text(&|r| Some(r.4))),
        ("resource_id", text(&|r| r.5)),
        ("node_role", text(&|_| None)),
        ("pod_usage_cpu_core_seconds", num(&|r| r.6)),
        ("pod_request_cpu_core_seconds", num(&|r| r.7)),
        ("pod_limit_cpu_core_seconds", num(&|r| 2.0 * r.7)),
        ("pod_usage_memory_byte_seconds", num(&|r| r.6 * 1e9)),
        ("pod_request_memory_byte_seconds", num(&|r| r.7 * 1e9)),
        ("pod_limit_memory_byte_seconds", num(&|r| 2.0 * r.7 * 1e9)),
        ("node_capacity_cpu_cores", num(&|r| r.8)),
        ("node_capacity_cpu_core_seconds", num(&|r| r.8 * 3600.0)),
        ("node_capacity_memory_bytes", num(&|r| r.8 * 4e9)),
        (
            "node_capacity_memory_byte_seconds",
            num(&|r| r.8 * 4e9 * 3600.0),
        ),
    ];
    let schema = Schema::new(
        (columns.iter())
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(
        Arc::new(schema),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap()
}

fn aggregator(
    batch: &RecordBatch,
    partition: Option<Partition>,
    hasher: &TextHasher,
) -> ReportAggregator {
    let spec = ReportType::PodUsage.spec();
    let binding = Binding::new(spec, &batch.schema()).unwrap();
    let pass = Pass {
        partition,
        hasher: hasher.clone(),
    };
    ReportAggregator::new(spec, binding, "k", time::month_window_ms(2025, 11), &pass)
}

/// A pod group of a chunk: (day, pod, label-set id, resource id, values...).
type PodGroup = (i64, String, Option<uuid::Uuid>, Option<String>, Vec<f64>);

fn pod_groups(chunk: &PartialChunk) -> Vec<PodGroup> {
    let Some(table) = chunk
        .tables
        .iter()
        .find(|t| t.spec.table == "ocp_pod_usage_partial")
    else {
        return Vec::new();
    };
    let (KeyColumn::Text(pods), KeyColumn::LabelSets(sets)) =
        (&table.key_columns[2], &table.key_columns[3])
    else {
        panic!("pod and label columns");
    };
    let mut groups: Vec<_> = (0..table.len())
        .map(|g| {
            let day = table.keys.iter().nth(g).unwrap()[0] as i32 as i64;
            let values = table.values.iter().map(|v| v[g]).collect();
            (
                day,
                pods.get(g).unwrap().to_owned(),
                sets[g],
                table.text_maxes[0].get(g).map(str::to_owned),
                values,
            )
        })
        .collect();
    groups.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    groups
}

const WEB: &str = r#"{"app": "web"}"#;
const DB: &str = r#"{"app": "db"}"#;

#[test]
fn sums_maxes_effective_usage_and_text_max_per_group() {
    let rows: Vec<Row> = vec![
        (0, "ns", "n1", "web-1", WEB, Some("i-0002"), 2.0, 3.0, 4.0),
        (1, "ns", "n1", "web-1", WEB, Some("i-0010"), 5.0, 1.0, 8.0),
        (1, "ns", "n1", "db-1", DB, None, 1.0, 1.0, 8.0),
    ];
    for views in [false, true] {
        let batch = pod_batch(&rows, views);
        let mut agg = aggregator(&batch, None, &TextHasher::default());
        agg.push(&batch).unwrap();
        let chunk = agg.take_all();
        let groups = pod_groups(&chunk);
        assert_eq!(groups.len(), 2);
        let (day, pod, set, resource, v) = &groups[1];
        assert_eq!((*day, pod.as_str()), (NOV_1, "web-1"));
        assert_eq!(*set, Some(label_sets::label_set_id(WEB.as_bytes())));
        // Byte order: "i-0010" > "i-0002".
        assert_eq!(resource.as_deref(), Some("i-0010"));
        // usage 2 + 5, request 3 + 1, effective max(2, 3) + max(5, 1), limit 2 × (3 + 1).
        assert_eq!(&v[..4], &[7.0, 4.0, 8.0, 8.0]);
        // Memory the same × 1e9; node capacity maxima: 8 cores, 32e9 bytes.
        assert_eq!(&v[4..], &[7e9, 4e9, 8e9, 8e9, 8.0, 32e9]);
        assert_eq!(groups[0].3, None, "no resource id: NULL");
        // Node capacity: per node and hour, the max over its pods.
        let capacity = &chunk.tables[1];
        assert_eq!(capacity.len(), 2, "n1 at hour 0 and hour 1");
        assert_eq!(capacity.values[0], vec![4.0 * 3600.0, 8.0 * 3600.0]);
        // Two label sets, handed over once.
        assert_eq!(chunk.label_set_count(), 2);
        assert_eq!(agg.take_all().label_set_count(), 0);
    }
}

#[test]
fn a_missing_value_is_skipped_by_sums_and_maxes() {
    let mut batch_rows: Vec<Row> = vec![(0, "ns", "n1", "p", WEB, None, f64::NAN, 2.0, f64::NAN)];
    batch_rows.push((1, "ns", "n1", "p", WEB, None, 1.0, f64::NAN, 4.0));
    let batch = pod_batch(&batch_rows, false);
    let mut agg = aggregator(&batch, None, &TextHasher::default());
    agg.push(&batch).unwrap();
    let (.., v) = pod_groups(&agg.take_all()).remove(0);
    // usage: 1 (NaN skipped); request 2; effective max(NaN, 2) + max(1, NaN) = 3; cores max 4.
    assert_eq!((v[0], v[1], v[2], v[8]), (1.0, 2.0, 3.0, 4.0));
}

#[test]
fn rows_outside_the_month_and_anomalies_are_dropped_and_counted() {
    let rows: Vec<Row> = vec![
        (0, "ns", "n1", "p", WEB, None, 1.0, 1.0, 4.0),
        (-1, "ns", "n1", "p", WEB, None, 1.0, 1.0, 4.0), // Oct 31, 23:00
        (30 * 24, "ns", "n1", "p", WEB, None, 1.0, 1.0, 4.0), // Dec 1
        (2, "ns", "n1", "p", WEB, None, 2e18, 1.0, 4.0),
    ];
    let batch = pod_batch(&rows, false);
    let mut agg = aggregator(&batch, None, &TextHasher::default());
    agg.push(&batch).unwrap();
    assert_eq!(
        agg.stats(),
        RowStats {
            rows_read: 4,
            rows_anomalous: 1,
            rows_outside_month: 2
        }
    );
    let groups = pod_groups(&agg.take_all());
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].4[0], 1.0, "only the kept row");
}

#[test]
fn a_bad_label_map_is_the_files_fault() {
    let batch = pod_batch(&[(0, "ns", "n1", "p", "[1, 2]", None, 1.0, 1.0, 4.0)], true);
    let mut agg = aggregator(&batch, None, &TextHasher::default());
    let err = agg.push(&batch).unwrap_err();
    assert!(err.is_permanent());
    assert!(err.to_string().contains("column pod_labels"), "{err}");
}

#[test]
fn days_before_a_day_are_taken_and_the_rest_keeps_accumulating() {
    let rows: Vec<Row> = vec![
        (0, "ns", "n1", "p", WEB, None, 1.0, 1.0, 4.0),
        (24, "ns", "n1", "p", WEB, None, 2.0, 1.0, 4.0),
    ];
    let batch = pod_batch(&rows, false);
    let mut agg = aggregator(&batch, None, &TextHasher::default());
    agg.push(&batch).unwrap();
    assert_eq!(agg.settled_day(), Some(NOV_1 as i32 + 1));
    let first = pod_groups(&agg.take_days_before(NOV_1 as i32 + 1));
    assert_eq!(
        first.iter().map(|g| (g.0, g.4[0])).collect::<Vec<_>>(),
        [(NOV_1, 1.0)]
    );
    agg.push(&pod_batch(
        &[(25, "ns", "n1", "p", WEB, None, 3.0, 1.0, 4.0)],
        false,
    ))
    .unwrap();
    let rest = pod_groups(&agg.take_all());
    assert_eq!(
        rest.iter().map(|g| (g.0, g.4[0])).collect::<Vec<_>>(),
        [(NOV_1 + 1, 5.0)]
    );
    assert_eq!(agg.days().len(), 2);
}

#[test]
fn partitions_split_the_groups_and_together_hold_each_once() {
    // 200 pods over two nodes, two hours each, some sharing a label map; and 10 nodes running
    // one pod each, whose capacity the first pass must see whatever partition their pod is in.
    let pods: Vec<&'static str> = (0..200).map(|i| &*format!("pod-{i}").leak()).collect();
    let nodes: Vec<&'static str> = (0..10).map(|i| &*format!("solo-{i}").leak()).collect();
    let mut rows: Vec<Row> = Vec::new();
    for h in 0..2 {
        for (i, p) in pods.iter().enumerate() {
            let labels = if i % 3 == 0 { WEB } else { DB };
            rows.push((h, "ns", ["n1", "n2"][i % 2], p, labels, None, 1.0, 2.0, 4.0));
        }
        for n in &nodes {
            rows.push((h, "ns", n, n, WEB, None, 1.0, 2.0, 8.0));
        }
    }
    let batch = pod_batch(&rows, true);
    let hasher = TextHasher::default();
    let mut whole = aggregator(&batch, None, &hasher);
    whole.push(&batch).unwrap();
    let expected = pod_groups(&whole.take_all());
    assert_eq!(expected.len(), 210);

    let mut together = Vec::new();
    let mut capacity_rows = 0;
    for partition in Partition::all(4) {
        let mut agg = aggregator(&batch, Some(partition), &hasher);
        agg.push(&batch).unwrap();
        let chunk = agg.take_all();
        let groups = pod_groups(&chunk);
        assert!(
            groups.len() < 200,
            "partition {partition} holds only some pods"
        );
        together.extend(groups);
        let capacity = chunk
            .tables
            .iter()
            .find(|t| t.spec.table == "ocp_node_capacity_partial");
        capacity_rows += capacity.map_or(0, |t| t.len());
        // Every pass counts rows only once: the first.
        assert_eq!(
            agg.stats().rows_read,
            if partition.is_first() { 420 } else { 0 }
        );
    }
    together.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    assert_eq!(together, expected, "each group once, with the same figures");
    assert_eq!(
        capacity_rows, 24,
        "node capacity by the first partition only, every node: 12 nodes × 2 hours"
    );
}

#[test]
fn groups_moved_to_partition_files_come_back_each_once() {
    let pods: Vec<&'static str> = (0..3000).map(|i| &*format!("pod-{i}").leak()).collect();
    let hour = |h: i64| -> Vec<Row> {
        let node = |i: usize| ["n1", "n2"][i % 2];
        let resource = |i: usize| Some(["i-1", "i-2"][i % 2]);
        (pods.iter().enumerate())
            .map(|(i, p)| {
                (
                    h,
                    "ns",
                    node(i),
                    *p,
                    WEB,
                    resource(i),
                    1.0 + h as f64,
                    2.0,
                    4.0,
                )
            })
            .collect()
    };
    let hasher = TextHasher::default();
    let batches: Vec<RecordBatch> = (0..3).map(|h| pod_batch(&hour(h), true)).collect();
    let mut whole = aggregator(&batches[0], None, &hasher);
    for b in &batches {
        whole.push(b).unwrap();
    }
    let expected = pod_groups(&whole.take_all());

    // After each hour half of the groups in memory go to a new file; later rows of those
    // partitions are appended to the files as they come.
    let dir = tempfile::tempdir().unwrap();
    let mut agg = aggregator(&batches[0], None, &hasher);
    for b in &batches {
        agg.push(b).unwrap();
        assert!(agg.spill(dir.path()).unwrap());
    }
    let mut got = pod_groups(&agg.take_all());
    // Three spills: partition 0 of 8 stays in memory, about 3,000 / 8 groups.
    assert!((300..450).contains(&got.len()), "in memory: {}", got.len());
    let mut queue = agg.take_spilled();
    assert_eq!(queue.len(), 3, "1 of 2, 2 of 4, 4 of 8");
    let mut splits = 0;
    while let Some((t, partition)) = queue.pop() {
        // Room for about 1,000 groups: the half partition (1,500) splits, the others fit.
        let mut fits = |bytes: usize| bytes < 1000 * 150;
        match agg
            .aggregate_spilled(t, partition, dir.path(), &mut fits)
            .unwrap()
        {
            SpilledOutcome::Aggregated(chunk) => got.extend(pod_groups(&chunk)),
            SpilledOutcome::Split(halves) => {
                splits += 1;
                queue.extend(halves.into_iter().map(|h| (t, h)));
            }
        }
    }
    assert!(splits >= 1);
    got.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    assert_eq!(got, expected, "each group once, with the same figures");
}
