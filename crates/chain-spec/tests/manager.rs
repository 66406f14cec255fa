//! The manager (`services/manager/manager.jam`, as committed) run through Ψ_R and Ψ_A on a local
//! chain: its deploy by hash, designate, solicit, forget, retire and eject commands, laid out by this crate's
//! builders. Each step is a one-item package accumulated at a slot the test chooses; the
//! provisions of `provide` and a block's preimage extrinsic are integrated by the STF's own
//! preimages rule (GP 0.7.2 §12.4). Expected request histories and validator keys are worked by
//! hand from the paper's host calls (§B.7), with tiny's `V` = 6 and `D` = 32.

use std::collections::BTreeMap;

use orrery_chain_spec::package::{
    local_account, manager_deploy, manager_deploy_by_hash, manager_designate, manager_eject, manager_forget,
    manager_retire, manager_solicit, offline_operand, refine_offline, Call, MANAGER_LAST,
};
use orrery_codec::Encode;
use orrery_crypto::blake2b_256;
use orrery_invocation::{accumulate, AccumulateOutput, PartialState};
use orrery_state::{ServiceAccount, ServicesStatistics, ValidatorData, ValidatorsData};
use orrery_types::{ChainSpec, Preimage, ServiceId, WorkExecResult};

const MANAGER_BLOB: &[u8] = include_bytes!("../../../services/manager/manager.jam");
const MANAGER: ServiceId = 0;
const BALANCE: u64 = 1_000_000_000_000;
/// Tiny's `V` × 336: the length of a whole validator set's keys.
const KEYS_LEN: usize = 6 * 336;

struct Chain {
    spec: ChainSpec,
    accounts: BTreeMap<ServiceId, ServiceAccount>,
    staging: ValidatorsData,
}

struct Step {
    refined: WorkExecResult,
    logs: Vec<String>,
}

impl Step {
    fn assert_logged(&self, text: &str) {
        assert!(self.logs.iter().any(|l| l.contains(text)), "no {text:?} in {:?}", self.logs);
    }
}

impl Chain {
    /// Service 0 runs the manager and holds every privilege, as in a dev genesis.
    fn new() -> Self {
        let (_, account) = local_account(MANAGER_BLOB, BALANCE);
        let spec = ChainSpec::tiny();
        let staging = ValidatorsData(vec![ValidatorData::NULL; spec.validators_count.into()]);
        Chain { spec, accounts: BTreeMap::from([(MANAGER, account)]), staging }
    }

    fn partial(&self) -> PartialState {
        PartialState {
            staging: self.staging.clone(),
            ..PartialState::local(&self.spec, self.accounts.clone(), MANAGER)
        }
    }

    /// Refines `payload` for `service` and accumulates the output at `slot`; the state changes
    /// only when both succeed. Provisions are integrated and transfers credited after it.
    fn step(&mut self, service: ServiceId, slot: u32, payload: &[u8]) -> Step {
        let code_hash = self.accounts[&service].info.code_hash;
        let gas = self.spec.max_accumulate_gas;
        let call = Call {
            service,
            code_hash,
            payload: payload.to_vec(),
            refine_gas: self.spec.max_refine_gas,
            accumulate_gas: gas,
        };
        let (package_hash, refined) = refine_offline(&self.spec, call, slot, &self.accounts, None);
        if !matches!(refined.result, WorkExecResult::Ok(_)) {
            return Step { refined: refined.result, logs: Vec::new() };
        }
        let operand = offline_operand(package_hash, payload, refined.result.clone(), gas);
        let partial = self.partial();
        let out: AccumulateOutput =
            accumulate(&self.spec, &partial, slot, service, gas, &[operand], &[0; 32], None);
        assert!(out.exit.is_some_and(|e| e.exit == orrery_pvm::Exit::Halt), "accumulate: {:?}", out.exit);
        let after = out.changes.apply_to(&partial);
        self.accounts = after.accounts;
        self.staging = after.staging;
        let provided: Vec<Preimage> = out
            .provisions
            .iter()
            .map(|(requester, blob)| Preimage { requester: *requester, blob: blob.clone() })
            .collect();
        orrery_stf::preimages::integrate(&mut self.accounts, &provided, slot);
        // The transfers' amounts reach their receivers (the manager's code ignores transfers).
        for t in &out.transfers {
            self.accounts.get_mut(&t.dest).expect("the receiver exists").info.balance += t.amount;
        }
        let logs = out.logs.iter().map(|l| String::from_utf8_lossy(&l.message).into_owned()).collect();
        Step { refined: refined.result, logs }
    }

