//! Tiny chains authored by the six dev validators (JIP-5 dev seeds), every block imported with
//! `orrery_import::import_block` unchanged: over three epochs and into a fourth (fallback-sealed in
//! the first, ticket-sealed in the two after a contest filled the accumulator, fallback again after
//! an epoch without tickets), and with a dispute's offenders marked and nulled.

use std::collections::BTreeMap;

use orrery_author::{
    author_block, generate_tickets, genesis, slot_author, AuthorError, Pools, SealKind, SlotClaim,
};
use orrery_crypto::bandersnatch::vrf_output;
use orrery_import::{header_hash, import_block, ChainState, ImportOptions};
use orrery_keys::ValidatorKeys;
use orrery_stf::safrole::ticket_vrf_input;
use orrery_testkit::{genesis as trace_genesis, tiny_import_context, tiny_ring, tiny_state};
use orrery_types::{ChainSpec, TicketEnvelope};

/// The trace genesis with the dev validators' keys in every validator set.
fn dev_genesis(keys: &[ValidatorKeys]) -> (ChainState, [u8; 32]) {
    let spec = ChainSpec::tiny();
    let trace = trace_genesis("fallback");
    let base = tiny_state(&trace.state).state().clone();
    let state = genesis::with_validators(&spec, &tiny_ring(), base, keys).unwrap();
    (ChainState::from_state(state), header_hash(&trace.header))
}

/// The tickets `keys` submit for the contest running in `slot`'s epoch, made on as many threads as
/// there are keys (a ring prover and `N` ring proofs each, about a second).
fn contest_tickets(keys: &[ValidatorKeys], prior: &orrery_state::State, slot: u32) -> Vec<TicketEnvelope> {
    let (spec, ring) = (ChainSpec::tiny(), tiny_ring());
    std::thread::scope(|scope| {
        let jobs: Vec<_> = keys
            .iter()
            .map(|k| scope.spawn(|| generate_tickets(&spec, &ring, prior, slot, k).unwrap()))
            .collect();
        jobs.into_iter().flat_map(|job| job.join().unwrap()).collect()
    })
}

