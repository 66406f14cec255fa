use std::collections::{BTreeMap, BTreeSet};

use crate::Compact;

/// A structural view of a value: what a JSON rendering or a diff needs, and no more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(u64),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    /// Named fields in declaration order.
    Map(Vec<(String, Value)>),
}

impl Value {
    /// A single-field map, the shape of an enum variant.
    pub fn variant(name: &str, inner: Value) -> Self {
        Value::Map(vec![(name.to_owned(), inner)])
    }
}

/// Renders a value as a [`Value`] tree; derived with field names for protocol types.
pub trait Describe {
    fn describe(&self) -> Value;

    /// Byte sequences render as one byte string rather than a list of numbers.
    #[doc(hidden)]
    fn describe_slice(items: &[Self]) -> Value
    where
        Self: Sized,
    {
        Value::List(items.iter().map(Describe::describe).collect())
    }
}

impl<T: Describe + ?Sized> Describe for &T {
    fn describe(&self) -> Value {
        (**self).describe()
    }
}

impl<T: Describe + ?Sized> Describe for Box<T> {
    fn describe(&self) -> Value {
        (**self).describe()
    }
}

impl Describe for u8 {
    fn describe(&self) -> Value {
        Value::Int((*self).into())
    }
    fn describe_slice(items: &[Self]) -> Value {
        Value::Bytes(items.to_vec())
    }
}

macro_rules! int {
    ($($t:ty),*) => {$(
        impl Describe for $t {
            fn describe(&self) -> Value {
                Value::Int(*self as u64)
            }
        }
    )*};
}
int!(u16, u32, u64, usize);

impl Describe for bool {
    fn describe(&self) -> Value {
        Value::Bool(*self)
    }
}

impl Describe for () {
    fn describe(&self) -> Value {
        Value::Null
    }
}

impl<T: Describe, const N: usize> Describe for [T; N] {
    fn describe(&self) -> Value {
        T::describe_slice(self)
    }
}

impl<T: Describe> Describe for [T] {
    fn describe(&self) -> Value {
        T::describe_slice(self)
    }
}

impl<T: Describe> Describe for Vec<T> {
    fn describe(&self) -> Value {
        T::describe_slice(self)
    }
}

impl<T: Describe> Describe for Option<T> {
    fn describe(&self) -> Value {
        self.as_ref().map_or(Value::Null, Describe::describe)
    }
}

impl<K: Describe, V: Describe> Describe for BTreeMap<K, V> {
    fn describe(&self) -> Value {
        Value::List(
            self.iter()
                .map(|(k, v)| Value::Map(vec![("key".into(), k.describe()), ("value".into(), v.describe())]))
                .collect(),
        )
    }
}

impl<T: Describe> Describe for BTreeSet<T> {
    fn describe(&self) -> Value {
        Value::List(self.iter().map(Describe::describe).collect())
    }
}

impl<T: Describe> Describe for Compact<T> {
    fn describe(&self) -> Value {
        self.0.describe()
    }
}

macro_rules! tuple {
    ($($name:ident),+) => {
        impl<$($name: Describe),+> Describe for ($($name,)+) {
            #[allow(non_snake_case)]
            fn describe(&self) -> Value {
                let ($($name,)+) = self;
                Value::List(vec![$($name.describe()),+])
            }
        }
    };
}
tuple!(A);
tuple!(A, B);
tuple!(A, B, C);
tuple!(A, B, C, D);
