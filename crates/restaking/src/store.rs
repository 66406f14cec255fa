//! The service's storage: keys and records, encoded as the payload is (GP 0.7.2 Appendix C codec).
//!
//! | key | value |
//! |---|---|
//! | `"staker" ‖ key` | [`StakerRecord`] |
//! | `"operator" ‖ key` | [`OperatorRecord`]: the operator's magnitudes, allocations and shares |
//! | `"registration" ‖ operator ‖ E8(set)` | `E1(registered) ‖ E4(slashable until)` ([`Registration`]) |
//! | `"set" ‖ E8(set)` | `E4(slot created)`: the set exists |
//! | `"withdrawal" ‖ staker ‖ E4(index)` | [`WithdrawalRecord`], removed when completed |
//! | `"nonce" ‖ key` | `E8`: the signer's last accepted nonce |
//! | `"totals"` | [`Totals`] |
//! | `"log" ‖ E8(n)` | [`LogEntry`] `n` (from 0): every balance change, in order, never rewritten |
//!
//! A set `(avs, id)` is stored by its `u64` key ([`crate::wire::OperatorSet::key`]).

use alloc::vec::Vec;

use orrery_restaking_math::allocation::{Allocation, AllocationDelay, OperatorStrategy, Registration};
use orrery_restaking_math::delegation::{OperatorShares, QueuedWithdrawal, Staker};
use orrery_restaking_math::history::History;
use orrery_restaking_math::shares::DepositScalingFactor;

use crate::codec::{put_natural, Reader};
use crate::wire::Key;

pub const TOTALS_KEY: &[u8] = b"totals";

fn key(prefix: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut k = prefix.to_vec();
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

pub fn staker_key(staker: &Key) -> Vec<u8> {
    key(b"staker", &[staker])
}

pub fn operator_key(operator: &Key) -> Vec<u8> {
    key(b"operator", &[operator])
}

pub fn registration_key(operator: &Key, set: u64) -> Vec<u8> {
    key(b"registration", &[operator, &set.to_le_bytes()])
}

pub fn set_key(set: u64) -> Vec<u8> {
    key(b"set", &[&set.to_le_bytes()])
}

pub fn withdrawal_key(staker: &Key, index: u32) -> Vec<u8> {
    key(b"withdrawal", &[staker, &index.to_le_bytes()])
}

pub fn nonce_key(signer: &Key) -> Vec<u8> {
    key(b"nonce", &[signer])
}

pub fn log_key(n: u64) -> Vec<u8> {
    key(b"log", &[&n.to_le_bytes()])
}

fn put_option_key(out: &mut Vec<u8>, k: &Option<Key>) {
    match k {
        None => out.push(0),
        Some(k) => {
            out.push(1);
            out.extend_from_slice(k);
        }
    }
}

fn read_option_key(r: &mut Reader<'_>) -> Option<Option<Key>> {
    match r.u8()? {
        0 => Some(None),
        1 => Some(Some(r.array()?)),
        _ => None,
    }
}

/// A staker: `E16(deposit shares) ‖ E16(dsf) ‖ operator? ‖ E4(withdrawals)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StakerRecord {
    /// Its holding (deposit shares and deposit scaling factor, stored raw: 0 means 10¹⁸).
    pub staker: Staker,
    /// The operator it is delegated to.
    pub operator: Option<Key>,
    /// Withdrawals queued so far: the next one's index.
    pub withdrawals: u32,
}

impl StakerRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.staker.deposit_shares.to_le_bytes().to_vec();
        out.extend_from_slice(&self.staker.dsf.raw().to_le_bytes());
        put_option_key(&mut out, &self.operator);
        out.extend_from_slice(&self.withdrawals.to_le_bytes());
        out
    }

    pub fn decode(data: &[u8]) -> Option<Self> {
        let mut r = Reader::new(data);
        let record = StakerRecord {
            staker: Staker { deposit_shares: r.u128()?, dsf: DepositScalingFactor::from_raw(r.u128()?) },
            operator: read_option_key(&mut r)?,
            withdrawals: r.u32()?,
        };
        r.is_empty().then_some(record)
    }
}

