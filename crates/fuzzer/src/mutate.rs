//! Mutations: a valid block altered in one place so that it breaks exactly one of the paper's
//! rules, which every implementation must then reject (GP 0.7.2 §5 for the header, §6.7 for the
//! seal and entropy source, §6.7 eq. 6.29–6.35 for tickets, §10 for disputes, §11.2 and §12.4 for
//! assurances and preimages).
//!
//! A mutation that changes anything the seal covers re-seals the header with the author's key and
//! the block's true seal input, and one that changes an extrinsic recomputes the extrinsic hash
//! first: so the altered field is what a target has to catch, not a broken seal. The signature
//! mutations are the exception: they are the broken signature (a valid signature by the wrong key
//! or on the wrong message, or a proof with a flipped octet).

use orrery_codec::BitVec;
use orrery_crypto::context;
use orrery_import::extrinsic_hash;
use orrery_keys::ValidatorKeys;
use orrery_types::{
    AvailAssurance, Block, ChainSpec, EpochMark, EpochMarkValidatorKeys, HeaderHash, Preimage, TicketBody,
    TicketsMark, TimeSlot,
};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// What is altered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mutation {
    /// `H_t` set to the parent's slot: not after it (eq. 5.7).
    Slot,
    /// `H_p` naming the grandparent (or, for the first block, a header no one has).
    Parent,
    /// `H_r` with one octet flipped (eq. 5.8).
    ParentStateRoot,
    /// `H_x` with one octet flipped (eq. 5.4).
    ExtrinsicHash,
    /// `H_i` naming another validator (eq. 6.15–6.16: the seal is then not theirs).
    AuthorIndex,
    /// `H_e` dropped where the epoch changes, or made up where it does not (eq. 6.27).
    EpochMark,
    /// `H_w` dropped where the contest closes, or made up where it does not (eq. 6.28).
    TicketsMark,
    /// `H_o` with an extra key (eq. 10.20).
    OffendersMark,
    /// `H_s` a valid signature by another validator's key.
    Seal,
    /// `H_v` a valid signature on another VRF output (eq. 6.17).
    EntropySource,
    /// A ticket's ring proof with one octet flipped (eq. 6.29).
    TicketProof,
    /// A ticket's attempt past `N` (eq. 6.29).
    TicketAttempt,
    /// Two tickets swapped (eq. 6.32: ascending by id).
    TicketsOrder,
    /// A judgment's signature with one octet flipped (eq. 10.3).
    JudgmentSignature,
    /// Two judgments swapped (eq. 10.10: ascending by validator).
    JudgmentsOrder,
    /// A verdict's age one epoch ahead (eq. 10.3: the current or previous epoch only).
    VerdictAge,
    /// A bad verdict with one culprit too few (eq. 10.14).
    CulpritMissing,
    /// A preimage no service asked for (eq. 12.30).
    PreimageUnsolicited,
    /// An assurance with a signature that is not the assurer's (eq. 11.13): one octet of a real
    /// one flipped, or, in a block with none, a made-up one.
    AssuranceSignature,
    /// An assurance anchored on a block other than the parent (eq. 11.11).
    AssuranceAnchor,
    /// Two assurances swapped (eq. 11.12: ascending by validator).
    AssurancesOrder,
    /// A guarantee's credential with one octet of a signature flipped (eq. 11.26).
    GuaranteeSignature,
    /// A guarantee's slot after the block's (eq. 11.26: `t ≤ τ'`).
    GuaranteeSlot,
    /// A guarantee's credential with two signatures swapped (eq. 11.25: ascending by validator).
    GuarantorsOrder,
    /// Two guarantees swapped (eq. 11.24: ascending by core).
    GuaranteesOrder,
}

impl Mutation {
    pub const ALL: [Mutation; 25] = [
        Mutation::Slot,
        Mutation::Parent,
        Mutation::ParentStateRoot,
        Mutation::ExtrinsicHash,
        Mutation::AuthorIndex,
        Mutation::EpochMark,
        Mutation::TicketsMark,
        Mutation::OffendersMark,
        Mutation::Seal,
        Mutation::EntropySource,
        Mutation::TicketProof,
        Mutation::TicketAttempt,
        Mutation::TicketsOrder,
        Mutation::JudgmentSignature,
        Mutation::JudgmentsOrder,
        Mutation::VerdictAge,
        Mutation::CulpritMissing,
        Mutation::PreimageUnsolicited,
        Mutation::AssuranceSignature,
        Mutation::AssuranceAnchor,
        Mutation::AssurancesOrder,
        Mutation::GuaranteeSignature,
        Mutation::GuaranteeSlot,
        Mutation::GuarantorsOrder,
        Mutation::GuaranteesOrder,
    ];
}

