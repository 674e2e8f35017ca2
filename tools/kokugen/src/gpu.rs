//! gpu_usage rows for tests: koku's raw hourly GPU file as its post-processor writes it
//! (koku-ocp-gpu-vm.md §3.2–§4.1): vendor and model already normalised, the operator's MIG strings
//! as given (`''` for an empty cell), and the derived MIG numbers as int64, present only when the
//! file's chunk had MIG rows (§10 G2).

use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::NaiveDateTime;

use crate::error::Result;
use crate::options::WriteOptions;
use crate::rows::{encode, numbers, strings, time_columns};

/// One GPU (or MIG instance) held by one pod for one hour.
#[derive(Debug, Clone)]
pub struct GpuHour {
    pub interval_start: NaiveDateTime,
    pub node: String,
    pub namespace: String,
    pub pod: String,
    pub gpu_uuid: String,
    pub model: String,
    pub vendor: String,
    pub memory_mib: f64,
    pub uptime_seconds: f64,
    /// `mig_instance_id`, `mig_profile`, `mig_strategy`: `Some("")` is an empty cell, `None` NULL.
    pub mig_instance_id: Option<String>,
    pub mig_profile: Option<String>,
    pub mig_strategy: Option<String>,
    /// `mig_slice_count`, `mig_memory_capacity_mib`, `gpu_max_slices` (koku derives them).
    pub mig_slice_count: Option<i64>,
    pub mig_memory_mib: Option<i64>,
    pub gpu_max_slices: Option<i64>,
}

impl GpuHour {
    /// A dedicated GPU as a MIG-aware operator reports it: empty MIG cells, no derived numbers.
    pub fn dedicated(
        at: NaiveDateTime,
        (node, namespace, pod): (&str, &str, &str),
        (gpu_uuid, model, memory_mib): (&str, &str, f64),
        uptime_seconds: f64,
    ) -> Self {
        GpuHour {
            interval_start: at,
            node: node.into(),
            namespace: namespace.into(),
            pod: pod.into(),
            gpu_uuid: gpu_uuid.into(),
            model: model.into(),
            vendor: "nvidia".into(),
            memory_mib,
            uptime_seconds,
            mig_instance_id: Some(String::new()),
            mig_profile: Some(String::new()),
            mig_strategy: Some(String::new()),
            mig_slice_count: None,
            mig_memory_mib: None,
            gpu_max_slices: None,
        }
    }

    /// A MIG instance with koku's derived numbers (slices and GB from the profile, max slices).
    pub fn mig(
        mut self,
        (instance, profile, strategy): (&str, &str, &str),
        (slices, memory_mib, max_slices): (Option<i64>, Option<i64>, Option<i64>),
    ) -> Self {
        self.mig_instance_id = Some(instance.into());
        self.mig_profile = Some(profile.into());
        self.mig_strategy = Some(strategy.into());
        self.mig_slice_count = slices;
        self.mig_memory_mib = memory_mib;
        self.gpu_max_slices = max_slices;
        self
    }
}

/// Which of the optional columns a file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuColumns {
    /// The operator's `mig_instance_id`, `mig_profile`, `mig_strategy` (older operators omit them).
    pub mig_strings: bool,
    /// koku's derived `mig_slice_count`, `mig_memory_capacity_mib`, `gpu_max_slices` (int64).
    pub derived: bool,
    /// The operator's `gpu_pod_utilization`, which koku does not know (§10 G9).
    pub utilization: bool,
}

impl GpuColumns {
    /// What koku writes for `rows`: the MIG strings always (a current operator), the derived
    /// numbers only if some row has MIG data.
    pub fn for_rows(rows: &[GpuHour]) -> Self {
        GpuColumns {
            mig_strings: true,
            derived: rows
                .iter()
                .any(|r| r.mig_profile.as_deref().is_some_and(|p| !p.is_empty())),
            utilization: false,
        }
    }
}

