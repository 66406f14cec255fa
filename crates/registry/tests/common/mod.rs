//! A local chain for the committed `services/registry/registry.jam`: each step is a one-item work
//! package refined by Ψ_R and accumulated by Ψ_A (the invocation crate, as `orrery service run`
//! does), or an accumulation of deferred transfers from other services, at a slot the caller
//! chooses; commands are signed with real Ed25519 keys.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use ed25519_zebra::SigningKey;
use orrery_chain_spec::package::{local_account, offline_operand, refine_offline, Call};
use orrery_invocation::{
    accumulate, AccumulateOutput, AccumulationInput, DeferredTransfer, PartialState, ProgramCache,
    RefineOutput,
};
use orrery_registry::store::*;
use orrery_registry::wire::{decode_verdicts, signing_message, Command, Principal, Signed, Verdict};
use orrery_state::ServiceAccount;
use orrery_types::{ChainSpec, ServiceId, WorkExecResult};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub const REGISTRY: ServiceId = 1 << 16;
pub const BALANCE: u64 = 1_000_000_000_000;

pub fn blob() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services/registry/registry.jam");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A deterministic key, the `seed`-th.
pub fn key(seed: u64) -> SigningKey {
    SigningKey::new(ChaCha8Rng::seed_from_u64(seed))
}

pub fn public(key: &SigningKey) -> [u8; 32] {
    ed25519_zebra::VerificationKey::from(key).into()
}

/// The principal a key acts as.
pub fn principal(key: &SigningKey) -> Principal {
    Principal::Key(public(key))
}

pub fn sign(key: &SigningKey, nonce: u64, command: Command) -> Signed {
    let signer = public(key);
    let signature = key.sign(&signing_message(&signer, nonce, &command)).to_bytes();
    Signed { signer, nonce, command, signature }
}

pub struct Step {
    pub refined: Option<RefineOutput>,
    pub accumulated: Option<AccumulateOutput>,
}

impl Step {
    pub fn verdicts(&self) -> Vec<Verdict> {
        match &self.refined.as_ref().expect("a refined item").result {
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

    /// The logs that report a refusal.
    pub fn refusals(&self) -> Vec<String> {
        self.logs().into_iter().filter(|l| l.contains("refused")).collect()
    }

    pub fn refine_gas(&self) -> u64 {
        self.refined.as_ref().expect("a refined item").gas_used
    }

    pub fn accumulate_gas(&self) -> u64 {
        self.accumulated.as_ref().expect("an accumulation").gas_used
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
        let accounts = BTreeMap::from([(REGISTRY, account)]);
        Chain { spec: ChainSpec::tiny(), accounts, code_hash, cache: Default::default() }
    }

    fn partial(&self) -> PartialState {
        PartialState::local(&self.spec, self.accounts.clone(), 0)
    }

    /// Ψ_R of `payload` as one work item of a package for the registry.
    pub fn refine(&self, slot: u32, payload: &[u8]) -> ([u8; 32], RefineOutput) {
        let call = Call {
            service: REGISTRY,
            code_hash: self.code_hash,
            payload: payload.to_vec(),
            refine_gas: self.spec.max_refine_gas,
            accumulate_gas: self.spec.max_accumulate_gas,
        };
        refine_offline(&self.spec, call, slot, &self.accounts, Some(&self.cache))
    }

    /// The operand accumulate sees for a refined item.
    pub fn operand(
        package_hash: [u8; 32],
        payload: &[u8],
        refined: &RefineOutput,
        gas: u64,
    ) -> AccumulationInput {
        offline_operand(package_hash, payload, refined.result.clone(), gas)
    }

    /// Ψ_A of `inputs` at `slot` with `gas`, against the current accounts (which it does not change).
    pub fn accumulate_output(&self, slot: u32, inputs: &[AccumulationInput], gas: u64) -> AccumulateOutput {
        accumulate(&self.spec, &self.partial(), slot, REGISTRY, gas, inputs, &[0; 32], Some(&self.cache))
    }

    /// Ψ_A of `inputs` at `slot` with `gas`, kept.
    pub fn accumulate_inputs(
        &mut self,
        slot: u32,
        inputs: &[AccumulationInput],
        gas: u64,
    ) -> AccumulateOutput {
        let out = self.accumulate_output(slot, inputs, gas);
        self.accounts = out.changes.apply_to(&self.partial()).accounts;
        out
    }

    /// Refines `payload` and accumulates the result at `slot` with `G_A`.
    pub fn step(&mut self, slot: u32, payload: &[u8]) -> Step {
        let (package_hash, refined) = self.refine(slot, payload);
        if !matches!(refined.result, WorkExecResult::Ok(_)) {
            return Step { refined: Some(refined), accumulated: None };
        }
        let gas = self.spec.max_accumulate_gas;
        let input = Self::operand(package_hash, payload, &refined, gas);
        let out = self.accumulate_inputs(slot, &[input], gas);
        Step { refined: Some(refined), accumulated: Some(out) }
    }

    /// Accumulates, at `slot`, one deferred transfer from service `source` with `memo`.
    pub fn transfer(&mut self, slot: u32, source: ServiceId, amount: u64, memo: [u8; 128]) -> Step {
        let t = DeferredTransfer { source, dest: REGISTRY, amount, memo, gas: 0 };
        let out =
            self.accumulate_inputs(slot, &[AccumulationInput::Transfer(t)], self.spec.max_accumulate_gas);
        Step { refined: None, accumulated: Some(out) }
    }

    pub fn storage(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.accounts[&REGISTRY].storage(key).map(<[u8]>::to_vec)
    }

    pub fn agent(&self, id: u64) -> AgentRecord {
        AgentRecord::decode(&self.storage(&agent_key(id)).expect("agent stored")).expect("decodes")
    }

    pub fn feedback(&self, agent: u64, client: &Principal, index: u64) -> FeedbackRecord {
        FeedbackRecord::decode(&self.storage(&feedback_key(agent, client, index)).expect("feedback stored"))
            .expect("decodes")
    }

    pub fn client(&self, agent: u64, client: &Principal) -> ClientRecord {
        ClientRecord::decode(&self.storage(&client_key(agent, client)).expect("client stored"))
            .expect("decodes")
    }

    /// The running sum for these tags (empty: any); the default when none was stored.
    pub fn summary(&self, agent: u64, tag1: &[u8], tag2: &[u8]) -> Summary {
        self.storage(&summary_key(agent, tag1, tag2))
            .map_or_else(Summary::default, |v| Summary::decode(&v).expect("decodes"))
    }

    pub fn request(&self, hash: &[u8; 32]) -> RequestRecord {
        RequestRecord::decode(&self.storage(&request_key(hash)).expect("request stored")).expect("decodes")
    }

    pub fn validations(&self, agent: u64) -> ValidationSummary {
        ValidationSummary::decode(&self.storage(&validation_key(agent)).expect("summary stored"))
            .expect("decodes")
    }

    /// The registry's whole storage and its balance, for "nothing changed" checks.
    pub fn snapshot(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let account = &self.accounts[&REGISTRY];
        let mut entries: Vec<_> = account.entries().map(|(k, v)| (k.as_ref().to_vec(), v.to_vec())).collect();
        entries.push((b"balance".to_vec(), account.info.balance.to_le_bytes().to_vec()));
        entries
    }
}
