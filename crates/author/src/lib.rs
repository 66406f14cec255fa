//! Block authoring (GP 0.7.2 §5, §6.4–§6.8): from the parent's state, a validator's keys, a slot
//! and the pools of what is waiting, the block that `orrery_import::import_block` accepts.
//!
//! - [`slot_author`] says whether a validator seals a slot (so a node knows when to author): the
//!   slot's entry of the posterior sealing series `γ'_S` is the validator's key (fallback), or a
//!   ticket whose id the validator's VRF yields for `X_T ⌢ η'_3 ⌢ attempt` (eq. 6.15).
//! - [`generate_tickets`] makes a validator's `N` ticket attempts for the contest running in a
//!   slot's epoch: ring VRF proofs against the ring of `γ'_P`, on `η'_2` (eq. 6.29); in two steps
//!   for a caller that runs the slow one elsewhere: [`ticket_job`] (cheap) and [`TicketJob::run`].
//! - [`author_block`] builds the block: tickets chosen from the pool (in the submission period,
//!   at most `K`, ascending by id, none already in `γ_A`, only those the accumulator would keep,
//!   each proof verified), the other extrinsics in the paper's order, the markers, the extrinsic
//!   hash, the parent state root, the entropy source `H_v` (eq. 6.17) and the seal `H_s`
//!   (eqs. 6.15–6.16).
//!
//! Every value the header must match is taken from the transition import runs, not re-derived:
//! `orrery_stf::safrole` gives `κ'`, `γ'_S`, `η'`, `γ'_Z` and the epoch and winning-tickets markers;
//! `orrery_stf::disputes` gives the offenders marker; `orrery_import` the extrinsic hash and the
//! state root. Authoring is deterministic: the VRF signatures take their nonces from the key and
//! the message, so the same inputs give the same block, byte for byte, except for the ring proofs of
//! tickets, whose zero-knowledge blinding draws randomness from the OS (their ids repeat, their bytes
//! do not).
//!
//! What is not here: checking guarantees, assurances and preimages beyond the paper's order and
//! count limits (those pools are taken as valid: an item that breaks a rule import checks makes a
//! block import rejects; tickets are checked fully, and a disputes pool the disputes transition
//! rejects is left out whole); the wall clock; gossip of tickets (a caller passes everyone's in).
//! [`genesis`] builds a state whose validators hold given keys.

#![forbid(unused_must_use)]

pub mod genesis;

use std::collections::BTreeSet;

use orrery_crypto::bandersnatch::{vrf_output, BandersnatchError, RingContext};
use orrery_crypto::context;
use orrery_import::{extrinsic_hash, ChainState};
use orrery_keys::ValidatorKeys;
use orrery_state::{AvailabilityAssignments, State, TicketsOrKeys};
use orrery_stf::disputes::{self, DisputesInput};
use orrery_stf::safrole::{self, ticket_vrf_input, SafroleBlock, SafroleError, SafroleInput, SafroleOutput};
use orrery_types::{
    AvailAssurance, BandersnatchPublic, Block, ChainSpec, DisputesExtrinsic, Ed25519Public, Entropy,
    Extrinsic, Header, HeaderHash, Preimage, ReportGuarantee, TicketEnvelope, TimeSlot, ValidatorIndex,
};
use rayon::prelude::*;

/// Why a block could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorError {
    #[error("slot {slot} is not after the parent's slot {parent} (GP 0.7.2 eq. 5.7)")]
    SlotNotAfterParent { slot: TimeSlot, parent: TimeSlot },
    #[error("the keys are not in the active set κ' of slot {slot} (GP 0.7.2 eq. 6.13)")]
    NotValidator { slot: TimeSlot },
    #[error("the keys do not seal slot {slot}: neither its fallback key nor its ticket is theirs (GP 0.7.2 eqs. 6.15–6.16)")]
    NotSlotAuthor { slot: TimeSlot },
    #[error("safrole (GP 0.7.2 §6): {0}")]
    Safrole(#[from] SafroleError),
    #[error("bandersnatch: {0}")]
    Bandersnatch(#[from] BandersnatchError),
}

/// The waiting extrinsics a block may take from. Empty pools give a valid block.
#[derive(Debug, Clone, Default)]
pub struct Pools {
    /// Ticket submissions from any validator (E_T candidates, GP eq. 6.29); checked fully here.
    pub tickets: Vec<TicketEnvelope>,
    /// Guaranteed work reports (E_G, §11.4); taken as valid, ordered by core, one per core.
    pub guarantees: Vec<ReportGuarantee>,
    /// Availability assurances (E_A, §11.2); those anchored on the parent, ordered by validator.
    pub assurances: Vec<AvailAssurance>,
    /// Preimages (E_P, §12.4); taken as valid, ordered by requester then blob, no repeats.
    pub preimages: Vec<Preimage>,
    /// Verdicts, culprits and faults (E_D, §10); included whole if the disputes transition accepts
    /// them, else left out.
    pub disputes: DisputesExtrinsic,
}

/// How a slot is sealed (eqs. 6.15–6.16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealKind {
    /// By the winning ticket of this attempt.
    Ticket { attempt: u8 },
    /// By the slot's fallback key.
    Fallback,
}

