//! Binding a report's aggregates to one file's columns, once, from the projected schema: where each
//! input column is in the batches, which are read as text and which as numbers, and for each
//! aggregate which columns make its key, its text maxima and its values.

use arrow_schema::Schema;

use crate::koku::report::{INTERVAL_START, ReportSpec, ValueSource};

/// One input column, read once per batch whatever the number of aggregates using it.
#[derive(Debug, Clone)]
pub struct Slot {
    pub name: &'static str,
    /// Its index in the batches; `None` for an optional column the file lacks (read as NULL).
    pub index: Option<usize>,
    /// Label maps (validated JSON, written as label sets) rather than plain text.
    pub labels: bool,
}

/// Where a value of an aggregate comes from, in slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolvedValue {
    Column(usize),
    /// Per-row max of two columns, NaN-skipping (koku's effective usage when the file lacks it).
    Greatest(usize, usize),
}

/// One aggregate's columns, in slots.
#[derive(Debug, Clone)]
pub struct TableBinding {
    pub key_slots: Vec<usize>,
    pub text_max_slots: Vec<usize>,
    /// The sums, then the maxes.
    pub values: Vec<ResolvedValue>,
    /// The key position (after the grain) whose values hint the GROUP BY probe.
    pub hint_position: Option<usize>,
    /// The key position (after the grain) of the partition key; `None` if the table's groups do
    /// not hold it (it is then aggregated by the first partition's pass only, and never spilled).
    pub partition_position: Option<usize>,
}

/// A report bound to a file's projected columns.
#[derive(Debug, Clone)]
pub struct Binding {
    pub slots: Vec<Slot>,
    /// Index of `interval_start` in the batches.
    pub time_index: usize,
    /// Slots read as text, the partition key first (its rows decide which rows a pass keeps).
    pub text_slots: Vec<usize>,
    pub number_slots: Vec<usize>,
    /// Slots whose values over 1e18 drop the row (koku's `_remove_anomalies`).
    pub anomaly_slots: Vec<usize>,
    pub tables: Vec<TableBinding>,
    pub partition_key: Option<usize>,
}

impl Binding {
    /// Binds `spec` to the columns of `schema` (the reader's projected schema). Fails only when the
    /// time column is missing; the reader has already refused files lacking a required column.
    pub fn new(spec: &ReportSpec, schema: &Schema) -> Result<Self, String> {
        let time_index = schema
            .index_of(INTERVAL_START)
            .map_err(|_| format!("missing required column {INTERVAL_START}"))?;
        let mut slots: Vec<Slot> = Vec::new();
        let mut slot = |name: &'static str, labels: bool| -> usize {
            if let Some(i) = slots.iter().position(|s| s.name == name) {
                return i;
            }
            slots.push(Slot {
                name,
                index: schema.index_of(name).ok(),
                labels,
            });
            slots.len() - 1
        };
        let partition_name = spec.aggregates.first().map(|a| a.hint_key);
        let mut tables = Vec::new();
        for a in spec.aggregates {
            let key_slots: Vec<usize> = a.keys.iter().map(|k| slot(k.name, k.labels)).collect();
            let text_max_slots = a
                .text_maxes
                .iter()
                .map(|k| slot(k.name, k.labels))
                .collect();
            let values = a
                .sums
                .iter()
                .chain(a.maxes)
                .map(|v| match v.source {
                    ValueSource::ColumnOrGreatest { column, a, b }
                        if schema.index_of(column).is_err() =>
                    {
                        ResolvedValue::Greatest(slot(a, false), slot(b, false))
                    }
                    ValueSource::Column(c)
                    | ValueSource::OptionalColumn(c)
                    | ValueSource::ColumnOrGreatest { column: c, .. } => {
                        ResolvedValue::Column(slot(c, false))
                    }
                })
                .collect();
            tables.push(TableBinding {
                hint_position: a.keys.iter().position(|k| k.name == a.hint_key),
                partition_position: a.keys.iter().position(|k| Some(k.name) == partition_name),
                key_slots,
                text_max_slots,
                values,
            });
        }
        let anomaly_slots: Vec<usize> = spec
            .anomaly_columns
            .iter()
            .map(|c| slot(c, false))
            .collect();
        let partition_key = partition_name.map(|name| slot(name, false));

        let mut text_slots: Vec<usize> = partition_key.into_iter().collect();
        let mut number_slots = anomaly_slots.clone();
        for t in &tables {
            text_slots.extend(t.key_slots.iter().chain(&t.text_max_slots));
            for v in &t.values {
                match *v {
                    ResolvedValue::Column(a) => number_slots.push(a),
                    ResolvedValue::Greatest(a, b) => number_slots.extend([a, b]),
                }
            }
        }
        dedup_keeping_order(&mut text_slots);
        dedup_keeping_order(&mut number_slots);
        Ok(Binding {
            slots,
            time_index,
            text_slots,
            number_slots,
            anomaly_slots,
            tables,
            partition_key,
        })
    }
}

