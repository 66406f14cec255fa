//! `subnet`: Bittensor-style subnets with Yuma consensus (issue 19). An owner creates a subnet,
//! miners and validators register with stake, validators set weights; every `tempo` slots an
//! accumulation runs the epoch (`orrery-yuma`, subtensor's arithmetic) and pays each neuron its
//! emission by transfer to its payee service, or records it as owed.
//!
//! The protocol is `orrery-subnet`'s (`crates/subnet`): refine checks each command's Ed25519
//! signature (with `ed25519-zebra`, compiled into the service: JAM has no signature host call)
//! and its encoding, and passes the verdicts on; accumulate checks each accepted command against
//! the state (subnet known, weights one per miner, stake total under 2^63, nonce fresh, ...) and
//! applies it, or logs why not and changes nothing; then runs the epochs that are due.

#![no_std]

extern crate alloc;

use alloc::format;
use alloc::vec::Vec;

use orrery_service_sdk::accumulate::{inputs, transfer, Input, WorkResult, MEMO_SIZE};
use orrery_service_sdk::entry::{AccumulateArgs, RefineArgs};
use orrery_service_sdk::general::{gas, info, read, Level, Service};
use orrery_service_sdk::log;
use orrery_service_sdk::storage::Batch;
use orrery_subnet::store::*;
use orrery_subnet::wire::{
    decode_payload, decode_verdicts, encode_verdicts, signing_message, Command, Refusal, Role, Verdict,
};
use orrery_subnet::MAX_NEURONS;
use orrery_yuma::math::vec_u16_max_upscale_to_u16;
use orrery_yuma::{EpochInput, Neuron};