/// An operator: `E4(registered) ‖ delay ‖ E4(delegators) ‖ E16(shares) ‖ queued history ‖
/// max-magnitude history ‖ E8(encumbered) ‖ allocations ‖ deallocation queue`, each list a count
/// `E(n)` then its items (history `E4(slot) ‖ value`, allocation `E8(set) ‖ E8(current) ‖
/// E16(pending diff, two's complement) ‖ E4(effect slot)`, queue `E8(set)`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorRecord {
    /// The slot it registered at.
    pub registered: u32,
    /// Its allocation delay.
    pub delay: AllocationDelay,
    /// Stakers delegated to it now.
    pub delegators: u32,
    /// Its delegated shares and queued-withdrawal history.
    pub shares: OperatorShares,
    /// Its magnitudes and allocations, by set key.
    pub strategy: OperatorStrategy<u64>,
}

/// No list in a record is longer than this (each item costs storage, so none comes near).
const MAX_LIST: usize = 1 << 24;

impl OperatorRecord {
    pub fn new(registered: u32, delay: AllocationDelay) -> Self {
        OperatorRecord {
            registered,
            delay,
            delegators: 0,
            shares: OperatorShares::new(),
            strategy: OperatorStrategy::new(),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.registered.to_le_bytes().to_vec();
        let d = &self.delay;
        out.extend_from_slice(&d.delay.to_le_bytes());
        out.push(d.is_set.into());
        out.extend_from_slice(&d.pending_delay.to_le_bytes());
        out.extend_from_slice(&d.effect_block.to_le_bytes());
        out.extend_from_slice(&self.delegators.to_le_bytes());
        out.extend_from_slice(&self.shares.shares.to_le_bytes());
        let queued = self.shares.cumulative_scaled_queued_history().entries();
        put_natural(&mut out, queued.len() as u64);
        for (slot, v) in queued {
            out.extend_from_slice(&slot.to_le_bytes());
            out.extend_from_slice(&v.to_le_bytes());
        }
        let max = self.strategy.max_magnitude_history().entries();
        put_natural(&mut out, max.len() as u64);
        for (slot, v) in max {
            out.extend_from_slice(&slot.to_le_bytes());
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&self.strategy.stored_encumbered_magnitude().to_le_bytes());
        let allocations: Vec<_> = self.strategy.stored_allocations().collect();
        put_natural(&mut out, allocations.len() as u64);
        for (set, a) in allocations {
            out.extend_from_slice(&set.to_le_bytes());
            out.extend_from_slice(&a.current_magnitude.to_le_bytes());
            out.extend_from_slice(&a.pending_diff.to_le_bytes());
            out.extend_from_slice(&a.effect_block.to_le_bytes());
        }
        let queue: Vec<_> = self.strategy.deallocation_queue().collect();
        put_natural(&mut out, queue.len() as u64);
        for set in queue {
            out.extend_from_slice(&set.to_le_bytes());
        }
        out
    }

    pub fn decode(data: &[u8]) -> Option<Self> {
        let mut r = Reader::new(data);
        let registered = r.u32()?;
        let delay = AllocationDelay {
            delay: r.u32()?,
            is_set: r.bool()?,
            pending_delay: r.u32()?,
            effect_block: r.u32()?,
        };
        let delegators = r.u32()?;
        let shares = r.u128()?;
        let n = r.count(MAX_LIST, 20)?;
        let queued = (0..n).map(|_| Some((r.u32()?, r.u128()?))).collect::<Option<Vec<_>>>()?;
        let n = r.count(MAX_LIST, 12)?;
        let max = (0..n).map(|_| Some((r.u32()?, r.u64()?))).collect::<Option<Vec<_>>>()?;
        let encumbered = r.u64()?;
        let n = r.count(MAX_LIST, 36)?;
        let allocations = (0..n)
            .map(|_| {
                let set = r.u64()?;
                let a = Allocation {
                    current_magnitude: r.u64()?,
                    pending_diff: i128::from_le_bytes(r.array()?),
                    effect_block: r.u32()?,
                };
                Some((set, a))
            })
            .collect::<Option<Vec<_>>>()?;
        let n = r.count(MAX_LIST, 8)?;
        let queue = (0..n).map(|_| r.u64()).collect::<Option<Vec<_>>>()?;
        if !r.is_empty() {
            return None;
        }
        Some(OperatorRecord {
            registered,
            delay,
            delegators,
            shares: OperatorShares::from_parts(shares, History::from_entries(queued).ok()?),
            strategy: OperatorStrategy::from_parts(
                History::from_entries(max).ok()?,
                encumbered,
                allocations,
                queue,
            ),
        })
    }
}

/// An operator's membership of a set: `E1(registered) ‖ E4(slashable until)`.
pub fn encode_registration(r: &Registration) -> Vec<u8> {
    let mut out = alloc::vec![u8::from(r.registered)];
    out.extend_from_slice(&r.slashable_until.to_le_bytes());
    out
}

pub fn decode_registration(data: &[u8]) -> Option<Registration> {
    let mut r = Reader::new(data);
    let reg = Registration { registered: r.bool()?, slashable_until: r.u32()? };
    r.is_empty().then_some(reg)
}

/// A queued withdrawal: `operator? ‖ E4(start slot) ‖ E16(scaled shares) ‖ E16(withdrawable
/// when queued)`. The operator is the one the staker was delegated to when queueing: its max
/// magnitude at the withdrawal's last slashable slot sets what completion pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WithdrawalRecord {
    pub operator: Option<Key>,
    pub start: u32,
    pub scaled_shares: u128,
    pub withdrawable_when_queued: u128,
}

