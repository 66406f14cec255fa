//! The JSON of JIP-2 (the newer text, polkadot-fellows/JIPs `JIP-2.md` as jam-docs fetched it), for
//! servers and clients alike: hashes and blobs as padded base64 (RFC 4648), block descriptors,
//! chain-subscription updates, the `parameters` object, work-package and sync statuses, the method
//! names and the error codes.
//!
//! Every type here both serializes and deserializes, so a client (`orrery service …`) reads what
//! the server writes with the same definitions. Numbers are JSON numbers; a `u64` above 2^53 stays
//! exact in serde_json but may not in a JavaScript client (only gas figures get that large).

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use orrery_types::constants::*;
use orrery_types::{ChainSpec, CoreIndex, TimeSlot};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A 32-byte hash, as padded base64 (44 characters).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex: String = self.0.iter().map(|b| format!("{b:02x}")).collect();
        write!(f, "Hash({hex})")
    }
}

impl From<[u8; 32]> for Hash {
    fn from(h: [u8; 32]) -> Self {
        Self(h)
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(self.0))
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        // A hash is 44 characters; refuse longer text before decoding it.
        if text.len() != 44 {
            return Err(serde::de::Error::custom(format!(
                "a Hash is 44 characters of padded base64, not {}",
                text.len()
            )));
        }
        let bytes = STANDARD.decode(text.as_bytes()).map_err(serde::de::Error::custom)?;
        let hash: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| serde::de::Error::custom(format!("a Hash is 32 bytes, not {}", b.len())))?;
        Ok(Self(hash))
    }
}

/// Bytes of any length, as padded base64.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Blob(pub Vec<u8>);

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob({} bytes)", self.0.len())
    }
}

impl From<Vec<u8>> for Blob {
    fn from(b: Vec<u8>) -> Self {
        Self(b)
    }
}

impl From<&[u8]> for Blob {
    fn from(b: &[u8]) -> Self {
        Self(b.to_vec())
    }
}

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The text is already in memory (the request size cap bounds it); the decoded bytes are
        // three quarters of it.
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD.decode(text.as_bytes()).map(Self).map_err(serde::de::Error::custom)
    }
}

/// A block: its header hash and slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockDescriptor {
    pub header_hash: Hash,
    pub slot: TimeSlot,
}

/// What a chain subscription sends: the block that caused the update and the value in its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainUpdate<T> {
    pub header_hash: Hash,
    pub slot: TimeSlot,
    pub value: T,
}

/// The result of `parameters`: `{"V1": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParametersResult {
    V1(Parameters),
}

/// The chain's parameters, the 33 constants of the `fetch` host call's selector 0 (GP 0.7.2 §B.5,
/// eq. B.10), named and ordered as JIP-2 names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parameters {
    /// `B_I`.
    pub deposit_per_item: u64,
    /// `B_L`.
    pub deposit_per_byte: u64,
    /// `B_S`.
    pub deposit_per_account: u64,
    /// `C`.
    pub core_count: u16,
    /// `D`.
    pub min_turnaround_period: u32,
    /// `E`.
    pub epoch_period: u32,
    /// `G_A`.
    pub max_accumulate_gas: u64,
    /// `G_I`.
    pub max_is_authorized_gas: u64,
    /// `G_R`.
    pub max_refine_gas: u64,
    /// `G_T`.
    pub block_gas_limit: u64,
    /// `H`.
    pub recent_block_count: u16,
    /// `I`.
    pub max_work_items: u16,
    /// `J`.
    pub max_dependencies: u16,
    /// `K`.
    pub max_tickets_per_block: u16,
    /// `L`.
    pub max_lookup_anchor_age: u32,
    /// `N`.
    pub tickets_attempts_number: u16,
    /// `O`.
    pub auth_window: u16,
    /// `P`.
    pub slot_period_sec: u16,
    /// `Q`.
    pub auth_queue_len: u16,
    /// `R`.
    pub rotation_period: u16,
    /// `T`.
    pub max_extrinsics: u16,
    /// `U`.
    pub availability_timeout: u16,
    /// `V`.
    pub val_count: u16,
    /// `W_A`.
    pub max_authorizer_code_size: u32,
    /// `W_B`.
    pub max_input: u32,
    /// `W_C`.
    pub max_service_code_size: u32,
    /// `W_E`.
    pub basic_piece_len: u32,
    /// `W_M`.
    pub max_imports: u32,
    /// `W_P`.
    pub segment_piece_count: u32,
    /// `W_R`.
    pub max_report_elective_data: u32,
    /// `W_T`.
    pub transfer_memo_size: u32,
    /// `W_X`.
    pub max_exports: u32,
    /// `Y`.
    pub epoch_tail_start: u32,
}

