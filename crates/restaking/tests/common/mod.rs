//! A local chain for the committed `services/restaking/restaking.jam`: each step refines a one-item
//! work package by Ψ_R (if there is one) and accumulates it by Ψ_A at a slot the caller chooses,
//! with the deferred transfers the caller sends as further inputs (their source service ids are
//! what the service sees as the AVS). Commands are signed with real Ed25519 keys.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use ed25519_zebra::SigningKey;
use orrery_chain_spec::package::{local_account, offline_operand, refine_offline, Call};
use orrery_invocation::{
    accumulate, AccumulateOutput, AccumulationInput, DeferredTransfer, PartialState, ProgramCache,
    RefineOutput,
};
use orrery_restaking::memo::{Memo, MEMO_SIZE};
use orrery_restaking::store::*;
use orrery_restaking::wire::{decode_verdicts, signing_message, Action, Command, Key, Signed, Verdict};
use orrery_state::{ServiceAccount, ServiceInfo};
use orrery_types::{ChainSpec, ServiceId, WorkExecResult};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub const RESTAKING: ServiceId = 1 << 16;
/// The service's balance at genesis, for its storage deposits.
pub const BALANCE: u64 = 1_000_000_000_000;
/// Codeless accounts: an AVS, a service that is no set's AVS, the stakers' payee, a payer.
pub const AVS: ServiceId = 70_000;
pub const OTHER: ServiceId = 70_001;
pub const PAYEE: ServiceId = 70_002;
pub const PAYER: ServiceId = 70_003;

pub fn blob() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services/restaking/restaking.jam");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A deterministic key, the `seed`-th.
pub fn key(seed: u64) -> SigningKey {
    SigningKey::new(ChaCha8Rng::seed_from_u64(seed))
}

pub fn public(key: &SigningKey) -> Key {
    ed25519_zebra::VerificationKey::from(key).into()
}

pub fn sign(key: &SigningKey, nonce: u64, action: Action) -> Signed {
    let command = Command { signer: public(key), nonce, action };
    let signature = key.sign(&signing_message(&command)).to_bytes();
    Signed { command, signature }
}

/// A transfer to the service: `(source, amount, memo)`.
pub fn memo_transfer(source: ServiceId, amount: u64, memo: Memo) -> (ServiceId, u64, [u8; MEMO_SIZE]) {
    (source, amount, memo.encode())
}

pub struct Step {
    pub refined: Option<RefineOutput>,
    pub accumulated: AccumulateOutput,
}

impl Step {
    pub fn verdicts(&self) -> Vec<Verdict> {
        match &self.refined.as_ref().expect("a work item").result {
            WorkExecResult::Ok(out) => decode_verdicts(out).expect("refine's output decodes"),
            other => panic!("refine failed: {other:?}"),
        }
    }

    pub fn logs(&self) -> Vec<String> {
        self.accumulated.logs.iter().map(|l| String::from_utf8_lossy(&l.message).into_owned()).collect()
    }

    pub fn halted(&self) -> bool {
        self.accumulated.exit.map(|e| e.exit) == Some(orrery_pvm::Exit::Halt)
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
        let mut accounts = BTreeMap::from([(RESTAKING, account)]);
        for id in [AVS, OTHER, PAYEE, PAYER] {
            accounts.insert(id, ServiceAccount::new(ServiceInfo::default()));
        }
        Chain { spec: ChainSpec::tiny(), accounts, code_hash, cache: Default::default() }
    }

    fn partial(&self) -> PartialState {
        PartialState::local(&self.spec, self.accounts.clone(), 0)
    }

    /// Ψ_R of a one-item work package carrying `payload`, at `slot`: the package hash and output.
    pub fn refine(&self, slot: u32, payload: &[u8], gas: u64) -> ([u8; 32], RefineOutput) {
        let call = Call {
            service: RESTAKING,
            code_hash: self.code_hash,
            payload: payload.to_vec(),
            refine_gas: self.spec.max_refine_gas,
            accumulate_gas: gas,
        };
        refine_offline(&self.spec, call, slot, &self.accounts, Some(&self.cache))
    }

