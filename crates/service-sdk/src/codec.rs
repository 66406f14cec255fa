//! The pieces of the Gray Paper codec (GP 0.7.2 Appendix C) a service needs to read its arguments
//! and the host's answers: general naturals `E(x)`, fixed-width little-endian integers `E_n(x)`,
//! hashes and length-prefixed blobs.

use alloc::vec::Vec;

/// Appends `E(x)`, the general natural encoding (one to nine octets).
pub fn encode_natural(x: u64, out: &mut Vec<u8>) {
    if x < 0x80 {
        out.push(x as u8);
        return;
    }
    let bits = 64 - x.leading_zeros() as usize;
    let l = (bits - 1) / 7;
    if l >= 8 {
        out.push(0xff);
        out.extend_from_slice(&x.to_le_bytes());
        return;
    }
    // l prefix bits of 1, then the top bits of x; the low l octets follow.
    out.push(((0xff00u16 >> l) as u8) | (x >> (8 * l)) as u8);
    out.extend_from_slice(&x.to_le_bytes()[..l]);
}

/// `E(x)` as a vector.
pub fn natural(x: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(9);
    encode_natural(x, &mut out);
    out
}

/// Reads encoded values from the front of a byte slice; each method returns `None`, consuming
/// nothing, when the data ends too soon or is not a valid encoding.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// What has not been read.
    pub fn rest(&self) -> &'a [u8] {
        self.data
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next `n` octets.
    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.data.len() {
            return None;
        }
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        Some(head)
    }

    /// The next `N` octets as an array.
    pub fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Some(out)
    }

    /// `E_n(x)` for `n` of 1 to 8: a little-endian unsigned integer of `n` octets.
    pub fn fixed(&mut self, n: usize) -> Option<u64> {
        if n > 8 {
            return None;
        }
        let mut bytes = [0u8; 8];
        bytes[..n].copy_from_slice(self.bytes(n)?);
        Some(u64::from_le_bytes(bytes))
    }

    pub fn u8(&mut self) -> Option<u8> {
        self.fixed(1).map(|x| x as u8)
    }

    pub fn u16(&mut self) -> Option<u16> {
        self.fixed(2).map(|x| x as u16)
    }

    pub fn u32(&mut self) -> Option<u32> {
        self.fixed(4).map(|x| x as u32)
    }

    pub fn u64(&mut self) -> Option<u64> {
        self.fixed(8)
    }

    /// A 32-octet hash.
    pub fn hash(&mut self) -> Option<[u8; 32]> {
        self.array::<32>()
    }

    /// `E(x)`: a general natural.
    pub fn natural(&mut self) -> Option<u64> {
        let mut copy = *self;
        let first = copy.u8()?;
        let l = first.leading_ones() as usize;
        let value = if l == 8 {
            copy.u64()?
        } else {
            let high = u64::from(first) & (0xff >> (l + 1));
            let low = copy.fixed(l)?;
            high << (8 * l) | low
        };
        *self = copy;
        Some(value)
    }

    /// `↕x`: a blob with its length as a general natural before it.
    pub fn var_bytes(&mut self) -> Option<&'a [u8]> {
        let mut copy = *self;
        let len = usize::try_from(copy.natural()?).ok()?;
        let bytes = copy.bytes(len)?;
        *self = copy;
        Some(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naturals_round_trip_at_every_width() {
        // Boundaries of each encoded width (GP 0.7.2 eq. C.1): 2^(7(l+1)) − 1 and 2^(7(l+1)).
        let mut values = alloc::vec![0, 1, 0x7f, 0x80, u64::MAX, u64::MAX - 1];
        for l in 1..9u32 {
            let edge = 1u64.checked_shl(7 * l).unwrap_or(u64::MAX);
            values.extend([edge - 1, edge, edge + 1]);
        }
        for x in values {
            let encoded = natural(x);
            let mut reader = Reader::new(&encoded);
            assert_eq!(reader.natural(), Some(x), "{x:#x} as {encoded:02x?}");
            assert!(reader.is_empty());
        }
    }

    #[test]
    fn naturals_match_the_paper_by_hand() {
        // x = 2^7: l = 1, prefix 0b10, high bits 0, then one octet 0x80.
        assert_eq!(natural(128), [0x80, 0x80]);
        // x = 0x1234: l = 1, 0x80 | 0x12, then 0x34.
        assert_eq!(natural(0x1234), [0x92, 0x34]);
        // x = 2^14: l = 2, 0xc0 | 0, then 0x00 0x40.
        assert_eq!(natural(1 << 14), [0xc0, 0x00, 0x40]);
        // Nine octets once 2^56 is reached.
        assert_eq!(natural(1 << 56), [0xff, 0, 0, 0, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn short_input_consumes_nothing() {
        let data = [0x92];
        let mut reader = Reader::new(&data);
        assert_eq!(reader.natural(), None);
        assert_eq!(reader.rest(), &data);
        let data = [3, 1, 2];
        let mut reader = Reader::new(&data);
        assert_eq!(reader.var_bytes(), None);
        assert_eq!(reader.rest(), &data);
    }
}
