/// Why a byte string is not the encoding of the requested type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("input ends early: {needed} more bytes needed, {remaining} left")]
    UnexpectedEnd { needed: usize, remaining: usize },
    #[error("{0} bytes left over after the value")]
    TrailingBytes(usize),
    #[error("natural number is not in its shortest encoding")]
    NonCanonicalNatural,
    #[error("natural number {value} does not fit in {target}")]
    NaturalOverflow { value: u64, target: &'static str },
    #[error("sequence length {len} exceeds the {remaining} bytes left")]
    LengthTooLarge { len: u64, remaining: usize },
    #[error("invalid discriminator {value} for {type_name}")]
    InvalidDiscriminator { type_name: &'static str, value: u64 },
    #[error("dictionary or set keys are not strictly increasing")]
    UnsortedKeys,
    #[error("bit sequence has non-zero padding bits")]
    NonZeroPadding,
    #[error("invalid value for {0}")]
    InvalidValue(&'static str),
    #[error("decoding {0} needs the chain spec's lengths, and the decoder has none")]
    MissingLengths(&'static str),
}
