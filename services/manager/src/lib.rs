//! The manager: the service that deploys, funds and upgrades services from a work item, so that a
//! running chain can take new services without a new genesis, and that drives the privileged and
//! preimage host calls a conformance fuzzer needs (validator sets, preimage requests, ejection). A
//! dev chain's genesis holds it as service 0 with every privilege (`orrery chain-spec dev`).
//!
//! The payload is one command (`H` a 32-octet hash, `E4`/`E8` little-endian):
//!
//! | command | payload |
//! |---|---|
//! | deploy | `[0] ‖ E8(min_item_gas) ‖ E8(min_memo_gas) ‖ E8(endowment) ‖ code` |
//! | fund | `[1] ‖ E4(service) ‖ E8(amount) ‖ E8(gas)` |
//! | upgrade the manager | `[2] ‖ E8(min_item_gas) ‖ E8(min_memo_gas) ‖ code` |
//! | designate | `[3] ‖ H` |
//! | solicit | `[4] ‖ H ‖ E4(len)` |
//! | forget | `[5] ‖ H ‖ E4(len)` |
//! | retire | `[6] ‖ E4(ejector) ‖ E4(code_len)` |
//! | eject | `[7] ‖ E4(service) ‖ H` |
//! | deploy by hash | `[8] ‖ E8(min_item_gas) ‖ E8(min_memo_gas) ‖ E8(endowment) ‖ H ‖ E4(code_len)` |
//!
//! Refine checks the command's shape and, for code, that it is a service blob's size and puts its
//! BLAKE2b-256 hash in front, so accumulate does not hash; the other commands it checks for their
//! exact length and passes through unchanged. A malformed command makes refine panic and nothing
//! is accumulated.
//!
//! Accumulate, for a deploy: `new` (GP 0.7.2 §B.7, host call 18) creates the service with the code's
//! hash and length, its threshold balance taken from the manager's; `provide` (26) hands it the code
//! the new account requests, so the code is on chain once this accumulation is integrated (§12.4),
//! with no preimage extrinsic; then `transfer` (20) sends the endowment. The new id is stored under
//! `deployed:E4(id)` (the code hash) and `last` (`E4(id)`), and logged. A deploy by hash is the
//! same without `provide`: for code larger than a work result may carry (`W_R`, 48 KiB), the new
//! account requests its code `(H, code_len)` as `new` makes every account do, and whoever has the
//! code submits it as a preimage (JIP-2 `submitPreimage`, JAMNP-S CE 142/143), which a block's
//! preimage extrinsic brings on chain (§12.4); until then the service exists and cannot run. A
//! fund is a `transfer`. An upgrade solicits the code for the manager itself, provides it, and
//! `upgrade`s (19) to it.
//!
//! Designate reads the manager's own preimage of `H` (`lookup`, §B.5: solicited with a solicit
//! command, then provided by a block's preimage extrinsic) and, when it is exactly `V` × 336 octets
//! (`V` from `fetch`'s constants), makes it the next validator keys `ι` with `designate` (16; the
//! manager must be the delegator). Solicit and forget are host calls 23 and 24 on the manager's own
//! requests. Retire is for a copy of the manager that the manager deployed: the copy forgets its
//! own code (hash from `info`, length `code_len`: the request `[x]` becomes `[x, t]`) and
//! `upgrade`s its code hash to `E32(ejector)` with its gas minimums unchanged, so it runs no more
//! and `ejector` may `eject` (21) it once the forget is more than `D` slots old; eject hands the
//! retired service's hash `H` (its old code's) to that call, and its balance comes to the manager.
//! Every host call that fails is logged at Warn with the command's name, and the command then does
//! nothing more (the paper's `upgrade` cannot fail, so retire's forget is never left half done).
//!
//! Not here: who may send commands (a dev chain lets anyone whose package its authorizer accepts),
//! reserved ids below 2^16 (the manager, as the dev chain's registrar, could give them), upgrading
//! the manager to code larger than a work result, and upgrading other services (the paper lets a
//! service upgrade only itself).

