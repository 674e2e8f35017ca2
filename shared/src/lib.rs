//! Domain library of the koku OCP daily-summary pipeline, in the order data flows through it:
//!
//! - [`koku`]: what koku writes — the S3 key layout, the report specs (which columns each report
//!   type needs and how they aggregate), the label-map rules.
//! - [`read`]: one Parquet object's projected columns under a memory ceiling — footer, ranged
//!   fetch into a local spill file, the S3 and local object sources.
//! - [`aggregate`]: record batches to partial GROUP BYs — column binding, text interning, the group
//!   key store, early emission of finished days, partitioning when the groups do not fit.
//! - [`ingest`]: the per-object flow — event versions and the decision rule, the memory budget,
//!   the decoder thread feeding the writer.
//! - [`store`]: PostgreSQL — connection, TLS, migrations, per-object writes, binary COPY.
//! - [`rollup`]: partials to koku's summary rows — chunk planning and the chunk transaction.
//!
//! No Lambda types: the functions only translate events in and outcomes out.

pub mod aggregate;
pub mod aws;
pub mod error;
pub mod ingest;
pub mod koku;
pub mod metrics;
pub mod read;
pub mod rollup;
pub mod store;
pub mod time;

pub use error::{Error, Result};
