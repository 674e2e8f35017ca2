//! The raw OCP report types and, for each, what the partials need from it (spec §2.2–§2.3, §4;
//! `gpu_usage`: koku-ocp-gpu-vm.md §2–§5).
//!
//! A report is read once and feeds one or more [`AggregateSpec`]s, each a GROUP BY into one partial
//! table. The specs are data, so the reader projects exactly the columns they name and the writer
//! derives its COPY column list from them.

/// The time grain an aggregate groups `interval_start` by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    Day,
    Hour,
}

/// A text column of the input.
#[derive(Debug, Clone, Copy)]
pub struct TextColumn {
    pub name: &'static str,
    /// Missing optional columns read as NULL (koku adds newer operators' columns empty).
    pub required: bool,
    /// Label maps stored as JSON text; validated once per distinct value and written as jsonb.
    pub labels: bool,
}

impl TextColumn {
    /// The column of the partial table holding it: a label map is stored once per object as a
    /// label set, and partial rows carry its id (`<name>_id`).
    pub fn partial_column(&self) -> String {
        if self.labels {
            format!("{}_id", self.name)
        } else {
            self.name.to_owned()
        }
    }
}

const fn text(name: &'static str) -> TextColumn {
    TextColumn {
        name,
        required: true,
        labels: false,
    }
}
const fn optional_text(name: &'static str) -> TextColumn {
    TextColumn {
        name,
        required: false,
        labels: false,
    }
}
const fn labels(name: &'static str) -> TextColumn {
    TextColumn {
        name,
        required: true,
        labels: true,
    }
}

/// Where a numeric value comes from.
#[derive(Debug, Clone, Copy)]
pub enum ValueSource {
    Column(&'static str),
    /// A column older writers omit; a file without it reads it as NULL (sums and maxes skip it).
    OptionalColumn(&'static str),
    /// The column when the file has it, else the per-row `max(a, b)` (koku's effective usage, §2.1).
    ColumnOrGreatest {
        column: &'static str,
        a: &'static str,
        b: &'static str,
    },
}

/// A numeric value of an aggregate, named as in the partial table.
#[derive(Debug, Clone, Copy)]
pub struct Value {
    pub name: &'static str,
    pub source: ValueSource,
}

const fn col(name: &'static str) -> Value {
    Value {
        name,
        source: ValueSource::Column(name),
    }
}
const fn optional_col(name: &'static str) -> Value {
    Value {
        name,
        source: ValueSource::OptionalColumn(name),
    }
}
const fn effective(name: &'static str, a: &'static str, b: &'static str) -> Value {
    Value {
        name,
        source: ValueSource::ColumnOrGreatest { column: name, a, b },
    }
}

/// One GROUP BY of a report into one partial table.
#[derive(Debug)]
pub struct AggregateSpec {
    pub table: &'static str,
    pub grain: Grain,
    pub keys: &'static [TextColumn],
    /// The key with the most distinct values (the pod, the volume, the node): the GROUP BY index
    /// remembers each of its values' last group (see `group_index`).
    pub hint_key: &'static str,
    /// Text columns aggregated with `max` (byte order, as koku's pandas `max` on str).
    pub text_maxes: &'static [TextColumn],
    pub sums: &'static [Value],
    pub maxes: &'static [Value],
}

#[derive(Debug)]
pub struct ReportSpec {
    pub aggregates: &'static [AggregateSpec],
    /// koku drops a whole row when any of these is > 1e18 (`_remove_anomalies`, §2.1).
    pub anomaly_columns: &'static [&'static str],
}

/// What an input column holds, for type checks before anything is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Time,
    Text,
    Number,
}

/// An input column the partials need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputColumn {
    pub name: &'static str,
    pub kind: ColumnKind,
    /// Files without it are rejected; optional ones read as NULL (or derived).
    pub required: bool,
}

/// Column of every report holding the hour the row describes.
pub const INTERVAL_START: &str = "interval_start";
/// koku's anomaly threshold.
pub const ANOMALY_LIMIT: f64 = 1e18;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportType {
    PodUsage,
    StorageUsage,
    NodeLabels,
    NamespaceLabels,
    GpuUsage,
}