#![no_std]

extern crate alloc;

use alloc::vec::Vec;

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use orrery_service_sdk::accumulate::{
    designate, eject, forget, inputs, new_service, provide, solicit, transfer, upgrade, Input, WorkResult,
    MEMO_SIZE, VALIDATOR_KEYS_SIZE,
};
use orrery_service_sdk::entry::{AccumulateArgs, RefineArgs};
use orrery_service_sdk::general::{info, lookup, validator_count, write, HostError, Level, Service};

const DEPLOY: u8 = 0;
const FUND: u8 = 1;
const UPGRADE: u8 = 2;
const DESIGNATE: u8 = 3;
const SOLICIT: u8 = 4;
const FORGET: u8 = 5;
const RETIRE: u8 = 6;
const EJECT: u8 = 7;
const DEPLOY_BY_HASH: u8 = 8;

/// What follows the command octet, for the commands of a fixed length.
const fn fixed_len(command: u8) -> Option<usize> {
    match command {
        FUND => Some(20),
        DESIGNATE => Some(32),
        SOLICIT | FORGET | EJECT => Some(36),
        RETIRE => Some(8),
        DEPLOY_BY_HASH => Some(24 + 32 + 4),
        _ => None,
    }
}

const COMMANDS: &str =
    "0 deploy, 1 fund, 2 upgrade, 3 designate, 4 solicit, 5 forget, 6 retire, 7 eject, 8 deploy by hash";

/// Any public id (GP 0.7.2: ids below `S = 2^16` are the registrar's to give).
const ANY_ID: u64 = u64::MAX;

/// The largest code a command may carry: a work result's whole budget (`W_R`, GP 0.7.2 eq. 11.8).
const MAX_CODE: usize = 48 * 1024 - 64;

/// `W_C`, the largest service code (GP 0.7.2 eq. I.4.4): what a deploy by hash may ask for.
const MAX_SERVICE_CODE: u32 = 4_000_000;

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight octets"))
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four octets"))
}

/// `[command] ‖ H(code) ‖ fields ‖ code` from `[command] ‖ fields ‖ code`.
fn with_code_hash(command: u8, fields: &[u8], code: &[u8]) -> Vec<u8> {
    if code.is_empty() || code.len() > MAX_CODE {
        panic!("the code must be 1 to {MAX_CODE} octets, not {}", code.len());
    }
    let mut out = Vec::with_capacity(1 + 32 + fields.len() + code.len());
    out.push(command);
    out.extend_from_slice(&Blake2b::<U32>::digest(code));
    out.extend_from_slice(fields);
    out.extend_from_slice(code);
    out
}

fn refine(args: RefineArgs<'_>) -> Vec<u8> {
    let Some((&command, rest)) = args.payload.split_first() else {
        panic!("an empty payload: the first octet names the command ({COMMANDS})");
    };
    match (command, fixed_len(command)) {
        (DEPLOY, _) if rest.len() > 24 => with_code_hash(DEPLOY, &rest[..24], &rest[24..]),
        (UPGRADE, _) if rest.len() > 16 => with_code_hash(UPGRADE, &rest[..16], &rest[16..]),
        (DEPLOY | UPGRADE, _) => panic!("command {command}: the payload is too short"),
        (DEPLOY_BY_HASH, _) if rest.len() == 60 && !(1..=MAX_SERVICE_CODE).contains(&u32_at(rest, 56)) => {
            panic!("deploy by hash: the code must be 1 to {MAX_SERVICE_CODE} octets, not {}", u32_at(rest, 56))
        }
        (_, Some(len)) if rest.len() == len => args.payload.to_vec(),
        (_, Some(len)) => panic!("command {command}: {} octets after the command, not {len}", rest.len()),
        (other, None) => panic!("unknown command {other} ({COMMANDS})"),
    }
}

