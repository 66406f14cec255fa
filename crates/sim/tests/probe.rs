mod common;
use orrery_sim::{Sim, SimConfig, NetConfig, Latency};
use orrery_node::NodeOptions;

#[test]
fn probe() {
    let g = common::genesis();
    let mut c = SimConfig::new(1, &g);
    c.options = NodeOptions { tickets: false, grandpa: true };
    c.net = NetConfig {
        latency: Latency::Uniform { min: 10, max: 300 },
        duplicate: 10_000,
        reorder: 50_000,
        reorder_ms: 500,
        ..NetConfig::default()
    };
    let mut sim = Sim::new(&g, c).unwrap();
    for _ in 0..10 {
        sim.run_slots(1).unwrap();
        let s = sim.summary();
        eprintln!("slot {} {:?}", sim.slot_now(), s.nodes.iter().map(|n| (n.best.unwrap().slot, n.finalized.unwrap().slot, n.events.rejected)).collect::<Vec<_>>());
    }
    eprintln!("{:?}", sim.summary().net);
}
