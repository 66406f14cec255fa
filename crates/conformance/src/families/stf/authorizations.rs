//! `stf/authorizations`: the authorizer pools' transition (GP 0.7.2 §8).

use orrery_codec::{Decode, Describe, Encode};
use orrery_state::{AuthPools, AuthQueues};
use orrery_stf::authorizations;
use orrery_types::{ChainSpec, CoreIndex, Hash, TimeSlot};

use super::StfVector;

/// The (core, authorizer) pair of one guarantee, which is all of `E_G` this transition reads.
#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct CoreAuthorizer {
    core: CoreIndex,
    auth_hash: Hash,
}

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct Input {
    slot: TimeSlot,
    auths: Vec<CoreAuthorizer>,
}

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct State {
    auth_pools: AuthPools,
    /// `φ'`: no accumulation runs here, so the posterior queues are the prior ones.
    auth_queues: AuthQueues,
}

pub(crate) struct Authorizations;

impl StfVector for Authorizations {
    type Input = Input;
    type State = State;
    type Output = ();

    fn apply(_spec: &ChainSpec, input: &Input, pre: &State) -> Result<(State, ()), String> {
        let used = input.auths.iter().map(|a| (a.core, a.auth_hash));
        let auth_pools = authorizations::apply(&pre.auth_pools, &pre.auth_queues, input.slot, used);
        Ok((State { auth_pools, auth_queues: pre.auth_queues.clone() }, ()))
    }
}
