//! IETF VRF verification (RFC 9381 §5.3 with additional data, as `ark-vrf` defines it for
//! `Bandersnatch_SHA-512_ELL2`) arranged for block import, where it runs twice per block.
//!
//! `ark-vrf`'s verifier decodes and subgroup-checks the public key on every call and computes
//! `U = s·G − c·Y` and `V = s·I − c·O` as four separate double-and-add multiplications. Here:
//! - a public key is decoded, checked and prepared once (its multiples at every window position)
//!   and kept in a small process-wide cache: a block's author is one of a few hundred known keys;
//! - `U = s·G − c·Y` has fixed bases (the generator, and the key, whose multiples are kept with
//!   it), so it is summed from precomputed multiples at every window position, with no doublings;
//! - `V = s·I − c·O` is one interleaved (Straus) wNAF multiplication sharing the doublings of its
//!   two terms;
//! - the output point's subgroup check is two Legendre symbols (see `subgroup`), not the
//!   multiplication by the group order that `ark-serialize`'s checked decode does.
//!
//! The result is the same accept/reject decision and the same output as `ark_vrf::ietf::Verifier`
//! for every input: the challenge is computed by the suite's own function over the same points,
//! and the tests compare the two on valid, tampered and malformed signatures.

use std::sync::{Arc, OnceLock};

use ark_vrf::reexports::ark_ec::{AffineRepr, CurveGroup};
use ark_vrf::reexports::ark_ff::{AdditiveGroup, BigInteger, PrimeField, Zero};
use ark_vrf::reexports::ark_serialize::CanonicalDeserialize;
use ark_vrf::suites::bandersnatch as suite;
use ark_vrf::Suite;

use super::{BandersnatchError, PublicKey, Result, POINT_LEN};
use crate::key_cache::KeyCache;

type Affine = suite::AffinePoint;
type Projective = <Affine as AffineRepr>::Group;
type Scalar = suite::ScalarField;
type ScalarBits = <Scalar as PrimeField>::BigInt;

/// wNAF width for the points of one call (the input and output points).
const POINT_WINDOW: usize = 5;
/// Fixed-base window widths: the generator's multiples are built once per process (33 windows
/// of 128 points, 270 KB); a key's once per key (65 windows of 8 points, 33 KB).
const GENERATOR_WINDOW: usize = 8;
const KEY_WINDOW: usize = 4;

/// How many prepared keys the cache holds before it starts over (two full validator sets).
const KEY_CACHE_LIMIT: usize = 2048;

/// Multiples of one point at every window position, for `k·P` by additions alone: with `k`
/// in signed digits of radix `2^w`, `k·P = Σ_j d_j · 2^(w·j) · P`, and every
/// `|d_j| · 2^(w·j) · P` is an entry.
struct FixedBase {
    window: usize,
    /// Window `j` holds `m · 2^(w·j) · P` for `m = 1 ..= 2^(w−1)`.
    multiples: Vec<Affine>,
}

impl FixedBase {
    fn new(point: Projective, window: usize) -> Self {
        let half = 1 << (window - 1);
        let mut multiples = Vec::with_capacity(Self::windows(window) * half);
        let mut base = point;
        for _ in 0..Self::windows(window) {
            let mut next = base;
            for _ in 0..half {
                multiples.push(next);
                next += &base;
            }
            for _ in 0..window {
                base.double_in_place();
            }
        }
        Self { window, multiples: Projective::normalize_batch(&multiples) }
    }

    /// Scalars are below `r < 2^253`; their signed digits may carry into one window more.
    fn windows(window: usize) -> usize {
        (Scalar::MODULUS_BIT_SIZE as usize).div_ceil(window) + 1
    }

    /// Adds `k · P` to `acc`, for `k < 2^253`.
    fn add_multiple(&self, acc: &mut Projective, k: &ScalarBits) {
        let half = 1i64 << (self.window - 1);
        let mut carry = 0;
        for (j, window) in self.multiples.chunks_exact(half as usize).enumerate() {
            // A window's value plus the carry is in 0 ..= 2^w; above half it becomes negative.
            let mut digit = bits(k, j * self.window, self.window) as i64 + carry;
            carry = i64::from(digit > half);
            digit -= carry << self.window;
            match digit.cmp(&0) {
                std::cmp::Ordering::Greater => *acc += &window[digit as usize - 1],
                std::cmp::Ordering::Less => *acc -= &window[digit.unsigned_abs() as usize - 1],
                std::cmp::Ordering::Equal => {}
            }
        }
    }
}