#[test]
fn six_dev_validators_author_three_epochs_that_import() {
    let spec = ChainSpec::tiny();
    let ring = tiny_ring();
    let ctx = tiny_import_context();
    let keys: Vec<ValidatorKeys> = (0..6).map(ValidatorKeys::dev).collect();
    let (mut chain, mut parent) = dev_genesis(&keys);
    let start = chain.state().timeslot;
    let epoch_of = |slot: u32| slot / spec.epoch_length;

    let mut pools = Pools::default();
    let mut contest_epoch = None;
    let mut contest_ids: Vec<[u8; 32]> = Vec::new();
    // Seal kinds per epoch (relative to the first block's), and the tickets the blocks carried.
    let mut seals: BTreeMap<u32, Vec<SealKind>> = BTreeMap::new();
    let mut tickets_included = 0;
    let mut tickets_marks = 0;
    let mut epoch_marks = 0;
    let first_epoch = epoch_of(start + 1);
    // Slot `start + 20` is skipped: no block for it, so the chain crosses a missed slot too.
    let last = (first_epoch + 3) * spec.epoch_length + 1;
    for slot in (start + 1..=last).filter(|&s| s != start + 20) {
        let prior = chain.state();
        // The contest that closes with this epoch kept the E lowest ids of the pool it was offered,
        // and only those (K per block, each only while it would stay).
        if contest_epoch.is_some_and(|e| e < epoch_of(slot)) && !contest_ids.is_empty() {
            let kept: Vec<[u8; 32]> = prior.safrole.ticket_accumulator.iter().map(|t| t.id).collect();
            assert_eq!(kept, contest_ids[..spec.epoch_length as usize], "slot {slot}");
        }
        // The contests of the first two epochs: all six validators' tickets (18, more than the
        // accumulator keeps) in the first, validators 0–3's (E = 12, just enough) in the second.
        // None in the third, so the fourth epoch falls back to the fallback keys.
        if contest_epoch != Some(epoch_of(slot)) {
            contest_epoch = Some(epoch_of(slot));
            pools.tickets.clear();
            let holders = match epoch_of(slot) - first_epoch {
                0 => 6,
                1 => 4,
                _ => 0,
            };
            pools.tickets = contest_tickets(&keys[..holders], prior, slot);
            assert_eq!(pools.tickets.len(), holders * usize::from(spec.tickets_per_validator));
            contest_ids = pools.tickets.iter().map(|t| vrf_output(&t.signature).unwrap()).collect();
            contest_ids.sort();
        }

        // Exactly one validator seals each slot.
        let claims: Vec<(usize, SlotClaim)> = keys
            .iter()
            .enumerate()
            .filter_map(|(i, k)| slot_author(&spec, &ring, prior, slot, k).unwrap().map(|c| (i, c)))
            .collect();
        assert_eq!(claims.len(), 1, "slot {slot}: {claims:?}");
        let (author, claim) = claims[0];
        assert_eq!(usize::from(claim.index), author, "dev validator i sits at index i");

        let block = author_block(&spec, &ring, &chain, parent, slot, &keys[author], &pools).unwrap();
        // Not the slot's author: refused.
        let other = &keys[(author + 1) % 6];
        assert!(author_block(&spec, &ring, &chain, parent, slot, other, &pools).is_err());

        let imported = import_block(&ctx, &chain, &block, &ImportOptions::default())
            .unwrap_or_else(|e| panic!("slot {slot}: the authored block does not import: {e}"));
        assert_eq!(imported.state.state().timeslot, slot);

        seals.entry(epoch_of(slot) - first_epoch).or_default().push(claim.kind);
        tickets_included += block.extrinsic.tickets.len();
        tickets_marks += usize::from(block.header.tickets_mark.is_some());
        epoch_marks += usize::from(block.header.epoch_mark.is_some());
        assert!(block.extrinsic.tickets.len() <= spec.max_tickets_per_extrinsic as usize);
        let included: Vec<[u8; 32]> =
            block.extrinsic.tickets.iter().map(|t| vrf_output(&t.signature).unwrap()).collect();
        assert!(included.windows(2).all(|w| w[0] < w[1]), "tickets ascending by id");
        pools.tickets.retain(|t| !block.extrinsic.tickets.contains(t));

        parent = imported.header_hash;
        chain = imported.state;
    }

    // The first epoch is sealed by the fallback keys; once its contest has filled the accumulator,
    // the next is sealed by tickets, every slot of it, and so is the one after; the fourth, after
    // an epoch without a contest, by the fallback keys again.
    assert_eq!(seals.len(), 4);
    for (epoch, ticketed) in [(0, false), (1, true), (2, true), (3, false)] {
        let kinds = &seals[&epoch];
        let expected = |k: &SealKind| matches!(k, SealKind::Ticket { .. }) == ticketed;
        assert!(kinds.iter().all(expected), "epoch {epoch}: {kinds:?}");
    }
    // Each contest filled the accumulator (E tickets) and was marked as it closed; each epoch
    // change was marked.
    assert_eq!(tickets_included, 2 * spec.epoch_length as usize);
    assert_eq!(tickets_marks, 2);
    assert_eq!(epoch_marks, 3);
}

