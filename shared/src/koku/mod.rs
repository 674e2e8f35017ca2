//! What koku writes and how it reads it: the S3 key layout of raw OCP Parquet ([`layout`]), the
//! report types and what their partials need ([`report`]), the label-map rules ([`labels`]), and which tenant schema a key's account names ([`tenant`]).
//! A new report type is added in [`report`].

pub mod labels;
pub mod layout;
pub mod report;
pub mod tenant;
