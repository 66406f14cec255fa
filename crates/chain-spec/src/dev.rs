//! The dev chain's genesis: a base genesis (the vectors' trace genesis) with the given validators'
//! keys in every validator set and in the header's epoch marker, and service 0 running Orrery's
//! manager ([`DevServices::manager`], `services/manager`: deploys, funds and upgrades services from
//! a work item) with every privilege (GP 0.7.2 §9.4 χ: manager, every core's assigner, delegator,
//! registrar). The base's code for service 0 (the `jam-bootstrap-service`) is replaced, its
//! balance kept. An authorizer's code ([`DevServices::authorizer`]) is stored as a preimage of
//! service 0 with its hash `H(code hash ⌢ f)` (GP 0.7.2 §14.3), `f` = [`DEV_AUTHORIZER_CONFIG`],
//! filling every core's pool and queue (GP 0.7.2 §8). Orrery's `guests/authorizer.jam` accepts a
//! package whose token equals its configuration and is not empty, so a dev chain's packages carry
//! [`DEV_AUTHORIZER_CONFIG`] as both.
//!
//! Not here: the full spec (the base genesis is tiny's; `full` needs one built for 341 cores and
//! 1023 validators).

use orrery_author::genesis::{with_validators, GenesisError};
use orrery_crypto::bandersnatch::RingContext;
use orrery_crypto::{blake2b_256, blake2b_256_concat};
use orrery_import::ChainState;
use orrery_keys::ValidatorKeys;
use orrery_state::State;
use orrery_types::{ChainSpec, EpochMarkValidatorKeys, Header, ServiceId};

use crate::{ChainSpecError, JamChainSpec};

/// The authorizer configuration (and so the token) of the dev chain's pools: any non-empty value
/// would do for Orrery's authorizer guest; this one names what it is for.
pub const DEV_AUTHORIZER_CONFIG: &[u8] = b"orrery-dev";

/// The service the dev chain privileges and runs the manager: the base genesis' service 0.
pub const MANAGER_SERVICE: ServiceId = 0;

/// The code of the dev chain's own services.
#[derive(Debug, Clone, Copy)]
pub struct DevServices<'a> {
    /// An is-authorized program for every core's pool (with [`DEV_AUTHORIZER_CONFIG`]).
    pub authorizer: &'a [u8],
    /// The code of service 0.
    pub manager: &'a [u8],
}

impl DevServices<'static> {
    /// Orrery's: `guests/authorizer.jam` and `services/manager/manager.jam`, as committed.
    pub const ORRERY: Self = Self {
        authorizer: include_bytes!("../../../guests/authorizer.jam"),
        manager: include_bytes!("../../../services/manager/manager.jam"),
    };
}

#[derive(Debug, thiserror::Error)]
pub enum DevError {
    #[error(transparent)]
    Validators(#[from] GenesisError),
    #[error("the base genesis is for {base} and the dev chain for {wanted}: {why}")]
    Spec { base: String, wanted: String, why: String },
    #[error("the base genesis has no service {MANAGER_SERVICE} to privilege")]
    NoManagerService,
    #[error("the dev spec does not check: {0}")]
    Check(#[from] ChainSpecError),
}

/// `H(u ⌢ f)`: the authorizer hash of code hash `u` with configuration `f` (GP 0.7.2 eq. 14.9's
/// `a`), what a core's pool must hold for a package so authorized.
pub fn authorizer_hash(code_hash: &[u8; 32], config: &[u8]) -> [u8; 32] {
    blake2b_256_concat(&[code_hash, config])
}

/// The dev chain's spec (`id` "dev", no boot nodes) on `base_header`/`base`, a genesis of `spec`.
pub fn dev_spec(
    spec: &ChainSpec,
    ring: &RingContext,
    base_header: &Header,
    base: State,
    keys: &[ValidatorKeys],
    services: &DevServices<'_>,
) -> Result<JamChainSpec, DevError> {
    let cores = usize::from(spec.cores_count);
    if base.auth_pools.0.len() != cores || base.active_validators.len() != usize::from(spec.validators_count)
    {
        return Err(DevError::Spec {
            base: format!(
                "{} cores and {} validators",
                base.auth_pools.0.len(),
                base.active_validators.len()
            ),
            wanted: spec.name.into(),
            why: "Orrery builds dev chains on the vectors' tiny genesis only".into(),
        });
    }
    let mut state = with_validators(spec, ring, base, keys)?;

    let manager = state.accounts.get_mut(&MANAGER_SERVICE).ok_or(DevError::NoManagerService)?;
    // `set_request`/`remove_request` keep the footprint (GP 0.7.2 eq. 9.8: a request counts 2 items
    // and `81 + z` octets; a preimage nothing more).
    let old_code = manager.info.code_hash;
    if let Some(length) =
        manager.preimage(&old_code).map(|code| u32::try_from(code.len()).unwrap_or(u32::MAX))
    {
        manager.remove_preimage(&old_code);
        manager.remove_request(&old_code, length);
    }
    manager.info.code_hash = blake2b_256(services.manager);
    let authorizer_code = blake2b_256(services.authorizer);
    for code in [services.manager, services.authorizer] {
        let hash = blake2b_256(code);
        if manager.preimage(&hash).is_none() {
            manager.set_preimage(&hash, code.to_vec());
            // Provided at slot 0: the lookup `Λ` at any later anchor finds it.
            manager.set_request(&hash, u32::try_from(code.len()).unwrap_or(u32::MAX), &[0]);
        }
    }

    let authorized = authorizer_hash(&authorizer_code, DEV_AUTHORIZER_CONFIG);
    for pool in &mut state.auth_pools.0 {
        *pool = vec![authorized];
    }
    for queue in &mut state.auth_queues.0 {
        queue.fill(authorized);
    }
    let privileges = &mut state.privileges;
    privileges.bless = MANAGER_SERVICE;
    privileges.assign = vec![MANAGER_SERVICE; cores];
    privileges.designate = MANAGER_SERVICE;
    privileges.register = MANAGER_SERVICE;

    let mut header = base_header.clone();
    header.slot = state.timeslot;
    if let Some(mark) = header.epoch_mark.as_mut() {
        mark.validators = state
            .active_validators
            .iter()
            .map(|v| EpochMarkValidatorKeys { bandersnatch: v.bandersnatch, ed25519: v.ed25519 })
            .collect();
    }
    Ok(JamChainSpec::new("dev".into(), Vec::new(), spec.clone(), header, ChainState::from_state(state))?)
}