    /// A block's preimage extrinsic providing `blob` to the manager at `slot`: it must be valid
    /// (requested and not yet provided).
    fn provide(&mut self, slot: u32, blob: &[u8]) {
        self.provide_to(MANAGER, slot, blob)
    }

    fn provide_to(&mut self, requester: ServiceId, slot: u32, blob: &[u8]) {
        let preimages = [Preimage { requester, blob: blob.to_vec() }];
        let (accounts, _) =
            orrery_stf::preimages::apply(&self.accounts, &ServicesStatistics::default(), &preimages, slot)
                .expect("the preimage is solicited and not yet provided");
        self.accounts = accounts;
    }

    fn request(&self, service: ServiceId, hash: &[u8; 32], len: usize) -> Option<Vec<u32>> {
        self.accounts[&service].request(hash, len as u32).map(|r| r.expect("a well-formed request"))
    }
}

/// `V` validators' keys whose every octet tells its validator and place: validator `i`'s octet
/// `j` is `(7i + j) mod 251`.
fn keys() -> Vec<u8> {
    (0..KEYS_LEN).map(|n| ((7 * (n / 336) + n % 336) % 251) as u8).collect()
}

#[test]
fn designate_makes_a_provided_blob_of_v_times_336_octets_the_next_keys_and_ignores_other_lengths() {
    let mut chain = Chain::new();
    let keys = keys();
    let hash = blake2b_256(&keys);
    let step = chain.step(MANAGER, 1, &manager_solicit(&hash, KEYS_LEN as u32));
    step.assert_logged("solicit: done");
    assert_eq!(chain.request(MANAGER, &hash, KEYS_LEN), Some(vec![]));

    // Before the preimage is provided, designate finds nothing and changes nothing.
    let step = chain.step(MANAGER, 2, &manager_designate(&hash));
    step.assert_logged("designate: the manager holds no preimage");
    assert!(chain.staging.iter().all(|k| *k == ValidatorData::NULL));

    chain.provide(3, &keys);
    assert_eq!(chain.request(MANAGER, &hash, KEYS_LEN), Some(vec![3]));
    let step = chain.step(MANAGER, 4, &manager_designate(&hash));
    step.assert_logged("designate: the next 6 validators designated");
    // ι is exactly those keys: validator 1's Bandersnatch key starts at octet 336 (7, 8, …), its
    // Ed25519 key 32 octets later (39, …), validator 5's metadata ends with (35 + 335) mod 251.
    assert_eq!(chain.staging.encode(), keys);
    let one = chain.staging.get(1).unwrap();
    assert_eq!(one.bandersnatch[..3], [7, 8, 9]);
    assert_eq!(one.ed25519[0], 39);
    assert_eq!(chain.staging.get(5).unwrap().metadata[127], 119);

    // A provided blob one octet short of V × 336: logged, ι unchanged.
    let short = &keys[1..];
    let short_hash = blake2b_256(short);
    chain.step(MANAGER, 5, &manager_solicit(&short_hash, short.len() as u32));
    chain.provide(6, short);
    let before = chain.accounts.clone();
    let step = chain.step(MANAGER, 7, &manager_designate(&short_hash));
    step.assert_logged("designate: the preimage is 2015 octets, not V x 336 = 2016");
    assert_eq!(chain.staging.encode(), keys);
    assert_eq!(chain.accounts, before);
}

