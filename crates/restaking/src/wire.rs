//! What a work item carries and what refine makes of it.
//!
//! Payload: `E1(VERSION) ‖ E(n) ‖ n × (E(command) ‖ signature₆₄)`. A command is
//! `signer₃₂ ‖ E8(nonce) ‖ E1(tag) ‖ fields` ([`Command::encode_to`]); the Ed25519 signature is
//! over [`signing_message`]: [`DOMAIN`] ‖ `E(command)`, so that a signature made for this protocol
//! means nothing elsewhere. Operator actions (tags 0–3) are signed by the operator's key, staker
//! actions (tags 4–6) by the staker's. The nonce must exceed the signer's last accepted one, so a
//! signed command cannot be replayed.
//!
//! Refine output: `E1(VERSION) ‖ E(n) ‖ n × verdict`, a verdict being `0 ‖ E(command)` (signature
//! checked and dropped) or `1 ‖ E1(reason)` ([`Refusal`]). A payload that does not decode gives one
//! verdict, [`Refusal::Malformed`]. Accumulate applies accepted commands in order; one it refuses
//! in turn changes nothing and is logged with its [`Refusal`].

use alloc::vec::Vec;

use crate::codec::{put_natural, Reader};
use crate::VERSION;

/// The prefix of every signed message.
pub const DOMAIN: &[u8] = b"orrery/restaking/v1";
/// At most this many commands in one work item.
pub const MAX_COMMANDS: usize = 1024;

/// An Ed25519 public key: a staker or an operator.
pub type Key = [u8; 32];

/// An operator set: the AVS service that defined it and its number there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OperatorSet {
    pub avs: u32,
    pub id: u32,
}

impl OperatorSet {
    /// The set as one `u64` (`avs · 2³² + id`): the key the allocation math and storage use.
    pub fn key(&self) -> u64 {
        (u64::from(self.avs) << 32) | u64::from(self.id)
    }

    pub fn from_key(key: u64) -> Self {
        OperatorSet { avs: (key >> 32) as u32, id: key as u32 }
    }
}

/// What a signed command does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Operator: becomes an operator with this allocation delay (in slots, in effect at once).
    RegisterOperator { allocation_delay: u32 },
    /// Operator: joins a set, which may then slash what the operator allocates to it.
    RegisterForSet { set: OperatorSet },
    /// Operator: leaves a set; slashable by it for [`crate::DEALLOCATION_DELAY`] more slots.
    DeregisterFromSet { set: OperatorSet },
    /// Operator: sets its allocation to `set` to `magnitude` (of 10¹⁸).
    Allocate { set: OperatorSet, magnitude: u64 },
    /// Staker: delegates everything it holds to `operator`.
    Delegate { operator: Key },
    /// Staker: queues `shares` deposit shares for withdrawal.
    QueueWithdrawal { shares: u128 },
    /// Staker: completes its withdrawal number `index`, paying it to service `payee`.
    CompleteWithdrawal { index: u32, payee: u32 },
}

/// One signed command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command {
    /// Who signs it: the operator for operator actions, the staker for staker actions.
    pub signer: Key,
    /// Above the signer's last accepted nonce.
    pub nonce: u64,
    pub action: Action,
}