impl Parameters {
    /// The parameters of `spec`, with the widths the `fetch` encoding gives each.
    pub fn of(spec: &ChainSpec) -> Self {
        Self {
            deposit_per_item: DEPOSIT_PER_ITEM,
            deposit_per_byte: DEPOSIT_PER_BYTE,
            deposit_per_account: DEPOSIT_BASE,
            core_count: spec.cores_count,
            min_turnaround_period: spec.preimage_expunge_period,
            epoch_period: spec.epoch_length,
            max_accumulate_gas: spec.max_accumulate_gas,
            max_is_authorized_gas: spec.max_is_authorized_gas,
            max_refine_gas: spec.max_refine_gas,
            block_gas_limit: spec.max_block_gas,
            recent_block_count: RECENT_HISTORY_LEN as u16,
            max_work_items: MAX_PACKAGE_ITEMS as u16,
            max_dependencies: MAX_REPORT_DEPENDENCIES as u16,
            max_tickets_per_block: spec.max_tickets_per_extrinsic as u16,
            max_lookup_anchor_age: spec.max_lookup_anchor_age,
            tickets_attempts_number: spec.tickets_per_validator.into(),
            auth_window: AUTH_POOL_SIZE as u16,
            slot_period_sec: spec.slot_duration as u16,
            auth_queue_len: AUTH_QUEUE_SIZE as u16,
            rotation_period: spec.rotation_period as u16,
            max_extrinsics: MAX_PACKAGE_EXTRINSICS as u16,
            availability_timeout: spec.availability_timeout as u16,
            val_count: spec.validators_count,
            max_authorizer_code_size: MAX_AUTH_CODE_SIZE as u32,
            max_input: MAX_BUNDLE_SIZE as u32,
            max_service_code_size: MAX_SERVICE_CODE_SIZE as u32,
            basic_piece_len: spec.erasure_piece_size,
            max_imports: MAX_PACKAGE_IMPORTS as u32,
            segment_piece_count: spec.segment_pieces,
            max_report_elective_data: MAX_REPORT_VAR_SIZE as u32,
            transfer_memo_size: MEMO_SIZE as u32,
            max_exports: MAX_PACKAGE_EXPORTS as u32,
            epoch_tail_start: spec.ticket_submission_end,
        }
    }
}

/// Where a work-package stands on one fork (`workPackageStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WorkPackageStatus {
    /// Not reported yet; it can be for `remaining_blocks` more blocks.
    Reportable { remaining_blocks: u32 },
    /// Reported (in the pending reports ρ) but not available yet.
    Reported { reported_in: BlockDescriptor, core: CoreIndex, report_hash: Hash },
    /// Available: queued for accumulation (or accumulated).
    Ready { reported_in: BlockDescriptor, core: CoreIndex, report_hash: Hash, ready_in: BlockDescriptor },
    /// It cannot become ready on this fork; why.
    Failed(String),
}

/// `syncState`'s `status`, and what `subscribeSyncStatus` sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncStatus {
    InProgress,
    Completed,
}

/// The result of `syncState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    /// Peers with a UP 0 stream (every connected peer here: the stream opens with the connection).
    pub num_peers: u32,
    pub status: SyncStatus,
}

/// The JIP-2 error codes (the `code` of a JSON-RPC error object). JSON-RPC's own codes (-32700
/// parse error, -32600 invalid request, -32601 method not found, -32602 invalid params) are used
/// for requests that are not well-formed.
pub mod error {
    /// Other error (a refused submission, a busy node).
    pub const OTHER: i32 = 0;
    /// Block unavailable; `data` is the header hash asked for.
    pub const BLOCK_UNAVAILABLE: i32 = 1;
    /// Work-report unavailable; `data` is the report hash asked for.
    pub const WORK_REPORT_UNAVAILABLE: i32 = 2;
    /// DA segment unavailable.
    pub const SEGMENT_UNAVAILABLE: i32 = 3;
}