/// What a mutation needs to know of the block it alters.
#[derive(Debug, Clone, Copy)]
pub struct Sealer<'a> {
    pub spec: &'a ChainSpec,
    /// The author's keys.
    pub keys: &'a ValidatorKeys,
    /// Another validator's keys (for a seal by the wrong key).
    pub other: &'a ValidatorKeys,
    /// The seal's VRF input (eqs. 6.15–6.16) of the block.
    pub seal_input: &'a [u8],
    /// The parent's slot.
    pub parent_slot: TimeSlot,
    /// The parent's parent, if the chain has one.
    pub grandparent: Option<HeaderHash>,
}

impl Sealer<'_> {
    fn reseal(&self, block: &mut Block) {
        block.header.extrinsic_hash = extrinsic_hash(&block.extrinsic);
        self.reseal_header(block);
    }

    fn reseal_header(&self, block: &mut Block) {
        if let Ok(seal) = self.keys.ietf_sign(self.seal_input, &block.header.encode_unsigned()) {
            block.header.seal = seal;
        }
    }
}

fn flip(rng: &mut ChaCha8Rng, bytes: &mut [u8], from: usize) {
    let i = rng.gen_range(from.min(bytes.len() - 1)..bytes.len());
    bytes[i] ^= 1 << rng.gen_range(0..8);
}