impl ReportType {
    pub const ALL: [ReportType; 5] = [
        ReportType::PodUsage,
        ReportType::StorageUsage,
        ReportType::NodeLabels,
        ReportType::NamespaceLabels,
        ReportType::GpuUsage,
    ];

    pub fn from_path_segment(segment: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.path_segment() == segment)
    }

    pub fn path_segment(self) -> &'static str {
        match self {
            ReportType::PodUsage => "pod_usage",
            ReportType::StorageUsage => "storage_usage",
            ReportType::NodeLabels => "node_labels",
            ReportType::NamespaceLabels => "namespace_labels",
            ReportType::GpuUsage => "gpu_usage",
        }
    }

    pub fn spec(self) -> &'static ReportSpec {
        match self {
            ReportType::PodUsage => &POD_USAGE,
            ReportType::StorageUsage => &STORAGE_USAGE,
            ReportType::NodeLabels => &NODE_LABELS,
            ReportType::NamespaceLabels => &NAMESPACE_LABELS,
            ReportType::GpuUsage => &GPU_USAGE,
        }
    }
}

/// Every partial table, for deletes that do not know the report type.
pub fn partial_tables() -> impl Iterator<Item = &'static str> {
    ReportType::ALL
        .into_iter()
        .flat_map(|r| r.spec().aggregates.iter().map(|a| a.table))
}

static POD_USAGE: ReportSpec = ReportSpec {
    aggregates: &[
        // koku's daily pod table: per day, namespace, node, pod and raw label text (§2.2).
        AggregateSpec {
            table: "ocp_pod_usage_partial",
            grain: Grain::Day,
            keys: &[
                text("namespace"),
                text("node"),
                text("pod"),
                labels("pod_labels"),
            ],
            hint_key: "pod",
            text_maxes: &[text("resource_id"), optional_text("node_role")],
            sums: &[
                col("pod_usage_cpu_core_seconds"),
                col("pod_request_cpu_core_seconds"),
                effective(
                    "pod_effective_usage_cpu_core_seconds",
                    "pod_usage_cpu_core_seconds",
                    "pod_request_cpu_core_seconds",
                ),
                col("pod_limit_cpu_core_seconds"),
                col("pod_usage_memory_byte_seconds"),
                col("pod_request_memory_byte_seconds"),
                effective(
                    "pod_effective_usage_memory_byte_seconds",
                    "pod_usage_memory_byte_seconds",
                    "pod_request_memory_byte_seconds",
                ),
                col("pod_limit_memory_byte_seconds"),
            ],
            maxes: &[
                col("node_capacity_cpu_cores"),
                col("node_capacity_memory_bytes"),
            ],
        },
        // Capacity is the max over a node's pods in each hour, summed per day at roll-up (§4.4).
        AggregateSpec {
            table: "ocp_node_capacity_partial",
            grain: Grain::Hour,
            keys: &[text("node")],
            hint_key: "node",
            text_maxes: &[],
            sums: &[],
            maxes: &[
                col("node_capacity_cpu_core_seconds"),
                col("node_capacity_memory_byte_seconds"),
            ],
        },
    ],
    anomaly_columns: &[
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
    ],
};

static STORAGE_USAGE: ReportSpec = ReportSpec {
    aggregates: &[AggregateSpec {
        table: "ocp_storage_usage_partial",
        grain: Grain::Day,
        // The file's own `node` and `csi_driver` are not used by the summary (§4.6).
        keys: &[
            text("namespace"),
            text("pod"),
            text("persistentvolumeclaim"),
            text("persistentvolume"),
            text("storageclass"),
            optional_text("csi_volume_handle"),
            labels("persistentvolume_labels"),
            labels("persistentvolumeclaim_labels"),
        ],
        hint_key: "persistentvolume",
        text_maxes: &[],
        sums: &[
            col("persistentvolumeclaim_capacity_byte_seconds"),
            col("volume_request_storage_byte_seconds"),
            col("persistentvolumeclaim_usage_byte_seconds"),
        ],
        maxes: &[col("persistentvolumeclaim_capacity_bytes")],
    }],
    anomaly_columns: &[
        "persistentvolumeclaim_capacity_bytes",
        "persistentvolumeclaim_capacity_byte_seconds",
        "volume_request_storage_byte_seconds",
        "persistentvolumeclaim_usage_byte_seconds",
    ],
};

