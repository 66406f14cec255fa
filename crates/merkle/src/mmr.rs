//! Merkle mountain ranges (GP 0.7.2 Appendix E, §"Merkle Mountain Ranges and Belts"): the append
//! function `A`, the encoding `E_M` and the super-peak `M_R`.

use orrery_codec::{Decode, Describe, Encode};
use orrery_crypto::keccak_256;

use crate::{Hash, ZERO_HASH};

/// A Merkle mountain range as the state holds it: peak `i` is the root of a tree of `2^i` items, or
/// `None` when the range's size has a 0 in bit `i`.
///
/// The codec derives give `E_M`: a length-prefixed sequence of optional hashes, which is also the
/// vectors' `Mmr` (`peaks: SEQUENCE OF MmrPeak`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Encode, Decode, Describe)]
pub struct Mmr {
    pub peaks: Vec<Option<Hash>>,
}

impl Mmr {
    /// The empty range.
    pub const fn new() -> Self {
        Self { peaks: Vec::new() }
    }

    pub fn from_peaks(peaks: Vec<Option<Hash>>) -> Self {
        Self { peaks }
    }

    /// Appends `leaf` in place: `self ← A(self, leaf, hash)` (GP eq. E.8).
    ///
    /// Carrying works like binary addition: each occupied peak on the way is merged into the
    /// carried hash as `hash(peak ‖ carried)` and emptied, until an empty slot or the end takes it.
    pub fn append(&mut self, leaf: Hash, hash: impl Fn(&[u8]) -> Hash) {
        let mut carried = leaf;
        for slot in self.peaks.iter_mut() {
            match slot.take() {
                None => {
                    *slot = Some(carried);
                    return;
                }
                Some(peak) => carried = hash(&concat(&peak, &carried)),
            }
        }
        self.peaks.push(Some(carried));
    }

    /// `A(self, leaf, hash)` as a new range, leaving `self` as it was.
    #[must_use]
    pub fn appended(&self, leaf: Hash, hash: impl Fn(&[u8]) -> Hash) -> Self {
        let mut next = self.clone();
        next.append(leaf, hash);
        next
    }

    /// `M_R(self)`: the super-peak, which the paper always takes with keccak-256 (GP eq. E.10).
    pub fn super_peak(&self) -> Hash {
        self.super_peak_with(keccak_256)
    }

    /// The super-peak's construction with another hash function in place of keccak-256.
    ///
    /// `M_R(h) = H("peak" ‖ M_R(h_{..n-1}) ‖ h_{n-1})` unrolls into a left fold over the present peaks.
    pub fn super_peak_with(&self, hash: impl Fn(&[u8]) -> Hash) -> Hash {
        let mut present = self.peaks.iter().flatten();
        let Some(first) = present.next() else {
            return ZERO_HASH;
        };
        let mut buf = [0u8; 4 + 64];
        buf[..4].copy_from_slice(b"peak");
        present.fold(*first, |acc, peak| {
            buf[4..36].copy_from_slice(&acc);
            buf[36..].copy_from_slice(peak);
            hash(&buf)
        })
    }
}

fn concat(a: &Hash, b: &Hash) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(a);
    out[32..].copy_from_slice(b);
    out
}

#[cfg(test)]
mod tests {
    use orrery_codec::{Decode, Encode};
    use orrery_crypto::{blake2b_256, keccak_256};

    use super::*;

    fn h(byte: u8) -> Hash {
        [byte; 32]
    }

    fn hex32(text: &str) -> Hash {
        hex::decode(text).unwrap().try_into().unwrap()
    }

    fn k2(a: &Hash, b: &Hash) -> Hash {
        keccak_256(&[a.as_slice(), b.as_slice()].concat())
    }

    #[test]
    fn append_carries_like_binary_addition() {
        // Worked by hand from eq. E.8: four appends of a, b, c, d.
        let (a, b, c, d) = (h(1), h(2), h(3), h(4));
        let mut mmr = Mmr::new();
        mmr.append(a, keccak_256);
        assert_eq!(mmr.peaks, vec![Some(a)]);
        mmr.append(b, keccak_256);
        let ab = k2(&a, &b);
        assert_eq!(mmr.peaks, vec![None, Some(ab)]);
        mmr.append(c, keccak_256);
        assert_eq!(mmr.peaks, vec![Some(c), Some(ab)]);
        mmr.append(d, keccak_256);
        let abcd = k2(&ab, &k2(&c, &d));
        assert_eq!(mmr.peaks, vec![None, None, Some(abcd)]);
        let e = h(5);
        assert_eq!(mmr.appended(e, keccak_256).peaks, vec![Some(e), None, Some(abcd)]);
        // `appended` leaves the original alone.
        assert_eq!(mmr.peaks.len(), 3);
    }

