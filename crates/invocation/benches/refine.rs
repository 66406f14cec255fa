//! Ψ_R's speed on a compute-heavy service, and what refinement adds to a bare PVM run.
//!
//! `refine::compute/…`: the `compute-service` guest (the `compute` guest's BLAKE2b-256 over an
//! xorshift64 stream, as a service's refine; guests/compute-service) refined through Ψ_R:
//! - `refine_cached`: with a [`ProgramCache`], as a node refining the same service again would;
//! - `refine_cold`: decoding the code from its preimage every time;
//! - `psi_m_only`: the same program and arguments through Ψ_M alone (no historical lookup, no
//!   refine dispatcher), the floor refinement stands on.
//!
//! Those rows run on the interpreter; the rows with `,pvm=recompiler` run the same on the
//! recompiler (orrery-pvm-jit, its code from the process's code cache), in the same run.
//!
//! `refine::is_authorized/…`: the `authorizer` guest through Ψ_I.
//!
//! After criterion's runs a summary measures each variant again (best of several runs) and prints
//! instructions per second and the ratios.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use orrery_codec::Encode;
use orrery_invocation::is_authorized::is_authorized;
use orrery_invocation::refine::{refine, refine_arguments, RefineInputs};
use orrery_invocation::{Backend, ProgramCache};
use orrery_pvm::{invoke_program, InvocationResult, NoHost, StandardProgram};
use orrery_state::{ServiceAccount, ServiceInfo};
use orrery_types::{ChainSpec, RefineContext, WorkExecResult, WorkItem, WorkPackage};

#[path = "../../../guests/compute/src/work.rs"]
#[allow(dead_code)]
mod work;

const COMPUTE: &[u8] = include_bytes!("../../../guests/compute-service.jam");
const AUTHORIZER: &[u8] = include_bytes!("../../../guests/authorizer.jam");
const SERVICE: u32 = 1729;
const AUTH_HOST: u32 = 3;
const BLOCK_COUNTS: [u32; 2] = [1024, 8192];

struct Setup {
    spec: ChainSpec,
    accounts: BTreeMap<u32, ServiceAccount>,
}

fn holding(blob: &[u8]) -> ServiceAccount {
    let hash = orrery_crypto::blake2b_256(blob);
    let mut account =
        ServiceAccount::new(ServiceInfo { balance: 1 << 40, code_hash: hash, ..Default::default() });
    account.set_preimage(&hash, blob.to_vec());
    account.set_request(&hash, blob.len() as u32, &[0]);
    account
}

fn setup() -> Setup {
    let accounts = [(SERVICE, holding(COMPUTE)), (AUTH_HOST, holding(AUTHORIZER))].into_iter().collect();
    Setup { spec: ChainSpec::tiny(), accounts }
}

fn package(blocks: u32) -> WorkPackage {
    WorkPackage {
        auth_code_host: AUTH_HOST,
        auth_code_hash: orrery_crypto::blake2b_256(AUTHORIZER),
        context: RefineContext {
            anchor: [0; 32],
            state_root: [0; 32],
            beefy_root: [0; 32],
            lookup_anchor: [0; 32],
            lookup_anchor_slot: 10,
            prerequisites: Vec::new(),
        },
        authorization: b"key".to_vec(),
        authorizer_config: b"key".to_vec(),
        items: vec![WorkItem {
            service: SERVICE,
            code_hash: orrery_crypto::blake2b_256(COMPUTE),
            refine_gas_limit: 1 << 40,
            accumulate_gas_limit: 0,
            export_count: 0,
            payload: blocks.to_le_bytes().to_vec(),
            import_segments: Vec::new(),
            extrinsic: Vec::new(),
        }],
    }
}

/// One refinement: the digest and the gas (= instructions plus nothing: no host calls) used.
fn run_refine(
    setup: &Setup,
    package: &WorkPackage,
    hash: &[u8; 32],
    cache: Option<&ProgramCache>,
) -> (Vec<u8>, u64) {
    let inputs = RefineInputs {
        spec: &setup.spec,
        package,
        auth_trace: &[],
        item_index: 0,
        imports: &[Vec::new()],
        extrinsics: &[Vec::new()],
        export_offset: 0,
    };
    let output = refine(inputs, 0, hash, &setup.accounts, cache);
    match output.result {
        WorkExecResult::Ok(digest) => (digest, output.gas_used),
        other => panic!("refine failed: {other:?}"),
    }
}

fn run_psi_m(program: &StandardProgram, args: &[u8]) -> (Vec<u8>, u64) {
    match invoke_program(program, 0, 1 << 40, args, &mut NoHost) {
        (used, InvocationResult::Output(digest)) => (digest, used),
        (_, other) => panic!("Ψ_M failed: {other:?}"),
    }
}

/// Ψ_M alone on the recompiler, compiled code taken from the process's cache as Ψ_R takes it.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn run_psi_m_recompiled(program: &StandardProgram, args: &[u8]) -> (Vec<u8>, u64) {
    let hash = orrery_crypto::blake2b_256(COMPUTE);
    let compiled =
        orrery_pvm_jit::CodeCache::global().get_or_compile(&hash, program.program()).expect("compiles");
    match orrery_pvm_jit::invoke(program, &compiled, 0, 1 << 40, args, &mut NoHost) {
        Ok((used, InvocationResult::Output(digest))) => (digest, used),
        other => panic!("Ψ_M failed: {other:?}"),
    }
}

