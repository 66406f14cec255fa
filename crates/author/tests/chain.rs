//! A tiny chain authored by its six dev validators (JIP-5 dev seeds) over three epochs and more:
//! every block imported with `orrery_import::import_block`, fallback-sealed blocks in the first
//! epoch, ticket-sealed ones after the first contest fills the accumulator.

use std::collections::BTreeMap;

use orrery_author::{author_block, generate_tickets, genesis, slot_author, Pools, SealKind, SlotClaim};
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
        // The contests of the first two epochs: the tickets of validators 0–3 (`E` = 12 of them,
        // just enough to fill the accumulator), into the pool. None in the third epoch, so the
        // fourth falls back to the fallback keys.
        if contest_epoch != Some(epoch_of(slot)) {
            contest_epoch = Some(epoch_of(slot));
            pools.tickets.clear();
            if epoch_of(slot) < first_epoch + 2 {
                pools.tickets = contest_tickets(&keys[..4], prior, slot);
                assert_eq!(pools.tickets.len(), spec.epoch_length as usize);
            }
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
    // A changed header byte breaks the seal.
    let mut bad = a.clone();
    bad.header.author_index = (bad.header.author_index + 1) % 6;
    assert!(import_block(&ctx, &chain, &bad, &ImportOptions::default()).is_err());
}