/// A validator's right to seal a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotClaim {
    /// `H_i`: the validator's index in `κ'`.
    pub index: ValidatorIndex,
    pub kind: SealKind,
}

/// Safrole's outcome for a block at `slot` on `prior` with `tickets` and the offenders `ψ'_O`,
/// the tickets' ring proofs unchecked. `η'_0` is computed from a zero entropy source and means
/// nothing; everything else (`κ'`, `λ'`, `γ'`, `η'_1..3`, the markers) does not depend on it.
pub fn posterior_safrole(
    spec: &ChainSpec,
    ring: &RingContext,
    prior: &State,
    slot: TimeSlot,
    offenders: &BTreeSet<Ed25519Public>,
    tickets: &[TicketEnvelope],
) -> Result<SafroleOutput, AuthorError> {
    if slot <= prior.timeslot {
        return Err(AuthorError::SlotNotAfterParent { slot, parent: prior.timeslot });
    }
    let (output, _unverified) = safrole::apply_deferring_proofs(
        spec,
        ring,
        SafroleInput {
            slot: prior.timeslot,
            entropy: &prior.entropy,
            previous: &prior.previous_validators,
            active: &prior.active_validators,
            staging: &prior.staging_validators,
            safrole: &prior.safrole,
            offenders,
        },
        SafroleBlock { slot, entropy_source: [0; 32], tickets },
    )?;
    Ok(output)
}

/// Whether `keys` seal `slot` on top of `prior`, and how; `None` if another validator does.
pub fn slot_author(
    spec: &ChainSpec,
    ring: &RingContext,
    prior: &State,
    slot: TimeSlot,
    keys: &ValidatorKeys,
) -> Result<Option<SlotClaim>, AuthorError> {
    let posterior = posterior_safrole(spec, ring, prior, slot, &prior.disputes.offenders, &[])?;
    claim(spec, &posterior, slot, keys)
}

/// The claim of `keys` on `slot` under Safrole's posterior values.
fn claim(
    spec: &ChainSpec,
    posterior: &SafroleOutput,
    slot: TimeSlot,
    keys: &ValidatorKeys,
) -> Result<Option<SlotClaim>, AuthorError> {
    let public = keys.bandersnatch_public();
    let Some(index) = posterior.active.iter().position(|k| k.bandersnatch == public) else {
        return Ok(None);
    };
    let phase = (slot % spec.epoch_length) as usize;
    let kind = match &posterior.safrole.sealing_keys {
        TicketsOrKeys::Keys(keys) => (keys.get(phase) == Some(&public)).then_some(SealKind::Fallback),
        TicketsOrKeys::Tickets(tickets) => match tickets.get(phase) {
            Some(ticket) => {
                let id = keys.vrf_output(&ticket_vrf_input(&posterior.entropy.0[3], ticket.attempt))?;
                (id == ticket.id).then_some(SealKind::Ticket { attempt: ticket.attempt })
            }
            None => None,
        },
    };
    Ok(kind.map(|kind| SlotClaim { index: index as ValidatorIndex, kind }))
}

/// The `N` ticket submissions of `keys` for the contest running in `slot`'s epoch (the one for
/// the epoch after it), as a block at `slot` on `prior` would check them: ring proofs against
/// `γ'_P`'s ring on `η'_2`, attempts `0..N` (eq. 6.29). Empty if the keys are not in `γ'_P`, or
/// if `slot` is in the epoch's tail, where no ticket can be submitted any more (eq. 6.30).
/// Costs a ring prover and `N` ring proofs: about a second on the tiny spec
/// (`docs/performance/author.md`); a node makes the [`ticket_job`] on its protocol thread and
/// runs it elsewhere.
pub fn generate_tickets(
    spec: &ChainSpec,
    ring: &RingContext,
    prior: &State,
    slot: TimeSlot,
    keys: &ValidatorKeys,
) -> Result<Vec<TicketEnvelope>, AuthorError> {
    match ticket_job(spec, ring, prior, slot, keys)? {
        Some(job) => job.run(ring, keys),
        None => Ok(Vec::new()),
    }
}