static NODE_LABELS: ReportSpec = ReportSpec {
    aggregates: &[AggregateSpec {
        table: "ocp_node_labels_partial",
        grain: Grain::Day,
        keys: &[text("node"), labels("node_labels")],
        hint_key: "node",
        text_maxes: &[],
        sums: &[],
        maxes: &[],
    }],
    anomaly_columns: &[],
};

static NAMESPACE_LABELS: ReportSpec = ReportSpec {
    aggregates: &[AggregateSpec {
        table: "ocp_namespace_labels_partial",
        grain: Grain::Day,
        keys: &[text("namespace"), labels("namespace_labels")],
        hint_key: "namespace",
        text_maxes: &[],
        sums: &[],
        maxes: &[],
    }],
    anomaly_columns: &[],
};

/// koku's raw hourly GPU file as its post-processor writes it (vendor and model already normalised,
/// MIG columns derived; gpu spec §3). One partial row per object, day, pod and GPU or MIG instance:
/// the key is the summary's group (gpu spec §5.2) plus the pod, so the roll-up can group it without
/// the pod while a cost step still finds each pod's daily uptime on each GPU (gpu spec §6.4). NULL
/// and `''` stay different keys (an old operator's missing MIG columns against a MIG-aware
/// operator's empty cells, §10 G1). No GPU row is ever dropped as an anomaly (§3.2).
static GPU_USAGE: ReportSpec = ReportSpec {
    aggregates: &[AggregateSpec {
        table: "ocp_gpu_usage_partial",
        grain: Grain::Day,
        keys: &[
            text("namespace"),
            text("node"),
            text("pod"),
            text("gpu_uuid"),
            optional_text("mig_instance_id"),
            text("gpu_vendor_name"),
            text("gpu_model_name"),
            optional_text("mig_profile"),
        ],
        hint_key: "pod",
        text_maxes: &[optional_text("mig_strategy")],
        sums: &[col("gpu_pod_uptime")],
        // The derived MIG columns exist only in files whose chunk had MIG rows (§10 G2), as int64,
        // or double when the operator sent `gpu_max_slices`; both read as numbers.
        maxes: &[
            col("gpu_memory_capacity_mib"),
            optional_col("mig_slice_count"),
            optional_col("gpu_max_slices"),
            optional_col("mig_memory_capacity_mib"),
        ],
    }],
    anomaly_columns: &[],
};

impl ReportSpec {
    /// Every input column the report's aggregates read.
    pub fn input_columns(&self) -> Vec<InputColumn> {
        let mut columns = vec![InputColumn {
            name: INTERVAL_START,
            kind: ColumnKind::Time,
            required: true,
        }];
        let mut add = |name: &'static str, kind: ColumnKind, required: bool| match columns
            .iter_mut()
            .find(|c| c.name == name)
        {
            Some(existing) => existing.required |= required,
            None => columns.push(InputColumn {
                name,
                kind,
                required,
            }),
        };
        for agg in self.aggregates {
            for t in agg.keys.iter().chain(agg.text_maxes) {
                add(t.name, ColumnKind::Text, t.required);
            }
            for v in agg.sums.iter().chain(agg.maxes) {
                match v.source {
                    ValueSource::Column(c) => add(c, ColumnKind::Number, true),
                    ValueSource::OptionalColumn(c) => add(c, ColumnKind::Number, false),
                    ValueSource::ColumnOrGreatest { column, a, b } => {
                        add(column, ColumnKind::Number, false);
                        add(a, ColumnKind::Number, true);
                        add(b, ColumnKind::Number, true);
                    }
                }
            }
        }
        for c in self.anomaly_columns {
            add(c, ColumnKind::Number, true);
        }
        columns
    }
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
