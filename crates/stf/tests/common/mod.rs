//! A small hand-built world for the adversarial tests: tiny-spec validators with known Ed25519
//! keys, and work reports to put on cores.

#![allow(dead_code)]

use ed25519_zebra::SigningKey;
use orrery_state::{ValidatorData, ValidatorsData};
use orrery_types::{
    ChainSpec, RefineContext, RefineLoad, WorkExecResult, WorkPackageSpec, WorkReport, WorkResult,
};

pub fn spec() -> ChainSpec {
    ChainSpec::tiny()
}

/// Validator `i`'s signing key (a fixed seed per index).
pub fn signer(i: usize) -> SigningKey {
    SigningKey::from([i as u8 + 1; 32])
}

pub fn public(i: usize) -> [u8; 32] {
    signer(i).verification_key().into()
}

pub fn sign(i: usize, message: &[u8]) -> [u8; 64] {
    signer(i).sign(message).to_bytes()
}

/// A validator set whose Ed25519 keys are those of validators `first..first + V`.
pub fn validators(first: usize) -> ValidatorsData {
    let v = spec().validators_count as usize;
    ValidatorsData(
        (first..first + v).map(|i| ValidatorData { ed25519: public(i), ..ValidatorData::NULL }).collect(),
    )
}

/// A minimal report on `core`, told apart by `seed`.
pub fn report(core: u16, seed: u8) -> WorkReport {
    WorkReport {
        package_spec: WorkPackageSpec {
            hash: [seed; 32],
            length: 100,
            erasure_root: [0; 32],
            exports_root: [seed.wrapping_add(1); 32],
            exports_count: 0,
        },
        context: RefineContext {
            anchor: [0; 32],
            state_root: [0; 32],
            beefy_root: [0; 32],
            lookup_anchor: [0; 32],
            lookup_anchor_slot: 0,
            prerequisites: vec![],
        },
        core_index: core,
        authorizer_hash: [0; 32],
        auth_gas_used: 0,
        auth_output: vec![],
        segment_root_lookup: vec![],
        results: vec![WorkResult {
            service_id: 1,
            code_hash: [0; 32],
            payload_hash: [0; 32],
            accumulate_gas: 100,
            result: WorkExecResult::Ok(vec![1, 2, 3]),
            refine_load: RefineLoad::default(),
        }],
    }
}