fn memo(text: &[u8]) -> [u8; MEMO_SIZE] {
    let mut memo = [0; MEMO_SIZE];
    memo[..text.len()].copy_from_slice(text);
    memo
}

/// Creates a service running the code `hash` of `code_len` octets (`fields`: gas minimums and
/// endowment), gives it `code` when the command carried it, endows it and records it.
fn deploy(hash: &[u8; 32], fields: &[u8], code_len: u32, code: Option<&[u8]>) {
    let (item_gas, memo_gas, endowment) = (u64_at(fields, 0), u64_at(fields, 8), u64_at(fields, 16));
    // A desired id at or above `S` takes the public path even when the manager is the registrar
    // (GP 0.7.2 §B.7 `new`): the next free id, not a reserved one.
    let id = match new_service(hash, code_len.into(), item_gas, memo_gas, 0, ANY_ID) {
        Ok(id) => id,
        Err(e) => return orrery_service_sdk::log!(Level::Warn, "deploy: new failed: {e:?}"),
    };
    if let Some(code) = code {
        if let Err(e) = provide(Service::Id(id), code) {
            return orrery_service_sdk::log!(
                Level::Warn,
                "deploy: service {id} created, providing its code failed: {e:?}"
            );
        }
    }
    if endowment > 0 {
        if let Err(e) = transfer(id, endowment, memo_gas, &memo(b"endowment")) {
            orrery_service_sdk::log!(Level::Warn, "deploy: endowing service {id} failed: {e:?}");
        }
    }
    let mut key = Vec::from(*b"deployed:");
    key.extend_from_slice(&id.to_le_bytes());
    write(&key, hash).expect("the balance covers the storage");
    write(b"last", &id.to_le_bytes()).expect("the balance covers the storage");
    match code {
        Some(_) => orrery_service_sdk::log!(Level::Info, "deployed service {id}, {code_len} octets of code"),
        None => orrery_service_sdk::log!(
            Level::Info,
            "deployed service {id}, its code ({code_len} octets) requested as a preimage"
        ),
    }
}

fn fund(fields: &[u8]) {
    let (service, amount, gas) = (u32_at(fields, 0), u64_at(fields, 4), u64_at(fields, 12));
    match transfer(service, amount, gas, &memo(b"fund")) {
        Ok(()) => orrery_service_sdk::log!(Level::Info, "funded service {service} with {amount}"),
        Err(e) => orrery_service_sdk::log!(Level::Warn, "funding service {service} failed: {e:?}"),
    }
}

fn upgrade_self(hash: &[u8; 32], fields: &[u8], code: &[u8]) {
    let (item_gas, memo_gas) = (u64_at(fields, 0), u64_at(fields, 8));
    let done = solicit(hash, code.len() as u64)
        .and_then(|()| provide(Service::Me, code))
        .and_then(|()| upgrade(hash, item_gas, memo_gas));
    match done {
        Ok(()) => {
            orrery_service_sdk::log!(Level::Info, "upgraded the manager, {} octets of code", code.len())
        }
        Err(e) => orrery_service_sdk::log!(Level::Warn, "upgrading the manager failed: {e:?}"),
    }
}

fn hash_at(bytes: &[u8], at: usize) -> [u8; 32] {
    bytes[at..at + 32].try_into().expect("32 octets")
}

fn designate_keys(hash: &[u8; 32]) {
    let Some(keys) = lookup(Service::Me, hash) else {
        return orrery_service_sdk::log!(
            Level::Warn,
            "designate: the manager holds no preimage of that hash"
        );
    };
    let Some(count) = validator_count() else {
        return orrery_service_sdk::log!(Level::Warn, "designate: fetching the constants failed");
    };
    let expected = usize::from(count) * VALIDATOR_KEYS_SIZE;
    if keys.len() != expected {
        return orrery_service_sdk::log!(
            Level::Warn,
            "designate: the preimage is {} octets, not V x 336 = {expected}",
            keys.len()
        );
    }
    match designate(&keys) {
        Ok(()) => orrery_service_sdk::log!(Level::Info, "designate: the next {count} validators designated"),
        Err(e) => orrery_service_sdk::log!(Level::Warn, "designate: designate failed: {e:?}"),
    }
}