/// Why a command, a memo or a transfer was refused (its code is the octet after a refused
/// verdict's 1, and the third octet of a refund memo). Codes 20 and up are the math crate's
/// errors (`orrery_restaking_math::Error`), the contracts' reverts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Refine: the payload does not decode (or has another version).
    Malformed = 1,
    /// Refine: the signer's key is not a valid Ed25519 point.
    BadKey = 2,
    /// Refine: the signature does not verify.
    BadSignature = 3,
    /// The nonce is not above the signer's last.
    StaleNonce = 4,
    /// No operator has this key.
    UnknownOperator = 5,
    /// The key is already an operator.
    AlreadyOperator = 6,
    /// No such operator set.
    UnknownSet = 7,
    /// The AVS already has a set with this id.
    SetExists = 8,
    /// A slash from a service that is not the set's AVS.
    NotTheAvs = 9,
    /// The staker is already delegated.
    AlreadyDelegated = 10,
    /// No staker has this key.
    UnknownStaker = 11,
    /// The staker has no queued withdrawal with this index (or it was completed).
    UnknownWithdrawal = 12,
    /// The payee service does not exist or the payment transfer failed.
    PaymentFailed = 13,
    /// What the service holds for stakers would exceed 2⁶⁴ − 1 units (a balance's bound).
    StakeOverflow = 14,
    /// A slash of an operator with nothing (yet) slashable allocated to the set.
    NothingAllocated = 15,
    /// A transfer's memo is not one of [`crate::memo::Memo`]'s layouts.
    BadMemo = 16,
    /// The service's balance cannot pay for the storage the command would leave (GP 0.7.2 §9.3's
    /// threshold): refused whole rather than failing half-written.
    StorageFull = 17,
    /// Arithmetic overflow (`Error::Overflow`).
    Overflow = 20,
    /// `Error::DivisionByZero`.
    DivisionByZero = 21,
    /// `Error::InvalidDepositScalingFactor`.
    InvalidDepositScalingFactor = 22,
    /// `wadToSlash` of zero or above 10¹⁸: nothing, or more than is allocated.
    InvalidWadToSlash = 23,
    /// The operator is not registered to the set, nor within its window after leaving.
    OperatorNotSlashable = 24,
    /// `Error::UninitializedAllocationDelay`.
    UninitializedAllocationDelay = 25,
    /// The allocation has a change pending.
    ModificationAlreadyPending = 26,
    /// The allocation already has this magnitude.
    SameMagnitude = 27,
    /// Allocating more magnitude than is free.
    InsufficientMagnitude = 28,
    /// Already registered to (or still slashable by) the set.
    AlreadyMemberOfSet = 29,
    /// Not registered to the set.
    NotMemberOfSet = 30,
    /// `Error::InvalidSnapshotOrdering`.
    InvalidSnapshotOrdering = 31,
    /// The operator is slashed to nothing.
    FullySlashed = 32,
    /// Zero shares.
    SharesAmountZero = 33,
    /// More deposit shares than the staker holds.
    SharesAmountTooHigh = 34,
    /// The withdrawal is still slashable: its delay has not passed.
    WithdrawalDelayNotElapsed = 35,
    /// A math error the service never causes (the rewards split's).
    OtherMath = 36,
}

const REFUSALS: [Refusal; 34] = {
    use Refusal::*;
    [
        Malformed,
        BadKey,
        BadSignature,
        StaleNonce,
        UnknownOperator,
        AlreadyOperator,
        UnknownSet,
        SetExists,
        NotTheAvs,
        AlreadyDelegated,
        UnknownStaker,
        UnknownWithdrawal,
        PaymentFailed,
        StakeOverflow,
        NothingAllocated,
        BadMemo,
        StorageFull,
        Overflow,
        DivisionByZero,
        InvalidDepositScalingFactor,
        InvalidWadToSlash,
        OperatorNotSlashable,
        UninitializedAllocationDelay,
        ModificationAlreadyPending,
        SameMagnitude,
        InsufficientMagnitude,
        AlreadyMemberOfSet,
        NotMemberOfSet,
        InvalidSnapshotOrdering,
        FullySlashed,
        SharesAmountZero,
        SharesAmountTooHigh,
        WithdrawalDelayNotElapsed,
        OtherMath,
    ]
};

impl Refusal {
    pub fn from_code(code: u8) -> Option<Refusal> {
        REFUSALS.into_iter().find(|r| *r as u8 == code)
    }
}

impl From<orrery_restaking_math::Error> for Refusal {
    fn from(e: orrery_restaking_math::Error) -> Self {
        use orrery_restaking_math::Error as E;
        match e {
            E::Overflow => Refusal::Overflow,
            E::DivisionByZero => Refusal::DivisionByZero,
            E::InvalidDepositScalingFactor => Refusal::InvalidDepositScalingFactor,
            E::InvalidWadToSlash { .. } => Refusal::InvalidWadToSlash,
            E::OperatorNotSlashable => Refusal::OperatorNotSlashable,
            E::UninitializedAllocationDelay => Refusal::UninitializedAllocationDelay,
            E::ModificationAlreadyPending { .. } => Refusal::ModificationAlreadyPending,
            E::SameMagnitude => Refusal::SameMagnitude,
            E::InsufficientMagnitude { .. } => Refusal::InsufficientMagnitude,
            E::AlreadyMemberOfSet => Refusal::AlreadyMemberOfSet,
            E::NotMemberOfSet => Refusal::NotMemberOfSet,
            E::InvalidSnapshotOrdering => Refusal::InvalidSnapshotOrdering,
            E::FullySlashed => Refusal::FullySlashed,
            E::SharesAmountZero => Refusal::SharesAmountZero,
            E::SharesAmountTooHigh { .. } => Refusal::SharesAmountTooHigh,
            E::WithdrawalDelayNotElapsed { .. } => Refusal::WithdrawalDelayNotElapsed,
            E::SplitExceedsMax | E::PreviousSplitPending => Refusal::OtherMath,
        }
    }
}

