//! Why a program or a service blob could not be decoded.

/// A program blob (GP 0.7.2 §A.1, `deblob`) that is not a valid encoding. The paper's Ψ treats such a
/// program as an immediate panic; we report why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProgramError {
    #[error("program ends inside {what}: needed {needed} more bytes, {remaining} left")]
    Truncated { what: &'static str, needed: u64, remaining: usize },
    #[error("{what}: {source}")]
    Natural { what: &'static str, source: orrery_codec::Error },
    #[error("code of {0} bytes is longer than the 32-bit program counter can address")]
    CodeTooLong(u64),
    #[error("{0} bytes follow the opcode bitmask")]
    TrailingBytes(usize),
    #[error("the opcode bitmask has set padding bits past the end of the code")]
    BitmaskPadding,
}

/// A service blob that the standard program initialisation Y (GP 0.7.2 §A.7) rejects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    #[error("blob ends inside {what}: needed {needed} more bytes, {remaining} left")]
    Truncated { what: &'static str, needed: u64, remaining: usize },
    #[error("metadata length prefix: {0}")]
    Metadata(orrery_codec::Error),
    #[error("the declared code length {declared} differs from the {actual} bytes that follow")]
    CodeLength { declared: u64, actual: usize },
    #[error("the memory layout does not fit in 32 bits (read-only {ro}, read-write {rw}, heap pages {heap_pages}, stack {stack}, arguments up to 2^24)")]
    LayoutTooLarge { ro: u64, rw: u64, heap_pages: u64, stack: u64 },
    #[error("argument data of {0} bytes exceeds the 2^24-byte limit")]
    ArgumentsTooLong(usize),
    #[error("program: {0}")]
    Program(#[from] ProgramError),
}
