//! `restaking`: EigenLayer-style restaking with slashing (issue 19). Stakers deposit (by transfer)
//! and delegate to operators; operators register to operator sets that AVS services define and
//! allocate magnitude to them; an AVS slashes by a transfer memo; withdrawals complete after their
//! delay and are paid by transfer. Every balance change is an entry of an append-only log in
//! storage.
//!
//! The protocol is `orrery-restaking`'s (`crates/restaking`), the arithmetic
//! `orrery-restaking-math`'s (EigenLayer's contracts, exact). Refine checks each signed command's
//! Ed25519 signature (with `ed25519-zebra`, compiled into the service) and encoding and passes the
//! verdicts on. Accumulate applies accepted commands and the memos of transfers received (an AVS
//! is the transfer's source service, which the protocol sets): each is checked against the state
//! and applied whole, or refused with nothing written (a refused transfer's amount is sent back).
//! Slashing is O(1) in the operator's stakers: it lowers the operator's max magnitude, and every
//! staker's withdrawable shares follow through the scaling factors.

#![no_std]

extern crate alloc;

use alloc::vec::Vec;

use orrery_restaking::memo::{self, Memo};
use orrery_restaking::store::*;
use orrery_restaking::wire::{
    decode_payload, decode_verdicts, encode_verdicts, signing_message, Action, Command, Key, OperatorSet,
    Refusal, Verdict,
};
use orrery_restaking::{
    ALLOCATION_CONFIGURATION_DELAY, DEALLOCATION_DELAY, MIN_WITHDRAWAL_DELAY, SHARES_PER_UNIT,
};
use orrery_restaking_math::allocation::{AllocationDelay, Modify, Registration};
use orrery_restaking_math::delegation::{delegate, deposit, queue_withdrawal, UNSLASHED};
use orrery_service_sdk::accumulate::{inputs, transfer, Input, Transfer, WorkResult};
use orrery_service_sdk::entry::{AccumulateArgs, RefineArgs};
use orrery_service_sdk::general::{info, read, Level, Service};
use orrery_service_sdk::log;
use orrery_service_sdk::storage;

fn verify(command: &Command, signature: &[u8; 64]) -> Result<(), Refusal> {
    let key = ed25519_zebra::VerificationKey::try_from(command.signer).map_err(|_| Refusal::BadKey)?;
    key.verify(&ed25519_zebra::Signature::from_bytes(signature), &signing_message(command))
        .map_err(|_| Refusal::BadSignature)
}

/// Refine: a verdict per command; a payload that does not decode is one `Malformed` verdict.
fn refine(args: RefineArgs<'_>) -> Vec<u8> {
    let verdicts: Vec<Verdict> = match decode_payload(args.payload) {
        None => alloc::vec![Verdict::Refused(Refusal::Malformed)],
        Some(commands) => commands
            .into_iter()
            .map(|s| match verify(&s.command, &s.signature) {
                Ok(()) => Verdict::Accepted(s.command),
                Err(why) => Verdict::Refused(why),
            })
            .collect(),
    };
    encode_verdicts(&verdicts)
}

fn get<T>(key: &[u8], decode: impl FnOnce(&[u8]) -> Option<T>) -> Option<T> {
    read(Service::Me, key).and_then(|v| decode(&v))
}

/// What one command or memo changes, gathered while it is checked and written only once it is
/// accepted whole: a refusal leaves storage as it was.
struct Batch {
    slot: u32,
    totals: Totals,
    writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    log: Vec<LogEntry>,
}

impl Batch {
    fn new(slot: u32) -> Self {
        let totals = get(TOTALS_KEY, Totals::decode).unwrap_or_default();
        Batch { slot, totals, writes: Vec::new(), log: Vec::new() }
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.push((key, Some(value)));
    }

    fn remove(&mut self, key: Vec<u8>) {
        self.writes.push((key, None));
    }

    fn log(&mut self, kind: LogKind, who: Key, other: Key, reference: u64, amount: u128, after: u128) {
        self.log.push(LogEntry { slot: self.slot, kind, who, other, reference, amount, after });
    }

