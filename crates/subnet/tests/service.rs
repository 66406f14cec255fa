//! The `subnet` service (`services/subnet/subnet.jam`, as committed) run through Ψ_R and Ψ_A:
//! subtensor's epoch scenarios replayed through signed work items, every expected number the one
//! subtensor's test asserts (`pallets/subtensor/src/tests/epoch.rs`, the same cases
//! `crates/yuma/tests/epoch.rs` checks natively); then bad input, each refused with no change.

mod common;

use common::*;
use orrery_subnet::store::{decode_uids, miners_key, subnet_key, SubnetRecord};
use orrery_subnet::wire::{encode_payload, Command, Refusal, Role, Signed, Verdict};
use orrery_yuma::math::u16_proportion_to_fixed;
use orrery_yuma::{EpochParams, I32F32};

/// The mock runtime's parameters (subtensor `tests/mock.rs`).
fn mock_params(max_allowed_validators: u16) -> EpochParams {
    EpochParams { max_allowed_validators, ..EpochParams::default() }
}

/// Creates subnet 0 (tempo 1, 10⁹ per epoch) at slot 1 with neurons of the given roles and stakes,
/// registered in uid order; keys are `key(1 + uid)`, the owner's `key(0)`.
fn create(chain: &mut Chain, params: EpochParams, neurons: &[(Role, u64, Option<u32>)]) {
    let owner = key(0);
    let mut commands = vec![sign(
        &owner,
        Command::CreateSubnet { owner: public(&owner), tempo: 1, emission: 1_000_000_000, params },
    )];
    for (uid, &(role, stake, payee)) in neurons.iter().enumerate() {
        let k = key(1 + uid as u64);
        commands.push(sign(&k, Command::Register { netuid: 0, hotkey: public(&k), role, stake, payee }));
    }
    let step = chain.step(1, &encode_payload(&commands));
    assert!(step.verdicts().iter().all(|v| matches!(v, Verdict::Accepted(_))), "{:?}", step.verdicts());
    assert!(step.logs().iter().all(|l| !l.contains("refused")), "{:?}", step.logs());
}

fn set_weights(uid: u16, nonce: u64, weights: &[u16]) -> Signed {
    let k = key(1 + u64::from(uid));
    sign(&k, Command::SetWeights { netuid: 0, uid, hotkey: public(&k), nonce, weights: weights.to_vec() })
}

