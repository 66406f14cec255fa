//! The Gray Paper serialization codec `E` (GP 0.7.2 Appendix C), and nothing else.
//!
//! Every protocol type is encoded by the rules of that appendix: fixed-width little-endian integers,
//! the variable-length natural-number encoding for sequence lengths and the few fields the paper marks
//! as "compact", length-prefixed and fixed-length sequences, optionals, packed bit sequences,
//! and dictionaries as sorted key/value pairs. Types declare their layout once with the derives
//! re-exported here ([`Encode`], [`Decode`], [`Describe`]).
//!
//! Decoding treats its input as adversarial. It rejects truncated input, non-canonical natural
//! numbers, lengths longer than the remaining input, unknown discriminators, unsorted or duplicated
//! dictionary keys, and (for [`decode_exact`]) trailing bytes. It never allocates more than the input
//! could justify: a sequence's capacity is bounded by the bytes left to read.
//!
//! Some sequences have no length prefix but a length fixed by the chain spec (the validator set, the
//! cores' availability bitfield, the epoch's tickets). Their lengths come from the [`Lengths`] a
//! [`Decoder`] carries, so one binary decodes every chain spec.
//!
//! [`Describe`] renders any value as a [`Value`] tree (field names, integers, byte strings). The
//! conformance runner turns that tree into JSON to compare with the vectors and to show diffs; the
//! protocol types themselves know nothing of JSON.

#![forbid(unused_must_use)]

mod bits;
mod decode;
mod describe;
mod encode;
mod error;
pub mod natural;

pub use bits::BitVec;
pub use decode::{decode_exact, decode_fixed_vec, Decode, Decoder, Lengths};
pub use describe::{Describe, Value};
pub use encode::{Compact, CompactInt, Encode};
pub use error::Error;
pub use orrery_codec_derive::{Decode, Describe, Encode};

/// Encodes `value` into a fresh buffer (`E(value)`).
pub fn encode<T: Encode + ?Sized>(value: &T) -> Vec<u8> {
    value.encode()
}

#[doc(hidden)]
pub mod __private {
    use crate::Encode;

    /// The concatenated encodings of `items` with no length prefix (the derive's `len` fields).
    pub fn encode_unprefixed<T: Encode>(items: &[T], out: &mut Vec<u8>) {
        T::encode_slice_to(items, out)
    }
}

// The derives expand to paths under `::orrery_codec`, which inside this crate's own tests needs an alias.
#[cfg(test)]
extern crate self as orrery_codec;

#[cfg(test)]
mod tests;
