//! Safrole: τ, η, κ, λ, γ → τ', η', κ', λ', γ' and the epoch and winning-tickets markers
//! (GP 0.7.2 §6, with the markers' header fields of §5).
//!
//! One block's step of the block-production protocol: the slot advances; on the first block of an
//! epoch the validator sets and entropy history rotate, the ring root of the incoming set is
//! recomputed and the epoch's sealing keys are fixed (the winning tickets, or the fallback keys);
//! the block's VRF output folds into the entropy accumulator; and the tickets extrinsic enters the
//! contest for the next epoch's sealing keys.
//!
//! Ring proofs need a [`RingContext`] for rings of `V` keys. Building one reads the SRS and costs
//! tens of milliseconds, so the caller builds it once (per chain spec) and passes it to every call.
//!
//! Checks run cheapest first and all before anything is written: the slot, the extrinsic's size,
//! the attempts, the ticket ids (read from the proofs' output points), their order and novelty and
//! that each would be kept, and only then the ring proofs themselves. An invalid block therefore
//! costs at most one ring-root computation (on an epoch change, where the root is needed anyway)
//! and leaves the caller's prior state as it was.

use std::collections::BTreeSet;

use orrery_crypto::bandersnatch::{vrf_output, RingContext, RingRoot};
use orrery_crypto::{blake2b_256_concat, context};
use orrery_state::{EntropyBuffer, SafroleState, TicketsOrKeys, ValidatorData, ValidatorsData};
use orrery_types::{
    BandersnatchPublic, ChainSpec, Ed25519Public, Entropy, EpochMark, EpochMarkValidatorKeys, Hash,
    TicketBody, TicketEnvelope, TicketsMark, TimeSlot,
};
use rayon::prelude::*;

/// Why a block fails the Safrole transition. Codes are the vectors' names where the vectors have
/// one; the vectors name no error for the two conditions the paper adds (too many tickets, a useless
/// ticket), nor for a ring context or validator set of the wrong size (a caller's mistake).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SafroleError {
    #[error("bad_slot: the block's slot is not after the prior block's")]
    BadSlot,
    #[error("unexpected_ticket: tickets submitted in the epoch's tail, at or after slot Y")]
    UnexpectedTicket,
    #[error("too_many_tickets: {0} tickets, more than the K one extrinsic may hold")]
    TooManyTickets(usize),
    #[error("bad_ticket_attempt: a ticket's attempt is not below N")]
    BadTicketAttempt,
    #[error("bad_ticket_order: tickets are not in ascending order of id")]
    BadTicketOrder,
    #[error("duplicate_ticket: a ticket's id repeats one of the extrinsic or the accumulator")]
    DuplicateTicket,
    #[error("useless_ticket: a submitted ticket would not be kept in the accumulator")]
    UselessTicket,
    #[error("bad_ticket_proof: a ticket's ring proof does not verify against the ring root")]
    BadTicketProof,
    #[error("the ring context is for rings of {context} keys, but the spec has {validators} validators")]
    RingSize { context: usize, validators: usize },
    #[error("a validator set has {got} entries, not the spec's {expected}")]
    ValidatorSetSize { expected: usize, got: usize },
}

impl SafroleError {
    /// The vectors' name for this error (or, for the errors the vectors lack, a name of our own).
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadSlot => "bad_slot",
            Self::UnexpectedTicket => "unexpected_ticket",
            Self::TooManyTickets(_) => "too_many_tickets",
            Self::BadTicketAttempt => "bad_ticket_attempt",
            Self::BadTicketOrder => "bad_ticket_order",
            Self::DuplicateTicket => "duplicate_ticket",
            Self::UselessTicket => "useless_ticket",
            Self::BadTicketProof => "bad_ticket_proof",
            Self::RingSize { .. } => "ring_size",
            Self::ValidatorSetSize { .. } => "validator_set_size",
        }
    }
}

