//! `stf/safrole`: slots, entropy, key rotation, sealing keys and the ticket contest (GP 0.7.2 §6).
//!
//! Unlike the other STF families, safrole needs a ring context for ring-VRF proofs, made from the
//! SRS that the vectors ship beside their `tiny/` and `full/` folders. The runner builds it once per
//! family (for the spec's `V` keys) and checks every case with it.

use std::path::{Path, PathBuf};

use orrery_codec::{Decode, Describe, Encode};
use orrery_crypto::bandersnatch::RingContext;
use orrery_state::{EntropyBuffer, SafroleState, TicketsOrKeys, ValidatorsData};
use orrery_stf::safrole::{self, SafroleBlock, SafroleInput};
use orrery_types::{
    BandersnatchRingCommitment, ChainSpec, Ed25519Public, Entropy, EpochMark, TicketBody, TicketEnvelope,
    TicketsMark, TimeSlot,
};

use super::{check_case_with, ErrorCodes, StfResult};
use crate::{files_with_extension, read, stem, CaseOutcome, Family};

/// The SRS file, relative to the vectors root.
pub const SRS_FILE: &str = "stf/safrole/zcash-srs-2-11-uncompressed.bin";

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct State {
    tau: TimeSlot,
    eta: EntropyBuffer,
    lambda: ValidatorsData,
    kappa: ValidatorsData,
    gamma_k: ValidatorsData,
    iota: ValidatorsData,
    gamma_a: Vec<TicketBody>,
    gamma_s: TicketsOrKeys,
    gamma_z: BandersnatchRingCommitment,
    /// `ψ'_O`, which the transition reads and leaves alone.
    post_offenders: Vec<Ed25519Public>,
}

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct Input {
    slot: TimeSlot,
    /// `Y(H_v)`.
    entropy: Entropy,
    extrinsic: Vec<TicketEnvelope>,
}

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct OutputData {
    epoch_mark: Option<EpochMark>,
    tickets_mark: Option<TicketsMark>,
}

pub(crate) struct Errors;

impl ErrorCodes for Errors {
    const NAMES: &'static [&'static str] = &[
        "bad_slot",
        "unexpected_ticket",
        "bad_ticket_order",
        "bad_ticket_proof",
        "bad_ticket_attempt",
        "reserved",
        "duplicate_ticket",
    ];
}

type Output = StfResult<OutputData, Errors>;

/// Runs every case of a `stf/safrole/<spec>` folder, with the SRS from the folder above it.
pub(crate) fn run(family: &Family) -> Result<Vec<CaseOutcome>, String> {
    let srs = srs_beside(&family.dir);
    let ring = ring_context(&srs, &family.spec)?;
    let files = files_with_extension(&family.dir, "bin").map_err(|e| e.to_string())?;
    Ok(files
        .iter()
        .map(|bin| {
            CaseOutcome::from_result(stem(bin), read(bin).and_then(|b| check(&family.spec, &ring, &b)))
        })
        .collect())
}

/// The SRS file for a `stf/safrole/<spec>` folder: the vectors keep it one level up.
fn srs_beside(dir: &Path) -> PathBuf {
    let name = Path::new(SRS_FILE).file_name().unwrap_or_default();
    dir.parent().unwrap_or(dir).join(name)
}

/// The ring context for `spec`'s `V` keys, from the SRS file at `srs`.
pub fn ring_context(srs: &Path, spec: &ChainSpec) -> Result<RingContext, String> {
    RingContext::from_srs_file(srs, usize::from(spec.validators_count))
        .map_err(|e| format!("building the ring context: {e}"))
}

/// Decodes one safrole case, runs it with `ring` and compares.
pub fn check(spec: &ChainSpec, ring: &RingContext, bytes: &[u8]) -> Result<(), String> {
    check_case_with::<Input, State, Output>(spec, bytes, |input, pre| apply(spec, ring, input, pre))
}

fn apply(
    spec: &ChainSpec,
    ring: &RingContext,
    input: &Input,
    pre: &State,
) -> Result<(State, Output), String> {
    let safrole_state = SafroleState {
        pending_validators: pre.gamma_k.clone(),
        ring_root: pre.gamma_z,
        sealing_keys: pre.gamma_s.clone(),
        ticket_accumulator: pre.gamma_a.clone(),
    };
    let offenders = pre.post_offenders.iter().copied().collect();
    let prior = SafroleInput {
        slot: pre.tau,
        entropy: &pre.eta,
        previous: &pre.lambda,
        active: &pre.kappa,
        staging: &pre.iota,
        safrole: &safrole_state,
        offenders: &offenders,
    };
    let block = SafroleBlock { slot: input.slot, entropy_source: input.entropy, tickets: &input.extrinsic };
    match safrole::apply(spec, ring, prior, block) {
        Ok(out) => {
            let state = State {
                tau: out.slot,
                eta: out.entropy,
                lambda: out.previous,
                kappa: out.active,
                gamma_k: out.safrole.pending_validators,
                iota: pre.iota.clone(),
                gamma_a: out.safrole.ticket_accumulator,
                gamma_s: out.safrole.sealing_keys,
                gamma_z: out.safrole.ring_root,
                post_offenders: pre.post_offenders.clone(),
            };
            let data = OutputData { epoch_mark: out.epoch_mark, tickets_mark: out.tickets_mark };
            Ok((state, StfResult::from_code(Ok(data))?))
        }
        Err(e) => Ok((pre.clone(), StfResult::from_code(Err(e.code()))?)),
    }
}