/// `test_active_stake` (subtensor tests/epoch.rs, ported natively in crates/yuma/tests/epoch.rs)
/// inside the PVM: two validators with equal stake; after the activity cutoff only the one that
/// updated its weights keeps its active stake. Subtensor's blocks 0, 1, 5002, 5003 are slots 2, 3,
/// 5004, 5005 here (registration at slot 1), the same distances. Uid 0 is paid by transfer to
/// service 70000; the others' emission is owed.
#[test]
fn test_active_stake_in_the_pvm() {
    let mut chain = Chain::new();
    chain.add_payee(70_000);
    let v = (Role::Validator, 1, None);
    let m = (Role::Miner, 1, None);
    create(&mut chain, mock_params(4), &[(Role::Validator, 1, Some(70_000)), v, m, m]);
    assert_eq!(decode_uids(&chain.storage(&miners_key(0)).unwrap()), Some(vec![2, 3]));

    // The first epoch hands out the permits.
    let step = chain.step(2, &encode_payload(&[]));
    assert!(step.logs().iter().any(|l| l.contains("subnet 0 epoch 1 at slot 2")), "{:?}", step.logs());
    assert!((0..4).all(|uid| chain.neuron(0, uid).permit));

    let half = [u16::MAX / 2; 2];
    chain.step(3, &encode_payload(&[set_weights(0, 1, &half), set_weights(1, 1, &half)]));
    for uid in 0..4 {
        if uid < 2 {
            assert_eq!(chain.output(0, uid).dividend, 32767);
        }
        assert_eq!(chain.output(0, uid).emission, 250_000_000);
    }
    for uid in 0..2 {
        assert_eq!([0, 1, 2, 3].map(|j| chain.bond(0, uid, j)), [0, 0, 65535, 65535]);
    }

    // Past the activity cutoff, uid 0 updates its weights.
    let owed_before = chain.output(0, 1).owed;
    let payee_before = chain.accounts[&70_000].info.balance;
    let step = chain.step(5004, &encode_payload(&[set_weights(0, 2, &half)]));
    let (o0, o1) = (chain.output(0, 0), chain.output(0, 1));
    assert_eq!((o0.dividend, o0.emission), (36044, 274_999_999));
    assert_eq!([chain.bond(0, 0, 2), chain.bond(0, 0, 3)], [65535, 65535]);
    assert_eq!((o1.dividend, o1.emission), (29490, 224_999_999));
    assert_eq!([chain.bond(0, 1, 2), chain.bond(0, 1, 3)], [53619, 53619]);
    // Uid 0's emission went by transfer, uid 1's is owed.
    let transfers = &step.accumulated.as_ref().unwrap().transfers;
    assert_eq!(transfers.len(), 1);
    assert_eq!((transfers[0].dest, transfers[0].amount), (70_000, 274_999_999));
    assert_eq!(&transfers[0].memo[..6], b"subnet");
    assert_eq!(chain.accounts[&70_000].info.balance, payee_before + 274_999_999);
    assert_eq!(o1.owed, owed_before + 224_999_999);
    assert_eq!(o0.owed, 0);

    // Uid 1 updates too.
    chain.step(5005, &encode_payload(&[set_weights(1, 2, &half)]));
    let (o0, o1) = (chain.output(0, 0), chain.output(0, 1));
    assert_eq!((o0.dividend, o0.emission), (35716, 272_501_132));
    assert_eq!([chain.bond(0, 0, 2), chain.bond(0, 0, 3)], [65535, 65535]);
    assert_eq!((o1.dividend, o1.emission), (29818, 227_498_866));
    assert_eq!([chain.bond(0, 1, 2), chain.bond(0, 1, 3)], [54712, 54712]);
    let subnet = SubnetRecord::decode(&chain.storage(&subnet_key(0)).unwrap()).unwrap();
    assert_eq!((subnet.epochs, subnet.last_epoch), (4, 5005));
}

const MAX: u16 = u16::MAX;

/// `test_yuma_3_kappa_moves_first` (subtensor tests/epoch.rs) inside the PVM: Yuma 3 with liquid
/// alpha, stakes 8, 1, 1 and two miners; six epochs in which the validators move from miner 3 to
/// miner 4, the big one first. Dividends and bonds compared as subtensor compares them (the stored
/// `u16` as a proportion, within 10⁻³), to subtensor's targets.
#[test]
fn test_yuma_3_kappa_moves_first_in_the_pvm() {
    let to_u16 = |x: f64| (I32F32::from_num(x) * I32F32::from_num(u16::MAX)).to_num::<u16>();
    let params = EpochParams {
        bonds_penalty: 0,
        alpha_sigmoid_steepness: 1000,
        bonds_moving_average: 975_000,
        kappa: u16::MAX / 2,
        liquid_alpha: true,
        alpha_low: to_u16(0.1),
        alpha_high: to_u16(0.3),
        yuma3: true,
        ..mock_params(3)
    };
    let mut chain = Chain::new();
    let v = |stake| (Role::Validator, stake, None);
    create(&mut chain, params, &[v(8), v(1), v(1), (Role::Miner, 0, None), (Role::Miner, 0, None)]);
    chain.step(2, &encode_payload(&[]));

    let weights: [Option<[[u16; 2]; 3]>; 6] = [
        Some([[MAX, 0]; 3]),
        Some([[0, MAX], [MAX, 0], [MAX, 0]]),
        Some([[0, MAX], [0, MAX], [MAX, 0]]),
        Some([[0, MAX]; 3]),
        None,
        None,
    ];
    let bonds: [[[f32; 2]; 3]; 6] = [
        [[0.1013, 0.0000], [0.1013, 0.0000], [0.1013, 0.0000]],
        [[0.0908, 0.1013], [0.3697, 0.0000], [0.3697, 0.0000]],
        [[0.0815, 0.1924], [0.3170, 0.1013], [0.5580, 0.0000]],
        [[0.0731, 0.2742], [0.2765, 0.1924], [0.4306, 0.1013]],
        [[0.0656, 0.3478], [0.2435, 0.2742], [0.3589, 0.1924]],
        [[0.0588, 0.4139], [0.2157, 0.3478], [0.3089, 0.2742]],
    ];
    let dividends: [[f32; 5]; 6] = [
        [0.8000, 0.1000, 0.1000, 0.0000, 0.0000],
        [1.0000, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.9382, 0.0618, 0.0000, 0.0000, 0.0000],
        [0.8819, 0.0773, 0.0407, 0.0000, 0.0000],
        [0.8564, 0.0844, 0.0592, 0.0000, 0.0000],
        [0.8418, 0.0884, 0.0697, 0.0000, 0.0000],
    ];
    let eps = I32F32::from_num(1e-3);
    for e in 0..6 {
        let commands: Vec<Signed> = weights[e]
            .map(|rows| (0..3).map(|uid| set_weights(uid, e as u64 + 1, &rows[uid as usize])).collect())
            .unwrap_or_default();
        let step = chain.step(3 + e as u32, &encode_payload(&commands));
        assert!(step.logs().iter().all(|l| !l.contains("refused")), "{:?}", step.logs());
        for (uid, want) in dividends[e].iter().enumerate() {
            let got = u16_proportion_to_fixed(chain.output(0, uid as u16).dividend);
            assert!(
                (got - I32F32::from_num(*want)).abs() <= eps,
                "epoch {e}, dividend {uid}: {got} vs {want}"
            );
        }
        for (uid, row) in bonds[e].iter().enumerate() {
            for (k, want) in row.iter().enumerate() {
                let got = u16_proportion_to_fixed(chain.bond(0, uid as u16, 3 + k as u16));
                assert!(
                    (got - I32F32::from_num(*want)).abs() <= eps,
                    "epoch {e}, bond {uid}: {got} vs {want}"
                );
            }
        }
    }
}