/// The prior state the Safrole transition reads.
#[derive(Debug, Clone, Copy)]
pub struct SafroleInput<'a> {
    /// `τ`: the prior block's slot.
    pub slot: TimeSlot,
    /// `η`.
    pub entropy: &'a EntropyBuffer,
    /// `λ`.
    pub previous: &'a ValidatorsData,
    /// `κ`.
    pub active: &'a ValidatorsData,
    /// `ι`: the keys queued for the epoch after next (unchanged here; only read on an epoch change).
    pub staging: &'a ValidatorsData,
    /// `γ`.
    pub safrole: &'a SafroleState,
    /// `ψ'_O`: the posterior offenders, after this block's disputes.
    pub offenders: &'a BTreeSet<Ed25519Public>,
}

/// What the block brings to the transition.
#[derive(Debug, Clone, Copy)]
pub struct SafroleBlock<'a> {
    /// `H_t`.
    pub slot: TimeSlot,
    /// `Y(H_v)`: the output of the header's entropy VRF signature, which header verification has
    /// checked against the author's key.
    pub entropy_source: Entropy,
    /// `E_T`.
    pub tickets: &'a [TicketEnvelope],
}

/// What the Safrole transition yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafroleOutput {
    /// `τ' = H_t`.
    pub slot: TimeSlot,
    /// `η'`.
    pub entropy: EntropyBuffer,
    /// `λ'`.
    pub previous: ValidatorsData,
    /// `κ'`.
    pub active: ValidatorsData,
    /// `γ'`.
    pub safrole: SafroleState,
    /// `H_e`: the epoch marker, on the first block of an epoch.
    pub epoch_mark: Option<EpochMark>,
    /// `H_w`: the winning-tickets marker, on the first block after the submission period closes
    /// with a full accumulator.
    pub tickets_mark: Option<TicketsMark>,
}

/// The ring proofs of a block's tickets, every other Safrole rule having passed: what
/// [`apply_deferring_proofs`] leaves for the caller to verify.
#[derive(Debug, Clone)]
pub struct TicketProofs<'a> {
    /// `γ'_Z`, the root the proofs are checked against.
    ring_root: RingRoot,
    /// `η'_2`, the contest's entropy.
    entropy: Entropy,
    tickets: &'a [TicketEnvelope],
}

impl TicketProofs<'_> {
    /// Verifies every proof (eq. 6.29), on as many threads as the rayon pool has: each costs
    /// milliseconds, and a block may carry `K` of them.
    pub fn verify(&self, ring: &RingContext) -> Result<(), SafroleError> {
        if self.tickets.is_empty() {
            return Ok(());
        }
        let verifier = ring.verifier(&self.ring_root).map_err(|_| SafroleError::BadTicketProof)?;
        self.tickets.par_iter().try_for_each(|ticket| {
            let input = ticket_vrf_input(&self.entropy, ticket.attempt);
            // The id this output hashes to is the one the checks of `apply` used.
            verifier
                .verify(&input, &[], &ticket.signature)
                .map(drop)
                .map_err(|_| SafroleError::BadTicketProof)
        })
    }
}

/// Applies the block to Safrole's state (GP eqs. 6.1–6.35).
pub fn apply(
    spec: &ChainSpec,
    ring: &RingContext,
    prior: SafroleInput<'_>,
    block: SafroleBlock<'_>,
) -> Result<SafroleOutput, SafroleError> {
    let (output, proofs) = apply_deferring_proofs(spec, ring, prior, block)?;
    proofs.verify(ring)?;
    Ok(output)
}