#[test]
fn solicit_and_forget_follow_the_papers_request_histories() {
    let mut chain = Chain::new();
    let blob = b"a preimage of 24 octets!";
    let (hash, len) = (blake2b_256(blob), blob.len());
    // Absent → [] (solicit); [] → removed (forget).
    chain.step(MANAGER, 1, &manager_solicit(&hash, len as u32)).assert_logged("solicit: done, 24 octets");
    assert_eq!(chain.request(MANAGER, &hash, len), Some(vec![]));
    // Soliciting what is already requested and not provided: HUH, nothing changes.
    let before = chain.accounts.clone();
    chain.step(MANAGER, 2, &manager_solicit(&hash, len as u32)).assert_logged("solicit: solicit failed: Huh");
    assert_eq!(chain.accounts, before);
    chain.step(MANAGER, 3, &manager_forget(&hash, len as u32)).assert_logged("forget: done, 24 octets");
    assert_eq!(chain.request(MANAGER, &hash, len), None);
    // Forgetting what is not requested: HUH.
    chain.step(MANAGER, 4, &manager_forget(&hash, len as u32)).assert_logged("forget: forget failed: Huh");

    // Solicited, provided at 6: [6]; forgotten at 7: [6, 7], the preimage kept until expunged.
    chain.step(MANAGER, 5, &manager_solicit(&hash, len as u32));
    chain.provide(6, blob);
    assert_eq!(chain.request(MANAGER, &hash, len), Some(vec![6]));
    chain.step(MANAGER, 7, &manager_forget(&hash, len as u32)).assert_logged("forget: done");
    assert_eq!(chain.request(MANAGER, &hash, len), Some(vec![6, 7]));
    assert_eq!(chain.accounts[&MANAGER].preimage(&hash), Some(&blob[..]));
    // Solicited again at 8: [6, 7, 8]. A forget at 9 needs 7 < 9 − D: HUH, unchanged.
    chain.step(MANAGER, 8, &manager_solicit(&hash, len as u32)).assert_logged("solicit: done");
    assert_eq!(chain.request(MANAGER, &hash, len), Some(vec![6, 7, 8]));
    let before = chain.accounts.clone();
    chain.step(MANAGER, 9, &manager_forget(&hash, len as u32)).assert_logged("forget: forget failed: Huh");
    assert_eq!(chain.accounts, before);
    // At 40, 7 < 40 − 32: [x, y, w] → [w, t] = [8, 40].
    chain.step(MANAGER, 40, &manager_forget(&hash, len as u32)).assert_logged("forget: done");
    assert_eq!(chain.request(MANAGER, &hash, len), Some(vec![8, 40]));
}

#[test]
fn a_retired_copy_is_ejected_only_after_d_slots_and_its_balance_comes_to_the_manager() {
    let mut chain = Chain::new();
    let code_hash = blake2b_256(MANAGER_BLOB);
    let code_len = MANAGER_BLOB.len();
    // The manager deploys a copy of itself with an endowment; its code is provided at slot 1.
    chain
        .step(MANAGER, 1, &manager_deploy(1_000, 1_000, 5_000, MANAGER_BLOB))
        .assert_logged("deployed service");
    let last = chain.accounts[&MANAGER].storage(MANAGER_LAST).unwrap();
    let copy = u32::from_le_bytes(last.try_into().unwrap());
    assert_eq!(chain.request(copy, &code_hash, code_len), Some(vec![1]));

    // Retire at 2 (sent to the copy): [1] → [1, 2], code hash E32(0), gas minimums kept.
    let step = chain.step(copy, 2, &manager_retire(MANAGER, code_len as u32));
    step.assert_logged("retire: retired, ejectable by 0");
    let retired = &chain.accounts[&copy];
    assert_eq!(chain.request(copy, &code_hash, code_len), Some(vec![1, 2]));
    assert_eq!(retired.info.code_hash, [0; 32]);
    assert_eq!((retired.info.min_item_gas, retired.info.min_memo_gas), (1_000, 1_000));

    // At 34, 2 < 34 − 32 fails: HUH, nothing changes.
    let (manager_before, copy_balance) = (chain.accounts[&MANAGER].info.balance, retired.info.balance);
    assert!(copy_balance >= 5_000);
    let before = chain.accounts.clone();
    let step = chain.step(MANAGER, 34, &manager_eject(copy, &code_hash));
    step.assert_logged(&format!("eject: ejecting service {copy} failed: Huh"));
    assert_eq!(chain.accounts, before);
    // A wrong hash at 35: HUH as well.
    let step = chain.step(MANAGER, 35, &manager_eject(copy, &[1; 32]));
    step.assert_logged("failed: Huh");
    assert_eq!(chain.accounts, before);

    // At 35 with the code's hash: the copy is gone and its whole balance is the manager's.
    let step = chain.step(MANAGER, 35, &manager_eject(copy, &code_hash));
    step.assert_logged(&format!("eject: ejected service {copy}"));
    assert!(!chain.accounts.contains_key(&copy));
    assert_eq!(chain.accounts[&MANAGER].info.balance, manager_before + copy_balance);
}

