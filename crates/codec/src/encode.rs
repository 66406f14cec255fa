use std::collections::{BTreeMap, BTreeSet};

use crate::natural;

/// A type with a Gray Paper encoding.
pub trait Encode {
    /// Appends the encoding of `self` to `out`.
    fn encode_to(&self, out: &mut Vec<u8>);

    /// A guess at the encoded size, used to size buffers; never a promise.
    fn size_hint(&self) -> usize {
        0
    }

    /// The encoding of `self` in a fresh buffer.
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.size_hint());
        self.encode_to(&mut out);
        out
    }

    /// Appends the concatenated encodings of `items`, without a length prefix.
    ///
    /// Byte sequences override this with a single copy, which is why it lives on the trait.
    #[doc(hidden)]
    fn encode_slice_to(items: &[Self], out: &mut Vec<u8>)
    where
        Self: Sized,
    {
        for item in items {
            item.encode_to(out);
        }
    }
}

impl<T: Encode + ?Sized> Encode for &T {
    fn encode_to(&self, out: &mut Vec<u8>) {
        (**self).encode_to(out)
    }
    fn size_hint(&self) -> usize {
        (**self).size_hint()
    }
}

impl<T: Encode + ?Sized> Encode for Box<T> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        (**self).encode_to(out)
    }
    fn size_hint(&self) -> usize {
        (**self).size_hint()
    }
}

impl Encode for u8 {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
    fn size_hint(&self) -> usize {
        1
    }
    fn encode_slice_to(items: &[Self], out: &mut Vec<u8>) {
        out.extend_from_slice(items);
    }
}

macro_rules! fixed_int {
    ($($t:ty),*) => {$(
        impl Encode for $t {
            fn encode_to(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn size_hint(&self) -> usize {
                std::mem::size_of::<$t>()
            }
        }
    )*};
}
fixed_int!(u16, u32, u64);

impl Encode for bool {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    fn size_hint(&self) -> usize {
        1
    }
}

impl Encode for () {
    fn encode_to(&self, _out: &mut Vec<u8>) {}
}

impl<T: Encode, const N: usize> Encode for [T; N] {
    fn encode_to(&self, out: &mut Vec<u8>) {
        T::encode_slice_to(self, out);
    }
    fn size_hint(&self) -> usize {
        self.iter().map(Encode::size_hint).sum()
    }
}

/// A slice encodes with its length prefix, as `↕x` does; fixed-length sequences use arrays or the
/// `len` field attribute instead.
impl<T: Encode> Encode for [T] {
    fn encode_to(&self, out: &mut Vec<u8>) {
        natural::encode_to(self.len() as u64, out);
        T::encode_slice_to(self, out);
    }
    fn size_hint(&self) -> usize {
        natural::encoded_len(self.len() as u64) + self.iter().map(Encode::size_hint).sum::<usize>()
    }
}

impl<T: Encode> Encode for Vec<T> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.as_slice().encode_to(out)
    }
    fn size_hint(&self) -> usize {
        self.as_slice().size_hint()
    }
}

impl<T: Encode> Encode for Option<T> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(value) => {
                out.push(1);
                value.encode_to(out);
            }
        }
    }
    fn size_hint(&self) -> usize {
        1 + self.as_ref().map_or(0, Encode::size_hint)
    }
}

impl<K: Encode, V: Encode> Encode for BTreeMap<K, V> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        natural::encode_to(self.len() as u64, out);
        for (key, value) in self {
            key.encode_to(out);
            value.encode_to(out);
        }
    }
}

impl<T: Encode> Encode for BTreeSet<T> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        natural::encode_to(self.len() as u64, out);
        for item in self {
            item.encode_to(out);
        }
    }
}

macro_rules! tuple {
    ($($name:ident),+) => {
        impl<$($name: Encode),+> Encode for ($($name,)+) {
            #[allow(non_snake_case)]
            fn encode_to(&self, out: &mut Vec<u8>) {
                let ($($name,)+) = self;
                $($name.encode_to(out);)+
            }
        }
    };
}
tuple!(A);
tuple!(A, B);
tuple!(A, B, C);
tuple!(A, B, C, D);

/// An unsigned integer that can be written in the general natural-number encoding.
pub trait CompactInt: Copy {
    const NAME: &'static str;
    fn to_u64(self) -> u64;
    fn from_u64(value: u64) -> Option<Self>;
}

macro_rules! compact_int {
    ($($t:ty),*) => {$(
        impl CompactInt for $t {
            const NAME: &'static str = stringify!($t);
            fn to_u64(self) -> u64 {
                self as u64
            }
            fn from_u64(value: u64) -> Option<Self> {
                Self::try_from(value).ok()
            }
        }
    )*};
}
compact_int!(u8, u16, u32, u64, usize);

/// An integer encoded with the general natural-number encoding instead of its fixed width.
///
/// Struct fields use the `#[codec(compact)]` attribute; this wrapper is for elements of sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Compact<T>(pub T);

impl<T: CompactInt> Encode for Compact<T> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        natural::encode_to(self.0.to_u64(), out);
    }
    fn size_hint(&self) -> usize {
        natural::encoded_len(self.0.to_u64())
    }
}
