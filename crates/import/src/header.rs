//! The header's own rules (GP 0.7.2 §5 and §6.4): parent state root, slot, extrinsic hash, author
//! index, and the seal and entropy-source signatures.

use orrery_codec::Encode;
use orrery_crypto::bandersnatch::{ietf_vrf_verify, vrf_output, VrfOutput};
use orrery_crypto::{blake2b_256, context};
use orrery_state::{State, TicketsOrKeys, ValidatorsData};
use orrery_stf::safrole::{ticket_vrf_input, SafroleOutput};
use orrery_types::{BandersnatchPublic, ChainSpec, Extrinsic, Hash, Header, StateRoot, TimeSlot};

/// Why a header is invalid. Each names the paper's rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("the parent state root H_r is {got}, the prior state's root is {expected} (GP 0.7.2 eq. 5.8)", got = hex(.got), expected = hex(.expected))]
    BadParentStateRoot { expected: StateRoot, got: StateRoot },
    #[error("the slot H_t = {slot} is not after the parent's {parent} (GP 0.7.2 eq. 5.7)")]
    SlotNotAfterParent { slot: TimeSlot, parent: TimeSlot },
    #[error("the slot H_t = {slot} is still in the future (now {now}) (GP 0.7.2 eq. 5.7)")]
    SlotInFuture { slot: TimeSlot, now: TimeSlot },
    #[error("the extrinsic hash H_x does not commit to the extrinsic (GP 0.7.2 eq. 5.4)")]
    BadExtrinsicHash,
    #[error("the author index H_i = {index} is not below V = {validators} (GP 0.7.2 eq. 5.9)")]
    BadAuthorIndex { index: u16, validators: u16 },
    #[error("the epoch marker H_e is not the one the epoch change yields (GP 0.7.2 eq. 6.27)")]
    EpochMark,
    #[error("the winning-tickets marker H_w is not the one the ticket contest yields (GP 0.7.2 eq. 6.28)")]
    TicketsMark,
    #[error("the offenders marker H_o is not the new offenders of the disputes (GP 0.7.2 eq. 10.20)")]
    OffendersMark,
    #[error("the author's key is not the slot's fallback sealing key (GP 0.7.2 eq. 6.16)")]
    UnexpectedAuthor,
    #[error("the seal H_s does not verify under the author's key (GP 0.7.2 eqs. 6.15–6.16)")]
    BadSeal,
    #[error("the seal's VRF output is not the slot's ticket id (GP 0.7.2 eq. 6.15)")]
    TicketMismatch,
    #[error("the entropy source H_v does not verify (GP 0.7.2 eq. 6.17)")]
    BadEntropySource,
}

impl HeaderError {
    /// A short name of the rule.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadParentStateRoot { .. } => "bad_parent_state_root",
            Self::SlotNotAfterParent { .. } => "bad_slot",
            Self::SlotInFuture { .. } => "future_slot",
            Self::BadExtrinsicHash => "bad_extrinsic_hash",
            Self::BadAuthorIndex { .. } => "bad_author_index",
            Self::EpochMark => "bad_epoch_mark",
            Self::TicketsMark => "bad_tickets_mark",
            Self::OffendersMark => "bad_offenders_mark",
            Self::UnexpectedAuthor => "unexpected_author",
            Self::BadSeal => "bad_seal",
            Self::TicketMismatch => "ticket_mismatch",
            Self::BadEntropySource => "bad_entropy_source",
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `H_x` (GP 0.7.2 eq. 5.4): `H(E(H#(a)))` over the encoded tickets, preimages, guarantees (each
/// report by its hash), assurances and disputes.
pub fn extrinsic_hash(extrinsic: &Extrinsic) -> Hash {
    let mut guarantees = Vec::new();
    orrery_codec::natural::encode_to(extrinsic.guarantees.len() as u64, &mut guarantees);
    for g in &extrinsic.guarantees {
        guarantees.extend_from_slice(&blake2b_256(&g.report.encode()));
        guarantees.extend_from_slice(&g.slot.to_le_bytes());
        g.signatures.encode_to(&mut guarantees);
    }
    let parts = [
        blake2b_256(&extrinsic.tickets.encode()),
        blake2b_256(&extrinsic.preimages.encode()),
        blake2b_256(&guarantees),
        blake2b_256(&extrinsic.assurances.encode()),
        blake2b_256(&extrinsic.disputes.encode()),
    ];
    blake2b_256(&parts.concat())
}

/// The rules that need only the header, the extrinsic and the prior state.
pub(crate) fn check_before(
    spec: &ChainSpec,
    header: &Header,
    extrinsic: &Extrinsic,
    prior: &State,
    prior_root: StateRoot,
    now: Option<TimeSlot>,
) -> Result<(), HeaderError> {
    if header.slot <= prior.timeslot {
        return Err(HeaderError::SlotNotAfterParent { slot: header.slot, parent: prior.timeslot });
    }
    if let Some(now) = now {
        if header.slot > now {
            return Err(HeaderError::SlotInFuture { slot: header.slot, now });
        }
    }
    if header.author_index >= spec.validators_count {
        return Err(HeaderError::BadAuthorIndex {
            index: header.author_index,
            validators: spec.validators_count,
        });
    }
    if header.parent_state_root != prior_root {
        return Err(HeaderError::BadParentStateRoot { expected: prior_root, got: header.parent_state_root });
    }
    if header.extrinsic_hash != extrinsic_hash(extrinsic) {
        return Err(HeaderError::BadExtrinsicHash);
    }
    Ok(())
}

/// What the seal and the entropy source are checked against: the posterior active set `κ'` (for
/// the author's key), the slot's sealing keys in `γ'_S`, and `η'_3`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SealKeys<'a> {
    active: &'a ValidatorsData,
    sealing: &'a TicketsOrKeys,
    entropy: &'a Hash,
}

impl<'a> SealKeys<'a> {
    /// As Safrole left them.
    pub(crate) fn posterior(safrole: &'a SafroleOutput) -> SealKeys<'a> {
        SealKeys {
            active: &safrole.active,
            sealing: &safrole.safrole.sealing_keys,
            entropy: &safrole.entropy.0[3],
        }
    }

    /// Read from the prior state, for a block in the prior state's epoch: Safrole changes `κ`,
    /// `η_3` and `γ_S` only when `e' > e` (GP 0.7.2 §6.3 key rotation, §6.4 the entropy history
    /// and the slot-key sequence), so within an epoch the posterior values are the prior ones and
    /// the seal can be checked before Safrole runs. `None` for a block in a later epoch, or not
    /// after its parent (which `check_before` rejects anyway).
    pub(crate) fn within_prior_epoch(
        spec: &ChainSpec,
        slot: TimeSlot,
        prior: &'a State,
    ) -> Option<SealKeys<'a>> {
        let epoch = |t: TimeSlot| t / spec.epoch_length;
        (slot > prior.timeslot && epoch(slot) == epoch(prior.timeslot)).then_some(SealKeys {
            active: &prior.active_validators,
            sealing: &prior.safrole.sealing_keys,
            entropy: &prior.entropy.0[3],
        })
    }

