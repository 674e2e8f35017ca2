//! Exact interning of one text column: every distinct value is stored once, in one byte arena, and
//! rows carry its `u32` id. Values are compared byte for byte, so ids are exact.
//!
//! Two shortcuts keep the per-row cost low on the files koku writes:
//! - a dictionary-encoded column is mapped once per dictionary, not per row;
//! - a plain-encoded column (pyarrow falls back to plain once a dictionary page passes 1 MiB, as
//!   pod names and label maps of a large cluster do) tries the value that followed the previous
//!   row's value last time: koku's rows list the pods of every hour in the same order, so nearly
//!   every row is one length check and one `memcmp` instead of a hash and a probe.
//!
//! Values are hashed with a keyed hash that is fixed for the object (see [`TextHasher`]), so the
//! partition of a value is the same in every pass over the file.

use std::hash::BuildHasher;

use hashbrown::HashTable;

use super::partition::Partition;

/// The id standing for SQL NULL (a missing optional column or a null cell).
pub const NULL_ID: u32 = u32::MAX;
/// The id of a row the aggregation does not keep (outside the month, anomalous, another partition).
pub const SKIPPED: u32 = u32::MAX - 1;

/// The hash of text values for one object: random per object (so crafted values cannot collide on
/// purpose), the same for every pass over it.
#[derive(Clone, Default)]
pub struct TextHasher(foldhash::fast::RandomState);

impl TextHasher {
    pub fn hash(&self, value: &[u8]) -> u64 {
        self.0.hash_one(value)
    }
}

/// The distinct values of one column, in first-seen order.
pub struct TextStore {
    hasher: TextHasher,
    bytes: Vec<u8>,
    /// Per id: start and length in `bytes`.
    spans: Vec<(u32, u32)>,
    hashes: Vec<u64>,
    index: HashTable<u32>,
    /// Per id: the id that followed it in the column last time ([`NULL_ID`] if none yet).
    next: Vec<u32>,
    /// The id of the previous row kept, the start of the next hint.
    previous: u32,
}

