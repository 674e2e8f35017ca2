//! The project's own writer of koku's raw hourly Parquet (spec §2.3): `timestamp[ms]`, doubles and
//! JSON label text, with switches for the compatible variants other writers produce.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

pub const GIB: f64 = 1_073_741_824.0;

/// One pod-hour. Usage figures are per hour (core-seconds, byte-seconds).
#[derive(Debug, Clone)]
pub struct PodHour {
    pub interval_start: NaiveDateTime,
    pub namespace: String,
    pub node: String,
    pub pod: String,
    pub resource_id: String,
    pub pod_labels: String,
    pub usage_cpu: f64,
    pub request_cpu: f64,
    pub limit_cpu: f64,
    pub usage_mem: f64,
    pub request_mem: f64,
    pub limit_mem: f64,
    pub node_cores: f64,
    pub node_mem_bytes: f64,
    pub node_role: Option<String>,
}

impl PodHour {
    /// A pod-hour using `cpu` cores of `request` requested and `mem_gib` of `mem_request_gib` GiB on
    /// a node of `cores` cores and `node_gib` GiB. Limits are twice the requests.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        at: NaiveDateTime,
        namespace: &str,
        node: &str,
        pod: &str,
        (cpu, request): (f64, f64),
        (mem_gib, mem_request_gib): (f64, f64),
        (cores, node_gib): (f64, f64),
    ) -> Self {
        PodHour {
            interval_start: at,
            namespace: namespace.into(),
            node: node.into(),
            pod: pod.into(),
            resource_id: format!("i-{node}"),
            pod_labels: "{}".into(),
            usage_cpu: cpu * 3600.0,
            request_cpu: request * 3600.0,
            limit_cpu: 2.0 * request * 3600.0,
            usage_mem: mem_gib * GIB * 3600.0,
            request_mem: mem_request_gib * GIB * 3600.0,
            limit_mem: 2.0 * mem_request_gib * GIB * 3600.0,
            node_cores: cores,
            node_mem_bytes: node_gib * GIB,
            node_role: None,
        }
    }

    pub fn labels(mut self, json: &str) -> Self {
        self.pod_labels = json.into();
        self
    }

    /// The same pod for every hour of `day`.
    pub fn day_long(self, day: NaiveDate) -> Vec<PodHour> {
        hours(day)
            .map(|at| PodHour {
                interval_start: at,
                ..self.clone()
            })
            .collect()
    }
}

/// A fleet for volume and fault tests, simple to total by hand: `pods` pods running all of `day`,
/// each using 0.25 core of 0.5 requested and 1 GiB of 2 GiB requested, pod `k` named `{prefix}-{k}`
/// in namespace `ns-{k % 3}` on node `node-{k % 2}` (8 cores, 32 GiB). Every pod has its own label
/// value, so no two pods share a partial or summary row.
pub fn fleet(day: NaiveDate, pods: usize, prefix: &str) -> Vec<PodHour> {
    hours(day)
        .flat_map(|at| {
            (0..pods).map(move |k| {
                PodHour::new(
                    at,
                    &format!("ns-{}", k % 3),
                    &format!("node-{}", k % 2),
                    &format!("{prefix}-{k}"),
                    (0.25, 0.5),
                    (1.0, 2.0),
                    (8.0, 32.0),
                )
                .labels(&format!(r#"{{"app": "{prefix}-{k}"}}"#))
            })
        })
        .collect()
}

/// One PVC-hour as the storage report has it.
#[derive(Debug, Clone)]
pub struct StorageHour {
    pub interval_start: NaiveDateTime,
    pub namespace: String,
    pub pod: String,
    pub pvc: String,
    pub pv: String,
    pub storageclass: String,
    pub capacity_bytes: f64,
    pub request_bytes: f64,
    pub usage_bytes: f64,
    pub pv_labels: String,
    pub pvc_labels: String,
}

impl StorageHour {
    pub fn new(
        at: NaiveDateTime,
        namespace: &str,
        pod: &str,
        pvc: &str,
        (capacity_gib, request_gib, usage_gib): (f64, f64, f64),
    ) -> Self {
        StorageHour {
            interval_start: at,
            namespace: namespace.into(),
            pod: pod.into(),
            pvc: pvc.into(),
            pv: format!("pv-{pvc}"),
            storageclass: "gp3-csi".into(),
            capacity_bytes: capacity_gib * GIB,
            request_bytes: request_gib * GIB,
            usage_bytes: usage_gib * GIB,
            pv_labels: "{}".into(),
            pvc_labels: "{}".into(),
        }
    }

    pub fn day_long(self, day: NaiveDate) -> Vec<StorageHour> {
        hours(day)
            .map(|at| StorageHour {
                interval_start: at,
                ..self.clone()
            })
            .collect()
    }
}

/// One node-labels or namespace-labels hour: (time, name, labels JSON).
pub type LabelHour = (NaiveDateTime, String, String);

pub fn label_day(day: NaiveDate, name: &str, labels: &str) -> Vec<LabelHour> {
    hours(day)
        .map(|at| (at, name.to_owned(), labels.to_owned()))
        .collect()
}

pub fn hours(day: NaiveDate) -> impl Iterator<Item = NaiveDateTime> {
    (0..24).map(move |h| day.and_hms_opt(h, 0, 0).unwrap())
}

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// How to write: koku's layout by default; variants other writers produce.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    pub row_group_rows: usize,
    pub drop_columns: Vec<&'static str>,
    /// Write numbers as int64 (truncating) instead of double.
    pub int_numbers: bool,
    /// Write timestamps with this unit instead of milliseconds.
    pub time_unit: TimeUnit,
    pub extra_column: bool,
    /// Columns written as text instead of their type (a wrong schema).
    pub as_text: Vec<&'static str>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            row_group_rows: 1 << 20,
            drop_columns: Vec::new(),
            int_numbers: false,
            time_unit: TimeUnit::Millisecond,
            extra_column: false,
            as_text: Vec::new(),
        }
    }
}

