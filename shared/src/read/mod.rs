//! Reading one Parquet object's projected columns under a fixed memory ceiling: the footer and the
//! projection plan ([`projected_file`]), the local spill file the fetch fills while the decoder
//! reads it ([`spill`]), and the seam between I/O and decoding ([`object_source`], with S3 in
//! [`s3_object`]).

pub mod object_source;
pub mod projected_file;
mod projection;
pub mod s3_object;
pub(crate) mod spill;
