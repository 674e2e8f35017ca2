//! The hash index of a GROUP BY: fixed-width `u32` keys stored back to back in one arena, and a
//! table of group numbers pointing into it.
//!
//! One contiguous arena instead of a boxed key per group keeps a probe to two cache lines (table
//! slot, arena row) and an insert to no allocation; group numbers are dense, so value columns are
//! plain vectors indexed by group.
//!
//! Before probing, the index tries a hint: for one chosen key position (the key that tells groups
//! apart best, e.g. the pod), the group each of its values last found. koku's files list the same
//! pods in the same order every hour, so nearly every row hits its hint and costs one compare of a
//! key that is already in cache, instead of a hash and a random probe into a table of megabytes.

use std::hash::Hasher;

use hashbrown::HashTable;
use rustc_hash::FxHasher;

#[derive(Debug)]
pub struct GroupIndex {
    width: usize,
    keys: Vec<u32>,
    table: HashTable<u32>,
    /// The key position whose values index `hints`.
    hint_position: Option<usize>,
    /// Per value at `hint_position` (dense ids), the group it last found; [`NO_HINT`] if none.
    hints: Vec<u32>,
}

/// A hint slot that has found no group yet; also the key value that never has a hint (NULL).
const NO_HINT: u32 = u32::MAX;

fn hash_key(key: &[u32]) -> u64 {
    let mut h = FxHasher::default();
    for &k in key {
        h.write_u32(k);
    }
    h.finish()
}

#[inline(always)]
fn key_at(keys: &[u32], width: usize, g: u32) -> &[u32] {
    let start = g as usize * width;
    &keys[start..start + width]
}

/// An element-wise compare: keys are a few words, shorter than a call to memcmp.
#[inline(always)]
fn same_key(a: &[u32], b: &[u32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

impl GroupIndex {
    /// An index of keys of `width` values, hinted by the values at `hint_position` (dense ids,
    /// such as interned strings; `u32::MAX` gets no hint).
    pub fn new(width: usize, hint_position: Option<usize>) -> Self {
        GroupIndex {
            width,
            keys: Vec::new(),
            table: HashTable::new(),
            hint_position: hint_position.filter(|&p| p < width),
            hints: Vec::new(),
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
        let Some(slot) = self
            .hint_position
            .map(|p| key[p])
            .filter(|&v| v != NO_HINT)
            .map(|v| v as usize)
        else {
            return self.probe(key);
        };
        if let Some(&g) = self.hints.get(slot)
            && g != NO_HINT
            && same_key(key_at(&self.keys, self.width, g), key)
        {
            return (g, false);
        }
        let found = self.probe(key);
        if slot >= self.hints.len() {
            self.hints.resize(slot + 1, NO_HINT);
        }
        self.hints[slot] = found.0;
        found
    }

    #[inline(always)]
    fn probe(&mut self, key: &[u32]) -> (u32, bool) {
        let hash = hash_key(key);
        let (width, keys) = (self.width, &self.keys);
        let found = self
            .table
            .find(hash, |&g| same_key(key_at(keys, width, g), key));
        if let Some(&g) = found {
            return (g, false);
        }
        let g = self.table.len() as u32;
        self.keys.extend_from_slice(key);
        let (width, keys) = (self.width, &self.keys);
        self.table
            .insert_unique(hash, g, |&g| hash_key(key_at(keys, width, g)));
        (g, true)
    }

    /// The key of group `g` (which must exist).
    pub fn key(&self, g: u32) -> &[u32] {
        key_at(&self.keys, self.width, g)
    }

    /// Heap bytes held, for the memory budget: the table whole (a slot is the u32 plus one control
    /// byte), the keys and hints in use (untouched capacity of a large vector is not resident).
    pub fn heap_bytes(&self) -> usize {
        self.table.capacity() * 5 + self.keys.len() * 4 + self.hints.len() * 4
    }

    /// Keeps only the groups `kept` (ascending), renumbered in that order, in place: no second
    /// copy of the keys exists at any time, so shrinking the state never first grows it.
    pub fn retain(&mut self, kept: &[u32]) {
        let width = self.width;
        for (new, &old) in kept.iter().enumerate() {
            let (from, to) = (old as usize * width, new * width);
            self.keys.copy_within(from..from + width, to);
        }
        self.keys.truncate(kept.len() * width);
        // What was freed goes back to the OS (large vectors are their own mappings), so the
        // budget's measure of the process sees it gone.
        self.keys.shrink_to_fit();
        self.table.clear();
        let keys = &self.keys;
        for g in 0..kept.len() as u32 {
            let hash = hash_key(key_at(keys, width, g));
            self.table
                .insert_unique(hash, g, |&g| hash_key(key_at(keys, width, g)));
        }
        self.table
            .shrink_to_fit(|&g| hash_key(key_at(keys, width, g)));
        self.hints.iter_mut().for_each(|h| *h = NO_HINT);
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
    /// The keys of `groups` of `index`, in that order.
    pub fn of(index: &GroupIndex, groups: &[u32]) -> GroupKeys {
        let mut keys = Vec::with_capacity(groups.len() * index.width);
        for &g in groups {
            keys.extend_from_slice(index.key(g));
        }
        GroupKeys {
            width: index.width,
            keys,
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len().checked_div(self.width).unwrap_or(0)
    }

    /// Heap bytes held.
    pub fn size(&self) -> usize {
        self.keys.capacity() * 4
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
        let mut index = GroupIndex::new(3, None);
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

    #[test]
    fn retained_groups_are_renumbered_and_still_found() {
        let mut index = GroupIndex::new(2, Some(1));
        for i in 0..100u32 {
            index.find_or_insert(&[i, i % 10]);
        }
        let kept: Vec<u32> = (0..100).filter(|g| g % 3 == 0).collect();
        index.retain(&kept);
        assert_eq!(index.len(), 34);
        // Group 5 now holds what was group 15; a dropped key is new again.
        assert_eq!(index.key(5), &[15, 5]);
        assert_eq!(index.find_or_insert(&[15, 5]), (5, false));
        assert_eq!(index.find_or_insert(&[16, 6]), (34, true));
    }

    #[test]
    fn a_hint_never_stands_in_for_a_different_key() {
        // Hinted by position 1: keys sharing that value but differing elsewhere are other groups.
        let mut index = GroupIndex::new(3, Some(1));
        assert_eq!(index.find_or_insert(&[10, 7, 1]), (0, true));
        assert_eq!(index.find_or_insert(&[10, 7, 1]), (0, false), "hit");
        assert_eq!(
            index.find_or_insert(&[11, 7, 1]),
            (1, true),
            "same hint value, new day"
        );
        assert_eq!(
            index.find_or_insert(&[10, 7, 1]),
            (0, false),
            "back to the first group"
        );
        assert_eq!(index.find_or_insert(&[10, 7, 2]), (2, true));
        // NULL (u32::MAX) at the hint position is grouped, just never hinted.
        assert_eq!(index.find_or_insert(&[10, u32::MAX, 1]), (3, true));
        assert_eq!(index.find_or_insert(&[10, u32::MAX, 1]), (3, false));
        assert_eq!(index.find_or_insert(&[10, 7, 2]), (2, false));
        assert_eq!(index.len(), 4);
    }
}
