//! A value's history by block (`Snapshots.sol`): entries in block order, a second write in the same
//! block replacing the first, and lookups answering "the value as of block b" with a default before
//! the first entry.

use alloc::vec::Vec;

use crate::Error;

/// Values keyed by the block they were set in, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History<T> {
    entries: Vec<(u32, T)>,
}

impl<T: Copy> History<T> {
    /// No entries.
    pub fn new() -> Self {
        Self { entries: Vec::new() }
    }

    /// Records `value` as of `block`; a block before the latest entry's is
    /// [`Error::InvalidSnapshotOrdering`].
    pub fn push(&mut self, block: u32, value: T) -> Result<(), Error> {
        match self.entries.last_mut() {
            Some((last, _)) if *last > block => Err(Error::InvalidSnapshotOrdering),
            Some((last, v)) if *last == block => {
                *v = value;
                Ok(())
            }
            _ => {
                self.entries.push((block, value));
                Ok(())
            }
        }
    }

    /// The newest value, or `default` with no entries.
    pub fn latest(&self, default: T) -> T {
        self.entries.last().map_or(default, |(_, v)| *v)
    }

    /// The value of the newest entry at or before `block`, or `default` if there is none
    /// (`Snapshots.upperLookup`).
    pub fn upper_lookup(&self, block: u32, default: T) -> T {
        let after = self.entries.partition_point(|(key, _)| *key <= block);
        if after == 0 {
            default
        } else {
            self.entries[after - 1].1
        }
    }

    /// The entries, oldest first.
    pub fn entries(&self) -> &[(u32, T)] {
        &self.entries
    }

    /// A history from stored entries (what [`Self::entries`] gave), for a caller that keeps the
    /// state between calls; entries out of block order, or two in one block, are
    /// [`Error::InvalidSnapshotOrdering`].
    pub fn from_entries(entries: Vec<(u32, T)>) -> Result<Self, Error> {
        if entries.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(Error::InvalidSnapshotOrdering);
        }
        Ok(Self { entries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_by_block() {
        let mut h = History::new();
        assert_eq!(h.latest(7), 7);
        h.push(10, 1u64).unwrap();
        h.push(20, 2).unwrap();
        h.push(20, 3).unwrap();
        assert_eq!(h.entries(), &[(10, 1), (20, 3)]);
        assert_eq!(h.upper_lookup(9, 7), 7);
        assert_eq!(h.upper_lookup(10, 7), 1);
        assert_eq!(h.upper_lookup(19, 7), 1);
        assert_eq!(h.upper_lookup(20, 7), 3);
        assert_eq!(h.upper_lookup(u32::MAX, 7), 3);
        assert_eq!(h.push(19, 4), Err(Error::InvalidSnapshotOrdering));
        assert_eq!(h.latest(7), 3);
        assert_eq!(History::from_entries(h.entries().to_vec()), Ok(h));
        assert_eq!(
            History::from_entries(alloc::vec![(3, 1u64), (3, 2)]),
            Err(Error::InvalidSnapshotOrdering)
        );
        assert_eq!(
            History::from_entries(alloc::vec![(4, 1u64), (3, 2)]),
            Err(Error::InvalidSnapshotOrdering)
        );
    }
}
