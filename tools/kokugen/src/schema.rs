//! The columns and types of koku's raw hourly files (spec §2.3), as pandas
//! `to_parquet(coerce_timestamps="ms")` writes them: the four time columns `timestamp[ms]` without a
//! timezone, every number `float64`, every other column `string` (not `large_string`), all nullable
//! as pandas leaves them, in the order koku's dataframes have them.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// The four report types the pipeline reads, with their key and file-name spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportType {
    PodUsage,
    StorageUsage,
    NodeLabels,
    NamespaceLabels,
}

impl ReportType {
    pub fn name(self) -> &'static str {
        match self {
            ReportType::PodUsage => "pod_usage",
            ReportType::StorageUsage => "storage_usage",
            ReportType::NodeLabels => "node_labels",
            ReportType::NamespaceLabels => "namespace_labels",
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Time,
    Text,
    Number,
}

const POD: &[(&str, Kind)] = &[
    ("report_period_start", Kind::Time),
    ("report_period_end", Kind::Time),
    ("pod", Kind::Text),
    ("namespace", Kind::Text),
    ("node", Kind::Text),
    ("resource_id", Kind::Text),
    ("interval_start", Kind::Time),
    ("interval_end", Kind::Time),
    ("pod_usage_cpu_core_seconds", Kind::Number),
    ("pod_request_cpu_core_seconds", Kind::Number),
    ("pod_limit_cpu_core_seconds", Kind::Number),
    ("pod_usage_memory_byte_seconds", Kind::Number),
    ("pod_request_memory_byte_seconds", Kind::Number),
    ("pod_limit_memory_byte_seconds", Kind::Number),
    ("node_capacity_cpu_cores", Kind::Number),
    ("node_capacity_cpu_core_seconds", Kind::Number),
    ("node_capacity_memory_bytes", Kind::Number),
    ("node_capacity_memory_byte_seconds", Kind::Number),
    ("pod_labels", Kind::Text),
    ("node_role", Kind::Text),
    ("pod_effective_usage_cpu_core_seconds", Kind::Number),
    ("pod_effective_usage_memory_byte_seconds", Kind::Number),
];

const STORAGE: &[(&str, Kind)] = &[
    ("report_period_start", Kind::Time),
    ("report_period_end", Kind::Time),
    ("interval_start", Kind::Time),
    ("interval_end", Kind::Time),
    ("namespace", Kind::Text),
    ("pod", Kind::Text),
    ("persistentvolumeclaim", Kind::Text),
    ("persistentvolume", Kind::Text),
    ("storageclass", Kind::Text),
    ("persistentvolumeclaim_capacity_bytes", Kind::Number),
    ("persistentvolumeclaim_capacity_byte_seconds", Kind::Number),
    ("volume_request_storage_byte_seconds", Kind::Number),
    ("persistentvolumeclaim_usage_byte_seconds", Kind::Number),
    ("persistentvolume_labels", Kind::Text),
    ("persistentvolumeclaim_labels", Kind::Text),
    ("node", Kind::Text),
    ("csi_driver", Kind::Text),
    ("csi_volume_handle", Kind::Text),
];

/// Columns newer operators add (spec §2.2): absent from files of older operators.
const NEWER_POD: &[&str] = &["node_role"];
const NEWER_STORAGE: &[&str] = &["node", "csi_driver", "csi_volume_handle"];

fn schema(columns: &[(&str, Kind)], skip: &[&str]) -> SchemaRef {
    let fields: Vec<Field> = columns
        .iter()
        .filter(|(name, _)| !skip.contains(name))
        .map(|&(name, kind)| {
            let data_type = match kind {
                Kind::Time => DataType::Timestamp(TimeUnit::Millisecond, None),
                Kind::Text => DataType::Utf8,
                Kind::Number => DataType::Float64,
            };
            Field::new(name, data_type, true)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// pod_usage columns; without `node_role` when `newer` is false (an older operator's file).
pub fn pod_usage(newer: bool) -> SchemaRef {
    schema(POD, if newer { &[] } else { NEWER_POD })
}

/// storage_usage columns; without `node`, `csi_driver`, `csi_volume_handle` when `newer` is false.
pub fn storage_usage(newer: bool) -> SchemaRef {
    schema(STORAGE, if newer { &[] } else { NEWER_STORAGE })
}

/// What a labels report describes: nodes (node_labels) or namespaces (namespace_labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Node,
    Namespace,
}

impl Entity {
    /// The column naming the entity: `node` or `namespace`.
    pub fn column(self) -> &'static str {
        match self {
            Entity::Node => "node",
            Entity::Namespace => "namespace",
        }
    }

    pub fn labels_column(self) -> &'static str {
        match self {
            Entity::Node => "node_labels",
            Entity::Namespace => "namespace_labels",
        }
    }

    pub fn report_type(self) -> ReportType {
        match self {
            Entity::Node => ReportType::NodeLabels,
            Entity::Namespace => ReportType::NamespaceLabels,
        }
    }
}

/// node_labels or namespace_labels columns.
pub fn labels(entity: Entity) -> SchemaRef {
    let columns = [
        ("report_period_start", Kind::Time),
        ("report_period_end", Kind::Time),
        ("interval_start", Kind::Time),
        ("interval_end", Kind::Time),
        (entity.column(), Kind::Text),
        (entity.labels_column(), Kind::Text),
    ];
    schema(&columns, &[])
}
