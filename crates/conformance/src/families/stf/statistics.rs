//! `stf/statistics`: the validator activity statistics (GP 0.7.2 §13.1).

use std::collections::BTreeSet;

use orrery_codec::{Decode, Describe, Encode};
use orrery_state::{ValidatorsData, ValidatorsStatistics};
use orrery_stf::statistics;
use orrery_types::{ChainSpec, Extrinsic, TimeSlot, ValidatorIndex};

use super::StfVector;

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct Input {
    slot: TimeSlot,
    author_index: ValidatorIndex,
    extrinsic: Extrinsic,
}

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct State {
    vals_curr_stats: ValidatorsStatistics,
    vals_last_stats: ValidatorsStatistics,
    /// `τ`, which this transition reads but does not advance.
    slot: TimeSlot,
    /// `κ'`.
    curr_validators: ValidatorsData,
}

pub(crate) struct Statistics;

impl StfVector for Statistics {
    type Input = Input;
    type State = State;
    type Output = ();

    fn apply(spec: &ChainSpec, input: &Input, pre: &State) -> Result<(State, ()), String> {
        // The vectors carry the guarantees but not the reports transition that yields the reporters
        // set R; every credential here is checked against κ', so R is the κ' keys of the signers.
        let reporters: BTreeSet<_> = input
            .extrinsic
            .guarantees
            .iter()
            .flat_map(|g| &g.signatures)
            .filter_map(|s| pre.curr_validators.get(usize::from(s.validator_index)))
            .map(|v| v.ed25519)
            .collect();
        let (vals_curr_stats, vals_last_stats) = statistics::validators(
            spec,
            &pre.vals_curr_stats,
            &pre.vals_last_stats,
            pre.slot,
            input.slot,
            input.author_index,
            &input.extrinsic,
            &pre.curr_validators,
            &reporters,
        );
        Ok((State { vals_curr_stats, vals_last_stats, ..pre.clone() }, ()))
    }
}
