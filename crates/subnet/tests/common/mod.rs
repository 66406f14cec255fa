//! A local chain for the committed `services/subnet/subnet.jam`: each step is a one-item work
//! package refined by Ψ_R and accumulated by Ψ_A (the invocation crate, as `orrery service run`
//! does), at a slot the caller chooses; commands are signed with real Ed25519 keys.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use ed25519_zebra::SigningKey;
use orrery_chain_spec::package::{local_account, offline_operand, refine_offline, Call};
use orrery_invocation::{accumulate, AccumulateOutput, PartialState, ProgramCache, RefineOutput};
use orrery_state::{ServiceAccount, ServiceInfo};
use orrery_subnet::store::{neuron_key, output_key, NeuronRecord, OutputRecord};
use orrery_subnet::wire::{decode_verdicts, signing_message, Command, Signed, Verdict};
use orrery_types::{ChainSpec, ServiceId, WorkExecResult};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub const SUBNET: ServiceId = 1 << 16;
pub const BALANCE: u64 = 1_000_000_000_000;

pub fn blob() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services/subnet/subnet.jam");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A deterministic key, the `seed`-th.
pub fn key(seed: u64) -> SigningKey {
    SigningKey::new(ChaCha8Rng::seed_from_u64(seed))
}

pub fn public(key: &SigningKey) -> [u8; 32] {
    ed25519_zebra::VerificationKey::from(key).into()
}

pub fn sign(key: &SigningKey, command: Command) -> Signed {
    let signature = key.sign(&signing_message(&command)).to_bytes();
    Signed { command, signature }
}

pub struct Step {
    pub refined: RefineOutput,
    pub accumulated: Option<AccumulateOutput>,
}

impl Step {
    pub fn verdicts(&self) -> Vec<Verdict> {
        match &self.refined.result {
            WorkExecResult::Ok(out) => decode_verdicts(out).expect("refine's output decodes"),
            other => panic!("refine failed: {other:?}"),
        }
    }

    pub fn logs(&self) -> Vec<String> {
        self.accumulated
            .iter()
            .flat_map(|a| &a.logs)
            .map(|l| String::from_utf8_lossy(&l.message).into_owned())
            .collect()
    }
}

pub struct Chain {
    pub spec: ChainSpec,
    pub accounts: BTreeMap<ServiceId, ServiceAccount>,
    pub code_hash: [u8; 32],
    cache: std::sync::Arc<ProgramCache>,
}

impl Chain {
    pub fn new() -> Self {
        let blob = blob();
        let (code_hash, account) = local_account(&blob, BALANCE);
        let accounts = BTreeMap::from([(SUBNET, account)]);
        Chain { spec: ChainSpec::tiny(), accounts, code_hash, cache: Default::default() }
    }

    /// Adds a codeless account that payouts can be sent to.
    pub fn add_payee(&mut self, id: ServiceId) {
        self.accounts.insert(id, ServiceAccount::new(ServiceInfo::default()));
    }

    fn partial(&self) -> PartialState {
        PartialState::local(&self.spec, self.accounts.clone(), 0)
    }

    /// Refines `payload` and accumulates the result at `slot` with `gas`.
    pub fn step_with_gas(&mut self, slot: u32, payload: &[u8], gas: u64) -> Step {
        let call = Call {
            service: SUBNET,
            code_hash: self.code_hash,
            payload: payload.to_vec(),
            refine_gas: self.spec.max_refine_gas,
            accumulate_gas: gas,
        };
        let (package_hash, refined) =
            refine_offline(&self.spec, call, slot, &self.accounts, Some(&self.cache));
        if !matches!(refined.result, WorkExecResult::Ok(_)) {
            return Step { refined, accumulated: None };
        }
        let out = self.accumulate_output(slot, package_hash, payload, &refined.result, gas);
        self.accounts = out.changes.apply_to(&self.partial()).accounts;
        // The deferred transfers' amounts reach their receivers (their code, if any, is not run).
        for t in &out.transfers {
            if let Some(dest) = self.accounts.get_mut(&t.dest) {
                dest.info.balance += t.amount;
            }
        }
        Step { refined, accumulated: Some(out) }
    }

    /// Ψ_A of one refined item at `slot`, against the current accounts (which it does not change).
    pub fn accumulate_output(
        &self,
        slot: u32,
        package_hash: [u8; 32],
        payload: &[u8],
        result: &WorkExecResult,
        gas: u64,
    ) -> AccumulateOutput {
        let operand = offline_operand(package_hash, payload, result.clone(), gas);
        accumulate(&self.spec, &self.partial(), slot, SUBNET, gas, &[operand], &[0; 32], Some(&self.cache))
    }

    pub fn step(&mut self, slot: u32, payload: &[u8]) -> Step {
        self.step_with_gas(slot, payload, self.spec.max_accumulate_gas)
    }

    pub fn storage(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.accounts[&SUBNET].storage(key).map(<[u8]>::to_vec)
    }

    pub fn neuron(&self, netuid: u16, uid: u16) -> NeuronRecord {
        NeuronRecord::decode(&self.storage(&neuron_key(netuid, uid)).expect("neuron stored"))
            .expect("decodes")
    }

    pub fn output(&self, netuid: u16, uid: u16) -> OutputRecord {
        OutputRecord::decode(&self.storage(&output_key(netuid, uid)).expect("output stored"))
            .expect("decodes")
    }

