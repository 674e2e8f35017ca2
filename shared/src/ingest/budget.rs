//! The memory ceiling, and the one place that decides what fits under it.
//!
//! Lambda kills a function whose resident memory passes its MemorySize, so the ceiling is the
//! process's peak resident size as the OS counts it, whatever the file. Every limit of an ingest
//! derives from it here. The parts that grow with the file report their size (the aggregation
//! state: text stores, label sets, groups; the chunk the writer holds); everything else — runtime,
//! SDK clients, the footer, the Parquet decoder's pages and batches, allocator slack — is measured:
//! the resident size the OS reports minus what the parts report. A [`MemoryMeter`] keeps the
//! largest such overhead seen, so the reported parts get what is left, less a headroom for the
//! growth between two checks.

use crate::error::{Error, Result};

/// The ceiling of an ingest and the limits derived from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryBudget {
    ceiling: u64,
    /// Rows of the largest decoded batch.
    max_batch_rows: usize,
    overhead: Overhead,
}

/// What the process holds beside the parts that report their size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overhead {
    /// The resident size the OS reports, less the reported parts: a process running one ingest.
    Measured,
    /// A fixed figure: for a process whose resident size is not one ingest's (tests running many
    /// ingests in one process, or forcing a tiny limit).
    Fixed(u64),
}

impl MemoryBudget {
    pub const DEFAULT_CEILING_MIB: u64 = 128;
    /// Below this the runtime, clients and decoder alone leave too little to aggregate in.
    pub const MIN_CEILING_MIB: u64 = 64;

    pub fn with_ceiling_mib(mib: u64) -> Result<Self> {
        if mib < Self::MIN_CEILING_MIB {
            return Err(Error::Config(format!(
                "MEMORY_CEILING_MIB={mib}: at least {} MiB",
                Self::MIN_CEILING_MIB
            )));
        }
        Ok(MemoryBudget {
            ceiling: mib << 20,
            max_batch_rows: 16 * 1024,
            overhead: Overhead::Measured,
        })
    }

    /// `MEMORY_CEILING_MIB`, by default 128 (the function's MemorySize should match it).
    pub fn from_env() -> Result<Self> {
        match std::env::var("MEMORY_CEILING_MIB") {
            Ok(v) => match v.trim().parse::<u64>() {
                Ok(mib) => Self::with_ceiling_mib(mib),
                Err(_) => Err(Error::Config(format!(
                    "MEMORY_CEILING_MIB={v:?}: a number of MiB"
                ))),
            },
            Err(_) => Self::with_ceiling_mib(Self::DEFAULT_CEILING_MIB),
        }
    }

    pub fn ceiling(&self) -> u64 {
        self.ceiling
    }

    pub fn ceiling_mib(&self) -> u64 {
        self.ceiling >> 20
    }

    /// The footer is the one structure held whole before anything else is known.
    pub fn max_footer(&self) -> u64 {
        self.ceiling / 8
    }

    /// Caps decoded batches at `rows` rows (16,384 by default); tests use tiny batches to see what
    /// happens between them.
    pub fn with_max_batch_rows(self, rows: usize) -> Self {
        MemoryBudget {
            max_batch_rows: rows.max(1),
            ..self
        }
    }

    /// Charges `overhead` instead of measuring the process.
    pub fn with_overhead(self, overhead: Overhead) -> Self {
        MemoryBudget { overhead, ..self }
    }

    /// Rows per decoded batch for rows of `bytes_per_row` (decoded): a batch of about 1/64 of the
    /// ceiling (2 MiB at 128 MiB), at least 1,024 rows, at most the cap.
    pub fn batch_rows(&self, bytes_per_row: u64) -> usize {
        let rows = ((self.ceiling / 64) / bytes_per_row.max(1)) as usize;
        rows.max(1024).min(self.max_batch_rows)
    }

    /// Label sets waiting for the writer are handed over once they pass this.
    pub fn label_set_queue(&self) -> usize {
        (self.ceiling / 32) as usize
    }

    /// A meter for one object's aggregation. Memory the allocator kept from earlier work in this
    /// process (a warm Lambda's previous invocations) is handed back to the OS first, so it is
    /// not charged to this object.
    pub fn meter(&self) -> MemoryMeter {
        if self.overhead == Overhead::Measured {
            release_free_memory();
        }
        MemoryMeter {
            ceiling: self.ceiling,
            headroom: self.ceiling / 8,
            overhead: match self.overhead {
                Overhead::Measured => 0,
                Overhead::Fixed(bytes) => bytes,
            },
            measured: self.overhead == Overhead::Measured,
        }
    }
}

