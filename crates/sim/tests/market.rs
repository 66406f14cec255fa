//! Issue 19's demo on a simulated network: a subnet whose validators are restaked operators, an
//! AVS rule that slashes the validator far from consensus, and a registry that records the miners'
//! reputation from their incentive. Six dev validators (nodes) on the tiny spec, GRANDPA on; every service
//! is deployed through the manager and called by work packages, every command signed with real
//! Ed25519 keys.
//!
//! - `subnet`: one subnet (tempo 1: every accumulation of the service runs the epoch), 8 validators
//!   of equal stake and 32 miners whose quality is their rank (1 to 32). Seven validators weigh the
//!   miners by quality, with a little noise each; the eighth weighs them in reverse.
//! - `restaking`: each validator's hotkey is an operator that joined the AVS's operator set and
//!   allocated all its magnitude to it; one staker per validator deposited (through `avs`, the
//!   transfer relay) what the validator declares as stake in the subnet, and delegated to it.
//! - `registry`: each miner registered an agent with its hotkey.
//! - `subnet-avs`: set up for all three; each miner linked to its agent (the link is checked
//!   against both services' storage: a validator's uid or another key's agent is refused); one
//!   package per epoch carries the validators' weights for `subnet` and a judge item for
//!   `subnet-avs`. Services of one report accumulate side by side from the same state (GP 0.7.2
//!   eq. 12.17), so the judge reads the epoch before the one the weights start: each epoch is
//!   judged exactly once, by the next package.
//!
//! Checked on every node: the reversed validator's validator trust is below the rule's minimum and
//! its dividend below every honest one's; its operator's max magnitude fell by 10% (rounded up)
//! for each judged epoch with weights and no honest operator's moved; each miner's agent holds one
//! feedback per judged epoch whose values are its incentives as percentages, the best miner rated
//! highest; and every node finalized the same blocks with the same state roots.

mod common;

use ed25519_zebra::{SigningKey, VerificationKey};
use orrery_chain_spec::dev::{DevServices, MANAGER_SERVICE};
use orrery_chain_spec::package::{manager_deploy_by_hash, Call};
use orrery_crypto::blake2b_256;
use orrery_node::Input;
use orrery_registry::store::{agent_key, summary_key, AgentRecord, Summary};
use orrery_registry::wire::{self as registry, Principal};
use orrery_restaking::memo::Memo;
use orrery_restaking::store::{operator_key, OperatorRecord};
use orrery_restaking::wire::{self as restaking, Action, OperatorSet};
use orrery_sim::Sim;
use orrery_subnet::avs::{self, Config, CONFIG_KEY, JUDGED_KEY};
use orrery_subnet::store::{output_key, OutputRecord};
use orrery_subnet::wire::{self as subnet, Role};
use orrery_types::ServiceId;
use orrery_yuma::EpochParams;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const SUBNET: &[u8] = include_bytes!("../../../services/subnet/subnet.jam");
const RESTAKING: &[u8] = include_bytes!("../../../services/restaking/restaking.jam");
const REGISTRY: &[u8] = include_bytes!("../../../services/registry/registry.jam");
const AVS: &[u8] = include_bytes!("../../../services/avs/avs.jam");
const SUBNET_AVS: &[u8] = include_bytes!("../../../services/subnet-avs/subnet-avs.jam");

const VALIDATORS: u16 = 8;
const MINERS: u16 = 32;
/// The validator that weighs the miners in reverse (the last).
const DEVIANT: u16 = VALIDATORS - 1;
/// Each validator's stake in the subnet: what its staker deposited in restaking, in units.
const STAKE: u64 = 1_000_000;
/// Epochs with weights.
const ROUNDS: u32 = 8;
const SET_ID: u32 = 1;
/// The rule: validator trust under 80% is slashed by 10%.
const MIN_TRUST: u16 = 52_428;
const WAD_TO_SLASH: u128 = avs::WAD / 10;

fn key(seed: u64) -> SigningKey {
    SigningKey::new(ChaCha8Rng::seed_from_u64(seed))
}

fn public(key: &SigningKey) -> [u8; 32] {
    VerificationKey::from(key).into()
}

