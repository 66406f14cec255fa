//! Validator keys (GP 0.7.2 §6.3): the sets ι, γ_P, κ and λ.

use orrery_codec::{Decode, Describe, Encode};
use orrery_types::{BandersnatchPublic, BlsPublic, Ed25519Public, ValidatorMetadata};

/// One validator's keys and metadata (`K`, GP 0.7.2 §6.3): 336 octets.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct ValidatorData {
    /// `k_b`: the Bandersnatch key, for sealing and tickets.
    pub bandersnatch: BandersnatchPublic,
    /// `k_e`: the Ed25519 key, for guarantees, assurances and judgments.
    pub ed25519: Ed25519Public,
    /// `k_l`: the BLS key, for Beefy.
    pub bls: BlsPublic,
    /// `k_m`: opaque metadata (network address and the like).
    pub metadata: ValidatorMetadata,
}

impl ValidatorData {
    /// The all-zero key set, which the paper's `Φ` substitutes for offenders' keys.
    pub const NULL: ValidatorData =
        ValidatorData { bandersnatch: [0; 32], ed25519: [0; 32], bls: [0; 144], metadata: [0; 128] };
}

/// A whole validator set: exactly `V` entries, indexed by validator index.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct ValidatorsData(#[codec(len = validators_count)] pub Vec<ValidatorData>);

impl ValidatorsData {
    /// The validator at `index`, or `None` past the end of the set.
    pub fn get(&self, index: usize) -> Option<&ValidatorData> {
        self.0.get(index)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ValidatorData> {
        self.0.iter()
    }
}
