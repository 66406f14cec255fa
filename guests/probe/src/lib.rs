//! The `probe` service. Refine reads its mode from the payload's first octet:
//!
//! - 0, then a 32-octet hash `h`: calls every refine host call and returns a transcript, one
//!   little-endian u64 per answer, in the order of [`exercise`]. The tests in
//!   `crates/invocation/tests/refine.rs` work each value out by hand.
//! - 1: loops for ever. 2: panics. 3, then `E4(n)`: returns `n` octets of 0x5a. 4, then one octet
//!   `k`: exports `k` segments and returns "exported". 5: reads an unmapped address (a page
//!   fault, which ends the invocation as a panic).
//!
//! Accumulate stores each operand's output under its work package's hash.

#![no_std]

extern crate alloc;

use alloc::vec::Vec;

use orrery_service_sdk::accumulate::{inputs, Input, WorkResult};
use orrery_service_sdk::entry::{AccumulateArgs, RefineArgs};
use orrery_service_sdk::general::{fetch, gas, log, write, Fetch, HostError, Level, Service};
use orrery_service_sdk::refine::{export, historical_lookup, InnerExit, InnerMachine, InnerState, PageMode};

/// The inner program of the nested-machine scenario (GP 0.7.2 §A.5 encodings):
///
/// ```text
///  0: load_u32 r7, [0x20000]      56 07 00 00 02 00
///  6: add_imm_64 r7, r7, 1        149 0x77 01
///  9: store_u32 [0x20004], r7     61 07 04 00 02 00
/// 15: ecalli 42                   10 2a
/// 17: jump_ind r0, 0              50 00
/// ```
///
/// One basic block of five instructions.
const INNER: [u8; 3 + 19 + 3] = [
    0,
    0,
    19, // no jump table, code of 19 octets
    56,
    7,
    0x00,
    0x00,
    0x02,
    0x00, //
    149,
    0x77,
    1, //
    61,
    7,
    0x04,
    0x00,
    0x02,
    0x00, //
    10,
    42, //
    50,
    0, //
    // Opcodes at 0, 6, 9, 15 and 17.
    0b0100_0001,
    0b1000_0010,
    0b0000_0010,
];
/// `trap`.
const TRAP: [u8; 5] = [0, 0, 1, 0, 1];
/// `jump 0`: for ever.
const SPIN: [u8; 6] = [0, 0, 2, 40, 0, 1];
/// The halt address, for the inner machine's ω0.
const HALT: u64 = 0xffff_0000;

struct Transcript(Vec<u64>);

impl Transcript {
    fn value(&mut self, x: u64) {
        self.0.push(x);
    }

    fn result<T: Into<u64>>(&mut self, r: Result<T, HostError>) {
        self.0.push(match r {
            Ok(x) => x.into(),
            Err(e) => e.code(),
        });
    }

    fn unit(&mut self, r: Result<(), HostError>) {
        self.result(r.map(|()| 0u64));
    }

    fn exit(&mut self, r: Result<InnerExit, HostError>, state: &InnerState) {
        let (code, detail) = match r {
            Ok(InnerExit::Halt) => (0, 0),
            Ok(InnerExit::Panic) => (1, 0),
            Ok(InnerExit::Fault(a)) => (2, a),
            Ok(InnerExit::Host(h)) => (3, h),
            Ok(InnerExit::OutOfGas) => (4, 0),
            Err(e) => (e.code(), 0),
        };
        self.0.extend([code, detail, state.gas, state.regs[7]]);
    }

    /// A fetched value's length (or NONE) and its first eight octets as a number (or 0).
    fn fetched(&mut self, value: Option<Vec<u8>>) {
        match value {
            Some(v) => {
                let mut head = [0u8; 8];
                let n = v.len().min(8);
                head[..n].copy_from_slice(&v[..n]);
                self.0.extend([v.len() as u64, u64::from_le_bytes(head)]);
            }
            None => self.0.extend([HostError::None.code(), 0]),
        }
    }
}