impl WithdrawalRecord {
    pub fn queued(&self) -> QueuedWithdrawal {
        QueuedWithdrawal {
            start_block: self.start,
            scaled_shares: self.scaled_shares,
            delegated: self.operator.is_some(),
            withdrawable_when_queued: self.withdrawable_when_queued,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_option_key(&mut out, &self.operator);
        out.extend_from_slice(&self.start.to_le_bytes());
        out.extend_from_slice(&self.scaled_shares.to_le_bytes());
        out.extend_from_slice(&self.withdrawable_when_queued.to_le_bytes());
        out
    }

    pub fn decode(data: &[u8]) -> Option<Self> {
        let mut r = Reader::new(data);
        let record = WithdrawalRecord {
            operator: read_option_key(&mut r)?,
            start: r.u32()?,
            scaled_shares: r.u128()?,
            withdrawable_when_queued: r.u128()?,
        };
        r.is_empty().then_some(record)
    }
}

/// The service's totals: `E8(held) ‖ E16(deposited) ‖ E16(paid) ‖ E16(slashed) ‖ E8(log length)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Units held for stakers: deposited less paid out; at most 2⁶⁴ − 1 (a balance).
    pub held_units: u64,
    /// Units deposited, ever.
    pub deposited_units: u128,
    /// Units paid out by completed withdrawals, ever.
    pub paid_units: u128,
    /// Shares slashed, ever (from operators and from queued withdrawals): burnt, the units stay
    /// with the service.
    pub slashed_shares: u128,
    /// Log entries written: the next one's number.
    pub log_len: u64,
}

impl Totals {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.held_units.to_le_bytes().to_vec();
        out.extend_from_slice(&self.deposited_units.to_le_bytes());
        out.extend_from_slice(&self.paid_units.to_le_bytes());
        out.extend_from_slice(&self.slashed_shares.to_le_bytes());
        out.extend_from_slice(&self.log_len.to_le_bytes());
        out
    }

    pub fn decode(data: &[u8]) -> Option<Self> {
        let mut r = Reader::new(data);
        let t = Totals {
            held_units: r.u64()?,
            deposited_units: r.u128()?,
            paid_units: r.u128()?,
            slashed_shares: r.u128()?,
            log_len: r.u64()?,
        };
        r.is_empty().then_some(t)
    }
}

/// What a log entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogKind {
    /// `who` (staker) got `amount` deposit shares, `reference` the units; `after`: its deposit shares.
    Deposit = 1,
    /// `who` (staker) delegated `amount` withdrawable shares to `other`; `after`: the operator's shares.
    Delegate = 2,
    /// `who` (staker) queued `amount` deposit shares as withdrawal `reference`; `after`: its deposit shares.
    Queue = 3,
    /// `who` (staker) completed withdrawal `reference` for `amount` shares, paid to service
    /// `other[..4]`; `after`: the units paid.
    Complete = 4,
    /// `who` (operator) lost `amount` delegated shares in a slash by set `reference`; `after`: its shares.
    Slash = 5,
    /// The same slash took `amount` shares from `who`'s withdrawals in their delay; `after`: the
    /// max magnitude that withdrawals now complete with.
    SlashQueued = 6,
}

