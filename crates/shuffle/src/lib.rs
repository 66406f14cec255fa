//! The Fisher-Yates shuffle of GP 0.7.2 Appendix E ("Shuffling"), eqs. `eq:suffle` and
//! `eq:sequencefromhash`.
//!
//! `F(s, r)` takes the element at `r_0 mod l` as the first output, moves the last element into its
//! place, and goes on with the first `l - 1` elements and the rest of `r`. [`shuffle_with`] is that
//! function over any sequence of numbers; [`shuffle`] is the form the protocol uses (validator
//! assignments to cores, audit selection), which draws the numbers from a 32-byte hash with
//! [`numbers_from_hash`] (`Q_l`).

#![forbid(unused_must_use)]

use orrery_crypto::blake2b_256;

/// `F(s, r)`: `items` shuffled by the numbers `r`; `None` when `r` has fewer numbers than `items` has
/// elements, where the paper's function is not defined. Numbers beyond those needed are ignored.
pub fn shuffle_with<T: Clone>(items: &[T], numbers: &[u32]) -> Option<Vec<T>> {
    if numbers.len() < items.len() {
        return None;
    }
    let mut pool = items.to_vec();
    let mut out = Vec::with_capacity(items.len());
    for &r in numbers.iter().take(items.len()) {
        // `pool` holds the `l` elements still to place: take `pool[r mod l]`, fill its slot with
        // the last element (the paper's `s' = s exc s'_{r_0 mod l} = s_{l-1}`), drop the last.
        let l = pool.len();
        let index = (r as usize) % l;
        let last = pool.len() - 1;
        pool.swap(index, last);
        out.extend(pool.pop());
    }
    Some(out)
}

/// `Q_l(h)`: `l` 32-bit numbers from a hash. Number `i` is bytes `4i mod 32 .. +4` (little-endian)
/// of `H(h ‖ E_4(⌊i / 8⌋))`, so each blake2b output yields eight numbers.
pub fn numbers_from_hash(hash: &[u8; 32], len: usize) -> Vec<u32> {
    let mut numbers = Vec::with_capacity(len);
    let mut preimage = [0u8; 36];
    preimage[..32].copy_from_slice(hash);
    for block in 0..len.div_ceil(8) {
        preimage[32..].copy_from_slice(&(block as u32).to_le_bytes());
        let digest = blake2b_256(&preimage);
        let wanted = (len - block * 8).min(8);
        numbers.extend(
            digest
                .chunks_exact(4)
                .take(wanted)
                .map(|c| u32::from_le_bytes(c.try_into().expect("chunks of four"))),
        );
    }
    numbers
}

/// `F(s, h)`: `items` shuffled by the numbers [`numbers_from_hash`] draws from `entropy`.
pub fn shuffle<T: Clone>(items: &[T], entropy: &[u8; 32]) -> Vec<T> {
    let numbers = numbers_from_hash(entropy, items.len());
    shuffle_with(items, &numbers).expect("Q_l yields exactly l numbers")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The paper's recursive definition written out literally, as the reference for the
    /// iterative version above.
    fn recursive<T: Clone>(s: &[T], r: &[u32]) -> Vec<T> {
        if s.is_empty() {
            return Vec::new();
        }
        let l = s.len();
        let i = r[0] as usize % l;
        let mut rest = s.to_vec();
        rest[i] = s[l - 1].clone();
        let mut out = vec![s[i].clone()];
        out.extend(recursive(&rest[..l - 1], &r[1..]));
        out
    }

    #[test]
    fn worked_by_hand() {
        // s = [a, b, c, d], r = [5, 0, 7, 9]:
        // 5 mod 4 = 1 → b; s' = [a, d, c].
        // 0 mod 3 = 0 → a; s' = [c, d].
        // 7 mod 2 = 1 → d; s' = [c].
        // 9 mod 1 = 0 → c.
        assert_eq!(shuffle_with(&['a', 'b', 'c', 'd'], &[5, 0, 7, 9]), Some(vec!['b', 'a', 'd', 'c']));
        assert_eq!(shuffle_with::<u8>(&[], &[]), Some(vec![]));
        // Extra numbers are ignored; too few is no shuffle.
        assert_eq!(shuffle_with(&[1, 2], &[1, 1, 1]), Some(vec![2, 1]));
        assert_eq!(shuffle_with(&[1, 2, 3], &[0, 0]), None);
    }

    #[test]
    fn numbers_from_hash_layout() {
        let h = [7u8; 32];
        let q = numbers_from_hash(&h, 10);
        let first = blake2b_256(&[&h[..], &0u32.to_le_bytes()].concat());
        let second = blake2b_256(&[&h[..], &1u32.to_le_bytes()].concat());
        assert_eq!(q[0], u32::from_le_bytes(first[0..4].try_into().unwrap()));
        assert_eq!(q[7], u32::from_le_bytes(first[28..32].try_into().unwrap()));
        assert_eq!(q[8], u32::from_le_bytes(second[0..4].try_into().unwrap()));
        assert_eq!(q[9], u32::from_le_bytes(second[4..8].try_into().unwrap()));
        assert!(numbers_from_hash(&h, 0).is_empty());
        // Prefixes agree: `Q_l` is the first `l` numbers of one stream.
        assert_eq!(numbers_from_hash(&h, 3), q[..3]);
    }

    proptest! {
        #[test]
        fn matches_the_recursive_definition(s in proptest::collection::vec(any::<u16>(), 0..60),
                                            seed in any::<[u8; 32]>()) {
            let r = numbers_from_hash(&seed, s.len());
            prop_assert_eq!(shuffle(&s, &seed), recursive(&s, &r));
        }

        #[test]
        fn is_a_permutation(n in 0usize..300, seed in any::<[u8; 32]>()) {
            let items: Vec<usize> = (0..n).collect();
            let mut out = shuffle(&items, &seed);
            out.sort_unstable();
            prop_assert_eq!(out, items);
        }
    }
}
