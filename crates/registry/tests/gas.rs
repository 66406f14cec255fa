//! The gas of each operation of the committed `registry.jam`, in refine (Ψ_R) and in accumulate
//! (Ψ_A), as one-command work items; and of one accumulation of 1,000 feedbacks on one agent, by
//! signed commands (four work items) and by memos (1,000 transfers), against one work item's `G_A`
//! (10⁷ in the tiny spec). `cargo test -p orrery-registry --test gas -- --nocapture` prints the
//! figures docs/SERVICES.md quotes. Running sums keep a feedback's cost constant: the 1,000th costs
//! what the first does.

mod common;

use common::*;
use orrery_invocation::{AccumulationInput, DeferredTransfer};
use orrery_registry::wire::{encode_memo, encode_payload, Command, Feedback, Principal, Signed};

fn feedback(value: i128) -> Command {
    Command::GiveFeedback(Feedback {
        agent: 0,
        value,
        decimals: 0,
        tag1: b"starred".to_vec(),
        tag2: b"week".to_vec(),
        endpoint: vec![],
        uri: vec![],
        hash: None,
    })
}

/// One signed command as its own work item at `slot`: (refine gas, accumulate gas), after checking
/// it was applied.
fn measure(chain: &mut Chain, slot: u32, signed: Signed) -> (u64, u64) {
    let step = chain.step(slot, &encode_payload(&[signed]));
    assert!(step.refusals().is_empty(), "{:?}", step.logs());
    (step.refine_gas(), step.accumulate_gas())
}

#[test]
fn the_gas_of_each_operation() {
    let mut chain = Chain::new();
    let (owner, client, validator) = (key(1), key(2), key(3));
    let empty = chain.step(1, &encode_payload(&[]));
    let mut rows = vec![("empty item", empty.refine_gas(), empty.accumulate_gas())];
    let uri = b"https://agent.example/.well-known/agent-registration.json".to_vec();
    let ops: Vec<(&str, Signed)> = vec![
        (
            "register (URI, 2 metadata)",
            sign(
                &owner,
                1,
                Command::Register {
                    uri,
                    metadata: vec![(b"name".to_vec(), b"alice".to_vec()), (b"model".to_vec(), vec![7; 64])],
                },
            ),
        ),
        ("set agent URI", sign(&owner, 2, Command::SetAgentUri { agent: 0, uri: b"ipfs://new".to_vec() })),
        (
            "set metadata",
            sign(&owner, 3, Command::SetMetadata { agent: 0, key: b"k".to_vec(), value: vec![1; 32] }),
        ),
        ("give feedback (2 tags)", sign(&client, 1, feedback(87))),
        ("revoke feedback", sign(&client, 2, Command::RevokeFeedback { agent: 0, index: 1 })),
        (
            "append response",
            sign(
                &owner,
                4,
                Command::AppendResponse {
                    agent: 0,
                    client: Principal::Key(public(&client)),
                    index: 1,
                    uri: b"ipfs://r".to_vec(),
                    hash: Some([1; 32]),
                },
            ),
        ),
        (
            "request validation",
            sign(
                &owner,
                5,
                Command::RequestValidation {
                    validator: Principal::Key(public(&validator)),
                    agent: 0,
                    uri: b"ipfs://job".to_vec(),
                    hash: [9; 32],
                },
            ),
        ),
        (
            "respond to validation",
            sign(
                &validator,
                1,
                Command::RespondValidation {
                    request: [9; 32],
                    response: 100,
                    uri: vec![],
                    hash: None,
                    tag: b"hard".to_vec(),
                },
            ),
        ),
    ];
    for (i, (name, signed)) in ops.into_iter().enumerate() {
        let (r, a) = measure(&mut chain, 2 + i as u32, signed);
        rows.push((name, r, a));
    }
    let memo = chain.transfer(20, 70_000, 0, encode_memo(&feedback(90)).unwrap());
    assert!(memo.refusals().is_empty(), "{:?}", memo.logs());
    rows.push(("give feedback by memo (a transfer)", 0, memo.accumulate_gas()));
    for (name, r, a) in &rows {
        println!("registry gas: {name}: refine {r}, accumulate {a}");
    }
    // Every single operation fits one work item's gas many times over.
    assert!(rows
        .iter()
        .all(|&(_, r, a)| r < chain.spec.max_refine_gas / 10 && a < chain.spec.max_accumulate_gas / 10));
}

