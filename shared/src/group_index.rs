//! The hash index of a GROUP BY: fixed-width `u32` keys stored back to back in one arena, and a
//! table of group numbers pointing into it.
//!
//! One contiguous arena instead of a boxed key per group keeps a probe to two cache lines (table
//! slot, arena row) and an insert to no allocation; group numbers are dense, so value columns are
//! plain vectors indexed by group.

use std::hash::Hasher;

use hashbrown::HashTable;
use rustc_hash::FxHasher;

#[derive(Debug)]
pub struct GroupIndex {
    width: usize,
    keys: Vec<u32>,
    table: HashTable<u32>,
}

fn hash_key(key: &[u32]) -> u64 {
    let mut h = FxHasher::default();
    for &k in key {
        h.write_u32(k);
    }
    h.finish()
}

impl GroupIndex {
    pub fn new(width: usize) -> Self {
        GroupIndex {
            width,
            keys: Vec::new(),
            table: HashTable::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The group number of `key` (of length `width`), and whether it was just created.
    #[inline(always)]
    pub fn find_or_insert(&mut self, key: &[u32]) -> (u32, bool) {
        let hash = hash_key(key);
        let (width, keys) = (self.width, &self.keys);
        // An element-wise compare: keys are a few words, shorter than a call to memcmp.
        let found = self.table.find(hash, |&g| {
            let start = g as usize * width;
            keys[start..start + width]
                .iter()
                .zip(key)
                .all(|(a, b)| a == b)
        });
        if let Some(&g) = found {
            return (g, false);
        }
        let g = self.table.len() as u32;
        self.keys.extend_from_slice(key);
        let (width, keys) = (self.width, &self.keys);
        self.table.insert_unique(hash, g, |&g| {
            let start = g as usize * width;
            hash_key(&keys[start..start + width])
        });
        (g, true)
    }

    /// The keys in group order.
    pub fn keys(&self) -> impl Iterator<Item = &[u32]> {
        self.keys.chunks_exact(self.width.max(1))
    }

    /// Approximate heap bytes, for the flush decision.
    pub fn heap_bytes(&self) -> usize {
        // A table slot is the u32 plus one control byte.
        self.table.capacity() * 5 + self.keys.capacity() * 4
    }

    /// The keys in group order, dropping the table: what a writer needs.
    pub fn into_keys(self) -> GroupKeys {
        GroupKeys {
            width: self.width,
            keys: self.keys,
        }
    }
}

/// The keys of taken groups, group `g` at row `g`.
#[derive(Debug)]
pub struct GroupKeys {
    width: usize,
    keys: Vec<u32>,
}

impl GroupKeys {
    pub fn new(width: usize) -> Self {
        GroupKeys {
            width,
            keys: Vec::new(),
        }
    }

    pub fn push(&mut self, key: &[u32]) {
        debug_assert_eq!(key.len(), self.width);
        self.keys.extend_from_slice(key);
    }

    pub fn len(&self) -> usize {
        self.keys.len().checked_div(self.width).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u32]> {
        self.keys.chunks_exact(self.width.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_share_a_group_and_groups_are_dense() {
        let mut index = GroupIndex::new(3);
        assert_eq!(index.find_or_insert(&[1, 2, 3]), (0, true));
        assert_eq!(index.find_or_insert(&[1, 2, 4]), (1, true));
        assert_eq!(index.find_or_insert(&[1, 2, 3]), (0, false));
        // Enough groups to force several rehashes; every key must still find its own group.
        for i in 0..10_000u32 {
            index.find_or_insert(&[i, i / 7, u32::MAX - i]);
        }
        for i in (0..10_000u32).step_by(997) {
            let (g, new) = index.find_or_insert(&[i, i / 7, u32::MAX - i]);
            assert!(!new);
            assert_eq!(g, i + 2);
        }
        let keys = index.into_keys();
        assert_eq!(keys.len(), 10_002);
        assert_eq!(keys.iter().nth(1), Some(&[1, 2, 4][..]));
    }
}
