//! Shared helpers of the kokugen tests: run the generator into a temp dir, read files back with the
//! parquet crate (not with kokugen's code).

#![allow(dead_code)] // each test file uses its own subset

use std::fs::File;
use std::path::Path;

use arrow_array::{Array, Float64Array, RecordBatch, RecordBatchReader, StringArray};
use arrow_select::concat::concat_batches;
use kokugen::{Config, FileReport, Shape};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Encoding;
use parquet::column::page::Page;
use parquet::file::reader::{FileReader, SerializedFileReader};

pub struct Generated {
    pub dir: tempfile::TempDir,
    pub files: Vec<FileReport>,
    pub shape: Option<Shape>,
}

impl Generated {
    pub fn only(&self, report_type: &str) -> Vec<&FileReport> {
        self.files
            .iter()
            .filter(|f| f.report_type.name() == report_type)
            .collect()
    }
}

/// Runs the generator with `flags` (and `--out` a fresh temp dir).
pub fn generate(flags: &[&str]) -> Generated {
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = vec!["--out".into(), dir.path().display().to_string()];
    args.extend(flags.iter().map(|s| s.to_string()));
    let config = Config::parse(args).unwrap().unwrap();
    let mut files = Vec::new();
    let shape = kokugen::run(&config, &mut |f: &FileReport| files.push(f.clone())).unwrap();
    Generated { dir, files, shape }
}

/// All rows of `columns` of the file, in one batch (columns in file order).
pub fn read(path: &Path, columns: &[&str]) -> RecordBatch {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
    let reader = builder
        .with_projection(mask)
        .with_batch_size(1 << 16)
        .build()
        .unwrap();
    let schema = reader.schema();
    let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    concat_batches(&schema, &batches).unwrap()
}

pub fn strings<'a>(batch: &'a RecordBatch, column: &str) -> Vec<&'a str> {
    let a = batch
        .column_by_name(column)
        .unwrap()
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    (0..a.len()).map(|i| a.value(i)).collect()
}

pub fn numbers(batch: &RecordBatch, column: &str) -> Vec<f64> {
    let a = batch
        .column_by_name(column)
        .unwrap()
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap();
    a.values().to_vec()
}

/// Row groups of the file and, per row group, the encodings of `column`'s data pages in order
/// (read from the pages themselves) and whether it has a dictionary page.
pub fn page_encodings(path: &Path, column: &str) -> Vec<(bool, Vec<Encoding>)> {
    let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
    let meta = reader.metadata();
    let col = meta
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .position(|c| c.name() == column)
        .unwrap();
    (0..meta.num_row_groups())
        .map(|rg| {
            let mut pages = reader
                .get_row_group(rg)
                .unwrap()
                .get_column_page_reader(col)
                .unwrap();
            let (mut dictionary, mut data) = (false, Vec::new());
            while let Some(page) = pages.get_next_page().unwrap() {
                match page {
                    Page::DictionaryPage { .. } => dictionary = true,
                    Page::DataPage { encoding, .. } | Page::DataPageV2 { encoding, .. } => {
                        data.push(encoding)
                    }
                }
            }
            (dictionary, data)
        })
        .collect()
}

pub fn row_groups(path: &Path) -> Vec<usize> {
    let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
    reader
        .metadata()
        .row_groups()
        .iter()
        .map(|rg| rg.num_rows() as usize)
        .collect()
}
