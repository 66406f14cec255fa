//! Accumulation of whole blocks on services assembled by hand: the privilege merge `R`, the block's
//! gas limit, a service that never halts, and deferred transfers feeding a second round
//! (GP 0.7.2 §12.2–12.3). Expected values are worked from the paper and the programs.

use std::collections::BTreeMap;

use orrery_invocation::codes::index;
use orrery_invocation::testing::{service_with_code, Asm, RO, RO_BYTE, RW};
use orrery_invocation::ProgramCache;
use orrery_state::{
    AccumulatedQueue, AuthQueues, Privileges, ReadyQueue, ServiceAccount, ValidatorData, ValidatorsData,
};
use orrery_stf::accumulate::{apply, AccumulateInput, Accumulated, AccumulationState, ServiceAccumulation};
use orrery_types::constants::AUTH_QUEUE_SIZE;
use orrery_types::{
    ChainSpec, RefineContext, RefineLoad, ServiceId, WorkExecResult, WorkPackageSpec, WorkReport, WorkResult,
};

const SLOT: u32 = 30;

fn state(accounts: Vec<(ServiceId, ServiceAccount)>) -> AccumulationState {
    let spec = ChainSpec::tiny();
    AccumulationState {
        accounts: accounts.into_iter().collect(),
        staging: ValidatorsData(vec![ValidatorData::NULL; 6]),
        auth_queues: AuthQueues(vec![[[0; 32]; AUTH_QUEUE_SIZE]; 2]),
        privileges: Privileges {
            bless: 0,
            assign: vec![0, 0],
            designate: 0,
            register: 0,
            always_acc: BTreeMap::new(),
        },
        ready: ReadyQueue(vec![Vec::new(); spec.epoch_length as usize]),
        accumulated: AccumulatedQueue(vec![Vec::new(); spec.epoch_length as usize]),
    }
}

/// A report of package `package` with one digest for `service` allotting `gas`.
fn report(package: u8, service: ServiceId, gas: u64, prerequisites: Vec<[u8; 32]>) -> WorkReport {
    WorkReport {
        package_spec: WorkPackageSpec {
            hash: [package; 32],
            length: 0,
            erasure_root: [0; 32],
            exports_root: [0; 32],
            exports_count: 0,
        },
        context: RefineContext {
            anchor: [0; 32],
            state_root: [0; 32],
            beefy_root: [0; 32],
            lookup_anchor: [0; 32],
            lookup_anchor_slot: 0,
            prerequisites,
        },
        core_index: 0,
        authorizer_hash: [0; 32],
        auth_gas_used: 0,
        auth_output: vec![],
        segment_root_lookup: vec![],
        results: vec![WorkResult {
            service_id: service,
            code_hash: [0; 32],
            payload_hash: [0; 32],
            accumulate_gas: gas,
            result: WorkExecResult::Ok(vec![]),
            refine_load: RefineLoad::default(),
        }],
    }
}

fn accumulate(prior: &AccumulationState, available: &[WorkReport]) -> Accumulated {
    let input = AccumulateInput { slot: SLOT, prior_slot: SLOT - 1, entropy: &[0; 32], available };
    apply(&ChainSpec::tiny(), prior.clone(), &input, &ProgramCache::new()).unwrap()
}

fn halting() -> Asm {
    let mut asm = Asm::new();
    asm.to_entry().halt();
    asm
}

#[test]
fn privileges_merge_by_the_managers_choice_else_the_holders() {
    const MANAGER: u32 = 10;
    const ASSIGNER: u32 = 11;
    // The manager blesses itself, assigners (20, 11), no delegator or registrar, no free services.
    let mut manager = Asm::new();
    manager
        .to_entry()
        .store_imm_u32(RW, 20)
        .store_imm_u32(RW + 4, ASSIGNER)
        .load_imm64(7, MANAGER.into())
        .load_imm64(8, RW.into())
        .load_imm64(9, 0)
        .load_imm64(10, 0)
        .load_imm64(11, (RW + 8).into())
        .load_imm64(12, 0)
        .ecalli(index::BLESS as u32)
        .halt();
    // The assigner of both cores hands core 0 to 21 and core 1 to 22, with the queue of 0xab hashes.
    let mut assigner = Asm::new();
    assigner.to_entry();
    for (core, to) in [(0u64, 21u64), (1, 22)] {
        assigner.load_imm64(7, core).load_imm64(8, RO.into()).load_imm64(9, to).ecalli(index::ASSIGN as u32);
    }
    assigner.halt();
    let mut prior = state(vec![
        (MANAGER, service_with_code(1_000, &manager)),
        (ASSIGNER, service_with_code(1_000, &assigner)),
    ]);
    prior.privileges.bless = MANAGER;
    prior.privileges.assign = vec![ASSIGNER, ASSIGNER];
    prior.privileges.always_acc = [(MANAGER, 1_000), (ASSIGNER, 1_000)].into_iter().collect();

    let result = accumulate(&prior, &[]);
    let privileges = &result.state.privileges;
    // Core 0: the manager changed it (to 20), so its choice stands over the assigner's 21. Core 1:
    // the manager left it, so the assigner's own change (22) stands.
    assert_eq!(privileges.assign, vec![20, 22]);
    assert_eq!(privileges.bless, MANAGER);
    assert!(privileges.always_acc.is_empty(), "the manager's z");
    // φ': each core's queue from its prior assigner's post-state.
    assert!(result.state.auth_queues.0.iter().all(|q| q.iter().all(|h| *h == [RO_BYTE; 32])));
    // Both accumulated with no digests: gas used, no items.
    assert_eq!(result.statistics.keys().copied().collect::<Vec<_>>(), vec![MANAGER, ASSIGNER]);
    assert!(result.statistics.values().all(|s| s.count == 0 && s.gas_used > 0));
    assert_eq!(result.state.accounts[&MANAGER].info.last_accumulation_slot, SLOT);
}