impl LogKind {
    fn from_code(code: u8) -> Option<LogKind> {
        use LogKind::*;
        [Deposit, Delegate, Queue, Complete, Slash, SlashQueued].into_iter().find(|k| *k as u8 == code)
    }
}

/// One balance change: `E4(slot) ‖ E1(kind) ‖ who₃₂ ‖ other₃₂ ‖ E8(reference) ‖ E16(amount) ‖
/// E16(after)`, fields as [`LogKind`] says (unused ones zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogEntry {
    pub slot: u32,
    pub kind: LogKind,
    pub who: Key,
    pub other: Key,
    pub reference: u64,
    pub amount: u128,
    pub after: u128,
}

impl LogEntry {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.slot.to_le_bytes().to_vec();
        out.push(self.kind as u8);
        out.extend_from_slice(&self.who);
        out.extend_from_slice(&self.other);
        out.extend_from_slice(&self.reference.to_le_bytes());
        out.extend_from_slice(&self.amount.to_le_bytes());
        out.extend_from_slice(&self.after.to_le_bytes());
        out
    }

    pub fn decode(data: &[u8]) -> Option<Self> {
        let mut r = Reader::new(data);
        let e = LogEntry {
            slot: r.u32()?,
            kind: LogKind::from_code(r.u8()?)?,
            who: r.array()?,
            other: r.array()?,
            reference: r.u64()?,
            amount: r.u128()?,
            after: r.u128()?,
        };
        r.is_empty().then_some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orrery_restaking_math::allocation::Modify;

    #[test]
    fn records_round_trip() {
        let staker = StakerRecord {
            staker: Staker { deposit_shares: 5, dsf: DepositScalingFactor::from_raw(7) },
            operator: Some([3; 32]),
            withdrawals: 2,
        };
        assert_eq!(StakerRecord::decode(&staker.encode()), Some(staker));
        let fresh = StakerRecord::default();
        assert_eq!(StakerRecord::decode(&fresh.encode()), Some(fresh));

        let mut delay = AllocationDelay::default();
        delay.set(10, true, 1, 100).unwrap();
        let mut op = OperatorRecord::new(1, delay);
        op.shares.shares = 1000;
        let how = Modify { now: 1, allocation_delay: Some(10), deallocation_delay: 50, slashable: true };
        op.strategy.modify_allocation(9, 600, how).unwrap();
        op.strategy.slash(9, 1 << 59, true, 20).unwrap().unwrap();
        let how = Modify { now: 21, ..how };
        op.strategy.modify_allocation(9, 100, how).unwrap();
        assert_eq!(op.strategy.deallocation_queue().count(), 1);
        assert_eq!(OperatorRecord::decode(&op.encode()), Some(op.clone()));
        let mut bad = op.encode();
        bad.push(0);
        assert_eq!(OperatorRecord::decode(&bad), None);

        let w = WithdrawalRecord { operator: None, start: 4, scaled_shares: 5, withdrawable_when_queued: 6 };
        assert_eq!(WithdrawalRecord::decode(&w.encode()), Some(w));
        let reg = Registration { registered: false, slashable_until: 77 };
        assert_eq!(decode_registration(&encode_registration(&reg)), Some(reg));
        let t = Totals { held_units: 1, deposited_units: 2, paid_units: 3, slashed_shares: 4, log_len: 5 };
        assert_eq!(Totals::decode(&t.encode()), Some(t));
        let e = LogEntry {
            slot: 1,
            kind: LogKind::SlashQueued,
            who: [1; 32],
            other: [2; 32],
            reference: 3,
            amount: 4,
            after: 5,
        };
        assert_eq!(LogEntry::decode(&e.encode()), Some(e));
        assert_eq!(e.encode().len(), 4 + 1 + 32 + 32 + 8 + 16 + 16);
    }
}
