//! Hand-made rows for tests: one struct per pod-hour, PVC-hour or label-hour, written into a file
//! in memory with the same writer as the generator. The helpers make fleets whose totals are
//! simple to work out by hand.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use chrono::{NaiveDate, NaiveDateTime, TimeDelta};

use crate::error::Result;
use crate::options::WriteOptions;
use crate::schema::{self, Entity};
use crate::time::{millis, period};
use crate::writer::KokuWriter;

pub use crate::time::hours;

pub const GIB: f64 = 1_073_741_824.0;
/// Rows per record batch handed to the writer, so a large test input is not copied whole.
const BATCH_ROWS: usize = 1 << 16;

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
    /// Written (as `''` where `None`) only if some row of the file has one, as newer operators do.
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

/// One PVC-hour as an older operator's storage report has it (no node or CSI columns).
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

pub(crate) fn times(values: impl Iterator<Item = NaiveDateTime>) -> ArrayRef {
    Arc::new(TimestampMillisecondArray::from_iter_values(
        values.map(millis),
    ))
}

pub(crate) fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

pub(crate) fn numbers(values: impl Iterator<Item = f64>) -> ArrayRef {
    Arc::new(Float64Array::from_iter_values(values))
}

/// report_period_start, report_period_end, interval_start, interval_end of `rows`.
pub(crate) fn time_columns<T>(rows: &[T], at: impl Fn(&T) -> NaiveDateTime) -> [ArrayRef; 4] {
    let end = TimeDelta::seconds(3599);
    [
        times(rows.iter().map(|r| period(at(r)).0)),
        times(rows.iter().map(|r| period(at(r)).1)),
        times(rows.iter().map(&at)),
        times(rows.iter().map(|r| at(r) + end)),
    ]
}

/// Writes `rows` in batches, each turned into columns (in `schema` order) by `columns`.
pub(crate) fn encode<T>(
    schema: arrow_schema::SchemaRef,
    rows: &[T],
    options: &WriteOptions,
    columns: impl Fn(&[T]) -> Vec<ArrayRef>,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut writer = KokuWriter::new(&mut out, schema.clone(), options)?;
    for chunk in rows.chunks(BATCH_ROWS) {
        writer.write(&RecordBatch::try_new(schema.clone(), columns(chunk))?)?;
    }
    writer.close()?;
    Ok(out)
}

/// A pod_usage file of `rows`, in memory.
pub fn encode_pod_usage(rows: &[PodHour], options: &WriteOptions) -> Result<Vec<u8>> {
    let with_role = rows.iter().any(|r| r.node_role.is_some());
    encode(schema::pod_usage(with_role), rows, options, |rows| {
        let [period_start, period_end, start, end] = time_columns(rows, |r| r.interval_start);
        let mut columns = vec![
            period_start,
            period_end,
            strings(rows.iter().map(|r| r.pod.as_str())),
            strings(rows.iter().map(|r| r.namespace.as_str())),
            strings(rows.iter().map(|r| r.node.as_str())),
            strings(rows.iter().map(|r| r.resource_id.as_str())),
            start,
            end,
            numbers(rows.iter().map(|r| r.usage_cpu)),
            numbers(rows.iter().map(|r| r.request_cpu)),
            numbers(rows.iter().map(|r| r.limit_cpu)),
            numbers(rows.iter().map(|r| r.usage_mem)),
            numbers(rows.iter().map(|r| r.request_mem)),
            numbers(rows.iter().map(|r| r.limit_mem)),
            numbers(rows.iter().map(|r| r.node_cores)),
            numbers(rows.iter().map(|r| r.node_cores * 3600.0)),
            numbers(rows.iter().map(|r| r.node_mem_bytes)),
            numbers(rows.iter().map(|r| r.node_mem_bytes * 3600.0)),
            strings(rows.iter().map(|r| r.pod_labels.as_str())),
        ];
        if with_role {
            columns.push(strings(
                rows.iter().map(|r| r.node_role.as_deref().unwrap_or("")),
            ));
        }
        columns.push(numbers(rows.iter().map(|r| r.usage_cpu.max(r.request_cpu))));
        columns.push(numbers(rows.iter().map(|r| r.usage_mem.max(r.request_mem))));
        columns
    })
}

/// A storage_usage file of `rows` (without the newer node and CSI columns), in memory.
pub fn encode_storage_usage(rows: &[StorageHour], options: &WriteOptions) -> Result<Vec<u8>> {
    encode(schema::storage_usage(false), rows, options, |rows| {
        let [period_start, period_end, start, end] = time_columns(rows, |r| r.interval_start);
        vec![
            period_start,
            period_end,
            start,
            end,
            strings(rows.iter().map(|r| r.namespace.as_str())),
            strings(rows.iter().map(|r| r.pod.as_str())),
            strings(rows.iter().map(|r| r.pvc.as_str())),
            strings(rows.iter().map(|r| r.pv.as_str())),
            strings(rows.iter().map(|r| r.storageclass.as_str())),
            numbers(rows.iter().map(|r| r.capacity_bytes)),
            numbers(rows.iter().map(|r| r.capacity_bytes * 3600.0)),
            numbers(rows.iter().map(|r| r.request_bytes * 3600.0)),
            numbers(rows.iter().map(|r| r.usage_bytes * 3600.0)),
            strings(rows.iter().map(|r| r.pv_labels.as_str())),
            strings(rows.iter().map(|r| r.pvc_labels.as_str())),
        ]
    })
}

/// A node_labels or namespace_labels file of `rows`, in memory.
pub fn encode_labels(
    entity: Entity,
    rows: &[LabelHour],
    options: &WriteOptions,
) -> Result<Vec<u8>> {
    encode(schema::labels(entity), rows, options, |rows| {
        let [period_start, period_end, start, end] = time_columns(rows, |r| r.0);
        vec![
            period_start,
            period_end,
            start,
            end,
            strings(rows.iter().map(|r| r.1.as_str())),
            strings(rows.iter().map(|r| r.2.as_str())),
        ]
    })
}
