//! `subnet-avs`: the AVS rule that ties a `subnet` to `restaking` and to the `registry` (issue
//! 19's demo). After each epoch of its subnet it slashes, in `restaking`, every validator whose
//! weights were far from consensus (validator trust below the configured minimum; the validator's
//! hotkey is its operator key), and gives every miner linked to a registry agent feedback with the
//! incentive the epoch gave it. The protocol, the records and the rule itself are
//! `orrery_subnet::avs`, tested natively; this crate reads the services' storage and sends the
//! transfers.
//!
//! Refine only checks that the payload is one command. Accumulate takes nothing the rule acts on
//! from the work item: the epoch's results and the registry's owners are read from the other
//! services' storage, so anyone may submit the items. Every refusal changes nothing and is
//! logged; a write the service's balance cannot pay for (`FULL`) is a refusal too, not a panic.

#![no_std]

extern crate alloc;

use alloc::vec::Vec;

use orrery_registry::store::{agent_key, AgentRecord};
use orrery_registry::wire::{self as registry, Feedback, Principal};
use orrery_restaking::memo::Memo;
use orrery_restaking::wire::OperatorSet;
use orrery_service_sdk::accumulate::{inputs, transfer, Input, WorkResult, MEMO_SIZE};
use orrery_service_sdk::entry::{AccumulateArgs, RefineArgs};
use orrery_service_sdk::general::{info, read, remove, write, Level, Service};
use orrery_service_sdk::log;
use orrery_subnet::avs::{
    judge as rule, link_key, Command, Config, Verdict, CONFIG_KEY, FEEDBACK_DECIMALS, FEEDBACK_TAG, JUDGED_KEY,
};
use orrery_subnet::store::{neuron_key, output_key, subnet_key, NeuronRecord, OutputRecord, SubnetRecord};
use orrery_subnet::wire::Role;

/// Refine passes one well-formed command on, or fails the item.
fn refine(args: RefineArgs<'_>) -> Vec<u8> {
    if Command::decode(args.payload).is_none() {
        panic!("the payload is not one subnet-avs command ({} octets)", args.payload.len());
    }
    args.payload.to_vec()
}

fn config() -> Option<Config> {
    read(Service::Me, CONFIG_KEY).and_then(|v| Config::decode(&v))
}

/// Sends `memo` to `dest` with no funds and the gas its memos need.
fn send(dest: u32, memo: &[u8; MEMO_SIZE]) -> bool {
    let Some(account) = info(Service::Id(dest)) else {
        log!(Level::Warn, "service {dest} does not exist");
        return false;
    };
    match transfer(dest, 0, account.min_memo_gas, memo) {
        Ok(()) => true,
        Err(e) => {
            log!(Level::Warn, "transfer to {dest} failed: {e:?}");
            false
        }
    }
}

fn setup(config: Config, me: u32) -> Result<(), &'static str> {
    if read(Service::Me, CONFIG_KEY).is_some() {
        return Err("already set up");
    }
    if !config.is_valid() {
        return Err("wadToSlash must be in (0, 10^18]");
    }
    write(CONFIG_KEY, &config.encode()).map_err(|_| "the balance cannot pay for the configuration")?;
    let create = Memo::CreateOperatorSet { id: config.set_id }.encode();
    if !send(config.restaking_service, &create) {
        // Without its operator set the AVS could never slash: no configuration either.
        let _ = remove(CONFIG_KEY);
        return Err("the operator set's creation could not be sent");
    }
    log!(
        Level::Info,
        "set up: subnet {} of service {}, operator set ({me}, {}) in service {}, registry {}",
        config.netuid,
        config.subnet_service,
        config.set_id,
        config.restaking_service,
        config.registry_service
    );
    Ok(())
}

