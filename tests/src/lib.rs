//! Test support: the services `make test` starts (PostgreSQL, an S3-compatible server), events, and
//! a writer of koku-layout Parquet.

pub mod harness;
pub mod koku_parquet;
