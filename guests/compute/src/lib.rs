//! The `compute` guest: `compute(args, len)` reads E4(blocks) from its argument data (8192 blocks, one
//! MiB, when shorter), hashes that many 128-byte blocks of the xorshift64 stream with BLAKE2b-256 and
//! returns the 32-byte digest as (address, length) in a0/a1 (ω7/ω8), so that a JAM invocation
//! (Ψ_M) halts with the digest as its output.

#![no_std]

mod work;

static mut OUTPUT: [u8; 32] = [0; 32];

#[polkavm_derive::polkavm_export]
extern "C" fn compute(args: u64, len: u64) -> (u64, u64) {
    let blocks = if len >= 4 {
        // SAFETY: the host passes a readable argument region of `len` bytes at `args`.
        let bytes = unsafe { core::ptr::read_unaligned(args as *const [u8; 4]) };
        u32::from_le_bytes(bytes).max(1)
    } else {
        8192
    };
    let digest = work::blake2b_256_of_stream(u64::from(blocks));
    // SAFETY: the guest is single-threaded and nothing else holds a reference to OUTPUT.
    unsafe {
        let output = &raw mut OUTPUT;
        *output = digest;
        (output as u64, 32)
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: `unimp` traps; the PVM ends the run with a panic.
    unsafe { core::arch::asm!("unimp", options(noreturn)) }
}