fn schema(columns: GpuColumns) -> SchemaRef {
    let time = DataType::Timestamp(TimeUnit::Millisecond, None);
    let mut fields: Vec<(&str, DataType)> = vec![
        ("report_period_start", time.clone()),
        ("report_period_end", time.clone()),
        ("interval_start", time.clone()),
        ("interval_end", time),
    ];
    for name in [
        "node",
        "namespace",
        "pod",
        "gpu_uuid",
        "gpu_model_name",
        "gpu_vendor_name",
    ] {
        fields.push((name, DataType::Utf8));
    }
    fields.push(("gpu_memory_capacity_mib", DataType::Float64));
    fields.push(("gpu_pod_uptime", DataType::Float64));
    if columns.utilization {
        fields.push(("gpu_pod_utilization", DataType::Utf8));
    }
    if columns.mig_strings {
        for name in ["mig_instance_id", "mig_profile", "mig_strategy"] {
            fields.push((name, DataType::Utf8));
        }
    }
    if columns.derived {
        for name in [
            "mig_slice_count",
            "mig_memory_capacity_mib",
            "gpu_max_slices",
        ] {
            fields.push((name, DataType::Int64));
        }
    }
    let fields: Vec<Field> = (fields.into_iter())
        .map(|(name, t)| Field::new(name, t, true))
        .collect();
    Arc::new(Schema::new(fields))
}

fn optional_strings<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(values.collect::<StringArray>())
}

fn optional_ints(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(values.collect::<Int64Array>())
}

/// A gpu_usage file of `rows` with `columns`, in memory.
pub fn encode_gpu_usage(
    rows: &[GpuHour],
    columns: GpuColumns,
    options: &WriteOptions,
) -> Result<Vec<u8>> {
    encode(schema(columns), rows, options, |rows| {
        let [period_start, period_end, start, end] = time_columns(rows, |r| r.interval_start);
        let mut out = vec![
            period_start,
            period_end,
            start,
            end,
            strings(rows.iter().map(|r| r.node.as_str())),
            strings(rows.iter().map(|r| r.namespace.as_str())),
            strings(rows.iter().map(|r| r.pod.as_str())),
            strings(rows.iter().map(|r| r.gpu_uuid.as_str())),
            strings(rows.iter().map(|r| r.model.as_str())),
            strings(rows.iter().map(|r| r.vendor.as_str())),
            numbers(rows.iter().map(|r| r.memory_mib)),
            numbers(rows.iter().map(|r| r.uptime_seconds)),
        ];
        if columns.utilization {
            out.push(strings(rows.iter().map(|_| "0.5")));
        }
        if columns.mig_strings {
            out.push(optional_strings(
                rows.iter().map(|r| r.mig_instance_id.as_deref()),
            ));
            out.push(optional_strings(
                rows.iter().map(|r| r.mig_profile.as_deref()),
            ));
            out.push(optional_strings(
                rows.iter().map(|r| r.mig_strategy.as_deref()),
            ));
        }
        if columns.derived {
            out.push(optional_ints(rows.iter().map(|r| r.mig_slice_count)));
            out.push(optional_ints(rows.iter().map(|r| r.mig_memory_mib)));
            out.push(optional_ints(rows.iter().map(|r| r.gpu_max_slices)));
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    fn hour(h: u32) -> GpuHour {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 8, 10)
            .and_then(|d| d.and_hms_opt(h, 0, 0))
            .unwrap();
        GpuHour::dedicated(at, ("n", "ns", "p"), ("GPU-1", "Tesla T4", 15360.0), 3600.0)
    }

    fn read(rows: &[GpuHour]) -> arrow_array::RecordBatch {
        let body = encode_gpu_usage(rows, GpuColumns::for_rows(rows), &WriteOptions::default());
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(body.unwrap()))
            .unwrap()
            .build()
            .unwrap();
        reader.into_iter().next().unwrap().unwrap()
    }

    #[test]
    fn derived_mig_columns_are_int64_and_only_in_files_with_mig_rows() {
        let dedicated = read(&[hour(0)]);
        assert!(dedicated.column_by_name("mig_slice_count").is_none());
        assert_eq!(
            dedicated
                .column_by_name("mig_profile")
                .unwrap()
                .as_string::<i32>()
                .value(0),
            ""
        );
        let mig = read(&[
            hour(0),
            hour(1).mig(
                ("MIG-a", "1g.10gb", "mixed"),
                (Some(1), Some(10240), Some(7)),
            ),
        ]);
        let slices = mig.column_by_name("mig_slice_count").unwrap();
        assert_eq!(slices.data_type(), &DataType::Int64);
        let slices = slices.as_primitive::<Int64Type>();
        assert!(slices.is_null(0));
        assert_eq!(slices.value(1), 1);
        assert_eq!(mig.schema().field(4).name(), "node");
    }
}
