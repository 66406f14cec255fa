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

/// Services retired and ejected: a copy of the manager retires (its code hash becomes `E32(0)`,
/// its code request forgotten), and more than `D` = 32 slots later the manager ejects it.
#[test]
fn retired_copies_of_the_manager_are_ejected_after_d_slots() {
    let mut g = Generator::new(Arc::new(tiny_import_context()), Config::lane(Lane::Happy, 2)).unwrap();
    let manager_hash = hash(MANAGER);
    let mut retired = std::collections::BTreeMap::new();
    let mut ejected = Vec::new();
    for _ in 0..600 {
        g.next_step().unwrap();
        let state = g.head_state().state();
        for (&id, a) in &state.accounts {
            if a.info.code_hash == [0; 32] && a.request(&manager_hash, MANAGER.len() as u32).is_some() {
                retired.entry(id).or_insert(state.timeslot);
            }
        }
        for (&id, &since) in &retired {
            if !state.accounts.contains_key(&id) && !ejected.contains(&id) {
                // Ejected no sooner than D slots after the forget it was retired with.
                assert!(
                    state.timeslot > since + 32,
                    "service {id} retired at {since}, gone at {}",
                    state.timeslot
                );
                ejected.push(id);
            }
        }
        if !ejected.is_empty() {
            break;
        }
    }
    assert!(!ejected.is_empty(), "retired {retired:?}, none ejected; {:?}", g.counts().work);
}

/// Validator sets managed through the manager: a key set solicited, provided by the preimage
/// extrinsic, designated as `ι`, and two epoch changes later active, with keys the genesis set
/// did not have; every block sealed by whoever the sets say.
#[test]
fn the_safrole_lane_designates_new_validator_sets() {
    let config = Config { contest_ratio: 0.0, ..Config::lane(Lane::Safrole, 1) };
    let mut g = Generator::new(Arc::new(tiny_import_context()), config).unwrap();
    let genesis: Vec<[u8; 32]> = g.head_state().state().active_validators.iter().map(|k| k.ed25519).collect();
    let mut changed = false;
    for _ in 0..400 {
        g.next_step().unwrap();
        let state = g.head_state().state();
        if state.active_validators.iter().any(|k| !genesis.contains(&k.ed25519)) {
            changed = true;
            break;
        }
    }
    let c = g.counts().work;
    assert!(changed, "κ never changed: {c:?}");
    assert!(c.solicits > 0 && c.designates > 0, "{c:?}");
}
