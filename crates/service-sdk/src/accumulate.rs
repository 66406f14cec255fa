//! The accumulate host calls (GP 0.7.2 §B.7) and the accumulation inputs a service reads with
//! `fetch` (operand tuples from work digests and deferred transfers, eq. 12.13–12.15).

use alloc::vec::Vec;

use crate::codec::Reader;
use crate::general::{fetch, Fetch, HostError, Service};
use crate::raw;

/// `W_T`: a transfer memo's length.
pub const MEMO_SIZE: usize = 128;
/// `Q`: the authorizer queue's length.
pub const AUTH_QUEUE_SIZE: usize = 80;
/// The length of one validator's keys for `designate`.
pub const VALIDATOR_KEYS_SIZE: usize = 336;

/// A work item's refinement result as accumulation sees it (`O`, GP 0.7.2 eq. C.33).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkResult {
    Ok(Vec<u8>),
    OutOfGas,
    Panic,
    BadExports,
    Oversize,
    BadCode,
    CodeOversize,
}

/// `U`: one work digest with its report's context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operand {
    pub package_hash: [u8; 32],
    pub segment_root: [u8; 32],
    pub authorizer_hash: [u8; 32],
    pub payload_hash: [u8; 32],
    pub gas_limit: u64,
    pub result: WorkResult,
    pub auth_trace: Vec<u8>,
}

/// `X`: a deferred transfer received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub source: u32,
    pub dest: u32,
    pub amount: u64,
    pub memo: [u8; MEMO_SIZE],
    pub gas: u64,
}

/// `I`: one accumulation input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Operand(Operand),
    Transfer(Transfer),
}

impl Input {
    /// Reads an input as `fetch` selector 15 gives it.
    pub fn decode(data: &[u8]) -> Option<Input> {
        let mut r = Reader::new(data);
        let input = match r.u8()? {
            0 => Input::Operand(Operand {
                package_hash: r.hash()?,
                segment_root: r.hash()?,
                authorizer_hash: r.hash()?,
                payload_hash: r.hash()?,
                gas_limit: r.natural()?,
                result: match r.u8()? {
                    0 => WorkResult::Ok(r.var_bytes()?.to_vec()),
                    1 => WorkResult::OutOfGas,
                    2 => WorkResult::Panic,
                    3 => WorkResult::BadExports,
                    4 => WorkResult::Oversize,
                    5 => WorkResult::BadCode,
                    6 => WorkResult::CodeOversize,
                    _ => return None,
                },
                auth_trace: r.var_bytes()?.to_vec(),
            }),
            1 => Input::Transfer(Transfer {
                source: r.u32()?,
                dest: r.u32()?,
                amount: r.u64()?,
                memo: r.array()?,
                gas: r.u64()?,
            }),
            _ => return None,
        };
        r.is_empty().then_some(input)
    }
}

/// Accumulation input `index` (fetch selector 15), decoded.
pub fn input(index: u32) -> Option<Input> {
    Input::decode(&fetch(Fetch::Input(index))?)
}

/// Every accumulation input in order: `count` is [`crate::entry::AccumulateArgs::input_count`].
pub fn inputs(count: u32) -> impl Iterator<Item = Input> {
    (0..count).filter_map(input)
}

/// `bless` (14): sets the privileged services: manager `manager`, the per-core assigners
/// `assigners` (one per core), delegator `delegator`, registrar `registrar`, and the services
/// accumulated in every block with their gas.
pub fn bless(
    manager: u32,
    assigners: &[u32],
    delegator: u32,
    registrar: u32,
    always: &[(u32, u64)],
) -> Result<(), HostError> {
    let assign: Vec<u8> = assigners.iter().flat_map(|a| a.to_le_bytes()).collect();
    let mut pairs = Vec::with_capacity(12 * always.len());
    for (service, gas) in always {
        pairs.extend_from_slice(&service.to_le_bytes());
        pairs.extend_from_slice(&gas.to_le_bytes());
    }
    // SAFETY: both buffers are readable for what the host reads (C assigners, |always| pairs).
    HostError::check_ok(unsafe {
        raw::bless(
            manager.into(),
            assign.as_ptr() as u64,
            delegator.into(),
            registrar.into(),
            pairs.as_ptr() as u64,
            always.len() as u64,
        )
    })
}

/// `assign` (15): core `core`'s authorizer queue and its new assigner.
pub fn assign(core: u16, queue: &[[u8; 32]; AUTH_QUEUE_SIZE], assigner: u32) -> Result<(), HostError> {
    // SAFETY: the queue is Q × 32 readable octets.
    HostError::check_ok(unsafe { raw::assign(core.into(), queue.as_ptr() as u64, assigner.into()) })
}

/// `designate` (16): the next validator keys, `V` × 336 octets.
pub fn designate(keys: &[u8]) -> Result<(), HostError> {
    // SAFETY: the host reads V × 336 octets; the caller passes exactly that many.
    HostError::check_ok(unsafe { raw::designate(keys.as_ptr() as u64) })
}

/// `checkpoint` (17): commits the state so far (a later panic rolls back only to here); the gas
/// left.
pub fn checkpoint() -> u64 {
    // SAFETY: `checkpoint` touches no memory.
    unsafe { raw::checkpoint() }
}

