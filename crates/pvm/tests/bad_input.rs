//! Untrusted input: arbitrary program and service blobs never panic or hang the host, loops stop at
//! the gas limit, and huge memory requests fail cleanly.

use std::sync::Arc;

use orrery_pvm::{invoke, Exit, InvocationResult, Machine, NoHost, Program, StandardProgram};
use proptest::prelude::*;

/// Runs whatever decodes, with a little gas and some memory, to its first non-host exit.
fn run_anything(blob: &[u8], pc: u32) {
    if let Ok(program) = Program::from_blob(blob) {
        let mut machine = Machine::new(Arc::new(program), pc, 10_000);
        machine.memory.set_access(0x10000, 0x4000, orrery_pvm::Access::ReadWrite);
        for _ in 0..8 {
            match machine.run() {
                Exit::HostCall(_) | Exit::PageFault(_) => continue,
                _ => break,
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_program_blobs_never_panic(blob in prop::collection::vec(any::<u8>(), 0..512), pc in 0u32..600) {
        run_anything(&blob, pc);
    }

    /// Blobs that decode: a valid header in front of arbitrary code and bitmask.
    #[test]
    fn arbitrary_code_never_panics(code in prop::collection::vec(any::<u8>(), 0..300), seed in any::<u64>(), pc in 0u32..300) {
        let mut bitmask = vec![0u8; code.len().div_ceil(8)];
        let mut x = seed | 1;
        for byte in bitmask.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *byte = x as u8;
        }
        if code.len() % 8 != 0 {
            *bitmask.last_mut().unwrap() &= (1 << (code.len() % 8)) - 1;
        }
        let jump_table = vec![(seed % 300) as u32, (seed >> 32) as u32 % 300];
        let program = Program::from_parts(code, bitmask, jump_table).unwrap();
        let mut machine = Machine::new(Arc::new(program), pc, 10_000);
        machine.set_reg(0, 0xffff_0000);
        for _ in 0..8 {
            if !matches!(machine.run(), Exit::HostCall(_) | Exit::PageFault(_)) {
                break;
            }
        }
    }

    #[test]
    fn arbitrary_service_blobs_never_panic(blob in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = StandardProgram::from_service_code(&blob);
        let (used, _) = invoke(&blob, 0, 10_000, &[1, 2, 3], &mut NoHost);
        prop_assert!(used <= 10_000);
    }
}

fn blob(code: &[u8], bitmask: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, code.len() as u8];
    out.extend_from_slice(code);
    out.extend_from_slice(bitmask);
    out
}

#[test]
fn an_infinite_loop_stops_at_the_gas_limit() {
    // 0: fallthrough; 1: jump -1 (back to 0). Blocks of one instruction each, so every gas unit is
    // one instruction, and the loop runs until the next block cannot be paid for.
    let program = Program::from_blob(&blob(&[1, 40, 0xff], &[0b011])).unwrap();
    let mut machine = Machine::new(Arc::new(program), 0, 1001);
    assert_eq!(machine.run(), Exit::OutOfGas);
    assert_eq!(machine.gas(), 0);
    // 1001 blocks were paid for: 501 fallthroughs and 500 jumps, so the next is a jump at pc 1.
    assert_eq!(machine.pc(), 1);
    // More gas resumes the loop where it stopped.
    machine.set_gas(2);
    assert_eq!(machine.run(), Exit::OutOfGas);
    assert_eq!((machine.pc(), machine.gas()), (1, 0));
}

#[test]
fn a_program_without_instructions_panics_after_one_gas() {
    let program = Program::from_blob(&blob(&[], &[])).unwrap();
    let mut machine = Machine::new(Arc::new(program), 0, 5);
    assert_eq!(machine.run(), Exit::Panic);
    assert_eq!((machine.pc(), machine.gas()), (0, 4));
    let program = Program::from_blob(&blob(&[], &[])).unwrap();
    let mut machine = Machine::new(Arc::new(program), 0, 0);
    assert_eq!(machine.run(), Exit::OutOfGas);
}

/// A standard program: header, no data, code `c`.
fn standard(stack: u32, heap_pages: u16, code: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&0u32.to_le_bytes()[..3]);
    p.extend_from_slice(&0u32.to_le_bytes()[..3]);
    p.extend_from_slice(&heap_pages.to_le_bytes());
    p.extend_from_slice(&stack.to_le_bytes()[..3]);
    p.extend_from_slice(&(code.len() as u32).to_le_bytes());
    p.extend_from_slice(code);
    p
}

#[test]
fn huge_layouts_are_rejected_without_allocating() {
    // 2^24 − 1 bytes of stack and 65535 heap pages (256 MiB) fit in 32 bits...
    let fits = standard(0xff_ffff, 0xffff, &blob(&[0], &[1]));
    let program = StandardProgram::from_blob(&fits).unwrap();
    // ...and cost nothing until touched.
    let machine = program.instantiate(&[], 0, 10).unwrap();
    assert!(machine.memory.is_writable(program.layout().heap_base, 0xffff * 4096));
    // Declared lengths beyond the blob are errors, not allocations.
    let mut lying = standard(0, 0, &[]);
    lying[0..3].copy_from_slice(&[0xff, 0xff, 0xff]);
    assert!(StandardProgram::from_blob(&lying).is_err());
    // Arguments over 2^24 bytes are refused.
    assert!(program.instantiate(&vec![0; (1 << 24) + 1], 0, 10).is_err());
}

#[test]
fn sbrk_grows_the_heap_and_refuses_huge_requests() {
    // sbrk r7, r8 (size in r8); then jump_ind r0 (halt).
    let code = blob(&[101, 0x87, 50, 0], &[0b0101]);
    let program = StandardProgram::from_blob(&standard(4096, 1, &code)).unwrap();
    let layout = program.layout();

    // A request of 10 bytes: the break was the end of the one heap page; that address comes back
    // and the next page becomes writable.
    let mut machine = program.instantiate(&[], 0, 100).unwrap();
    machine.set_reg(8, 10);
    assert_eq!(machine.run(), Exit::Halt);
    assert_eq!(machine.reg(7), u64::from(layout.heap_end));
    assert!(machine.memory.is_writable(layout.heap_end, 4096));
    assert!(!machine.memory.is_readable(layout.heap_end + 4096, 1));

    // A request for more than the address space: 0, nothing mapped.
    for size in [1u64 << 40, u64::from(layout.stack_start)] {
        let mut machine = program.instantiate(&[], 0, 100).unwrap();
        machine.set_reg(8, size);
        assert_eq!(machine.run(), Exit::Halt);
        assert_eq!(machine.reg(7), 0);
        assert!(!machine.memory.is_readable(layout.heap_end, 1));
    }

    // Through Ψ_M the run halts with ω8 = |a| = 0: an empty output.
    let p = standard(4096, 1, &code);
    let (_, result) = invoke(&p, 0, 100, &[], &mut NoHost);
    assert_eq!(result, InvocationResult::Output(Vec::new()));
}
