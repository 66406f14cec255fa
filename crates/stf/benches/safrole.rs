//! Safrole's own cost on a full-spec block (V = 1023, E = 600) without tickets: what every block
//! pays besides the ring-VRF work, which `orrery-crypto`'s benchmarks measure (`ring_root` once per
//! epoch, `ring_verifier` once per block with tickets, `ring_verify` per ticket).

use std::collections::BTreeSet;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use orrery_crypto::bandersnatch::RingContext;
use orrery_state::{EntropyBuffer, SafroleState, TicketsOrKeys, ValidatorData, ValidatorsData};
use orrery_stf::safrole::{apply, SafroleBlock, SafroleInput};
use orrery_types::{ChainSpec, TicketBody};

fn validators(seed: u8, count: usize) -> ValidatorsData {
    ValidatorsData(
        (0..count)
            .map(|i| ValidatorData {
                bandersnatch: [seed; 32],
                ed25519: [(i % 256) as u8, (i / 256) as u8, seed, 0].repeat(8).try_into().unwrap(),
                ..ValidatorData::NULL
            })
            .collect(),
    )
}

fn bench_safrole(c: &mut Criterion) {
    let spec = ChainSpec::full();
    let ring = RingContext::from_srs_file(&orrery_testkit::srs_path(), 1023).expect("the vectors' SRS");
    let entropy = EntropyBuffer([[1; 32], [2; 32], [3; 32], [4; 32]]);
    let (previous, active, staging) = (validators(1, 1023), validators(2, 1023), validators(3, 1023));
    // A full accumulator and a full epoch of fallback keys: the most a block carries forward.
    let safrole = SafroleState {
        pending_validators: validators(4, 1023),
        ring_root: [0; 144],
        sealing_keys: TicketsOrKeys::Keys(vec![[5; 32]; 600]),
        ticket_accumulator: (0..600u32)
            .map(|i| {
                let mut id = [0; 32];
                id[..4].copy_from_slice(&i.to_be_bytes());
                TicketBody { id, attempt: 0 }
            })
            .collect(),
    };
    let offenders = BTreeSet::new();
    let prior = SafroleInput {
        slot: 601,
        entropy: &entropy,
        previous: &previous,
        active: &active,
        staging: &staging,
        safrole: &safrole,
        offenders: &offenders,
    };
    let block = SafroleBlock { slot: 602, entropy_source: [9; 32], tickets: &[] };
    c.bench_function("stf::safrole/block/spec=full", |b| {
        b.iter(|| apply(&spec, &ring, black_box(prior), black_box(block)).unwrap())
    });
}

criterion_group!(benches, bench_safrole);
criterion_main!(benches);
