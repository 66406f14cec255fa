//! Entry points: what each invocation passes a program (GP 0.7.2 §B.2–B.4), decoded, and the
//! macros that export a Rust function as the entry the invocation starts at.
//!
//! A JAM service is one program with two entries: refine at instruction 0 and accumulate at
//! instruction 5; an authorizer has is-authorized at instruction 0. The build puts the exports in
//! that order (`guests/build.sh` passes [`REFINE_EXPORT`] and [`ACCUMULATE_EXPORT`], or
//! [`IS_AUTHORIZED_EXPORT`], to the linker's dispatch table).
//!
//! Each entry receives its argument data as `(address, length)` in `ω7`, `ω8`, and halts with its
//! output as `(address, length)` in `ω7`, `ω8`, which Ψ_M reads as the invocation's result.

use alloc::vec::Vec;

use crate::codec::Reader;

/// The symbol [`refine!`](crate::refine!) exports.
pub const REFINE_EXPORT: &str = "orrery_refine";
/// The symbol [`accumulate!`](crate::accumulate!) exports.
pub const ACCUMULATE_EXPORT: &str = "orrery_accumulate";
/// The symbol [`is_authorized!`](crate::is_authorized!) exports.
pub const IS_AUTHORIZED_EXPORT: &str = "orrery_is_authorized";

/// Refine's arguments `E(c, i, w_s, ↕w_y, H(p))` (GP 0.7.2 eq. B.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefineArgs<'a> {
    /// `c`: the core refining.
    pub core: u16,
    /// `i`: the index of the work item in its package.
    pub item_index: u32,
    /// `w_s`: this service.
    pub service: u32,
    /// `w_y`: the work item's payload.
    pub payload: &'a [u8],
    /// `H(p)`: the work package's hash.
    pub package_hash: [u8; 32],
}

impl<'a> RefineArgs<'a> {
    pub fn decode(data: &'a [u8]) -> Option<Self> {
        let mut r = Reader::new(data);
        Some(Self {
            core: u16::try_from(r.natural()?).ok()?,
            item_index: u32::try_from(r.natural()?).ok()?,
            service: u32::try_from(r.natural()?).ok()?,
            payload: r.var_bytes()?,
            package_hash: r.hash()?,
        })
    }
}

/// Accumulate's arguments `E(t, s, |i|)` (GP 0.7.2 eq. B.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccumulateArgs {
    /// `t`: the slot.
    pub slot: u32,
    /// `s`: this service.
    pub service: u32,
    /// `|i|`: how many inputs [`crate::accumulate::inputs`] will give.
    pub input_count: u32,
}

impl AccumulateArgs {
    pub fn decode(data: &[u8]) -> Option<Self> {
        let mut r = Reader::new(data);
        Some(Self {
            slot: u32::try_from(r.natural()?).ok()?,
            service: u32::try_from(r.natural()?).ok()?,
            input_count: u32::try_from(r.natural()?).ok()?,
        })
    }
}

/// Is-authorized's argument `E2(c)` (GP 0.7.2 eq. B.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsAuthorizedArgs {
    /// `c`: the core the package would run on.
    pub core: u16,
}

impl IsAuthorizedArgs {
    pub fn decode(data: &[u8]) -> Option<Self> {
        Some(Self { core: Reader::new(data).u16()? })
    }
}

/// The argument data an entry point was given.
///
/// # Safety
///
/// `(address, length)` must be the registers the invocation set: a readable range that lives as
/// long as the invocation.
#[doc(hidden)]
pub unsafe fn argument_data(address: u64, length: u64) -> &'static [u8] {
    if length == 0 {
        return &[];
    }
    // SAFETY: the caller passes the invocation's own argument range, readable and never freed.
    unsafe { core::slice::from_raw_parts(address as usize as *const u8, length as usize) }
}