fn exercise(args: &RefineArgs<'_>, hash: [u8; 32]) -> Vec<u8> {
    let mut t = Transcript(Vec::new());
    t.value(gas());

    // fetch: constants, entropy (H_0 in refine), trace, own imports and extrinsics, the payload,
    // an item summary, the package; accumulation inputs are not there.
    t.fetched(fetch(Fetch::Constants));
    t.fetched(fetch(Fetch::Entropy));
    t.fetched(fetch(Fetch::AuthTrace));
    let import = fetch(Fetch::MyImport(0));
    t.fetched(import.clone());
    t.fetched(fetch(Fetch::MyImport(1)));
    t.fetched(fetch(Fetch::MyExtrinsic(0)));
    t.fetched(fetch(Fetch::Payload(args.item_index)));
    t.fetched(fetch(Fetch::ItemSummary(args.item_index)));
    t.value(fetch(Fetch::Package).map_or(HostError::None.code(), |p| p.len() as u64));
    t.fetched(fetch(Fetch::Inputs));

    // historical_lookup: own preimage, a missing hash, a missing service.
    t.fetched(historical_lookup(Service::Me, &hash));
    t.fetched(historical_lookup(Service::Me, &[0; 32]));
    t.fetched(historical_lookup(Service::Id(0xdead), &hash));

    // export: the first import unchanged, then a short blob (zero-padded).
    t.result(export(import.as_deref().unwrap_or(&[])));
    t.result(export(b"probe export"));

    // An inner machine that faults, is given a page and poked, makes a host call, is peeked,
    // halts and is expunged.
    let mut m = match InnerMachine::new(&INNER, 0) {
        Ok(m) => m,
        Err(e) => panic!("machine: {e:?}"),
    };
    t.value(m.index());
    let mut state = InnerState { gas: 1000, regs: [0; 13] };
    state.regs[0] = HALT;
    let r = m.invoke(&mut state);
    t.exit(r, &state);
    t.unit(m.pages(0x20, 1, PageMode::ReadWriteZeroed));
    t.unit(m.poke(0x20000, &41u32.to_le_bytes()));
    let r = m.invoke(&mut state);
    t.exit(r, &state);
    let mut word = [0u8; 4];
    t.unit(m.peek(0x20004, &mut word));
    t.value(u32::from_le_bytes(word).into());
    let r = m.invoke(&mut state);
    t.exit(r, &state);

    // Their failures: no such page, bad modes and ranges, a read-only page, no such machine.
    t.unit(m.peek(0x30000, &mut word));
    t.unit(m.pages(15, 1, PageMode::ReadWriteZeroed));
    t.unit(m.pages(0x30, 1, PageMode::ReadOnly));
    t.unit(m.pages(0xf_ffff, 1, PageMode::ReadWriteZeroed));
    t.unit(m.pages(0x21, 1, PageMode::ReadOnlyZeroed));
    t.unit(m.poke(0x21000, &[1]));
    word = [9; 4];
    t.unit(m.peek(0x21000, &mut word));
    t.value(u32::from_le_bytes(word).into());
    // SAFETY: `pages` touches no memory of the caller; mode 5 is past the paper's modes.
    t.unit(HostError::check_ok(unsafe { orrery_service_sdk::raw::pages(m.index(), 0x20, 1, 5) }));
    // SAFETY: `peek` writes at most 4 octets into `word`.
    t.unit(HostError::check_ok(unsafe { orrery_service_sdk::raw::peek(99, word.as_mut_ptr() as u64, 0, 4) }));

    // A machine that panics, one that runs out of gas, and a program that does not decode.
    let mut trap = InnerMachine::new(&TRAP, 0).unwrap_or_else(|e| panic!("trap: {e:?}"));
    t.value(trap.index());
    let mut s = InnerState { gas: 100, regs: [0; 13] };
    let r = trap.invoke(&mut s);
    t.exit(r, &s);
    let mut spin = InnerMachine::new(&SPIN, 0).unwrap_or_else(|e| panic!("spin: {e:?}"));
    t.value(spin.index());
    let mut s = InnerState { gas: 10, regs: [0; 13] };
    let r = spin.invoke(&mut s);
    t.exit(r, &s);
    t.result(InnerMachine::new(&[0xff], 0).map(|m| m.index()));

    t.result(m.expunge());
    t.result(trap.expunge());
    t.result(spin.expunge());
    // SAFETY: `expunge` touches no memory of the caller.
    t.result(HostError::check(unsafe { orrery_service_sdk::raw::expunge(0) }));

    log(Level::Info, Some("probe"), "exercised every refine host call");
    t.value(gas());
    t.0.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn refine(args: RefineArgs<'_>) -> Vec<u8> {
    match args.payload {
        [0, rest @ ..] if rest.len() >= 32 => {
            let mut hash = [0u8; 32];
            hash.copy_from_slice(&rest[..32]);
            exercise(&args, hash)
        }
        [1, ..] => loop {
            core::hint::spin_loop();
        },
        [2, ..] => panic!("the probe was asked to panic"),
        [3, a, b, c, d, ..] => alloc::vec![0x5a; u32::from_le_bytes([*a, *b, *c, *d]) as usize],
        [4, k, ..] => {
            for i in 0..*k {
                if export(&[i; 8]).is_err() {
                    break;
                }
            }
            b"exported".to_vec()
        }
        // SAFETY: the read is meant to fault and never returns: nothing is mapped at 0xfefe0000
        // in the standard layout (the zone between the stack and the arguments).
        [5, ..] => alloc::vec![unsafe { core::ptr::read_volatile(0xfefe_0000usize as *const u8) }],
        _ => panic!("unknown probe mode"),
    }
}

fn accumulate(args: AccumulateArgs) -> Option<[u8; 32]> {
    for input in inputs(args.input_count) {
        if let Input::Operand(op) = input {
            if let WorkResult::Ok(output) = op.result {
                if !output.is_empty() {
                    let _ = write(&op.package_hash, &output);
                }
            }
        }
    }
    None
}

orrery_service_sdk::refine!(refine);
orrery_service_sdk::accumulate!(accumulate);
