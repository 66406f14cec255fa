//! Warp sync (CE 153, `orrery_node::warp`): the proof a validator serves after a run takes a node
//! that knows only the genesis to the validator's final block, with the validator sets the final
//! state holds; a proof tampered with is refused; a finality stall across epochs is bridged.

mod common;

use orrery_grandpa::Target;
use orrery_node::warp::{verify, verify_handover, Fragment, TrustedSet, WarpError, WarpProof, MAX_FRAGMENTS};
use orrery_sim::{Partition, Sim};

fn genesis_set() -> TrustedSet {
    let g = common::genesis();
    TrustedSet::genesis(g.hash(), g.slot(), g.ctx.spec.epoch_length, g.state.state())
}

/// A calm network of seed `seed` run for `epochs` epochs, and the spec's epoch length.
fn run_epochs(seed: u64, epochs: u32) -> (Sim, u32) {
    let g = common::genesis();
    let epoch = g.ctx.spec.epoch_length;
    let mut sim = Sim::new(&g, common::config(seed)).unwrap();
    sim.run_slots(epochs * epoch).unwrap();
    (sim, epoch)
}

/// Node `i`'s proof from the genesis set, through its bytes (as CE 153 carries it).
fn proof_of(sim: &Sim, i: usize) -> WarpProof {
    let node = sim.node(i).expect("the node is up");
    let set = genesis_set().set_id;
    let bytes = node.warp_proof(set).to_bytes();
    WarpProof::from_bytes(&bytes, common::genesis().ctx.spec.lengths()).expect("the proof decodes")
}

/// The final block node `i` reports, and its state's `κ` and `γ_P` Ed25519 keys.
fn final_of(sim: &Sim, i: usize) -> (Target, Vec<[u8; 32]>, Vec<[u8; 32]>) {
    let node = sim.node(i).unwrap();
    let f = node.status().finalized;
    let state = node.chain().state(&f.hash).expect("the final state").state();
    let kappa = state.active_validators.iter().map(|v| v.ed25519).collect();
    let pending = state.safrole.pending_validators.iter().map(|v| v.ed25519).collect();
    (Target { hash: f.hash, slot: f.slot }, kappa, pending)
}

#[test]
fn a_node_that_knows_the_genesis_is_warped_to_every_validators_final_block() {
    let (sim, epoch) = run_epochs(21, 5);
    for i in 0..sim.node_count() {
        let proof = proof_of(&sim, i);
        // One handover per epoch change that finality crossed.
        assert!(proof.handovers.len() >= 3, "node {i}: {} handovers", proof.handovers.len());
        let (set, finalized) = verify(genesis_set(), &proof, epoch).expect("the proof verifies");
        let (target, kappa, pending) = final_of(&sim, i);
        assert_eq!(finalized, Some(target), "node {i}: the proof ends at its final block");
        assert_eq!(set.set_id, target.slot / epoch);
        assert_eq!(set.keys, kappa, "node {i}: the set reached is the final state's κ");
        assert_eq!(set.next, pending, "node {i}: the next set is the final state's γ_P");
    }
    // A requester that already trusts a later set is answered from there.
    let full = proof_of(&sim, 0);
    let (after_two, _) =
        verify(genesis_set(), &WarpProof { handovers: full.handovers[..2].to_vec(), latest: None }, epoch)
            .unwrap();
    let rest = sim.node(0).unwrap().warp_proof(after_two.set_id);
    assert_eq!(rest.handovers, full.handovers[2..]);
    assert_eq!(
        verify(after_two, &rest, epoch).unwrap().1,
        full.latest.map(|f| { Target { hash: orrery_import::header_hash(&f.header), slot: f.header.slot } })
    );
}

#[test]
fn a_tampered_proof_is_refused_with_the_rule_it_breaks() {
    let (sim, epoch) = run_epochs(22, 4);
    let lengths = common::genesis().ctx.spec.lengths();
    let proof = proof_of(&sim, 1);
    let first: Fragment = proof.handovers[0].clone();
    let start = genesis_set();

    // Too few precommits: five of six are needed.
    let mut thin = first.clone();
    thin.justification.precommits.truncate(4);
    assert!(matches!(verify_handover(&start, &thin, epoch), Err(WarpError::Unjustified(_))));

    // A forged signature.
    let mut forged = first.clone();
    forged.justification.precommits[0].2[7] ^= 1;
    assert!(matches!(verify_handover(&start, &forged, epoch), Err(WarpError::Unjustified(_))));

    // Another header under the same commit.
    let mut other = first.clone();
    other.header.author_index ^= 1;
    assert_eq!(verify_handover(&start, &other, epoch), Err(WarpError::WrongTarget));

    // The second handover presented to the genesis set: signed by a set it does not trust yet.
    let second = &proof.handovers[1];
    assert!(matches!(verify_handover(&start, second, epoch), Err(WarpError::WrongSet { .. })));

    // Handovers out of order, or the same one twice.
    let twice = WarpProof { handovers: vec![first.clone(), first.clone()], latest: None };
    assert!(verify(start.clone(), &twice, epoch).is_err());

    // Bytes: cut short, trailing, and a count past the cap, each refused before use.
    let bytes = proof.to_bytes();
    assert!(WarpProof::from_bytes(&bytes[..bytes.len() - 1], lengths).is_err());
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(WarpProof::from_bytes(&longer, lengths).is_err());
    let mut counted = Vec::new();
    orrery_codec::natural::encode_to(MAX_FRAGMENTS as u64 + 1, &mut counted);
    assert_eq!(
        WarpProof::from_bytes(&counted, lengths),
        Err(WarpError::TooManyFragments(MAX_FRAGMENTS as u64 + 1))
    );
}

