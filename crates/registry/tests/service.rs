//! The `registry` service (`services/registry/registry.jam`, as committed) run through Ψ_R and Ψ_A:
//! every command's happy path read back from storage, with expected values worked by hand in the
//! comments; feedback from another service by a transfer's memo; then bad input, each refused with
//! a clear result (refine's verdict or accumulate's log naming the refusal) and nothing changed.

mod common;

use common::*;
use orrery_registry::store::{metadata_key, nonce_key, AGENTS_KEY};
use orrery_registry::wire::{
    encode_memo, encode_payload, Command, Feedback, Principal, Refusal, Signed, Verdict, MAX_METADATA,
    MEMO_MAGIC, MEMO_SIZE,
};

const E18: i128 = 1_000_000_000_000_000_000;

fn feedback(agent: u64, value: i128, decimals: u8, tag1: &str, tag2: &str) -> Command {
    Command::GiveFeedback(Feedback {
        agent,
        value,
        decimals,
        tag1: tag1.as_bytes().to_vec(),
        tag2: tag2.as_bytes().to_vec(),
        endpoint: vec![],
        uri: vec![],
        hash: None,
    })
}

fn register(uri: &str) -> Command {
    Command::Register { uri: uri.as_bytes().to_vec(), metadata: vec![] }
}

/// Applies `commands` at `slot`, asserting every one is accepted and applied.
fn ok(chain: &mut Chain, slot: u32, commands: &[Signed]) {
    let step = chain.step(slot, &encode_payload(commands));
    assert!(step.verdicts().iter().all(|v| matches!(v, Verdict::Accepted { .. })), "{:?}", step.verdicts());
    assert!(step.refusals().is_empty(), "{:?}", step.logs());
}

#[test]
fn identity_register_update_metadata_and_transfer() {
    let mut chain = Chain::new();
    let (alice, bob) = (key(1), key(2));
    let metadata = vec![
        (b"name".to_vec(), b"alice".to_vec()),
        (b"model".to_vec(), b"x".to_vec()),
        (b"name".to_vec(), b"alice2".to_vec()),
    ];
    let uri = b"https://a.example/agent.json".to_vec();
    ok(
        &mut chain,
        1,
        &[
            sign(&alice, 1, Command::Register { uri: uri.clone(), metadata }),
            sign(&bob, 1, register("ipfs://bob")),
        ],
    );
    // Ids in order from 0; "name" given twice counts once and keeps its last value.
    assert_eq!(chain.storage(AGENTS_KEY), Some(2u64.to_le_bytes().to_vec()));
    let a = chain.agent(0);
    assert_eq!((a.owner, a.registered, a.updated, a.metadata, a.uri), (principal(&alice), 1, 1, 2, uri));
    assert_eq!(chain.storage(&metadata_key(0, b"name")), Some(b"alice2".to_vec()));
    assert_eq!(chain.storage(&metadata_key(0, b"model")), Some(b"x".to_vec()));
    assert_eq!(chain.agent(1).owner, principal(&bob));
    assert_eq!(chain.agent(1).metadata, 0);

    ok(
        &mut chain,
        2,
        &[
            sign(&alice, 2, Command::SetAgentUri { agent: 0, uri: b"ipfs://new".to_vec() }),
            sign(&alice, 3, Command::SetMetadata { agent: 0, key: b"model".to_vec(), value: vec![] }),
            sign(&alice, 4, Command::SetMetadata { agent: 0, key: b"role".to_vec(), value: b"r".to_vec() }),
        ],
    );
    let a = chain.agent(0);
    assert_eq!((a.uri.as_slice(), a.updated, a.metadata), (&b"ipfs://new"[..], 2, 2));
    assert_eq!(chain.storage(&metadata_key(0, b"model")), None);
    assert_eq!(chain.storage(&metadata_key(0, b"role")), Some(b"r".to_vec()));
    assert_eq!(chain.storage(&nonce_key(&public(&alice))), Some(4u64.to_le_bytes().to_vec()));

    // Given to service 70000, which then updates it by memo; its former owner may not.
    ok(
        &mut chain,
        3,
        &[sign(&alice, 5, Command::TransferAgent { agent: 0, owner: Principal::Service(70_000) })],
    );
    assert_eq!(chain.agent(0).owner, Principal::Service(70_000));
    let before = chain.snapshot();
    let step =
        chain.step(4, &encode_payload(&[sign(&alice, 6, Command::SetAgentUri { agent: 0, uri: vec![] })]));
    assert_eq!(step.refusals(), ["command 0 refused: NotOwner"]);
    assert!(chain.snapshot() == before);
    let memo = encode_memo(&Command::SetAgentUri { agent: 0, uri: b"ipfs://svc".to_vec() }).unwrap();
    let step = chain.transfer(5, 70_000, 0, memo);
    assert!(step.refusals().is_empty(), "{:?}", step.logs());
    assert_eq!((chain.agent(0).uri.as_slice(), chain.agent(0).updated), (&b"ipfs://svc"[..], 5));
}

