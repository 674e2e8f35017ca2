//! A parquet page store that keeps the pages of the row group in progress in an anonymous file.
//!
//! Parquet needs each column chunk contiguous, so a writer fed row by row must hold every column's
//! pages until the row group ends; parquet-rs holds them on the heap by default, which for one
//! 10M-row row group is over a gigabyte. With this store the writer's memory stays at a few pages
//! per column whatever the row group's size, at the cost of writing the pages twice.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use bytes::Bytes;
use parquet::arrow::arrow_writer::{PageKey, PageStore, PageStoreArgs, PageStoreFactory};
use parquet::errors::Result;

/// Creates one spill file per column chunk in `dir` (unlinked at once, gone when dropped).
#[derive(Debug)]
pub struct SpillFactory {
    pub dir: PathBuf,
}

impl PageStoreFactory for SpillFactory {
    fn create(&self, _args: &PageStoreArgs<'_>) -> Result<Box<dyn PageStore>> {
        Ok(Box::new(SpillStore {
            file: tempfile::tempfile_in(&self.dir)?,
            end: 0,
            pages: Vec::new(),
        }))
    }
}

struct SpillStore {
    file: File,
    end: u64,
    /// (offset, length) of each page put, by key.
    pages: Vec<(u64, usize)>,
}

impl PageStore for SpillStore {
    fn put(&mut self, value: Bytes) -> Result<PageKey> {
        // Pages are appended in order and taken back in order, so the cursor is at `end` unless a
        // take moved it.
        self.file.seek(SeekFrom::Start(self.end))?;
        self.file.write_all(&value)?;
        self.pages.push((self.end, value.len()));
        self.end += value.len() as u64;
        Ok(PageKey::new(self.pages.len() as u64 - 1))
    }

    fn take(&mut self, key: PageKey) -> Result<Bytes> {
        let Some(&(offset, len)) = self.pages.get(key.get() as usize) else {
            return Err(parquet::errors::ParquetError::General(format!(
                "spill store: no page {}",
                key.get()
            )));
        };
        let mut buf = vec![0; len];
        self.file.seek(SeekFrom::Start(offset))?;
        self.file.read_exact(&mut buf)?;
        Ok(Bytes::from(buf))
    }
}
