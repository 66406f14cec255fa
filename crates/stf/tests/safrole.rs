//! Safrole with hand-built blocks and real ring proofs: the paper's error for each kind of bad
//! tickets extrinsic (the prior state untouched), and the expected posterior for good ones, worked
//! from GP 0.7.2 §6 rather than from the code under test. Ticket ids come from the signers' own
//! VRF outputs, and expected ring roots from `orrery-crypto` directly.
//!
//! The tiny spec (V = 6, E = 12, Y = 10, N = 3, K = 3) carries most tests; one test runs the full
//! spec's sizes (V = 1023, E = 600, Y = 500, N = 2, K = 16).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use orrery_crypto::bandersnatch::{PublicKey, RingContext, SecretKey};
use orrery_crypto::blake2b_256;
use orrery_state::{EntropyBuffer, SafroleState, TicketsOrKeys, ValidatorData, ValidatorsData};
use orrery_stf::safrole::{
    apply, fallback_keys, outside_in, SafroleBlock, SafroleError, SafroleInput, SafroleOutput,
};
use orrery_testkit::srs_path;
use orrery_types::{ChainSpec, Entropy, TicketBody, TicketEnvelope, TicketsMark};

const ETA: [Entropy; 4] = [[10; 32], [11; 32], [12; 32], [13; 32]];
const SOURCE: Entropy = [0x5a; 32];

/// The VRF input of a ticket, written out from eq. 6.29: `jam_ticket_seal ⌢ η ⌢ attempt`.
fn ticket_input(entropy: &Entropy, attempt: u8) -> Vec<u8> {
    [b"jam_ticket_seal".as_slice(), entropy, &[attempt]].concat()
}

fn secret(seed: usize) -> SecretKey {
    SecretKey::from_seed(&(seed as u64).to_le_bytes())
}

/// A validator set: Bandersnatch keys of seeds `first..first + count`, Ed25519 keys told apart.
fn validators(first: usize, count: usize) -> ValidatorsData {
    ValidatorsData(
        (first..first + count)
            .map(|i| ValidatorData {
                bandersnatch: secret(i).public(),
                ed25519: [(i % 251) as u8 + 1, (i / 251) as u8, 0xed, 0].repeat(8).try_into().unwrap(),
                ..ValidatorData::NULL
            })
            .collect(),
    )
}

fn keys(set: &ValidatorsData) -> Vec<PublicKey> {
    set.iter().map(|k| k.bandersnatch).collect()
}

/// A proof by validator `signer` (a seed) in the ring of `set`, for `entropy` and `attempt`, and
/// the ticket it makes.
fn make_ticket(
    ring: &RingContext,
    set: &ValidatorsData,
    signer: usize,
    first: usize,
    entropy: &Entropy,
    attempt: u8,
) -> (TicketEnvelope, TicketBody) {
    let key = secret(signer);
    let prover = ring.prover(&keys(set), signer - first).unwrap();
    let input = ticket_input(entropy, attempt);
    let signature = key.ring_sign(&prover, &input, &[]).unwrap();
    let id = key.vrf_output(&input).unwrap();
    (TicketEnvelope { attempt, signature }, TicketBody { id, attempt })
}

/// What every tiny test shares: the ring context and a few proofs, made once per test binary.
struct Tiny {
    ring: RingContext,
    /// Proofs for `γ_P` = validators 0..6 under `η_2` (a block within epoch 1): validators 0, 1, 2,
    /// 3 at attempts 0, 0, 1, 2.
    current: Vec<(TicketEnvelope, TicketBody)>,
    /// A proof for `γ'_P` on entering epoch 2: `ι` = validators 6..12 with the fourth (an offender)
    /// nulled, under `η_1` (as `η'_2 = η_1` there).
    next_epoch: (TicketEnvelope, TicketBody),
    /// The same in the ring of `ι` as it is, the offender's key still in it.
    offender_kept: (TicketEnvelope, TicketBody),
    /// The same signer and attempt as `next_epoch`'s but in the ring of the outgoing `γ_P`.
    stale_ring: (TicketEnvelope, TicketBody),
}