/// The backends to measure, each with the suffix its rows carry.
fn backends() -> Vec<(Backend, &'static str)> {
    let mut out = vec![(Backend::Interpreter, "")];
    if Backend::Recompiler.is_supported() {
        out.push((Backend::Recompiler, ",pvm=recompiler"));
    }
    out
}

fn compute(c: &mut Criterion) {
    for (backend, suffix) in backends() {
        Backend::set_current(backend).expect("supported");
        compute_on(c, backend, suffix);
    }
    Backend::set_current(Backend::Interpreter).expect("everywhere");
}

fn compute_on(c: &mut Criterion, backend: Backend, suffix: &str) {
    let setup = setup();
    let cache = ProgramCache::new();
    let (_, program) = StandardProgram::from_service_code(COMPUTE).expect("the committed guest decodes");
    let psi_m = move |program: &StandardProgram, args: &[u8]| match backend {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        Backend::Recompiler => run_psi_m_recompiled(program, args),
        _ => run_psi_m(program, args),
    };
    let mut group = c.benchmark_group("refine::compute");
    group.sample_size(10);
    for blocks in BLOCK_COUNTS {
        let package = package(blocks);
        let hash = orrery_crypto::blake2b_256(&package.encode());
        let args = refine_arguments(0, 0, SERVICE, &package.items[0].payload, &hash);
        let expected = work::blake2b_256_of_stream(u64::from(blocks)).to_vec();
        let (digest, gas) = run_refine(&setup, &package, &hash, Some(&cache));
        assert_eq!(digest, expected);
        assert_eq!(psi_m(&program, &args).0, expected);
        group.throughput(Throughput::Elements(gas));
        let param = format!("blocks={blocks}{suffix}");
        group.bench_function(BenchmarkId::new("refine_cached", &param), |b| {
            b.iter(|| run_refine(&setup, &package, &hash, Some(&cache)))
        });
        group.bench_function(BenchmarkId::new("refine_cold", &param), |b| {
            b.iter(|| run_refine(&setup, &package, &hash, None))
        });
        group.bench_function(BenchmarkId::new("psi_m_only", &param), |b| b.iter(|| psi_m(&program, &args)));
    }
    group.finish();
}

fn authorize(c: &mut Criterion) {
    for (backend, suffix) in backends() {
        Backend::set_current(backend).expect("supported");
        authorize_on(c, suffix);
    }
    Backend::set_current(Backend::Interpreter).expect("everywhere");
}

fn authorize_on(c: &mut Criterion, suffix: &str) {
    let setup = setup();
    let package = package(1);
    let cache = ProgramCache::new();
    let out = is_authorized(&setup.spec, &package, 0, &setup.accounts, Some(&cache));
    assert_eq!(out.result, WorkExecResult::Ok(b"authorized\x00\x00".to_vec()));
    let mut group = c.benchmark_group("refine::is_authorized");
    group.bench_function(BenchmarkId::new("authorizer", format!("cached{suffix}")), |b| {
        b.iter(|| is_authorized(&setup.spec, &package, 0, &setup.accounts, Some(&cache)))
    });
    group.bench_function(BenchmarkId::new("authorizer", format!("cold{suffix}")), |b| {
        b.iter(|| is_authorized(&setup.spec, &package, 0, &setup.accounts, None))
    });
    group.finish();
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn summary() {
    for (backend, _) in backends() {
        Backend::set_current(backend).expect("supported");
        summary_on(backend);
    }
}

fn summary_on(backend: Backend) {
    let setup = setup();
    let cache = ProgramCache::new();
    let (_, program) = StandardProgram::from_service_code(COMPUTE).expect("decodes");
    let psi_m = move |program: &StandardProgram, args: &[u8]| match backend {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        Backend::Recompiler => run_psi_m_recompiled(program, args),
        _ => run_psi_m(program, args),
    };
    println!("\nrefine summary on the {backend} (best of 15):");
    for blocks in BLOCK_COUNTS {
        let package = package(blocks);
        let hash = orrery_crypto::blake2b_256(&package.encode());
        let args = refine_arguments(0, 0, SERVICE, &package.items[0].payload, &hash);
        let (_, gas) = run_refine(&setup, &package, &hash, Some(&cache));
        let cached = best_of(15, || run_refine(&setup, &package, &hash, Some(&cache)));
        let cold = best_of(15, || run_refine(&setup, &package, &hash, None));
        let bare = best_of(15, || psi_m(&program, &args));
        let mips = |d: Duration| gas as f64 / d.as_secs_f64() / 1e6;
        println!("  blocks={blocks}: {gas} instructions");
        println!(
            "    Ψ_R cached   {:>9.3} ms  {:>6.0} M instructions/s",
            cached.as_secs_f64() * 1e3,
            mips(cached)
        );
        println!(
            "    Ψ_R cold     {:>9.3} ms  {:>6.0} M instructions/s",
            cold.as_secs_f64() * 1e3,
            mips(cold)
        );
        println!(
            "    Ψ_M only     {:>9.3} ms  {:>6.0} M instructions/s",
            bare.as_secs_f64() * 1e3,
            mips(bare)
        );
        println!("    ratio Ψ_R cached / Ψ_M: {:.3}", cached.as_secs_f64() / bare.as_secs_f64());
    }
    let package = package(1);
    let auth = best_of(15, || is_authorized(&setup.spec, &package, 0, &setup.accounts, Some(&cache)));
    println!("  Ψ_I authorizer (cached): {:.1} µs", auth.as_secs_f64() * 1e6);
}

criterion_group!(benches, compute, authorize);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
