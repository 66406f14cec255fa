//! A dev genesis built from nothing but the chain spec and a seed: every component of σ empty or
//! zero at the spec's sizes (GP 0.7.2 §4.2), slot 0, the dev chain's services (the manager as
//! service 0 with every privilege and the dev authorizer in every core's pool,
//! [`orrery_chain_spec::dev::install_services`], for the work workload), the entropy buffer drawn from
//! the seed, and the first `V` JIP-5 dev keys as every validator set (via
//! `orrery_author::genesis::with_validators`), and [`PREIMAGE_SERVICES`] services that solicit
//! [`SOLICITED`] preimages each (requests `l[(H(p), |p|)] = []`, GP 0.7.2 §9.2), the blobs drawn
//! from the seed ([`solicited_blobs`]), for the preimages workload. The genesis header is all zeros: only its hash
//! matters, as the first block's parent and the key of `Initialize`'s state.

use orrery_author::genesis::{empty_state, genesis_header, with_validators, GenesisError};
use orrery_chain_spec::dev::{install_services, DevServices};
use orrery_crypto::bandersnatch::RingContext;
use orrery_import::ChainState;
use orrery_keys::ValidatorKeys;
use orrery_state::{ServiceAccount, ServiceInfo};
use orrery_types::{ChainSpec, Header, ServiceId};

/// The services of the dev genesis that solicit preimages: ids 1000 on.
pub const PREIMAGE_SERVICES: u32 = 2;
/// Preimages each of them solicits.
pub const SOLICITED: u32 = 128;

/// The blobs the dev genesis of `seed` solicits, with their services: 1 to 256 octets each.
pub fn solicited_blobs(seed: u64) -> Vec<(ServiceId, Vec<u8>)> {
    let mut out = Vec::new();
    for service in 1000..1000 + PREIMAGE_SERVICES {
        for j in 0..SOLICITED {
            let mut input = b"orrery-fuzzer-preimage".to_vec();
            input.extend_from_slice(&seed.to_le_bytes());
            input.extend_from_slice(&service.to_le_bytes());
            input.extend_from_slice(&j.to_le_bytes());
            let block = orrery_crypto::blake2b_256(&input);
            let len = 1 + usize::from(block[0]);
            out.push((service, block.iter().copied().cycle().take(len).collect()));
        }
    }
    out
}

/// The dev genesis: its header (zeros) and state, the validators being
/// `keys` (in index order, `V` of them).
pub fn dev_genesis(
    spec: &ChainSpec,
    ring: &RingContext,
    keys: &[ValidatorKeys],
    seed: u64,
) -> Result<(Header, ChainState), GenesisError> {
    let mut entropy = [[0u8; 32]; 4];
    for (i, e) in entropy.iter_mut().enumerate() {
        let mut input = b"orrery-fuzzer-genesis".to_vec();
        input.extend_from_slice(&seed.to_le_bytes());
        input.push(i as u8);
        *e = orrery_crypto::blake2b_256(&input);
    }
    let mut base = empty_state(spec, entropy);
    for (service, blob) in solicited_blobs(seed) {
        let account = base.accounts.entry(service).or_insert_with(|| {
            ServiceAccount::new(ServiceInfo { balance: 1 << 40, ..ServiceInfo::default() })
        });
        account.set_request(&orrery_crypto::blake2b_256(&blob), blob.len() as u32, &[]);
    }
    install_services(spec, &mut base, &DevServices::ORRERY);
    let state = with_validators(spec, ring, base, keys)?;
    let chain = ChainState::from_state(state);
    let header = genesis_header(None);
    Ok((header, chain))
}
