//! Domain library of the koku OCP daily-summary pipeline: koku's S3 key layout, the report schemas,
//! bounded Parquet reading, partial aggregation, the Postgres store and the roll-up. No Lambda types.

pub mod aggregate;
pub mod aws;
pub mod bounded_reader;
pub mod error;
pub mod group_index;
pub mod ingest;
pub mod intern;
pub mod labels;
pub mod layout;
pub mod local_ingest;
pub mod metrics;
pub mod object_source;
pub mod report;
pub mod rollup;
pub mod s3_object;
mod spill;
pub mod store;

pub use error::{Error, Result};