#[test]
fn reports_beyond_the_blocks_gas_wait_or_are_dropped_as_the_paper_says() {
    let prior = state(vec![(1, service_with_code(1_000, &halting()))]);
    // g = max(G_T, G_A·C) = 20 000 000 in tiny.
    let big = report(1, 1, 20_000_001, vec![]);
    let small = report(2, 1, 100, vec![]);
    // The prefix that fits is empty: nothing accumulates, and W^! reports are not queued.
    let result = accumulate(&prior, &[big.clone(), small.clone()]);
    assert_eq!(result.reports_accumulated, 0);
    assert!(result.statistics.is_empty());
    assert!(result.state.ready.0.iter().all(Vec::is_empty));
    assert!(result.state.accumulated.0.iter().all(Vec::is_empty));
    // The small one first: it accumulates, the big one does not.
    let result = accumulate(&prior, &[small, big]);
    assert_eq!(result.reports_accumulated, 1);
    assert_eq!(result.state.accumulated.0.last().unwrap(), &vec![[2; 32]]);
    assert_eq!(result.statistics[&1].count, 1);
}

#[test]
fn a_looping_service_uses_its_gas_and_nothing_else_changes() {
    let mut looping = Asm::new();
    looping.to_entry().store_imm_u8(RW, b'k');
    looping
        .load_imm64(7, RW.into())
        .load_imm64(8, 1)
        .load_imm64(9, RW.into())
        .load_imm64(10, 1)
        .ecalli(index::WRITE as u32)
        .fallthrough()
        .jump_self();
    let prior =
        state(vec![(1, service_with_code(1_000, &looping)), (2, service_with_code(1_000, &halting()))]);
    let result = accumulate(&prior, &[report(1, 1, 5_000, vec![]), report(2, 2, 5_000, vec![])]);
    assert_eq!(result.reports_accumulated, 2);
    assert_eq!(result.statistics[&1], ServiceAccumulation { gas_used: 5_000, count: 1 });
    // The halting service: its one block of one instruction.
    assert_eq!(result.statistics[&2], ServiceAccumulation { gas_used: 1, count: 1 });
    let looped = &result.state.accounts[&1];
    assert_eq!(looped.storage(b"k"), None, "its write went with the exceptional exit");
    assert_eq!(looped.info.last_accumulation_slot, SLOT);
}

#[test]
fn transfers_are_accumulated_by_their_receiver_in_the_next_round() {
    // Service 1 sends 100 with 1000 gas to service 2, which then runs with that gas.
    let mut sender = Asm::new();
    sender
        .to_entry()
        .load_imm64(7, 2)
        .load_imm64(8, 100)
        .load_imm64(9, 1_000)
        .load_imm64(10, RO.into())
        .ecalli(index::TRANSFER as u32)
        .halt();
    let receiver = service_with_code(500, &halting());
    let prior = state(vec![(1, service_with_code(1_000, &sender)), (2, receiver)]);
    let result = accumulate(&prior, &[report(1, 1, 5_000, vec![])]);
    // The sender: 4 loads, ecalli and jump_ind (one block of 6 instructions), and 10 + 1000.
    assert_eq!(result.statistics[&1], ServiceAccumulation { gas_used: 6 + 1_010, count: 1 });
    // The receiver: one instruction, no digest.
    assert_eq!(result.statistics[&2], ServiceAccumulation { gas_used: 1, count: 0 });
    assert_eq!(result.state.accounts[&1].info.balance, 900);
    assert_eq!(result.state.accounts[&2].info.balance, 600);
    assert_eq!(result.state.accounts[&2].info.last_accumulation_slot, SLOT);
}

#[test]
fn a_queued_report_waits_for_its_prerequisite() {
    let prior = state(vec![(1, service_with_code(1_000, &halting()))]);
    let waiting = report(2, 1, 100, vec![[1; 32]]);
    let result = accumulate(&prior, &[waiting]);
    assert_eq!(result.reports_accumulated, 0);
    // Queued at this slot's place in the epoch (30 mod 12 = 6), waiting for package 1.
    let queued = &result.state.ready.0[6];
    assert_eq!(queued.len(), 1);
    assert_eq!(
        (queued[0].report.package_spec.hash, queued[0].dependencies.clone()),
        ([2; 32], vec![[1; 32]])
    );
    // The prerequisite arrives in the next block: both accumulate, in dependency order.
    let mut next = result.state.clone();
    next.accounts = prior.accounts.clone();
    let input = AccumulateInput {
        slot: SLOT + 1,
        prior_slot: SLOT,
        entropy: &[0; 32],
        available: &[report(1, 1, 100, vec![])],
    };
    let result = apply(&ChainSpec::tiny(), next, &input, &ProgramCache::new()).unwrap();
    assert_eq!(result.reports_accumulated, 2);
    assert_eq!(result.state.accumulated.0.last().unwrap(), &vec![[1; 32], [2; 32]]);
    assert!(result.state.ready.0.iter().all(Vec::is_empty));
}