/// [`apply`] but for the tickets' ring proofs, which are returned unverified: block import checks
/// them alongside the rest of the block. The output means nothing until they have passed. The
/// ticket ids are read from the proofs' output points, and nothing after the proofs can fail, so
/// an error here and then from [`TicketProofs::verify`] is the error `apply` gives.
pub fn apply_deferring_proofs<'a>(
    spec: &ChainSpec,
    ring: &RingContext,
    prior: SafroleInput<'_>,
    block: SafroleBlock<'a>,
) -> Result<(SafroleOutput, TicketProofs<'a>), SafroleError> {
    let validators = usize::from(spec.validators_count);
    if ring.ring_size() != validators {
        return Err(SafroleError::RingSize { context: ring.ring_size(), validators });
    }
    for set in [prior.previous, prior.active, prior.staging, &prior.safrole.pending_validators] {
        if set.len() != validators {
            return Err(SafroleError::ValidatorSetSize { expected: validators, got: set.len() });
        }
    }
    let epoch_length = spec.epoch_length;
    let tail_start = spec.ticket_submission_end;
    let gamma = prior.safrole;
    let eta = &prior.entropy.0;

    // Slots only go forward (GP eq. 5.7, the header's `P(H)_T < H_T`).
    if block.slot <= prior.slot {
        return Err(SafroleError::BadSlot);
    }
    let (epoch, phase) = (prior.slot / epoch_length, prior.slot % epoch_length);
    let (new_epoch, new_phase) = (block.slot / epoch_length, block.slot % epoch_length);
    let epoch_change = new_epoch > epoch;

    // η'_1..η'_3 rotate on an epoch change (eq. 6.23); the ticket contest runs on η'_2.
    let rotated: [Entropy; 3] =
        if epoch_change { [eta[0], eta[1], eta[2]] } else { [eta[1], eta[2], eta[3]] };
    let contest_entropy = rotated[1];

    // The extrinsic's size: at most K tickets, and none from the tail start Y on (eq. 6.30).
    let tickets = block.tickets;
    if !tickets.is_empty() && new_phase >= tail_start {
        return Err(SafroleError::UnexpectedTicket);
    }
    if tickets.len() > spec.max_tickets_per_extrinsic as usize {
        return Err(SafroleError::TooManyTickets(tickets.len()));
    }
    // Attempts below N (eq. 6.29).
    if tickets.iter().any(|t| t.attempt >= spec.tickets_per_validator) {
        return Err(SafroleError::BadTicketAttempt);
    }
    // `n`: each ticket's id is its proof's VRF output (eq. 6.31). The output is read here without
    // the proof, to reject a badly ordered or repeated extrinsic before verifying anything; every
    // proof is verified below before the ids are used. An output that is no curve point is no proof.
    let new: Vec<TicketBody> = tickets
        .iter()
        .map(|t| {
            let id = vrf_output(&t.signature).map_err(|_| SafroleError::BadTicketProof)?;
            Ok(TicketBody { id, attempt: t.attempt })
        })
        .collect::<Result<_, _>>()?;
    // Ascending by id, no id twice (eq. 6.32).
    for pair in new.windows(2) {
        if pair[1].id == pair[0].id {
            return Err(SafroleError::DuplicateTicket);
        }
        if pair[1].id < pair[0].id {
            return Err(SafroleError::BadTicketOrder);
        }
    }
    // No id already in the accumulator (eq. 6.33). The paper compares with the prior `γ_A` even on an
    // epoch change, when the accumulator is about to be emptied; an id from the ended contest cannot
    // recur anyway, as its VRF input held other entropy.
    if new.iter().any(|n| gamma.ticket_accumulator.iter().any(|a| a.id == n.id)) {
        return Err(SafroleError::DuplicateTicket);
    }

    // γ'_A: the lowest E of the new tickets and those kept from this epoch (eq. 6.34). Every new
    // ticket must make the cut (eq. 6.35).
    let mut accumulator: Vec<TicketBody> =
        if epoch_change { Vec::with_capacity(new.len()) } else { gamma.ticket_accumulator.clone() };
    accumulator.extend_from_slice(&new);
    accumulator.sort_unstable_by_key(|t| t.id);
    accumulator.truncate(epoch_length as usize);
    if let Some(last_kept) = accumulator.last() {
        if new.last().is_some_and(|n| n.id > last_kept.id) {
            return Err(SafroleError::UselessTicket);
        }
    }

    // Key rotation (eqs. 6.13–6.14): γ'_P is ι with offenders' keys nulled, and γ'_Z its ring root.
    let (pending, ring_root, active, previous) = if epoch_change {
        let pending = ValidatorsData(
            prior
                .staging
                .iter()
                .map(|k| if prior.offenders.contains(&k.ed25519) { ValidatorData::NULL } else { k.clone() })
                .collect(),
        );
        let keys: Vec<BandersnatchPublic> = pending.iter().map(|k| k.bandersnatch).collect();
        // `keys` has V entries and the context was built for V, so only a broken context fails here.
        let root = ring
            .ring_root(&keys)
            .map_err(|_| SafroleError::RingSize { context: ring.ring_size(), validators })?;
        (pending, root, gamma.pending_validators.clone(), prior.active.clone())
    } else {
        (gamma.pending_validators.clone(), gamma.ring_root, prior.active.clone(), prior.previous.clone())
    };

    // The proofs, against the posterior root (eq. 6.29): `F̄^[]_{γ'_Z}⟨X_T ⌢ η'_2 ⌢ attempt⟩`, left
    // to the caller.
    let proofs = TicketProofs { ring_root, entropy: contest_entropy, tickets };

    // γ'_S (eq. 6.24): the tickets if the contest that just closed filled the accumulator and ran
    // to its end in the epoch just ended; the same series within an epoch; else the fallback keys.
    let accumulator_full = gamma.ticket_accumulator.len() == epoch_length as usize;
    let sealing_keys = if new_epoch == epoch + 1 && phase >= tail_start && accumulator_full {
        TicketsOrKeys::Tickets(outside_in(&gamma.ticket_accumulator))
    } else if !epoch_change {
        gamma.sealing_keys.clone()
    } else {
        TicketsOrKeys::Keys(fallback_keys(&rotated[1], &active, epoch_length))
    };

    // H_e (eq. 6.27): the prior η_0 and η_1, and the incoming keys.
    let epoch_mark = epoch_change.then(|| EpochMark {
        entropy: eta[0],
        tickets_entropy: eta[1],
        validators: pending
            .iter()
            .map(|k| EpochMarkValidatorKeys { bandersnatch: k.bandersnatch, ed25519: k.ed25519 })
            .collect(),
    });
    // H_w (eq. 6.28): on the block that crosses Y within the epoch, if the accumulator is full.
    let tickets_mark = (!epoch_change && phase < tail_start && tail_start <= new_phase && accumulator_full)
        .then(|| TicketsMark(outside_in(&gamma.ticket_accumulator)));

    // η'_0 (eq. 6.22).
    let accumulated = accumulate_entropy(&eta[0], &block.entropy_source);
    let output = SafroleOutput {
        slot: block.slot,
        entropy: EntropyBuffer([accumulated, rotated[0], rotated[1], rotated[2]]),
        previous,
        active,
        safrole: SafroleState {
            pending_validators: pending,
            ring_root,
            sealing_keys,
            ticket_accumulator: accumulator,
        },
        epoch_mark,
        tickets_mark,
    };
    Ok((output, proofs))
}