fn owner() -> SigningKey {
    key(1000)
}
/// Validator `v`'s hotkey, which is also its operator key in restaking.
fn validator(v: u16) -> SigningKey {
    key(2000 + u64::from(v))
}
fn staker(v: u16) -> SigningKey {
    key(3000 + u64::from(v))
}
fn miner(m: u16) -> SigningKey {
    key(4000 + u64::from(m))
}

fn subnet_payload(commands: Vec<(SigningKey, subnet::Command)>) -> Vec<u8> {
    let signed: Vec<subnet::Signed> = commands
        .into_iter()
        .map(|(k, command)| {
            let signature = k.sign(&subnet::signing_message(&command)).to_bytes();
            subnet::Signed { command, signature }
        })
        .collect();
    subnet::encode_payload(&signed)
}

fn restaking_payload(commands: Vec<(SigningKey, u64, Action)>) -> Vec<u8> {
    let signed: Vec<restaking::Signed> = commands
        .into_iter()
        .map(|(k, nonce, action)| {
            let command = restaking::Command { signer: public(&k), nonce, action };
            let signature = k.sign(&restaking::signing_message(&command)).to_bytes();
            restaking::Signed { command, signature }
        })
        .collect();
    restaking::encode_payload(&signed)
}

fn registry_payload(commands: Vec<(SigningKey, registry::Command)>) -> Vec<u8> {
    let signed: Vec<registry::Signed> = commands
        .into_iter()
        .map(|(k, command)| {
            let signer = public(&k);
            let signature = k.sign(&registry::signing_message(&signer, 1, &command)).to_bytes();
            registry::Signed { signer, nonce: 1, command, signature }
        })
        .collect();
    registry::encode_payload(&signed)
}

/// A call with `accumulate_gas`; refine's gas covers a payload of signed commands.
fn call(service: ServiceId, code: &[u8], payload: Vec<u8>, accumulate_gas: u64) -> Call {
    Call { accumulate_gas, ..common::call(service, code, payload) }
}

/// Deploys `codes` the way code larger than a work result (48 KiB; subnet's is 184 KB) must go:
/// the manager's deploy by hash creates each service, which then requests its code; the code is
/// submitted to one node as a preimage (JIP-2 `submitPreimage`), announced to the others (CE 142),
/// and brought on chain by a block's preimage extrinsic. Memos cost 100,000 gas (a memo to
/// restaking or the registry takes 15,000–25,000), so that the AVS's transfers for 32 miners
/// fit one item's gas. Returns the services' ids, in the order of `codes`, once every node holds
/// every code.
fn deploy_by_hash(sim: &mut Sim, codes: &[&[u8]]) -> Vec<ServiceId> {
    let calls: Vec<Call> = codes
        .iter()
        .map(|code| {
            let payload =
                manager_deploy_by_hash(100_000, 100_000, 1 << 36, &blake2b_256(code), code.len() as u32);
            Call {
                refine_gas: 10_000_000,
                ..call(MANAGER_SERVICE, DevServices::ORRERY.manager, payload, 1_000_000)
            }
        })
        .collect();
    run_package(sim, 0, &calls);
    let ids: Vec<ServiceId> = {
        let n = sim.node(0).unwrap();
        let state = n.chain().state(&n.status().best.hash).unwrap().state();
        codes
            .iter()
            .map(|code| {
                let found: Vec<ServiceId> = state
                    .accounts
                    .iter()
                    .filter(|(_, a)| a.info.code_hash == blake2b_256(code))
                    .map(|(id, _)| *id)
                    .collect();
                assert_eq!(found.len(), 1, "one instance of each service: {found:?}");
                assert!(state.accounts[&found[0]].code_blob().is_none(), "the code is not there yet");
                found[0]
            })
            .collect()
    };
    for (id, code) in ids.iter().zip(codes) {
        sim.input(0, Input::SubmitPreimage { requester: *id, blob: code.to_vec() });
    }
    for _ in 0..12 {
        let everywhere = (0..sim.node_count()).all(|i| {
            let n = sim.node(i).unwrap();
            let state = n.chain().state(&n.status().best.hash).unwrap().state();
            ids.iter().zip(codes).all(|(id, code)| state.accounts[id].code_blob() == Some(*code))
        });
        if everywhere {
            return ids;
        }
        sim.run_slots(1).unwrap();
    }
    panic!("the codes did not reach every node's state within 12 slots");
}