/// What one validator's ticket proofs for one contest are made from (eq. 6.29): the ring of
/// `γ'_P`'s Bandersnatch keys, the validator's place in it, `η'_2`, and the attempts `0..N`.
/// Making it costs one Safrole posterior (milliseconds); [`TicketJob::run`] is the slow part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketJob {
    /// `γ'_P`'s Bandersnatch keys, in order.
    pub ring: Vec<BandersnatchPublic>,
    /// The validator's index in `ring`.
    pub index: usize,
    /// `η'_2`: the contest's entropy.
    pub entropy: Entropy,
    /// `N`.
    pub attempts: u8,
}

/// The [`TicketJob`] of `keys` for the contest running in `slot`'s epoch, on `prior`; `None` when
/// there is nothing to prove (the keys are not in `γ'_P`, or `slot` is in the epoch's tail).
pub fn ticket_job(
    spec: &ChainSpec,
    ring: &RingContext,
    prior: &State,
    slot: TimeSlot,
    keys: &ValidatorKeys,
) -> Result<Option<TicketJob>, AuthorError> {
    if slot % spec.epoch_length >= spec.ticket_submission_end {
        return Ok(None);
    }
    let posterior = posterior_safrole(spec, ring, prior, slot, &prior.disputes.offenders, &[])?;
    let ring_keys: Vec<_> = posterior.safrole.pending_validators.iter().map(|k| k.bandersnatch).collect();
    let public = keys.bandersnatch_public();
    let Some(index) = ring_keys.iter().position(|k| *k == public) else { return Ok(None) };
    Ok(Some(TicketJob {
        ring: ring_keys,
        index,
        entropy: posterior.entropy.0[2],
        attempts: spec.tickets_per_validator,
    }))
}

impl TicketJob {
    /// The `N` ring-VRF ticket proofs: a ring prover and `N` proofs. The tickets' ids (the VRF
    /// outputs) depend on the job and the keys alone, so where and when this runs changes no
    /// ticket's id; the proofs' bytes do not repeat (the ring proof's zero-knowledge blinding
    /// draws randomness from the OS). `keys` must be the ones the job was made for.
    pub fn run(&self, ring: &RingContext, keys: &ValidatorKeys) -> Result<Vec<TicketEnvelope>, AuthorError> {
        let prover = ring.prover(&self.ring, self.index)?;
        (0..self.attempts)
            .map(|attempt| {
                let signature = keys.ring_sign(&prover, &ticket_vrf_input(&self.entropy, attempt), &[])?;
                Ok(TicketEnvelope { attempt, signature })
            })
            .collect()
    }
}

/// The tickets a block at `posterior.slot` takes from `pool` (eqs. 6.30–6.35): none in the
/// epoch's tail; else in ascending order of id, at most `K`, skipping attempts not below `N`,
/// repeated ids, ids already in the prior accumulator `γ_A`, proofs that do not verify against
/// `γ'_Z` on `η'_2`, and every ticket the accumulator would not keep.
fn select_tickets(
    spec: &ChainSpec,
    ring: &RingContext,
    prior: &State,
    posterior: &SafroleOutput,
    pool: &[TicketEnvelope],
) -> Result<Vec<TicketEnvelope>, AuthorError> {
    let slot = posterior.slot;
    if slot % spec.epoch_length >= spec.ticket_submission_end || pool.is_empty() {
        return Ok(Vec::new());
    }
    let epoch_change = slot / spec.epoch_length > prior.timeslot / spec.epoch_length;
    let accumulator = &prior.safrole.ticket_accumulator;
    let mut candidates: Vec<(Entropy, &TicketEnvelope)> = pool
        .iter()
        .filter(|t| t.attempt < spec.tickets_per_validator)
        .filter_map(|t| vrf_output(&t.signature).ok().map(|id| (id, t)))
        .filter(|(id, _)| !accumulator.iter().any(|a| a.id == *id))
        .collect();
    // Stable, so of two submissions with one id (one valid, one not) each is tried in turn.
    candidates.sort_by_key(|a| a.0);

    // What stays in γ'_A besides the new tickets (eq. 6.34).
    let kept: &[_] = if epoch_change { &[] } else { accumulator };
    let capacity = spec.epoch_length as usize;
    let limit = spec.max_tickets_per_extrinsic as usize;
    let verifier = ring.verifier(&posterior.safrole.ring_root)?;
    let entropy = posterior.entropy.0[2];
    let verifies = |(_, ticket): &(Entropy, &TicketEnvelope)| {
        verifier.verify(&ticket_vrf_input(&entropy, ticket.attempt), &[], &ticket.signature).is_ok()
    };
    let mut chosen: Vec<(Entropy, TicketEnvelope)> = Vec::new();
    let mut rest = candidates.as_slice();
    'fill: while chosen.len() < limit && !rest.is_empty() {
        // The next candidates that fill the extrinsic if their proofs verify: verified side by
        // side (a proof costs milliseconds), then taken in order.
        let (batch, after) = rest.split_at(rest.len().min(limit - chosen.len()));
        rest = after;
        let valid: Vec<bool> = batch.par_iter().map(verifies).collect();
        for ((id, ticket), valid) in batch.iter().zip(valid) {
            // Ascending, so a ticket is kept iff fewer than E tickets (kept or chosen) are below
            // it; once one is not, none after it is.
            if kept.iter().filter(|a| a.id < *id).count() + chosen.len() >= capacity {
                break 'fill;
            }
            if valid && chosen.last().is_none_or(|(last, _)| last != id) {
                chosen.push((*id, (*ticket).clone()));
            }
        }
    }
    Ok(chosen.into_iter().map(|(_, ticket)| ticket).collect())
}