/// Bytes flipped, cut and spliced at random (seeded): the decoder and the verifier never panic,
/// and whatever still verifies proves the same final block and the same set.
#[test]
fn a_mangled_proof_never_panics_and_never_proves_another_block() {
    use rand::{Rng, SeedableRng};
    let (sim, epoch) = run_epochs(24, 3);
    let lengths = common::genesis().ctx.spec.lengths();
    let bytes = proof_of(&sim, 2).to_bytes();
    let (set, finalized) =
        verify(genesis_set(), &WarpProof::from_bytes(&bytes, lengths).unwrap(), epoch).unwrap();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(24);
    let (mut decoded, mut accepted) = (0, 0);
    for _ in 0..3_000 {
        let mut mangled = bytes.clone();
        match rng.gen_range(0..4) {
            0 => {
                for _ in 0..rng.gen_range(1..4) {
                    let i = rng.gen_range(0..mangled.len());
                    mangled[i] ^= 1 << rng.gen_range(0..8);
                }
            }
            1 => mangled.truncate(rng.gen_range(0..bytes.len())),
            2 => {
                let i = rng.gen_range(0..mangled.len());
                mangled.insert(i, rng.gen());
            }
            _ => {
                let (a, b) = (rng.gen_range(0..mangled.len()), rng.gen_range(0..mangled.len()));
                let piece = mangled[a.min(b)..a.max(b)].to_vec();
                let at = rng.gen_range(0..mangled.len());
                mangled.splice(at..at, piece);
            }
        }
        let Ok(proof) = WarpProof::from_bytes(&mangled, lengths) else { continue };
        decoded += 1;
        if let Ok((got_set, got_final)) = verify(genesis_set(), &proof, epoch) {
            accepted += 1;
            assert_eq!((got_set.keys, got_final), (set.keys.clone(), finalized));
        }
    }
    // Most single flips land in signatures, hashes or headers and still decode.
    assert!(decoded > 500, "only {decoded} mangled proofs decoded");
    assert!(accepted < decoded);
}

#[test]
fn a_finality_stall_across_epochs_is_bridged_by_the_chain_back_to_the_last_handover() {
    let g = common::genesis();
    let epoch = g.ctx.spec.epoch_length;
    let mut c = common::config(23);
    let first = g.slot() + 1;
    let at = |slot: u32| u64::from(slot) * c.slot_ms;
    // Neither side of a 3-3 split can finalize: finality stops in epoch 1 and, once healed,
    // jumps past two epoch changes in one commit.
    let (split, heal) = (first + epoch + 2, first + 4 * epoch);
    c.partitions = vec![Partition::split([0, 1, 2], at(split), at(heal))];
    let mut sim = Sim::new(&g, c).unwrap();
    sim.run_slots(heal - first + 2 * epoch).unwrap();

    let proof = proof_of(&sim, 4);
    let (_, finalized) = verify(genesis_set(), &proof, epoch).expect("the proof verifies");
    let (target, kappa, _) = final_of(&sim, 4);
    assert_eq!(finalized, Some(target));
    // The proof did take the long way: a handover more than one epoch after its set.
    let skips: Vec<(u32, u32)> = proof
        .handovers
        .iter()
        .map(|f| (f.justification.set_id, f.header.slot / epoch))
        .filter(|(set, to)| *to > set + 1)
        .collect();
    assert!(!skips.is_empty(), "no handover skipped an epoch: {:?}", proof.handovers.len());
    let (set, _) = verify(genesis_set(), &proof, epoch).unwrap();
    assert_eq!(set.keys, kappa);
    // Without the chain back to the set's first block, the skip cannot be followed.
    let mut cut = proof.clone();
    let index =
        cut.handovers.iter().position(|f| f.header.slot / epoch > f.justification.set_id + 1).unwrap();
    let mut trusted = genesis_set();
    for f in &cut.handovers[..index] {
        trusted = verify_handover(&trusted, f, epoch).unwrap();
    }
    let skip = &mut cut.handovers[index];
    let parent = skip.header.parent;
    skip.ancestry.retain(|h| orrery_import::header_hash(h) != parent);
    assert_eq!(verify_handover(&trusted, skip, epoch), Err(WarpError::MissingChain(trusted.set_id)));
}