/// A link item: sixteen of them share one package's refine gas (`G_R`, 1 G in tiny) and
/// accumulate gas (`G_A`, 10 M).
fn link_call(avs_id: ServiceId, link: avs::Command) -> Call {
    Call { refine_gas: 10_000_000, ..call(avs_id, SUBNET_AVS, link.encode(), 400_000) }
}

/// Submits `calls` on `core` and waits until every node has accumulated them.
fn run_package(sim: &mut Sim, core: u16, calls: &[Call]) {
    run_packages(sim, &[(core, calls)]);
}

/// Submits a package to each core at once and waits until every node has accumulated them all.
fn run_packages(sim: &mut Sim, packages: &[(u16, &[Call])]) {
    common::to_rotation_start(sim, 300);
    let at = sim.slot_now();
    let mut waiting = Vec::new();
    for (core, calls) in packages {
        let package = common::dev_package(sim, 0, calls);
        waiting.push((common::submit(sim, *core, package), at));
    }
    common::settle(sim, &mut waiting, &mut Vec::new(), 12);
}

/// Validator `v`'s weights for round `round`: the miners' quality (their rank), reversed for the
/// deviant, with a little noise that differs by validator and round.
fn weights(v: u16, round: u32) -> Vec<u16> {
    (0..MINERS)
        .map(|m| {
            let quality = if v == DEVIANT { MINERS - m } else { m + 1 };
            let noise = (u32::from(v) * 7 + u32::from(m) * 3 + round * 5) % 20;
            (u32::from(quality) * 1000 + noise * 10) as u16
        })
        .collect()
}

fn output(sim: &Sim, node: usize, service: ServiceId, uid: u16) -> OutputRecord {
    OutputRecord::decode(&common::storage(sim, node, service, &output_key(0, uid)).expect("an epoch output"))
        .expect("decodes")
}

