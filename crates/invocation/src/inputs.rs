//! What accumulation is given: operand tuples from work digests and deferred transfers, and their
//! encodings (GP 0.7.2 §12.2 eq. 12.13–12.15 and Appendix C, `E_U`, `E_X`).

use orrery_codec::{Decode, Describe, Encode};
use orrery_types::constants::MEMO_SIZE;
use orrery_types::{Balance, Gas, Hash, ServiceId, WorkExecResult};

/// `U`: one work digest's data with its report's context, as accumulation sees it. Encoded
/// `E(p, e, a, y, g, O(l), ↕t)` with the gas limit a general natural.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct OperandTuple {
    /// `p`: the work package's hash.
    pub package_hash: Hash,
    /// `e`: its segment root.
    pub segment_root: Hash,
    /// `a`: the authorizer's hash.
    pub authorizer_hash: Hash,
    /// `y`: the hash of the work item's payload.
    pub payload_hash: Hash,
    /// `g`: the gas limit the digest gives accumulation.
    #[codec(compact)]
    pub gas_limit: Gas,
    /// `l`: the refinement result or its error.
    pub result: WorkExecResult,
    /// `t`: the authorizer's trace.
    pub auth_trace: Vec<u8>,
}

/// `X`: a deferred transfer. Encoded `E_4(s) ⌢ E_4(d) ⌢ E_8(a) ⌢ m ⌢ E_8(g)`.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct DeferredTransfer {
    /// `s`: the sender.
    pub source: ServiceId,
    /// `d`: the receiver.
    pub dest: ServiceId,
    /// `a`: the amount.
    pub amount: Balance,
    /// `m`: the memo, `W_T` octets.
    pub memo: [u8; MEMO_SIZE],
    /// `g`: the gas the receiver accumulates it with.
    pub gas: Gas,
}

/// `I = U ∪ X`: one accumulation input, encoded with discriminator 0 for an operand and 1 for a
/// transfer.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub enum AccumulationInput {
    Operand(OperandTuple),
    Transfer(DeferredTransfer),
}
