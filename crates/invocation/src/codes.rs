//! Host-call result codes (GP 0.7.2 §B.1) and host-call indices (the identifiers of §B.5–B.7 and
//! JIP-1's `log`).

/// `NONE`: the item does not exist.
pub const NONE: u64 = u64::MAX;
/// `WHAT`: name unknown (also the result of an unknown host call).
pub const WHAT: u64 = u64::MAX - 1;
/// `OOB`: the memory range given is not accessible.
pub const OOB: u64 = u64::MAX - 2;
/// `WHO`: index unknown.
pub const WHO: u64 = u64::MAX - 3;
/// `FULL`: storage full or resource already allocated.
pub const FULL: u64 = u64::MAX - 4;
/// `CORE`: core index unknown.
pub const CORE: u64 = u64::MAX - 5;
/// `CASH`: insufficient funds.
pub const CASH: u64 = u64::MAX - 6;
/// `LOW`: gas limit too low.
pub const LOW: u64 = u64::MAX - 7;
/// `HUH`: already solicited, cannot be forgotten, or not privileged.
pub const HUH: u64 = u64::MAX - 8;
/// `OK`: success.
pub const OK: u64 = 0;

/// The identifier of each host call.
pub mod index {
    pub const GAS: u64 = 0;
    pub const FETCH: u64 = 1;
    pub const LOOKUP: u64 = 2;
    pub const READ: u64 = 3;
    pub const WRITE: u64 = 4;
    pub const INFO: u64 = 5;
    pub const HISTORICAL_LOOKUP: u64 = 6;
    pub const EXPORT: u64 = 7;
    pub const MACHINE: u64 = 8;
    pub const PEEK: u64 = 9;
    pub const POKE: u64 = 10;
    pub const PAGES: u64 = 11;
    pub const INVOKE: u64 = 12;
    pub const EXPUNGE: u64 = 13;
    pub const BLESS: u64 = 14;
    pub const ASSIGN: u64 = 15;
    pub const DESIGNATE: u64 = 16;
    pub const CHECKPOINT: u64 = 17;
    pub const NEW: u64 = 18;
    pub const UPGRADE: u64 = 19;
    pub const TRANSFER: u64 = 20;
    pub const EJECT: u64 = 21;
    pub const QUERY: u64 = 22;
    pub const SOLICIT: u64 = 23;
    pub const FORGET: u64 = 24;
    pub const YIELD: u64 = 25;
    pub const PROVIDE: u64 = 26;
    /// JIP-1's debug message.
    pub const LOG: u64 = 100;
}

/// The gas every host call costs (`g = 10` throughout §B), before `transfer`'s extra.
pub const HOST_CALL_GAS: u64 = 10;