#[test]
fn a_subnet_on_restaked_validators_slashes_the_one_far_from_consensus_and_rates_its_miners() {
    let mut sim = common::started(23);

    // Deploy the five services by hash, then hand each its code as a preimage.
    let ids = deploy_by_hash(&mut sim, &[SUBNET, SUBNET_AVS, RESTAKING, REGISTRY, AVS]);
    let (subnet_id, avs_id, restaking_id, registry_id, relay_id) = (ids[0], ids[1], ids[2], ids[3], ids[4]);
    let config = Config {
        subnet_service: subnet_id,
        netuid: 0,
        restaking_service: restaking_id,
        set_id: SET_ID,
        registry_service: registry_id,
        min_validator_trust: MIN_TRUST,
        wad_to_slash: WAD_TO_SLASH,
    };

    // The subnet with its neurons (validators uids 0–5, miners 6–17), and the AVS's setup, which
    // creates its operator set in restaking.
    let params = EpochParams { max_allowed_validators: VALIDATORS, ..EpochParams::default() };
    let mut create = vec![(
        owner(),
        subnet::Command::CreateSubnet { owner: public(&owner()), tempo: 1, emission: 1_000_000, params },
    )];
    for v in 0..VALIDATORS {
        let k = validator(v);
        let register = subnet::Command::Register {
            netuid: 0,
            hotkey: public(&k),
            role: Role::Validator,
            stake: STAKE,
            payee: None,
        };
        create.push((k, register));
    }
    for m in 0..MINERS {
        let k = miner(m);
        create.push((
            k,
            subnet::Command::Register {
                netuid: 0,
                hotkey: public(&k),
                role: Role::Miner,
                stake: 0,
                payee: None,
            },
        ));
    }
    run_package(
        &mut sim,
        0,
        &[
            call(subnet_id, SUBNET, subnet_payload(create), 5_000_000),
            call(avs_id, SUBNET_AVS, avs::Command::Setup(config).encode(), 1_000_000),
        ],
    );

    // The agents, and the stakers' deposits (transfers from the relay with a deposit memo).
    let agents = (0..MINERS)
        .map(|m| {
            (
                miner(m),
                registry::Command::Register {
                    uri: format!("https://miner{m}.example/card.json").into_bytes(),
                    metadata: vec![],
                },
            )
        })
        .collect();
    let mut orders = vec![VALIDATORS as u8];
    for v in 0..VALIDATORS {
        orders.extend_from_slice(&restaking_id.to_le_bytes());
        orders.extend_from_slice(&STAKE.to_le_bytes());
        orders.extend_from_slice(&100_000u64.to_le_bytes());
        orders.extend_from_slice(&Memo::Deposit { staker: public(&staker(v)) }.encode());
    }
    run_package(
        &mut sim,
        1,
        &[
            call(registry_id, REGISTRY, registry_payload(agents), 3_000_000),
            call(relay_id, AVS, orders, 3_000_000),
        ],
    );

    // Each miner's agent id, from the registry's records.
    let agent_of = |sim: &Sim, m: u16| -> u64 {
        (0..2 * u64::from(MINERS))
            .find(|&id| {
                common::storage(sim, 0, registry_id, &agent_key(id))
                    .and_then(|v| AgentRecord::decode(&v))
                    .is_some_and(|a| a.owner == Principal::Key(public(&miner(m))))
            })
            .unwrap_or_else(|| panic!("miner {m} has no agent"))
    };
    let agents: Vec<u64> = (0..MINERS).map(|m| agent_of(&sim, m)).collect();

    // Operators join the AVS's set and allocate everything; stakers delegate. With them, the links
    // (and two that must be refused: a validator's uid, and a miner linked to another's agent), and
    // an empty subnet item, whose accumulation runs the first epoch (permits, no weights).
    let set = OperatorSet { avs: avs_id, id: SET_ID };
    let mut commands = Vec::new();
    for v in 0..VALIDATORS {
        commands.push((validator(v), 1, Action::RegisterOperator { allocation_delay: 0 }));
        commands.push((validator(v), 2, Action::RegisterForSet { set }));
        commands.push((validator(v), 3, Action::Allocate { set, magnitude: avs::WAD as u64 }));
        commands.push((staker(v), 1, Action::Delegate { operator: public(&validator(v)) }));
    }
    let calls = vec![
        call(restaking_id, RESTAKING, restaking_payload(commands), 4_000_000),
        call(subnet_id, SUBNET, subnet_payload(vec![]), 1_000_000),
    ];
    run_package(&mut sim, 0, &calls);
    // At most 16 items a package (`I`): the links in packages of 16, both cores at once.
    let mut links: Vec<Call> = (0..MINERS)
        .map(|m| link_call(avs_id, avs::Command::Link { uid: VALIDATORS + m, agent: agents[usize::from(m)] }))
        .collect();
    links.push(link_call(avs_id, avs::Command::Link { uid: 0, agent: agents[0] }));
    links.push(link_call(avs_id, avs::Command::Link { uid: VALIDATORS, agent: agents[1] }));
    for pair in links.chunks(16).collect::<Vec<_>>().chunks(2) {
        let packages: Vec<(u16, &[Call])> =
            pair.iter().enumerate().map(|(core, calls)| (core as u16, *calls)).collect();
        run_packages(&mut sim, &packages);
    }
    // The second link of miner 0 was refused: it keeps its own agent. A validator has no link.
    assert_eq!(
        common::storage(&sim, 0, avs_id, &avs::link_key(VALIDATORS)),
        Some(agents[0].to_le_bytes().to_vec())
    );
    assert_eq!(common::storage(&sim, 0, avs_id, &avs::link_key(0)), None);

    // Each round: the validators' weights (the subnet then runs the next epoch) and a judge item
    // (which reads the epoch before). A second setup rides along in the first, and is refused.
    let mut judged_incentives: Vec<Vec<u16>> = Vec::new();
    let incentives = |sim: &Sim| {
        (0..MINERS).map(|m| output(sim, 0, subnet_id, VALIDATORS + m).incentive).collect::<Vec<_>>()
    };
    for round in 1..=ROUNDS {
        let weights: Vec<(SigningKey, subnet::Command)> = (0..VALIDATORS)
            .map(|v| {
                let k = validator(v);
                let command = subnet::Command::SetWeights {
                    netuid: 0,
                    uid: v,
                    hotkey: public(&k),
                    nonce: u64::from(round),
                    weights: weights(v, round),
                };
                (k, command)
            })
            .collect();
        judged_incentives.push(incentives(&sim));
        let mut calls = vec![
            call(subnet_id, SUBNET, subnet_payload(weights), 2_900_000),
            call(avs_id, SUBNET_AVS, avs::Command::Judge.encode(), 6_000_000),
        ];
        if round == 1 {
            let other = Config { set_id: 99, ..config };
            calls.push(call(avs_id, SUBNET_AVS, avs::Command::Setup(other).encode(), 1_000_000));
        }
        run_package(&mut sim, (round % 2) as u16, &calls);
    }
    // The last epoch's judgment.
    judged_incentives.push(incentives(&sim));
    run_package(&mut sim, 1, &[call(avs_id, SUBNET_AVS, avs::Command::Judge.encode(), 6_000_000)]);
    sim.run_slots(3).unwrap();

    // What the test expects, worked out here: EigenLayer's slash of an allocation of all the
    // magnitude takes ceil(magnitude × wadToSlash / 10¹⁸), once per epoch with weights.
    let mut magnitude = avs::WAD;
    for _ in 0..ROUNDS {
        magnitude -= (magnitude * WAD_TO_SLASH).div_ceil(avs::WAD);
    }
    let percent = |incentive: u16| i128::from(incentive) * 10_000 / 65_535;

    for node in 0..sim.node_count() {
        let stored = |service, key: &[u8]| common::storage(&sim, node, service, key);
        assert_eq!(stored(avs_id, CONFIG_KEY), Some(config.encode()), "node {node}: the first setup is kept");

        // Yuma: the reversed weights are clipped, and the validator earns less.
        let outputs: Vec<OutputRecord> = (0..VALIDATORS).map(|v| output(&sim, node, subnet_id, v)).collect();
        assert_eq!(stored(avs_id, JUDGED_KEY), Some(outputs[0].slot.to_le_bytes().to_vec()), "node {node}");
        let deviant = &outputs[usize::from(DEVIANT)];
        assert!(deviant.validator_trust < MIN_TRUST, "node {node}: {deviant:?}");
        for (v, o) in outputs.iter().enumerate().take(usize::from(DEVIANT)) {
            assert!(o.validator_trust >= MIN_TRUST, "node {node}: honest validator {v}: {o:?}");
            assert!(
                deviant.dividend < o.dividend,
                "node {node}: dividends {} vs validator {v}'s {}",
                deviant.dividend,
                o.dividend
            );
        }

        // Restaking: the deviant's operator slashed once per epoch with weights, no one else.
        for v in 0..VALIDATORS {
            let record =
                OperatorRecord::decode(&stored(restaking_id, &operator_key(&public(&validator(v)))).unwrap())
                    .unwrap();
            let want = if v == DEVIANT { magnitude as u64 } else { avs::WAD as u64 };
            assert_eq!(record.strategy.max_magnitude(), want, "node {node}: operator {v}");
            assert_eq!(record.delegators, 1, "node {node}: operator {v}");
        }

        // Registry: one feedback per judged epoch from the AVS, the values its incentives.
        let mut sums = Vec::new();
        for m in 0..MINERS {
            let summary = Summary::decode(
                &stored(registry_id, &summary_key(agents[usize::from(m)], avs::FEEDBACK_TAG, &[])).unwrap(),
            )
            .unwrap();
            let want: i128 =
                judged_incentives.iter().map(|epoch| percent(epoch[usize::from(m)]) * 10i128.pow(16)).sum();
            assert_eq!(
                summary,
                Summary { count: judged_incentives.len() as u64, sum: want },
                "node {node}: miner {m}"
            );
            sums.push(summary.sum);
        }
        assert!(
            sums[usize::from(MINERS) - 1] == *sums.iter().max().unwrap()
                && sums[usize::from(MINERS) - 1] > sums[0],
            "node {node}: {sums:?}"
        );
    }
    let summary = sim.summary();
    assert!(summary.disagreements().is_empty(), "finalized blocks differ: {:?}", summary.disagreements());
    let deviant = output(&sim, 0, subnet_id, DEVIANT);
    println!(
        "market demo: {ROUNDS} epochs with weights by {VALIDATORS} validators on {MINERS} miners; the reversed validator's trust {} (min {MIN_TRUST}), dividend {} (an honest one's {}), operator magnitude {} of 10^18; slot {}",
        deviant.validator_trust,
        deviant.dividend,
        output(&sim, 0, subnet_id, 0).dividend,
        magnitude,
        sim.slot_now()
    );
}
