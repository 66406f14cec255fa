//! Fixed-point arithmetic in WAD (`1e18` is one), as OpenZeppelin's `Math.mulDiv` computes it: the
//! product `x·y` is kept at full width (256 bits here) before the division, and rounding up adds one
//! only when the division leaves a remainder.
//!
//! Values are `u128`, not `uint256`: a product of two `u128` never overflows the 256-bit
//! intermediate, so the quotient is exact whenever it fits in 128 bits. A quotient of 2^128 or more,
//! which the contracts would still return, is [`Error::Overflow`] here (no token supply comes close:
//! all ether is under 2^87 wei).

use crate::Error;

/// One, in the contracts' fixed point (`WAD` in `SlashingLib.sol`).
pub const WAD: u64 = 1_000_000_000_000_000_000;

/// Which way `mul_div` rounds a quotient that is not exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Towards zero (`Math.Rounding.Down`, the default of `mulDiv(x, y, d)`).
    Down,
    /// Away from zero (`Math.Rounding.Up`).
    Up,
}

/// `x·y / d`, with the product at 256 bits, rounded as asked.
///
/// `d = 0` is [`Error::DivisionByZero`] (the contracts revert); a result of 2^128 or more is
/// [`Error::Overflow`].
pub fn mul_div(x: u128, y: u128, d: u128, rounding: Rounding) -> Result<u128, Error> {
    if d == 0 {
        return Err(Error::DivisionByZero);
    }
    let (hi, lo) = mul_wide(x, y);
    let (q, r) = if hi == 0 {
        (lo / d, lo % d)
    } else if hi >= d {
        return Err(Error::Overflow);
    } else {
        div_wide(hi, lo, d)
    };
    match rounding {
        Rounding::Up if r != 0 => q.checked_add(1).ok_or(Error::Overflow),
        _ => Ok(q),
    }
}

/// `x·y / WAD`, rounded down (`SlashingLib.mulWad`).
pub fn mul_wad(x: u128, y: u128) -> Result<u128, Error> {
    mul_div(x, y, WAD as u128, Rounding::Down)
}

/// `x·y / WAD`, rounded up (`SlashingLib.mulWadRoundUp`): slashed magnitude never rounds to zero.
pub fn mul_wad_round_up(x: u128, y: u128) -> Result<u128, Error> {
    mul_div(x, y, WAD as u128, Rounding::Up)
}

/// `x·WAD / y`, rounded down (`SlashingLib.divWad`).
pub fn div_wad(x: u128, y: u128) -> Result<u128, Error> {
    mul_div(x, WAD as u128, y, Rounding::Down)
}

/// `(x ·w y) ·w z`: two `mulWad`s, each rounded down, with the value between them kept at full
/// width (`SlashingLib.calcWithdrawable`). A staker who delegated to a heavily slashed operator has a
/// scaling factor large enough that `x ·w y` passes 2^128 although the final result does not; the
/// contract holds it in a `uint256`, and so does this.
pub fn mul_wad_mul_wad(x: u128, y: u128, z: u128) -> Result<u128, Error> {
    const WAD_U128: u128 = WAD as u128;
    let (hi, lo) = mul_wide(x, y);
    let mut middle = [lo as u64, (lo >> 64) as u64, hi as u64, (hi >> 64) as u64];
    div_limbs(&mut middle, WAD);
    if middle[2] == 0 && middle[3] == 0 {
        let middle = middle[0] as u128 | (middle[1] as u128) << 64;
        return mul_div(middle, z, WAD_U128, Rounding::Down);
    }
    // Schoolbook product of the 256-bit middle value and the 128-bit z, in 64-bit limbs.
    let z = [z as u64, (z >> 64) as u64];
    let mut product = [0u64; 6];
    for (i, &m) in middle.iter().enumerate() {
        let mut carry = 0u128;
        for (j, &zj) in z.iter().enumerate() {
            let cell = product[i + j] as u128 + m as u128 * zj as u128 + carry;
            product[i + j] = cell as u64;
            carry = cell >> 64;
        }
        product[i + 2] = carry as u64;
    }
    div_limbs(&mut product, WAD);
    if product[2..].iter().any(|&limb| limb != 0) {
        return Err(Error::Overflow);
    }
    Ok(product[0] as u128 | (product[1] as u128) << 64)
}

/// Divides a little-endian limb number by a 64-bit divisor in place, rounding down.
fn div_limbs(n: &mut [u64], d: u64) {
    let mut r = 0u128;
    for limb in n.iter_mut().rev() {
        let cur = (r << 64) | *limb as u128;
        *limb = (cur / d as u128) as u64;
        r = cur % d as u128;
    }
}

/// The full 256-bit product, as (high, low) halves.
fn mul_wide(x: u128, y: u128) -> (u128, u128) {
    const LOW: u128 = u64::MAX as u128;
    let (x1, x0) = (x >> 64, x & LOW);
    let (y1, y0) = (y >> 64, y & LOW);
    let p00 = x0 * y0;
    let p01 = x0 * y1;
    let p10 = x1 * y0;
    let p11 = x1 * y1;
    // The middle column collects three 64-bit pieces, so it cannot overflow 128 bits.
    let mid = (p00 >> 64) + (p01 & LOW) + (p10 & LOW);
    let lo = (p00 & LOW) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (hi, lo)
}

