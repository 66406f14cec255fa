mod common;
use orrery_sim::{Sim, SimConfig};
use orrery_node::NodeOptions;

#[test]
fn probe() {
    let g = common::genesis();
    for (tickets, grandpa) in [(false, false), (true, false)] {
        let mut c = SimConfig::new(1, &g);
        c.options = NodeOptions { tickets, grandpa };
        let mut sim = Sim::new(&g, c).unwrap();
        let t = std::time::Instant::now();
        sim.run_slots(24).unwrap();
        let s = sim.summary();
        eprintln!("tickets={tickets} {:?} slots/s={:.2}", t.elapsed(), 24.0 / t.elapsed().as_secs_f64());
        for n in &s.nodes { eprintln!("{:?} {:?} {:?}", n.best.map(|b| b.slot), n.finalized.map(|b| b.slot), n.events); }
        eprintln!("{:?} steps {} hash {}", s.net, s.steps, s.run_hash_hex());
        eprintln!("best chain slots {:?}", sim.best_chain_slots(0));
    }
}
