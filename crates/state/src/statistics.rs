//! Activity statistics π = (π_V, π_L, π_C, π_S) (GP 0.7.2 §13).
//!
//! Validator records encode with fixed 4-octet fields (`E_4` in row `C(13)` of `T(σ)`); core and
//! service records are naturals in the general (compact) encoding.

use std::collections::BTreeMap;

use orrery_codec::{Decode, Describe, Encode};
use orrery_types::{Gas, ServiceId};

/// One validator's activity over an epoch (GP 0.7.2 §13.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode, Describe)]
pub struct ValidatorActivityRecord {
    /// `b`: blocks produced.
    pub blocks: u32,
    /// `t`: tickets introduced.
    pub tickets: u32,
    /// `p`: preimages introduced.
    pub pre_images: u32,
    /// `d`: total octets of the preimages introduced.
    pub pre_images_size: u32,
    /// `g`: reports guaranteed.
    pub guarantees: u32,
    /// `a`: availability assurances made.
    pub assurances: u32,
}

/// One record per validator: exactly `V` entries.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct ValidatorsStatistics(#[codec(len = validators_count)] pub Vec<ValidatorActivityRecord>);

impl ValidatorsStatistics {
    /// `V` zeroed records.
    pub fn zeroed(validators: usize) -> Self {
        Self(vec![ValidatorActivityRecord::default(); validators])
    }
}

/// One core's activity in the latest block (`π_C[c]`, GP 0.7.2 §13.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode, Describe)]
pub struct CoreActivityRecord {
    /// `d`: octets written to the availability layer by reports that became available.
    #[codec(compact)]
    pub da_load: u32,
    /// `p`: assurances that marked the core.
    #[codec(compact)]
    pub popularity: u16,
    /// `i`: segments imported by the reported work.
    #[codec(compact)]
    pub imports: u16,
    /// `x`: extrinsics used by the reported work.
    #[codec(compact)]
    pub extrinsic_count: u16,
    /// `z`: total octets of those extrinsics.
    #[codec(compact)]
    pub extrinsic_size: u32,
    /// `e`: segments exported by the reported work.
    #[codec(compact)]
    pub exports: u16,
    /// `b`: the work bundle's length.
    #[codec(compact)]
    pub bundle_size: u32,
    /// `u`: refinement gas used.
    #[codec(compact)]
    pub gas_used: Gas,
}

/// One record per core: exactly `C` entries.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct CoresStatistics(#[codec(len = cores_count)] pub Vec<CoreActivityRecord>);

impl CoresStatistics {
    /// `C` zeroed records.
    pub fn zeroed(cores: usize) -> Self {
        Self(vec![CoreActivityRecord::default(); cores])
    }
}

/// One service's activity in the latest block (`π_S[s]`, GP 0.7.2 §13.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode, Describe)]
pub struct ServiceActivityRecord {
    /// `p.0`: preimages provided to the service.
    #[codec(compact)]
    pub provided_count: u16,
    /// `p.1`: their total size.
    #[codec(compact)]
    pub provided_size: u32,
    /// `r.0`: work items refined.
    #[codec(compact)]
    pub refinement_count: u32,
    /// `r.1`: refinement gas used.
    #[codec(compact)]
    pub refinement_gas_used: Gas,
    /// `i`: segments imported.
    #[codec(compact)]
    pub imports: u32,
    /// `x`: extrinsics used.
    #[codec(compact)]
    pub extrinsic_count: u32,
    /// `z`: total octets of those extrinsics.
    #[codec(compact)]
    pub extrinsic_size: u32,
    /// `e`: segments exported.
    #[codec(compact)]
    pub exports: u32,
    /// `a.0`: work items accumulated.
    #[codec(compact)]
    pub accumulate_count: u32,
    /// `a.1`: accumulation gas used.
    #[codec(compact)]
    pub accumulate_gas_used: Gas,
}

/// `π_S`: a dictionary from service to its record, encoded in key order.
pub type ServicesStatistics = BTreeMap<ServiceId, ServiceActivityRecord>;

/// `π`: the four statistics components, in the order of row `C(13)`.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct Statistics {
    /// `π_V`: the accumulator for the current epoch.
    pub vals_curr: ValidatorsStatistics,
    /// `π_L`: the previous epoch's totals.
    pub vals_last: ValidatorsStatistics,
    /// `π_C`: per-core activity in the latest block.
    pub cores: CoresStatistics,
    /// `π_S`: per-service activity in the latest block.
    pub services: ServicesStatistics,
}
