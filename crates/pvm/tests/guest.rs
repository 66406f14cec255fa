//! The `compute` guest (guests/compute, rebuilt by guests/build.sh) run through Ψ_M: its output must
//! be BLAKE2b-256 of the xorshift64 byte stream, as computed by the independent `blake2` crate.

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use orrery_pvm::{invoke, InvocationResult, NoHost, StandardProgram};

const GUEST: &[u8] = include_bytes!("../../../guests/compute.jam");

/// The stream the guest hashes, generated here independently of the guest's source: xorshift64 with
/// shifts 13, 7, 17 from 0x0123456789abcdef, each output little-endian.
fn stream(blocks: u32) -> Vec<u8> {
    let mut x: u64 = 0x0123_4567_89ab_cdef;
    let mut out = Vec::with_capacity(blocks as usize * 128);
    for _ in 0..blocks * 16 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

fn expected(blocks: u32) -> Vec<u8> {
    Blake2b::<U32>::digest(stream(blocks)).to_vec()
}

fn run(args: &[u8]) -> (u64, InvocationResult) {
    let (metadata, program) = StandardProgram::from_service_code(GUEST).unwrap();
    assert_eq!(metadata, b"orrery-guest-compute");
    let mut host = NoHost;
    let (used, result) = orrery_pvm::invoke_program(&program, 0, 1 << 40, args, &mut host);
    // Ψ_M over the raw blob (without the metadata prefix) agrees.
    let (_, tail) = GUEST.split_at(1 + metadata.len());
    assert_eq!(invoke(tail, 0, 1 << 40, args, &mut NoHost), (used, result.clone()));
    (used, result)
}

#[test]
fn small_inputs_hash_correctly() {
    for blocks in [1u32, 2, 3, 17] {
        let (_, result) = run(&blocks.to_le_bytes());
        assert_eq!(result, InvocationResult::Output(expected(blocks)), "{blocks} blocks");
    }
}

#[test]
fn one_mebibyte_hashes_correctly() {
    // Arguments shorter than four bytes select the default of 8192 blocks (1 MiB).
    let (used, result) = run(&[]);
    assert_eq!(result, InvocationResult::Output(expected(8192)));
    assert!(used > 20_000_000, "only {used} instructions for 1 MiB");
}

#[test]
fn running_out_of_gas_uses_all_of_it() {
    let (metadata, program) = StandardProgram::from_service_code(GUEST).unwrap();
    assert!(!metadata.is_empty());
    let (used, result) = orrery_pvm::invoke_program(&program, 0, 10_000, &[], &mut NoHost);
    assert_eq!((used, result), (10_000, InvocationResult::OutOfGas));
}
