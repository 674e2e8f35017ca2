//! Where files go and what is said about each: koku's S3 key layout under an output directory, and
//! one JSON line per file (the fields koku stores as object metadata included).

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::time::Instant;

use chrono::{Datelike, NaiveDate};

use crate::error::{Result, io_at};
use crate::json::push_string;
use crate::options::WriteOptions;
use crate::schema::ReportType;
use crate::writer::{KokuWriter, Written};

/// The parts of a key that come from flags.
#[derive(Debug, Clone)]
pub struct Layout {
    pub out: PathBuf,
    pub org: String,
    pub source: String,
    pub manifest_id: u64,
    pub counter: u64,
}

impl Layout {
    /// `data/parquet/{org}/OCP/{type}/source={uuid}/year={YYYY}/month={MM}/{type}.{day}.{manifest}.{counter}_0.parquet`:
    /// koku's raw key (spec §2.3) for the day's split of a payload file, with no `day=` partition.
    pub fn key(&self, report: ReportType, day: NaiveDate) -> String {
        let t = report.name();
        format!(
            "data/parquet/{}/OCP/{t}/source={}/year={:04}/month={:02}/{t}.{}.{}.{}_0.parquet",
            self.org,
            self.source,
            day.year(),
            day.month(),
            day.format("%Y-%m-%d"),
            self.manifest_id,
            self.counter
        )
    }
}

/// What the generator prints for each file, one JSON line.
#[derive(Debug, Clone, PartialEq)]
pub struct FileReport {
    pub report_type: ReportType,
    pub key: String,
    pub path: PathBuf,
    pub rows: usize,
    pub row_groups: usize,
    pub bytes: u64,
    /// koku's `reportdatestart` and `reportnumhours` object metadata.
    pub day: NaiveDate,
    pub hours: u32,
    pub seconds: f64,
}

impl FileReport {
    pub fn to_json(&self) -> String {
        let mut s = String::from("{\"report_type\": ");
        push_string(&mut s, self.report_type.name());
        s.push_str(", \"key\": ");
        push_string(&mut s, &self.key);
        s.push_str(", \"path\": ");
        push_string(&mut s, &self.path.to_string_lossy());
        s.push_str(&format!(
            ", \"rows\": {}, \"row_groups\": {}, \"bytes\": {}, \"reportdatestart\": \"{}\", \"reportnumhours\": {}, \"seconds\": {:.3}}}",
            self.rows,
            self.row_groups,
            self.bytes,
            self.day.format("%Y-%m-%d"),
            self.hours,
            self.seconds
        ));
        s
    }
}

/// A file being written at its key under the output directory.
pub struct OutFile {
    report: ReportType,
    key: String,
    path: PathBuf,
    day: NaiveDate,
    started: Instant,
    pub writer: KokuWriter<BufWriter<File>>,
}

impl OutFile {
    pub fn create(
        layout: &Layout,
        report: ReportType,
        day: NaiveDate,
        schema: arrow_schema::SchemaRef,
        options: &WriteOptions,
    ) -> Result<Self> {
        let started = Instant::now();
        let key = layout.key(report, day);
        let path = layout.out.join(&key);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io_at(dir))?;
        }
        let file = File::create(&path).map_err(io_at(&path))?;
        let writer = KokuWriter::new(BufWriter::with_capacity(1 << 20, file), schema, options)?;
        Ok(OutFile {
            report,
            key,
            path,
            day,
            started,
            writer,
        })
    }

    /// Finishes the file; `hours` is the payload's hour count koku would store with it.
    pub fn finish(self, hours: u32) -> Result<FileReport> {
        let Written { rows, row_groups } = self.writer.close()?;
        let bytes = std::fs::metadata(&self.path)
            .map_err(io_at(&self.path))?
            .len();
        Ok(FileReport {
            report_type: self.report,
            key: self.key,
            path: self.path,
            rows,
            row_groups,
            bytes,
            day: self.day,
            hours,
            seconds: self.started.elapsed().as_secs_f64(),
        })
    }
}