fn dedup_keeping_order(v: &mut Vec<usize>) {
    let mut seen = Vec::with_capacity(v.len());
    v.retain(|x| {
        let new = !seen.contains(x);
        seen.push(*x);
        new
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::koku::report::ReportType;
    use arrow_schema::{DataType, Field, TimeUnit};

    fn schema(names: &[&str]) -> Schema {
        let field = |n: &&str| match *n {
            INTERVAL_START => {
                Field::new(*n, DataType::Timestamp(TimeUnit::Millisecond, None), true)
            }
            n if n.ends_with("seconds") || n.starts_with("node_capacity") => {
                Field::new(n, DataType::Float64, true)
            }
            n => Field::new(n, DataType::Utf8, true),
        };
        Schema::new(names.iter().map(field).collect::<Vec<_>>())
    }

    const POD_COLUMNS: [&str; 17] = [
        "interval_start",
        "namespace",
        "node",
        "pod",
        "pod_labels",
        "resource_id",
        "pod_usage_cpu_core_seconds",
        "pod_request_cpu_core_seconds",
        "pod_limit_cpu_core_seconds",
        "pod_usage_memory_byte_seconds",
        "pod_request_memory_byte_seconds",
        "pod_limit_memory_byte_seconds",
        "node_capacity_cpu_cores",
        "node_capacity_cpu_core_seconds",
        "node_capacity_memory_bytes",
        "node_capacity_memory_byte_seconds",
        "node_role",
    ];

    #[test]
    fn the_pod_report_binds_each_column_once_and_derives_effective_usage() {
        let b = Binding::new(ReportType::PodUsage.spec(), &schema(&POD_COLUMNS)).unwrap();
        let name = |s: usize| b.slots[s].name;
        assert_eq!(
            name(b.text_slots[0]),
            "pod",
            "the partition key comes first"
        );
        assert_eq!(
            b.text_slots.len(),
            6,
            "namespace, node, pod, labels, resource_id, node_role"
        );
        let pods = &b.tables[0];
        assert!(b.slots[pods.key_slots[3]].labels);
        assert_eq!(pods.hint_position, Some(2));
        // Without the effective-usage columns, each is the row max of usage and request.
        let effective = pods.values[2];
        let ResolvedValue::Greatest(a, c) = effective else {
            panic!("{effective:?}")
        };
        assert_eq!(
            (name(a), name(c)),
            ("pod_usage_cpu_core_seconds", "pod_request_cpu_core_seconds")
        );
        assert_eq!(pods.partition_position, Some(2));
        assert_eq!(
            b.tables[1].partition_position, None,
            "node capacity is keyed by node only"
        );
    }

    #[test]
    fn a_file_with_effective_usage_reads_it() {
        let mut names = POD_COLUMNS.to_vec();
        names.push("pod_effective_usage_cpu_core_seconds");
        let b = Binding::new(ReportType::PodUsage.spec(), &schema(&names)).unwrap();
        let ResolvedValue::Column(c) = b.tables[0].values[2] else {
            panic!()
        };
        assert_eq!(b.slots[c].name, "pod_effective_usage_cpu_core_seconds");
        assert_eq!(b.slots[c].index, Some(17));
    }

    #[test]
    fn an_absent_optional_column_binds_to_nothing() {
        let names: Vec<&str> = POD_COLUMNS
            .iter()
            .copied()
            .filter(|n| *n != "node_role")
            .collect();
        let b = Binding::new(ReportType::PodUsage.spec(), &schema(&names)).unwrap();
        let role = b.slots.iter().find(|s| s.name == "node_role").unwrap();
        assert_eq!(role.index, None);
        assert!(Binding::new(ReportType::PodUsage.spec(), &schema(&["pod"])).is_err());
    }

    #[test]
    fn an_old_operators_gpu_file_binds_the_mig_columns_to_nothing() {
        let names = [
            "interval_start",
            "namespace",
            "node",
            "pod",
            "gpu_uuid",
            "gpu_vendor_name",
            "gpu_model_name",
            "gpu_pod_uptime",
            "gpu_memory_capacity_mib",
        ];
        let b = Binding::new(ReportType::GpuUsage.spec(), &schema(&names)).unwrap();
        let absent: Vec<&str> = (b.slots.iter())
            .filter(|s| s.index.is_none())
            .map(|s| s.name)
            .collect();
        assert_eq!(
            absent,
            [
                "mig_instance_id",
                "mig_profile",
                "mig_strategy",
                "mig_slice_count",
                "gpu_max_slices",
                "mig_memory_capacity_mib"
            ]
        );
        assert_eq!(b.tables[0].values.len(), 5, "uptime, then four maxima");
    }
}