    #[test]
    fn append_uses_the_given_hash() {
        let mut mmr = Mmr::from_peaks(vec![Some(h(7))]);
        mmr.append(h(8), blake2b_256);
        let expected = blake2b_256(&[h(7).as_slice(), h(8).as_slice()].concat());
        assert_eq!(mmr.peaks, vec![None, Some(expected)]);
    }

    #[test]
    fn super_peak_by_hand() {
        assert_eq!(Mmr::new().super_peak(), ZERO_HASH);
        assert_eq!(Mmr::from_peaks(vec![None, None]).super_peak(), ZERO_HASH);
        assert_eq!(Mmr::from_peaks(vec![None, Some(h(9))]).super_peak(), h(9));
        let peak = |a: &Hash, b: &Hash| keccak_256(&[b"peak".as_slice(), a, b].concat());
        let two = Mmr::from_peaks(vec![Some(h(1)), None, Some(h(3))]);
        assert_eq!(two.super_peak(), peak(&h(1), &h(3)));
        let three = Mmr::from_peaks(vec![Some(h(1)), Some(h(2)), None, Some(h(4))]);
        assert_eq!(three.super_peak(), peak(&peak(&h(1), &h(2)), &h(4)));
        let with_blake = three.super_peak_with(blake2b_256);
        let bpeak = |a: &Hash, b: &Hash| blake2b_256(&[b"peak".as_slice(), a, b].concat());
        assert_eq!(with_blake, bpeak(&bpeak(&h(1), &h(2)), &h(4)));
    }

    #[test]
    fn encoding_is_a_prefixed_sequence_of_options() {
        let mmr = Mmr::from_peaks(vec![None, Some(h(0xab))]);
        let mut expected = vec![2, 0, 1];
        expected.extend_from_slice(&[0xab; 32]);
        assert_eq!(mmr.encode(), expected);
        assert_eq!(Mmr::decode_all(&expected).unwrap(), mmr);
        assert_eq!(Mmr::new().encode(), vec![0]);
        // A bad option discriminator and a length beyond the input are errors, not panics.
        assert!(Mmr::decode_all(&[1, 2]).is_err());
        assert!(Mmr::decode_all(&[200]).is_err());
    }

    // The pre- and post-state MMRs of stf/history/tiny/progress_blocks_history-{2,3,4}.json, whose
    // input `accumulate_root` is the appended leaf and whose last `beefy_root` is the super-peak.
    #[test]
    fn history_vectors() {
        let pre = Mmr::from_peaks(vec![Some(hex32(
            "8720b97ddd6acc0f6eb66e095524038675a4e4067adc10ec39939eaefc47d842",
        ))]);
        let post = pre
            .appended(hex32("7507515a48439dc58bc318c48a120b656136699f42bfd2bd45473becba53462d"), keccak_256);
        let expected = hex32("7076c31882a5953e097aef8378969945e72807c4705e53a0c5aacc9176f0d56b");
        assert_eq!(post.peaks, vec![None, Some(expected)]);
        assert_eq!(post.super_peak(), expected);

        let pre = Mmr::from_peaks(vec![
            Some(hex32("f986bfeff7411437ca6a23163a96b5582e6739f261e697dc6f3c05a1ada1ed0c")),
            Some(hex32("ca29f72b6d40cfdb5814569cf906b3d369ae5f56b63d06f2b6bb47be191182a6")),
            Some(hex32("e17766e385ad36f22ff2357053ab8af6a6335331b90de2aa9c12ec9f397fa414")),
        ]);
        let post = pre
            .appended(hex32("8223d5eaa57ccef85993b7180a593577fd38a65fb41e4bcea2933d8b202905f0"), keccak_256);
        let expected = hex32("658b919f734bd39262c10589aa1afc657471d902a6a361c044f78de17d660bc6");
        assert_eq!(post.peaks, vec![None, None, None, Some(expected)]);

        let pre = post;
        let leaf = hex32("a983417440b618f29ed0b7fa65212fce2d363cb2b2c18871a05c4f67217290b0");
        let post = pre.appended(leaf, keccak_256);
        assert_eq!(post.peaks, vec![Some(leaf), None, None, Some(expected)]);
        assert_eq!(
            post.super_peak(),
            hex32("ebdb6db060afceaa2a99a499a84476847444ffc3787f6a4786e713f5362dbf4d")
        );
    }
}
