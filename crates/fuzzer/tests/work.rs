//! The work workload: real packages for the dev chain's services, refined, guaranteed, assured
//! and accumulated; the generator imports every block it makes with Orrery's import and stops
//! with an error on any it rejects, so a run of steps is a run of valid blocks.

use std::sync::Arc;

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use orrery_fuzzer::{Config, Generator, Lane};
use orrery_testkit::tiny_import_context;

const KV: &[u8] = include_bytes!("../../../services/kv/kv.jam");
const MANAGER: &[u8] = include_bytes!("../../../services/manager/manager.jam");

fn hash(code: &[u8]) -> [u8; 32] {
    Blake2b::<U32>::digest(code).into()
}

#[test]
fn the_happy_lane_deploys_upgrades_writes_and_funds_through_real_reports() {
    let mut g = Generator::new(Arc::new(tiny_import_context()), Config::lane(Lane::Happy, 1)).unwrap();
    for _ in 0..120 {
        g.next_step().unwrap();
    }
    let c = g.counts().work;
    assert!(
        c.reports >= 10 && c.assurances > 0 && c.deploys > 0 && c.upgrades > 0 && c.writes > 0 && c.funds > 0,
        "{c:?}"
    );

    let state = g.head_state().state();
    let (kv_hash, manager_hash) = (hash(KV), hash(MANAGER));
    let kv: Vec<_> = state.accounts.iter().filter(|(_, a)| a.info.code_hash == kv_hash).collect();
    // Created by the manager: it records each service it deploys under `deployed:E4(id)`.
    let manager = &state.accounts[&0];
    assert!(
        kv.iter().any(
            |(id, _)| manager.storage(&[&b"deployed:"[..], &id.to_le_bytes()].concat()) == Some(&kv_hash)
        ),
        "no kv service deployed by the manager"
    );
    // Written: a `kv` key holds one of the lower-case values the workload writes.
    let written = |a: &orrery_state::ServiceAccount| {
        (0..16).any(|k| {
            a.storage(format!("k{k}").as_bytes())
                .is_some_and(|v| !v.is_empty() && v.iter().all(u8::is_ascii_lowercase))
        })
    };
    assert!(kv.iter().any(|(_, a)| written(a)), "no kv storage written");
    // Upgraded: a service now running kv that the manager deployed with its own code.
    assert!(
        kv.iter().any(|(id, _)| manager.storage(&[&b"deployed:"[..], &id.to_le_bytes()].concat())
            == Some(&manager_hash)),
        "no copy of the manager upgraded to kv"
    );
    // Funded: endowments and funds left the manager's genesis balance (2^50).
    assert!(manager.info.balance < 1 << 50);
    assert!(kv.iter().all(|(_, a)| a.info.balance > 0));
}