/// `n` distinct clients' (keys `first..first + n`) signed feedbacks on agent 0, refined as items of
/// at most 250 and accumulated together in one Ψ_A, kept: (accumulate gas, the largest refine gas
/// of an item). Every one must count in the agent's summary.
fn signed_feedbacks(chain: &mut Chain, first: u64, n: u64, gas: u64) -> (u64, u64) {
    let signed: Vec<Signed> = (0..n).map(|i| sign(&key(first + i), 1, feedback(i as i128 % 101))).collect();
    let mut inputs = Vec::new();
    let mut refine_max = 0;
    for chunk in signed.chunks(250) {
        let payload = encode_payload(chunk);
        let (hash, refined) = chain.refine(1, &payload);
        refine_max = refine_max.max(refined.gas_used);
        inputs.push(Chain::operand(hash, &payload, &refined, gas));
    }
    let before = chain.summary(0, b"", b"").count;
    let out = chain.accumulate_inputs(2, &inputs, gas);
    assert_eq!(chain.summary(0, b"", b"").count, before + n);
    (out.gas_used, refine_max)
}

/// `n` feedbacks by memo from `n` services (`first..first + n`) on agent 0 in one Ψ_A, kept: its gas.
fn memo_feedbacks(chain: &mut Chain, first: u32, n: u32, gas: u64) -> u64 {
    let inputs: Vec<AccumulationInput> = (0..n)
        .map(|i| {
            AccumulationInput::Transfer(DeferredTransfer {
                source: first + i,
                dest: REGISTRY,
                amount: 0,
                memo: encode_memo(&feedback(i as i128 % 101)).unwrap(),
                gas: 0,
            })
        })
        .collect();
    let before = chain.summary(0, b"", b"").count;
    let out = chain.accumulate_inputs(3, &inputs, gas);
    assert_eq!(chain.summary(0, b"", b"").count, before + u64::from(n));
    out.gas_used
}

#[test]
fn a_thousand_feedbacks_on_one_agent_in_one_accumulation() {
    let mut chain = Chain::new();
    let step = chain
        .step(1, &encode_payload(&[sign(&key(1), 1, Command::Register { uri: vec![], metadata: vec![] })]));
    assert!(step.refusals().is_empty());
    let generous = 1_000_000_000;
    let limit = chain.spec.max_accumulate_gas;
    let (ten, _) = signed_feedbacks(&mut chain, 10_000, 10, generous);
    let (thousand, refine_max) = signed_feedbacks(&mut chain, 100, 1000, generous);
    let memo_ten = memo_feedbacks(&mut chain, 200_000, 10, generous);
    let memo_thousand = memo_feedbacks(&mut chain, 100_000, 1000, generous);
    println!(
        "registry gas: 1,000 signed feedbacks on one agent: accumulate {thousand} (10: {ten}); refine of 250 {refine_max}; G_A = {limit}"
    );
    println!("registry gas: 1,000 memo feedbacks on one agent: accumulate {memo_thousand} (10: {memo_ten})");
    // What fits one work item's G_A: 340 signed (two items' worth of refine), 480 by memo.
    let (fit, _) = signed_feedbacks(&mut chain, 20_000, 340, limit);
    let memo_fit = memo_feedbacks(&mut chain, 300_000, 480, limit);
    println!("registry gas: within G_A: 340 signed feedbacks {fit}, 480 memo feedbacks {memo_fit}");
    // O(1) per feedback: the per-feedback cost at 1,000 is within 10% of the cost at 10.
    for (small, big) in [(ten, thousand), (memo_ten, memo_thousand)] {
        let (per_small, per_big) = (small as f64 / 10.0, big as f64 / 1000.0);
        assert!(per_big < per_small * 1.1, "{per_small} per feedback at 10, {per_big} at 1,000");
    }
}