/// Builds the block `keys` seal at `slot` on `prior`, whose header hash is `parent`, from the pools.
pub fn author_block(
    spec: &ChainSpec,
    ring: &RingContext,
    prior: &ChainState,
    parent: HeaderHash,
    slot: TimeSlot,
    keys: &ValidatorKeys,
    pools: &Pools,
) -> Result<Block, AuthorError> {
    let s = prior.state();
    if slot <= s.timeslot {
        return Err(AuthorError::SlotNotAfterParent { slot, parent: s.timeslot });
    }

    // E_D and H_o (§10, eq. 10.20), and ψ'_O for Safrole's γ'_P.
    let dispute_input = DisputesInput {
        records: &s.disputes,
        pending: &s.pending_reports,
        prior_slot: s.timeslot,
        active: &s.active_validators,
        previous: &s.previous_validators,
    };
    let (disputes, offenders_mark, offenders, pending) =
        match disputes::apply(spec, dispute_input, &pools.disputes) {
            Ok(out) => (pools.disputes.clone(), out.offenders_mark, out.records.offenders, out.pending),
            Err(_) => (
                DisputesExtrinsic::default(),
                Vec::new(),
                s.disputes.offenders.clone(),
                s.pending_reports.clone(),
            ),
        };

    // κ', γ'_S, η', γ'_Z and the markers; the tickets next.
    let posterior = posterior_safrole(spec, ring, s, slot, &offenders, &[])?;
    let claim = match claim(spec, &posterior, slot, keys)? {
        Some(claim) => claim,
        None if posterior.active.iter().any(|k| k.bandersnatch == keys.bandersnatch_public()) => {
            return Err(AuthorError::NotSlotAuthor { slot })
        }
        None => return Err(AuthorError::NotValidator { slot }),
    };
    let tickets = select_tickets(spec, ring, s, &posterior, &pools.tickets)?;
    // The chosen tickets pass Safrole's own checks (all but the proofs, verified above).
    posterior_safrole(spec, ring, s, slot, &offenders, &tickets)?;

    let extrinsic = Extrinsic {
        tickets,
        preimages: ordered_preimages(&pools.preimages),
        guarantees: ordered_guarantees(spec, &pools.guarantees),
        assurances: ordered_assurances(spec, &pools.assurances, &parent, &pending),
        disputes,
    };
    let mut header = Header {
        parent,
        parent_state_root: prior.root(),
        extrinsic_hash: extrinsic_hash(&extrinsic),
        slot,
        epoch_mark: posterior.epoch_mark.clone(),
        tickets_mark: posterior.tickets_mark.clone(),
        author_index: claim.index,
        entropy_source: [0; 96],
        offenders_mark,
        seal: [0; 96],
    };

    // The seal's VRF input (eqs. 6.15–6.16): the ticket's, or the fallback context, on η'_3.
    let entropy = &posterior.entropy.0[3];
    let seal_input = match claim.kind {
        SealKind::Ticket { attempt } => ticket_vrf_input(entropy, attempt),
        SealKind::Fallback => [context::FALLBACK_SEAL, entropy.as_slice()].concat(),
    };
    // H_v signs the seal's output (eq. 6.17), which the input alone fixes; the seal then signs
    // the header with H_v in it.
    let seal_output = keys.vrf_output(&seal_input)?;
    header.entropy_source = keys.ietf_sign(&[context::ENTROPY, seal_output.as_slice()].concat(), &[])?;
    header.seal = keys.ietf_sign(&seal_input, &header.encode_unsigned())?;
    Ok(Block { header, extrinsic })
}