/// `new` (18): creates a service with code `code_hash` of `code_len` octets (requested, not yet
/// provided), gas minima and gratis storage, funded from the caller; its index. The registrar may
/// ask for `wanted` below 2^16.
pub fn new_service(
    code_hash: &[u8; 32],
    code_len: u64,
    min_item_gas: u64,
    min_memo_gas: u64,
    gratis: u64,
    wanted: u64,
) -> Result<u32, HostError> {
    // SAFETY: `code_hash` is 32 readable octets.
    let id = HostError::check(unsafe {
        raw::new(code_hash.as_ptr() as u64, code_len, min_item_gas, min_memo_gas, gratis, wanted)
    })?;
    Ok(id as u32)
}

/// `upgrade` (19): the caller's new code hash and gas minima.
pub fn upgrade(code_hash: &[u8; 32], min_item_gas: u64, min_memo_gas: u64) -> Result<(), HostError> {
    // SAFETY: `code_hash` is 32 readable octets.
    HostError::check_ok(unsafe { raw::upgrade(code_hash.as_ptr() as u64, min_item_gas, min_memo_gas) })
}

/// `transfer` (20): sends `amount` to `dest` with `gas` for its accumulation and a memo; costs
/// `gas` more when it succeeds.
pub fn transfer(dest: u32, amount: u64, gas: u64, memo: &[u8; MEMO_SIZE]) -> Result<(), HostError> {
    // SAFETY: `memo` is W_T readable octets.
    HostError::check_ok(unsafe { raw::transfer(dest.into(), amount, gas, memo.as_ptr() as u64) })
}

/// `eject` (21): removes service `service` (whose code hash names the caller) and takes its
/// balance; `hash` is its last outstanding preimage request.
pub fn eject(service: u32, hash: &[u8; 32]) -> Result<(), HostError> {
    // SAFETY: `hash` is 32 readable octets.
    HostError::check_ok(unsafe { raw::eject(service.into(), hash.as_ptr() as u64) })
}

/// The state of a preimage request, as `query` (22) packs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Requested, not yet provided.
    Requested,
    /// Available since slot `x`.
    Available(u32),
    /// Was available from `x` until `y`.
    Unavailable(u32, u32),
    /// Available from `x` to `y`, and again since `z`.
    Reavailable(u32, u32, u32),
}

/// `query` (22): the caller's request for the preimage of `hash` of `len` octets; `None` when
/// there is no such request.
pub fn query(hash: &[u8; 32], len: u64) -> Option<Request> {
    // SAFETY: `hash` is 32 readable octets.
    let (a, b) = unsafe { raw::query(hash.as_ptr() as u64, len) };
    let a = HostError::check(a).ok()?;
    let (kind, x) = (a as u32, (a >> 32) as u32);
    Some(match kind {
        0 => Request::Requested,
        1 => Request::Available(x),
        2 => Request::Unavailable(x, b as u32),
        3 => Request::Reavailable(x, b as u32, (b >> 32) as u32),
        _ => return None,
    })
}

/// `solicit` (23): requests the preimage of `hash` of `len` octets.
pub fn solicit(hash: &[u8; 32], len: u64) -> Result<(), HostError> {
    // SAFETY: `hash` is 32 readable octets.
    HostError::check_ok(unsafe { raw::solicit(hash.as_ptr() as u64, len) })
}

/// `forget` (24): drops the request for the preimage of `hash` of `len` octets.
pub fn forget(hash: &[u8; 32], len: u64) -> Result<(), HostError> {
    // SAFETY: `hash` is 32 readable octets.
    HostError::check_ok(unsafe { raw::forget(hash.as_ptr() as u64, len) })
}

/// `yield` (25): makes `hash` the accumulation's output.
pub fn yield_hash(hash: &[u8; 32]) {
    // SAFETY: `hash` is 32 readable octets; the answer is always OK.
    unsafe { raw::yield_hash(hash.as_ptr() as u64) };
}

/// `provide` (26): provides `data` as a preimage `service` has requested.
pub fn provide(service: Service, data: &[u8]) -> Result<(), HostError> {
    // SAFETY: `data` is readable for its length.
    HostError::check_ok(unsafe { raw::provide(service.register(), data.as_ptr() as u64, data.len() as u64) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operand_decodes_field_by_field() {
        // 0, four hashes, E(1000) = [0x83, 0xe8], result 0 ↕"hi", trace ↕[9].
        let mut data = alloc::vec![0u8];
        for b in 1..=4u8 {
            data.extend_from_slice(&[b; 32]);
        }
        data.extend_from_slice(&[0x83, 0xe8, 0, 2, b'h', b'i', 1, 9]);
        let Some(Input::Operand(op)) = Input::decode(&data) else { panic!("not an operand") };
        assert_eq!(op.package_hash, [1; 32]);
        assert_eq!(op.payload_hash, [4; 32]);
        assert_eq!(op.gas_limit, 1000);
        assert_eq!(op.result, WorkResult::Ok(b"hi".to_vec()));
        assert_eq!(op.auth_trace, [9]);
        // Trailing octets are not an input.
        data.push(0);
        assert_eq!(Input::decode(&data), None);
    }

    #[test]
    fn transfer_decodes_field_by_field() {
        let mut data = alloc::vec![1u8];
        data.extend_from_slice(&7u32.to_le_bytes());
        data.extend_from_slice(&8u32.to_le_bytes());
        data.extend_from_slice(&500u64.to_le_bytes());
        data.extend_from_slice(&[0xaa; MEMO_SIZE]);
        data.extend_from_slice(&33u64.to_le_bytes());
        let expected = Transfer { source: 7, dest: 8, amount: 500, memo: [0xaa; MEMO_SIZE], gas: 33 };
        assert_eq!(Input::decode(&data), Some(Input::Transfer(expected)));
        assert_eq!(Input::decode(&data[..data.len() - 1]), None);
    }
}