    /// The stored `u16` bond of `uid` on `column`, 0 if absent (subtensor's `get_bonds`).
    pub fn bond(&self, netuid: u16, uid: u16, column: u16) -> u16 {
        self.neuron(netuid, uid).bonds.iter().find(|(j, _)| *j == column).map_or(0, |&(_, v)| v)
    }

    /// The subnet service's whole storage, for "nothing changed" checks.
    pub fn snapshot(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let account = &self.accounts[&SUBNET];
        let mut entries: Vec<_> = account.entries().map(|(k, v)| (k.as_ref().to_vec(), v.to_vec())).collect();
        entries.push((b"balance".to_vec(), account.info.balance.to_le_bytes().to_vec()));
        entries
    }
}

/// A subnet of `miners` × `validators` as `crates/yuma/benches/epoch.rs` builds it natively:
/// validators are uids `0..v` with stakes `(i + 1) · 10⁹`, miners the uids after them with no
/// stake, every validator weighs every miner (seeded random `u16`s), default parameters with `v`
/// permits, 10¹² per epoch, tempo 1. Registered at slot 1, weights and a first epoch at slot 2
/// (permits), a second at slot 3 (bonds); the next accumulation (slot 4) runs an epoch on full
/// rows. Refine verifies every signature; every step must fit the gas given.
pub fn big_subnet(miners: usize, validators: usize, gas: u64) -> Chain {
    use rand::Rng;
    let mut rng = ChaCha8Rng::seed_from_u64(19);
    let mut chain = Chain::new();
    let owner = key(0);
    let params = orrery_yuma::EpochParams { max_allowed_validators: validators as u16, ..Default::default() };
    let mut commands = vec![sign(
        &owner,
        Command::CreateSubnet { owner: public(&owner), tempo: 1, emission: 1_000_000_000_000, params },
    )];
    for uid in 0..miners + validators {
        let k = key(1 + uid as u64);
        let (role, stake) = if uid < validators {
            (orrery_subnet::wire::Role::Validator, (uid as u64 + 1) * 1_000_000_000)
        } else {
            (orrery_subnet::wire::Role::Miner, 0)
        };
        commands
            .push(sign(&k, Command::Register { netuid: 0, hotkey: public(&k), role, stake, payee: None }));
    }
    // Refine's output (the commands, signatures dropped) must fit `W_R` = 48 KiB per item.
    for chunk in commands.chunks(500) {
        let step = chain.step_with_gas(1, &orrery_subnet::wire::encode_payload(chunk), gas);
        let halted = step.accumulated.as_ref().and_then(|a| a.exit).map(|e| e.exit);
        assert_eq!(halted, Some(orrery_pvm::Exit::Halt), "{:?}", step.refined.result);
    }
    let weights: Vec<Signed> = (0..validators)
        .map(|uid| {
            let k = key(1 + uid as u64);
            let w: Vec<u16> = (0..miners).map(|_| rng.gen()).collect();
            sign(
                &k,
                Command::SetWeights { netuid: 0, uid: uid as u16, hotkey: public(&k), nonce: 1, weights: w },
            )
        })
        .collect();
    // The weights at slot 2 (after the registrations, or they would be masked), in items whose
    // refine output fits `W_R`; the first of them runs the first epoch (permits), the item at
    // slot 3 the second (bonds).
    let per_item = (40_000 / (2 * miners + 64)).max(1);
    for chunk in weights.chunks(per_item) {
        chain.step_with_gas(2, &orrery_subnet::wire::encode_payload(chunk), gas);
    }
    let step = chain.step_with_gas(3, &orrery_subnet::wire::encode_payload(&[]), gas);
    let logs = step.logs();
    assert!(logs.iter().any(|l| l.contains("epoch 2 at slot 3")), "{logs:?}");
    chain
}

impl Chain {
    /// Accumulates, at `slot`, refine's output for an empty command list, without keeping the
    /// result: what an epoch-only accumulation costs, repeatable.
    pub fn dry_run(&self, slot: u32, gas: u64) -> AccumulateOutput {
        let empty = orrery_subnet::wire::encode_verdicts(&[]);
        self.accumulate_output(slot, [0; 32], &[], &WorkExecResult::Ok(empty), gas)
    }
}

impl Chain {
    /// The native epoch's input for subnet `netuid` from what the service has stored, as the
    /// service would run it at slot 4 (tempo 1): the bench, the gas test and the large example
    /// compare the service's epoch with `orrery_yuma::epoch` on exactly this.
    pub fn epoch_input(&self, netuid: u16, neurons: u16) -> orrery_yuma::EpochInput {
        use orrery_subnet::store::{subnet_key, SubnetRecord};
        let subnet = SubnetRecord::decode(&self.storage(&subnet_key(netuid)).expect("the subnet record"))
            .expect("a subnet record that decodes");
        orrery_yuma::EpochInput {
            params: subnet.params.clone(),
            current_block: 4,
            tempo: 1,
            last_epoch_block: subnet.last_epoch.into(),
            owner_uid: None,
            neurons: (0..neurons)
                .map(|uid| {
                    let r = self.neuron(netuid, uid);
                    orrery_yuma::Neuron {
                        stake: r.stake,
                        last_update: r.last_update.into(),
                        block_at_registration: r.registered.into(),
                        validator_permit: r.permit,
                        weights: r.weights,
                        bonds: r.bonds,
                        earliest_commit_block: None,
                    }
                })
                .collect(),
            emission: subnet.emission,
        }
    }
}