fn tiny() -> &'static Tiny {
    static TINY: OnceLock<Tiny> = OnceLock::new();
    TINY.get_or_init(|| {
        let ring = RingContext::from_srs_file(&srs_path(), 6).expect("the vectors' SRS");
        let (pending, staging) = (validators(0, 6), validators(6, 6));
        let current = [(0, 0), (1, 0), (2, 1), (3, 2)]
            .into_iter()
            .map(|(signer, attempt)| make_ticket(&ring, &pending, signer, 0, &ETA[2], attempt))
            .collect();
        let mut nulled = staging.clone();
        nulled.0[3] = ValidatorData::NULL;
        let next_epoch = make_ticket(&ring, &nulled, 7, 6, &ETA[1], 0);
        let offender_kept = make_ticket(&ring, &staging, 7, 6, &ETA[1], 0);
        let stale_ring = make_ticket(&ring, &pending, 1, 0, &ETA[1], 0);
        Tiny { ring, current, next_epoch, offender_kept, stale_ring }
    })
}

/// Tickets `indices` of [`Tiny::current`], in the order given.
fn current(indices: &[usize]) -> (Vec<TicketEnvelope>, Vec<TicketBody>) {
    indices.iter().map(|&i| tiny().current[i].clone()).unzip()
}

/// Indices of [`Tiny::current`] sorted by ticket id.
fn sorted_current() -> Vec<usize> {
    let mut indices: Vec<usize> = (0..tiny().current.len()).collect();
    indices.sort_by_key(|&i| tiny().current[i].1.id);
    indices
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct World {
    spec: ChainSpec,
    slot: u32,
    entropy: EntropyBuffer,
    previous: ValidatorsData,
    active: ValidatorsData,
    staging: ValidatorsData,
    safrole: SafroleState,
    offenders: BTreeSet<[u8; 32]>,
}

impl World {
    /// Tiny spec, slot 13 (epoch 1, phase 1), an empty accumulator and fallback keys.
    fn tiny() -> Self {
        let ring = &tiny().ring;
        let pending = validators(0, 6);
        let active = validators(100, 6);
        Self {
            spec: ChainSpec::tiny(),
            slot: 13,
            entropy: EntropyBuffer(ETA),
            previous: validators(200, 6),
            staging: validators(6, 6),
            safrole: SafroleState {
                ring_root: ring.ring_root(&keys(&pending)).unwrap(),
                pending_validators: pending,
                sealing_keys: TicketsOrKeys::Keys(vec![active.0[0].bandersnatch; 12]),
                ticket_accumulator: vec![],
            },
            active,
            offenders: BTreeSet::new(),
        }
    }

    fn apply_with(
        &self,
        ring: &RingContext,
        slot: u32,
        tickets: &[TicketEnvelope],
    ) -> Result<SafroleOutput, SafroleError> {
        let prior = SafroleInput {
            slot: self.slot,
            entropy: &self.entropy,
            previous: &self.previous,
            active: &self.active,
            staging: &self.staging,
            safrole: &self.safrole,
            offenders: &self.offenders,
        };
        apply(&self.spec, ring, prior, SafroleBlock { slot, entropy_source: SOURCE, tickets })
    }

    fn apply(&self, slot: u32, tickets: &[TicketEnvelope]) -> Result<SafroleOutput, SafroleError> {
        self.apply_with(&tiny().ring, slot, tickets)
    }

    /// The block is rejected with `error`, and the prior state is as it was.
    fn rejects(&self, slot: u32, tickets: &[TicketEnvelope], error: SafroleError) {
        let before = self.clone();
        assert_eq!(self.apply(slot, tickets), Err(error));
        assert_eq!(*self, before);
    }
}

/// Tickets whose ids start with `byte` and count up, sorted: filler for an accumulator.
fn filler(byte: u8, count: usize) -> Vec<TicketBody> {
    (0..count)
        .map(|i| {
            let mut id = [byte; 32];
            id[31] = i as u8;
            TicketBody { id, attempt: 0 }
        })
        .collect()
}

#[test]
fn sorted_tickets_enter_the_accumulator_and_entropy_accumulates() {
    let world = World::tiny();
    let order = sorted_current();
    let (envelopes, bodies) = current(&order[..3]);
    let out = world.apply(14, &envelopes).unwrap();

    assert_eq!(out.slot, 14);
    assert_eq!(out.safrole.ticket_accumulator, bodies);
    // η'_0 = H(η_0 ⌢ Y(H_v)); no epoch change, so η_1..η_3 stay.
    let accumulated = blake2b_256(&[ETA[0].as_slice(), &SOURCE].concat());
    assert_eq!(out.entropy, EntropyBuffer([accumulated, ETA[1], ETA[2], ETA[3]]));
    assert_eq!(out.safrole.sealing_keys, world.safrole.sealing_keys);
    assert_eq!(out.safrole.ring_root, world.safrole.ring_root);
    assert_eq!(out.safrole.pending_validators, world.safrole.pending_validators);
    assert_eq!((out.active, out.previous), (world.active.clone(), world.previous.clone()));
    assert_eq!((out.epoch_mark, out.tickets_mark), (None, None));

    // The next block's ticket merges in order with those already kept.
    let next = World { slot: 14, safrole: out.safrole, ..world };
    let (last, last_body) = current(&order[3..]);
    let out = next.apply(15, &last).unwrap();
    let mut all = bodies;
    all.extend(last_body);
    all.sort_by_key(|t| t.id);
    assert_eq!(out.safrole.ticket_accumulator, all);
}

#[test]
fn a_full_accumulator_keeps_the_lowest_ids() {
    let mut world = World::tiny();
    let (envelopes, bodies) = current(&sorted_current()[..2]);
    assert!(bodies.iter().all(|b| b.id < [0xf0; 32]));
    // Ten low ids and two high ones fill the accumulator (E = 12); the two new tickets push out the
    // two highest.
    let mut prior = filler(0x00, 10);
    prior.extend(filler(0xf0, 2));
    world.safrole.ticket_accumulator = prior.clone();
    let out = world.apply(14, &envelopes).unwrap();
    let mut expected = prior[..10].to_vec();
    expected.extend(bodies);
    expected.sort_by_key(|t| t.id);
    assert_eq!(out.safrole.ticket_accumulator, expected);
}

#[test]
fn a_ticket_that_would_not_be_kept_is_useless() {
    let mut world = World::tiny();
    let (envelopes, bodies) = current(&sorted_current()[..1]);
    assert_ne!(bodies[0].id[0], 0);
    world.safrole.ticket_accumulator = filler(0x00, 12);
    world.rejects(14, &envelopes, SafroleError::UselessTicket);
}

#[test]
fn unsorted_tickets() {
    let world = World::tiny();
    let mut order = sorted_current()[..2].to_vec();
    order.reverse();
    world.rejects(14, &current(&order).0, SafroleError::BadTicketOrder);
}

#[test]
fn duplicate_tickets_in_the_extrinsic_or_the_accumulator() {
    let mut world = World::tiny();
    let first = sorted_current()[0];
    world.rejects(14, &current(&[first, first]).0, SafroleError::DuplicateTicket);

    // Already accumulated by an earlier block.
    let (envelopes, bodies) = current(&[first]);
    world.safrole.ticket_accumulator = bodies;
    world.rejects(14, &envelopes, SafroleError::DuplicateTicket);
    // The same id with another attempt number is still the same ticket id.
    world.safrole.ticket_accumulator[0].attempt ^= 1;
    world.rejects(14, &envelopes, SafroleError::DuplicateTicket);
}

#[test]
fn bad_ring_proofs() {
    let world = World::tiny();
    let (good, _) = current(&[0]);

    // A flipped bit in the proof proper (after the output point).
    let mut flipped = good.clone();
    flipped[0].signature[200] ^= 1;
    world.rejects(14, &flipped, SafroleError::BadTicketProof);
    // Another attempt number: the proof was made for another VRF input.
    let mut other_attempt = good.clone();
    other_attempt[0].attempt = (other_attempt[0].attempt + 1) % 3;
    world.rejects(14, &other_attempt, SafroleError::BadTicketProof);
    // An output point that is no point, or all zeros.
    let mut no_point = good.clone();
    no_point[0].signature[..32].copy_from_slice(&[0xff; 32]);
    world.rejects(14, &no_point, SafroleError::BadTicketProof);
    let zeros = vec![TicketEnvelope { attempt: 0, signature: [0; 784] }];
    world.rejects(14, &zeros, SafroleError::BadTicketProof);
    // A good proof in the wrong ring: the ring root is not the one it was made for.
    let mut other_ring = world.clone();
    other_ring.safrole.ring_root = tiny().ring.ring_root(&keys(&validators(50, 6))).unwrap();
    other_ring.rejects(14, &good, SafroleError::BadTicketProof);
    // A ring root that does not decode.
    other_ring.safrole.ring_root = [0xff; 144];
    other_ring.rejects(14, &good, SafroleError::BadTicketProof);
    // Made under another epoch's entropy (η_1 rather than η_2).
    world.rejects(14, std::slice::from_ref(&tiny().stale_ring.0), SafroleError::BadTicketProof);
}

#[test]
fn more_than_k_tickets() {
    let world = World::tiny();
    // Four good, sorted tickets, one more than K = 3.
    world.rejects(14, &current(&sorted_current()).0, SafroleError::TooManyTickets(4));
}

#[test]
fn attempts_must_be_below_n() {
    let world = World::tiny();
    for attempt in [3, 4, 255] {
        let mut tickets = current(&[0]).0;
        tickets[0].attempt = attempt;
        world.rejects(14, &tickets, SafroleError::BadTicketAttempt);
    }
}

#[test]
fn no_tickets_from_the_tail_start_on() {
    let world = World::tiny();
    let (tickets, _) = current(&[0]);
    // Epoch 1 spans slots 12..24; Y = 10 puts the tail at 22 and 23.
    assert!(world.apply(21, &tickets).is_ok());
    world.rejects(22, &tickets, SafroleError::UnexpectedTicket);
    world.rejects(23, &tickets, SafroleError::UnexpectedTicket);
    // An empty extrinsic is fine there.
    assert!(world.apply(22, &[]).is_ok());
}

#[test]
fn slots_must_advance() {
    let world = World::tiny();
    world.rejects(13, &[], SafroleError::BadSlot);
    world.rejects(0, &[], SafroleError::BadSlot);
    assert!(world.apply(u32::MAX, &[]).is_ok());
}

#[test]
fn epoch_change_rotates_keys_nulls_offenders_and_checks_tickets_against_the_new_root() {
    let ring = &tiny().ring;
    let mut world = World::tiny();
    world.slot = 20; // epoch 1, phase 8: before the tail, so the contest did not close
    world.safrole.ticket_accumulator = filler(0x00, 12);
    // ι's fourth validator has offended; an offender outside ι changes nothing.
    world.offenders.insert(world.staging.0[3].ed25519);
    world.offenders.insert([0xaa; 32]);

    let (ticket, body) = tiny().next_epoch.clone();
    let out = world.apply(25, std::slice::from_ref(&ticket)).unwrap();

    let mut pending = world.staging.clone();
    pending.0[3] = ValidatorData::NULL;
    assert_eq!(out.safrole.pending_validators, pending);
    let mut root_keys = keys(&world.staging);
    root_keys[3] = [0; 32];
    assert_eq!(out.safrole.ring_root, ring.ring_root(&root_keys).unwrap());
    assert_eq!(out.active, world.safrole.pending_validators);
    assert_eq!(out.previous, world.active);
    let accumulated = blake2b_256(&[ETA[0].as_slice(), &SOURCE].concat());
    assert_eq!(out.entropy, EntropyBuffer([accumulated, ETA[0], ETA[1], ETA[2]]));
    // The old contest is discarded; the new one starts with this block's ticket.
    assert_eq!(out.safrole.ticket_accumulator, vec![body]);
    // The contest ended early (phase 8 < Y), so the fallback keys seal: all drawn from κ'.
    let TicketsOrKeys::Keys(sealing) = &out.safrole.sealing_keys else { panic!("expected fallback keys") };
    assert_eq!(sealing.len(), 12);
    assert!(sealing.iter().all(|k| out.active.iter().any(|v| v.bandersnatch == *k)));
    // H_e: the prior η_0 and η_1 and γ'_P's keys, the offender's zeroed.
    let mark = out.epoch_mark.expect("an epoch mark");
    assert_eq!((mark.entropy, mark.tickets_entropy), (ETA[0], ETA[1]));
    assert_eq!(mark.validators.len(), 6);
    assert_eq!((mark.validators[3].bandersnatch, mark.validators[3].ed25519), ([0; 32], [0; 32]));
    assert_eq!(mark.validators[0].bandersnatch, world.staging.0[0].bandersnatch);
    assert_eq!(out.tickets_mark, None);

    // A proof in the outgoing ring, though under the right entropy, no longer verifies; nor does one
    // in a ring that still holds the offender's key.
    world.rejects(25, std::slice::from_ref(&tiny().stale_ring.0), SafroleError::BadTicketProof);
    world.rejects(25, std::slice::from_ref(&tiny().offender_kept.0), SafroleError::BadTicketProof);
}

#[test]
fn sealing_tickets_and_the_winning_tickets_mark() {
    let mut world = World::tiny();
    let full = filler(0x10, 12);
    world.safrole.ticket_accumulator = full.clone();
    // Z by hand: [s_0, s_11, s_1, s_10, …, s_5, s_6].
    let z: Vec<TicketBody> = [0, 11, 1, 10, 2, 9, 3, 8, 4, 7, 5, 6].iter().map(|&i| full[i]).collect();

    // Crossing Y (phase 9 → 10) within the epoch with a full accumulator: the mark, nothing else.
    world.slot = 21;
    let out = world.apply(22, &[]).unwrap();
    assert_eq!(out.tickets_mark, Some(TicketsMark(z.clone())));
    assert_eq!(out.epoch_mark, None);
    assert_eq!(out.safrole.sealing_keys, world.safrole.sealing_keys);
    // Already past Y: no second mark.
    world.slot = 22;
    assert_eq!(world.apply(23, &[]).unwrap().tickets_mark, None);
    // Crossing Y into the next epoch instead: the epoch mark, no tickets mark, and the tickets seal
    // the new epoch.
    world.slot = 22;
    let out = world.apply(24, &[]).unwrap();
    assert_eq!(out.tickets_mark, None);
    assert!(out.epoch_mark.is_some());
    assert_eq!(out.safrole.sealing_keys, TicketsOrKeys::Tickets(z.clone()));
    // From before Y straight into the next epoch: the contest never closed, so the fallback.
    world.slot = 21;
    assert!(matches!(world.apply(24, &[]).unwrap().safrole.sealing_keys, TicketsOrKeys::Keys(_)));
    // Skipping an epoch discards the tickets too.
    world.slot = 22;
    assert!(matches!(world.apply(36, &[]).unwrap().safrole.sealing_keys, TicketsOrKeys::Keys(_)));
    // An accumulator one short of E: no mark and no tickets.
    world.safrole.ticket_accumulator.pop();
    world.slot = 21;
    assert_eq!(world.apply(22, &[]).unwrap().tickets_mark, None);
    world.slot = 22;
    assert!(matches!(world.apply(24, &[]).unwrap().safrole.sealing_keys, TicketsOrKeys::Keys(_)));
}

#[test]
fn outside_in_and_fallback_by_hand() {
    assert_eq!(outside_in(&[0, 1, 2, 3, 4]), [0, 4, 1, 3, 2]);
    assert_eq!(outside_in(&[0, 1, 2, 3]), [0, 3, 1, 2]);
    assert_eq!(outside_in::<u8>(&[]), Vec::<u8>::new());

    // F(r, k)_i = k[E_4⁻¹(H(r ⌢ E_4(i))_{..4}) mod |k|]_b (eq. 6.26), for slots 0 and 5.
    let set = validators(0, 6);
    let keys = fallback_keys(&[7; 32], &set, 12);
    assert_eq!(keys.len(), 12);
    for slot in [0u32, 5] {
        let hash = blake2b_256(&[[7u8; 32].as_slice(), &slot.to_le_bytes()].concat());
        let index = u32::from_le_bytes(hash[..4].try_into().unwrap()) % 6;
        assert_eq!(keys[slot as usize], set.0[index as usize].bandersnatch, "slot {slot}");
    }
}

#[test]
fn wrong_sized_ring_or_validator_sets() {
    let mut world = World::tiny();
    world.spec = ChainSpec { validators_count: 7, ..ChainSpec::tiny() };
    assert_eq!(world.apply(14, &[]), Err(SafroleError::RingSize { context: 6, validators: 7 }));
    let mut world = World::tiny();
    world.staging.0.pop();
    assert_eq!(world.apply(14, &[]), Err(SafroleError::ValidatorSetSize { expected: 6, got: 5 }));
}

/// The full spec's sizes: a 1023-key ring, E = 600, Y = 500, N = 2, K = 16.
#[test]
fn full_spec() {
    let spec = ChainSpec::full();
    let ring = RingContext::from_srs_file(&srs_path(), 1023).expect("the vectors' SRS");
    let pending = validators(0, 1023);
    let mut world = World {
        spec,
        slot: 601, // epoch 1, phase 1
        entropy: EntropyBuffer(ETA),
        previous: validators(2000, 1023),
        active: validators(3000, 1023),
        staging: validators(4000, 1023),
        safrole: SafroleState {
            ring_root: ring.ring_root(&keys(&pending)).unwrap(),
            pending_validators: pending.clone(),
            sealing_keys: TicketsOrKeys::Keys(vec![[0; 32]; 600]),
            ticket_accumulator: vec![],
        },
        offenders: BTreeSet::new(),
    };
    let rejects = |world: &World, slot, tickets: &[TicketEnvelope], error| {
        assert_eq!(world.apply_with(&ring, slot, tickets), Err(error));
    };

    // One real ticket, attempt 1 (the last N = 2 allows), from validator 700.
    let (ticket, body) = make_ticket(&ring, &pending, 700, 0, &ETA[2], 1);
    let out = world.apply_with(&ring, 602, std::slice::from_ref(&ticket)).unwrap();
    assert_eq!(out.safrole.ticket_accumulator, vec![body]);
    // Attempt 2 is fine in tiny but not here.
    let mut bad = ticket.clone();
    bad.attempt = 2;
    rejects(&world, 602, std::slice::from_ref(&bad), SafroleError::BadTicketAttempt);
    // 16 tickets pass the size check (then fail as repeats); 17 do not.
    rejects(&world, 602, &vec![ticket.clone(); 16], SafroleError::DuplicateTicket);
    rejects(&world, 602, &vec![ticket.clone(); 17], SafroleError::TooManyTickets(17));
    // The tail starts at phase 500: slot 1100.
    assert!(world.apply_with(&ring, 1099, std::slice::from_ref(&ticket)).is_ok());
    rejects(&world, 1100, std::slice::from_ref(&ticket), SafroleError::UnexpectedTicket);

    // Epoch change with a full 600-ticket accumulator from after the tail start: the tickets seal,
    // outside-in, and the ring root is ι's.
    let full = [filler(0x10, 256), filler(0x20, 256), filler(0x30, 88)].concat();
    world.safrole.ticket_accumulator = full.clone();
    world.slot = 1150;
    let out = world.apply_with(&ring, 1201, &[]).unwrap();
    let TicketsOrKeys::Tickets(sealing) = &out.safrole.sealing_keys else { panic!("expected tickets") };
    assert_eq!(sealing.len(), 600);
    assert_eq!((sealing[0], sealing[1], sealing[2], sealing[599]), (full[0], full[599], full[1], full[300]));
    assert_eq!(out.safrole.ring_root, ring.ring_root(&keys(&world.staging)).unwrap());
    assert_eq!(out.epoch_mark.map(|m| m.validators.len()), Some(1023));
    // Crossing the tail start within the epoch: the 600-ticket mark.
    world.slot = 1099;
    let mark = world.apply_with(&ring, 1100, &[]).unwrap().tickets_mark.expect("a tickets mark");
    assert_eq!(mark.0.len(), 600);
    // Skipping the tail: fallback keys drawn from κ' = γ_P.
    world.slot = 1099;
    let out = world.apply_with(&ring, 1200, &[]).unwrap();
    let TicketsOrKeys::Keys(sealing) = &out.safrole.sealing_keys else { panic!("expected fallback keys") };
    assert_eq!(sealing.len(), 600);
    assert!(sealing.iter().all(|k| pending.iter().any(|v| v.bandersnatch == *k)));
}