#[test]
fn reputation_feedback_summaries_revocation_and_responses() {
    let mut chain = Chain::new();
    let (owner, c2, c3, anyone) = (key(1), key(2), key(3), key(4));
    ok(&mut chain, 1, &[sign(&owner, 1, register("ipfs://agent"))]);
    ok(
        &mut chain,
        2,
        &[
            sign(&c2, 1, feedback(0, 87, 0, "starred", "")),
            sign(&c2, 2, feedback(0, 9977, 2, "uptime", "")),
            sign(&c3, 1, feedback(0, -32, 1, "tradingYield", "week")),
            sign(&c3, 2, feedback(0, 90, 0, "starred", "week")),
        ],
    );
    let (p2, p3) = (principal(&c2), principal(&c3));
    let f = chain.feedback(0, &p3, 1);
    assert_eq!(
        (f.value, f.decimals, &f.tag1[..], &f.tag2[..], f.revoked, f.slot),
        (-32, 1, &b"tradingYield"[..], &b"week"[..], false, 2)
    );
    // In units of 10⁻¹⁸: 87 + 99.77 − 3.2 + 90 = 273.57 over all four.
    let all = chain.summary(0, b"", b"");
    assert_eq!((all.count, all.sum), (4, 27_357 * E18 / 100));
    assert_eq!(
        (chain.summary(0, b"starred", b"").count, chain.summary(0, b"starred", b"").sum),
        (2, 177 * E18)
    );
    assert_eq!(chain.summary(0, b"starred", b"week").sum, 90 * E18);
    // tag2 "week" alone: −3.2 + 90 = 86.8.
    let week = chain.summary(0, b"", b"week");
    assert_eq!((week.count, week.sum), (2, 868 * E18 / 10));
    assert_eq!(chain.summary(0, b"uptime", b"").sum, 9977 * E18 / 100);
    // Per client: c2 87 + 99.77 = 186.77.
    let client = chain.client(0, &p2);
    assert_eq!((client.last_index, client.summary.count, client.summary.sum), (2, 2, 18_677 * E18 / 100));
    assert_eq!(chain.client(0, &p3).last_index, 2);

    // c2 revokes its "starred" 87: it leaves every sum it was in; its index stays used.
    ok(&mut chain, 3, &[sign(&c2, 3, Command::RevokeFeedback { agent: 0, index: 1 })]);
    assert!(chain.feedback(0, &p2, 1).revoked);
    let all = chain.summary(0, b"", b"");
    assert_eq!((all.count, all.sum), (3, 18_657 * E18 / 100));
    let starred = chain.summary(0, b"starred", b"");
    assert_eq!((starred.count, starred.sum), (1, 90 * E18));
    let client = chain.client(0, &p2);
    assert_eq!((client.last_index, client.summary.count, client.summary.sum), (2, 1, 9977 * E18 / 100));

    // Anyone may respond, the agent's owner too.
    let respond = |n| Command::AppendResponse {
        agent: 0,
        client: p3,
        index: 2,
        uri: format!("ipfs://r{n}").into_bytes(),
        hash: Some([n; 32]),
    };
    ok(&mut chain, 4, &[sign(&owner, 2, respond(1)), sign(&anyone, 1, respond(2))]);
    assert_eq!(chain.feedback(0, &p3, 2).responses, 2);
}