/// The method names. Each `subscribeX` has an `unsubscribeX` taking the subscription id, and its
/// notifications carry the method name `subscribeX` with `params = {subscription, result}`.
pub mod method {
    pub const PARAMETERS: &str = "parameters";
    pub const BEST_BLOCK: &str = "bestBlock";
    pub const SUBSCRIBE_BEST_BLOCK: &str = "subscribeBestBlock";
    pub const FINALIZED_BLOCK: &str = "finalizedBlock";
    pub const SUBSCRIBE_FINALIZED_BLOCK: &str = "subscribeFinalizedBlock";
    pub const PARENT: &str = "parent";
    pub const STATE_ROOT: &str = "stateRoot";
    pub const BEEFY_ROOT: &str = "beefyRoot";
    pub const STATISTICS: &str = "statistics";
    pub const SUBSCRIBE_STATISTICS: &str = "subscribeStatistics";
    pub const SERVICE_DATA: &str = "serviceData";
    pub const SUBSCRIBE_SERVICE_DATA: &str = "subscribeServiceData";
    pub const SERVICE_VALUE: &str = "serviceValue";
    pub const SUBSCRIBE_SERVICE_VALUE: &str = "subscribeServiceValue";
    pub const SERVICE_PREIMAGE: &str = "servicePreimage";
    pub const SUBSCRIBE_SERVICE_PREIMAGE: &str = "subscribeServicePreimage";
    pub const SERVICE_REQUEST: &str = "serviceRequest";
    pub const SUBSCRIBE_SERVICE_REQUEST: &str = "subscribeServiceRequest";
    pub const WORK_REPORT: &str = "workReport";
    pub const SUBMIT_WORK_PACKAGE: &str = "submitWorkPackage";
    pub const SUBMIT_WORK_PACKAGE_BUNDLE: &str = "submitWorkPackageBundle";
    pub const WORK_PACKAGE_STATUS: &str = "workPackageStatus";
    pub const SUBSCRIBE_WORK_PACKAGE_STATUS: &str = "subscribeWorkPackageStatus";
    pub const SUBMIT_PREIMAGE: &str = "submitPreimage";
    pub const LIST_SERVICES: &str = "listServices";
    pub const FETCH_WORK_PACKAGE_SEGMENTS: &str = "fetchWorkPackageSegments";
    pub const FETCH_SEGMENTS: &str = "fetchSegments";
    pub const SYNC_STATE: &str = "syncState";
    pub const SUBSCRIBE_SYNC_STATUS: &str = "subscribeSyncStatus";

    /// Orrery's extension (not in JIP-2): `block(header_hash)` → the GP-encoded block (header and
    /// extrinsics), error 1 if the node does not hold it. An explorer needs a block's body; JIP-2
    /// has no call for it, and a client of another node sees "method not found".
    pub const BLOCK: &str = "block";
    /// Orrery's extension: `validators(header_hash)` → `E(κ) ++ E(γ_P)` in the state after that
    /// block: the current epoch's validator keys, then the next epoch's, `V` entries of 336 bytes
    /// each (`k_b ++ k_e ++ k_l ++ k_m`, GP 0.7.2 §6.3), no length prefixes. Error 1 when the node
    /// holds no state for that block.
    pub const VALIDATORS: &str = "validators";
    /// Orrery's extension: `pendingReports(header_hash)` → `E(ρ)` in the state after that block: per
    /// core, `0` or `1 ++ WorkReport ++ u32 slot reported` (the state's `C(10)`, GP 0.7.2 §11.1).
    /// Error 1 when the node holds no state for that block.
    pub const PENDING_REPORTS: &str = "pendingReports";

    // The unsubscribe methods JIP-2 implies but does not list.
    pub const UNSUBSCRIBE_BEST_BLOCK: &str = "unsubscribeBestBlock";
    pub const UNSUBSCRIBE_FINALIZED_BLOCK: &str = "unsubscribeFinalizedBlock";
    pub const UNSUBSCRIBE_STATISTICS: &str = "unsubscribeStatistics";
    pub const UNSUBSCRIBE_SERVICE_DATA: &str = "unsubscribeServiceData";
    pub const UNSUBSCRIBE_SERVICE_VALUE: &str = "unsubscribeServiceValue";
    pub const UNSUBSCRIBE_SERVICE_PREIMAGE: &str = "unsubscribeServicePreimage";
    pub const UNSUBSCRIBE_SERVICE_REQUEST: &str = "unsubscribeServiceRequest";
    pub const UNSUBSCRIBE_WORK_PACKAGE_STATUS: &str = "unsubscribeWorkPackageStatus";
    pub const UNSUBSCRIBE_SYNC_STATUS: &str = "unsubscribeSyncStatus";