/// Refine's judgement of one command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accepted(Command),
    Refused(Refusal),
}

fn put_set(out: &mut Vec<u8>, set: &OperatorSet) {
    out.extend_from_slice(&set.avs.to_le_bytes());
    out.extend_from_slice(&set.id.to_le_bytes());
}

fn read_set(r: &mut Reader<'_>) -> Option<OperatorSet> {
    Some(OperatorSet { avs: r.u32()?, id: r.u32()? })
}

impl Command {
    /// `E(command)`: `signer₃₂ ‖ E8(nonce) ‖ E1(tag) ‖ fields`, tags 0 register operator
    /// (`E4(delay)`), 1 register for set and 2 deregister (`E4(avs) ‖ E4(id)`), 3 allocate
    /// (`E4(avs) ‖ E4(id) ‖ E8(magnitude)`), 4 delegate (`operator₃₂`), 5 queue withdrawal
    /// (`E16(shares)`), 6 complete withdrawal (`E4(index) ‖ E4(payee)`).
    pub fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.signer);
        out.extend_from_slice(&self.nonce.to_le_bytes());
        match &self.action {
            Action::RegisterOperator { allocation_delay } => {
                out.push(0);
                out.extend_from_slice(&allocation_delay.to_le_bytes());
            }
            Action::RegisterForSet { set } => {
                out.push(1);
                put_set(out, set);
            }
            Action::DeregisterFromSet { set } => {
                out.push(2);
                put_set(out, set);
            }
            Action::Allocate { set, magnitude } => {
                out.push(3);
                put_set(out, set);
                out.extend_from_slice(&magnitude.to_le_bytes());
            }
            Action::Delegate { operator } => {
                out.push(4);
                out.extend_from_slice(operator);
            }
            Action::QueueWithdrawal { shares } => {
                out.push(5);
                out.extend_from_slice(&shares.to_le_bytes());
            }
            Action::CompleteWithdrawal { index, payee } => {
                out.push(6);
                out.extend_from_slice(&index.to_le_bytes());
                out.extend_from_slice(&payee.to_le_bytes());
            }
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_to(&mut out);
        out
    }

    /// Reads one command.
    pub fn decode_from(r: &mut Reader<'_>) -> Option<Command> {
        let signer = r.array()?;
        let nonce = r.u64()?;
        let action = match r.u8()? {
            0 => Action::RegisterOperator { allocation_delay: r.u32()? },
            1 => Action::RegisterForSet { set: read_set(r)? },
            2 => Action::DeregisterFromSet { set: read_set(r)? },
            3 => Action::Allocate { set: read_set(r)?, magnitude: r.u64()? },
            4 => Action::Delegate { operator: r.array()? },
            5 => Action::QueueWithdrawal { shares: r.u128()? },
            6 => Action::CompleteWithdrawal { index: r.u32()?, payee: r.u32()? },
            _ => return None,
        };
        Some(Command { signer, nonce, action })
    }
}

/// What the signer signs: [`DOMAIN`] ‖ `E(command)`.
pub fn signing_message(command: &Command) -> Vec<u8> {
    let mut out = DOMAIN.to_vec();
    command.encode_to(&mut out);
    out
}

/// A command with its signature, as a payload carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    pub command: Command,
    pub signature: [u8; 64],
}

/// The payload of a work item: `E1(VERSION) ‖ E(n) ‖ n × (E(command) ‖ signature)`.
pub fn encode_payload(commands: &[Signed]) -> Vec<u8> {
    let mut out = alloc::vec![VERSION];
    put_natural(&mut out, commands.len() as u64);
    for s in commands {
        s.command.encode_to(&mut out);
        out.extend_from_slice(&s.signature);
    }
    out
}

/// Reads a payload; `None` when it does not decode exactly (trailing octets included).
pub fn decode_payload(data: &[u8]) -> Option<Vec<Signed>> {
    let mut r = Reader::new(data);
    if r.u8()? != VERSION {
        return None;
    }
    // The smallest signed command: 32 + 8 + 1 + 4 + 64 octets.
    let n = r.count(MAX_COMMANDS, 109)?;
    let commands = (0..n)
        .map(|_| Some(Signed { command: Command::decode_from(&mut r)?, signature: r.array()? }))
        .collect::<Option<Vec<_>>>()?;
    r.is_empty().then_some(commands)
}

