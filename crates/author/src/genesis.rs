//! A genesis state whose validators are given keys: every validator-key component of a base state
//! replaced consistently (GP 0.7.2 §6.3 and §6.4), so that the chain it starts can be authored by
//! whoever holds the keys. For tests, benches and dev chains; the chain-spec work (JIP-4, `orrery
//! chain-spec dev`) builds its dev genesis with [`with_validators`] on a base state of its own.
//!
//! Replaced: `κ`, `λ`, `ι` and `γ_P` (all the given set), `γ_Z` (its ring root), `γ_S` (the
//! fallback keys `F(η_2, κ)` of eq. 6.26, as an epoch change would set them), `γ_A` (emptied).
//! Everything else (entropy, slot, services, statistics) is the base state's. [`empty_state`] is
//! a base with nothing in it, at any spec's sizes; [`genesis_header`] a header to go with it.

use orrery_crypto::bandersnatch::{BandersnatchError, RingContext};
use orrery_keys::ValidatorKeys;
use orrery_state::{
    AccumulatedQueue, AuthPools, AuthQueues, AvailabilityAssignments, CoresStatistics, DisputesRecords,
    EntropyBuffer, Privileges, ReadyQueue, RecentBlocks, SafroleState, State, Statistics, TicketsOrKeys,
    ValidatorData, ValidatorsData, ValidatorsStatistics,
};
use orrery_stf::safrole::fallback_keys;
use orrery_types::{BandersnatchPublic, ChainSpec, EpochMark, Header};

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

/// A state for `spec` with nothing in it: the base the validators are put into.
pub fn empty_state(spec: &ChainSpec, entropy: [[u8; 32]; 4]) -> State {
    let cores = usize::from(spec.cores_count);
    let validators = usize::from(spec.validators_count);
    let epoch = spec.epoch_length as usize;
    let nobody = ValidatorsData(vec![ValidatorData::NULL; validators]);
    State {
        auth_pools: AuthPools(vec![Vec::new(); cores]),
        auth_queues: AuthQueues(vec![[[0; 32]; orrery_types::constants::AUTH_QUEUE_SIZE]; cores]),
        recent_blocks: RecentBlocks::default(),
        safrole: SafroleState {
            pending_validators: nobody.clone(),
            ring_root: [0; 144],
            sealing_keys: TicketsOrKeys::Keys(vec![[0; 32]; epoch]),
            ticket_accumulator: Vec::new(),
        },
        disputes: DisputesRecords::default(),
        entropy: EntropyBuffer(entropy),
        staging_validators: nobody.clone(),
        active_validators: nobody.clone(),
        previous_validators: nobody,
        pending_reports: AvailabilityAssignments::empty(cores),
        timeslot: 0,
        privileges: Privileges {
            bless: 0,
            assign: vec![0; cores],
            designate: 0,
            register: 0,
            always_acc: Default::default(),
        },
        statistics: Statistics {
            vals_curr: ValidatorsStatistics(vec![Default::default(); validators]),
            vals_last: ValidatorsStatistics(vec![Default::default(); validators]),
            cores: CoresStatistics(vec![Default::default(); cores]),
            services: Default::default(),
        },
        ready_queue: ReadyQueue(vec![Vec::new(); epoch]),
        accumulated: AccumulatedQueue(vec![Vec::new(); epoch]),
        accumulation_outputs: Vec::new(),
        accounts: Default::default(),
    }
}

/// A genesis header at slot 0: no parent, no prior state root, everything else zero but the epoch
/// marker. Only its hash matters (the first block's parent).
pub fn genesis_header(epoch_mark: Option<EpochMark>) -> Header {
    Header {
        parent: [0; 32],
        parent_state_root: [0; 32],
        extrinsic_hash: [0; 32],
        slot: 0,
        epoch_mark,
        tickets_mark: None,
        author_index: 0,
        entropy_source: [0; 96],
        offenders_mark: Vec::new(),
        seal: [0; 96],
    }
}
