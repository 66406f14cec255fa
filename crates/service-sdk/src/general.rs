//! The general host calls (GP 0.7.2 §B.5), offered to refine, accumulate and (`gas`, `fetch`)
//! is-authorized alike, and JIP-1's `log`.

use alloc::vec;
use alloc::vec::Vec;

use crate::raw;

/// The host's error answers (GP 0.7.2 §B.1), the top nine values of `ω7`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostError {
    /// `NONE` (2^64 − 1): the item does not exist.
    None,
    /// `WHAT` (2^64 − 2): name unknown; also what an unknown call and `log` answer.
    What,
    /// `OOB` (2^64 − 3): an inner machine's memory range is not accessible.
    Oob,
    /// `WHO` (2^64 − 4): index unknown.
    Who,
    /// `FULL` (2^64 − 5): storage full or resource already allocated.
    Full,
    /// `CORE` (2^64 − 6): core index unknown.
    Core,
    /// `CASH` (2^64 − 7): insufficient funds.
    Cash,
    /// `LOW` (2^64 − 8): gas limit too low.
    Low,
    /// `HUH` (2^64 − 9): already solicited, cannot be forgotten, not privileged, or invalid.
    Huh,
}

impl HostError {
    /// The register value for this error.
    pub const fn code(self) -> u64 {
        u64::MAX
            - match self {
                HostError::None => 0,
                HostError::What => 1,
                HostError::Oob => 2,
                HostError::Who => 3,
                HostError::Full => 4,
                HostError::Core => 5,
                HostError::Cash => 6,
                HostError::Low => 7,
                HostError::Huh => 8,
            }
    }

    /// `ω7` as a value or one of these errors.
    pub const fn check(value: u64) -> Result<u64, HostError> {
        Err(match u64::MAX - value {
            0 => HostError::None,
            1 => HostError::What,
            2 => HostError::Oob,
            3 => HostError::Who,
            4 => HostError::Full,
            5 => HostError::Core,
            6 => HostError::Cash,
            7 => HostError::Low,
            8 => HostError::Huh,
            _ => return Ok(value),
        })
    }

    /// `ω7` as `Ok(())` for `OK` (0), or the error; any other value is `Huh`.
    pub const fn check_ok(value: u64) -> Result<(), HostError> {
        match HostError::check(value) {
            Ok(0) => Ok(()),
            Ok(_) => Err(HostError::Huh),
            Err(e) => Err(e),
        }
    }
}

/// The register value that names the calling service itself.
pub const SELF: u64 = u64::MAX;

/// A service: the caller or another one by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Me,
    Id(u32),
}

impl Service {
    /// The register value: `2^64 − 1` for the caller.
    pub const fn register(self) -> u64 {
        match self {
            Service::Me => SELF,
            Service::Id(id) => id as u64,
        }
    }
}

/// `gas` (0): the gas left after the call's own cost of 10.
pub fn gas() -> u64 {
    // SAFETY: `gas` touches no memory.
    unsafe { raw::gas() }
}

/// What `fetch` (1) can read: `ω10` and its parameters `ω11`, `ω12` (GP 0.7.2 §B.5, `Ω_Y`). Which
/// are available depends on the invocation: is-authorized sees the package, refine the package,
/// trace, imports and extrinsics, accumulate the entropy and its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetch {
    /// 0: the protocol constants, 134 octets in the paper's order.
    Constants,
    /// 1: the entropy `η'_0` (accumulate); the zero hash in refine.
    Entropy,
    /// 2: the authorizer trace (refine).
    AuthTrace,
    /// 3: extrinsic `index` of work item `item` (refine).
    Extrinsic { item: u32, index: u32 },
    /// 4: extrinsic `index` of the item being refined.
    MyExtrinsic(u32),
    /// 5: imported segment `index` of work item `item` (refine).
    Import { item: u32, index: u32 },
    /// 6: imported segment `index` of the item being refined.
    MyImport(u32),
    /// 7: the encoded work package.
    Package,
    /// 8: the authorizer configuration `p_f`.
    AuthConfig,
    /// 9: the authorization token `p_j`.
    AuthToken,
    /// 10: the encoded refinement context.
    Context,
    /// 11: every work item's summary, length-prefixed.
    ItemSummaries,
    /// 12: work item `item`'s summary (62 octets).
    ItemSummary(u32),
    /// 13: work item `item`'s payload.
    Payload(u32),
    /// 14: all accumulation inputs, length-prefixed (accumulate).
    Inputs,
    /// 15: accumulation input `index` (accumulate).
    Input(u32),
}

