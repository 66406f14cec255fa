//! Signature and VRF verification costs that bound block import: ring proofs (tickets), IETF VRF
//! (seal and entropy source), Ed25519 single against batch (guarantees and assurances).
//!
//! `cargo bench -p orrery-crypto --bench crypto`; needs the SRS (`orrery_testkit::srs_path`: the
//! vectors' at ../shared/vectors/jam-0.7.2 from the repository root, or `ORRERY_SRS`).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use orrery_crypto::bandersnatch::{ietf_vrf_verify, PublicKey, RingContext, SecretKey};
use orrery_crypto::{ed25519_verify, ed25519_verify_batch};
use orrery_testkit::srs_path;

const TINY_RING: usize = 6;
const FULL_RING: usize = 1023;

fn ring(size: usize) -> (Vec<SecretKey>, Vec<PublicKey>) {
    let secrets: Vec<_> = (0..size as u32).map(|i| SecretKey::from_seed(&i.to_le_bytes())).collect();
    let publics = secrets.iter().map(SecretKey::public).collect();
    (secrets, publics)
}

fn ring_vrf(c: &mut Criterion) {
    // The vectors' two networks: `tiny` (6 validators, every trace) and `full` (1023).
    for size in [TINY_RING, FULL_RING] {
        ring_vrf_of(c, size);
    }
}

fn ring_vrf_of(c: &mut Criterion, size: usize) {
    let path = srs_path();
    let (secrets, keys) = ring(size);

    slow_group(c, "bandersnatch::ring_context").bench_function(format!("ring={size}"), |b| {
        b.iter(|| RingContext::from_srs_file(&path, size).unwrap())
    });
    let ctx = RingContext::from_srs_file(&path, size).unwrap();
    slow_group(c, "bandersnatch::ring_root").bench_function(format!("ring={size}"), |b| {
        b.iter(|| ctx.ring_root_uncached(black_box(&keys)).unwrap())
    });
    let root = ctx.ring_root(&keys).unwrap();
    slow_group(c, "bandersnatch::ring_verifier").bench_function(format!("ring={size}"), |b| {
        b.iter(|| ctx.verifier_uncached(black_box(&root)).unwrap())
    });
    let prover = ctx.prover(&keys, 3).unwrap();
    let input = [&b"jam_ticket_seal"[..], &[9u8; 32], &[1]].concat();
    slow_group(c, "bandersnatch::ring_sign").bench_function(format!("ring={size}"), |b| {
        b.iter(|| secrets[3].ring_sign(&prover, black_box(&input), &[]).unwrap())
    });
    let proof = secrets[3].ring_sign(&prover, &input, &[]).unwrap();
    let verifier = ctx.verifier(&root).unwrap();
    slow_group(c, "bandersnatch::ring_verify").bench_function(format!("ring={size}"), |b| {
        b.iter(|| verifier.verify(black_box(&input), &[], black_box(&proof)).unwrap())
    });
}

/// Ten samples: enough for operations of tens of milliseconds and more.
fn slow_group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group
}

fn ietf_vrf(c: &mut Criterion) {
    let secret = SecretKey::from_seed(b"author");
    let public = secret.public();
    let input = [&b"jam_fallback_seal"[..], &[3u8; 32]].concat();
    let header = vec![0x5a; 300];
    c.bench_function("bandersnatch::ietf_sign", |b| {
        b.iter(|| secret.ietf_sign(black_box(&input), &header).unwrap())
    });
    // Sixteen signatures in turn: more than the verifier remembers decoded output points for,
    // so every verification decodes its own, as a block's first does.
    let signed: Vec<_> = (0..16u8)
        .map(|i| {
            let input = [&b"jam_fallback_seal"[..], &[i; 32]].concat();
            let signature = secret.ietf_sign(&input, &header).unwrap();
            (input, signature)
        })
        .collect();
    let mut n = 0;
    c.bench_function("bandersnatch::ietf_verify", |b| {
        b.iter(|| {
            let (input, signature) = &signed[n % signed.len()];
            n += 1;
            ietf_vrf_verify(&public, black_box(input), &header, black_box(signature)).unwrap()
        })
    });
}

type Signed = ([u8; 32], Vec<u8>, [u8; 64]);

fn signed(n: usize) -> Vec<Signed> {
    (0..n)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let key = ed25519_zebra::SigningKey::from(seed);
            // Guarantee and assurance messages: a context string and a 32-byte hash.
            let message = [&b"jam_available"[..], &[i as u8; 32]].concat();
            let signature = key.sign(&message).to_bytes();
            (ed25519_zebra::VerificationKeyBytes::from(&key).into(), message, signature)
        })
        .collect()
}

fn ed25519(c: &mut Criterion) {
    // A full-spec block at most: 3 guarantor signatures on each of 341 cores and 1023 assurances.
    // A tiny-spec block: 3 × 2 guarantees and 6 assurances.
    for (name, n) in [("tiny_block", 3 * 2 + 6), ("full_block", 3 * 341 + 1023)] {
        let items = signed(n);
        c.bench_function(&format!("ed25519::verify_single/{name}/n={n}"), |b| {
            b.iter(|| {
                for (k, m, s) in &items {
                    ed25519_verify(k, m, s).unwrap();
                }
            })
        });
        c.bench_function(&format!("ed25519::verify_batch/{name}/n={n}"), |b| {
            b.iter(|| ed25519_verify_batch(items.iter().map(|(k, m, s)| (k, m.as_slice(), s))).unwrap())
        });
        // The reference: ed25519-zebra's batch verifier, which decompresses every key each time
        // (ours keeps validators' keys decompressed).
        c.bench_function(&format!("ed25519::verify_batch_zebra/{name}/n={n}"), |b| {
            b.iter(|| {
                let mut verifier = ed25519_zebra::batch::Verifier::new();
                for (k, m, s) in &items {
                    verifier.queue((
                        ed25519_zebra::VerificationKeyBytes::from(*k),
                        ed25519_zebra::Signature::from_bytes(s),
                        m.as_slice(),
                    ));
                }
                verifier.verify(rand::thread_rng()).unwrap()
            })
        });
    }
}

criterion_group!(benches, ring_vrf, ietf_vrf, ed25519);
criterion_main!(benches);