#[test]
fn authoring_is_deterministic_and_seals_verify() {
    let spec = ChainSpec::tiny();
    let ring = tiny_ring();
    let keys: Vec<ValidatorKeys> = (0..6).map(ValidatorKeys::dev).collect();
    let (chain, parent) = dev_genesis(&keys);
    let slot = chain.state().timeslot + 1;
    let author = keys
        .iter()
        .position(|k| slot_author(&spec, &ring, chain.state(), slot, k).unwrap().is_some())
        .unwrap();
    let mut pools = Pools {
        tickets: generate_tickets(&spec, &ring, chain.state(), slot, &keys[2]).unwrap(),
        ..Pools::default()
    };
    // A ticket given twice is taken once; a copy with a broken proof (the same id) is left out,
    // even ahead of the good one.
    let mut broken: TicketEnvelope = pools.tickets[0].clone();
    broken.signature[100] ^= 1;
    pools.tickets.insert(0, broken);
    pools.tickets.push(pools.tickets[2].clone());
    let a = author_block(&spec, &ring, &chain, parent, slot, &keys[author], &pools).unwrap();
    let b = author_block(&spec, &ring, &chain, parent, slot, &keys[author], &pools).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.extrinsic.tickets.len(), 3);
    // Each ticket's id is the VRF output of keys[2] on the contest's input.
    let entropy = chain.state().entropy.0[2];
    for t in &a.extrinsic.tickets {
        let id = keys[2].vrf_output(&ticket_vrf_input(&entropy, t.attempt)).unwrap();
        assert_eq!(vrf_output(&t.signature).unwrap(), id);
    }
    let ctx = tiny_import_context();
    import_block(&ctx, &chain, &a, &ImportOptions::default()).unwrap();

    // Keys outside the validator set seal nothing and author nothing.
    let outsider = ValidatorKeys::dev(6);
    assert_eq!(slot_author(&spec, &ring, chain.state(), slot, &outsider), Ok(None));
    assert_eq!(
        author_block(&spec, &ring, &chain, parent, slot, &outsider, &pools),
        Err(AuthorError::NotValidator { slot })
    );
    // Outsiders have no place in the ring; in the epoch's tail no ticket can be submitted.
    assert_eq!(generate_tickets(&spec, &ring, chain.state(), slot, &outsider), Ok(vec![]));
    let tail = slot - slot % spec.epoch_length + spec.ticket_submission_end;
    assert_eq!(generate_tickets(&spec, &ring, chain.state(), tail, &keys[0]), Ok(vec![]));
    // No block on a slot not after the parent's.
    assert_eq!(
        author_block(&spec, &ring, &chain, parent, slot - 1, &keys[author], &pools),
        Err(AuthorError::SlotNotAfterParent { slot: slot - 1, parent: slot - 1 })
    );
    // A genesis needs exactly V validators.
    let base = chain.state().clone();
    assert_eq!(
        genesis::with_validators(&spec, &ring, base, &keys[..5]),
        Err(genesis::GenesisError::ValidatorCount { expected: 6, got: 5 })
    );
    // A changed header byte breaks the seal.
    let mut bad = a.clone();
    bad.header.author_index = (bad.header.author_index + 1) % 6;
    assert!(import_block(&ctx, &chain, &bad, &ImportOptions::default()).is_err());
}