    /// Every gathered change, the log entries and the totals, as one storage batch.
    fn into_storage(mut self) -> storage::Batch {
        for entry in core::mem::take(&mut self.log) {
            self.put(log_key(self.totals.log_len), entry.encode());
            self.totals.log_len += 1;
        }
        self.put(TOTALS_KEY.to_vec(), self.totals.encode());
        let mut batch = storage::Batch::new();
        for (key, value) in self.writes {
            match value {
                Some(v) => batch.put(key, v),
                None => batch.remove(key),
            }
        }
        batch
    }

    /// Writes everything, or nothing when the balance cannot pay for the storage it leaves.
    fn commit(self) -> Result<(), Refusal> {
        self.into_storage().commit().map_err(|_| Refusal::StorageFull)
    }
}

fn operator(key: &Key) -> Result<OperatorRecord, Refusal> {
    get(&operator_key(key), OperatorRecord::decode).ok_or(Refusal::UnknownOperator)
}

fn set_exists(set: &OperatorSet) -> Result<(), Refusal> {
    read(Service::Me, &set_key(set.key())).map(drop).ok_or(Refusal::UnknownSet)
}

fn registration(operator: &Key, set: &OperatorSet) -> Registration {
    get(&registration_key(operator, set.key()), decode_registration).unwrap_or_default()
}

/// A staker's slashing factor now: its operator's max magnitude, or 10¹⁸ undelegated.
fn factor(op: Option<&OperatorRecord>) -> u128 {
    op.map_or(UNSLASHED, |o| o.strategy.max_magnitude().into())
}

/// Pays `units` to service `payee` by transfer with the gas its memos need.
fn pay(payee: u32, units: u64, memo: &[u8; memo::MEMO_SIZE]) -> Result<(), Refusal> {
    let account = info(Service::Id(payee)).ok_or(Refusal::PaymentFailed)?;
    transfer(payee, units, account.min_memo_gas, memo).map_err(|_| Refusal::PaymentFailed)
}

