use std::collections::{BTreeMap, BTreeSet};

use crate::encode::{Compact, CompactInt};
use crate::{natural, Error};

/// The chain-spec lengths of the sequences that the paper encodes without a length prefix.
///
/// The codec does not know chain specs; `orrery-types` builds this from one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lengths {
    validators_count: usize,
    cores_count: usize,
    epoch_length: usize,
}

impl Lengths {
    pub const fn new(validators_count: usize, cores_count: usize, epoch_length: usize) -> Self {
        Self { validators_count, cores_count, epoch_length }
    }
    /// `V`: the number of validators.
    pub const fn validators_count(&self) -> usize {
        self.validators_count
    }
    /// `C`: the number of cores.
    pub const fn cores_count(&self) -> usize {
        self.cores_count
    }
    /// `E`: the number of slots in an epoch.
    pub const fn epoch_length(&self) -> usize {
        self.epoch_length
    }
    /// The number of judgments in a verdict: a two-thirds supermajority plus one, `⌊2V/3⌋ + 1`.
    pub const fn votes_per_verdict(&self) -> usize {
        self.validators_count * 2 / 3 + 1
    }
}

/// A cursor over untrusted input.
#[derive(Debug, Clone)]
pub struct Decoder<'a> {
    input: &'a [u8],
    lengths: Option<Lengths>,
}

impl<'a> Decoder<'a> {
    /// A decoder for types whose layout depends on the chain spec.
    pub fn new(input: &'a [u8], lengths: Lengths) -> Self {
        Self { input, lengths: Some(lengths) }
    }

    /// A decoder for types whose layout is the same in every chain spec; asking it for
    /// [`Lengths`] is an error, not a guess.
    pub fn without_lengths(input: &'a [u8]) -> Self {
        Self { input, lengths: None }
    }

    /// The chain-spec lengths, or an error naming what needed them.
    pub fn lengths(&self, what: &'static str) -> Result<Lengths, Error> {
        self.lengths.ok_or(Error::MissingLengths(what))
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.input.len()
    }

    /// The unread input.
    pub fn rest(&self) -> &'a [u8] {
        self.input
    }

    /// Ends decoding, rejecting any bytes left over.
    pub fn finish(self) -> Result<(), Error> {
        match self.input.len() {
            0 => Ok(()),
            n => Err(Error::TrailingBytes(n)),
        }
    }

    /// Reads `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if n > self.input.len() {
            return Err(Error::UnexpectedEnd { needed: n, remaining: self.input.len() });
        }
        let (head, tail) = self.input.split_at(n);
        self.input = tail;
        Ok(head)
    }

    /// Reads exactly `N` bytes into an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.array::<1>()?[0])
    }
    pub fn u16(&mut self) -> Result<u16, Error> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    pub fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub fn u64(&mut self) -> Result<u64, Error> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Reads a natural number in the general encoding.
    pub fn natural(&mut self) -> Result<u64, Error> {
        let (value, used) = natural::decode(self.input)?;
        self.input = &self.input[used..];
        Ok(value)
    }

    /// Reads a natural number and narrows it to `T`.
    pub fn compact<T: CompactInt>(&mut self) -> Result<T, Error> {
        let value = self.natural()?;
        T::from_u64(value).ok_or(Error::NaturalOverflow { value, target: T::NAME })
    }

    /// Reads a sequence length prefix. Every element of every protocol sequence takes at least one
    /// byte, so a length beyond the remaining input is malformed; rejecting it here is also what
    /// keeps allocations bounded by the input.
    pub fn length(&mut self) -> Result<usize, Error> {
        let len = self.natural()?;
        if len > self.input.len() as u64 {
            return Err(Error::LengthTooLarge { len, remaining: self.input.len() });
        }
        Ok(len as usize)
    }
}

