//! A sparse local copy of an object's projected byte ranges that can be read while it is being
//! fetched: the decoder waits only for the bytes it asks for, so fetching and decoding overlap.
//!
//! The ranges (column chunks, small neighbours merged) are fetched concurrently, each as one
//! stream written at its own offset; per range, how much has arrived is published under a lock and
//! a condition variable the blocking decoder waits on. Fetching is never held back by the decoder:
//! bytes go to disk as fast as they come, so neither our memory nor the kernel's socket buffers
//! grow with the object.

use std::fs::File;
use std::io::{BufReader, Read};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use parquet::file::reader::{ChunkReader, Length};

use crate::error::{Error, Result};
use crate::read::object_source::ObjectSource;

/// The spill file and what has arrived in it.
pub(crate) struct Spill {
    file: File,
    size: u64,
    progress: Arc<Progress>,
}

struct Progress {
    /// The ranges being fetched, sorted and disjoint.
    ranges: Vec<Range<u64>>,
    state: Mutex<State>,
    arrived: Condvar,
}

struct State {
    /// Per range, the bytes written from its start.
    written: Vec<u64>,
    /// The fetch failed; its error is reported by the fetch itself.
    failed: bool,
    /// The reading side is gone: the fetch may stop.
    closed: bool,
    /// How long reads waited for bytes, in all.
    waited: Duration,
}

impl Spill {
    /// A sparse file of `size` bytes in `dir` holding `tail` at its end, into which `ranges` (sorted,
    /// disjoint, before the tail) will be fetched.
    pub fn create(dir: &Path, size: u64, tail: &[u8], ranges: Vec<Range<u64>>) -> Result<Self> {
        let file = tempfile::tempfile_in(dir)?;
        file.set_len(size)?;
        file.write_all_at(tail, size - tail.len() as u64)?;
        let written = vec![0; ranges.len()];
        Ok(Spill {
            file,
            size,
            progress: Arc::new(Progress {
                ranges,
                state: Mutex::new(State {
                    written,
                    failed: false,
                    closed: false,
                    waited: Duration::ZERO,
                }),
                arrived: Condvar::new(),
            }),
        })
    }

    /// Fetches every range from `source`, `concurrency` at a time; returns the bytes fetched. It
    /// stops early, without error, once the reading side is dropped; if it fails or is itself
    /// dropped before the end, reads still waiting fail.
    pub fn fetch<'a>(
        &self,
        source: &'a impl ObjectSource,
        concurrency: usize,
    ) -> Result<impl Future<Output = Result<u64>> + Send + 'a> {
        let file = self.file.try_clone()?;
        let progress = Arc::clone(&self.progress);
        // Reads must not wait forever for a fetch that failed or was dropped, even unpolled.
        let unfinished = Unfinished(Some(Arc::clone(&progress)));
        Ok(async move {
            let ranges = progress.ranges.clone();
            let fetched = futures_util::stream::iter(ranges.into_iter().enumerate())
                .map(|(index, range)| fetch_range(source, &file, &progress, index, range))
                .buffer_unordered(concurrency.max(1))
                .try_fold(0u64, |total, n| async move { Ok(total + n) })
                .await;
            if fetched.is_ok() {
                unfinished.disarm();
            }
            fetched
        })
    }

    /// How long reads have waited for bytes still being fetched, in all.
    pub fn waited(&self) -> Duration {
        self.progress.lock().waited
    }

    /// A reader for the decoder: reads wait until their bytes have arrived.
    pub fn reader(&self) -> Result<SpillReader> {
        Ok(SpillReader {
            file: Arc::new(self.file.try_clone()?),
            size: self.size,
            progress: Arc::clone(&self.progress),
        })
    }
}

/// Marks the fetch failed when dropped, unless disarmed: waiting reads then fail instead of hanging.
struct Unfinished(Option<Arc<Progress>>);

impl Unfinished {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        if let Some(progress) = self.0.take() {
            progress.lock().failed = true;
            progress.arrived.notify_all();
        }
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        self.progress.lock().closed = true;
    }
}

