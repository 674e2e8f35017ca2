//! kokugen: koku-layout raw hourly OpenShift Parquet, written the way koku's pandas/pyarrow writes
//! it (spec `koku-ocp-daily-summary.md` §2), for tests, the demo and the benchmark.
//!
//! - [`writer`]: a streaming writer of one file with pyarrow's defaults and switches for the
//!   compatible variants other writers produce ([`WriteOptions`]).
//! - [`rows`]: hand-made rows (`PodHour`, `StorageHour`, `LabelHour`) encoded in memory, for tests;
//!   [`gpu`]: the same for gpu_usage (`GpuHour`).
//! - [`run`]: the generator behind the `kokugen` binary: an invented cluster (master, infra and
//!   worker nodes, platform and user namespaces, daemonsets, deployments, statefulsets, a KubeVirt
//!   VM, cron jobs, PVCs), deterministic for a seed, written under koku's S3 keys.

mod columns;
pub mod config;
pub mod error;
pub mod gpu;
pub mod json;
pub mod model;
mod modes;
pub mod options;
pub mod output;
pub mod rng;
pub mod rows;
pub mod schema;
mod spill;
pub mod time;
pub mod usage;
pub mod writer;

pub use config::{Config, Mode};
pub use error::{Error, Result};
pub use gpu::{GpuColumns, GpuHour, encode_gpu_usage};
pub use modes::{Shape, run};
pub use options::{Codec, WriteOptions};
pub use output::FileReport;
pub use rows::{
    GIB, LabelHour, PodHour, StorageHour, encode_labels, encode_pod_usage, encode_storage_usage,
    fleet, hours, label_day,
};
pub use schema::{Entity, ReportType};
