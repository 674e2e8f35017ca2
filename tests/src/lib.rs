//! Test support: the services `make test` starts (PostgreSQL, an S3-compatible server), events,
//! koku-layout Parquet (the kokugen crate's writer), fault injection (misbehaving peers, session
//! control) and a reader of template.yaml.

pub mod backend;
pub mod fake_services;
pub mod harness;
pub mod koku_parquet;
pub mod memory_cgroup;
pub mod template;
pub mod tenants;