/// `width` bits of `k` from bit `at` (zeros above its top).
fn bits(k: &ScalarBits, at: usize, width: usize) -> u64 {
    let limbs = k.as_ref();
    let (limb, shift) = (at / 64, at % 64);
    let low = limbs.get(limb).map_or(0, |l| l >> shift);
    let high = if shift != 0 && shift + width > 64 {
        limbs.get(limb + 1).map_or(0, |l| l << (64 - shift))
    } else {
        0
    };
    (low | high) & ((1 << width) - 1)
}

/// `P, 3P, 5P, …, (2^(w−1) − 1)P`: the multiples a width-`w` wNAF digit selects.
struct OddMultiples(Vec<Affine>);

impl OddMultiples {
    #[cfg(test)]
    fn new(point: Projective, window: usize) -> Self {
        Self(Projective::normalize_batch(&Self::projective(point, window)))
    }

    /// The tables of two points, made affine together (one field inversion for both).
    fn pair(p: Projective, q: Projective, window: usize) -> (Self, Self) {
        let mut both = Self::projective(p, window);
        let count = both.len();
        both.extend(Self::projective(q, window));
        let mut affine = Projective::normalize_batch(&both);
        let second = affine.split_off(count);
        (Self(affine), Self(second))
    }

    fn projective(point: Projective, window: usize) -> Vec<Projective> {
        let count = 1 << (window - 2);
        let double = point.double();
        let mut multiples = Vec::with_capacity(count);
        let mut next = point;
        for _ in 0..count {
            multiples.push(next);
            next += &double;
        }
        multiples
    }

    /// Adds `digit · P` to `acc` for an odd wNAF digit (zero adds nothing).
    #[inline]
    fn add_digit(&self, acc: &mut Projective, digit: i64) {
        // |digit| < 2^(w−1) and odd, so (|digit| − 1) / 2 indexes the table.
        let index = (digit.unsigned_abs() / 2) as usize;
        if digit > 0 {
            *acc += &self.0[index];
        } else if digit < 0 {
            *acc -= &self.0[index];
        }
    }
}

/// `Σ kᵢ·Pᵢ` by interleaved wNAF: one shared run of doublings, each term adding its own digits.
fn multi_scalar_mul(terms: &[(&ScalarBits, &OddMultiples, usize)]) -> Projective {
    let digits: Vec<Vec<i64>> = terms
        .iter()
        // A width in 2..64 always yields digits.
        .map(|(k, _, window)| k.find_wnaf(*window).unwrap_or_default())
        .collect();
    let len = digits.iter().map(Vec::len).max().unwrap_or(0);
    let mut acc = Projective::zero();
    for i in (0..len).rev() {
        acc.double_in_place();
        for (term, digits) in terms.iter().zip(&digits) {
            if let Some(&digit) = digits.get(i) {
                term.1.add_digit(&mut acc, digit);
            }
        }
    }
    acc
}

fn generator_multiples() -> &'static FixedBase {
    static MULTIPLES: OnceLock<FixedBase> = OnceLock::new();
    MULTIPLES.get_or_init(|| {
        FixedBase::new(suite::BandersnatchSha512Ell2::generator().into_group(), GENERATOR_WINDOW)
    })
}

/// A public key decoded, subgroup-checked, with its window multiples.
struct PreparedKey {
    point: Affine,
    multiples: FixedBase,
}

/// Prepares `public` (see [`super::prepare_ietf_keys`]), and the generator's multiples.
pub(super) fn prepare(public: &PublicKey) -> Result<()> {
    generator_multiples();
    prepared_key(public).map(drop)
}

fn prepared_key(public: &PublicKey) -> Result<Arc<PreparedKey>> {
    static KEYS: KeyCache<Arc<PreparedKey>> = KeyCache::new(KEY_CACHE_LIMIT);
    KEYS.get_or_make(public, || {
        let point = super::point_from_bytes(public).ok_or(BandersnatchError::BadPublicKey)?;
        Ok(Arc::new(PreparedKey { point, multiples: FixedBase::new(point.into_group(), KEY_WINDOW) }))
    })
}