#[test]
fn validation_requests_and_responses() {
    let mut chain = Chain::new();
    let (owner, validator) = (key(1), key(5));
    let (h1, h2) = ([0x11; 32], [0x22; 32]);
    let request = |validator, hash| Command::RequestValidation {
        validator,
        agent: 0,
        uri: b"ipfs://job".to_vec(),
        hash,
    };
    ok(
        &mut chain,
        1,
        &[
            sign(&owner, 1, register("ipfs://agent")),
            sign(&owner, 2, request(principal(&validator), h1)),
            sign(&owner, 3, request(Principal::Service(70_001), h2)),
        ],
    );
    let r = chain.request(&h1);
    assert_eq!(
        (r.validator, r.agent, r.requested, r.response, r.last_update),
        (principal(&validator), 0, 1, None, 1)
    );
    let v = chain.validations(0);
    assert_eq!((v.requests, v.responded, v.sum), (2, 0, 0));

    let respond = |response, tag: &str, hash| Command::RespondValidation {
        request: h1,
        response,
        uri: vec![],
        hash,
        tag: tag.as_bytes().to_vec(),
    };
    ok(&mut chain, 2, &[sign(&validator, 1, respond(80, "soft", None))]);
    let r = chain.request(&h1);
    assert_eq!((r.response, &r.tag[..], r.last_update), (Some(80), &b"soft"[..], 2));
    assert_eq!((chain.validations(0).responded, chain.validations(0).sum), (1, 80));
    // A second response replaces the first in the summary.
    ok(&mut chain, 3, &[sign(&validator, 2, respond(100, "hard", Some([7; 32])))]);
    let r = chain.request(&h1);
    assert_eq!(
        (r.response, &r.tag[..], r.response_hash, r.last_update),
        (Some(100), &b"hard"[..], [7; 32], 3)
    );
    assert_eq!((chain.validations(0).responded, chain.validations(0).sum), (1, 100));
    // Service 70001 answers its request by memo: (100 + 51) / 2 = 75.5, averaged down to 75.
    let memo = encode_memo(&Command::RespondValidation {
        request: h2,
        response: 51,
        uri: vec![],
        hash: None,
        tag: vec![],
    })
    .unwrap();
    let step = chain.transfer(4, 70_001, 0, memo);
    assert!(step.refusals().is_empty(), "{:?}", step.logs());
    let v = chain.validations(0);
    assert_eq!((v.requests, v.responded, v.sum, v.average()), (2, 2, 151, 75));
    assert_eq!(chain.request(&h2).response, Some(51));
}

/// The demo's path: a service gives feedback by a deferred transfer whose memo carries the command;
/// a memo without the magic is a plain payment; a bad memo is refused and changes nothing.
#[test]
fn feedback_from_another_service_by_transfer_memo() {
    let mut chain = Chain::new();
    ok(&mut chain, 1, &[sign(&key(1), 1, register("ipfs://miner0"))]);
    let memo = encode_memo(&feedback(0, 87, 0, "incentive", "subnet0")).unwrap();
    let step = chain.transfer(2, 70_000, 0, memo);
    assert!(step.refusals().is_empty(), "{:?}", step.logs());
    let service = Principal::Service(70_000);
    let f = chain.feedback(0, &service, 1);
    assert_eq!((f.value, &f.tag1[..], &f.tag2[..], f.slot), (87, &b"incentive"[..], &b"subnet0"[..], 2));
    assert_eq!(chain.summary(0, b"incentive", b"").sum, 87 * E18);
    assert_eq!(chain.client(0, &service).last_index, 1);
    // The next one from the same service is its feedback 2.
    chain.transfer(3, 70_000, 0, encode_memo(&feedback(0, 90, 0, "incentive", "subnet0")).unwrap());
    let s = chain.summary(0, b"incentive", b"subnet0");
    assert_eq!((s.count, s.sum), (2, 177 * E18));

    // A payment: the balance rises by the amount, nothing else changes, nothing is logged.
    let before = chain.snapshot();
    let balance = chain.accounts[&REGISTRY].info.balance;
    let step = chain.transfer(4, 70_000, 500, [0; MEMO_SIZE]);
    assert!(step.logs().is_empty(), "{:?}", step.logs());
    assert_eq!(chain.accounts[&REGISTRY].info.balance, balance + 500);
    assert!(chain.snapshot()[..before.len() - 1] == before[..before.len() - 1]);

    let refused = |chain: &mut Chain, source, memo, why: Refusal| {
        let before = chain.snapshot();
        let step = chain.transfer(5, source, 0, memo);
        assert_eq!(step.logs(), [format!("memo from service {source} refused: {why:?}")]);
        assert!(chain.snapshot() == before, "{why:?} changed the storage");
    };
    let mut garbage = [0xee; MEMO_SIZE];
    garbage[..7].copy_from_slice(MEMO_MAGIC);
    refused(&mut chain, 70_000, garbage, Refusal::Malformed);
    let mut wrong_version = encode_memo(&feedback(0, 1, 0, "", "")).unwrap();
    wrong_version[7] = 2;
    refused(&mut chain, 70_000, wrong_version, Refusal::Malformed);
    refused(&mut chain, 70_000, encode_memo(&feedback(9, 1, 0, "", "")).unwrap(), Refusal::UnknownAgent);
    refused(&mut chain, 70_000, encode_memo(&feedback(0, 1, 19, "", "")).unwrap(), Refusal::BadDecimals);
    // A service that registered an agent may not rate it.
    chain.transfer(6, 70_002, 0, encode_memo(&register("ipfs://svc")).unwrap());
    assert_eq!(chain.agent(1).owner, Principal::Service(70_002));
    refused(&mut chain, 70_002, encode_memo(&feedback(1, 1, 0, "", "")).unwrap(), Refusal::SelfFeedback);
    // Nor revoke another's feedback.
    refused(
        &mut chain,
        70_002,
        encode_memo(&Command::RevokeFeedback { agent: 0, index: 1 }).unwrap(),
        Refusal::UnknownFeedback,
    );
}

