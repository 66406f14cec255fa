//! The few encodings of GP 0.7.2 Appendix C that a service's protocol needs, written and read:
//! `E_n` (fixed-width little-endian, eq. C.12), the compact natural `E` (eq. C.1) and `E(↕x)`
//! (eq. C.10). `no_std` and without dependencies, so that one protocol crate (`orrery-subnet`,
//! `orrery-registry`, `orrery-restaking`) compiles both into its service for the PVM and into host
//! code that builds payloads and reads storage.
//!
//! Every read is `None` past the end or on a non-canonical natural, and a count is checked
//! against the octets left before anyone allocates for it. The service SDK's own codec
//! (`orrery_service_sdk::codec`) reads the host's answers inside a guest; this one is for the
//! protocols services define on top.
#![no_std]

extern crate alloc;

use alloc::vec::Vec;

/// Appends `E(x)`, the compact natural encoding (GP 0.7.2 eq. C.1).
pub fn put_natural(out: &mut Vec<u8>, x: u64) {
    if x < 1 << 7 {
        out.push(x as u8);
        return;
    }
    for l in 1..8u32 {
        if x < 1u64 << (7 * (l + 1)) {
            let prefix = (256 - (1u32 << (8 - l))) as u64 + (x >> (8 * l));
            out.push(prefix as u8);
            out.extend_from_slice(&x.to_le_bytes()[..l as usize]);
            return;
        }
    }
    out.push(0xff);
    out.extend_from_slice(&x.to_le_bytes());
}

/// A cursor over encoded octets; every read is `None` past the end.
#[derive(Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.data.len() < n {
            return None;
        }
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        Some(head)
    }

    pub fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.bytes(N)?.try_into().ok()
    }

    pub fn u8(&mut self) -> Option<u8> {
        Some(self.array::<1>()?[0])
    }

    pub fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.array()?))
    }

    pub fn u128(&mut self) -> Option<u128> {
        Some(u128::from_le_bytes(self.array()?))
    }

    pub fn i128(&mut self) -> Option<i128> {
        Some(i128::from_le_bytes(self.array()?))
    }

    pub fn bool(&mut self) -> Option<bool> {
        match self.u8()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    /// `E(x)` (eq. C.1); a non-canonical (over-long) encoding is refused.
    pub fn natural(&mut self) -> Option<u64> {
        let first = self.u8()?;
        let l = first.leading_ones();
        let x = if l == 0 {
            u64::from(first)
        } else if l == 8 {
            self.u64()?
        } else {
            let mut low = [0u8; 8];
            low[..l as usize].copy_from_slice(self.bytes(l as usize)?);
            let high = u64::from(first) & (0xff >> (l + 1));
            (high << (8 * l)) | u64::from_le_bytes(low)
        };
        let mut canonical = Vec::new();
        put_natural(&mut canonical, x);
        (canonical.len() == 1 + l as usize).then_some(x)
    }

    /// A count `E(n)` no larger than `max`, and no larger than the octets left could hold at
    /// `min_size` octets each, so that a forged count cannot make the reader allocate.
    pub fn count(&mut self, max: usize, min_size: usize) -> Option<usize> {
        let n = usize::try_from(self.natural()?).ok()?;
        (n <= max && n.saturating_mul(min_size) <= self.data.len()).then_some(n)
    }
}

/// Appends `E(↕x)`: the length, then the octets (GP 0.7.2 eq. C.10).
pub fn put_blob(out: &mut Vec<u8>, x: &[u8]) {
    put_natural(out, x.len() as u64);
    out.extend_from_slice(x);
}

impl<'a> Reader<'a> {
    /// What [`put_blob`] wrote, borrowed: a length beyond the octets left is refused, so nothing is
    /// allocated from a forged length (the caller checks the field's cap before keeping a copy).
    pub fn blob(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.natural()?).ok()?;
        self.bytes(n)
    }

    /// The octets not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.data
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::*;

    /// GP 0.7.2 eq. C.1 worked by hand: 0 → [0]; 127 → [0x7f]; 128 = 2^7 → l = 1, prefix
    /// 2^8 − 2^7 + ⌊128/2^8⌋ = 0x80, then 0x80; 2^14 → l = 2, prefix 0xc0 + 0, then 00 40;
    /// 2^56 → [0xff] ‖ E_8.
    #[test]
    fn naturals_encode_as_the_paper_writes_them() {
        let cases: [(u64, &[u8]); 6] = [
            (0, &[0]),
            (127, &[0x7f]),
            (128, &[0x80, 0x80]),
            (1000, &[0x83, 0xe8]),
            (1 << 14, &[0xc0, 0x00, 0x40]),
            (1 << 56, &[0xff, 0, 0, 0, 0, 0, 0, 0, 1]),
        ];
        for (x, bytes) in cases {
            let mut out = Vec::new();
            put_natural(&mut out, x);
            assert_eq!(out, bytes, "{x}");
            let mut r = Reader::new(bytes);
            assert_eq!(r.natural(), Some(x));
            assert!(r.is_empty());
        }
        // 5 written in two octets is not canonical.
        assert_eq!(Reader::new(&[0x80, 0x05]).natural(), None);
        assert_eq!(Reader::new(&[0x80]).natural(), None);
    }

    #[test]
    fn a_count_beyond_the_data_is_refused() {
        assert_eq!(Reader::new(&[3, 0, 0, 0, 0, 0, 0]).count(10, 2), Some(3));
        assert_eq!(Reader::new(&[3, 0, 0, 0, 0, 0]).count(10, 2), None);
        assert_eq!(Reader::new(&[11]).count(10, 0), None);
    }
}