/// Bad input: each refused with a clear result (refine's verdict or accumulate's log naming the
/// refusal) and the service's storage and balance unchanged.
#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let mut chain = Chain::new();
    let owner = key(0);
    // Tempo 1000: no epoch runs during the checks below.
    let mut commands = vec![sign(
        &owner,
        Command::CreateSubnet { owner: public(&owner), tempo: 1000, emission: 1, params: mock_params(4) },
    )];
    for (uid, (role, stake)) in
        [(Role::Validator, 1u64 << 62), (Role::Miner, 0), (Role::Miner, 0)].into_iter().enumerate()
    {
        let k = key(1 + uid as u64);
        commands
            .push(sign(&k, Command::Register { netuid: 0, hotkey: public(&k), role, stake, payee: None }));
    }
    chain.step(1, &encode_payload(&commands));
    chain.step(2, &encode_payload(&[set_weights(0, 5, &[1, 2])]));
    // Max-upscaled as subtensor stores them: 1/2 · 65535 = 32767.5, rounded to 32768.
    assert_eq!(chain.neuron(0, 0).weights, [(1, 32768), (2, 65535)]);

    let refused_in_accumulate = |chain: &mut Chain, slot: u32, signed: Signed, why: Refusal| {
        let before = chain.snapshot();
        let step = chain.step(slot, &encode_payload(&[signed]));
        assert!(matches!(step.verdicts()[..], [Verdict::Accepted(_)]));
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

    // Weights of the wrong length: three for two miners, then one.
    refused_in_accumulate(&mut chain, 3, set_weights(0, 6, &[1, 2, 3]), Refusal::WrongWeightCount);
    refused_in_accumulate(&mut chain, 4, set_weights(0, 6, &[1]), Refusal::WrongWeightCount);
    // A replayed (or older) signed message.
    refused_in_accumulate(&mut chain, 5, set_weights(0, 5, &[1, 2]), Refusal::StaleNonce);
    // A miner setting weights.
    refused_in_accumulate(&mut chain, 6, set_weights(1, 1, &[1, 2]), Refusal::NotAValidator);
    // Stake overflow: 2^62 is staked; another 2^62 would make the total 2^63.
    let k = key(10);
    let register = |netuid, stake| Command::Register {
        netuid,
        hotkey: public(&k),
        role: Role::Miner,
        stake,
        payee: None,
    };
    refused_in_accumulate(&mut chain, 7, sign(&k, register(0, 1 << 62)), Refusal::StakeOverflow);
    refused_in_accumulate(&mut chain, 8, sign(&k, register(0, u64::MAX)), Refusal::StakeOverflow);
    // An unknown subnet, to register in and to set weights in.
    refused_in_accumulate(&mut chain, 9, sign(&k, register(7, 1)), Refusal::UnknownSubnet);
    let v = key(1);
    let weights_in =
        |netuid| Command::SetWeights { netuid, uid: 0, hotkey: public(&v), nonce: 9, weights: vec![1, 2] };
    refused_in_accumulate(&mut chain, 10, sign(&v, weights_in(3)), Refusal::UnknownSubnet);
    // Another key's weights for uid 0.
    let other = key(2);
    let forged =
        Command::SetWeights { netuid: 0, uid: 0, hotkey: public(&other), nonce: 9, weights: vec![1, 2] };
    refused_in_accumulate(&mut chain, 11, sign(&other, forged), Refusal::WrongKey);
    // A registered hotkey again.
    refused_in_accumulate(
        &mut chain,
        12,
        sign(
            &v,
            Command::Register { netuid: 0, hotkey: public(&v), role: Role::Miner, stake: 0, payee: None },
        ),
        Refusal::DuplicateHotkey,
    );

    // A bad signature: uid 0's weights signed by another key.
    let mut bad = set_weights(0, 7, &[3, 4]);
    bad.signature = sign(&other, bad.command.clone()).signature;
    refused_in_refine(&mut chain, 13, &encode_payload(&[bad]), Refusal::BadSignature);
    // A payload that does not decode.
    let mut cut = encode_payload(&[set_weights(0, 7, &[3, 4])]);
    cut.pop();
    refused_in_refine(&mut chain, 14, &cut, Refusal::Malformed);
    refused_in_refine(&mut chain, 15, b"hello", Refusal::Malformed);

    // The good command still goes through after all that.
    chain.step(16, &encode_payload(&[set_weights(0, 7, &[3, 4])]));
    // 3/4 · 65535 = 49151.25, rounded to 49151.
    assert_eq!(chain.neuron(0, 0).weights, [(1, 49151), (2, 65535)]);
}