/// A 32-octet string that is not an Ed25519 point, found by asking ed25519-zebra.
fn not_a_point() -> [u8; 32] {
    (0u8..=255)
        .map(|i| {
            let mut k = [i; 32];
            k[31] &= 0x7f;
            k
        })
        .find(|k| ed25519_zebra::VerificationKey::try_from(*k).is_err())
        .expect("some y has no x")
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let mut chain = Chain::new();
    let (owner, client, other, validator) = (key(1), key(2), key(3), key(5));
    let h1 = [0x11; 32];
    let full: Vec<(Vec<u8>, Vec<u8>)> = (0..MAX_METADATA).map(|i| (vec![b'k', i as u8], vec![1])).collect();
    ok(
        &mut chain,
        1,
        &[
            sign(&owner, 1, register("ipfs://agent")),
            sign(&client, 1, feedback(0, 5, 0, "", "")),
            sign(
                &owner,
                2,
                Command::RequestValidation {
                    validator: principal(&validator),
                    agent: 0,
                    uri: vec![],
                    hash: h1,
                },
            ),
            sign(&owner, 3, Command::Register { uri: vec![], metadata: full }),
        ],
    );
    assert_eq!(chain.agent(1).metadata, 32);

    let refused_in_accumulate = |chain: &mut Chain, slot: u32, signed: Signed, why: Refusal| {
        let before = chain.snapshot();
        let step = chain.step(slot, &encode_payload(&[signed]));
        assert!(matches!(step.verdicts()[..], [Verdict::Accepted { .. }]));
        assert_eq!(step.logs(), [format!("command 0 refused: {why:?}")]);
        assert!(chain.snapshot() == before, "{why:?} changed the storage");
    };
    let refused_in_refine = |chain: &mut Chain, slot: u32, payload: &[u8], why: Refusal| {
        let before = chain.snapshot();
        let step = chain.step(slot, payload);
        assert_eq!(step.verdicts(), [Verdict::Refused(why)]);
        assert_eq!(step.logs(), [format!("command 0 refused: {why:?}")]);
        assert!(chain.snapshot() == before, "{why:?} changed the storage");
    };

    use Refusal::*;
    refused_in_accumulate(&mut chain, 2, sign(&client, 2, feedback(7, 1, 0, "", "")), UnknownAgent);
    refused_in_accumulate(&mut chain, 3, sign(&owner, 4, feedback(0, 1, 0, "", "")), SelfFeedback);
    // Revoking another client's feedback: under the author it does not exist.
    refused_in_accumulate(
        &mut chain,
        4,
        sign(&other, 1, Command::RevokeFeedback { agent: 0, index: 1 }),
        UnknownFeedback,
    );
    refused_in_accumulate(
        &mut chain,
        5,
        sign(&client, 2, Command::RevokeFeedback { agent: 0, index: 5 }),
        UnknownFeedback,
    );
    ok(&mut chain, 6, &[sign(&client, 2, Command::RevokeFeedback { agent: 0, index: 1 })]);
    refused_in_accumulate(
        &mut chain,
        7,
        sign(&client, 3, Command::RevokeFeedback { agent: 0, index: 1 }),
        AlreadyRevoked,
    );
    let respond = |request, response| Command::RespondValidation {
        request,
        response,
        uri: vec![],
        hash: None,
        tag: vec![],
    };
    refused_in_accumulate(&mut chain, 8, sign(&other, 2, respond(h1, 50)), NotTheValidator);
    refused_in_accumulate(&mut chain, 9, sign(&validator, 1, respond([0x99; 32], 50)), UnknownRequest);
    refused_in_accumulate(
        &mut chain,
        10,
        sign(&other, 3, Command::SetAgentUri { agent: 0, uri: vec![] }),
        NotOwner,
    );
    refused_in_accumulate(
        &mut chain,
        11,
        sign(&other, 4, Command::SetMetadata { agent: 0, key: b"k".to_vec(), value: b"v".to_vec() }),
        NotOwner,
    );
    refused_in_accumulate(
        &mut chain,
        12,
        sign(&other, 5, Command::TransferAgent { agent: 0, owner: principal(&other) }),
        NotOwner,
    );
    refused_in_accumulate(
        &mut chain,
        13,
        sign(
            &owner,
            5,
            Command::RequestValidation { validator: principal(&other), agent: 0, uri: vec![], hash: h1 },
        ),
        DuplicateRequest,
    );
    refused_in_accumulate(
        &mut chain,
        14,
        sign(
            &other,
            6,
            Command::RequestValidation { validator: principal(&other), agent: 0, uri: vec![], hash: [3; 32] },
        ),
        NotOwner,
    );
    refused_in_accumulate(
        &mut chain,
        15,
        sign(
            &other,
            7,
            Command::AppendResponse {
                agent: 0,
                client: principal(&other),
                index: 1,
                uri: vec![],
                hash: None,
            },
        ),
        UnknownFeedback,
    );
    // The 33rd metadata entry of agent 1.
    refused_in_accumulate(
        &mut chain,
        16,
        sign(&owner, 5, Command::SetMetadata { agent: 1, key: b"new".to_vec(), value: b"v".to_vec() }),
        TooManyMetadata,
    );
    // A replayed signed command, and an older nonce.
    refused_in_accumulate(&mut chain, 17, sign(&client, 1, feedback(0, 5, 0, "", "")), StaleNonce);
    refused_in_accumulate(&mut chain, 18, sign(&owner, 2, register("again")), StaleNonce);

    // Refine's refusals.
    let one = |s: Signed| encode_payload(&[s]);
    refused_in_refine(&mut chain, 20, &one(sign(&validator, 1, respond(h1, 101))), ResponseOutOfRange);
    let mut forged = sign(&validator, 1, respond(h1, 100));
    forged.signature = sign(&other, 1, respond(h1, 100)).signature;
    refused_in_refine(&mut chain, 21, &one(forged), BadSignature);
    let mut bad_key = sign(&validator, 1, respond(h1, 100));
    bad_key.signer = not_a_point();
    refused_in_refine(&mut chain, 22, &one(bad_key), BadKey);
    refused_in_refine(&mut chain, 23, b"hello", Malformed);
    let mut wrong_version = one(sign(&validator, 1, respond(h1, 100)));
    wrong_version[0] = 2;
    refused_in_refine(&mut chain, 24, &wrong_version, Malformed);
    let mut cut = one(sign(&validator, 1, respond(h1, 100)));
    cut.pop();
    refused_in_refine(&mut chain, 25, &cut, Malformed);
    let long = |n| vec![b'a'; n];
    refused_in_refine(
        &mut chain,
        26,
        &one(sign(&owner, 5, Command::SetAgentUri { agent: 0, uri: long(513) })),
        UriTooLong,
    );
    refused_in_refine(
        &mut chain,
        27,
        &one(sign(&owner, 5, Command::SetMetadata { agent: 0, key: long(65), value: vec![1] })),
        KeyTooLong,
    );
    refused_in_refine(
        &mut chain,
        28,
        &one(sign(&owner, 5, Command::SetMetadata { agent: 0, key: b"k".to_vec(), value: long(1025) })),
        ValueTooLong,
    );
    refused_in_refine(
        &mut chain,
        29,
        &one(sign(
            &owner,
            5,
            Command::SetMetadata { agent: 0, key: b"agentWallet".to_vec(), value: vec![1] },
        )),
        ReservedKey,
    );
    let too_many = (0..=MAX_METADATA).map(|i| (vec![i as u8], vec![1])).collect();
    refused_in_refine(
        &mut chain,
        30,
        &one(sign(&owner, 5, Command::Register { uri: vec![], metadata: too_many })),
        TooManyMetadata,
    );
    refused_in_refine(
        &mut chain,
        31,
        &one(sign(&client, 3, feedback(0, 1, 0, &"t".repeat(33), ""))),
        TagTooLong,
    );
    refused_in_refine(&mut chain, 32, &one(sign(&client, 3, feedback(0, 1, 19, "", ""))), BadDecimals);
    refused_in_refine(
        &mut chain,
        33,
        &one(sign(&client, 3, feedback(0, i128::MAX, 0, "", ""))),
        ValueOutOfRange,
    );

    // The good command still goes through after all that.
    ok(&mut chain, 34, &[sign(&validator, 1, respond(h1, 100))]);
    assert_eq!(chain.request(&h1).response, Some(100));
}