/// Checks a signed command against the state and applies it.
fn apply(c: Command, slot: u32) -> Result<(), Refusal> {
    let last = get(&nonce_key(&c.signer), |v| Some(u64::from_le_bytes(v.try_into().ok()?))).unwrap_or(0);
    if c.nonce <= last {
        return Err(Refusal::StaleNonce);
    }
    let mut b = Batch::new(slot);
    let me = c.signer;
    // A completed withdrawal's payment, made once the storage is known to fit.
    let mut payment = None;
    match c.action {
        Action::RegisterOperator { allocation_delay } => {
            if read(Service::Me, &operator_key(&me)).is_some() {
                return Err(Refusal::AlreadyOperator);
            }
            let mut delay = AllocationDelay::default();
            delay.set(allocation_delay, true, slot, ALLOCATION_CONFIGURATION_DELAY)?;
            b.put(operator_key(&me), OperatorRecord::new(slot, delay).encode());
        }
        Action::RegisterForSet { set } | Action::DeregisterFromSet { set } => {
            operator(&me)?;
            set_exists(&set)?;
            let mut reg = registration(&me, &set);
            if matches!(c.action, Action::RegisterForSet { .. }) {
                reg.register(slot)?;
            } else {
                reg.deregister(slot, DEALLOCATION_DELAY)?;
            }
            b.put(registration_key(&me, set.key()), encode_registration(&reg));
        }
        Action::Allocate { set, magnitude } => {
            let mut op = operator(&me)?;
            set_exists(&set)?;
            let how = Modify {
                now: slot,
                allocation_delay: op.delay.effective(slot),
                deallocation_delay: DEALLOCATION_DELAY,
                slashable: registration(&me, &set).is_slashable(slot),
            };
            op.strategy.modify_allocation(set.key(), magnitude, how)?;
            b.put(operator_key(&me), op.encode());
        }
        Action::Delegate { operator: to } => {
            let mut rec = get(&staker_key(&me), StakerRecord::decode).unwrap_or_default();
            if rec.operator.is_some() {
                return Err(Refusal::AlreadyDelegated);
            }
            let mut op = operator(&to)?;
            let before = op.shares.shares;
            delegate(&mut rec.staker, &mut op.shares, op.strategy.max_magnitude(), None)?;
            rec.operator = Some(to);
            op.delegators = op.delegators.checked_add(1).ok_or(Refusal::Overflow)?;
            b.log(LogKind::Delegate, me, to, 0, op.shares.shares - before, op.shares.shares);
            b.put(staker_key(&me), rec.encode());
            b.put(operator_key(&to), op.encode());
        }
        Action::QueueWithdrawal { shares } => {
            let mut rec = get(&staker_key(&me), StakerRecord::decode).ok_or(Refusal::UnknownStaker)?;
            let mut op = rec.operator.map(|k| operator(&k)).transpose()?;
            let f = factor(op.as_ref());
            let w = queue_withdrawal(&mut rec.staker, op.as_mut().map(|o| &mut o.shares), shares, f, slot)?;
            let index = rec.withdrawals;
            rec.withdrawals = index.checked_add(1).ok_or(Refusal::Overflow)?;
            let record = WithdrawalRecord {
                operator: rec.operator,
                start: w.start_block,
                scaled_shares: w.scaled_shares,
                withdrawable_when_queued: w.withdrawable_when_queued,
            };
            b.log(
                LogKind::Queue,
                me,
                rec.operator.unwrap_or_default(),
                index.into(),
                shares,
                rec.staker.deposit_shares,
            );
            b.put(withdrawal_key(&me, index), record.encode());
            b.put(staker_key(&me), rec.encode());
            if let (Some(k), Some(op)) = (rec.operator, op) {
                b.put(operator_key(&k), op.encode());
            }
        }
        Action::CompleteWithdrawal { index, payee } => {
            get(&staker_key(&me), StakerRecord::decode).ok_or(Refusal::UnknownStaker)?;
            let w = get(&withdrawal_key(&me, index), WithdrawalRecord::decode)
                .ok_or(Refusal::UnknownWithdrawal)?;
            let queued = w.queued();
            let f = match w.operator {
                Some(k) => {
                    let until = queued.slashable_until(MIN_WITHDRAWAL_DELAY)?;
                    operator(&k)?.strategy.max_magnitude_at(until).into()
                }
                None => UNSLASHED,
            };
            let shares = queued.complete(slot, MIN_WITHDRAWAL_DELAY, f)?;
            let units = u64::try_from(shares / SHARES_PER_UNIT).map_err(|_| Refusal::Overflow)?;
            b.totals.held_units = b.totals.held_units.checked_sub(units).ok_or(Refusal::Overflow)?;
            b.totals.paid_units += u128::from(units);
            let mut other = [0u8; 32];
            other[..4].copy_from_slice(&payee.to_le_bytes());
            b.log(LogKind::Complete, me, other, index.into(), shares, units.into());
            b.remove(withdrawal_key(&me, index));
            if units > 0 {
                payment = Some((payee, units, memo::withdrawal_paid(&me, index, shares)));
            }
        }
    }
    b.put(nonce_key(&me), c.nonce.to_le_bytes().to_vec());
    let Some((payee, units, memo)) = payment else { return b.commit() };
    // Storage first, the payment next, the writes last: once paid, nothing can fail, so a
    // withdrawal is never paid without being recorded.
    let batch = b.into_storage();
    batch.fits(units).map_err(|_| Refusal::StorageFull)?;
    pay(payee, units, &memo)?;
    batch.commit().map_err(|_| Refusal::StorageFull)
}

