//! The compiled-code cache: a program compiles once per hash, a hit is checked against the program
//! itself, and the bound in bytes evicts the least recently used first.
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use std::sync::Arc;

use orrery_pvm::Program;
use orrery_pvm_jit::CodeCache;

/// `n` fallthroughs and a trap: programs of different sizes and contents.
fn program(n: usize) -> Arc<Program> {
    let mut code = vec![1u8; n];
    code.push(0);
    let mut bitmask = vec![0u8; code.len().div_ceil(8)];
    for i in 0..code.len() {
        bitmask[i / 8] |= 1 << (i % 8);
    }
    Arc::new(Program::from_parts(code, bitmask, Vec::new()).expect("valid"))
}

#[test]
fn code_compiles_once_and_a_wrong_program_under_a_known_hash_compiles_its_own() {
    let cache = CodeCache::new(64 << 20);
    let a = program(10);
    let first = cache.get_or_compile(&[1; 32], &a).expect("compiles");
    let again = cache.get_or_compile(&[1; 32], &a).expect("compiles");
    assert!(Arc::ptr_eq(&first, &again));
    // The same code decoded again (another allocation) is still a hit.
    let same = cache.get_or_compile(&[1; 32], &program(10)).expect("compiles");
    assert!(Arc::ptr_eq(&first, &same));
    let stats = cache.stats();
    assert_eq!((stats.compiles, stats.hits, stats.entries), (1, 2, 1));
    // Another program under the same hash is compiled, never given the first's code.
    let other = program(11);
    let got = cache.get_or_compile(&[1; 32], &other).expect("compiles");
    assert!(Arc::ptr_eq(got.program(), &other));
    assert_eq!(cache.stats().compiles, 2);
    assert_eq!(cache.stats().entries, 1);
}

#[test]
fn the_byte_bound_evicts_the_least_recently_used() {
    let probe = CodeCache::new(usize::MAX);
    let size = probe.get_or_compile(&[0; 32], &program(100)).expect("compiles").footprint();
    // Room for two programs of this size, not three.
    let cache = CodeCache::new(2 * size + size / 2);
    let (a, b, c) = (program(100), program(100), program(100));
    cache.get_or_compile(&[1; 32], &a).expect("compiles");
    cache.get_or_compile(&[2; 32], &b).expect("compiles");
    // Use a again, so b is the least recently used when c arrives.
    cache.get_or_compile(&[1; 32], &a).expect("compiles");
    cache.get_or_compile(&[3; 32], &c).expect("compiles");
    let stats = cache.stats();
    assert_eq!((stats.entries, stats.compiles, stats.hits), (2, 3, 1));
    assert!(stats.bytes <= 2 * size + size / 2);
    // a and c are held, b is compiled again.
    cache.get_or_compile(&[1; 32], &a).expect("compiles");
    cache.get_or_compile(&[3; 32], &c).expect("compiles");
    assert_eq!(cache.stats().compiles, 3);
    cache.get_or_compile(&[2; 32], &b).expect("compiles");
    assert_eq!(cache.stats().compiles, 4);
    // A program larger than the whole bound is compiled and returned, not kept.
    let tiny = CodeCache::new(16);
    tiny.get_or_compile(&[9; 32], &a).expect("compiles");
    assert_eq!(tiny.stats().entries, 0);
}