/// A work item and two transfers in one accumulation: the service applies its inputs in the order
/// `fetch` gives them (here memo, item, memo), so the memo after the item that registers the agent
/// rates it and the memo before is refused.
#[test]
fn a_work_item_and_memos_in_one_accumulation_apply_in_order() {
    use orrery_invocation::{AccumulationInput, DeferredTransfer};
    let mut chain = Chain::new();
    let memo = |source| {
        AccumulationInput::Transfer(DeferredTransfer {
            source,
            dest: REGISTRY,
            amount: 0,
            memo: encode_memo(&feedback(0, 50, 0, "incentive", "")).unwrap(),
            gas: 0,
        })
    };
    let payload = encode_payload(&[sign(&key(1), 1, register("ipfs://a"))]);
    let (hash, refined) = chain.refine(1, &payload);
    let gas = chain.spec.max_accumulate_gas;
    let item = Chain::operand(hash, &payload, &refined, gas);
    let out = chain.accumulate_inputs(1, &[memo(70_000), item, memo(70_001)], gas);
    let logs: Vec<String> =
        out.logs.iter().map(|l| String::from_utf8_lossy(&l.message).into_owned()).collect();
    assert_eq!(logs[0], "memo from service 70000 refused: UnknownAgent");
    assert_eq!(chain.feedback(0, &Principal::Service(70_001), 1).value, 50);
    assert_eq!(chain.storage(&orrery_registry::store::client_key(0, &Principal::Service(70_000))), None);
    let s = chain.summary(0, b"incentive", b"");
    assert_eq!((s.count, s.sum), (1, 50 * E18));
}