/// Checks, batch after batch, that the reported parts fit beside what the process holds otherwise.
#[derive(Debug, Clone)]
pub struct MemoryMeter {
    ceiling: u64,
    /// Kept free for growth between checks (a batch's new groups, a table that doubles) and for
    /// the chunk built from the groups at the end of a pass: an eighth of the ceiling (measured:
    /// a sixteenth let a 64 MiB ingest of 83K pods peak at 67 MiB).
    headroom: u64,
    /// The largest resident size seen beyond the reported parts (or the fixed figure).
    overhead: u64,
    measured: bool,
}

impl MemoryMeter {
    /// Whether parts of `reported` bytes fit: measures the resident size now, attributes what the
    /// parts do not explain to the overhead, and compares.
    pub fn fits(&mut self, reported: u64) -> bool {
        if self.measured
            && let Some(resident) = resident_bytes()
        {
            self.overhead = self.overhead.max(resident.saturating_sub(reported));
            tracing::trace!(resident, reported, overhead = self.overhead, "memory meter");
        }
        reported + self.overhead + self.headroom <= self.ceiling
    }

    /// What the reported parts may hold, given the overhead seen so far.
    pub fn limit(&self) -> u64 {
        self.ceiling.saturating_sub(self.overhead + self.headroom)
    }
}

/// Pins glibc's mmap threshold at 2 MiB, once per process, before the first ingest.
///
/// glibc raises the threshold to the size of the largest mapped block freed (up to 32 MiB), after
/// which large, growing vectors (group state, text arenas) are reallocated by copying inside the
/// heap and leave their old blocks as holes the heap cannot return: the resident size grew to
/// twice the state (measured: 143 MiB instead of 104 MiB on a 10M-row file). A fixed threshold
/// keeps blocks of 2 MiB and more as their own mappings, which grow in place (`mremap`) and go
/// back to the OS when freed; the Parquet decoder's 1 MiB pages stay in the heap and are reused.
pub fn pin_allocator_mmap_threshold() {
    const THRESHOLD: libc::c_int = 2 << 20;
    // SAFETY: mallopt only sets a glibc allocator parameter; it is called at start-up and has no
    // memory-safety preconditions.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD);
    }
}

/// Returns the allocator's free memory to the OS (glibc keeps freed heap pages resident).
fn release_free_memory() {
    // SAFETY: malloc_trim only walks glibc's own free lists; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The process's resident size now, from `/proc/self/statm` (one read, no allocation of note).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

fn page_size() -> u64 {
    // Every Linux target Lambda runs (x86_64, arm64) uses 4 KiB pages.
    4096
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_derive_from_the_ceiling() {
        let b = MemoryBudget::with_ceiling_mib(128).unwrap();
        assert_eq!(b.ceiling(), 128 << 20);
        assert_eq!(b.max_footer(), 16 << 20);
        // 2 MiB batches: 200-byte rows give 10,485 rows; tiny and huge rows are clamped.
        assert_eq!(b.batch_rows(200), (2 << 20) / 200);
        assert_eq!(b.batch_rows(1), 16 * 1024);
        assert_eq!(b.batch_rows(1 << 20), 1024);
        assert_eq!(b.with_max_batch_rows(8).batch_rows(200), 8);
        assert!(MemoryBudget::with_ceiling_mib(32).is_err());
    }

    #[test]
    fn the_meter_charges_what_the_parts_do_not_explain() {
        let mut meter = MemoryBudget::with_ceiling_mib(64).unwrap().meter();
        assert!(resident_bytes().unwrap() > 0);
        // Reporting nothing, the process's resident size is all overhead: the parts get the
        // ceiling less that and the 8 MiB headroom.
        meter.fits(0);
        assert!(
            meter.limit() > 0 && meter.limit() < 60 << 20,
            "{}",
            meter.limit()
        );
        assert!(meter.fits(meter.limit() / 2));
        assert!(!meter.fits(meter.limit() + 1));
    }

    #[test]
    fn a_fixed_overhead_is_not_measured() {
        let budget = MemoryBudget::with_ceiling_mib(64).unwrap();
        let mut meter = budget
            .with_overhead(Overhead::Fixed((56 << 20) - 1000))
            .meter();
        // 64 MiB − 8 MiB headroom − the fixed overhead leaves 1000 bytes, whatever this process holds.
        assert_eq!(meter.limit(), 1000);
        assert!(meter.fits(1000));
        assert!(!meter.fits(1001));
    }
}