/// Verifies `signature` (output point ‖ challenge ‖ response) by `public` on `input` with `aux`;
/// returns the output point. Decides exactly as `ark_vrf::ietf::Verifier::verify` after a checked
/// decode of the key, the output point and the proof.
pub(super) fn verify(
    public: &PublicKey,
    input: &[u8],
    aux: &[u8],
    signature: &[u8],
) -> Result<suite::Output> {
    super::check_len(signature, super::SIGNATURE_LEN)?;
    let key = prepared_key(public)?;
    // On the curve by construction; the subgroup is checked below.
    let output = super::signature_output(signature).ok_or(BandersnatchError::MalformedProof)?;
    let proof = suite::IetfProof::deserialize_compressed(&signature[POINT_LEN..])
        .map_err(|_| BandersnatchError::MalformedProof)?;
    if !super::subgroup::contains(&output) {
        return Err(BandersnatchError::MalformedProof);
    }
    let input = super::input_point(input)?;

    let s = proof.s.into_bigint();
    let minus_c = (-proof.c).into_bigint();
    let mut u = Projective::zero();
    generator_multiples().add_multiple(&mut u, &s);
    key.multiples.add_multiple(&mut u, &minus_c);
    let (input_table, output_table) =
        OddMultiples::pair(input.0.into_group(), output.into_group(), POINT_WINDOW);
    let v = multi_scalar_mul(&[(&s, &input_table, POINT_WINDOW), (&minus_c, &output_table, POINT_WINDOW)]);
    let uv = Projective::normalize_batch(&[u, v]);

    let expected =
        suite::BandersnatchSha512Ell2::challenge(&[&key.point, &input.0, &output, &uv[0], &uv[1]], aux);
    if expected != proof.c {
        return Err(BandersnatchError::VerificationFailed);
    }
    Ok(suite::Output::from(output))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_vrf::reexports::ark_ff::UniformRand;
    use ark_vrf::reexports::ark_std::test_rng;

    #[test]
    fn multi_scalar_mul_matches_plain_multiplication() {
        let rng = &mut test_rng();
        for _ in 0..20 {
            let (p, q) = (Projective::rand(rng), Projective::rand(rng));
            let (a, b) = (Scalar::rand(rng), Scalar::rand(rng));
            for (wp, wq) in [(4, 5), (5, 5), (8, 6), (2, 3)] {
                let got = multi_scalar_mul(&[
                    (&a.into_bigint(), &OddMultiples::new(p, wp), wp),
                    (&b.into_bigint(), &OddMultiples::new(q, wq), wq),
                ]);
                assert_eq!(got, p * a + q * b);
            }
        }
        let p = Projective::rand(rng);
        let zero = Scalar::zero().into_bigint();
        assert!(multi_scalar_mul(&[(&zero, &OddMultiples::new(p, 5), 5)]).is_zero());
    }

    #[test]
    fn fixed_base_multiples_match_plain_multiplication() {
        let rng = &mut test_rng();
        let p = Projective::rand(rng);
        for window in [2, 4, 5, 8] {
            let base = FixedBase::new(p, window);
            let mut scalars: Vec<Scalar> = (0..10).map(|_| Scalar::rand(rng)).collect();
            // Digits at the edges: zero, one, r − 1 (all ones near the top), and 2^k − 1.
            scalars.extend([Scalar::zero(), Scalar::from(1u8), -Scalar::from(1u8), Scalar::from(u64::MAX)]);
            for k in scalars {
                let mut got = Projective::zero();
                base.add_multiple(&mut got, &k.into_bigint());
                assert_eq!(got, p * k, "window {window}");
            }
        }
    }

    /// `r`, the order of the prime-order subgroup: `r·P = 0` exactly for its points.
    const GROUP_ORDER: ScalarBits = Scalar::MODULUS;

    #[test]
    fn order_multiple_is_zero_only_in_the_subgroup() {
        let rng = &mut test_rng();
        let table = |p: Projective| OddMultiples::new(p, POINT_WINDOW);
        let p = Projective::rand(rng);
        assert!(multi_scalar_mul(&[(&GROUP_ORDER, &table(p), POINT_WINDOW)]).is_zero());
        // (0, −1) has order 2: outside the prime-order subgroup, and so is anything it is added to.
        let two_torsion = Affine::new_unchecked(Zero::zero(), -<Affine as AffineRepr>::BaseField::from(1u8));
        assert!(two_torsion.is_on_curve());
        assert!(
            !multi_scalar_mul(&[(&GROUP_ORDER, &table(two_torsion.into_group()), POINT_WINDOW)]).is_zero()
        );
        assert!(!multi_scalar_mul(&[(&GROUP_ORDER, &table(p + two_torsion), POINT_WINDOW)]).is_zero());
    }

    #[test]
    fn paired_tables_are_the_single_tables() {
        let rng = &mut test_rng();
        let (p, q) = (Projective::rand(rng), Projective::rand(rng));
        let (a, b) = OddMultiples::pair(p, q, POINT_WINDOW);
        assert_eq!(a.0, OddMultiples::new(p, POINT_WINDOW).0);
        assert_eq!(b.0, OddMultiples::new(q, POINT_WINDOW).0);
        // Each table is P, 3P, 5P, …
        for (i, multiple) in b.0.iter().enumerate() {
            assert_eq!(multiple.into_group(), q * Scalar::from(2 * i as u64 + 1));
        }
    }
}
