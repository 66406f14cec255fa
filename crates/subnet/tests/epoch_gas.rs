//! Issue 19's size, 256 miners × 64 validators, through the service: the epoch an accumulation
//! runs gives the same numbers as `orrery_yuma::epoch` natively on the state the service stored,
//! and its gas is measured against one accumulation's limit `G_A` (the same 10⁷ in the tiny and
//! full chain specs).

mod common;

use common::*;
use orrery_subnet::wire::{encode_payload, Command};

#[test]
fn an_epoch_of_256_miners_and_64_validators_matches_native_and_its_gas_is_measured() {
    let (miners, validators) = (256, 64);
    let generous = 10_000_000_000;
    let chain = big_subnet(miners, validators, generous);

    // The native epoch on what the service has stored, as the service would run it at slot 4.
    let n = (miners + validators) as u16;
    let input = chain.epoch_input(0, n);
    assert!(input.neurons[..validators].iter().all(|x| x.bonds.len() == miners && x.validator_permit));
    let native = orrery_yuma::epoch(&input).unwrap();

    let mut chain = chain;
    let step = chain.step_with_gas(4, &encode_payload(&[]), generous);
    let out = step.accumulated.as_ref().unwrap();
    assert_eq!(out.exit.map(|e| e.exit), Some(orrery_pvm::Exit::Halt));
    for (uid, want) in native.neurons.iter().enumerate() {
        let got = chain.output(0, uid as u16);
        assert_eq!(
            (got.incentive, got.dividend, got.consensus, got.validator_trust, got.emission),
            (want.incentive, want.dividend, want.consensus, want.validator_trust, want.emission),
            "uid {uid}"
        );
        assert_eq!(chain.neuron(0, uid as u16).bonds, want.bonds, "uid {uid}");
    }

    let limit = chain.spec.max_accumulate_gas;
    let epoch_log = step.logs().into_iter().find(|l| l.contains("epoch 3 at slot 4")).unwrap();
    println!("256 miners x 64 validators: accumulate used {} gas; G_A = {limit}; {epoch_log}", out.gas_used);
    // 256 × 64 does not fit one work item's G_A: the same accumulation at G_A runs out of gas
    // (the accumulation above used about three times G_A; see docs/PERFORMANCE.md).
    assert!(out.gas_used > limit);
    let at_limit = chain.dry_run(5, limit);
    assert_eq!(at_limit.exit.map(|e| e.exit), Some(orrery_pvm::Exit::OutOfGas));

    // What refine pays to verify one validator's signed weights (256 of them), and an empty item.
    let k = key(1);
    let weights = vec![7u16; miners];
    let one = sign(&k, Command::SetWeights { netuid: 0, uid: 0, hotkey: public(&k), nonce: 2, weights });
    let verify = chain.step(5, &encode_payload(&[one])).refined.gas_used;
    let empty = chain.step(6, &encode_payload(&[])).refined.gas_used;
    println!("refine: one signed set-weights of {miners} weights {verify} gas, an empty item {empty} gas");
    assert!(verify > empty);
}
