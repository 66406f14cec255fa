//! blake2b-256 for trie nodes, one at a time or many at once.
//!
//! This is the same function as `orrery_crypto::blake2b_256` (a test checks it), taken from
//! `blake2b_simd` because it can hash several independent inputs in one pass of vector
//! instructions (four at a time with AVX2), and the trie has hundreds of thousands of
//! independent 64-byte nodes per level.

use std::sync::LazyLock;

use blake2b_simd::many::{hash_many, HashManyJob};
use blake2b_simd::Params;

use crate::Hash;

static PARAMS: LazyLock<Params> = LazyLock::new(|| {
    let mut params = Params::new();
    params.hash_length(32);
    params
});

fn to_hash(digest: blake2b_simd::Hash) -> Hash {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_bytes());
    out
}

/// blake2b-256 of one input.
#[inline]
pub(crate) fn blake(data: &[u8]) -> Hash {
    to_hash(PARAMS.hash(data))
}

/// How many inputs go to the vector hasher at once: a few times its degree, small enough to stay
/// in the first-level cache.
const BATCH: usize = 32;

/// Appends blake2b-256 of each input to `out`, in order.
pub(crate) fn hash_all<'a>(inputs: impl IntoIterator<Item = &'a [u8]>, out: &mut Vec<Hash>) {
    let mut inputs = inputs.into_iter();
    let mut jobs: Vec<HashManyJob<'a>> = Vec::with_capacity(BATCH);
    loop {
        jobs.clear();
        jobs.extend(inputs.by_ref().take(BATCH).map(|input| HashManyJob::new(&PARAMS, input)));
        if jobs.is_empty() {
            return;
        }
        hash_many(jobs.iter_mut());
        out.extend(jobs.iter().map(|job| to_hash(job.to_hash())));
    }
}

#[cfg(test)]
mod tests {
    use orrery_crypto::blake2b_256;

    use super::*;

    #[test]
    fn agrees_with_orrery_crypto() {
        let inputs: Vec<Vec<u8>> = (0..300).map(|n| (0..n).map(|i| (i * 7 + n) as u8).collect()).collect();
        let mut many = Vec::new();
        hash_all(inputs.iter().map(Vec::as_slice), &mut many);
        assert_eq!(many.len(), inputs.len());
        for (input, hash) in inputs.iter().zip(&many) {
            assert_eq!(blake(input), blake2b_256(input));
            assert_eq!(*hash, blake2b_256(input));
        }
    }
}
