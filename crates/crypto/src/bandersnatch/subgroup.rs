//! Membership of the prime-order subgroup by two Legendre symbols instead of a multiplication by
//! the group order.
//!
//! Bandersnatch's group of points has order `4r` with all of its 2-torsion rational (`d/a` is a
//! square in the base field), so it is `Z/2 × Z/2 × Z/r`, and the subgroup of order `r` is exactly
//! the doubles `2E`. On the Montgomery model `B v² = u (u − e₁)(u − e₂)` (reached by
//! `u = (1 + y)/(1 − y)`, `v = u/x`; scaled by `B` it is a Weierstrass curve with the three rational
//! roots 0, `e₁`, `e₂`), a point that is not 2-torsion is a double exactly when `B·u`, `B·(u − e₁)` and
//! `B·(u − e₂)` are all squares, and their product is a square already, so two symbols decide.
//! Each costs about a tenth of the 253 doublings of `r·P`, which is what `ark-serialize`'s checked
//! decode does. The tests compare the two on random points of the whole group.

use std::sync::OnceLock;

use ark_vrf::reexports::ark_ec::twisted_edwards::TECurveConfig;
use ark_vrf::reexports::ark_ec::AffineRepr;
use ark_vrf::reexports::ark_ff::{AdditiveGroup, Field, One, Zero};
use ark_vrf::suites::bandersnatch as suite;

type Affine = suite::AffinePoint;
type Base = suite::BaseField;

/// `B` and a nonzero root `e` of `u² + A u + 1` for the Montgomery model of `a x² + y² = 1 + d x² y²`
/// (`A = 2(a + d)/(a − d)`, `B = 4/(a − d)`).
fn montgomery() -> &'static (Base, Base) {
    static CONSTANTS: OnceLock<(Base, Base)> = OnceLock::new();
    CONSTANTS.get_or_init(|| {
        type P = <Affine as AffineRepr>::Config;
        let (a, d) = (<P as TECurveConfig>::COEFF_A, <P as TECurveConfig>::COEFF_D);
        let inverse = (a - d).inverse().expect("a ≠ d for a twisted Edwards curve");
        let big_a = (a + d).double() * inverse;
        let big_b = Base::from(4u8) * inverse;
        let two = Base::from(2u8);
        let root = (big_a.square() - two.double())
            .sqrt()
            .expect("A² − 4 is a square: all 2-torsion of Bandersnatch is rational");
        (big_b, (root - big_a) / two)
    })
}

/// Whether `point` (on the curve) is in the prime-order subgroup.
pub(super) fn contains(point: &Affine) -> bool {
    let (x, y) = (point.x, point.y);
    if x.is_zero() {
        // (0, 1) is the identity; (0, −1) has order two.
        return y.is_one();
    }
    let (b, e) = montgomery();
    // χ(B·u) and χ(B·(u − e)) with u = (1 + y)/(1 − y), the denominator squared away.
    let (plus, minus) = (Base::one() + y, Base::one() - y);
    let first = *b * plus * minus;
    let second = *b * (plus - *e * minus) * minus;
    first.legendre().is_qr() && second.legendre().is_qr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_vrf::reexports::ark_ec::CurveGroup;
    use ark_vrf::reexports::ark_ff::UniformRand;
    use ark_vrf::reexports::ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
    use ark_vrf::reexports::ark_std::test_rng;

    /// Agrees with `r·P = 0` on random points of the whole group (three in four outside the
    /// subgroup) and on the special points.
    #[test]
    fn agrees_with_multiplication_by_the_order() {
        let rng = &mut test_rng();
        let (mut inside, mut outside) = (0, 0);
        while inside + outside < 2000 {
            // A random y whose x exists: a uniformly random point of E(F_p), up to the sign of x.
            let mut bytes = Vec::new();
            Base::rand(rng).serialize_compressed(&mut bytes).unwrap();
            let Ok(point) = Affine::deserialize_compressed_unchecked(&bytes[..]) else { continue };
            let expected = point.is_in_correct_subgroup_assuming_on_curve();
            assert_eq!(contains(&point), expected, "{point}");
            if expected {
                inside += 1;
            } else {
                outside += 1;
            }
        }
        assert!(inside > 300 && outside > 1200, "{inside} inside, {outside} outside");

        let identity = Affine::zero();
        let two_torsion = Affine::new_unchecked(Base::zero(), -Base::one());
        let generator = Affine::generator();
        assert!(contains(&identity));
        assert!(!contains(&two_torsion));
        assert!(contains(&generator));
        assert!(!contains(&(generator + two_torsion).into_affine()));
        for _ in 0..50 {
            let point = (generator * suite::ScalarField::rand(rng)).into_affine();
            assert!(contains(&point));
            assert!(!contains(&(point + two_torsion).into_affine()));
        }
    }
}