/// `block` altered by `kind`, or `None` if the block has nothing to alter that way (no tickets,
/// no verdict, …).
pub fn mutate(kind: Mutation, block: &Block, rng: &mut ChaCha8Rng, s: &Sealer<'_>) -> Option<Block> {
    let mut b = block.clone();
    let h = &mut b.header;
    let e = &mut b.extrinsic;
    match kind {
        Mutation::Slot => {
            h.slot = s.parent_slot;
            s.reseal_header(&mut b);
        }
        Mutation::Parent => {
            h.parent = s.grandparent.unwrap_or_else(|| rng.gen());
            s.reseal_header(&mut b);
        }
        Mutation::ParentStateRoot => {
            flip(rng, &mut h.parent_state_root, 0);
            s.reseal_header(&mut b);
        }
        Mutation::ExtrinsicHash => {
            flip(rng, &mut h.extrinsic_hash, 0);
            s.reseal_header(&mut b);
        }
        Mutation::AuthorIndex => {
            let v = s.spec.validators_count;
            h.author_index = (h.author_index + rng.gen_range(1..v)) % v;
            s.reseal_header(&mut b);
        }
        Mutation::EpochMark => {
            h.epoch_mark = match h.epoch_mark {
                Some(_) => None,
                None => Some(EpochMark {
                    entropy: rng.gen(),
                    tickets_entropy: rng.gen(),
                    validators: vec![
                        EpochMarkValidatorKeys {
                            bandersnatch: s.keys.bandersnatch_public(),
                            ed25519: s.keys.ed25519_public(),
                        };
                        usize::from(s.spec.validators_count)
                    ],
                }),
            };
            s.reseal_header(&mut b);
        }
        Mutation::TicketsMark => {
            h.tickets_mark = match h.tickets_mark {
                Some(_) => None,
                None => {
                    let mut ids: Vec<TicketBody> =
                        (0..s.spec.epoch_length).map(|_| TicketBody { id: rng.gen(), attempt: 0 }).collect();
                    ids.sort();
                    Some(TicketsMark(ids))
                }
            };
            s.reseal_header(&mut b);
        }
        Mutation::OffendersMark => {
            h.offenders_mark.push(s.other.ed25519_public());
            s.reseal_header(&mut b);
        }
        Mutation::Seal => {
            h.seal = s.other.ietf_sign(s.seal_input, &h.encode_unsigned()).ok()?;
        }
        Mutation::EntropySource => {
            let wrong: [u8; 32] = rng.gen();
            h.entropy_source = s.keys.ietf_sign(&[context::ENTROPY, wrong.as_slice()].concat(), &[]).ok()?;
            s.reseal_header(&mut b);
        }
        Mutation::TicketProof => {
            let n = e.tickets.len();
            let t = e.tickets.get_mut(rng.gen_range(0..n.max(1)))?;
            // Past the 32-octet VRF output, so the ticket's id (and order) stay.
            flip(rng, &mut t.signature, 32);
            s.reseal(&mut b);
        }
        Mutation::TicketAttempt => {
            let n = e.tickets.len();
            let t = e.tickets.get_mut(rng.gen_range(0..n.max(1)))?;
            t.attempt = rng.gen_range(s.spec.tickets_per_validator..=u8::MAX);
            s.reseal(&mut b);
        }
        Mutation::TicketsOrder => {
            if e.tickets.len() < 2 {
                return None;
            }
            let i = rng.gen_range(0..e.tickets.len() - 1);
            e.tickets.swap(i, i + 1);
            s.reseal(&mut b);
        }
        Mutation::JudgmentSignature => {
            let verdict = e.disputes.verdicts.first_mut()?;
            let n = verdict.votes.len();
            let vote = verdict.votes.get_mut(rng.gen_range(0..n.max(1)))?;
            flip(rng, &mut vote.signature, 0);
            s.reseal(&mut b);
        }
        Mutation::JudgmentsOrder => {
            let verdict = e.disputes.verdicts.first_mut()?;
            if verdict.votes.len() < 2 {
                return None;
            }
            let i = rng.gen_range(0..verdict.votes.len() - 1);
            verdict.votes.swap(i, i + 1);
            s.reseal(&mut b);
        }
        Mutation::VerdictAge => {
            let verdict = e.disputes.verdicts.first_mut()?;
            verdict.age += 1;
            s.reseal(&mut b);
        }
        Mutation::CulpritMissing => {
            if e.disputes.culprits.len() < 2 {
                return None;
            }
            let i = rng.gen_range(0..e.disputes.culprits.len());
            e.disputes.culprits.remove(i);
            s.reseal(&mut b);
        }
        Mutation::PreimageUnsolicited => {
            let blob: Vec<u8> = (0..rng.gen_range(1..64)).map(|_| rng.gen()).collect();
            e.preimages.push(Preimage { requester: rng.gen(), blob });
            e.preimages.sort_by(|a, b| (a.requester, &a.blob).cmp(&(b.requester, &b.blob)));
            s.reseal(&mut b);
        }
        Mutation::AssuranceSignature if !e.assurances.is_empty() => {
            let n = e.assurances.len();
            let i = rng.gen_range(0..n);
            flip(rng, &mut e.assurances[i].signature, 0);
            s.reseal(&mut b);
        }
        Mutation::AssuranceSignature => {
            let cores = usize::from(s.spec.cores_count);
            let validator_index = rng.gen_range(0..s.spec.validators_count);
            e.assurances.push(AvailAssurance {
                anchor: h.parent,
                bitfield: BitVec::zeros(cores),
                validator_index,
                signature: s.other.ed25519_sign(b"not an assurance"),
            });
            s.reseal(&mut b);
        }
        Mutation::AssuranceAnchor => {
            let n = e.assurances.len();
            let a = e.assurances.get_mut(rng.gen_range(0..n.max(1)))?;
            a.anchor = s.grandparent.unwrap_or_else(|| rng.gen());
            s.reseal(&mut b);
        }
        Mutation::AssurancesOrder => {
            if e.assurances.len() < 2 {
                return None;
            }
            let i = rng.gen_range(0..e.assurances.len() - 1);
            e.assurances.swap(i, i + 1);
            s.reseal(&mut b);
        }
        Mutation::GuaranteeSignature => {
            let n = e.guarantees.len();
            let g = e.guarantees.get_mut(rng.gen_range(0..n.max(1)))?;
            let m = g.signatures.len();
            let i = rng.gen_range(0..m.max(1));
            flip(rng, &mut g.signatures.get_mut(i)?.signature, 0);
            s.reseal(&mut b);
        }
        Mutation::GuaranteeSlot => {
            let n = e.guarantees.len();
            let g = e.guarantees.get_mut(rng.gen_range(0..n.max(1)))?;
            g.slot = h.slot + rng.gen_range(1..=s.spec.rotation_period);
            s.reseal(&mut b);
        }
        Mutation::GuarantorsOrder => {
            let n = e.guarantees.len();
            let g = e.guarantees.get_mut(rng.gen_range(0..n.max(1)))?;
            if g.signatures.len() < 2 {
                return None;
            }
            let i = rng.gen_range(0..g.signatures.len() - 1);
            g.signatures.swap(i, i + 1);
            s.reseal(&mut b);
        }
        Mutation::GuaranteesOrder => {
            if e.guarantees.len() < 2 {
                return None;
            }
            let i = rng.gen_range(0..e.guarantees.len() - 1);
            e.guarantees.swap(i, i + 1);
            s.reseal(&mut b);
        }
    }
    Some(b)
}
