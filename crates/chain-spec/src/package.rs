//! Work packages as a service developer sends them (GP 0.7.2 §14.1, eqs. 14.2 and 14.3): one
//! builder for the offline `orrery service run`, the networked `orrery service deploy/call`, and
//! tests that feed a guarantor; and the manager's commands (`services/manager`: deploy, fund,
//! designate, solicit, forget, retire, eject), which a dev chain's service 0 runs.
//!
//! A package names its authorizer by the service holding the code (`h`), the code's hash (`u`) and
//! its configuration (`f`), and carries a token (`j`); a core's pool must hold `H(u ⌢ f)`
//! ([`crate::dev::authorizer_hash`]). On a dev chain that is [`PackageAuthorizer::dev`]. The
//! refine context is the caller's: a node's best block for a real chain, zeros offline.
//!
//! Not here: extrinsic blobs and imported segments (every item made here has none), and any check
//! of the limits of §14.2 (the guarantor's `orrery_work_report` makes them).

use orrery_invocation::general::Accounts;
use orrery_invocation::refine::{refine, RefineInputs, RefineOutput};
use orrery_invocation::{AccumulationInput, OperandTuple, ProgramCache};
use orrery_state::{ServiceAccount, ServiceInfo};
use orrery_types::{
    Balance, ChainSpec, CodeHash, Gas, RefineContext, ServiceId, WorkExecResult, WorkItem, WorkPackage,
};

use crate::dev::{DevServices, DEV_AUTHORIZER_CONFIG, MANAGER_SERVICE};

/// Who authorizes a package: the code (by host service and hash), its configuration and the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageAuthorizer {
    /// `h`: the service whose preimages hold the authorizer's code.
    pub host: ServiceId,
    /// `u`: the authorizer code's hash.
    pub code_hash: CodeHash,
    /// `f`: the configuration, hashed with `u` into the pools.
    pub config: Vec<u8>,
    /// `j`: the token the authorizer checks.
    pub token: Vec<u8>,
}

impl PackageAuthorizer {
    /// The dev chain's: the authorizer code of `services` held by the manager, with
    /// [`DEV_AUTHORIZER_CONFIG`] as both configuration and token.
    pub fn dev(services: &DevServices<'_>) -> Self {
        Self {
            host: MANAGER_SERVICE,
            code_hash: orrery_crypto::blake2b_256(services.authorizer),
            config: DEV_AUTHORIZER_CONFIG.to_vec(),
            token: DEV_AUTHORIZER_CONFIG.to_vec(),
        }
    }

    /// None at all (host 0, zero hash, empty configuration and token): for a local run that
    /// skips Ψ_I.
    pub fn none() -> Self {
        Self { host: 0, code_hash: [0; 32], config: Vec::new(), token: Vec::new() }
    }
}

/// One call of a service: its payload, with no imports, exports or extrinsics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub service: ServiceId,
    /// The code the caller expects the service to run (the item names it; refine runs the code of
    /// this hash as of the lookup anchor).
    pub code_hash: CodeHash,
    pub payload: Vec<u8>,
    pub refine_gas: Gas,
    pub accumulate_gas: Gas,
}

impl Call {
    /// The work item (`W`, eq. 14.3).
    pub fn item(&self) -> WorkItem {
        WorkItem {
            service: self.service,
            code_hash: self.code_hash,
            refine_gas_limit: self.refine_gas,
            accumulate_gas_limit: self.accumulate_gas,
            export_count: 0,
            payload: self.payload.clone(),
            import_segments: Vec::new(),
            extrinsic: Vec::new(),
        }
    }
}

/// A refine context with `anchor` as both anchor and lookup anchor, at `slot`, with no
/// prerequisites (eq. 11.4). `state_root` and `beefy_root` must be the anchor block's posterior
/// state root and its accumulation-output super-peak, as the recent history `β` records them.
pub fn context(anchor: [u8; 32], slot: u32, state_root: [u8; 32], beefy_root: [u8; 32]) -> RefineContext {
    RefineContext {
        anchor,
        state_root,
        beefy_root,
        lookup_anchor: anchor,
        lookup_anchor_slot: slot,
        prerequisites: Vec::new(),
    }
}

