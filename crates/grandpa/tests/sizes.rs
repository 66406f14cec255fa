//! Set sizes other than the tiny six with loss (network.rs): six on a lossless network, one, and ten.

mod sim;
use sim::{main_block, Net, Sim};

/// Six voters, no loss: every voter finalizes the chain's head (main block 8).
#[test]
fn lossless_six_voters_finalize_the_head() {
    let mut sim = Sim::new(0, 6, 100, Net { latency: (5, 100), loss: 0.0, import_jitter: 0 });
    sim.main_chain(8, 500);
    sim.run_until(6000);
    sim.assert_safe();
    for voter in &sim.voters {
        assert_eq!(voter.finalized(), main_block(8));
    }
}

/// A set of one (a single-validator dev chain): its own votes are a supermajority.
#[test]
fn a_lone_voter_finalizes_alone() {
    let mut sim = Sim::new(0, 1, 100, Net { latency: (5, 100), loss: 0.0, import_jitter: 0 });
    sim.main_chain(8, 500);
    sim.run_until(6000);
    assert_eq!(sim.voters[0].finalized(), main_block(8));
}

/// Ten voters (threshold 7) with loss and jitter also agree on the head.
#[test]
fn ten_voters_finalize_the_head() {
    for seed in 0..5 {
        let mut sim = Sim::new(seed, 10, 100, Net { latency: (5, 100), loss: 0.05, import_jitter: 300 });
        sim.main_chain(8, 500);
        sim.run_until(8000);
        sim.assert_safe();
        for voter in &sim.voters {
            assert_eq!(voter.finalized(), main_block(8), "seed {seed}");
        }
    }
}
