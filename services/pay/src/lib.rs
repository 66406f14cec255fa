//! A service that pays: deployed twice, its two instances pay each other. The payload is
//! `E4(dest) ‖ E8(amount)` (little-endian): accumulate sends `amount` to service `dest` with the memo
//! `"ping"`. A service receiving a transfer of `a ≥ 2` sends `⌊a/2⌋` back to its sender with the
//! memo `"pong"`; the payments halve until one is below 2. An empty payload orders nothing (a run
//! with it sets an instance up). Each instance counts what it sent and
//! received in its storage (`sent`, `received`, as `E8`).

#![no_std]

extern crate alloc;

use alloc::vec::Vec;

use orrery_service_sdk::accumulate::{inputs, transfer, Input, WorkResult, MEMO_SIZE};
use orrery_service_sdk::entry::{AccumulateArgs, RefineArgs};
use orrery_service_sdk::general::{gas, read, write, Level, Service};

/// The gas the first payment gives its receiver's accumulation; each payment back gives half of
/// what is left, so that every receiver in the chain can still pay.
const PING_GAS: u64 = 5_000_000;

/// Refine checks the payload's shape and passes it on.
fn refine(args: RefineArgs<'_>) -> Vec<u8> {
    if !args.payload.is_empty() && args.payload.len() != 12 {
        panic!("the payload is E4(dest) ++ E8(amount): 12 octets, not {}", args.payload.len());
    }
    args.payload.to_vec()
}

fn memo(text: &[u8]) -> [u8; MEMO_SIZE] {
    let mut memo = [0; MEMO_SIZE];
    memo[..text.len()].copy_from_slice(text);
    memo
}

/// Adds `amount` to the `E8` counter under `key`.
fn count(key: &[u8], amount: u64) {
    let old = read(Service::Me, key).and_then(|v| v.try_into().ok()).map_or(0, u64::from_le_bytes);
    write(key, &old.saturating_add(amount).to_le_bytes()).expect("the balance covers the storage");
}

fn pay(dest: u32, amount: u64, gas: u64, note: &[u8]) {
    match transfer(dest, amount, gas, &memo(note)) {
        Ok(()) => count(b"sent", amount),
        Err(e) => orrery_service_sdk::log!(Level::Warn, "paying {amount} to {dest} failed: {e:?}"),
    }
}

fn accumulate(args: AccumulateArgs) -> Option<[u8; 32]> {
    for input in inputs(args.input_count) {
        match input {
            Input::Operand(operand) => {
                let WorkResult::Ok(order) = operand.result else { continue };
                let Some((dest, amount)) = order.split_first_chunk::<4>() else { continue };
                let (Ok(amount), dest) = (<[u8; 8]>::try_from(amount), u32::from_le_bytes(*dest)) else {
                    continue;
                };
                pay(dest, u64::from_le_bytes(amount), PING_GAS, b"ping");
            }
            Input::Transfer(t) => {
                count(b"received", t.amount);
                orrery_service_sdk::log!(
                    Level::Info,
                    "{} received {} from {}",
                    args.service,
                    t.amount,
                    t.source
                );
                if t.amount >= 2 {
                    pay(t.source, t.amount / 2, gas() / 2, b"pong");
                }
            }
        }
    }
    None
}

orrery_service_sdk::refine!(refine);
orrery_service_sdk::accumulate!(accumulate);
