//! How many signed votes a voter takes in per second: every prevote and precommit of round 1 from
//! all other voters of a set of 6 (tiny) and 1023 (full), against the floor of verifying the same
//! signatures alone (`grandpa::ed25519_verify`).
//!
//! `cargo bench -p orrery-grandpa --bench voter`

#[path = "../tests/sim/mod.rs"]
mod sim;

use std::collections::{HashMap, HashSet};
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use orrery_crypto::ed25519_verify;
use orrery_grandpa::{signed_payload, Config, Input, Message, SignedVote, Target, VoteKind, Voter, VoterSet};
use sim::{main_block, View, GENESIS};

fn votes(c: &mut Criterion) {
    let mut blocks = HashMap::new();
    blocks.insert(main_block(1).hash, (1, GENESIS));
    blocks.insert(main_block(2).hash, (2, main_block(1).hash));
    let known: HashSet<_> = blocks.keys().copied().collect();
    let base = Target { hash: GENESIS, slot: 0 };
    for n in [6u16, 1023] {
        let secrets: Vec<[u8; 32]> = (0..n)
            .map(|i| [[i as u8, (i >> 8) as u8], [7; 2]].concat().repeat(8).try_into().unwrap())
            .collect();
        let signing: Vec<_> = secrets.iter().map(|s| ed25519_zebra::SigningKey::from(*s)).collect();
        let set = VoterSet {
            set_id: 0,
            keys: signing.iter().map(|k| <[u8; 32]>::from(k.verification_key())).collect(),
        };
        let mut messages = Vec::new();
        for kind in [VoteKind::Prevote, VoteKind::Precommit] {
            for voter in 1..n {
                let payload = signed_payload(kind, &main_block(2), 1, 0);
                let signature = signing[usize::from(voter)].sign(&payload).to_bytes();
                let vote = SignedVote { round: 1, set_id: 0, kind, target: main_block(2), voter, signature };
                messages.push((set.keys[usize::from(voter)], vote));
            }
        }
        let mut group = c.benchmark_group("grandpa::vote");
        group.sample_size(10).throughput(Throughput::Elements(messages.len() as u64));
        group.bench_function(format!("validators={n}"), |b| {
            b.iter_batched(
                || Voter::new(Config { gossip_ms: 100 }, set.clone(), base, Some((0, secrets[0])), 0),
                |mut voter| {
                    let view = View { blocks: &blocks, known: &known };
                    for (from, vote) in &messages {
                        let input =
                            Input::Message { from: Some(*from), message: Message::Vote(vote.clone()) };
                        black_box(voter.handle(1, input, &view));
                    }
                    assert_eq!(voter.finalized(), main_block(2));
                    voter
                },
                BatchSize::LargeInput,
            )
        });
        group.finish();
        let mut group = c.benchmark_group("grandpa::ed25519_verify");
        group.sample_size(10).throughput(Throughput::Elements(messages.len() as u64));
        group.bench_function(format!("validators={n}"), |b| {
            b.iter(|| {
                for (key, vote) in &messages {
                    let payload = signed_payload(vote.kind, &vote.target, vote.round, vote.set_id);
                    ed25519_verify(key, &payload, &vote.signature).unwrap();
                }
            })
        });
        group.finish();
    }
}

criterion_group!(benches, votes);
criterion_main!(benches);
