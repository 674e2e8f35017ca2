//! How a file is written: pyarrow's defaults (what koku's pandas `to_parquet` produces), and the
//! compatible variants other writers produce, so the ingest can be tested against each.

use std::path::PathBuf;

use arrow_schema::TimeUnit;

/// pyarrow's default maximum row group length (`row_group_size`), in rows.
pub const PYARROW_ROW_GROUP_ROWS: usize = 1 << 20;

/// Parquet compression codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// pandas' default.
    Snappy,
    Zstd,
    None,
}

impl Codec {
    pub fn parse(text: &str) -> Option<Codec> {
        match text {
            "snappy" => Some(Codec::Snappy),
            "zstd" => Some(Codec::Zstd),
            "none" => Some(Codec::None),
            _ => None,
        }
    }
}

/// How to write: koku's layout by default; variants other writers produce.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// Rows per row group; the last one may be shorter.
    pub row_group_rows: usize,
    /// Columns left out of the file (an older operator, a broken file).
    pub drop_columns: Vec<&'static str>,
    /// Write numbers as int64 (truncating) instead of double.
    pub int_numbers: bool,
    /// Write timestamps with this unit instead of milliseconds.
    pub time_unit: TimeUnit,
    /// Add a string column `operator_extra` that koku does not know.
    pub extra_column: bool,
    /// Columns written as text instead of their type (a wrong schema).
    pub as_text: Vec<&'static str>,
    pub codec: Codec,
    /// Dictionary encoding (pyarrow's `use_dictionary`); off gives PLAIN everywhere.
    pub dictionary: bool,
    /// Page-level statistics with a column and offset index, as parquet-rs writes by default;
    /// pyarrow writes chunk statistics and no page index.
    pub page_index: bool,
    /// Keep the encoded pages of the row group in progress in anonymous files in this directory
    /// instead of memory, so a row group of millions of rows does not cost its size in RAM.
    pub spill_dir: Option<PathBuf>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            row_group_rows: PYARROW_ROW_GROUP_ROWS,
            drop_columns: Vec::new(),
            int_numbers: false,
            time_unit: TimeUnit::Millisecond,
            extra_column: false,
            as_text: Vec::new(),
            codec: Codec::Snappy,
            dictionary: true,
            page_index: false,
            spill_dir: None,
        }
    }
}