/// The package (`P`, eq. 14.2) of `calls` in order.
pub fn work_package(authorizer: &PackageAuthorizer, context: RefineContext, calls: &[Call]) -> WorkPackage {
    WorkPackage {
        auth_code_host: authorizer.host,
        auth_code_hash: authorizer.code_hash,
        context,
        authorization: authorizer.token.clone(),
        authorizer_config: authorizer.config.clone(),
        items: calls.iter().map(Call::item).collect(),
    }
}

/// Ψ_R of `call` alone, as a local run makes it (`orrery service run`, tests of a service): a
/// package of that one call with no authorizer ([`PackageAuthorizer::none`]), a zero refine context
/// at `slot`, no imports or extrinsics, on core 0. Returns the package's hash (an accumulation
/// operand names it) and refine's output.
pub fn refine_offline<A: Accounts + ?Sized>(
    spec: &ChainSpec,
    call: Call,
    slot: u32,
    accounts: &A,
    cache: Option<&ProgramCache>,
) -> ([u8; 32], RefineOutput) {
    let package = work_package(&PackageAuthorizer::none(), context([0; 32], slot, [0; 32], [0; 32]), &[call]);
    let package_hash = orrery_crypto::blake2b_256(&orrery_codec::Encode::encode(&package));
    let none = vec![Vec::new()];
    let inputs = RefineInputs {
        spec,
        package: &package,
        auth_trace: &[],
        item_index: 0,
        imports: &none,
        extrinsics: &none,
        export_offset: 0,
    };
    (package_hash, refine(inputs, 0, &package_hash, accounts, cache))
}

/// A service account as a local run installs one: `blob` as its code, requested and provided at
/// slot 0 (so Ψ_R and Ψ_A find it at any later slot), and `balance`. Returns the code's hash too.
pub fn local_account(blob: &[u8], balance: Balance) -> (CodeHash, ServiceAccount) {
    let code_hash = orrery_crypto::blake2b_256(blob);
    let mut account = ServiceAccount::new(ServiceInfo { code_hash, balance, ..ServiceInfo::default() });
    // A code blob over 4 GiB cannot be a service (W_C is 4 MB); its request length is moot.
    account.set_request(&code_hash, u32::try_from(blob.len()).unwrap_or(u32::MAX), &[0]);
    account.set_preimage(&code_hash, blob.to_vec());
    (code_hash, account)
}

/// The accumulation operand (eq. 12.19) of the one item of a package [`refine_offline`] made:
/// its package hash, the item's payload and refine's `result`, with `gas_limit`; no segment
/// root, authorizer or trace (the local package has none).
pub fn offline_operand(
    package_hash: [u8; 32],
    payload: &[u8],
    result: WorkExecResult,
    gas_limit: Gas,
) -> AccumulationInput {
    AccumulationInput::Operand(OperandTuple {
        package_hash,
        segment_root: [0; 32],
        authorizer_hash: [0; 32],
        payload_hash: orrery_crypto::blake2b_256(payload),
        gas_limit,
        result,
        auth_trace: Vec::new(),
    })
}

/// The manager's deploy command: `[0] ‖ E8(min_item_gas) ‖ E8(min_memo_gas) ‖ E8(endowment) ‖
/// code`. Its accumulation creates a service with `code`'s hash (`new`, the gas minimums `g` and
/// `m`), provides the code, and transfers `endowment` to it with `min_memo_gas` gas.
pub fn manager_deploy(min_item_gas: Gas, min_memo_gas: Gas, endowment: u64, code: &[u8]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(25 + code.len());
    payload.push(0);
    for field in [min_item_gas, min_memo_gas, endowment] {
        payload.extend_from_slice(&field.to_le_bytes());
    }
    payload.extend_from_slice(code);
    payload
}