impl Fetch {
    /// `(ω10, ω11, ω12)`.
    pub const fn registers(self) -> (u64, u64, u64) {
        match self {
            Fetch::Constants => (0, 0, 0),
            Fetch::Entropy => (1, 0, 0),
            Fetch::AuthTrace => (2, 0, 0),
            Fetch::Extrinsic { item, index } => (3, item as u64, index as u64),
            Fetch::MyExtrinsic(index) => (4, index as u64, 0),
            Fetch::Import { item, index } => (5, item as u64, index as u64),
            Fetch::MyImport(index) => (6, index as u64, 0),
            Fetch::Package => (7, 0, 0),
            Fetch::AuthConfig => (8, 0, 0),
            Fetch::AuthToken => (9, 0, 0),
            Fetch::Context => (10, 0, 0),
            Fetch::ItemSummaries => (11, 0, 0),
            Fetch::ItemSummary(item) => (12, item as u64, 0),
            Fetch::Payload(item) => (13, item as u64, 0),
            Fetch::Inputs => (14, 0, 0),
            Fetch::Input(index) => (15, index as u64, 0),
        }
    }
}

/// The pattern `fetch`, `lookup`, `read`, `info` and `historical_lookup` share: the host writes
/// at most `buf.len()` octets of the value from `offset` and returns the value's whole length.
/// Calls `call(address, offset, length)`.
fn read_into(buf: &mut [u8], offset: usize, call: impl FnOnce(u64, u64, u64) -> u64) -> Option<usize> {
    let len = call(buf.as_mut_ptr() as u64, offset as u64, buf.len() as u64);
    HostError::check(len).ok().map(|len| len as usize)
}

/// The whole value: a first call into a small buffer learns its length, a second reads the rest.
pub(crate) fn read_all(mut call: impl FnMut(u64, u64, u64) -> u64) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 256];
    let len = read_into(&mut buf, 0, &mut call)?;
    if len > buf.len() {
        buf.resize(len, 0);
        read_into(&mut buf[256..], 256, &mut call)?;
    }
    buf.truncate(len);
    Some(buf)
}

/// `fetch` (1) into `buf` from `offset`: the value's whole length, or `None` when there is none.
pub fn fetch_into(kind: Fetch, buf: &mut [u8], offset: usize) -> Option<usize> {
    let (k, a, b) = kind.registers();
    // SAFETY: `buf` is writable for its length.
    read_into(buf, offset, |o, f, l| unsafe { raw::fetch(o, f, l, k, a, b) })
}

/// `fetch` (1): the whole value, or `None` when there is none.
pub fn fetch(kind: Fetch) -> Option<Vec<u8>> {
    let (k, a, b) = kind.registers();
    // SAFETY: `read_all` passes a buffer writable for the length it names.
    read_all(|o, f, l| unsafe { raw::fetch(o, f, l, k, a, b) })
}

/// Where `V` (the validator count, `E2`) sits in the constants blob of `fetch` selector 0: after
/// `B_I`, `B_L`, `B_S` (8 octets each), `C` (2), `D`, `E` (4 each), `G_A`, `G_I`, `G_R`, `G_T` (8 each),
/// and `H` to `U` (eleven of 2 octets, `L` of 4) in the paper's order (GP 0.7.2 §B.5, `Ω_Y`).
const VALIDATOR_COUNT_AT: usize = 92;

/// `V`, the number of validators, from the protocol constants (`fetch` selector 0): how many
/// 336-octet keys `designate` reads.
pub fn validator_count() -> Option<u16> {
    let mut buf = [0u8; VALIDATOR_COUNT_AT + 2];
    let len = fetch_into(Fetch::Constants, &mut buf, 0)?;
    (len >= buf.len()).then(|| u16::from_le_bytes([buf[VALIDATOR_COUNT_AT], buf[VALIDATOR_COUNT_AT + 1]]))
}

/// `lookup` (2): the preimage of `hash` held by `service`.
pub fn lookup(service: Service, hash: &[u8; 32]) -> Option<Vec<u8>> {
    let h = hash.as_ptr() as u64;
    // SAFETY: `hash` is 32 readable octets; `read_all` passes a writable buffer.
    read_all(|o, f, l| unsafe { raw::lookup(service.register(), h, o, f, l) })
}