/// A bad verdict with two culprits in the pool: the block carries it with the offenders marker,
/// imports, and the next epoch change leaves the offenders' keys out of the incoming set. A
/// disputes pool the transition rejects (one culprit is too few) is left out instead.
#[test]
fn offenders_are_marked_and_nulled_at_the_epoch_change() {
    use orrery_crypto::context;
    use orrery_types::{Culprit, DisputesExtrinsic, Judgement, Verdict};

    let spec = ChainSpec::tiny();
    let ring = tiny_ring();
    let ctx = tiny_import_context();
    let keys: Vec<ValidatorKeys> = (0..6).map(ValidatorKeys::dev).collect();
    let (chain, parent) = dev_genesis(&keys);
    let prior = chain.state();
    let slot = prior.timeslot + 1;
    let author = |state: &orrery_state::State, slot| {
        keys.iter().find(|k| slot_author(&spec, &ring, state, slot, k).unwrap().is_some()).unwrap()
    };

    // Five of six (the supermajority) judge report `target` invalid, in the prior epoch's set κ;
    // validators 1 and 4 guaranteed it.
    let target = [7u8; 32];
    let votes = (0..5u16)
        .map(|i| Judgement {
            vote: false,
            index: i,
            signature: keys[usize::from(i)].ed25519_sign(&[context::INVALID, &target].concat()),
        })
        .collect();
    let mut culprits: Vec<Culprit> = [1, 4]
        .iter()
        .map(|&i: &usize| Culprit {
            target,
            key: keys[i].ed25519_public(),
            signature: keys[i].ed25519_sign(&[context::GUARANTEE, &target].concat()),
        })
        .collect();
    culprits.sort_by_key(|c| c.key);
    let disputes = DisputesExtrinsic {
        verdicts: vec![Verdict { target, age: prior.timeslot / spec.epoch_length, votes }],
        culprits: culprits.clone(),
        faults: vec![],
    };

    // Too few culprits: left out, and the block still imports.
    let short = Pools {
        disputes: DisputesExtrinsic { culprits: culprits[..1].to_vec(), ..disputes.clone() },
        ..Pools::default()
    };
    let block = author_block(&spec, &ring, &chain, parent, slot, author(prior, slot), &short).unwrap();
    assert_eq!(block.extrinsic.disputes, DisputesExtrinsic::default());
    assert!(block.header.offenders_mark.is_empty());
    import_block(&ctx, &chain, &block, &ImportOptions::default()).unwrap();

    let pools = Pools { disputes, ..Pools::default() };
    let block = author_block(&spec, &ring, &chain, parent, slot, author(prior, slot), &pools).unwrap();
    let offenders: Vec<[u8; 32]> = culprits.iter().map(|c| c.key).collect();
    assert_eq!(block.header.offenders_mark, offenders);
    let imported = import_block(&ctx, &chain, &block, &ImportOptions::default()).unwrap();
    assert!(offenders.iter().all(|k| imported.state.state().disputes.offenders.contains(k)));

    // The first block of the next epoch: its epoch marker announces the incoming set with the
    // offenders' keys nulled.
    let (chain, parent) = (imported.state, imported.header_hash);
    let slot = (slot / spec.epoch_length + 1) * spec.epoch_length;
    let block =
        author_block(&spec, &ring, &chain, parent, slot, author(chain.state(), slot), &Pools::default())
            .unwrap();
    let mark = block.header.epoch_mark.clone().expect("an epoch change is marked");
    for (i, k) in keys.iter().enumerate() {
        let nulled = i == 1 || i == 4;
        assert_eq!(mark.validators[i].ed25519 == [0; 32], nulled, "validator {i}");
        assert_eq!(mark.validators[i].ed25519 == k.ed25519_public(), !nulled, "validator {i}");
    }
    import_block(&ctx, &chain, &block, &ImportOptions::default()).unwrap();
}

/// Slots with no block, a whole epoch of them: the block after the gap carries the epoch marker,
/// is sealed with the fallback keys of the new entropy, and imports.
#[test]
fn a_block_after_a_missed_epoch_imports() {
    let spec = ChainSpec::tiny();
    let ring = tiny_ring();
    let ctx = tiny_import_context();
    let keys: Vec<ValidatorKeys> = (0..6).map(ValidatorKeys::dev).collect();
    let (mut chain, mut parent) = dev_genesis(&keys);
    let start = chain.state().timeslot;
    for slot in [start + 1, start + 2, start + 2 * spec.epoch_length + 5, start + 2 * spec.epoch_length + 6] {
        let claims: Vec<(usize, SlotClaim)> = keys
            .iter()
            .enumerate()
            .filter_map(|(i, k)| slot_author(&spec, &ring, chain.state(), slot, k).unwrap().map(|c| (i, c)))
            .collect();
        assert_eq!(claims.len(), 1, "slot {slot}");
        assert_eq!(claims[0].1.kind, SealKind::Fallback);
        let block =
            author_block(&spec, &ring, &chain, parent, slot, &keys[claims[0].0], &Pools::default()).unwrap();
        let crosses = slot / spec.epoch_length > chain.state().timeslot / spec.epoch_length;
        assert_eq!(block.header.epoch_mark.is_some(), crosses, "slot {slot}");
        let imported = import_block(&ctx, &chain, &block, &ImportOptions::default())
            .unwrap_or_else(|e| panic!("slot {slot}: {e}"));
        parent = imported.header_hash;
        chain = imported.state;
    }
}
