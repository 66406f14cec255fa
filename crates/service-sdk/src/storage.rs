//! All-or-nothing storage changes: [`Batch`] gathers a command's writes and makes them only when
//! the service's balance pays for the storage they leave, so a command that would fill the
//! service's storage is refused whole instead of failing half-written (or panicking on `FULL`).
//!
//! The paper's rule (GP 0.7.2 §9.3, eq. 9.8): an account's threshold balance is
//! `max(0, B_S + B_I·i + B_L·o − f)` with `i` its items (one per storage key), `o` its octets
//! (`34 + |key| + |value|` per storage key) and `f` its gratis offset, and `write` fails with
//! `FULL` when the account after it would need more than its balance. [`Batch::commit`] works out
//! the threshold after every gathered change at once and writes nothing when it exceeds the
//! balance: first as if every key were new (no host call but [`info`]; a bound on every
//! intermediate footprint too), and only when that bound is too high, exactly, from the old
//! values' lengths, with the writes then going shrinking first. Either way no single `write` can
//! fail on the way.

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use crate::general::{info, read, remove, value_len, write, HostError, Service, ServiceInfo};

/// `B_S`, `B_I`, `B_L` (GP 0.7.2 eq. I.4.4): the base, per-item and per-octet deposits.
pub const DEPOSIT_BASE: u64 = 100;
pub const DEPOSIT_PER_ITEM: u64 = 10;
pub const DEPOSIT_PER_BYTE: u64 = 1;

/// The octets one storage item counts for (GP 0.7.2 §9.3).
pub const fn item_octets(key_len: usize, value_len: usize) -> u64 {
    34 + key_len as u64 + value_len as u64
}

/// One key's change: its key's length, its value's length before (`None`: absent) and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub key_len: usize,
    pub before: Option<usize>,
    pub after: Option<usize>,
}

/// The threshold balance of an account of `items` items, `octets` octets and gratis offset
/// `offset` once `changes` are made (each key once).
pub fn threshold_after(items: u64, octets: u64, offset: u64, changes: &[Change]) -> u128 {
    let (mut items, mut octets) = (i128::from(items), i128::from(octets));
    for c in changes {
        let size = |len: Option<usize>| len.map(|v| i128::from(item_octets(c.key_len, v)));
        items += i128::from(c.after.is_some()) - i128::from(c.before.is_some());
        octets += size(c.after).unwrap_or(0) - size(c.before).unwrap_or(0);
    }
    let required = i128::from(DEPOSIT_BASE)
        + i128::from(DEPOSIT_PER_ITEM) * items.max(0)
        + i128::from(DEPOSIT_PER_BYTE) * octets.max(0)
        - i128::from(offset);
    required.max(0) as u128
}

/// A key and its new value (`None`: removed).
type Write = (Vec<u8>, Option<Vec<u8>>);

/// A command's storage changes, made together by [`Batch::commit`] or not at all.
///
/// Writes are kept in order, a key written twice twice (the later wins): appending costs the
/// same at any size, where looking a key up would cost an epoch's hundreds of records dearly in
/// the PVM. Counting a repeated key twice only overstates the footprint, so the quick check stays
/// a bound; the exact one keeps the last write of each key.
#[derive(Debug, Default)]
pub struct Batch {
    writes: Vec<Write>,
}