/// `read` (3): the value under `key` in `service`'s storage.
pub fn read(service: Service, key: &[u8]) -> Option<Vec<u8>> {
    let (k, z) = (key.as_ptr() as u64, key.len() as u64);
    // SAFETY: `key` is readable; `read_all` passes a writable buffer.
    read_all(|o, f, l| unsafe { raw::read(service.register(), k, z, o, f, l) })
}

/// `read` (3) of nothing: the length of the value under `key`, without copying it (the call writes
/// `min(l, |v| − f)` octets, none for `l` = 0, and returns `|v|`).
pub fn value_len(service: Service, key: &[u8]) -> Option<usize> {
    let (k, z) = (key.as_ptr() as u64, key.len() as u64);
    // SAFETY: `key` is readable; a zero-length output range is never written.
    let len = unsafe { raw::read(service.register(), k, z, 0, 0, 0) };
    HostError::check(len).ok().map(|len| len as usize)
}

/// `write` (4): sets `key` to `value` in the caller's storage; the previous value's length, if
/// any. `Full` when the caller's balance cannot pay for the new footprint. An empty `value` is
/// refused with `Huh` without a call (the host would remove the key: use [`remove`]).
pub fn write(key: &[u8], value: &[u8]) -> Result<Option<u64>, HostError> {
    // An empty value would remove the key.
    if value.is_empty() {
        return Err(HostError::Huh);
    }
    // SAFETY: both slices are readable for their lengths.
    let result = unsafe {
        raw::write(key.as_ptr() as u64, key.len() as u64, value.as_ptr() as u64, value.len() as u64)
    };
    match HostError::check(result) {
        Ok(len) => Ok(Some(len)),
        Err(HostError::None) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `write` (4) with an empty value: removes `key`; the removed value's length, if any.
pub fn remove(key: &[u8]) -> Result<Option<u64>, HostError> {
    // SAFETY: `key` is readable; a zero-length value reads nothing.
    let result = unsafe { raw::write(key.as_ptr() as u64, key.len() as u64, 0, 0) };
    match HostError::check(result) {
        Ok(len) => Ok(Some(len)),
        Err(HostError::None) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A service's fixed fields as `info` (5) returns them (96 octets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    pub code_hash: [u8; 32],
    pub balance: u64,
    pub threshold_balance: u64,
    pub min_item_gas: u64,
    pub min_memo_gas: u64,
    pub bytes: u64,
    pub items: u32,
    pub deposit_offset: u64,
    pub creation_slot: u32,
    pub last_accumulation_slot: u32,
    pub parent_service: u32,
}

impl ServiceInfo {
    /// Reads the 96 octets of `info`.
    pub fn decode(data: &[u8]) -> Option<Self> {
        let mut r = crate::codec::Reader::new(data);
        Some(Self {
            code_hash: r.hash()?,
            balance: r.u64()?,
            threshold_balance: r.u64()?,
            min_item_gas: r.u64()?,
            min_memo_gas: r.u64()?,
            bytes: r.u64()?,
            items: r.u32()?,
            deposit_offset: r.u64()?,
            creation_slot: r.u32()?,
            last_accumulation_slot: r.u32()?,
            parent_service: r.u32()?,
        })
    }
}

/// `info` (5): `service`'s fixed fields, or `None` when there is no such service.
pub fn info(service: Service) -> Option<ServiceInfo> {
    let mut buf = [0u8; 96];
    // SAFETY: `buf` is writable for its length.
    let len = read_into(&mut buf, 0, |o, f, l| unsafe { raw::info(service.register(), o, f, l) })?;
    ServiceInfo::decode(&buf[..len.min(96)])
}

/// JIP-1 log levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Level {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
    Trace = 4,
}

/// JIP-1 `log` (100): a message for the node's operator, with an optional target. Costs 10 gas
/// like any call; it changes nothing.
pub fn log(level: Level, target: Option<&str>, message: &str) {
    let (t_o, t_z) = target.map_or((0, 0), |t| (t.as_ptr() as u64, t.len() as u64));
    // SAFETY: the target and message are readable for their lengths.
    unsafe {
        raw::log(level as u64, t_o, t_z, message.as_ptr() as u64, message.len() as u64);
    }
}

/// Formats and logs a message: `log!(Level::Info, "x = {}", x)`.
#[macro_export]
macro_rules! log {
    ($level:expr, $($arg:tt)*) => {
        $crate::general::log($level, None, &$crate::__private::format!($($arg)*))
    };
}