/// The manager's deploy-by-hash command: `[8] ‖ E8(min_item_gas) ‖ E8(min_memo_gas) ‖
/// E8(endowment) ‖ code_hash ‖ E4(code_len)`, for code larger than a work result carries (the new
/// service requests it; submit it as a preimage with the new service as requester).
pub fn manager_deploy_by_hash(
    min_item_gas: Gas,
    min_memo_gas: Gas,
    endowment: u64,
    code_hash: &CodeHash,
    code_len: u32,
) -> Vec<u8> {
    let mut payload = vec![8];
    for field in [min_item_gas, min_memo_gas, endowment] {
        payload.extend_from_slice(&field.to_le_bytes());
    }
    payload.extend_from_slice(code_hash);
    payload.extend_from_slice(&code_len.to_le_bytes());
    payload
}

/// The largest code the manager's deploy command carries in its work item (a work result's
/// budget, `W_R` = 48 KiB, less the command's own octets); larger code goes by
/// [`manager_deploy_by_hash`].
pub const MANAGER_MAX_CODE: usize = 48 * 1024 - 64;

/// The manager's fund command: `[1] ‖ E4(service) ‖ E8(amount) ‖ E8(gas)`.
pub fn manager_fund(service: ServiceId, amount: u64, gas: Gas) -> Vec<u8> {
    let mut payload = vec![1];
    payload.extend_from_slice(&service.to_le_bytes());
    payload.extend_from_slice(&amount.to_le_bytes());
    payload.extend_from_slice(&gas.to_le_bytes());
    payload
}

/// The manager's designate command: `[3] ‖ H`. Its accumulation makes the manager's own preimage
/// of `hash` (solicited with [`manager_solicit`], then provided by a block's preimage extrinsic)
/// the next validator keys `ι` when it is exactly `V` × 336 octets.
pub fn manager_designate(hash: &[u8; 32]) -> Vec<u8> {
    [&[3u8][..], hash].concat()
}

/// The manager's solicit command: `[4] ‖ H ‖ E4(len)`, `solicit(hash, len)` for the manager.
pub fn manager_solicit(hash: &[u8; 32], len: u32) -> Vec<u8> {
    [&[4u8][..], hash, &len.to_le_bytes()].concat()
}

/// The manager's forget command: `[5] ‖ H ‖ E4(len)`, `forget(hash, len)` for the manager.
pub fn manager_forget(hash: &[u8; 32], len: u32) -> Vec<u8> {
    [&[5u8][..], hash, &len.to_le_bytes()].concat()
}

/// The retire command: `[6] ‖ E4(ejector) ‖ E4(code_len)`, for a copy of the manager that the
/// manager deployed (sent to the copy's id): the copy forgets its own code of `code_len` octets
/// and sets its code hash to `E32(ejector)`, so that `ejector` may eject it `D` slots later.
pub fn manager_retire(ejector: ServiceId, code_len: u32) -> Vec<u8> {
    [&[6u8][..], &ejector.to_le_bytes(), &code_len.to_le_bytes()].concat()
}

/// The manager's eject command: `[7] ‖ E4(service) ‖ H`, `eject(service, hash)`: removes a service
/// retired in the manager's favour whose code request `(hash, …)` was forgotten more than `D`
/// slots ago; its balance comes to the manager.
pub fn manager_eject(service: ServiceId, hash: &[u8; 32]) -> Vec<u8> {
    [&[7u8][..], &service.to_le_bytes(), hash].concat()
}

/// The manager's storage key of the last service it deployed (`E4(id)` under it).
pub const MANAGER_LAST: &[u8] = b"last";