/// `X_T ⌢ η ⌢ attempt`: the VRF input of a ticket for entropy `η` (eq. 6.29), and of a ticketed seal
/// with `η'_3` (eq. 6.15).
pub fn ticket_vrf_input(entropy: &Entropy, attempt: u8) -> Vec<u8> {
    [context::TICKET_SEAL, entropy.as_slice(), &[attempt]].concat()
}

/// `Z`: the outside-in sequencer (eq. 6.25), `[s_0, s_{n−1}, s_1, s_{n−2}, …]`.
pub fn outside_in<T: Clone>(items: &[T]) -> Vec<T> {
    let n = items.len();
    (0..n).map(|i| items[if i % 2 == 0 { i / 2 } else { n - 1 - i / 2 }].clone()).collect()
}

/// `F(r, k)`: the fallback sealing keys (eq. 6.26), for each slot `i` of the epoch the Bandersnatch
/// key of validator `E_4⁻¹(H(r ⌢ E_4(i))_{..4}) mod |k|`. Empty if `k` is.
pub fn fallback_keys(entropy: &Entropy, keys: &ValidatorsData, epoch_length: u32) -> Vec<BandersnatchPublic> {
    if keys.is_empty() {
        return Vec::new();
    }
    (0..epoch_length)
        .map(|i| {
            let hash: Hash = blake2b_256_concat(&[entropy, &i.to_le_bytes()]);
            let index = u32::from_le_bytes([hash[0], hash[1], hash[2], hash[3]]) as usize % keys.len();
            keys.0[index].bandersnatch
        })
        .collect()
}

/// `η'_0 = H(η_0 ⌢ Y(H_v))` (eq. 6.22).
pub fn accumulate_entropy(accumulator: &Entropy, entropy_source: &Entropy) -> Entropy {
    blake2b_256_concat(&[accumulator, entropy_source])
}
