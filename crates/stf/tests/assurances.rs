//! Assurances with hand-built extrinsics: availability by supermajority, timeouts, and the paper's
//! error for each kind of malformed input.

mod common;

use common::*;
use orrery_codec::BitVec;
use orrery_crypto::blake2b_256_concat;
use orrery_state::{AvailabilityAssignment, AvailabilityAssignments};
use orrery_stf::assurances::{apply, AssurancesError, AssurancesOutput};
use orrery_stf::contexts;
use orrery_types::AvailAssurance;

const PARENT: [u8; 32] = [0xaa; 32];

fn assurance(validator: usize, bits: &[bool]) -> AvailAssurance {
    let bitfield = BitVec::from_bools(bits.iter().copied());
    let message = [contexts::AVAILABLE, &blake2b_256_concat(&[&PARENT, bitfield.as_bytes()])].concat();
    AvailAssurance {
        anchor: PARENT,
        bitfield,
        validator_index: validator as u16,
        signature: sign(validator, &message),
    }
}

fn pending(timeouts: [Option<u32>; 2]) -> AvailabilityAssignments {
    AvailabilityAssignments(
        timeouts
            .iter()
            .enumerate()
            .map(|(core, t)| {
                t.map(|timeout| AvailabilityAssignment { report: report(core as u16, core as u8), timeout })
            })
            .collect(),
    )
}

fn run(
    pending: &AvailabilityAssignments,
    slot: u32,
    assurances: &[AvailAssurance],
) -> Result<AssurancesOutput, AssurancesError> {
    apply(&spec(), pending, &validators(0), slot, &PARENT, assurances)
}

#[test]
fn five_of_six_make_a_report_available_and_four_do_not() {
    let prior = pending([Some(10), Some(10)]);
    // Core 0 gets 5 assurances (> 2·6/3 = 4), core 1 gets 4.
    let assurances: Vec<_> = (0..5).map(|v| assurance(v, &[true, v < 4])).collect();
    let out = run(&prior, 11, &assurances).unwrap();
    assert_eq!(out.available, vec![report(0, 0)]);
    assert!(out.pending.0[0].is_none());
    assert_eq!(out.pending.0[1], prior.0[1]);
}

#[test]
fn reports_time_out_after_u_slots_and_are_not_available() {
    let prior = pending([Some(10), Some(11)]);
    // U = 5: the report from slot 10 times out at slot 15, the one from 11 does not.
    let out = run(&prior, 15, &[]).unwrap();
    assert!(out.available.is_empty());
    assert!(out.pending.0[0].is_none());
    assert!(out.pending.0[1].is_some());
    // Slots near the top of the range do not overflow.
    let late = pending([Some(u32::MAX), None]);
    assert!(run(&late, u32::MAX, &[]).unwrap().pending.0[0].is_some());
}

#[test]
fn malformed_assurances_give_the_papers_errors() {
    let prior = pending([Some(10), None]);
    let good = |v| assurance(v, &[true, false]);

    let mut out_of_range = good(0);
    out_of_range.validator_index = u16::MAX;
    assert_eq!(run(&prior, 11, &[out_of_range]), Err(AssurancesError::BadValidatorIndex));

    assert_eq!(run(&prior, 11, &[good(1), good(0)]), Err(AssurancesError::NotSortedOrUniqueAssurers));
    assert_eq!(run(&prior, 11, &[good(1), good(1)]), Err(AssurancesError::NotSortedOrUniqueAssurers));

    let mut wrong_anchor = good(0);
    wrong_anchor.anchor = [0; 32];
    assert_eq!(run(&prior, 11, &[wrong_anchor]), Err(AssurancesError::BadAttestationParent));

    let mut forged = good(0);
    forged.signature = good(1).signature;
    assert_eq!(run(&prior, 11, &[forged]), Err(AssurancesError::BadSignature));

    // Core 1 has nothing pending.
    assert_eq!(run(&prior, 11, &[assurance(0, &[true, true])]), Err(AssurancesError::CoreNotEngaged));
    // A bitfield wider than the cores marks cores that do not exist.
    assert_eq!(run(&prior, 11, &[assurance(0, &[true, false, true])]), Err(AssurancesError::CoreNotEngaged));
    assert_eq!(run(&prior, 11, &[assurance(0, &[true])]), Err(AssurancesError::CoreNotEngaged));
}