    #[cfg(debug_assertions)]
    pub(crate) fn same_as(&self, other: &SealKeys<'_>) -> bool {
        self.active == other.active && self.sealing == other.sealing && self.entropy == other.entropy
    }
}

/// The author's Bandersnatch key, `κ'[H_i]`.
fn author_key<'a>(
    spec: &ChainSpec,
    header: &Header,
    keys: &SealKeys<'a>,
) -> Result<&'a BandersnatchPublic, HeaderError> {
    keys.active
        .get(usize::from(header.author_index))
        .map(|author| &author.bandersnatch)
        .ok_or(HeaderError::BadAuthorIndex { index: header.author_index, validators: spec.validators_count })
}

/// The seal `H_s` (eqs. 6.15–6.16) against the posterior Safrole state: by the author `κ'[H_i]`,
/// with the slot's ticket (its id the seal's output) or the slot's fallback key in `γ'_S`, and
/// `η'_3`. Its verdict comes before the entropy source's.
pub(crate) fn check_seal(spec: &ChainSpec, header: &Header, keys: SealKeys<'_>) -> Result<(), HeaderError> {
    let key = author_key(spec, header, &keys)?;
    let entropy = keys.entropy;
    let phase = (header.slot % spec.epoch_length) as usize;
    let (seal_input, ticket_id) = match keys.sealing {
        TicketsOrKeys::Tickets(tickets) => {
            let ticket = tickets.get(phase).ok_or(HeaderError::BadSeal)?;
            (ticket_vrf_input(entropy, ticket.attempt), Some(ticket.id))
        }
        TicketsOrKeys::Keys(keys) => {
            if keys.get(phase) != Some(key) {
                return Err(HeaderError::UnexpectedAuthor);
            }
            ([context::FALLBACK_SEAL, entropy.as_slice()].concat(), None)
        }
    };
    let output = ietf_vrf_verify(key, &seal_input, &header.encode_unsigned(), &header.seal)
        .map_err(|_| HeaderError::BadSeal)?;
    if ticket_id.is_some_and(|id| id != output) {
        return Err(HeaderError::TicketMismatch);
    }
    Ok(())
}

/// The entropy source `H_v` (eq. 6.17): the author's signature over the seal's output. The output
/// can be read before the seal is verified, so the two checks can run side by side; a seal that
/// fails (an unknown author, an unreadable output) is reported by [`check_seal`], whose verdict
/// is taken first.
pub(crate) fn check_entropy_source(
    spec: &ChainSpec,
    header: &Header,
    keys: SealKeys<'_>,
) -> Result<(), HeaderError> {
    let key = author_key(spec, header, &keys).map_err(|_| HeaderError::BadEntropySource)?;
    let seal_output: VrfOutput = vrf_output(&header.seal).map_err(|_| HeaderError::BadEntropySource)?;
    let input = [context::ENTROPY, seal_output.as_slice()].concat();
    ietf_vrf_verify(key, &input, &[], &header.entropy_source).map_err(|_| HeaderError::BadEntropySource)?;
    Ok(())
}