/// Code larger than a work result carries: the manager creates the service with the code's hash
/// and length and no code; the new account requests it (`new` makes every account do so, GP 0.7.2
/// §B.7), and a block's preimage extrinsic provides it.
#[test]
fn a_deploy_by_hash_creates_a_service_that_requests_its_code() {
    let mut chain = Chain::new();
    // Any code will do: the manager's own blob, as a stand-in for one of more than 48 KiB.
    let (code_hash, code_len) = (blake2b_256(MANAGER_BLOB), MANAGER_BLOB.len());
    let step =
        chain.step(MANAGER, 3, &manager_deploy_by_hash(1_000, 2_000, 7_000, &code_hash, code_len as u32));
    step.assert_logged(&format!("its code ({code_len} octets) requested as a preimage"));
    let last = chain.accounts[&MANAGER].storage(MANAGER_LAST).unwrap();
    let id = u32::from_le_bytes(last.try_into().unwrap());
    let account = &chain.accounts[&id];
    assert_eq!(account.info.code_hash, code_hash);
    assert_eq!((account.info.min_item_gas, account.info.min_memo_gas), (1_000, 2_000));
    assert!(account.info.balance >= 7_000);
    assert_eq!(account.code_blob(), None, "no code until a preimage extrinsic brings it");
    assert_eq!(chain.request(id, &code_hash, code_len), Some(vec![]), "requested, not provided");
    let mut deployed = b"deployed:".to_vec();
    deployed.extend_from_slice(&id.to_le_bytes());
    assert_eq!(chain.accounts[&MANAGER].storage(&deployed), Some(&code_hash[..]));

    chain.provide_to(id, 4, MANAGER_BLOB);
    assert_eq!(chain.accounts[&id].code_blob(), Some(MANAGER_BLOB));
    assert_eq!(chain.request(id, &code_hash, code_len), Some(vec![4]));

    // A length of zero or above `W_C` (4,000,000) is refused in refine.
    for len in [0, 4_000_001] {
        let step = chain.step(MANAGER, 5, &manager_deploy_by_hash(1, 1, 1, &code_hash, len));
        assert_eq!(step.refined, WorkExecResult::Panic, "length {len}");
    }
}

#[test]
fn every_command_of_the_wrong_shape_panics_refine() {
    let mut chain = Chain::new();
    let hash = [0xab; 32];
    let good = [
        vec![1u8; 21],
        manager_designate(&hash),
        manager_solicit(&hash, 1),
        manager_forget(&hash, 1),
        manager_retire(1, 1),
        manager_eject(1, &hash),
        manager_deploy_by_hash(1, 1, 1, &hash, 1),
    ];
    for payload in &good {
        let mut long = payload.clone();
        long.push(0);
        let short = &payload[..payload.len() - 1];
        for bad in [&long[..], short] {
            let step = chain.step(MANAGER, 1, bad);
            assert_eq!(step.refined, WorkExecResult::Panic, "command {} of {} octets", bad[0], bad.len());
        }
    }
    for bad in [&[][..], &[9], &[255, 0, 0]] {
        assert_eq!(chain.step(MANAGER, 1, bad).refined, WorkExecResult::Panic, "{bad:?}");
    }
    // Nothing was accumulated: the manager's account is as it started.
    assert_eq!(chain.accounts.len(), 1);
    assert_eq!(chain.accounts[&MANAGER].info.balance, BALANCE);
}
