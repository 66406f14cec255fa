//! One Yuma epoch natively, at the two sizes of issue 19: 256 miners × 64 validators and 4096 × 256.
//!
//! The subnet: validators are uids `0..v` with stakes 1..=v (units of 10⁹) and permits, miners the uids
//! after them with no stake; every validator weighs every miner (seeded random `u16`s, max-upscaled as
//! `set_weights` stores them) and holds the bonds one earlier epoch left, so the bond EMA works on full rows.
//! Cases: `yuma::epoch` (legacy bonds, subtensor's default) and `yuma::epoch_yuma3` (Yuma 3 with liquid
//! alpha). There is no reference implementation to run beside it here; the same epoch inside the `subnet`
//! service on the PVM is `crates/subnet/benches/epoch_pvm.rs` (`yuma::epoch/pvm` vs `yuma::epoch/native`).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use orrery_yuma::epoch::carry_over;
use orrery_yuma::math::vec_u16_max_upscale_to_u16;
use orrery_yuma::{epoch, EpochInput, EpochParams, Neuron};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn subnet(miners: usize, validators: usize, yuma3: bool) -> EpochInput {
    let mut rng = ChaCha8Rng::seed_from_u64(19);
    let n = miners + validators;
    let miner_uids: Vec<u16> = (validators..n).map(|j| j as u16).collect();
    let neurons = (0..n)
        .map(|i| {
            let validator = i < validators;
            let weights = if validator {
                let raw: Vec<u16> = (0..miners).map(|_| rng.gen()).collect();
                miner_uids.iter().copied().zip(vec_u16_max_upscale_to_u16(&raw)).collect()
            } else {
                Vec::new()
            };
            Neuron {
                stake: if validator { (i as u64 + 1) * 1_000_000_000 } else { 0 },
                last_update: 10,
                block_at_registration: 1,
                validator_permit: validator,
                weights,
                ..Neuron::default()
            }
        })
        .collect();
    let params = EpochParams {
        max_allowed_validators: validators as u16,
        yuma3,
        liquid_alpha: yuma3,
        ..EpochParams::default()
    };
    let mut input = EpochInput {
        params,
        current_block: 20,
        tempo: 5,
        last_epoch_block: 0,
        owner_uid: None,
        neurons,
        emission: 1_000_000_000_000,
    };
    // One epoch first, so that bonds are full.
    let out = epoch(&input).expect("well-formed");
    carry_over(&mut input.neurons, &out);
    input.current_block += 5;
    input
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("yuma");
    group.sample_size(10);
    for (miners, validators) in [(256, 64), (4096, 256)] {
        for (name, yuma3) in [("epoch", false), ("epoch_yuma3", true)] {
            let input = subnet(miners, validators, yuma3);
            group.bench_function(format!("{name}/miners={miners},validators={validators}"), |b| {
                b.iter(|| epoch(black_box(&input)).expect("well-formed"))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