fn period(at: &NaiveDateTime) -> (NaiveDateTime, NaiveDateTime) {
    let start = NaiveDate::from_ymd_opt(at.year(), at.month(), 1).unwrap();
    let end = start.checked_add_months(chrono::Months::new(1)).unwrap();
    (
        start.and_hms_opt(0, 0, 0).unwrap(),
        end.and_hms_opt(0, 0, 0).unwrap(),
    )
}

fn times(values: impl Iterator<Item = NaiveDateTime>) -> ArrayRef {
    Arc::new(TimestampMillisecondArray::from_iter_values(
        values.map(|t| t.and_utc().timestamp_millis()),
    ))
}

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

fn numbers(values: impl Iterator<Item = f64>) -> ArrayRef {
    Arc::new(Float64Array::from_iter_values(values))
}

fn common<'a, T: 'a>(
    rows: &'a [T],
    at: impl Fn(&T) -> NaiveDateTime + Copy,
) -> Vec<(&'static str, ArrayRef)> {
    vec![
        (
            "report_period_start",
            times(rows.iter().map(|r| period(&at(r)).0)),
        ),
        (
            "report_period_end",
            times(rows.iter().map(|r| period(&at(r)).1)),
        ),
        ("interval_start", times(rows.iter().map(at))),
        (
            "interval_end",
            times(rows.iter().map(|r| at(r) + chrono::Duration::seconds(3599))),
        ),
    ]
}

pub fn pod_usage(rows: &[PodHour], options: &WriteOptions) -> Vec<u8> {
    let mut columns = common(rows, |r| r.interval_start);
    columns.extend([
        ("pod", strings(rows.iter().map(|r| r.pod.as_str()))),
        (
            "namespace",
            strings(rows.iter().map(|r| r.namespace.as_str())),
        ),
        ("node", strings(rows.iter().map(|r| r.node.as_str()))),
        (
            "resource_id",
            strings(rows.iter().map(|r| r.resource_id.as_str())),
        ),
        (
            "pod_usage_cpu_core_seconds",
            numbers(rows.iter().map(|r| r.usage_cpu)),
        ),
        (
            "pod_request_cpu_core_seconds",
            numbers(rows.iter().map(|r| r.request_cpu)),
        ),
        (
            "pod_limit_cpu_core_seconds",
            numbers(rows.iter().map(|r| r.limit_cpu)),
        ),
        (
            "pod_usage_memory_byte_seconds",
            numbers(rows.iter().map(|r| r.usage_mem)),
        ),
        (
            "pod_request_memory_byte_seconds",
            numbers(rows.iter().map(|r| r.request_mem)),
        ),
        (
            "pod_limit_memory_byte_seconds",
            numbers(rows.iter().map(|r| r.limit_mem)),
        ),
        (
            "node_capacity_cpu_cores",
            numbers(rows.iter().map(|r| r.node_cores)),
        ),
        (
            "node_capacity_cpu_core_seconds",
            numbers(rows.iter().map(|r| r.node_cores * 3600.0)),
        ),
        (
            "node_capacity_memory_bytes",
            numbers(rows.iter().map(|r| r.node_mem_bytes)),
        ),
        (
            "node_capacity_memory_byte_seconds",
            numbers(rows.iter().map(|r| r.node_mem_bytes * 3600.0)),
        ),
        (
            "pod_labels",
            strings(rows.iter().map(|r| r.pod_labels.as_str())),
        ),
    ]);
    if rows.iter().any(|r| r.node_role.is_some()) {
        columns.push((
            "node_role",
            strings(rows.iter().map(|r| r.node_role.as_deref().unwrap_or(""))),
        ));
    }
    columns.extend([
        (
            "pod_effective_usage_cpu_core_seconds",
            numbers(rows.iter().map(|r| r.usage_cpu.max(r.request_cpu))),
        ),
        (
            "pod_effective_usage_memory_byte_seconds",
            numbers(rows.iter().map(|r| r.usage_mem.max(r.request_mem))),
        ),
    ]);
    write(columns, options)
}