/// A command whose storage the service's balance cannot pay for (GP 0.7.2 §9.3's threshold) is
/// refused whole with `StorageFull`; an epoch that cannot be stored is not run (nothing paid or
/// written) and runs at the next accumulation once the balance is back.
#[test]
fn storage_the_balance_cannot_pay_for_is_refused_whole() {
    let mut chain = Chain::new();
    chain.add_payee(70_000);
    create(&mut chain, mock_params(4), &[(Role::Validator, 1000, Some(70_000)), (Role::Miner, 0, None)]);
    let set_balance = |chain: &mut Chain, balance: u64| {
        chain.accounts.get_mut(&SUBNET).unwrap().info.balance = balance;
    };
    let threshold = chain.accounts[&SUBNET].threshold_balance();
    // 20 units above the threshold: a neuron (its record, its hotkey, the miners list) does not
    // fit, and neither does the first epoch's output records (new items).
    set_balance(&mut chain, threshold + 20);
    let before = chain.snapshot();
    let k = key(9);
    let register =
        Command::Register { netuid: 0, hotkey: public(&k), role: Role::Miner, stake: 0, payee: None };
    let step = chain.step(2, &encode_payload(&[sign(&k, register.clone())]));
    assert!(step.logs().contains(&"command 0 refused: StorageFull".to_string()), "{:?}", step.logs());
    assert!(step.logs().iter().any(|l| l.contains("epoch at slot 2 not run")), "{:?}", step.logs());
    assert!(chain.snapshot() == before, "storage changed");
    assert_eq!(chain.accounts[&70_000].info.balance, 0, "the epoch paid");

    // With the balance back: the same registration, and the epoch at the same accumulation.
    set_balance(&mut chain, BALANCE);
    let step = chain.step(3, &encode_payload(&[sign(&k, register)]));
    assert!(step.logs().iter().all(|l| !l.contains("refused")), "{:?}", step.logs());
    assert!(step.logs().iter().any(|l| l.contains("subnet 0 epoch 1 at slot 3")), "{:?}", step.logs());
    assert_eq!(chain.output(0, 0).slot, 3);
    assert!(chain.accounts[&70_000].info.balance > 0, "the validator's payee was paid");
}
