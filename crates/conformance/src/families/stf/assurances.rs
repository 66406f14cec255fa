//! `stf/assurances`: availability assurances (GP 0.7.2 §11.2).

use orrery_codec::{Decode, Describe, Encode};
use orrery_state::{AvailabilityAssignments, ValidatorsData};
use orrery_stf::assurances;
use orrery_types::{AvailAssurance, ChainSpec, HeaderHash, TimeSlot, WorkReport};

use super::{ErrorCodes, StfResult, StfVector};

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct State {
    /// `ρ†`, mutated to `ρ‡`.
    avail_assignments: AvailabilityAssignments,
    curr_validators: ValidatorsData,
}

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct Input {
    assurances: Vec<AvailAssurance>,
    slot: TimeSlot,
    parent: HeaderHash,
}

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct OutputData {
    /// `W`: the reports that became available.
    reported: Vec<WorkReport>,
}

pub(crate) struct Errors;

impl ErrorCodes for Errors {
    const NAMES: &'static [&'static str] = &[
        "bad_attestation_parent",
        "bad_validator_index",
        "core_not_engaged",
        "bad_signature",
        "not_sorted_or_unique_assurers",
    ];
}

pub(crate) struct Assurances;

impl StfVector for Assurances {
    type Input = Input;
    type State = State;
    type Output = StfResult<OutputData, Errors>;

    fn apply(spec: &ChainSpec, input: &Input, pre: &State) -> Result<(State, Self::Output), String> {
        let result = assurances::apply(
            spec,
            &pre.avail_assignments,
            &pre.curr_validators,
            input.slot,
            &input.parent,
            &input.assurances,
        );
        match result {
            Ok(out) => {
                let state = State { avail_assignments: out.pending, ..pre.clone() };
                Ok((state, StfResult::from_code(Ok(OutputData { reported: out.available }))?))
            }
            Err(e) => Ok((pre.clone(), StfResult::from_code(Err(e.code()))?)),
        }
    }
}