impl TextStore {
    pub fn new(hasher: TextHasher) -> Self {
        TextStore {
            hasher,
            bytes: Vec::new(),
            spans: Vec::new(),
            hashes: Vec::new(),
            index: HashTable::new(),
            next: Vec::new(),
            previous: NULL_ID,
        }
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The text of `id`; `None` for [`NULL_ID`] and [`SKIPPED`].
    pub fn get(&self, id: u32) -> Option<&[u8]> {
        let &(start, len) = self.spans.get(id as usize)?;
        self.bytes.get(start as usize..(start + len) as usize)
    }

    /// Heap bytes held (capacities), for the memory budget.
    pub fn size(&self) -> usize {
        self.bytes.capacity()
            + self.spans.capacity() * 8
            + self.hashes.capacity() * 8
            + self.index.capacity() * 5
            + self.next.capacity() * 4
    }

    /// The id of `value`, interning it if new. In a partitioned pass, values of other partitions
    /// give [`SKIPPED`] and are not stored. `check` runs once per new value (UTF-8, label rules).
    pub fn intern(
        &mut self,
        value: &[u8],
        partition: Option<Partition>,
        check: &mut impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<u32, String> {
        let hash = self.hasher.hash(value);
        if partition.is_some_and(|p| !p.holds(hash)) {
            return Ok(SKIPPED);
        }
        let (bytes, spans) = (&self.bytes, &self.spans);
        let text = |id: u32| {
            let (start, len) = spans[id as usize];
            &bytes[start as usize..(start + len) as usize]
        };
        if let Some(&id) = self.index.find(hash, |&id| text(id) == value) {
            return Ok(id);
        }
        check(value)?;
        let id = self.spans.len() as u32;
        let start = u32::try_from(self.bytes.len())
            .ok()
            .filter(|s| s.checked_add(value.len() as u32).is_some())
            .ok_or("more than 4 GiB of distinct text in one column")?;
        self.bytes.extend_from_slice(value);
        self.spans.push((start, value.len() as u32));
        self.hashes.push(hash);
        self.next.push(NULL_ID);
        let hashes = &self.hashes;
        self.index
            .insert_unique(hash, id, |&id| hashes[id as usize]);
        Ok(id)
    }

    /// Like [`Self::intern`], first trying the value that followed the previous row's value last
    /// time; for plain-encoded columns, row after row.
    pub fn intern_next(
        &mut self,
        value: &[u8],
        partition: Option<Partition>,
        check: &mut impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<u32, String> {
        let guess = self.next.get(self.previous as usize).copied();
        let id = match guess {
            Some(guess) if guess != NULL_ID && self.get(guess) == Some(value) => guess,
            _ => {
                let id = self.intern(value, partition, check)?;
                if id == SKIPPED {
                    return Ok(SKIPPED);
                }
                if let Some(slot) = self.next.get_mut(self.previous as usize) {
                    *slot = id;
                }
                id
            }
        };
        self.previous = id;
        Ok(id)
    }

    /// Forgets the previous row (a new row group starts: its first row follows nothing).
    pub fn restart_hints(&mut self) {
        self.previous = NULL_ID;
    }

    /// `max` of two ids by text in byte order, NULL losing to any value (SQL `max`).
    pub fn max_by_text(&self, a: u32, b: u32) -> u32 {
        match (self.get(a), self.get(b)) {
            (Some(x), Some(y)) if y > x => b,
            (None, Some(_)) => b,
            _ => a,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(_: &[u8]) -> Result<(), String> {
        Ok(())
    }

    #[test]
    fn equal_texts_share_an_id_and_ids_are_dense() {
        let mut s = TextStore::new(TextHasher::default());
        let a = s.intern(b"i-0002", None, &mut ok).unwrap();
        let b = s.intern(b"i-0010", None, &mut ok).unwrap();
        assert_eq!((a, b), (0, 1));
        assert_eq!(s.intern(b"i-0002", None, &mut ok).unwrap(), a);
        assert_eq!(s.len(), 2);
        assert_eq!(s.get(b), Some(&b"i-0010"[..]));
        assert_eq!(s.get(NULL_ID), None);
        // Byte order: '1' > '0' at the 5th byte; NULL loses to any value.
        assert_eq!(s.max_by_text(a, b), b);
        assert_eq!(s.max_by_text(NULL_ID, a), a);
        assert_eq!(s.max_by_text(a, NULL_ID), a);
    }

    #[test]
    fn the_next_value_is_guessed_but_never_trusted() {
        let mut s = TextStore::new(TextHasher::default());
        let pods: Vec<Vec<u8>> = (0..1000).map(|i| format!("pod-{i}").into_bytes()).collect();
        let mut checked = 0;
        let mut count = |_: &[u8]| {
            checked += 1;
            Ok(())
        };
        // The same order twice (two hours), then a different order: ids follow the text.
        for _ in 0..2 {
            s.restart_hints();
            for (i, p) in pods.iter().enumerate() {
                assert_eq!(s.intern_next(p, None, &mut count).unwrap(), i as u32);
            }
        }
        s.restart_hints();
        for (i, p) in pods.iter().enumerate().rev() {
            assert_eq!(s.intern_next(p, None, &mut count).unwrap(), i as u32);
        }
        assert_eq!(checked, 1000, "each new value is checked once");
    }

    #[test]
    fn a_failed_check_stores_nothing() {
        let mut s = TextStore::new(TextHasher::default());
        let mut refuse = |v: &[u8]| {
            if v == b"bad" {
                Err("bad value".to_string())
            } else {
                Ok(())
            }
        };
        assert_eq!(s.intern(b"bad", None, &mut refuse), Err("bad value".into()));
        assert!(s.is_empty());
    }

    #[test]
    fn a_partitioned_pass_stores_only_its_own_values() {
        let hasher = TextHasher::default();
        let values: Vec<Vec<u8>> = (0..2000).map(|i| format!("v{i}").into_bytes()).collect();
        let mut stored = 0;
        for residue in 0..4 {
            let part = Partition::new(4, residue);
            let mut s = TextStore::new(hasher.clone());
            for v in &values {
                let id = s.intern(v, Some(part), &mut ok).unwrap();
                assert_eq!(id == SKIPPED, !part.holds(hasher.hash(v)));
            }
            stored += s.len();
        }
        assert_eq!(stored, 2000, "every value in exactly one partition");
    }
}
