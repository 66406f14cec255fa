//! Encode and reconstruct throughput of `orrery-erasure` against `reed-solomon-simd` called directly on
//! the same shard counts and sizes, which is the limit this crate can reach: it adds the paper's byte
//! layout, zero padding, input checks and owned output around the same arithmetic.
//!
//! Cases (full spec, 342 of 1,023): one 4,104-byte segment (12-byte chunks) and a 12 MB bundle
//! (35,088-byte chunks). Each is run three ways:
//! - `erasure::<op>`: the one-call API (`encode`, `reconstruct`), fresh output every call;
//! - `erasure::<op>_into`: the same with a reused `Workspace` and output buffer;
//! - `reed_solomon_simd::<op>`: the library alone, one encoder/decoder reset and reused, shards fed
//!   already in its layout, results only looked at in place, so no output is materialised.
//!
//! Reconstruction is the worst case, from the last 342 chunks (no data chunk at all).
//!
//! After criterion's report, each of our variants is timed again interleaved with the direct call
//! (alternating, so both see the same load on a shared machine) and the run prints the ratio of the
//! medians: direct time / our time, 1.00 meaning as fast as the limit.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use orrery_erasure::{Chunks, ErasureCoder, Workspace};
use orrery_types::ChainSpec;
use reed_solomon_simd::{ReedSolomonDecoder, ReedSolomonEncoder};

const SEGMENT: usize = 4104;
const BUNDLE: usize = 12_000_000;
/// Time spent on each interleaved comparison, split between the two sides.
const INTERLEAVED_BUDGET: Duration = Duration::from_secs(4);

type Routine<'a> = Box<dyn FnMut() + 'a>;

/// One operation on one size: our two variants and the direct call.
struct Case<'a> {
    op: &'static str,
    param: &'static str,
    bytes: usize,
    one_call: Routine<'a>,
    reused: Routine<'a>,
    direct: Routine<'a>,
}

fn blob(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// Data, its chunks and the worst-case subset for one size, kept alive for the routines.
struct Inputs {
    param: &'static str,
    len: usize,
    data: Vec<u8>,
    chunks: Chunks,
    /// The library's own layout: any bytes will do, the work is the same.
    library_originals: Vec<u8>,
}

fn cases<'a>(coder: &'a ErasureCoder, inputs: &'a [Inputs]) -> Vec<Case<'a>> {
    let (n, total) = (coder.data_shards(), coder.total_shards());
    let recovery_count = total - n;
    let mut cases = Vec::new();
    for input in inputs {
        let (len, data) = (input.len, &input.data);
        let chunk_len = coder.chunk_len(len);
        let last: Vec<(usize, &[u8])> = (total - n..total).map(|i| (i, &input.chunks[i])).collect();

        let (mut workspace, mut out) = (Workspace::new(), Chunks::default());
        let mut encoder = ReedSolomonEncoder::new(n, recovery_count, chunk_len).expect("encoder");
        cases.push(Case {
            op: "encode",
            param: input.param,
            bytes: len,
            one_call: Box::new(move || {
                black_box(coder.encode(black_box(data)).expect("encode"));
            }),
            reused: Box::new(move || {
                coder.encode_into(&mut workspace, black_box(data), &mut out).expect("encode");
                black_box(&out);
            }),
            direct: Box::new(move || {
                encoder.reset(n, recovery_count, chunk_len).expect("reset");
                for shard in input.library_originals.chunks_exact(chunk_len) {
                    encoder.add_original_shard(black_box(shard)).expect("add");
                }
                let result = encoder.encode().expect("encode");
                for shard in result.recovery_iter() {
                    black_box(shard);
                }
            }),
        });

        let (mut workspace, mut out) = (Workspace::new(), Vec::new());
        let mut decoder = ReedSolomonDecoder::new(n, recovery_count, chunk_len).expect("decoder");
        let (last_one, last_reused, last_direct) = (last.clone(), last.clone(), last);
        cases.push(Case {
            op: "reconstruct",
            param: input.param,
            bytes: len,
            one_call: Box::new(move || {
                black_box(coder.reconstruct(black_box(last_one.iter().copied()), len).expect("reconstruct"));
            }),
            reused: Box::new(move || {
                coder
                    .reconstruct_into(&mut workspace, black_box(last_reused.iter().copied()), len, &mut out)
                    .expect("reconstruct");
                black_box(&out);
            }),
            direct: Box::new(move || {
                decoder.reset(n, recovery_count, chunk_len).expect("reset");
                for &(i, shard) in &last_direct {
                    decoder.add_recovery_shard(i - n, black_box(shard)).expect("add");
                }
                let result = decoder.decode().expect("decode");
                for restored in result.restored_original_iter() {
                    black_box(restored);
                }
            }),
        });
    }
    cases
}

/// Runs `routine` under criterion; remembers that it ran (a filter may skip it).
fn bench(
    c: &mut Criterion,
    ran: &RefCell<BTreeSet<String>>,
    group: &str,
    id: &str,
    bytes: usize,
    routine: &mut Routine<'_>,
) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function(id, |b| {
        ran.borrow_mut().insert(format!("{group}/{id}"));
        b.iter(&mut *routine)
    });
    g.finish();
}