/// A type that can be decoded from its Gray Paper encoding.
pub trait Decode: Sized {
    fn decode(d: &mut Decoder<'_>) -> Result<Self, Error>;

    /// Decodes `n` consecutive values with no length prefix.
    #[doc(hidden)]
    fn decode_vec(d: &mut Decoder<'_>, n: usize) -> Result<Vec<Self>, Error> {
        // Bounded by the input, whatever `n` claims; `n` itself may come from the chain spec.
        let mut out = Vec::with_capacity(n.min(d.remaining()));
        for _ in 0..n {
            out.push(Self::decode(d)?);
        }
        Ok(out)
    }

    /// Decodes `N` consecutive values into an array.
    #[doc(hidden)]
    fn decode_array<const N: usize>(d: &mut Decoder<'_>) -> Result<[Self; N], Error> {
        let items = Self::decode_vec(d, N)?;
        // The vector has exactly N items, so the conversion cannot fail.
        items.try_into().map_err(|_| Error::InvalidValue("fixed-length array"))
    }

    /// Decodes a value that must span all of `bytes` (no chain-spec lengths).
    fn decode_all(bytes: &[u8]) -> Result<Self, Error> {
        let mut d = Decoder::without_lengths(bytes);
        let value = Self::decode(&mut d)?;
        d.finish()?;
        Ok(value)
    }
}

/// Decodes a value that must span all of `bytes`, with the chain spec's lengths.
pub fn decode_exact<T: Decode>(bytes: &[u8], lengths: Lengths) -> Result<T, Error> {
    let mut d = Decoder::new(bytes, lengths);
    let value = T::decode(&mut d)?;
    d.finish()?;
    Ok(value)
}

/// Decodes `n` values with no length prefix (a sequence whose length the chain spec fixes).
pub fn decode_fixed_vec<T: Decode>(d: &mut Decoder<'_>, n: usize) -> Result<Vec<T>, Error> {
    T::decode_vec(d, n)
}

impl<T: Decode> Decode for Box<T> {
    fn decode(d: &mut Decoder<'_>) -> Result<Self, Error> {
        T::decode(d).map(Box::new)
    }
}

impl Decode for u8 {
    fn decode(d: &mut Decoder<'_>) -> Result<Self, Error> {
        d.u8()
    }
    fn decode_vec(d: &mut Decoder<'_>, n: usize) -> Result<Vec<Self>, Error> {
        d.take(n).map(<[u8]>::to_vec)
    }
    fn decode_array<const N: usize>(d: &mut Decoder<'_>) -> Result<[Self; N], Error> {
        d.array()
    }
}

impl Decode for u16 {
    fn decode(d: &mut Decoder<'_>) -> Result<Self, Error> {
        d.u16()
    }
}
impl Decode for u32 {
    fn decode(d: &mut Decoder<'_>) -> Result<Self, Error> {
        d.u32()
    }
}
impl Decode for u64 {
    fn decode(d: &mut Decoder<'_>) -> Result<Self, Error> {
        d.u64()
    }
}

impl Decode for bool {
    fn decode(d: &mut Decoder<'_>) -> Result<Self, Error> {
        match d.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Error::InvalidValue("bool")),
        }
    }
}

impl Decode for () {
    fn decode(_d: &mut Decoder<'_>) -> Result<Self, Error> {
        Ok(())
    }
}

impl<T: Decode, const N: usize> Decode for [T; N] {
    fn decode(d: &mut Decoder<'_>) -> Result<Self, Error> {
        T::decode_array(d)
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(d: &mut Decoder<'_>) -> Result<Self, Error> {
        let n = d.length()?;
        T::decode_vec(d, n)
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(d: &mut Decoder<'_>) -> Result<Self, Error> {
        match d.u8()? {
            0 => Ok(None),
            1 => T::decode(d).map(Some),
            value => Err(Error::InvalidDiscriminator { type_name: "Option", value: value.into() }),
        }
    }
}

impl<K: Decode + Ord, V: Decode> Decode for BTreeMap<K, V> {
    fn decode(d: &mut Decoder<'_>) -> Result<Self, Error> {
        let n = d.length()?;
        let mut map = BTreeMap::new();
        for _ in 0..n {
            let key = K::decode(d)?;
            let value = V::decode(d)?;
            // The paper orders pairs by key; a second order for the same map would break the
            // one-value-one-encoding property.
            if map.last_key_value().is_some_and(|(last, _)| *last >= key) {
                return Err(Error::UnsortedKeys);
            }
            map.insert(key, value);
        }
        Ok(map)
    }
}

impl<T: Decode + Ord> Decode for BTreeSet<T> {
    fn decode(d: &mut Decoder<'_>) -> Result<Self, Error> {
        let n = d.length()?;
        let mut set = BTreeSet::new();
        for _ in 0..n {
            let item = T::decode(d)?;
            if set.last().is_some_and(|last| *last >= item) {
                return Err(Error::UnsortedKeys);
            }
            set.insert(item);
        }
        Ok(set)
    }
}

macro_rules! tuple {
    ($($name:ident),+) => {
        impl<$($name: Decode),+> Decode for ($($name,)+) {
            fn decode(d: &mut Decoder<'_>) -> Result<Self, Error> {
                Ok(($($name::decode(d)?,)+))
            }
        }
    };
}
tuple!(A);
tuple!(A, B);
tuple!(A, B, C);
tuple!(A, B, C, D);

impl<T: CompactInt> Decode for Compact<T> {
    fn decode(d: &mut Decoder<'_>) -> Result<Self, Error> {
        d.compact().map(Compact)
    }
}
