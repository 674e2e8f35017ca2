//! Partition files: groups that do not fit in memory, kept on local disk (Lambda's `/tmp`) until
//! the end of the pass, each group entirely in one file.
//!
//! When a table's groups outgrow the budget while the text stores still fit, the table keeps the
//! groups of one partition of its partition key (the pod's id) in memory and appends every other
//! group — and from then on every row of another partition — to that partition's file as a record
//! of its state: key ids, text-max ids and values. A row is a group of one, so rows and groups are
//! the same record and merge the same way (sums add, maxes take the larger). At the end each file
//! is read back and aggregated on its own, so every group is still written once, after one decode
//! of the object (hash-partitioned, "Grace", aggregation).

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use crate::error::Result;

/// Bytes buffered per partition file before a write.
const BUFFER: usize = 64 * 1024;

/// Which partition a group's partition-key id falls in, of `count` (a power of two): a mix of the
/// id, since ids are dense and in first-seen order.
pub fn partition_of(id: u32, count: u32) -> u32 {
    let mixed = (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    (mixed as u32) & (count - 1)
}

/// The shape of one table's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordShape {
    /// `u32`s of the key (grain and text ids).
    pub key: usize,
    pub text_maxes: usize,
    pub values: usize,
}

impl RecordShape {
    pub fn bytes(self) -> usize {
        4 * (self.key + self.text_maxes) + 8 * self.values
    }
}

/// One partition's file, written then read back once.
pub struct PartitionFile {
    shape: RecordShape,
    writer: BufWriter<File>,
    records: u64,
}

/// A record read back.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Record {
    pub key: Vec<u32>,
    pub text_maxes: Vec<u32>,
    pub values: Vec<f64>,
}

impl PartitionFile {
    /// A new file in `dir`, removed when dropped (an unlinked temporary file).
    pub fn create(dir: &Path, shape: RecordShape) -> Result<Self> {
        Ok(PartitionFile {
            shape,
            writer: BufWriter::with_capacity(BUFFER, tempfile::tempfile_in(dir)?),
            records: 0,
        })
    }

    pub fn records(&self) -> u64 {
        self.records
    }

    /// Heap bytes held: the write buffer.
    pub fn size(&self) -> usize {
        self.writer.capacity()
    }

    /// Appends one record; the parts must match the file's shape.
    pub fn append(&mut self, key: &[u32], text_maxes: &[u32], values: &[f64]) -> Result<()> {
        debug_assert_eq!(
            (key.len(), text_maxes.len(), values.len()),
            (self.shape.key, self.shape.text_maxes, self.shape.values)
        );
        for v in key.iter().chain(text_maxes) {
            self.writer.write_all(&v.to_le_bytes())?;
        }
        for v in values {
            self.writer.write_all(&v.to_le_bytes())?;
        }
        self.records += 1;
        Ok(())
    }

    /// Reads the records back, in the order written.
    pub fn into_records(self) -> Result<RecordReader> {
        let mut file = self.writer.into_inner().map_err(|e| e.into_error())?;
        std::io::Seek::rewind(&mut file)?;
        Ok(RecordReader {
            shape: self.shape,
            reader: BufReader::with_capacity(BUFFER, file),
            left: self.records,
            buffer: vec![0; self.shape.bytes()],
        })
    }
}

/// The records of a partition file, one at a time (from the start again after [`Self::rewind`]).
pub struct RecordReader {
    shape: RecordShape,
    reader: BufReader<File>,
    left: u64,
    buffer: Vec<u8>,
}

impl RecordReader {
    pub fn shape(&self) -> RecordShape {
        self.shape
    }

    /// Starts over from the first record.
    pub fn rewind(&mut self, records: u64) -> Result<()> {
        std::io::Seek::rewind(&mut self.reader)?;
        self.left = records;
        Ok(())
    }

    /// The next record into `record`; false after the last.
    pub fn next_into(&mut self, record: &mut Record) -> Result<bool> {
        if self.left == 0 {
            return Ok(false);
        }
        self.left -= 1;
        self.reader.read_exact(&mut self.buffer)?;
        let (ints, floats) = self
            .buffer
            .split_at(4 * (self.shape.key + self.shape.text_maxes));
        let mut ints = ints
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        record.key.clear();
        record.key.extend(ints.by_ref().take(self.shape.key));
        record.text_maxes.clear();
        record.text_maxes.extend(ints);
        record.values.clear();
        record.values.extend(
            floats
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])),
        );
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let shape = RecordShape {
            key: 3,
            text_maxes: 1,
            values: 2,
        };
        assert_eq!(shape.bytes(), 32);
        let mut file = PartitionFile::create(dir.path(), shape).unwrap();
        for i in 0..10_000u32 {
            file.append(&[i, i + 1, u32::MAX], &[7], &[i as f64 * 0.5, f64::NAN])
                .unwrap();
        }
        assert_eq!(file.records(), 10_000);
        let mut reader = file.into_records().unwrap();
        let mut record = Record::default();
        let mut n = 0u32;
        while reader.next_into(&mut record).unwrap() {
            assert_eq!(record.key, [n, n + 1, u32::MAX]);
            assert_eq!(record.text_maxes, [7]);
            assert_eq!(record.values[0], n as f64 * 0.5);
            assert!(record.values[1].is_nan());
            n += 1;
        }
        assert_eq!(n, 10_000);
    }

    #[test]
    fn partitions_of_dense_ids_are_balanced() {
        let mut counts = [0u32; 8];
        for id in 0..80_000 {
            counts[partition_of(id, 8) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_000..11_000).contains(&c)),
            "{counts:?}"
        );
        assert_eq!(partition_of(12345, 1), 0);
    }
}
