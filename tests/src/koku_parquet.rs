//! koku-layout Parquet for tests: the rows and writer of the `kokugen` crate (tools/kokugen),
//! re-exported, with encoders that panic rather than return errors, as test helpers may.

use chrono::NaiveDate;
use kokugen::Entity;

pub use kokugen::rows::{GIB, LabelHour, PodHour, StorageHour, fleet, hours, label_day};
pub use kokugen::{Codec, GpuColumns, GpuHour, WriteOptions};

/// A pod_usage file of `rows`.
pub fn pod_usage(rows: &[PodHour], options: &WriteOptions) -> Vec<u8> {
    kokugen::encode_pod_usage(rows, options).expect("pod_usage rows encode")
}

/// A storage_usage file of `rows` (an older operator's columns: no node or CSI columns).
pub fn storage_usage(rows: &[StorageHour], options: &WriteOptions) -> Vec<u8> {
    kokugen::encode_storage_usage(rows, options).expect("storage_usage rows encode")
}

/// node_labels (`name_column` "node") or namespace_labels ("namespace").
pub fn labels(name_column: &'static str, rows: &[LabelHour], options: &WriteOptions) -> Vec<u8> {
    let entity = if name_column == "node" {
        Entity::Node
    } else {
        Entity::Namespace
    };
    kokugen::encode_labels(entity, rows, options).expect("label rows encode")
}

/// A gpu_usage file of `rows` with the optional `columns`.
pub fn gpu_usage(rows: &[GpuHour], columns: GpuColumns, options: &WriteOptions) -> Vec<u8> {
    kokugen::encode_gpu_usage(rows, columns, options).expect("gpu_usage rows encode")
}

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}
