//! `stf/history`: recent blocks and the accumulation output log (GP 0.7.2 §7).

use orrery_codec::{Decode, Describe, Encode};
use orrery_state::{RecentBlocks, ReportedWorkPackage};
use orrery_stf::history;
use orrery_types::{ChainSpec, Hash, HeaderHash, StateRoot};

use super::StfVector;

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct State {
    /// `β`, mutated to `β'`.
    beta: RecentBlocks,
}

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct Input {
    header_hash: HeaderHash,
    parent_state_root: StateRoot,
    accumulate_root: Hash,
    work_packages: Vec<ReportedWorkPackage>,
}

pub(crate) struct History;

impl StfVector for History {
    type Input = Input;
    type State = State;
    type Output = ();

    fn apply(_spec: &ChainSpec, input: &Input, pre: &State) -> Result<(State, ()), String> {
        let corrected = history::correct_parent_state_root(&pre.beta, input.parent_state_root);
        let beta =
            history::append(&corrected, input.header_hash, input.accumulate_root, &input.work_packages);
        Ok((State { beta }, ()))
    }
}
