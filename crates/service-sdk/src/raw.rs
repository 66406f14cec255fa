//! The host calls as the PVM sees them: `ecalli n` with arguments in `ω7…ω12` and results in `ω7`
//! (and `ω8`), one function per call with the index of GP 0.7.2 Appendix B (and JIP-1's `log`).
//!
//! Addresses are guest addresses as `u64`. Nothing here checks anything: the typed wrappers in
//! [`crate::general`], [`crate::refine`] and [`crate::accumulate`] are the API to use.
//!
//! On the PVM each function is a polkavm import whose index the linker turns into the `ecalli`
//! immediate. Elsewhere (tests on the build machine) there is no host to call: each function
//! panics with [`NOT_ON_THE_PVM`].

#![allow(clippy::too_many_arguments, clippy::missing_safety_doc)]

/// Why a host call made off the PVM panics.
pub const NOT_ON_THE_PVM: &str = "orrery-service-sdk: host calls exist only when running on the PVM";

macro_rules! host_calls {
    ($( $(#[$doc:meta])* $index:literal => fn $name:ident($($arg:ident),*) -> $ret:ty; )*) => {
        #[cfg(all(target_arch = "riscv64", target_feature = "e"))]
        mod imports {
            #[polkavm_derive::polkavm_import]
            extern "C" {
                $(
                    #[polkavm_import(index = $index)]
                    pub fn $name($($arg: u64),*) -> $ret;
                )*
            }
        }

        $(
            $(#[$doc])*
            #[doc = concat!("\n\nHost call ", stringify!($index), ".")]
            ///
            /// # Safety
            ///
            /// Every address names guest memory of the length given, readable or writable as the
            /// call needs; otherwise the host ends the invocation with a panic.
            #[inline(always)]
            pub unsafe fn $name($($arg: u64),*) -> $ret {
                #[cfg(all(target_arch = "riscv64", target_feature = "e"))]
                {
                    // SAFETY: the caller upholds the call's memory contract (see above).
                    unsafe { imports::$name($($arg),*) }
                }
                #[cfg(not(all(target_arch = "riscv64", target_feature = "e")))]
                {
                    $(let _ = $arg;)*
                    panic!("{}", NOT_ON_THE_PVM)
                }
            }
        )*
    };
}

host_calls! {
    /// `gas`: the gas left.
    0 => fn gas() -> u64;
    /// `fetch(o, f, l, kind, a, b)`.
    1 => fn fetch(o, f, l, kind, a, b) -> u64;
    /// `lookup(s, h, o, f, l)`.
    2 => fn lookup(s, h, o, f, l) -> u64;
    /// `read(s, k_o, k_z, o, f, l)`.
    3 => fn read(s, k_o, k_z, o, f, l) -> u64;
    /// `write(k_o, k_z, v_o, v_z)`.
    4 => fn write(k_o, k_z, v_o, v_z) -> u64;
    /// `info(s, o, f, l)`.
    5 => fn info(s, o, f, l) -> u64;
    /// `historical_lookup(s, h, o, f, l)`.
    6 => fn historical_lookup(s, h, o, f, l) -> u64;
    /// `export(p, z)`.
    7 => fn export(p, z) -> u64;
    /// `machine(p_o, p_z, i)`.
    8 => fn machine(p_o, p_z, i) -> u64;
    /// `peek(n, o, s, z)`.
    9 => fn peek(n, o, s, z) -> u64;
    /// `poke(n, s, o, z)`.
    10 => fn poke(n, s, o, z) -> u64;
    /// `pages(n, p, c, r)`.
    11 => fn pages(n, p, c, r) -> u64;
    /// `invoke(n, o)`: `(ω7, ω8)`.
    12 => fn invoke(n, o) -> (u64, u64);
    /// `expunge(n)`.
    13 => fn expunge(n) -> u64;
    /// `bless(m, a, v, r, o, n)`.
    14 => fn bless(m, a, v, r, o, n) -> u64;
    /// `assign(c, o, a)`.
    15 => fn assign(c, o, a) -> u64;
    /// `designate(o)`.
    16 => fn designate(o) -> u64;
    /// `checkpoint`.
    17 => fn checkpoint() -> u64;
    /// `new(o, l, g, m, f, i)`.
    18 => fn new(o, l, g, m, f, i) -> u64;
    /// `upgrade(o, g, m)`.
    19 => fn upgrade(o, g, m) -> u64;
    /// `transfer(d, a, l, o)`.
    20 => fn transfer(d, a, l, o) -> u64;
    /// `eject(d, h)`.
    21 => fn eject(d, h) -> u64;
    /// `query(o, z)`: `(ω7, ω8)`.
    22 => fn query(o, z) -> (u64, u64);
    /// `solicit(o, z)`.
    23 => fn solicit(o, z) -> u64;
    /// `forget(o, z)`.
    24 => fn forget(o, z) -> u64;
    /// `yield(o)`.
    25 => fn yield_hash(o) -> u64;
    /// `provide(s, o, z)`.
    26 => fn provide(s, o, z) -> u64;
    /// JIP-1 `log(level, target_o, target_z, message_o, message_z)`.
    100 => fn log(level, t_o, t_z, m_o, m_z) -> u64;
}