/// Checks a transfer's memo against the state and applies it.
fn receive(t: &Transfer, slot: u32) -> Result<(), Refusal> {
    let mut b = Batch::new(slot);
    match Memo::decode(&t.memo).ok_or(Refusal::BadMemo)? {
        Memo::Fund => return Ok(()),
        Memo::Deposit { staker } => {
            if t.amount == 0 {
                return Err(Refusal::SharesAmountZero);
            }
            b.totals.held_units = b.totals.held_units.checked_add(t.amount).ok_or(Refusal::StakeOverflow)?;
            b.totals.deposited_units += u128::from(t.amount);
            let shares = u128::from(t.amount) * SHARES_PER_UNIT;
            let mut rec = get(&staker_key(&staker), StakerRecord::decode).unwrap_or_default();
            let mut op = rec.operator.map(|k| operator(&k)).transpose()?;
            let f = factor(op.as_ref());
            deposit(&mut rec.staker, op.as_mut().map(|o| &mut o.shares), shares, f)?;
            b.log(
                LogKind::Deposit,
                staker,
                rec.operator.unwrap_or_default(),
                t.amount,
                shares,
                rec.staker.deposit_shares,
            );
            b.put(staker_key(&staker), rec.encode());
            if let (Some(k), Some(op)) = (rec.operator, op) {
                b.put(operator_key(&k), op.encode());
            }
        }
        Memo::CreateOperatorSet { id } => {
            let set = OperatorSet { avs: t.source, id };
            if read(Service::Me, &set_key(set.key())).is_some() {
                return Err(Refusal::SetExists);
            }
            b.put(set_key(set.key()), slot.to_le_bytes().to_vec());
        }
        Memo::Slash { set, operator: who, wad_to_slash } => {
            set_exists(&set)?;
            if t.source != set.avs {
                return Err(Refusal::NotTheAvs);
            }
            let mut op = operator(&who)?;
            let slashable = registration(&who, &set).is_slashable(slot);
            let slash = op
                .strategy
                .slash(set.key(), wad_to_slash, slashable, slot)?
                .ok_or(Refusal::NothingAllocated)?;
            let taken = op.shares.slash(
                slash.prev_max_magnitude,
                slash.new_max_magnitude,
                slot,
                MIN_WITHDRAWAL_DELAY,
            )?;
            b.totals.slashed_shares =
                b.totals.slashed_shares.checked_add(taken.total()?).ok_or(Refusal::Overflow)?;
            let avs = {
                let mut k = [0u8; 32];
                k[..4].copy_from_slice(&t.source.to_le_bytes());
                k
            };
            b.log(LogKind::Slash, who, avs, set.key(), taken.from_operator, op.shares.shares);
            b.log(
                LogKind::SlashQueued,
                who,
                avs,
                set.key(),
                taken.from_queue,
                slash.new_max_magnitude.into(),
            );
            b.put(operator_key(&who), op.encode());
            log!(
                Level::Info,
                "set ({}, {}) slashed an operator: magnitude {} -> {}, shares {} + {} queued",
                set.avs,
                set.id,
                slash.prev_max_magnitude,
                slash.new_max_magnitude,
                taken.from_operator,
                taken.from_queue
            );
        }
    }
    b.commit()
}

fn accumulate(args: AccumulateArgs) -> Option<[u8; 32]> {
    for input in inputs(args.input_count) {
        match input {
            Input::Transfer(t) => {
                if let Err(why) = receive(&t, args.slot) {
                    log!(Level::Warn, "transfer of {} from {} refused: {why:?}", t.amount, t.source);
                    if t.amount > 0 && pay(t.source, t.amount, &memo::refund(why)).is_err() {
                        log!(Level::Warn, "refund of {} to {} failed", t.amount, t.source);
                    }
                }
            }
            Input::Operand(operand) => {
                let WorkResult::Ok(output) = operand.result else {
                    log!(Level::Warn, "a work item failed in refine: nothing to apply");
                    continue;
                };
                let Some(verdicts) = decode_verdicts(&output) else {
                    log!(Level::Warn, "refine's output does not decode: nothing to apply");
                    continue;
                };
                for (i, verdict) in verdicts.into_iter().enumerate() {
                    let result = match verdict {
                        Verdict::Accepted(command) => apply(command, args.slot),
                        Verdict::Refused(why) => Err(why),
                    };
                    if let Err(why) = result {
                        log!(Level::Warn, "command {i} refused: {why:?}");
                    }
                }
            }
        }
    }
    None
}

orrery_service_sdk::refine!(refine);
orrery_service_sdk::accumulate!(accumulate);