/// Solicit or forget (`call`) the manager's own request for `H` of `E4(len)` octets.
fn request(name: &str, call: fn(&[u8; 32], u64) -> Result<(), HostError>, fields: &[u8]) {
    let (hash, len) = (hash_at(fields, 0), u32_at(fields, 32));
    match call(&hash, len.into()) {
        Ok(()) => orrery_service_sdk::log!(Level::Info, "{name}: done, {len} octets"),
        Err(e) => orrery_service_sdk::log!(Level::Warn, "{name}: {name} failed: {e:?}"),
    }
}

fn retire(fields: &[u8]) {
    let (ejector, code_len) = (u32_at(fields, 0), u32_at(fields, 4));
    let Some(me) = info(Service::Me) else {
        return orrery_service_sdk::log!(Level::Warn, "retire: info failed");
    };
    if let Err(e) = forget(&me.code_hash, code_len.into()) {
        return orrery_service_sdk::log!(Level::Warn, "retire: forgetting the code failed: {e:?}");
    }
    // `E32(ejector)`: the only code hash `eject` accepts from `ejector` (GP 0.7.2 §B.7).
    let mut ejector_hash = [0u8; 32];
    ejector_hash[..4].copy_from_slice(&ejector.to_le_bytes());
    match upgrade(&ejector_hash, me.min_item_gas, me.min_memo_gas) {
        Ok(()) => orrery_service_sdk::log!(Level::Info, "retire: retired, ejectable by {ejector}"),
        Err(e) => orrery_service_sdk::log!(Level::Warn, "retire: upgrade failed: {e:?}"),
    }
}

fn eject_service(fields: &[u8]) {
    let (service, hash) = (u32_at(fields, 0), hash_at(fields, 4));
    match eject(service, &hash) {
        Ok(()) => orrery_service_sdk::log!(Level::Info, "eject: ejected service {service}"),
        Err(e) => orrery_service_sdk::log!(Level::Warn, "eject: ejecting service {service} failed: {e:?}"),
    }
}

fn accumulate(args: AccumulateArgs) -> Option<[u8; 32]> {
    for input in inputs(args.input_count) {
        let Input::Operand(operand) = input else { continue };
        let WorkResult::Ok(command) = operand.result else { continue };
        // Refine made these shapes; anything else is not ours to act on.
        match command.split_first() {
            Some((&DEPLOY, rest)) if rest.len() > 56 => {
                let hash: [u8; 32] = rest[..32].try_into().expect("32 octets");
                // Refine bounds the code by `MAX_CODE`, far below 2^32.
                let code = &rest[56..];
                deploy(&hash, &rest[32..56], code.len() as u32, Some(code));
            }
            Some((&UPGRADE, rest)) if rest.len() > 48 => {
                let hash: [u8; 32] = rest[..32].try_into().expect("32 octets");
                upgrade_self(&hash, &rest[32..48], &rest[48..]);
            }
            Some((&command, rest)) if fixed_len(command) == Some(rest.len()) => match command {
                FUND => fund(rest),
                DESIGNATE => designate_keys(&hash_at(rest, 0)),
                SOLICIT => request("solicit", solicit, rest),
                FORGET => request("forget", forget, rest),
                RETIRE => retire(rest),
                DEPLOY_BY_HASH => deploy(&hash_at(rest, 24), &rest[..24], u32_at(rest, 56), None),
                // EJECT: `fixed_len` knows no other command.
                _ => eject_service(rest),
            },
            _ => orrery_service_sdk::log!(Level::Warn, "a result that is no command: ignored"),
        }
    }
    None
}

orrery_service_sdk::refine!(refine);
orrery_service_sdk::accumulate!(accumulate);