/// `(hi·2^128 + lo) / d` and its remainder, for `hi < d` (so the quotient fits in 128 bits).
fn div_wide(hi: u128, lo: u128, d: u128) -> (u128, u128) {
    const LOW: u128 = u64::MAX as u128;
    if d <= LOW {
        // Magnitudes, WAD and slashing factors are all below 2^64: two native divisions of 64-bit
        // digits, each remainder below `d` so each partial numerator fits in 128 bits.
        let n1 = (hi << 64) | (lo >> 64);
        let (q1, r1) = (n1 / d, n1 % d);
        let n0 = (r1 << 64) | (lo & LOW);
        let (q0, r0) = (n0 / d, n0 % d);
        return ((q1 << 64) | q0, r0);
    }
    // A wide divisor (a large share count or scaling factor): schoolbook division in 64-bit digits
    // (Knuth's algorithm D) after shifting the divisor's top bit up, two quotient digits.
    let shift = d.leading_zeros();
    let d = d << shift;
    let n_hi = if shift == 0 { hi } else { (hi << shift) | (lo >> (128 - shift)) };
    let n_lo = lo << shift;
    let (q1, r) = div_3by2(n_hi, (n_lo >> 64) as u64, d);
    let (q0, r) = div_3by2(r, n_lo as u64, d);
    (((q1 as u128) << 64) | q0 as u128, r >> shift)
}

/// `(u·2^64 + u0) / d` and its remainder, for a divisor with its top bit set and `u < d` (so the
/// quotient is one 64-bit digit).
fn div_3by2(u: u128, u0: u64, d: u128) -> (u64, u128) {
    const BASE: u128 = 1 << 64;
    let (d1, d0) = ((d >> 64) as u64, d as u64);
    let u2 = (u >> 64) as u64;
    // Estimate from the top digits, then correct with the divisor's second digit: the estimate
    // ends at most one too large.
    let mut qhat = if u2 >= d1 { u64::MAX } else { (u / d1 as u128) as u64 };
    let mut rhat = u - qhat as u128 * d1 as u128;
    while rhat < BASE && qhat as u128 * d0 as u128 > ((rhat << 64) | u0 as u128) {
        qhat -= 1;
        rhat += d1 as u128;
    }
    // u·2^64 + u0 − qhat·d over three digits; a borrow out means one too many.
    let p0 = qhat as u128 * d0 as u128;
    let p1 = qhat as u128 * d1 as u128 + (p0 >> 64);
    let (r0, b0) = u0.overflowing_sub(p0 as u64);
    let (r1, b1a) = (u as u64).overflowing_sub(p1 as u64);
    let (r1, b1b) = r1.overflowing_sub(b0 as u64);
    let (_, b2a) = u2.overflowing_sub((p1 >> 64) as u64);
    let (_, b2b) = u2.wrapping_sub((p1 >> 64) as u64).overflowing_sub((b1a | b1b) as u64);
    let r = ((r1 as u128) << 64) | r0 as u128;
    if b2a | b2b {
        (qhat - 1, r.wrapping_add(d))
    } else {
        (qhat, r)
    }
}