impl Progress {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves only counters behind: still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until `range` has arrived, as far as fetched ranges cover it (bytes outside them are
    /// never fetched and read as the sparse file's zeros). Fails if the fetch failed.
    fn wait_for(&self, range: Range<u64>) -> std::io::Result<()> {
        let first = self.ranges.partition_point(|r| r.end <= range.start);
        let mut state = self.lock();
        for (index, r) in self.ranges.iter().enumerate().skip(first) {
            if r.start >= range.end {
                break;
            }
            let needed = range.end.min(r.end) - r.start;
            let mut since = None;
            while state.written[index] < needed {
                if state.failed {
                    return Err(std::io::Error::other("fetching the object failed"));
                }
                since.get_or_insert_with(Instant::now);
                state = self
                    .arrived
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            if let Some(since) = since {
                state.waited += since.elapsed();
            }
        }
        Ok(())
    }

    /// How many bytes from `at` can be read without waiting, at most `limit`, waiting for at
    /// least one when `at` lies in a fetched range.
    fn readable_from(&self, at: u64, limit: u64) -> std::io::Result<u64> {
        let index = self.ranges.partition_point(|r| r.end <= at);
        match self.ranges.get(index) {
            Some(r) if r.start <= at => {
                self.wait_for(at..at + 1)?;
                let arrived = r.start + self.lock().written[index];
                Ok((arrived - at).min(limit))
            }
            Some(r) => Ok((r.start - at).min(limit)),
            None => Ok(limit),
        }
    }
}

async fn fetch_range(
    source: &impl ObjectSource,
    file: &File,
    progress: &Progress,
    index: usize,
    range: Range<u64>,
) -> Result<u64> {
    let (start, expected) = (range.start, range.end - range.start);
    let mut offset = start;
    let mut stream = source.read_range(range).await?;
    while let Some(piece) = stream.next().await {
        let piece = piece?;
        file.write_all_at(&piece, offset)?;
        offset += piece.len() as u64;
        let mut state = progress.lock();
        state.written[index] = offset - start;
        let closed = state.closed;
        drop(state);
        progress.arrived.notify_all();
        if closed {
            return Ok(offset - start);
        }
    }
    let got = offset - start;
    if got != expected {
        return Err(Error::S3 {
            key: source.key().to_owned(),
            source: format!("short read: {got} of {expected} bytes").into(),
        });
    }
    Ok(got)
}

/// The decoder's view of the spill file (parquet's [`ChunkReader`]).
pub(crate) struct SpillReader {
    file: Arc<File>,
    size: u64,
    progress: Arc<Progress>,
}

impl Length for SpillReader {
    fn len(&self) -> u64 {
        self.size
    }
}

impl ChunkReader for SpillReader {
    type T = BufReader<SpillRead>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(BufReader::new(SpillRead {
            file: Arc::clone(&self.file),
            progress: Arc::clone(&self.progress),
            at: start,
            end: self.size,
        }))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        let end = start.saturating_add(length as u64);
        if end > self.size {
            return Err(parquet::errors::ParquetError::EOF(format!(
                "{length} bytes at {start} reach past the end of the object ({})",
                self.size
            )));
        }
        self.progress.wait_for(start..end)?;
        let mut buffer = vec![0; length];
        self.file.read_exact_at(&mut buffer, start)?;
        Ok(buffer.into())
    }
}

/// A sequential read of the spill file from one offset, waiting for bytes still on their way.
pub(crate) struct SpillRead {
    file: Arc<File>,
    progress: Arc<Progress>,
    at: u64,
    end: u64,
}

impl Read for SpillRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let wanted = (buf.len() as u64).min(self.end.saturating_sub(self.at));
        if wanted == 0 {
            return Ok(0);
        }
        let n = self.progress.readable_from(self.at, wanted)? as usize;
        let n = self.file.read_at(&mut buf[..n], self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::object_source::LocalObject;

    #[tokio::test]
    async fn reads_wait_for_their_bytes_and_see_what_was_fetched() {
        let dir = tempfile::tempdir().unwrap();
        let content: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let path = dir.path().join("object");
        std::fs::write(&path, &content).unwrap();
        let source = LocalObject::open(&path, "k").unwrap();
        // Two fetched ranges, a gap between them, and the last 1000 bytes present from the start.
        let ranges = vec![0..50_000, 60_000..199_000];
        let spill = Spill::create(dir.path(), 200_000, &content[199_000..], ranges).unwrap();
        let reader = spill.reader().unwrap();
        let fetch = spill.fetch(&source, 2).unwrap();
        // The decoder side runs on its own thread while the fetch runs here.
        let decoder = std::thread::spawn(move || {
            let page = reader.get_bytes(100_000, 5_000).unwrap();
            let mut header = Vec::new();
            reader
                .get_read(45_000)
                .unwrap()
                .take(20_000)
                .read_to_end(&mut header)
                .unwrap();
            (page, header)
        });
        assert_eq!(fetch.await.unwrap(), 50_000 + 139_000);
        let (page, header) = decoder.join().unwrap();
        assert_eq!(&page[..], &content[100_000..105_000]);
        // 45,000..50,000 fetched, 50,000..60,000 never fetched (zeros), then fetched again.
        assert_eq!(&header[..5_000], &content[45_000..50_000]);
        assert!(header[5_000..15_000].iter().all(|&b| b == 0));
        assert_eq!(&header[15_000..], &content[60_000..65_000]);
        assert_eq!(&reader_tail(&spill)[..], &content[199_500..]);
    }

    fn reader_tail(spill: &Spill) -> Bytes {
        spill.reader().unwrap().get_bytes(199_500, 500).unwrap()
    }

    #[tokio::test]
    async fn a_failed_fetch_wakes_the_reader_with_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("short");
        std::fs::write(&path, vec![7u8; 1_000]).unwrap();
        let source = LocalObject::open(&path, "k").unwrap();
        // The range reaches past what the source holds: a short read.
        let ranges = std::iter::once(0..5_000).collect();
        let spill = Spill::create(dir.path(), 10_000, &[], ranges).unwrap();
        let reader = spill.reader().unwrap();
        let decoder = std::thread::spawn(move || reader.get_bytes(2_000, 2_000).map(|_| ()));
        assert!(spill.fetch(&source, 1).unwrap().await.is_err());
        assert!(decoder.join().unwrap().is_err(), "the waiting read fails");
    }

    #[test]
    fn a_fetch_dropped_before_its_end_wakes_the_reader_with_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let source = LocalObject::open(dir.path(), "k").unwrap();
        let ranges = std::iter::once(0..5_000).collect();
        let spill = Spill::create(dir.path(), 10_000, &[], ranges).unwrap();
        let reader = spill.reader().unwrap();
        let decoder = std::thread::spawn(move || reader.get_bytes(0, 10).map(|_| ()));
        drop(spill.fetch(&source, 1).unwrap()); // never polled
        assert!(decoder.join().unwrap().is_err());
    }
}