    /// Every subscription: its subscribe and unsubscribe methods.
    pub const SUBSCRIPTIONS: [(&str, &str); 9] = [
        (SUBSCRIBE_BEST_BLOCK, UNSUBSCRIBE_BEST_BLOCK),
        (SUBSCRIBE_FINALIZED_BLOCK, UNSUBSCRIBE_FINALIZED_BLOCK),
        (SUBSCRIBE_STATISTICS, UNSUBSCRIBE_STATISTICS),
        (SUBSCRIBE_SERVICE_DATA, UNSUBSCRIBE_SERVICE_DATA),
        (SUBSCRIBE_SERVICE_VALUE, UNSUBSCRIBE_SERVICE_VALUE),
        (SUBSCRIBE_SERVICE_PREIMAGE, UNSUBSCRIBE_SERVICE_PREIMAGE),
        (SUBSCRIBE_SERVICE_REQUEST, UNSUBSCRIBE_SERVICE_REQUEST),
        (SUBSCRIBE_WORK_PACKAGE_STATUS, UNSUBSCRIBE_WORK_PACKAGE_STATUS),
        (SUBSCRIBE_SYNC_STATUS, UNSUBSCRIBE_SYNC_STATUS),
    ];
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hashes_and_blobs_are_padded_base64() {
        // RFC 4648 §10's vectors.
        assert_eq!(serde_json::to_value(Blob(b"f".to_vec())).unwrap(), json!("Zg=="));
        assert_eq!(serde_json::to_value(Blob(b"foobar".to_vec())).unwrap(), json!("Zm9vYmFy"));
        assert_eq!(serde_json::from_value::<Blob>(json!("Zm8=")).unwrap(), Blob(b"fo".to_vec()));
        assert!(serde_json::from_value::<Blob>(json!("Zm8")).is_err(), "unpadded");
        assert!(serde_json::from_value::<Blob>(json!(12)).is_err());
        let zero = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        assert_eq!(serde_json::to_value(Hash([0; 32])).unwrap(), json!(zero));
        assert_eq!(serde_json::from_value::<Hash>(json!(zero)).unwrap(), Hash([0; 32]));
        assert!(serde_json::from_value::<Hash>(json!("Zg==")).is_err(), "short");
        let mut ff = [0u8; 32];
        ff[31] = 0xff;
        assert_eq!(
            serde_json::to_value(Hash(ff)).unwrap(),
            json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP8=")
        );
    }

    #[test]
    fn statuses_have_the_jip_shapes() {
        let block = BlockDescriptor { header_hash: Hash([0; 32]), slot: 7 };
        let zero = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        assert_eq!(
            serde_json::to_value(WorkPackageStatus::Reportable { remaining_blocks: 3 }).unwrap(),
            json!({"Reportable": {"remaining_blocks": 3}})
        );
        assert_eq!(
            serde_json::to_value(WorkPackageStatus::Ready {
                reported_in: block,
                core: 1,
                report_hash: Hash([0; 32]),
                ready_in: block
            })
            .unwrap(),
            json!({"Ready": {"reported_in": {"header_hash": zero, "slot": 7}, "core": 1,
                "report_hash": zero, "ready_in": {"header_hash": zero, "slot": 7}}})
        );
        assert_eq!(
            serde_json::to_value(WorkPackageStatus::Failed("late".into())).unwrap(),
            json!({"Failed": "late"})
        );
        assert_eq!(
            serde_json::to_value(SyncState { num_peers: 2, status: SyncStatus::InProgress }).unwrap(),
            json!({"num_peers": 2, "status": "InProgress"})
        );
    }

    #[test]
    fn tiny_parameters_match_the_published_ones() {
        // The tiny values NETWORK.md decoded from a polkajam spec's 134-byte blob, in JIP-2's order.
        let expected = [
            ("deposit_per_item", 10u64),
            ("deposit_per_byte", 1),
            ("deposit_per_account", 100),
            ("core_count", 2),
            ("min_turnaround_period", 32),
            ("epoch_period", 12),
            ("max_accumulate_gas", 10_000_000),
            ("max_is_authorized_gas", 50_000_000),
            ("max_refine_gas", 1_000_000_000),
            ("block_gas_limit", 20_000_000),
            ("recent_block_count", 8),
            ("max_work_items", 16),
            ("max_dependencies", 8),
            ("max_tickets_per_block", 3),
            ("max_lookup_anchor_age", 24),
            ("tickets_attempts_number", 3),
            ("auth_window", 8),
            ("slot_period_sec", 6),
            ("auth_queue_len", 80),
            ("rotation_period", 4),
            ("max_extrinsics", 128),
            ("availability_timeout", 5),
            ("val_count", 6),
            ("max_authorizer_code_size", 64_000),
            ("max_input", 13_791_360),
            ("max_service_code_size", 4_000_000),
            ("basic_piece_len", 4),
            ("max_imports", 3072),
            ("segment_piece_count", 1026),
            ("max_report_elective_data", 49_152),
            ("transfer_memo_size", 128),
            ("max_exports", 3072),
            ("epoch_tail_start", 10),
        ];
        let text = serde_json::to_string(&ParametersResult::V1(Parameters::of(&ChainSpec::tiny()))).unwrap();
        let mut want = String::from("{\"V1\":{");
        for (i, (name, value)) in expected.iter().enumerate() {
            if i > 0 {
                want.push(',');
            }
            want.push_str(&format!("\"{name}\":{value}"));
        }
        want.push_str("}}");
        assert_eq!(text, want);
        let back: ParametersResult = serde_json::from_str(&text).unwrap();
        assert_eq!(back, ParametersResult::V1(Parameters::of(&ChainSpec::tiny())));
    }
}
