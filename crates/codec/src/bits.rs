use crate::{natural, Decode, Decoder, Describe, Encode, Error, Value};

/// A bit sequence packed least-significant bit first (GP 0.7.2 Appendix C, "bit sequence encoding").
///
/// As a plain [`Encode`]/[`Decode`] value it carries its bit count as a length prefix; a field whose
/// bit count the chain spec fixes (an assurance's per-core bitfield) uses `#[codec(bits = ...)]`,
/// which calls [`BitVec::encode_fixed_to`] and [`BitVec::decode_fixed`] instead.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct BitVec {
    bytes: Vec<u8>,
    len: usize,
}

impl BitVec {
    /// `len` bits, all zero.
    pub fn zeros(len: usize) -> Self {
        Self { bytes: vec![0; len.div_ceil(8)], len }
    }

    pub fn from_bools(bits: impl IntoIterator<Item = bool>) -> Self {
        let mut out = Self::default();
        for bit in bits {
            out.push(bit);
        }
        out
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bit at `index`, or `None` past the end.
    pub fn get(&self, index: usize) -> Option<bool> {
        (index < self.len).then(|| self.bytes[index / 8] >> (index % 8) & 1 == 1)
    }

    /// Sets the bit at `index`; panics past the end like slice indexing does.
    pub fn set(&mut self, index: usize, value: bool) {
        assert!(index < self.len, "bit index {index} out of range for {} bits", self.len);
        let mask = 1 << (index % 8);
        if value {
            self.bytes[index / 8] |= mask;
        } else {
            self.bytes[index / 8] &= !mask;
        }
    }

    pub fn push(&mut self, bit: bool) {
        if self.len % 8 == 0 {
            self.bytes.push(0);
        }
        self.len += 1;
        self.set(self.len - 1, bit);
    }

    pub fn iter(&self) -> impl Iterator<Item = bool> + '_ {
        (0..self.len).map(|i| self.bytes[i / 8] >> (i % 8) & 1 == 1)
    }

    /// The number of set bits.
    pub fn count_ones(&self) -> usize {
        self.bytes.iter().map(|b| b.count_ones() as usize).sum()
    }

    /// The packed bytes, padding bits zero.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Appends the packed bits with no length prefix.
    pub fn encode_fixed_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.bytes);
    }

    /// Reads `len` packed bits with no length prefix. Padding bits must be zero: they are not part of
    /// any encoding, so a set one means the bytes encode no bit sequence at all.
    pub fn decode_fixed(d: &mut Decoder<'_>, len: usize) -> Result<Self, Error> {
        let bytes = d.take(len.div_ceil(8))?.to_vec();
        if len % 8 != 0 && bytes.last().is_some_and(|last| last >> (len % 8) != 0) {
            return Err(Error::NonZeroPadding);
        }
        Ok(Self { bytes, len })
    }
}

impl std::fmt::Debug for BitVec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for bit in self.iter() {
            f.write_str(if bit { "1" } else { "0" })?;
        }
        Ok(())
    }
}

impl Encode for BitVec {
    fn encode_to(&self, out: &mut Vec<u8>) {
        natural::encode_to(self.len as u64, out);
        self.encode_fixed_to(out);
    }
}

impl Decode for BitVec {
    fn decode(d: &mut Decoder<'_>) -> Result<Self, Error> {
        let len = d.natural()?;
        if len.div_ceil(8) > d.remaining() as u64 {
            return Err(Error::LengthTooLarge { len, remaining: d.remaining() });
        }
        Self::decode_fixed(d, len as usize)
    }
}

impl Describe for BitVec {
    fn describe(&self) -> Value {
        Value::Bytes(self.bytes.clone())
    }
}