/// The manager's storage key recording that it deployed `id` (the code hash under it).
pub fn manager_deployed_key(id: ServiceId) -> Vec<u8> {
    let mut key = b"deployed:".to_vec();
    key.extend_from_slice(&id.to_le_bytes());
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use orrery_codec::Encode;

    #[test]
    fn the_manager_commands_are_laid_out_as_its_crate_doc_says() {
        // Worked by hand from the table in services/manager/src/lib.rs.
        assert_eq!(
            manager_deploy(1, 2, 3, b"xy"),
            [
                &[0u8][..],
                &[1, 0, 0, 0, 0, 0, 0, 0],
                &[2, 0, 0, 0, 0, 0, 0, 0],
                &[3, 0, 0, 0, 0, 0, 0, 0],
                b"xy"
            ]
            .concat()
        );
        assert_eq!(
            manager_fund(0x0001_0002, 5, 6),
            [&[1u8, 2, 0, 1, 0][..], &[5, 0, 0, 0, 0, 0, 0, 0], &[6, 0, 0, 0, 0, 0, 0, 0]].concat()
        );
        assert_eq!(manager_deployed_key(65536), b"deployed:\x00\x00\x01\x00");
        let h = [0xab; 32];
        assert_eq!(manager_designate(&h), [&[3u8][..], &[0xab; 32]].concat());
        assert_eq!(manager_solicit(&h, 0x0102_0304), [&[4u8][..], &[0xab; 32], &[4, 3, 2, 1]].concat());
        assert_eq!(manager_forget(&h, 2016), [&[5u8][..], &[0xab; 32], &[0xe0, 0x07, 0, 0]].concat());
        assert_eq!(manager_retire(0x0001_0002, 300), [6u8, 2, 0, 1, 0, 0x2c, 1, 0, 0]);
        assert_eq!(manager_eject(65537, &h), [&[7u8, 1, 0, 1, 0][..], &[0xab; 32]].concat());
        assert_eq!(
            manager_deploy_by_hash(1, 2, 3, &h, 0x0002_0000),
            [
                &[8u8][..],
                &[1, 0, 0, 0, 0, 0, 0, 0],
                &[2, 0, 0, 0, 0, 0, 0, 0],
                &[3, 0, 0, 0, 0, 0, 0, 0],
                &[0xab; 32],
                &[0, 0, 2, 0]
            ]
            .concat()
        );
    }

    #[test]
    fn a_dev_package_carries_the_dev_token_and_encodes_its_fields_in_the_paper_order() {
        let auth = PackageAuthorizer::dev(&DevServices::ORRERY);
        assert_eq!(auth.token, DEV_AUTHORIZER_CONFIG);
        assert_eq!(auth.config, DEV_AUTHORIZER_CONFIG);
        let call =
            Call { service: 7, code_hash: [9; 32], payload: vec![0xaa], refine_gas: 1, accumulate_gas: 2 };
        let package = work_package(&auth, context([1; 32], 3, [4; 32], [5; 32]), &[call]);
        let bytes = package.encode();
        // E4(h) ‖ u ‖ context (anchor, state root, beefy root, lookup anchor, E4(slot), ↕[]) ‖
        // ↕j ‖ ↕f ‖ ↕items (GP 0.7.2 eq. C.28).
        assert_eq!(&bytes[..4], &[0, 0, 0, 0]);
        assert_eq!(&bytes[4..36], &auth.code_hash);
        assert_eq!(&bytes[36..68], &[1; 32]);
        assert_eq!(&bytes[68..100], &[4; 32]);
        assert_eq!(&bytes[100..132], &[5; 32]);
        assert_eq!(&bytes[132..164], &[1; 32]);
        assert_eq!(&bytes[164..169], &[3, 0, 0, 0, 0]);
        assert_eq!(bytes[169] as usize, DEV_AUTHORIZER_CONFIG.len());
        let item_at = 170 + 2 * DEV_AUTHORIZER_CONFIG.len() + 1;
        assert_eq!(&bytes[item_at..item_at + 5], &[1, 7, 0, 0, 0]);
    }
}
