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
