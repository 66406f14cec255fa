//! A genesis state whose validators are given keys: every validator-key component of a base state
//! replaced consistently (GP 0.7.2 §6.3 and §6.4), so that the chain it starts can be authored by
//! whoever holds the keys. For tests, benches and dev chains; the chain-spec work (JIP-4, `orrery
//! chain-spec dev`) builds its dev genesis with [`with_validators`] on a base state of its own.
//!
//! Replaced: `κ`, `λ`, `ι` and `γ_P` (all the given set), `γ_Z` (its ring root), `γ_S` (the
//! fallback keys `F(η_2, κ)` of eq. 6.26, as an epoch change would set them), `γ_A` (emptied).
//! Everything else (entropy, slot, services, statistics) is the base state's.

use orrery_crypto::bandersnatch::{BandersnatchError, RingContext};
use orrery_keys::ValidatorKeys;
use orrery_state::{State, TicketsOrKeys, ValidatorData, ValidatorsData};
use orrery_stf::safrole::fallback_keys;
use orrery_types::{BandersnatchPublic, ChainSpec};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    #[error("{got} validator keys given, the spec has V = {expected}")]
    ValidatorCount { expected: usize, got: usize },
    #[error("the ring root of the validators' keys: {0}")]
    RingRoot(#[from] BandersnatchError),
}

/// A validator set entry for `keys`: its Bandersnatch and Ed25519 keys, with zeros for the BLS key
/// (JIP-5 derives none) and the metadata.
pub fn validator_data(keys: &ValidatorKeys) -> ValidatorData {
    ValidatorData {
        bandersnatch: keys.bandersnatch_public(),
        ed25519: keys.ed25519_public(),
        ..ValidatorData::NULL
    }
}

/// `base` with `keys` (in validator-index order) as every validator set, and Safrole's state made
/// to match them. `ring` must be the spec's ring context.
pub fn with_validators(
    spec: &ChainSpec,
    ring: &RingContext,
    mut base: State,
    keys: &[ValidatorKeys],
) -> Result<State, GenesisError> {
    let expected = usize::from(spec.validators_count);
    if keys.len() != expected {
        return Err(GenesisError::ValidatorCount { expected, got: keys.len() });
    }
    let set = ValidatorsData(keys.iter().map(validator_data).collect());
    let bandersnatch: Vec<BandersnatchPublic> = set.iter().map(|k| k.bandersnatch).collect();
    base.safrole.ring_root = ring.ring_root(&bandersnatch)?;
    base.safrole.sealing_keys =
        TicketsOrKeys::Keys(fallback_keys(&base.entropy.0[2], &set, spec.epoch_length));
    base.safrole.ticket_accumulator.clear();
    base.safrole.pending_validators = set.clone();
    base.staging_validators = set.clone();
    base.previous_validators = set.clone();
    base.active_validators = set;
    Ok(base)
}
