//! Many voters on a simulated network: liveness, safety, partitions, an equivocator, a voter that
//! was offline. The expected final blocks come from each scenario's block tree: the main chain is
//! the longest, so its head is the block every honest voter ends up finalizing.

mod sim;

use sim::{fork_block, main_block, Net, Sim};

const GOSSIP_MS: u64 = 100;
const SLOT_MS: u64 = 500;
/// Main-chain length of every scenario.
const K: u32 = 6;

fn net() -> Net {
    Net { latency: (5, GOSSIP_MS), loss: 0.05, import_jitter: 300 }
}

/// The main chain plus fork blocks at slots 3 and 5 that voters 0-2 import with the main block and
/// voters 3-5 a second later (a voter that hears of a block fetches it; votes wait for it meanwhile).
fn forked(seed: u64) -> Sim {
    let mut sim = Sim::new(seed, 6, GOSSIP_MS, net());
    sim.main_chain(K, SLOT_MS);
    for k in [3, 5] {
        sim.add_block(fork_block(k), main_block(k - 1).hash, u64::from(k) * SLOT_MS, &[0, 1, 2]);
        sim.add_block(fork_block(k), main_block(k - 1).hash, u64::from(k) * SLOT_MS + 1000, &[3, 4, 5]);
    }
    sim
}

#[test]
fn six_voters_finalize_the_longest_chain_and_agree_over_many_seeds() {
    let end = u64::from(K) * SLOT_MS + 3000;
    // `ORRERY_GRANDPA_SEEDS=N` runs more (scripts/grandpa-soak.sh).
    let seeds = std::env::var("ORRERY_GRANDPA_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(200u64);
    for seed in 0..seeds {
        let mut sim = forked(seed);
        sim.run_until(end);
        sim.assert_safe();
        for (i, voter) in sim.voters.iter().enumerate() {
            assert_eq!(voter.finalized(), main_block(K), "seed {seed} voter {i}");
            assert!(sim.misbehaviour[i].is_empty(), "seed {seed} voter {i}: {:?}", sim.misbehaviour[i]);
        }
    }
}

#[test]
fn a_three_three_partition_finalizes_nothing_until_it_heals() {
    let heal = u64::from(K) * SLOT_MS + 3000;
    for seed in 0..20 {
        let mut sim = forked(seed);
        sim.blocked = Box::new(move |now, from, to| now < heal && (from < 3) != (to < 3));
        sim.run_until(heal - 1);
        for (i, list) in sim.finalized.iter().enumerate() {
            assert!(list.is_empty(), "seed {seed}: voter {i} finalized {list:?} with 3 of 6 reachable");
        }
        sim.run_until(heal + 4000);
        sim.assert_safe();
        for voter in &sim.voters {
            assert_eq!(voter.finalized(), main_block(K), "seed {seed}");
        }
    }
}

#[test]
fn an_equivocator_is_reported_and_the_others_still_finalize() {
    for seed in 0..10 {
        let mut sim = forked(seed);
        // Voter 5 sends its real votes to everyone, and to voters 1 and 3 also a second vote of
        // the same kind and round for the fork block at slot 3.
        sim.equivocator = Some((5, fork_block(3)));
        sim.run_until(u64::from(K) * SLOT_MS + 4000);
        sim.assert_safe();
        let culprit = sim.keys[5].ed25519_public();
        for i in [1, 3] {
            assert!(
                sim.misbehaviour[i]
                    .iter()
                    .any(|(who, why)| *who == Some(culprit) && why.contains("equivocation")),
                "seed {seed}: voter {i} saw {:?}",
                sim.misbehaviour[i]
            );
        }
        for i in 0..5 {
            assert_eq!(sim.voters[i].finalized(), main_block(K), "seed {seed} voter {i}");
            assert!(sim.misbehaviour[i].iter().all(|(who, _)| *who == Some(culprit)), "seed {seed}");
        }
    }
}

#[test]
fn an_offline_voter_catches_up_by_commit() {
    let back = u64::from(K) * SLOT_MS + 3000;
    for seed in 0..10 {
        let mut sim = Sim::new(seed, 6, GOSSIP_MS, net());
        sim.main_chain(K, SLOT_MS);
        sim.blocked = Box::new(move |now, from, to| now < back && (from == 5 || to == 5));
        sim.run_until(back - 1);
        for i in 0..5 {
            assert_eq!(sim.voters[i].finalized(), main_block(K), "seed {seed}: the five online finalize");
        }
        assert!(sim.finalized[5].is_empty(), "seed {seed}: the offline voter heard nothing");
        let lag = sim.voters[0].round() - sim.voters[5].round();
        assert!(lag > 2, "seed {seed}: rounds went on without voter 5 ({lag})");
        sim.run_until(back + 2000);
        sim.assert_safe();
        assert_eq!(sim.voters[5].finalized(), main_block(K), "seed {seed}");
        assert!(sim.voters[5].round() + 2 >= sim.voters[0].round(), "seed {seed}: voter 5 is back in step");
    }
}
