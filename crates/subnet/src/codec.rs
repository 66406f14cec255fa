//! The encodings the protocol is written in: `orrery-service-codec`'s (GP 0.7.2 Appendix C's `E_n`
//! and `E`), and the subnet's own `(uid, value)` rows.

use alloc::vec::Vec;

pub use orrery_service_codec::{put_natural, Reader};

/// `E_2`-encoded `(uid, value)` pairs with a count: how weight and bond rows are stored.
pub fn put_pairs(out: &mut Vec<u8>, pairs: &[(u16, u16)]) {
    put_natural(out, pairs.len() as u64);
    for &(j, v) in pairs {
        out.extend_from_slice(&j.to_le_bytes());
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// Reads what [`put_pairs`] wrote.
pub fn read_pairs(r: &mut Reader<'_>) -> Option<Vec<(u16, u16)>> {
    let n = r.count(crate::MAX_NEURONS, 4)?;
    (0..n).map(|_| Some((r.u16()?, r.u16()?))).collect()
}