/// Hands an output to the invocation: leaked, so that it stays readable after the entry returns,
/// as `(address, length)`.
#[doc(hidden)]
pub fn output(data: Vec<u8>) -> (u64, u64) {
    let data = core::mem::ManuallyDrop::new(data);
    (data.as_ptr() as usize as u64, data.len() as u64)
}

/// Exports `$f: fn(RefineArgs<'_>) -> Vec<u8>` as the refine entry point. The returned bytes are
/// the work item's output.
///
/// Arguments that do not decode (which no conforming host passes) end the run with a panic.
#[macro_export]
macro_rules! refine {
    ($f:path) => {
        #[cfg(all(target_arch = "riscv64", target_feature = "e"))]
        #[doc(hidden)]
        mod __orrery_refine_entry {
            #[allow(unused_imports)]
            use super::*;

            #[$crate::__private::polkavm_export(abi = $crate::__private::default_abi)]
            extern "C" fn orrery_refine(address: u64, length: u64) -> (u64, u64) {
                // SAFETY: the invocation passes its argument range in ω7, ω8.
                let data = unsafe { $crate::entry::argument_data(address, length) };
                let Some(args) = $crate::entry::RefineArgs::decode(data) else {
                    panic!("refine arguments do not decode");
                };
                let output: $crate::__private::Vec<u8> = $f(args);
                $crate::entry::output(output)
            }
        }
        #[cfg(not(all(target_arch = "riscv64", target_feature = "e")))]
        const _: fn($crate::entry::RefineArgs<'static>) -> $crate::__private::Vec<u8> = $f;
    };
}

/// Exports `$f: fn(AccumulateArgs) -> Option<[u8; 32]>` as the accumulate entry point. A hash
/// returned becomes the accumulation's output (as `yield` would make it).
#[macro_export]
macro_rules! accumulate {
    ($f:path) => {
        #[cfg(all(target_arch = "riscv64", target_feature = "e"))]
        #[doc(hidden)]
        mod __orrery_accumulate_entry {
            #[allow(unused_imports)]
            use super::*;

            #[$crate::__private::polkavm_export(abi = $crate::__private::default_abi)]
            extern "C" fn orrery_accumulate(address: u64, length: u64) -> (u64, u64) {
                // SAFETY: the invocation passes its argument range in ω7, ω8.
                let data = unsafe { $crate::entry::argument_data(address, length) };
                let Some(args) = $crate::entry::AccumulateArgs::decode(data) else {
                    panic!("accumulate arguments do not decode");
                };
                let output: Option<[u8; 32]> = $f(args);
                match output {
                    Some(hash) => $crate::entry::output(hash.to_vec()),
                    None => (0, 0),
                }
            }
        }
        #[cfg(not(all(target_arch = "riscv64", target_feature = "e")))]
        const _: fn($crate::entry::AccumulateArgs) -> Option<[u8; 32]> = $f;
    };
}

/// Exports `$f: fn(IsAuthorizedArgs) -> Vec<u8>` as the is-authorized entry point. The returned
/// bytes are the authorizer trace; to refuse, panic.
#[macro_export]
macro_rules! is_authorized {
    ($f:path) => {
        #[cfg(all(target_arch = "riscv64", target_feature = "e"))]
        #[doc(hidden)]
        mod __orrery_is_authorized_entry {
            #[allow(unused_imports)]
            use super::*;

            #[$crate::__private::polkavm_export(abi = $crate::__private::default_abi)]
            extern "C" fn orrery_is_authorized(address: u64, length: u64) -> (u64, u64) {
                // SAFETY: the invocation passes its argument range in ω7, ω8.
                let data = unsafe { $crate::entry::argument_data(address, length) };
                let Some(args) = $crate::entry::IsAuthorizedArgs::decode(data) else {
                    panic!("is-authorized arguments do not decode");
                };
                let output: $crate::__private::Vec<u8> = $f(args);
                $crate::entry::output(output)
            }
        }
        #[cfg(not(all(target_arch = "riscv64", target_feature = "e")))]
        const _: fn($crate::entry::IsAuthorizedArgs) -> $crate::__private::Vec<u8> = $f;
    };
}

/// Runs the case of `cases` that `payload` names by `E2(index)` and returns its name; a payload
/// of another length, or an index past the end, panics (so the work result is a panic, never a
/// name). The cases panic themselves when a number differs from their reference's.
pub fn run_case(payload: &[u8], cases: &[(&str, fn())]) -> Vec<u8> {
    let index = match payload {
        [a, b] => usize::from(u16::from_le_bytes([*a, *b])),
        _ => panic!("the payload is E2(case index), not {} octets", payload.len()),
    };
    let Some((name, case)) = cases.get(index) else {
        panic!("no case {index}: there are {}", cases.len());
    };
    case();
    name.as_bytes().to_vec()
}

/// Makes this crate a test probe rather than a service: refine runs the case of `$cases` (a
/// `&[(&str, fn())]` of reference cases, the same ones a crate's native tests run) that the payload
/// names (see [`run_case`]) and outputs its name; accumulate does nothing. A native test then runs
/// every case through Ψ_R to show the arithmetic gives the reference's numbers inside the PVM too.
#[macro_export]
macro_rules! case_probe {
    ($cases:expr) => {
        fn __orrery_case_probe_refine(args: $crate::entry::RefineArgs<'_>) -> $crate::__private::Vec<u8> {
            $crate::entry::run_case(args.payload, $cases)
        }

        fn __orrery_case_probe_accumulate(_: $crate::entry::AccumulateArgs) -> Option<[u8; 32]> {
            None
        }

        $crate::refine!(__orrery_case_probe_refine);
        $crate::accumulate!(__orrery_case_probe_accumulate);
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passes() {}
    fn differs() {
        panic!("a number differs");
    }
    const CASES: &[(&str, fn())] = &[("passes", passes), ("differs", differs)];

    #[test]
    fn run_case_names_the_case_it_ran() {
        assert_eq!(run_case(&[0, 0], CASES), b"passes");
    }

    #[test]
    #[should_panic(expected = "a number differs")]
    fn run_case_panics_with_the_case() {
        run_case(&[1, 0], CASES);
    }

    #[test]
    #[should_panic(expected = "no case 2: there are 2")]
    fn run_case_refuses_an_index_past_the_end() {
        run_case(&[2, 0], CASES);
    }

    #[test]
    #[should_panic(expected = "not 3 octets")]
    fn run_case_refuses_a_payload_of_another_length() {
        run_case(&[0, 0, 0], CASES);
    }

    #[test]
    fn refine_arguments_decode_as_the_paper_lays_them_out() {
        // c = 1, i = 2, s = 1729 = E [0x86, 0xc1], ↕"hi", then the hash.
        let mut data = alloc::vec![1, 2, 0x86, 0xc1, 2, b'h', b'i'];
        data.extend_from_slice(&[7; 32]);
        let args = RefineArgs::decode(&data).unwrap();
        assert_eq!(
            args,
            RefineArgs { core: 1, item_index: 2, service: 1729, payload: b"hi", package_hash: [7; 32] }
        );
        assert_eq!(RefineArgs::decode(&data[..data.len() - 1]), None);
    }

    #[test]
    fn accumulate_and_is_authorized_arguments() {
        // t = 100 (E [0x64]), s = 2^16 (E [0xc1, 0x00, 0x00]), |i| = 3.
        let args = AccumulateArgs::decode(&[0x64, 0xc1, 0x00, 0x00, 3]).unwrap();
        assert_eq!(args, AccumulateArgs { slot: 100, service: 1 << 16, input_count: 3 });
        assert_eq!(IsAuthorizedArgs::decode(&[0x01, 0x02]), Some(IsAuthorizedArgs { core: 0x0201 }));
        assert_eq!(IsAuthorizedArgs::decode(&[1]), None);
    }
}