    /// Ψ_A at `slot` of `transfers` then (if given) one refined item `(package hash, payload,
    /// refine's output)`, with `gas`, against the current accounts, which it does not change.
    pub fn accumulate(
        &self,
        slot: u32,
        item: Option<([u8; 32], &[u8], &RefineOutput)>,
        transfers: &[(ServiceId, u64, [u8; MEMO_SIZE])],
        gas: u64,
    ) -> AccumulateOutput {
        let mut inputs: Vec<AccumulationInput> = transfers
            .iter()
            .map(|&(source, amount, memo)| {
                AccumulationInput::Transfer(DeferredTransfer {
                    source,
                    dest: RESTAKING,
                    amount,
                    memo,
                    gas: 0,
                })
            })
            .collect();
        if let Some((package_hash, payload, out)) = item {
            inputs.push(offline_operand(package_hash, payload, out.result.clone(), gas));
        }
        accumulate(&self.spec, &self.partial(), slot, RESTAKING, gas, &inputs, &[0; 32], Some(&self.cache))
    }

    /// Ψ_R of `payload` (if given) then [`Self::accumulate`], not keeping the result.
    pub fn run(
        &self,
        slot: u32,
        payload: Option<&[u8]>,
        transfers: &[(ServiceId, u64, [u8; MEMO_SIZE])],
        gas: u64,
    ) -> Step {
        let refined = payload.map(|p| self.refine(slot, p, gas));
        let item = match (&refined, payload) {
            (Some((hash, out)), Some(p)) => Some((*hash, p, out)),
            _ => None,
        };
        let accumulated = self.accumulate(slot, item, transfers, gas);
        Step { refined: refined.map(|(_, out)| out), accumulated }
    }

    /// [`Self::run`], keeping the result: the service's changes, and the amounts of its deferred
    /// transfers reaching their receivers (whose code, if any, is not run).
    pub fn step_with_gas(
        &mut self,
        slot: u32,
        payload: Option<&[u8]>,
        transfers: &[(ServiceId, u64, [u8; MEMO_SIZE])],
        gas: u64,
    ) -> Step {
        let step = self.run(slot, payload, transfers, gas);
        self.accounts = step.accumulated.changes.apply_to(&self.partial()).accounts;
        for t in &step.accumulated.transfers {
            if let Some(dest) = self.accounts.get_mut(&t.dest) {
                dest.info.balance += t.amount;
            }
        }
        step
    }

    pub fn step(
        &mut self,
        slot: u32,
        commands: &[Signed],
        transfers: &[(ServiceId, u64, [u8; MEMO_SIZE])],
    ) -> Step {
        let payload = (!commands.is_empty()).then(|| orrery_restaking::wire::encode_payload(commands));
        let step = self.step_with_gas(slot, payload.as_deref(), transfers, self.spec.max_accumulate_gas);
        assert!(step.halted(), "accumulate did not halt: {:?} {:?}", step.accumulated.exit, step.logs());
        step
    }

    pub fn storage(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.accounts[&RESTAKING].storage(key).map(<[u8]>::to_vec)
    }

    pub fn staker(&self, key: &Key) -> StakerRecord {
        StakerRecord::decode(&self.storage(&staker_key(key)).expect("staker stored")).expect("decodes")
    }

    pub fn operator(&self, key: &Key) -> OperatorRecord {
        OperatorRecord::decode(&self.storage(&operator_key(key)).expect("operator stored")).expect("decodes")
    }

    pub fn totals(&self) -> Totals {
        Totals::decode(&self.storage(TOTALS_KEY).expect("totals stored")).expect("decodes")
    }

    pub fn log(&self) -> Vec<LogEntry> {
        (0..self.totals().log_len)
            .map(|n| LogEntry::decode(&self.storage(&log_key(n)).expect("log entry")).expect("decodes"))
            .collect()
    }

    /// The service's whole storage, for "nothing changed" checks.
    pub fn snapshot(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.accounts[&RESTAKING].entries().map(|(k, v)| (k.as_ref().to_vec(), v.to_vec())).collect()
    }

    pub fn balance(&self, id: ServiceId) -> u64 {
        self.accounts[&id].info.balance
    }
}