/// The one-bit-at-a-time division the digit division must agree with.
#[cfg(test)]
fn div_wide_bitwise(hi: u128, lo: u128, d: u128) -> (u128, u128) {
    let mut r = hi;
    let mut q = 0u128;
    for i in (0..128).rev() {
        let carry = r >> 127;
        r = (r << 1) | ((lo >> i) & 1);
        q <<= 1;
        if carry == 1 || r >= d {
            // With the carry the true remainder is 2^128 + r, still below 2d, so the wrapped
            // difference is the exact one.
            r = r.wrapping_sub(d);
            q |= 1;
        }
    }
    (q, r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_product_matches_known_squares() {
        // (2^128 - 1)^2 = 2^256 - 2^129 + 1.
        assert_eq!(mul_wide(u128::MAX, u128::MAX), (u128::MAX - 1, 1));
        // 2^64 · 2^64 = 2^128.
        assert_eq!(mul_wide(1 << 64, 1 << 64), (1, 0));
    }

    #[test]
    fn mul_div_full_width() {
        // (2^128 - 1)^2 / (2^128 - 1) = 2^128 - 1, through the shift-and-subtract path.
        assert_eq!(mul_div(u128::MAX, u128::MAX, u128::MAX, Rounding::Down), Ok(u128::MAX));
        // 2^127 · 6 / 3 = 2^128: one past the largest result.
        assert_eq!(mul_div(1 << 127, 6, 3, Rounding::Down), Err(Error::Overflow));
        // 10^30 · 10^30 / 10^18 = 10^42 > 2^128.
        assert_eq!(mul_wad(10u128.pow(30), 10u128.pow(30)), Err(Error::Overflow));
        // 10^38 · 10^18 / 10^19 = 10^37 through the 64-bit-digit path (10^19 < 2^64).
        assert_eq!(
            mul_div(10u128.pow(38), 10u128.pow(18), 10u128.pow(19), Rounding::Down),
            Ok(10u128.pow(37))
        );
        // 10^38 · 30 / (3·10^20) = 10^19: a divisor above 2^64 with a product above 2^128.
        assert_eq!(mul_div(10u128.pow(38), 30, 3 * 10u128.pow(20), Rounding::Down), Ok(10u128.pow(19)));
        // (2^100 + 1) · 2^100 / 2^100 = 2^100 + 1 (exact).
        assert_eq!(mul_div((1 << 100) + 1, 1 << 100, 1 << 100, Rounding::Up), Ok((1 << 100) + 1));
    }

    #[test]
    fn digit_division_agrees_with_bitwise() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut checked = 0;
        while checked < 20_000 {
            let wide = |a: u64, b: u64| ((a as u128) << 64) | b as u128;
            // Divisors above 2^64 of every width, some with the low digit all ones or zero.
            let shift = next() % 64;
            let mut d = wide(next() | 1, next()) >> shift;
            match next() % 4 {
                0 => d |= u64::MAX as u128,
                1 => d &= !(u64::MAX as u128),
                _ => {}
            }
            if d <= u64::MAX as u128 {
                continue;
            }
            let hi = wide(next(), next()) % d;
            let lo = wide(next(), next());
            assert_eq!(div_wide(hi, lo, d), div_wide_bitwise(hi, lo, d), "{hi} {lo} {d}");
            checked += 1;
        }
        // Edges: the largest numerator for a divisor, and a divisor of exactly 2^64.
        let d = u128::MAX;
        assert_eq!(div_wide(d - 1, u128::MAX, d), div_wide_bitwise(d - 1, u128::MAX, d));
        let d = 1u128 << 64;
        assert_eq!(div_wide(d - 1, u128::MAX, d + 1), div_wide_bitwise(d - 1, u128::MAX, d + 1));
    }

    #[test]
    fn rounding_up_only_on_a_remainder() {
        assert_eq!(mul_div(7, 1, 2, Rounding::Down), Ok(3));
        assert_eq!(mul_div(7, 1, 2, Rounding::Up), Ok(4));
        assert_eq!(mul_div(8, 1, 2, Rounding::Up), Ok(4));
        assert_eq!(mul_div(u128::MAX, 1, 1, Rounding::Up), Ok(u128::MAX));
        // A wide remainder rounds up too: (2^128 - 1)·3 / 2^65 = 3·2^63 - 1 remainder 2^65 - 3.
        assert_eq!(mul_div(u128::MAX, 3, 1 << 65, Rounding::Down), Ok(3 * (1 << 63) - 1));
        assert_eq!(mul_div(u128::MAX, 3, 1 << 65, Rounding::Up), Ok(3 * (1 << 63)));
        assert_eq!(mul_div(1, 1, 0, Rounding::Down), Err(Error::DivisionByZero));
    }

    #[test]
    fn two_wad_products_with_a_wide_middle() {
        // 4e37 · 1e31 / 1e18 = 4e50 between the two steps; · 9e4 / 1e18 = 3.6e37 at the end.
        let x = 4 * 10u128.pow(37);
        assert_eq!(mul_wad_mul_wad(x, 10u128.pow(31), 90_000), Ok(36 * 10u128.pow(36)));
        // Each step rounds down: (7 · 1 / 1e18 = 0) · anything = 0, but 7e18·3/1e18 = 21, ·1/1e18 = 0.
        assert_eq!(mul_wad_mul_wad(7, 1, WAD as u128), Ok(0));
        assert_eq!(
            mul_wad_mul_wad(7 * WAD as u128, 3 * WAD as u128, WAD as u128 / 2),
            Ok(10 * WAD as u128 + WAD as u128 / 2)
        );
        // A final value of 2^128 or more is refused.
        assert_eq!(mul_wad_mul_wad(u128::MAX, u128::MAX, WAD as u128), Err(Error::Overflow));
        // Narrow middle values take the plain path and agree with two mul_wad calls.
        let (a, b, c) = (123_456_789_012_345_678_901u128, 987_654_321_098_765_432, 555_555_555_555_555_555);
        assert_eq!(mul_wad_mul_wad(a, b, c), mul_wad(mul_wad(a, b).unwrap(), c));
    }

    #[test]
    fn wad_helpers() {
        // SlashingLib: mulWadRoundUp(5e17, 25e16) = 1.25e17 exactly; mulWad of a third rounds down.
        assert_eq!(mul_wad_round_up(5 * 10u128.pow(17), 25 * 10u128.pow(16)), Ok(125 * 10u128.pow(15)));
        assert_eq!(mul_wad(100 * 10u128.pow(18), (WAD / 3) as u128), Ok(33_333_333_333_333_333_300));
        assert_eq!(div_wad(1, (WAD + 1) as u128), Ok(0));
        assert_eq!(mul_wad_round_up(1, 1), Ok(1));
    }
}