fn verify(command: &Command, signature: &[u8; 64]) -> Result<(), Refusal> {
    let key = ed25519_zebra::VerificationKey::try_from(*command.signer()).map_err(|_| Refusal::BadKey)?;
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

fn subnet_count() -> u16 {
    get(SUBNETS_KEY, |v| Some(u16::from_le_bytes(v.try_into().ok()?))).unwrap_or(0)
}

fn miners(netuid: u16) -> Vec<u16> {
    get(&miners_key(netuid), decode_uids).unwrap_or_default()
}

/// Checks `command` against the state and applies it: its writes are made together, or none when
/// it is refused or the balance cannot pay for the storage they leave.
fn apply(command: Command, slot: u32) -> Result<(), Refusal> {
    let mut b = Batch::new();
    let done = match command {
        Command::CreateSubnet { owner, tempo, emission, params } => {
            let netuid = subnet_count();
            if tempo == 0 || netuid == u16::MAX {
                return Err(Refusal::BadSubnet);
            }
            let record = SubnetRecord {
                owner,
                tempo,
                emission,
                params,
                created: slot,
                last_epoch: 0,
                epochs: 0,
                neurons: 0,
                total_stake: 0,
            };
            b.put(subnet_key(netuid), record.encode());
            b.put(SUBNETS_KEY, (netuid + 1).to_le_bytes());
            Some(format!("subnet {netuid} created, tempo {tempo}"))
        }
        Command::Register { netuid, hotkey, role, stake, payee } => {
            let mut subnet = get(&subnet_key(netuid), SubnetRecord::decode).ok_or(Refusal::UnknownSubnet)?;
            if usize::from(subnet.neurons) >= MAX_NEURONS {
                return Err(Refusal::SubnetFull);
            }
            if read(Service::Me, &hotkey_key(netuid, &hotkey)).is_some() {
                return Err(Refusal::DuplicateHotkey);
            }
            let total = subnet.total_stake.checked_add(stake).filter(|&t| t < 1 << 63);
            subnet.total_stake = total.ok_or(Refusal::StakeOverflow)?;
            let uid = subnet.neurons;
            subnet.neurons += 1;
            let neuron = NeuronRecord {
                hotkey,
                role,
                stake,
                payee,
                registered: slot,
                last_update: slot,
                permit: false,
                nonce: 0,
                weights: Vec::new(),
                bonds: Vec::new(),
            };
            b.put(neuron_key(netuid, uid), neuron.encode());
            b.put(hotkey_key(netuid, &hotkey), uid.to_le_bytes());
            if role == Role::Miner {
                let mut list = miners(netuid);
                list.push(uid);
                b.put(miners_key(netuid), encode_uids(&list));
            }
            b.put(subnet_key(netuid), subnet.encode());
            Some(format!("subnet {netuid}: uid {uid} registered, stake {stake}"))
        }
        Command::SetWeights { netuid, uid, hotkey, nonce, weights } => {
            get(&subnet_key(netuid), SubnetRecord::decode).ok_or(Refusal::UnknownSubnet)?;
            let key = neuron_key(netuid, uid);
            let mut neuron = get(&key, NeuronRecord::decode).ok_or(Refusal::UnknownNeuron)?;
            if neuron.hotkey != hotkey {
                return Err(Refusal::WrongKey);
            }
            if neuron.role != Role::Validator {
                return Err(Refusal::NotAValidator);
            }
            let columns = miners(netuid);
            if weights.len() != columns.len() {
                return Err(Refusal::WrongWeightCount);
            }
            if nonce <= neuron.nonce {
                return Err(Refusal::StaleNonce);
            }
            // Stored as subtensor's `set_weights` stores them: the row max-upscaled to 65535.
            neuron.weights = columns.into_iter().zip(vec_u16_max_upscale_to_u16(&weights)).collect();
            neuron.nonce = nonce;
            neuron.last_update = slot;
            b.put(&key[..], neuron.encode());
            None
        }
    };
    b.commit().map_err(|_| Refusal::StorageFull)?;
    if let Some(done) = done {
        log!(Level::Info, "{done}");
    }
    Ok(())
}

fn memo(netuid: u16, uid: u16, slot: u32) -> [u8; MEMO_SIZE] {
    let mut m = [0u8; MEMO_SIZE];
    m[..6].copy_from_slice(b"subnet");
    m[6..8].copy_from_slice(&netuid.to_le_bytes());
    m[8..10].copy_from_slice(&uid.to_le_bytes());
    m[10..14].copy_from_slice(&slot.to_le_bytes());
    m
}

/// Pays `amount` to `payee` by transfer with the gas its memos need; `false` when it cannot.
fn pay(payee: Option<u32>, amount: u64, memo: &[u8; MEMO_SIZE]) -> bool {
    let Some(dest) = payee else { return false };
    let Some(account) = info(Service::Id(dest)) else { return false };
    transfer(dest, amount, account.min_memo_gas, memo).is_ok()
}

/// Runs subnet `netuid`'s epoch at `slot`, stores its results and pays them out.
fn run_epoch(netuid: u16, mut subnet: SubnetRecord, slot: u32) {
    let start = gas();
    let n = subnet.neurons;
    let mut records: Vec<NeuronRecord> = Vec::with_capacity(n.into());
    for uid in 0..n {
        match get(&neuron_key(netuid, uid), NeuronRecord::decode) {
            Some(r) => records.push(r),
            None => {
                log!(Level::Error, "subnet {netuid}: neuron {uid} is missing; epoch skipped");
                return;
            }
        }
    }
    let owner_uid = get(&hotkey_key(netuid, &subnet.owner), |v| Some(u16::from_le_bytes(v.try_into().ok()?)));
    let input = EpochInput {
        params: subnet.params.clone(),
        current_block: slot.into(),
        tempo: subnet.tempo.into(),
        last_epoch_block: subnet.last_epoch.into(),
        owner_uid,
        neurons: records
            .iter()
            .map(|r| Neuron {
                stake: r.stake,
                last_update: r.last_update.into(),
                block_at_registration: r.registered.into(),
                validator_permit: r.permit,
                weights: r.weights.clone(),
                bonds: r.bonds.clone(),
                earliest_commit_block: None,
            })
            .collect(),
        emission: subnet.emission,
    };
    let computed = gas();
    let output = match orrery_yuma::epoch(&input) {
        Ok(output) => output,
        Err(e) => {
            log!(Level::Error, "subnet {netuid}: epoch refused: {e}");
            return;
        }
    };
    let after_epoch = gas();
    drop(input);
    // The records' sizes do not depend on what the payments do (paid and owed are fixed-width):
    // the storage is checked with the records as if nothing were paid, against the balance left
    // after paying everything payable, before any payment goes out. An epoch the balance cannot
    // store is not run: nothing is paid or written, and the next accumulation tries again.
    let outputs: Vec<(NeuronRecord, orrery_yuma::NeuronOutput)> = records
        .into_iter()
        .zip(output.neurons)
        .map(|(mut record, out)| {
            record.bonds = out.bonds.clone();
            record.permit = out.validator_permit;
            (record, out)
        })
        .collect();
    let output_record = |out: &orrery_yuma::NeuronOutput, totals: &OutputRecord| OutputRecord {
        slot,
        active: out.active,
        stake_weight: out.stake_weight,
        consensus: out.consensus,
        incentive: out.incentive,
        dividend: out.dividend,
        validator_trust: out.validator_trust,
        server_emission: out.server_emission,
        validator_emission: out.validator_emission,
        emission: out.emission,
        paid: totals.paid,
        owed: totals.owed,
    };
    let totals: Vec<OutputRecord> =
        (0..n).map(|uid| get(&output_key(netuid, uid), OutputRecord::decode).unwrap_or_default()).collect();
    subnet.last_epoch = slot;
    subnet.epochs += 1;
    let mut b = Batch::new();
    for (uid, ((record, out), t)) in outputs.iter().zip(&totals).enumerate() {
        let uid = uid as u16;
        b.put(neuron_key(netuid, uid), record.encode());
        b.put(output_key(netuid, uid), output_record(out, t).encode());
    }
    b.put(subnet_key(netuid), subnet.encode());
    let payable: u64 = outputs.iter().filter(|(r, _)| r.payee.is_some()).map(|(_, o)| o.emission).sum();
    if b.fits(payable).is_err() {
        log!(Level::Warn, "subnet {netuid}: epoch at slot {slot} not run: the balance cannot pay for its storage");
        return;
    }
    let (mut paid, mut owed) = (0u64, 0u64);
    for (uid, ((record, out), mut t)) in outputs.iter().zip(totals).enumerate() {
        if out.emission == 0 {
            continue;
        }
        if pay(record.payee, out.emission, &memo(netuid, uid as u16, slot)) {
            t.paid = t.paid.saturating_add(out.emission);
            paid = paid.saturating_add(out.emission);
        } else {
            t.owed = t.owed.saturating_add(out.emission);
            owed = owed.saturating_add(out.emission);
        }
        // The same key and the same length: the storage checked above does not change.
        b.put(output_key(netuid, uid as u16), output_record(out, &t).encode());
    }
    b.commit().expect("the epoch's storage was checked before paying");
    log!(
        Level::Info,
        "subnet {netuid} epoch {} at slot {slot}: {n} neurons, paid {paid}, owed {owed}; gas: reading {}, epoch {}, storing and paying {}",
        subnet.epochs,
        start - computed,
        computed - after_epoch,
        after_epoch - gas()
    );
}

fn accumulate(args: AccumulateArgs) -> Option<[u8; 32]> {
    for input in inputs(args.input_count) {
        // Transfers in (payments to the service) only raise its balance, which the host has done.
        let Input::Operand(operand) = input else { continue };
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
    for netuid in 0..subnet_count() {
        if let Some(subnet) = get(&subnet_key(netuid), SubnetRecord::decode) {
            if subnet.epoch_due(args.slot) {
                run_epoch(netuid, subnet, args.slot);
            }
        }
    }
    None
}

orrery_service_sdk::refine!(refine);
orrery_service_sdk::accumulate!(accumulate);
