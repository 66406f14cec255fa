//! The chain spec: the protocol constants of GP 0.7.2 Appendix I.4.4 as a run-time value.
//!
//! `full` is the paper's values; `tiny` is the small network the vectors use (their README and
//! `lib/tiny-const.asn`). One binary serves every spec: nothing here is a cargo feature.

use orrery_codec::Lengths;

/// Protocol parameters. Names follow the paper's constants; each field says which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSpec {
    /// Human-readable name (`tiny`, `full`, or a custom one).
    pub name: &'static str,
    /// `V`: validators.
    pub validators_count: u16,
    /// `C`: cores.
    pub cores_count: u16,
    /// `E`: slots per epoch.
    pub epoch_length: u32,
    /// `Y`: the slot within an epoch at which ticket submission ends.
    pub ticket_submission_end: u32,
    /// `N`: ticket entries per validator.
    pub tickets_per_validator: u8,
    /// `K`: the most tickets in one extrinsic.
    pub max_tickets_per_extrinsic: u32,
    /// `R`: slots between rotations of guarantors over cores.
    pub rotation_period: u32,
    /// `D`: slots after which an unreferenced preimage may be expunged.
    pub preimage_expunge_period: u32,
    /// `P`: seconds per slot.
    pub slot_duration: u32,
    /// `G_T`: total gas for all accumulation in a block.
    pub max_block_gas: u64,
    /// `G_R`: gas for one work package's refine.
    pub max_refine_gas: u64,
    /// `G_A`: gas for one work report's accumulation.
    pub max_accumulate_gas: u64,
    /// `G_I`: gas for one work package's is-authorized.
    pub max_is_authorized_gas: u64,
    /// `L`: the greatest age, in slots, of a lookup anchor.
    pub max_lookup_anchor_age: u32,
    /// `U`: slots after which reported but unavailable work may be replaced.
    pub availability_timeout: u32,
    /// `W_E`: the size of a basic erasure-coded piece, in bytes (`2 × data shards`).
    pub erasure_piece_size: u32,
    /// `W_P`: erasure-coded pieces in a segment (`W_G / W_E`).
    pub segment_pieces: u32,
}

impl ChainSpec {
    /// The Gray Paper's own values.
    pub const fn full() -> Self {
        Self {
            name: "full",
            validators_count: 1023,
            cores_count: 341,
            epoch_length: 600,
            ticket_submission_end: 500,
            tickets_per_validator: 2,
            max_tickets_per_extrinsic: 16,
            rotation_period: 10,
            preimage_expunge_period: 19_200,
            slot_duration: 6,
            max_block_gas: 3_500_000_000,
            max_refine_gas: 5_000_000_000,
            max_accumulate_gas: 10_000_000,
            max_is_authorized_gas: 50_000_000,
            max_lookup_anchor_age: 14_400,
            availability_timeout: 5,
            erasure_piece_size: 684,
            segment_pieces: 6,
        }
    }

    /// The six-validator, two-core network of the conformance vectors.
    pub const fn tiny() -> Self {
        Self {
            name: "tiny",
            validators_count: 6,
            cores_count: 2,
            epoch_length: 12,
            ticket_submission_end: 10,
            tickets_per_validator: 3,
            max_tickets_per_extrinsic: 3,
            rotation_period: 4,
            preimage_expunge_period: 32,
            slot_duration: 6,
            max_block_gas: 20_000_000,
            max_refine_gas: 1_000_000_000,
            max_accumulate_gas: 10_000_000,
            max_is_authorized_gas: 50_000_000,
            // L scaled as D is (19,200 → 32, so 14,400 → 24): the conformance fuzzer's tiny value
            // (jam-conformance `fuzz-proto/README.md`), which its traces' services read through
            // `fetch`; the vectors' README leaves it unsaid.
            max_lookup_anchor_age: 24,
            availability_timeout: 5,
            erasure_piece_size: 4,
            segment_pieces: 1026,
        }
    }

    /// A spec by name: `tiny` or `full`.
    pub fn by_name(name: &str) -> Option<Self> {
        match name {
            "tiny" => Some(Self::tiny()),
            "full" => Some(Self::full()),
            _ => None,
        }
    }

    /// The lengths the codec needs for sequences without a length prefix.
    pub const fn lengths(&self) -> Lengths {
        Lengths::new(self.validators_count as usize, self.cores_count as usize, self.epoch_length as usize)
    }

    /// The number of data shards in erasure coding (342 in `full`, 2 in `tiny`).
    pub const fn erasure_data_shards(&self) -> usize {
        self.erasure_piece_size as usize / 2
    }

    /// `⌊2V/3⌋ + 1`: judgments in a verdict and the assurance supermajority.
    pub const fn super_majority(&self) -> usize {
        self.validators_count as usize * 2 / 3 + 1
    }
}

/// Constants that are the same in every spec (GP 0.7.2 Appendix I.4.4).
pub mod constants {
    /// The JAM Common Era, 1200 UTC on 1 January 2025, as UNIX seconds (GP 0.7.2 §4.4): slot 0
    /// starts there.
    pub const JAM_COMMON_ERA_UNIX_SECONDS: u64 = 1_735_732_800;
    /// `H`: recent blocks kept in history.
    pub const RECENT_HISTORY_LEN: usize = 8;
    /// `O`: the most items in a core's authorizer pool.
    pub const AUTH_POOL_SIZE: usize = 8;
    /// `Q`: items in a core's authorizer queue.
    pub const AUTH_QUEUE_SIZE: usize = 80;
    /// `I`: the most work items in a package.
    pub const MAX_PACKAGE_ITEMS: usize = 16;
    /// `J`: the most dependencies of a work report.
    pub const MAX_REPORT_DEPENDENCIES: usize = 8;
    /// `T`: the most extrinsics in a work package.
    pub const MAX_PACKAGE_EXTRINSICS: usize = 128;
    /// `W_M`: the most imported segments in a work package.
    pub const MAX_PACKAGE_IMPORTS: usize = 3072;
    /// `W_X`: the most exported segments in a work package.
    pub const MAX_PACKAGE_EXPORTS: usize = 3072;
    /// `W_R`: the greatest total size of a work report's unbounded blobs.
    pub const MAX_REPORT_VAR_SIZE: usize = 48 * 1024;
    /// `W_B`: the greatest size of a work package bundle.
    pub const MAX_BUNDLE_SIZE: usize = 13_791_360;
    /// `W_C`: the greatest size of service code.
    pub const MAX_SERVICE_CODE_SIZE: usize = 4_000_000;
    /// `W_A`: the greatest size of is-authorized code.
    pub const MAX_AUTH_CODE_SIZE: usize = 64_000;
    /// `W_G`: the size of an exported segment.
    pub const SEGMENT_SIZE: usize = 4104;
    /// `W_T`: the size of a transfer memo.
    pub const MEMO_SIZE: usize = 128;
    /// `B_I`, `B_L`, `B_S`: deposits per item, per byte, and per service.
    pub const DEPOSIT_PER_ITEM: u64 = 10;
    pub const DEPOSIT_PER_BYTE: u64 = 1;
    pub const DEPOSIT_BASE: u64 = 100;
    /// `S`: the smallest public service index.
    pub const MIN_PUBLIC_SERVICE_INDEX: u32 = 1 << 16;
}