/// Refine's output: `E1(VERSION) ‖ E(n) ‖ n × verdict`.
pub fn encode_verdicts(verdicts: &[Verdict]) -> Vec<u8> {
    let mut out = alloc::vec![VERSION];
    put_natural(&mut out, verdicts.len() as u64);
    for v in verdicts {
        match v {
            Verdict::Accepted(c) => {
                out.push(0);
                c.encode_to(&mut out);
            }
            Verdict::Refused(why) => {
                out.push(1);
                out.push(*why as u8);
            }
        }
    }
    out
}

/// Reads refine's output; `None` when it does not decode exactly.
pub fn decode_verdicts(data: &[u8]) -> Option<Vec<Verdict>> {
    let mut r = Reader::new(data);
    if r.u8()? != VERSION {
        return None;
    }
    let n = r.count(MAX_COMMANDS, 2)?;
    let verdicts = (0..n)
        .map(|_| {
            Some(match r.u8()? {
                0 => Verdict::Accepted(Command::decode_from(&mut r)?),
                1 => Verdict::Refused(Refusal::from_code(r.u8()?)?),
                _ => return None,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    r.is_empty().then_some(verdicts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn samples() -> Vec<Command> {
        let set = OperatorSet { avs: 7, id: 1 };
        [
            Action::RegisterOperator { allocation_delay: 5 },
            Action::RegisterForSet { set },
            Action::DeregisterFromSet { set },
            Action::Allocate { set, magnitude: 1 << 60 },
            Action::Delegate { operator: [4; 32] },
            Action::QueueWithdrawal { shares: u128::MAX },
            Action::CompleteWithdrawal { index: 3, payee: 70_000 },
        ]
        .into_iter()
        .enumerate()
        .map(|(i, action)| Command { signer: [i as u8; 32], nonce: i as u64 + 1, action })
        .collect()
    }

    #[test]
    fn payloads_and_verdicts_round_trip() {
        let signed: Vec<Signed> =
            samples().into_iter().map(|command| Signed { command, signature: [5; 64] }).collect();
        let payload = encode_payload(&signed);
        assert_eq!(decode_payload(&payload), Some(signed.clone()));
        let mut longer = payload.clone();
        longer.push(0);
        assert_eq!(decode_payload(&longer), None);
        assert_eq!(decode_payload(&payload[..payload.len() - 1]), None);
        let mut other_version = payload;
        other_version[0] = 2;
        assert_eq!(decode_payload(&other_version), None);

        let mut verdicts: Vec<Verdict> = samples().into_iter().map(Verdict::Accepted).collect();
        verdicts.push(Verdict::Refused(Refusal::BadSignature));
        assert_eq!(decode_verdicts(&encode_verdicts(&verdicts)), Some(verdicts));
        assert_eq!(decode_verdicts(&[VERSION, 1, 1, 99]), None);
    }

    /// One allocate command laid out by hand: signer, E8(nonce), tag 3, E4(avs), E4(id), E8(magnitude).
    #[test]
    fn allocate_is_laid_out_field_by_field() {
        let c = Command {
            signer: [0xaa; 32],
            nonce: 2,
            action: Action::Allocate { set: OperatorSet { avs: 0x0102, id: 3 }, magnitude: 0x0506 },
        };
        let mut want = vec![0xaa; 32];
        want.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 0, 3]);
        want.extend_from_slice(&[0x02, 0x01, 0, 0, 3, 0, 0, 0]);
        want.extend_from_slice(&[0x06, 0x05, 0, 0, 0, 0, 0, 0]);
        assert_eq!(c.encode(), want);
        let msg = signing_message(&c);
        assert_eq!(&msg[..DOMAIN.len()], b"orrery/restaking/v1");
        assert_eq!(&msg[DOMAIN.len()..], want.as_slice());
        assert_eq!(OperatorSet { avs: 0x0102, id: 3 }.key(), 0x0000_0102_0000_0003);
        assert_eq!(OperatorSet::from_key(0x0000_0102_0000_0003), OperatorSet { avs: 0x0102, id: 3 });
    }

    #[test]
    fn every_refusal_code_reads_back() {
        let mut seen = 0;
        for code in 0..=255u8 {
            if let Some(r) = Refusal::from_code(code) {
                assert_eq!(r as u8, code);
                seen += 1;
            }
        }
        assert_eq!(seen, REFUSALS.len());
        assert_eq!(Refusal::from_code(9), Some(Refusal::NotTheAvs));
        assert_eq!(Refusal::from_code(0), None);
    }
}
