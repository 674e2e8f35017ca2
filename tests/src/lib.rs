//! Test support: the services `make test` starts (PostgreSQL, an S3-compatible server), events, a
//! writer of koku-layout Parquet, fault injection (misbehaving peers, session control) and a reader
//! of template.yaml.

pub mod backend;
pub mod fake_services;
pub mod harness;
pub mod koku_parquet;
pub mod template;
