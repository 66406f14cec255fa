//! `avs`: the smallest service that acts on another by transfers, as an AVS acts on `restaking`
//! (issue 19). Its work item is a list of orders, `E1(n) ‖ n × (E4(dest) ‖ E8(amount) ‖ E8(gas) ‖
//! memo₁₂₈)`; accumulate sends each as a transfer from this service, so the receiver sees this
//! service's id as the source. docs/SERVICES.md's restaking walk-through uses it to create an
//! operator set, deposit for a staker and slash, through `orrery service run`.

#![no_std]

extern crate alloc;

use alloc::vec::Vec;

use orrery_service_sdk::accumulate::{inputs, transfer, Input, WorkResult, MEMO_SIZE};
use orrery_service_sdk::entry::{AccumulateArgs, RefineArgs};
use orrery_service_sdk::general::Level;
use orrery_service_sdk::log;

const ORDER: usize = 4 + 8 + 8 + MEMO_SIZE;

/// Refine checks the payload's shape and passes it on.
fn refine(args: RefineArgs<'_>) -> Vec<u8> {
    let p = args.payload;
    if p.is_empty() || p.len() != 1 + usize::from(p[0]) * ORDER {
        panic!("the payload is E1(n) ++ n orders of {ORDER} octets, not {} octets", p.len());
    }
    p.to_vec()
}

fn accumulate(args: AccumulateArgs) -> Option<[u8; 32]> {
    for input in inputs(args.input_count) {
        let Input::Operand(operand) = input else { continue };
        let WorkResult::Ok(orders) = operand.result else { continue };
        for order in orders.get(1..).unwrap_or_default().chunks_exact(ORDER) {
            let (dest, rest) = order.split_at(4);
            let (amount, rest) = rest.split_at(8);
            let (gas, memo) = rest.split_at(8);
            let dest = u32::from_le_bytes(dest.try_into().expect("4 octets"));
            let amount = u64::from_le_bytes(amount.try_into().expect("8 octets"));
            let gas = u64::from_le_bytes(gas.try_into().expect("8 octets"));
            let memo: &[u8; MEMO_SIZE] = memo.try_into().expect("128 octets");
            if let Err(e) = transfer(dest, amount, gas, memo) {
                log!(Level::Warn, "transfer of {amount} to {dest} failed: {e:?}");
            }
        }
    }
    None
}

orrery_service_sdk::refine!(refine);
orrery_service_sdk::accumulate!(accumulate);