fn time(routine: &mut Routine<'_>) -> Duration {
    let start = Instant::now();
    routine();
    start.elapsed()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Medians of `ours` and `direct`, timed alternately within the budget.
fn interleaved(ours: &mut Routine<'_>, direct: &mut Routine<'_>) -> (Duration, Duration) {
    // Warm both (coders built, buffers grown) and size the rounds from one timing of each.
    ours();
    direct();
    let round = time(ours) + time(direct);
    let rounds =
        (INTERLEAVED_BUDGET.as_secs_f64() / round.as_secs_f64().max(1e-9)).clamp(7.0, 5000.0) as usize;
    let (mut a, mut b) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for i in 0..rounds {
        if i % 2 == 0 {
            a.push(time(ours));
            b.push(time(direct));
        } else {
            b.push(time(direct));
            a.push(time(ours));
        }
    }
    (median(a), median(b))
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let test_mode = std::env::args().any(|a| a == "--test");
    let coder = ErasureCoder::for_spec(&ChainSpec::full()).expect("full code");
    let inputs: Vec<Inputs> = [("segment=4104", SEGMENT), ("bundle=12MB", BUNDLE)]
        .into_iter()
        .map(|(param, len)| {
            let data = blob(len, len as u64);
            let chunks = coder.encode(&data).expect("encode");
            let library_originals = blob(coder.data_shards() * coder.chunk_len(len), 7);
            Inputs { param, len, data, chunks, library_originals }
        })
        .collect();
    let mut cases = cases(&coder, &inputs);
    let ran = RefCell::new(BTreeSet::new());

    for case in &mut cases {
        let (op, param, bytes) = (case.op, case.param, case.bytes);
        bench(&mut c, &ran, &format!("erasure::{op}"), param, bytes, &mut case.one_call);
        bench(&mut c, &ran, &format!("erasure::{op}_into"), param, bytes, &mut case.reused);
        bench(&mut c, &ran, &format!("reed_solomon_simd::{op}"), param, bytes, &mut case.direct);
    }
    c.final_summary();
    if test_mode {
        return;
    }

    println!("\nInterleaved medians; ratio = reed-solomon-simd direct / orrery-erasure (1.00 = the limit)");
    let ran = ran.into_inner();
    for case in &mut cases {
        let (op, param) = (case.op, case.param);
        let direct_name = format!("reed_solomon_simd::{op}/{param}");
        for (variant, routine) in
            [(op.to_string(), &mut case.one_call), (format!("{op}_into"), &mut case.reused)]
        {
            if !ran.contains(&direct_name) || !ran.contains(&format!("erasure::{variant}/{param}")) {
                continue;
            }
            let (ours, direct) = interleaved(routine, &mut case.direct);
            let mib_s = |t: Duration| case.bytes as f64 / t.as_secs_f64() / (1024.0 * 1024.0);
            println!(
                "erasure::{variant:<16} {param:<13} orrery {:>10.3?} ({:>7.1} MiB/s)  direct {:>10.3?} ({:>7.1} MiB/s)  ratio {:.2}",
                ours,
                mib_s(ours),
                direct,
                mib_s(direct),
                direct.as_secs_f64() / ours.as_secs_f64()
            );
        }
    }
}
