//! The general natural-number encoding (GP 0.7.2 Appendix C, "general natural number serialization").
//!
//! A value below 2^64 takes one to nine bytes: a prefix byte whose leading one-bits count the `l`
//! little-endian bytes that follow, with the high part of the value in the prefix's remaining bits.

use crate::Error;

/// The longest encoding of a natural number.
pub const MAX_LEN: usize = 9;

/// Appends the encoding of `x` to `out`.
pub fn encode_to(x: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; MAX_LEN];
    let len = encode_into(x, &mut buf);
    out.extend_from_slice(&buf[..len]);
}

/// Writes the encoding of `x` into `buf` and returns its length.
pub fn encode_into(x: u64, buf: &mut [u8; MAX_LEN]) -> usize {
    if x < 0x80 {
        buf[0] = x as u8;
        return 1;
    }
    // l is the number of whole bytes that follow the prefix: the smallest l with x < 2^(7(l+1)).
    let bits = 64 - x.leading_zeros() as usize;
    let l = (bits - 1) / 7;
    if l >= 8 {
        buf[0] = 0xff;
        buf[1..9].copy_from_slice(&x.to_le_bytes());
        return 9;
    }
    let high = (x >> (8 * l)) as u8;
    buf[0] = (0xffu16 << (8 - l)) as u8 | high;
    buf[1..=l].copy_from_slice(&x.to_le_bytes()[..l]);
    l + 1
}

/// The length in bytes of the encoding of `x`.
pub fn encoded_len(x: u64) -> usize {
    if x < 0x80 {
        1
    } else {
        let bits = 64 - x.leading_zeros() as usize;
        ((bits - 1) / 7).min(8) + 1
    }
}

/// Decodes a natural number from the front of `input`, returning it and the bytes it used.
///
/// Rejects encodings that are not the shortest one for their value, so that every value has exactly
/// one encoding, as the paper's codec requires.
pub fn decode(input: &[u8]) -> Result<(u64, usize), Error> {
    let Some(&prefix) = input.first() else {
        return Err(Error::UnexpectedEnd { needed: 1, remaining: 0 });
    };
    let l = prefix.leading_ones() as usize;
    if l == 0 {
        return Ok((u64::from(prefix), 1));
    }
    let Some(tail) = input.get(1..=l) else {
        return Err(Error::UnexpectedEnd { needed: l, remaining: input.len() - 1 });
    };
    let mut low = [0u8; 8];
    low[..l].copy_from_slice(tail);
    let low = u64::from_le_bytes(low);
    let value = if l == 8 {
        low
    } else {
        let high = u64::from(prefix) & (0xff >> (l + 1));
        (high << (8 * l)) | low
    };
    if value < (1u64 << (7 * l)) {
        return Err(Error::NonCanonicalNatural);
    }
    Ok((value, l + 1))
}
