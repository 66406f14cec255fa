//! The dev chain's genesis, built from nothing but the chain spec (tiny or full): every component of σ empty
//! at the spec's sizes ([`orrery_author::genesis::empty_state`]), the entropy buffer drawn from a fixed
//! label, slot 0, the given validators' keys in every validator set
//! ([`orrery_author::genesis::with_validators`]) with each one's endpoint in its metadata
//! (`127.0.0.1:base_port + i`, [`DEV_BASE_PORT`] by convention; the JAMNP-S layout) and as the spec's boot
//! nodes, and service 0 running Orrery's manager ([`DevServices::manager`], `services/manager`: deploys,
//! funds and upgrades services from a work item) with every privilege (GP 0.7.2 §9.4 χ: manager, every core's
//! assigner, delegator, registrar). An authorizer's code ([`DevServices::authorizer`]) is stored as a
//! preimage of service 0 with its hash `H(code hash ⌢ f)` (GP 0.7.2 §14.3), `f` = [`DEV_AUTHORIZER_CONFIG`],
//! filling every core's pool and queue (GP 0.7.2 §8). Orrery's `guests/authorizer.jam` accepts a package
//! whose token equals its configuration and is not empty, so a dev chain's packages carry
//! [`DEV_AUTHORIZER_CONFIG`] as both. The genesis header is zeros but for its epoch marker, which names the
//! first validators (JIP-4).

use std::net::{Ipv4Addr, SocketAddr};

use orrery_author::genesis::{empty_state, genesis_header, with_validators, GenesisError};
use orrery_crypto::bandersnatch::RingContext;
use orrery_crypto::{blake2b_256, blake2b_256_concat};
use orrery_import::ChainState;
use orrery_keys::ValidatorKeys;
use orrery_network::policy::metadata_for_endpoint;
use orrery_state::{ServiceAccount, ServiceInfo, State, ValidatorsData};
use orrery_types::{ChainSpec, EpochMark, EpochMarkValidatorKeys, ServiceId};

use crate::{Bootnode, ChainSpecError, JamChainSpec};

/// The authorizer configuration (and so the token) of the dev chain's pools: any non-empty value
/// would do for Orrery's authorizer guest; this one names what it is for.
pub const DEV_AUTHORIZER_CONFIG: &[u8] = b"orrery-dev";

/// The service the dev chain privileges and runs the manager.
pub const MANAGER_SERVICE: ServiceId = 0;

/// The manager's balance at genesis: enough to endow many services.
pub const MANAGER_BALANCE: u64 = 1 << 50;

/// Dev validator `i` listens on `127.0.0.1:DEV_BASE_PORT + i`.
pub const DEV_BASE_PORT: u16 = 40000;

/// Where dev validator `index` listens when validators listen from `base_port` on.
pub fn dev_endpoint(base_port: u16, index: u16) -> SocketAddr {
    SocketAddr::new(Ipv4Addr::LOCALHOST.into(), base_port.saturating_add(index))
}

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
    #[error("the dev spec does not check: {0}")]
    Check(#[from] ChainSpecError),
}

/// `H(u ⌢ f)`: the authorizer hash of code hash `u` with configuration `f` (GP 0.7.2 eq. 14.9's
/// `a`), what a core's pool must hold for a package so authorized.
pub fn authorizer_hash(code_hash: &[u8; 32], config: &[u8]) -> [u8; 32] {
    blake2b_256_concat(&[code_hash, config])
}

/// The dev chain's spec (`id` "dev", the validators as boot nodes), a genesis of `spec`; `ring`
/// must be `spec`'s ring context and `keys` its `V` validators in index order, validator `i`
/// listening on `127.0.0.1:base_port + i` ([`DEV_BASE_PORT`] by convention).
pub fn dev_spec(
    spec: &ChainSpec,
    ring: &RingContext,
    keys: &[ValidatorKeys],
    services: &DevServices<'_>,
    base_port: u16,
) -> Result<JamChainSpec, DevError> {
    let mut entropy = [[0u8; 32]; 4];
    for (i, e) in entropy.iter_mut().enumerate() {
        *e = blake2b_256_concat(&[b"orrery-dev-genesis", &[i as u8]]);
    }
    let mut base = empty_state(spec, entropy);

    install_services(spec, &mut base, services);

    let mut state = with_validators(spec, ring, base, keys)?;
    // The ring root depends on the Bandersnatch keys only, so the metadata can follow.
    let with_endpoints = |set: &mut ValidatorsData| {
        for (i, v) in set.0.iter_mut().enumerate() {
            v.metadata = metadata_for_endpoint(dev_endpoint(base_port, i as u16));
        }
    };
    with_endpoints(&mut state.active_validators);
    with_endpoints(&mut state.previous_validators);
    with_endpoints(&mut state.staging_validators);
    with_endpoints(&mut state.safrole.pending_validators);

    let bootnodes = keys
        .iter()
        .enumerate()
        .map(|(i, k)| Bootnode { ed25519: k.ed25519_public(), address: dev_endpoint(base_port, i as u16) })
        .collect();
    let header = genesis_header(Some(genesis_mark(&state)));
    Ok(JamChainSpec::new("dev".into(), bootnodes, spec.clone(), header, ChainState::from_state(state))?)
}

/// Service 0 running the manager with every privilege, and the authorizer in every core's pool and
/// queue, as the dev chain's genesis has them (see the module doc); the rest of `state` is kept.
/// The fuzzer's genesis (`orrery-fuzzer`) takes the same services, so that its work reports run
/// what a dev chain runs.
pub fn install_services(spec: &ChainSpec, state: &mut State, services: &DevServices<'_>) {
    let mut manager = ServiceAccount::new(ServiceInfo {
        code_hash: blake2b_256(services.manager),
        balance: MANAGER_BALANCE,
        ..ServiceInfo::default()
    });
    for code in [services.manager, services.authorizer] {
        let hash = blake2b_256(code);
        manager.set_preimage(&hash, code.to_vec());
        // Provided at slot 0: the lookup `Λ` at any later anchor finds it. `set_request` counts
        // the footprint (GP 0.7.2 eq. 9.8: 2 items, `81 + z` octets).
        manager.set_request(&hash, u32::try_from(code.len()).unwrap_or(u32::MAX), &[0]);
    }
    state.accounts.insert(MANAGER_SERVICE, manager);
    let authorized = authorizer_hash(&blake2b_256(services.authorizer), DEV_AUTHORIZER_CONFIG);
    for pool in &mut state.auth_pools.0 {
        *pool = vec![authorized];
    }
    for queue in &mut state.auth_queues.0 {
        queue.fill(authorized);
    }
    let privileges = &mut state.privileges;
    privileges.bless = MANAGER_SERVICE;
    privileges.assign = vec![MANAGER_SERVICE; usize::from(spec.cores_count)];
    privileges.designate = MANAGER_SERVICE;
    privileges.register = MANAGER_SERVICE;
}

/// The genesis header's epoch marker: as if the genesis were an epoch change (GP 0.7.2 eq. 6.27),
/// the entropy `η_1`, `η_2` the epoch after it inherits and the active validators `κ`.
fn genesis_mark(state: &State) -> EpochMark {
    EpochMark {
        entropy: state.entropy.0[1],
        tickets_entropy: state.entropy.0[2],
        validators: state
            .active_validators
            .iter()
            .map(|v| EpochMarkValidatorKeys { bandersnatch: v.bandersnatch, ed25519: v.ed25519 })
            .collect(),
    }
}
