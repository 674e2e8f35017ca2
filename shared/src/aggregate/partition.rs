//! Partitions of an object's groups, for files whose groups do not fit in memory at once.
//!
//! Every group of the report's main table holds the partition key (the pod of a pod row), so
//! splitting rows by a hash of that key's text splits the groups: a pass over the file that keeps
//! only the rows of one partition aggregates whole groups, and each group is written exactly once,
//! by the pass of its partition. The object's local spill file is read once per partition.

/// One partition of `count` (a power of two), by bits 32 and up of a value's hash: bits that the
/// hash tables' own bucket and tag bits do not use, so a table holding one partition's values
/// still spreads them over all its buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    count: u32,
    residue: u32,
}

/// More partitions than this would mean reading the file hundreds of times: the groups of one
/// partition key value alone outgrow the ceiling, and the object is refused instead.
pub const MAX_PARTITIONS: u32 = 256;

impl Partition {
    /// Partition `residue` of `count`, `count` rounded up to a power of two.
    pub fn new(count: u32, residue: u32) -> Self {
        let count = count.max(1).next_power_of_two();
        Partition {
            count,
            residue: residue % count,
        }
    }

    /// Every partition of `count` (rounded up to a power of two), in order.
    pub fn all(count: u32) -> impl Iterator<Item = Partition> {
        let count = count.max(1).next_power_of_two();
        (0..count).map(move |residue| Partition { count, residue })
    }

    pub fn count(self) -> u32 {
        self.count
    }

    /// The first partition also aggregates the tables that do not hold the partition key (node
    /// capacity): they are small, and must be aggregated by one pass only.
    pub fn is_first(self) -> bool {
        self.residue == 0
    }

    /// Whether a value hashed to `hash` belongs to this partition.
    #[inline(always)]
    pub fn holds(self, hash: u64) -> bool {
        ((hash >> 32) as u32) & (self.count - 1) == self.residue
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.residue + 1, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hash_is_in_exactly_one_partition() {
        for count in [1, 2, 3, 8] {
            let parts: Vec<Partition> = Partition::all(count).collect();
            assert_eq!(parts.len(), count.next_power_of_two() as usize);
            for hash in [0u64, 1 << 32, 3 << 32, u64::MAX, 0xdead_beef_0000_0001] {
                assert_eq!(parts.iter().filter(|p| p.holds(hash)).count(), 1);
            }
        }
        assert!(Partition::new(4, 0).is_first());
        assert!(!Partition::new(4, 1).holds(0));
        assert!(Partition::new(4, 1).holds(1 << 32));
        assert_eq!(Partition::new(3, 1).to_string(), "2/4");
    }
}