/// A command whose storage the service's balance cannot pay for (GP 0.7.2 §9.3's threshold) is
/// refused whole with `StorageFull` (its nonce not kept either), where `write` would have failed
/// half-way; a memo's command likewise. With the balance back, the same commands apply.
#[test]
fn storage_the_balance_cannot_pay_for_is_refused_whole() {
    let mut chain = Chain::new();
    let (owner, client) = (key(1), key(2));
    ok(&mut chain, 1, &[sign(&owner, 1, register("ipfs://agent"))]);
    let set_balance = |chain: &mut Chain, balance: u64| {
        chain.accounts.get_mut(&REGISTRY).unwrap().info.balance = balance;
    };
    // 20 units above the threshold: a feedback (a record, the client's sums, three summaries and
    // the nonce, each one item of 10 and 34 + key + value octets) does not fit.
    let threshold = chain.accounts[&REGISTRY].threshold_balance();
    set_balance(&mut chain, threshold + 20);
    let before = chain.snapshot();
    let step = chain.step(2, &encode_payload(&[sign(&client, 1, feedback(0, 5, 0, "a", "b"))]));
    assert_eq!(step.logs(), ["command 0 refused: StorageFull"]);
    assert!(chain.snapshot() == before, "a refused feedback changed the storage");
    let memo = encode_memo(&feedback(0, 7, 0, "", "")).unwrap();
    let step = chain.transfer(2, 70_000, 0, memo);
    assert_eq!(step.logs(), ["memo from service 70000 refused: StorageFull"]);
    assert!(chain.snapshot() == before, "a refused memo changed the storage");

    set_balance(&mut chain, BALANCE);
    ok(&mut chain, 3, &[sign(&client, 1, feedback(0, 5, 0, "a", "b"))]);
    assert_eq!(chain.summary(0, b"a", b"b").count, 1);
}