impl Batch {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value` (an empty value removes the key, as the paper's `write` does). Owned
    /// vectors are moved in, not copied: in the PVM a copy costs gas by the octet.
    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        let (key, value) = (key.into(), value.into());
        self.writes.push((key, (!value.is_empty()).then_some(value)));
    }

    pub fn remove(&mut self, key: impl Into<Vec<u8>>) {
        self.put(key, Vec::new());
    }

    /// The value `key` will have: what this batch set, or else what storage holds now.
    pub fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.writes.iter().rev().find(|(k, _)| k == key) {
            Some((_, v)) => v.clone(),
            None => read(Service::Me, key),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// Each key's change as if no key existed yet: what the footprint can grow by at most, at no
    /// host call. An upper bound on every intermediate footprint of the writes, too.
    fn changes_at_most(&self) -> Vec<Change> {
        self.writes
            .iter()
            .map(|(key, value)| Change {
                key_len: key.len(),
                before: None,
                after: value.as_ref().map(Vec::len),
            })
            .collect()
    }

    /// Which writes count: the last of each key, in the order written.
    fn last_of_each_key(&self) -> Vec<bool> {
        let mut seen = BTreeSet::new();
        let mut keep: Vec<bool> = self.writes.iter().rev().map(|(k, _)| seen.insert(k.as_slice())).collect();
        keep.reverse();
        keep
    }

    /// The change of each key written (its last write), from the lengths of the values storage
    /// holds now.
    fn changes(&self) -> Vec<Change> {
        self.writes
            .iter()
            .zip(self.last_of_each_key())
            .filter(|(_, last)| *last)
            .map(|((key, value), _)| Change {
                key_len: key.len(),
                before: value_len(Service::Me, key),
                after: value.as_ref().map(Vec::len),
            })
            .collect()
    }

    fn check(me: &ServiceInfo, changes: &[Change], spending: u64) -> Result<(), HostError> {
        let threshold = threshold_after(me.items.into(), me.bytes, me.deposit_offset, changes);
        let left = u128::from(me.balance).checked_sub(spending.into()).ok_or(HostError::Cash)?;
        if threshold > left {
            return Err(HostError::Full);
        }
        Ok(())
    }

    /// `Ok(true)` when the balance covers the changes even if every key were new (no key's old
    /// value need be read), `Ok(false)` when it covers them as they are, `Err(Full)` otherwise.
    fn fit(&self, me: &ServiceInfo, spending: u64) -> Result<bool, HostError> {
        if Self::check(me, &self.changes_at_most(), spending).is_ok() {
            return Ok(true);
        }
        Self::check(me, &self.changes(), spending).map(|()| false)
    }

    /// Whether the balance, less `spending` the caller is about to send away, pays for the
    /// storage the changes leave: `Err(Full)` if not, `Err(Cash)` if `spending` is more than
    /// the balance. For a command that pays out before it commits.
    pub fn fits(&self, spending: u64) -> Result<(), HostError> {
        let me = info(Service::Me).ok_or(HostError::What)?;
        self.fit(&me, spending).map(drop)
    }

    /// Makes every change, or none and `Err(Full)` when the balance cannot pay for the storage
    /// they leave (`Err(What)` if the service's own `info` is missing, which cannot happen).
    ///
    /// Most commands leave a service far from its threshold: when the balance covers the changes
    /// even as if every key were new, they are written at once. Only near the threshold are the
    /// old values' lengths read, and the writes ordered shrinking first.
    pub fn commit(self) -> Result<(), HostError> {
        let me = info(Service::Me).ok_or(HostError::What)?;
        let mut planned: Vec<(Write, Change)> = if self.fit(&me, 0)? {
            let changes = self.changes_at_most();
            self.writes.into_iter().zip(changes).collect()
        } else {
            let changes = self.changes();
            let keep = self.last_of_each_key();
            let last = self.writes.into_iter().zip(keep).filter(|(_, k)| *k).map(|(w, _)| w);
            let mut planned: Vec<_> = last.zip(changes).collect();
            // Shrinking first: every intermediate footprint is at most the final one.
            let grows = |c: &Change| {
                let size = |len: Option<usize>| len.map_or(0, |v| item_octets(c.key_len, v));
                size(c.after) > size(c.before)
            };
            planned.sort_by_key(|(_, c)| grows(c));
            planned
        };
        for ((key, value), _) in planned.drain(..) {
            match value {
                Some(v) => write(&key, &v)?,
                None => remove(&key)?,
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_follows_the_papers_footprint() {
        // An empty account: B_S = 100.
        assert_eq!(threshold_after(0, 0, 0, &[]), 100);
        // One new key of 3 octets with a value of 5: one item, 34 + 3 + 5 octets.
        let new = Change { key_len: 3, before: None, after: Some(5) };
        assert_eq!(threshold_after(0, 0, 0, &[new]), 100 + 10 + 42);
        // Replacing a 5-octet value by 8: octets only.
        let grow = Change { key_len: 3, before: Some(5), after: Some(8) };
        assert_eq!(threshold_after(1, 42, 0, &[grow]), 100 + 10 + 45);
        // Removing it: back to the base; a gratis offset comes off, never below zero.
        let gone = Change { key_len: 3, before: Some(5), after: None };
        assert_eq!(threshold_after(1, 42, 0, &[gone]), 100);
        assert_eq!(threshold_after(1, 42, 30, &[gone]), 70);
        assert_eq!(threshold_after(1, 42, 1_000, &[new]), 0);
        // Several at once add up.
        assert_eq!(
            threshold_after(0, 0, 0, &[new, Change { key_len: 1, before: None, after: Some(1) }]),
            100 + 20 + 42 + 36
        );
    }

    #[test]
    fn a_key_written_twice_counts_once_by_its_last_write() {
        let mut b = Batch::new();
        b.put(b"a".as_slice(), b"1".as_slice());
        b.put(b"b".as_slice(), b"22".as_slice());
        b.put(b"a".as_slice(), b"333".as_slice());
        b.remove(b"b".as_slice());
        b.put(b"c".as_slice(), b"4".as_slice());
        assert_eq!(b.last_of_each_key(), [false, false, true, true, true]);
        // The quick bound counts every write as a new key: 3 items more than the exact 2 (a, c).
        let bound = b.changes_at_most();
        assert_eq!(bound.len(), 5);
        assert_eq!(bound.iter().filter(|c| c.after.is_none()).count(), 1, "the removal");
    }
}