/// E_P: ordered by requester, then blob, without repeats (eq. 12.29).
fn ordered_preimages(pool: &[Preimage]) -> Vec<Preimage> {
    let mut preimages = pool.to_vec();
    preimages.sort_by(|a, b| (a.requester, &a.blob).cmp(&(b.requester, &b.blob)));
    preimages.dedup();
    preimages
}

/// E_G: at most one per core, ordered by core (eq. 11.24), cores below `C`; each one's signatures
/// ordered by validator index, one per validator (eq. 11.25).
fn ordered_guarantees(spec: &ChainSpec, pool: &[ReportGuarantee]) -> Vec<ReportGuarantee> {
    let mut guarantees: Vec<ReportGuarantee> =
        pool.iter().filter(|g| g.report.core_index < spec.cores_count).cloned().collect();
    guarantees.sort_by_key(|g| g.report.core_index);
    guarantees.dedup_by_key(|g| g.report.core_index);
    for guarantee in &mut guarantees {
        guarantee.signatures.sort_by_key(|s| s.validator_index);
        guarantee.signatures.dedup_by_key(|s| s.validator_index);
    }
    guarantees
}

/// E_A: those anchored on the parent (eq. 11.11), one per validator, ordered by index (eq. 11.12),
/// marking only cores with a report pending in `pending`, the block's `ρ†` (eq. 11.15): a verdict
/// in the same block may clear a core the assurer saw engaged.
/// Public so a node choosing guarantees for a block sees the cores its assurances will free.
pub fn ordered_assurances(
    spec: &ChainSpec,
    pool: &[AvailAssurance],
    parent: &HeaderHash,
    pending: &AvailabilityAssignments,
) -> Vec<AvailAssurance> {
    let engaged = |a: &AvailAssurance| {
        (0..usize::from(spec.cores_count)).all(|core| {
            a.bitfield.get(core) != Some(true) || pending.0.get(core).is_some_and(Option::is_some)
        })
    };
    let mut assurances: Vec<AvailAssurance> = pool
        .iter()
        .filter(|a| a.anchor == *parent && a.validator_index < spec.validators_count && engaged(a))
        .cloned()
        .collect();
    assurances.sort_by_key(|a| a.validator_index);
    assurances.dedup_by_key(|a| a.validator_index);
    assurances
}

#[cfg(test)]
mod tests {
    use super::*;
    use orrery_codec::BitVec;

    #[test]
    fn preimages_ordered_by_requester_then_blob_once() {
        let p = |requester, blob: &[u8]| Preimage { requester, blob: blob.to_vec() };
        let pool = [p(2, b"a"), p(1, b"b"), p(1, b"a"), p(2, b"a"), p(1, b"ab")];
        assert_eq!(ordered_preimages(&pool), vec![p(1, b"a"), p(1, b"ab"), p(1, b"b"), p(2, b"a")]);
    }

    #[test]
    fn assurances_on_the_parent_ordered_by_validator_once() {
        let spec = ChainSpec::tiny();
        let a = |anchor: u8, validator_index| AvailAssurance {
            anchor: [anchor; 32],
            bitfield: BitVec::zeros(usize::from(spec.cores_count)),
            validator_index,
            signature: [validator_index as u8; 64],
        };
        let pool = [a(1, 3), a(2, 0), a(1, 0), a(1, 3), a(1, 6), a(1, 5)];
        let none = AvailabilityAssignments(vec![None; usize::from(spec.cores_count)]);
        let kept: Vec<u16> =
            ordered_assurances(&spec, &pool, &[1; 32], &none).iter().map(|a| a.validator_index).collect();
        // Validator 6 is past V = 6; anchor 2 is not the parent.
        assert_eq!(kept, vec![0, 3, 5]);
        // One marking core 1, which has nothing pending (a verdict cleared it): left out.
        let mut marks = a(1, 2);
        marks.bitfield.set(1, true);
        let kept: Vec<u16> = ordered_assurances(&spec, &[marks, a(1, 4)], &[1; 32], &none)
            .iter()
            .map(|a| a.validator_index)
            .collect();
        assert_eq!(kept, vec![4]);
    }
}
