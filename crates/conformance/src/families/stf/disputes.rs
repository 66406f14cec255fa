//! `stf/disputes`: verdicts, culprits and faults (GP 0.7.2 §10).

use orrery_codec::{Decode, Describe, Encode};
use orrery_state::{AvailabilityAssignments, DisputesRecords, ValidatorsData};
use orrery_stf::disputes::{self, DisputesInput};
use orrery_types::{ChainSpec, DisputesExtrinsic, Ed25519Public, TimeSlot};

use super::{ErrorCodes, StfResult, StfVector};

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct State {
    psi: DisputesRecords,
    rho: AvailabilityAssignments,
    tau: TimeSlot,
    kappa: ValidatorsData,
    lambda: ValidatorsData,
}

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct Input {
    disputes: DisputesExtrinsic,
}

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct OutputData {
    offenders_mark: Vec<Ed25519Public>,
}

pub(crate) struct Errors;

impl ErrorCodes for Errors {
    const NAMES: &'static [&'static str] = &[
        "already_judged",
        "bad_vote_split",
        "verdicts_not_sorted_unique",
        "judgements_not_sorted_unique",
        "culprits_not_sorted_unique",
        "faults_not_sorted_unique",
        "not_enough_culprits",
        "not_enough_faults",
        "culprits_verdict_not_bad",
        "fault_verdict_wrong",
        "offender_already_reported",
        "bad_judgement_age",
        "bad_validator_index",
        "bad_signature",
        "bad_guarantor_key",
        "bad_auditor_key",
    ];
}

pub(crate) struct Disputes;

impl StfVector for Disputes {
    type Input = Input;
    type State = State;
    type Output = StfResult<OutputData, Errors>;

    fn apply(spec: &ChainSpec, input: &Input, pre: &State) -> Result<(State, Self::Output), String> {
        let prior = DisputesInput {
            records: &pre.psi,
            pending: &pre.rho,
            prior_slot: pre.tau,
            active: &pre.kappa,
            previous: &pre.lambda,
        };
        match disputes::apply(spec, prior, &input.disputes) {
            Ok(out) => {
                let state = State { psi: out.records, rho: out.pending, ..pre.clone() };
                Ok((state, StfResult::from_code(Ok(OutputData { offenders_mark: out.offenders_mark }))?))
            }
            Err(e) => Ok((pre.clone(), StfResult::from_code(Err(e.code()))?)),
        }
    }
}
