//! A key-value store service. The payload is text, one command a line: `key=value` sets `key`,
//! `key=` removes it. Refine checks the commands and turns them into a compact list; accumulate
//! applies the list to the service's storage. A malformed line makes refine panic, so that nothing
//! is accumulated.

#![no_std]

extern crate alloc;

use alloc::vec::Vec;

use orrery_service_sdk::accumulate::{inputs, Input, WorkResult};
use orrery_service_sdk::entry::{AccumulateArgs, RefineArgs};
use orrery_service_sdk::general::{remove, write, Level};

/// Refine's output: for each command, `[1] ‖ E2(|k|) ‖ k ‖ E4(|v|) ‖ v` to set or `[0] ‖ E2(|k|) ‖ k`
/// to remove.
fn refine(args: RefineArgs<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    for (number, line) in args.payload.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let Some(eq) = line.iter().position(|&b| b == b'=') else {
            panic!("line {}: no `=`", number + 1);
        };
        let (key, value) = (&line[..eq], &line[eq + 1..]);
        if key.is_empty() || key.len() > u16::MAX as usize {
            panic!("line {}: the key must be 1 to 65535 octets", number + 1);
        }
        out.push(u8::from(!value.is_empty()));
        out.extend_from_slice(&(key.len() as u16).to_le_bytes());
        out.extend_from_slice(key);
        if !value.is_empty() {
            out.extend_from_slice(&(value.len() as u32).to_le_bytes());
            out.extend_from_slice(value);
        }
    }
    out
}

fn take<'a>(data: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if data.len() < n {
        return None;
    }
    let (head, rest) = data.split_at(n);
    *data = rest;
    Some(head)
}

fn apply(mut ops: &[u8]) -> Option<()> {
    while let Some(&tag) = ops.first() {
        ops = &ops[1..];
        let key_len = u16::from_le_bytes(take(&mut ops, 2)?.try_into().ok()?) as usize;
        let key = take(&mut ops, key_len)?;
        if tag == 1 {
            let len = u32::from_le_bytes(take(&mut ops, 4)?.try_into().ok()?) as usize;
            let value = take(&mut ops, len)?;
            write(key, value).expect("the balance covers the storage");
        } else {
            remove(key).expect("removing never fails for lack of balance");
        }
    }
    Some(())
}

fn accumulate(args: AccumulateArgs) -> Option<[u8; 32]> {
    for input in inputs(args.input_count) {
        if let Input::Operand(operand) = input {
            if let WorkResult::Ok(ops) = operand.result {
                if apply(&ops).is_none() {
                    orrery_service_sdk::log!(Level::Warn, "a malformed command list");
                }
            }
        }
    }
    None
}

orrery_service_sdk::refine!(refine);
orrery_service_sdk::accumulate!(accumulate);