pub fn storage_usage(rows: &[StorageHour], options: &WriteOptions) -> Vec<u8> {
    let mut columns = common(rows, |r| r.interval_start);
    columns.extend([
        (
            "namespace",
            strings(rows.iter().map(|r| r.namespace.as_str())),
        ),
        ("pod", strings(rows.iter().map(|r| r.pod.as_str()))),
        (
            "persistentvolumeclaim",
            strings(rows.iter().map(|r| r.pvc.as_str())),
        ),
        (
            "persistentvolume",
            strings(rows.iter().map(|r| r.pv.as_str())),
        ),
        (
            "storageclass",
            strings(rows.iter().map(|r| r.storageclass.as_str())),
        ),
        (
            "persistentvolumeclaim_capacity_bytes",
            numbers(rows.iter().map(|r| r.capacity_bytes)),
        ),
        (
            "persistentvolumeclaim_capacity_byte_seconds",
            numbers(rows.iter().map(|r| r.capacity_bytes * 3600.0)),
        ),
        (
            "volume_request_storage_byte_seconds",
            numbers(rows.iter().map(|r| r.request_bytes * 3600.0)),
        ),
        (
            "persistentvolumeclaim_usage_byte_seconds",
            numbers(rows.iter().map(|r| r.usage_bytes * 3600.0)),
        ),
        (
            "persistentvolume_labels",
            strings(rows.iter().map(|r| r.pv_labels.as_str())),
        ),
        (
            "persistentvolumeclaim_labels",
            strings(rows.iter().map(|r| r.pvc_labels.as_str())),
        ),
    ]);
    write(columns, options)
}

/// node_labels (`name_column` "node") or namespace_labels ("namespace").
pub fn labels(name_column: &'static str, rows: &[LabelHour], options: &WriteOptions) -> Vec<u8> {
    let labels_column = if name_column == "node" {
        "node_labels"
    } else {
        "namespace_labels"
    };
    let mut columns = common(rows, |r| r.0);
    columns.push((name_column, strings(rows.iter().map(|r| r.1.as_str()))));
    columns.push((labels_column, strings(rows.iter().map(|r| r.2.as_str()))));
    write(columns, options)
}

fn write(columns: Vec<(&'static str, ArrayRef)>, options: &WriteOptions) -> Vec<u8> {
    let mut columns: Vec<(&'static str, ArrayRef)> = columns
        .into_iter()
        .filter(|(n, _)| !options.drop_columns.contains(n))
        .map(|(n, a)| {
            let a = match a.data_type() {
                _ if options.as_text.contains(&n) => arrow_cast::cast(&a, &DataType::Utf8).unwrap(),
                DataType::Float64 if options.int_numbers => {
                    arrow_cast::cast(&a, &DataType::Int64).unwrap()
                }
                DataType::Timestamp(_, _) if options.time_unit != TimeUnit::Millisecond => {
                    arrow_cast::cast(&a, &DataType::Timestamp(options.time_unit, None)).unwrap()
                }
                _ => a,
            };
            (n, a)
        })
        .collect();
    if options.extra_column {
        let rows = columns[0].1.len();
        columns.push(("operator_extra", strings(std::iter::repeat_n("x", rows))));
    }
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(
        schema.clone(),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap();
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(options.row_group_rows))
        .build();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, schema, Some(props)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    out
}