fn link(config: &Config, uid: u16, agent: u64) -> Result<(), &'static str> {
    let neuron = read(Service::Id(config.subnet_service), &neuron_key(config.netuid, uid))
        .and_then(|v| NeuronRecord::decode(&v))
        .ok_or("no such neuron")?;
    if neuron.role != Role::Miner {
        return Err("not a miner");
    }
    let record = read(Service::Id(config.registry_service), &agent_key(agent))
        .and_then(|v| AgentRecord::decode(&v))
        .ok_or("no such agent")?;
    if record.owner != Principal::Key(neuron.hotkey) {
        return Err("the agent is not owned by the miner's hotkey");
    }
    write(&link_key(uid), &agent.to_le_bytes()).map_err(|_| "the balance cannot pay for the link")?;
    log!(Level::Info, "miner {uid} is agent {agent}");
    Ok(())
}

fn judge(config: &Config, me: u32) -> Result<(), &'static str> {
    let subnet_service = Service::Id(config.subnet_service);
    let subnet = read(subnet_service, &subnet_key(config.netuid))
        .and_then(|v| SubnetRecord::decode(&v))
        .ok_or("no such subnet")?;
    if subnet.epochs == 0 {
        return Err("no epoch yet");
    }
    let judged = read(Service::Me, JUDGED_KEY).and_then(|v| Some(u32::from_le_bytes(v.try_into().ok()?)));
    if judged.is_some_and(|slot| slot >= subnet.last_epoch) {
        return Err("the last epoch is judged already");
    }
    // Recorded first: if the balance cannot pay for it, nothing is sent.
    write(JUDGED_KEY, &subnet.last_epoch.to_le_bytes()).map_err(|_| "the balance cannot pay for the record")?;
    let set = OperatorSet { avs: me, id: config.set_id };
    let (mut slashed, mut rated) = (0u32, 0u32);
    for uid in 0..subnet.neurons {
        let neuron = read(subnet_service, &neuron_key(config.netuid, uid)).and_then(|v| NeuronRecord::decode(&v));
        let output = read(subnet_service, &output_key(config.netuid, uid)).and_then(|v| OutputRecord::decode(&v));
        let (Some(neuron), Some(output)) = (neuron, output) else { continue };
        if output.slot != subnet.last_epoch {
            continue;
        }
        let agent = read(Service::Me, &link_key(uid)).and_then(|v| Some(u64::from_le_bytes(v.try_into().ok()?)));
        match rule(config, &neuron, &output, agent.is_some()) {
            Verdict::Slash => {
                let memo =
                    Memo::Slash { set, operator: neuron.hotkey, wad_to_slash: config.wad_to_slash }.encode();
                if send(config.restaking_service, &memo) {
                    log!(Level::Info, "validator {uid}: trust {} below the minimum, slashed", output.validator_trust);
                    slashed += 1;
                }
            }
            Verdict::Feedback { value } => {
                let feedback = registry::Command::GiveFeedback(Feedback {
                    agent: agent.unwrap_or_default(),
                    value,
                    decimals: FEEDBACK_DECIMALS,
                    tag1: FEEDBACK_TAG.to_vec(),
                    tag2: Vec::new(),
                    endpoint: Vec::new(),
                    uri: Vec::new(),
                    hash: None,
                });
                if let Some(memo) = registry::encode_memo(&feedback) {
                    if send(config.registry_service, &memo) {
                        rated += 1;
                    }
                }
            }
            Verdict::Nothing => {}
        }
    }
    log!(Level::Info, "epoch at slot {} judged: {slashed} slashed, {rated} rated", subnet.last_epoch);
    Ok(())
}

fn accumulate(args: AccumulateArgs) -> Option<[u8; 32]> {
    for input in inputs(args.input_count) {
        let Input::Operand(operand) = input else { continue };
        let WorkResult::Ok(payload) = operand.result else { continue };
        let Some(command) = Command::decode(&payload) else { continue };
        let result = match (command, config()) {
            (Command::Setup(c), _) => setup(c, args.service),
            (_, None) => Err("not set up"),
            (Command::Link { uid, agent }, Some(c)) => link(&c, uid, agent),
            (Command::Judge, Some(c)) => judge(&c, args.service),
        };
        if let Err(why) = result {
            log!(Level::Warn, "{command:?} refused: {why}");
        }
    }
    None
}

orrery_service_sdk::refine!(refine);
orrery_service_sdk::accumulate!(accumulate);
