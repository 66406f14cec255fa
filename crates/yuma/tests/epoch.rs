//! Epoch scenarios from subtensor's own tests (opentensor/subtensor, `pallets/subtensor/src/tests/epoch.rs`),
//! replayed through [`orrery_yuma::epoch`]. Subtensor runs them on its mock runtime; here the same state
//! (stakes, registrations, weights as `set_weights` stores them, the mock's parameters) is the input, and
//! every expected number is the one subtensor's test asserts.
//!
//! Every epoch a scenario runs is run twice: natively, and inside the PVM by Ψ_R on the committed
//! `services/yuma-epoch/yuma-epoch.jam` (the same crate compiled for the PVM, the arithmetic of the `subnet`
//! service). The two results must be equal field by field before the native one is checked against
//! subtensor's numbers, so those numbers hold for what the PVM computes too (issue 19).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use orrery_chain_spec::package::{local_account, refine_offline, Call};
use orrery_invocation::ProgramCache;
use orrery_state::ServiceAccount;
use orrery_types::{ChainSpec, ServiceId, WorkExecResult};
use orrery_yuma::codec::{decode_result, encode_input, error_code};
use orrery_yuma::epoch::carry_over;
use orrery_yuma::math::{u16_proportion_to_fixed, vec_u16_max_upscale_to_u16};
use orrery_yuma::{epoch, EpochError, EpochInput, EpochOutput, EpochParams, Neuron, I32F32};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The probe service's id in its local account map.
const PROBE: ServiceId = 1 << 16;

/// The committed probe blob in one local account, refined offline as `orrery service run` refines; one
/// program cache for the whole binary, so the blob is decoded once.
struct Probe {
    spec: ChainSpec,
    accounts: BTreeMap<ServiceId, ServiceAccount>,
    code_hash: [u8; 32],
    cache: ProgramCache,
}

fn probe() -> &'static Probe {
    static PROBE_ACCOUNT: OnceLock<Probe> = OnceLock::new();
    PROBE_ACCOUNT.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services/yuma-epoch/yuma-epoch.jam");
        let blob = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (code_hash, account) = local_account(&blob, 0);
        Probe {
            spec: ChainSpec::tiny(),
            accounts: BTreeMap::from([(PROBE, account)]),
            code_hash,
            cache: ProgramCache::new(),
        }
    })
}

/// Ψ_R of the probe on `payload`.
fn refine(payload: Vec<u8>) -> orrery_invocation::RefineOutput {
    let p = probe();
    let call = Call {
        service: PROBE,
        code_hash: p.code_hash,
        payload,
        refine_gas: p.spec.max_refine_gas,
        accumulate_gas: 0,
    };
    refine_offline(&p.spec, call, 1, &p.accounts, Some(&p.cache)).1
}

/// Ψ_R of the probe on `input`: its result (an error as its code) and the gas refine used.
fn pvm_epoch(input: &EpochInput) -> (Result<EpochOutput, u8>, u64) {
    let refined = refine(encode_input(input));
    match &refined.result {
        WorkExecResult::Ok(out) => {
            (decode_result(out).expect("the probe's output decodes"), refined.gas_used)
        }
        other => panic!("the probe's refine failed: {other:?} {:?}", refined.exit),
    }
}

/// The epoch natively and in the PVM; the two must agree field by field (an error by its code). Returns
/// the native result and the PVM's refine gas.
fn epoch_twice(input: &EpochInput) -> (Result<EpochOutput, EpochError>, u64) {
    let native = epoch(input);
    let (pvm, gas) = pvm_epoch(input);
    match (&native, &pvm) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.neurons.len(), b.neurons.len(), "neuron count, native vs PVM");
            for (uid, (x, y)) in a.neurons.iter().zip(&b.neurons).enumerate() {
                assert_eq!(x, y, "neuron {uid}'s output, native vs PVM");
            }
            assert_eq!(a.consensus, b.consensus, "consensus, native vs PVM");
            assert_eq!(a.incentive, b.incentive, "incentive, native vs PVM");
            assert_eq!(a.dividends, b.dividends, "dividends, native vs PVM");
            assert_eq!(a.validator_trust, b.validator_trust, "validator trust, native vs PVM");
            assert_eq!(a.ema_bonds, b.ema_bonds, "EMA bonds, native vs PVM");
        }
        (Err(e), Err(code)) => assert_eq!(error_code(e), *code, "{e}: native vs PVM"),
        _ => panic!("native {native:?} vs PVM {pvm:?}"),
    }
    (native, gas)
}

/// How many epochs a test ran through both, and the most refine gas one took in the PVM.
#[derive(Default)]
struct Compared {
    epochs: usize,
    max_gas: u64,
}

impl Compared {
    fn run(&mut self, input: &EpochInput) -> Result<EpochOutput, EpochError> {
        let (result, gas) = epoch_twice(input);
        self.epochs += 1;
        self.max_gas = self.max_gas.max(gas);
        result
    }

    fn add(&mut self, other: &Compared) {
        self.epochs += other.epochs;
        self.max_gas = self.max_gas.max(other.max_gas);
    }

    /// Prints the count and requires it to be the number of epochs the scenario runs, counted by hand.
    fn expect(&self, test: &str, epochs: usize) {
        println!("{test}: {} epochs, native = PVM (largest refine gas {})", self.epochs, self.max_gas);
        assert_eq!(self.epochs, epochs, "{test}: epochs compared");
    }
}

/// The mock runtime's parameters (`tests/mock.rs`): kappa 32767, bonds moving average 900000, activity
/// cutoff 5000, stake threshold 0, alpha sigmoid steepness 1000.
fn mock_params() -> EpochParams {
    EpochParams { max_allowed_validators: 100, ..EpochParams::default() }
}

/// A subnet as subtensor's tests build it: everyone registered at block 1 with the given stake.
struct Subnet {
    input: EpochInput,
    compared: Compared,
}

impl Subnet {
    fn new(params: EpochParams, stakes: &[u64]) -> Self {
        let neurons = stakes
            .iter()
            .map(|&stake| Neuron { stake, last_update: 1, block_at_registration: 1, ..Neuron::default() })
            .collect();
        Subnet {
            input: EpochInput {
                params,
                current_block: 1,
                tempo: 1,
                last_epoch_block: 0,
                owner_uid: None,
                neurons,
                emission: 1_000_000_000,
            },
            compared: Compared::default(),
        }
    }

    /// Subtensor's `set_weights` at the current block: values max-upscaled, stored in the order given.
    fn set_weights(&mut self, uid: usize, uids: &[u16], values: &[u16]) {
        let stored = vec_u16_max_upscale_to_u16(values);
        let neuron = &mut self.input.neurons[uid];
        neuron.weights = uids.iter().copied().zip(stored).collect();
        neuron.last_update = self.input.current_block;
    }

    /// One epoch on the current state, natively and in the PVM, without carrying anything over.
    fn run(&mut self) -> Result<EpochOutput, EpochError> {
        self.compared.run(&self.input)
    }

    fn epoch(&mut self) -> EpochOutput {
        let out = self.run().expect("well-formed input");
        carry_over(&mut self.input.neurons, &out);
        out
    }

    /// The mock's `next_block_no_epoch` then an epoch.
    fn next_block_and_epoch(&mut self) -> EpochOutput {
        self.input.current_block += 1;
        self.epoch()
    }

    /// Subtensor's `replace_neuron` at the current block: a new hotkey (no stake) takes `uid`; its weights,
    /// bonds and permit are cleared, others' weights on it are kept at 0, and it counts as updated and
    /// registered now.
    fn replace(&mut self, uid: u16) {
        let block = self.input.current_block;
        for x in self.input.neurons.iter_mut() {
            x.weights.iter_mut().filter(|(j, _)| *j == uid).for_each(|(_, w)| *w = 0);
        }
        self.input.neurons[uid as usize] =
            Neuron { last_update: block, block_at_registration: block, ..Neuron::default() };
    }

    /// Subtensor's `get_bonds(netuid)[i][j]`: the stored `u16` bond, 0 if absent.
    fn bond(&self, i: usize, j: u16) -> u16 {
        self.input.neurons[i].bonds.iter().find(|(c, _)| *c == j).map(|&(_, v)| v).unwrap_or(0)
    }
}

/// `test_bonds` (tests/epoch.rs): the legacy bond EMA over eight epochs as validators drop out to
/// self-weights and one validator moves all its weight to one server.
#[test]
fn test_bonds() {
    let params = EpochParams { max_allowed_validators: 8, bonds_penalty: u16::MAX, ..mock_params() };
    let mut net = Subnet::new(params, &[1, 2, 3, 4, 0, 0, 0, 0]);
    // The first epoch only hands out permits.
    net.epoch();
    net.input.current_block += 1;

    let servers: Vec<u16> = (4..8).collect();
    for uid in 0..4 {
        net.set_weights(uid, &servers, &[u16::MAX / 4, u16::MAX / 2, (u16::MAX / 4) * 3, u16::MAX]);
    }
    net.epoch();
    let column = |net: &Subnet, j: u16| (0..4).map(|i| net.bond(i, j)).collect::<Vec<_>>();
    assert_eq!(column(&net, 4), [16383, 32767, 49151, 65535]);

    // Self-weight only on val1.
    net.set_weights(0, &[0], &[u16::MAX]);
    net.next_block_and_epoch();
    assert_eq!(column(&net, 4), [14582, 32767, 49151, 65535]);

    // Self-weight only on val2.
    net.set_weights(1, &[1], &[u16::MAX]);
    net.next_block_and_epoch();
    assert_eq!(column(&net, 4), [12603, 28321, 49151, 65535]);

    // Self-weight only on val3.
    net.set_weights(2, &[2], &[u16::MAX]);
    net.next_block_and_epoch();
    assert_eq!(column(&net, 7), [12602, 28320, 49150, 65535]);

    // val3 -> srv4: 1.
    net.set_weights(2, &[7], &[u16::MAX]);
    net.next_block_and_epoch();
    assert_eq!(column(&net, 7), [10951, 24609, 49150, 65535]);

    net.next_block_and_epoch();
    assert_eq!(column(&net, 7), [9559, 21482, 49150, 65535]);

    net.next_block_and_epoch();
    assert_eq!(column(&net, 7), [8376, 18824, 49150, 65535]);
    net.compared.expect("test_bonds", 8);
}

/// `test_active_stake` (tests/epoch.rs): two validators with equal stake; after the activity cutoff only the
/// one that updated its weights keeps its active stake, which moves dividends, emission and bonds.
#[test]
fn test_active_stake() {
    let params = EpochParams { max_allowed_validators: 4, ..mock_params() };
    let mut net = Subnet::new(params, &[1, 1, 1, 1]);
    for x in net.input.neurons.iter_mut() {
        x.block_at_registration = 0;
        x.last_update = 0;
    }
    net.input.current_block = 0;
    net.epoch();
    net.input.current_block = 1;
    for uid in 0..2 {
        net.set_weights(uid, &[2, 3], &[u16::MAX / 2; 2]);
    }
    let out = net.epoch();
    for uid in 0..4 {
        if uid < 2 {
            assert_eq!(out.neurons[uid].dividend, 32767);
        }
        assert_eq!(out.neurons[uid].emission, 250_000_000);
    }
    for i in 0..2 {
        assert_eq!([net.bond(i, 0), net.bond(i, 1), net.bond(i, 2), net.bond(i, 3)], [0, 0, 65535, 65535]);
    }

    // Past the activity cutoff, uid 0 updates its weights.
    net.input.current_block = 5000 + 2;
    net.set_weights(0, &[2, 3], &[u16::MAX / 2; 2]);
    let out = net.epoch();
    assert_eq!(out.neurons[0].dividend, 36044);
    assert_eq!(out.neurons[0].emission, 274_999_999);
    assert_eq!([net.bond(0, 2), net.bond(0, 3)], [65535, 65535]);
    assert_eq!(out.neurons[1].dividend, 29490);
    assert_eq!(out.neurons[1].emission, 224_999_999);
    assert_eq!([net.bond(1, 2), net.bond(1, 3)], [53619, 53619]);

    // uid 1 updates too.
    net.set_weights(1, &[2, 3], &[u16::MAX / 2; 2]);
    let out = net.next_block_and_epoch();
    assert_eq!(out.neurons[0].dividend, 35716);
    assert_eq!(out.neurons[0].emission, 272_501_132);
    assert_eq!([net.bond(0, 2), net.bond(0, 3)], [65535, 65535]);
    assert_eq!(out.neurons[1].dividend, 29818);
    assert_eq!(out.neurons[1].emission, 227_498_866);
    assert_eq!([net.bond(1, 2), net.bond(1, 3)], [54712, 54712]);
    net.compared.expect("test_active_stake", 4);
}

/// `test_zero_weights` (tests/epoch.rs): with no usable weights (none, self-weights only, or weights on a
/// neuron registered since) the emission goes to stake; once weights count, miner and validator share it.
#[test]
fn test_zero_weights() {
    let mut net = Subnet::new(mock_params(), &[1, 0]);
    net.input.tempo = u64::from(u16::MAX - 1);
    for x in net.input.neurons.iter_mut() {
        x.block_at_registration = 0;
        x.last_update = 0;
    }
    net.input.current_block = 0;
    let emissions = |out: &EpochOutput| out.neurons.iter().map(|x| x.emission).collect::<Vec<_>>();
    assert_eq!(emissions(&net.epoch()), [1_000_000_000, 0]);

    // The server weighs only itself.
    net.input.current_block = 1;
    net.set_weights(1, &[1], &[u16::MAX]);
    assert_eq!(emissions(&net.epoch()), [1_000_000_000, 0]);

    // The validator weighs the server, but a new key takes the server's uid in the same block.
    net.input.current_block = 2;
    net.set_weights(0, &[1], &[u16::MAX]);
    net.replace(1);
    assert_eq!(emissions(&net.epoch()), [1_000_000_000, 0]);

    // Weights set after that registration count.
    net.input.current_block = 3;
    net.set_weights(0, &[1], &[u16::MAX]);
    assert_eq!(emissions(&net.epoch()), [500_000_000, 500_000_000]);
    net.compared.expect("test_zero_weights", 4);
}

/// `test_outdated_weights` (tests/epoch.rs): a server is deregistered and its uid taken by a new key; only
/// weights set after that registration count for the new neuron.
#[test]
fn test_outdated_weights() {
    let params = EpochParams { max_allowed_validators: 4, bonds_penalty: u16::MAX, ..mock_params() };
    let mut net = Subnet::new(params, &[1, 1, 1, 1]);
    net.input.tempo = 0;
    net.epoch();
    net.input.current_block += 1;
    for uid in 0..2 {
        net.set_weights(uid, &[2, 3], &[2 * (u16::MAX / 3), u16::MAX / 3]);
    }
    for uid in 2..4 {
        net.set_weights(uid, &[uid as u16], &[u16::MAX]);
    }
    net.epoch();

    // The least rewarded server (uid 3) is replaced by a new key, then uid 0 alone updates its weights.
    net.replace(3);
    net.input.current_block += 1;
    net.set_weights(0, &[2, 3], &[2 * (u16::MAX / 3), u16::MAX / 3]);
    let out = net.epoch();
    assert_eq!(out.neurons[0].dividend, 32767);
    assert_eq!(out.neurons[0].emission, 250_000_000);
    assert_eq!([net.bond(0, 2), net.bond(0, 3)], [65535, 65535]);
    net.compared.expect("test_outdated_weights", 3);
}

/// `test_can_set_self_weight_as_subnet_owner` (tests/epoch.rs): the owner's self-weight survives the diagonal
/// mask, so the owner (uid 0) and the other neuron earn the same, non-zero, miner emission.
#[test]
fn test_can_set_self_weight_as_subnet_owner() {
    let mut net = Subnet::new(mock_params(), &[5_000_000_000_000, 0]);
    net.input.owner_uid = Some(0);
    net.input.neurons[0].validator_permit = true;
    net.input.neurons[0].weights = vec![(0, u16::MAX / 2), (1, u16::MAX / 2)];
    net.input.current_block = 2;
    net.input.neurons[0].last_update = 2;
    net.input.neurons[1].last_update = 0;
    let out = net.run().expect("well-formed");
    assert!(out.neurons[0].server_emission > 0);
    assert!(out.neurons[1].server_emission > 0);
    assert_eq!(out.neurons[0].server_emission, out.neurons[1].server_emission);
    net.compared.expect("test_can_set_self_weight_as_subnet_owner", 1);
}

/// `test_epoch_outputs_single_staker_registered_no_weights` (tests/epoch.rs): a lone staker with no weights
/// still receives the whole emission (within subtensor's 1,000 units).
#[test]
fn test_epoch_outputs_single_staker_registered_no_weights() {
    let mut net = Subnet::new(mock_params(), &[1]);
    net.input.tempo = u64::from(u16::MAX - 1);
    let out = net.run().expect("well-formed");
    let paid: u64 = out.neurons.iter().map(|x| x.server_emission + x.validator_emission).sum();
    assert!(paid.abs_diff(1_000_000_000) <= 1_000, "{paid}");
    net.compared.expect("test_epoch_outputs_single_staker_registered_no_weights", 1);
}

/// `distribute_nodes` of subtensor's epoch tests: validators in a block, regularly interleaved, or at random
/// (a seeded shuffle here).
fn distribute_nodes(validators_n: usize, network_n: usize, interleave: usize) -> (Vec<u16>, Vec<u16>) {
    let uids: Vec<u16> = (0..network_n as u16).collect();
    match interleave {
        0 => (uids[..validators_n].to_vec(), uids[validators_n..].to_vec()),
        1 => uids.iter().partition(|&&i| i as usize % (network_n / validators_n) == 0),
        _ => {
            let mut permuted = uids;
            permuted.shuffle(&mut ChaCha8Rng::seed_from_u64(network_n as u64));
            (permuted[..validators_n].to_vec(), permuted[validators_n..].to_vec())
        }
    }
}

/// `test_validator_permits` (tests/epoch.rs): permits go to the top stakes at or above the stake threshold,
/// and move when servers out-stake the validators.
#[test]
fn test_validator_permits() {
    let mut compared = Compared::default();
    for interleave in 0..3 {
        for (network_n, validators_n) in [(2usize, 1usize), (4, 2), (8, 4)] {
            let min_stake = validators_n as u64;
            for assignment in 0..=1 {
                let (validators, servers) = distribute_nodes(validators_n, network_n, interleave);
                let mut stake = vec![0u64; network_n];
                for &v in &validators {
                    stake[v as usize] = if assignment == 1 { u64::from(v) + network_n as u64 } else { 1 };
                }
                for &s in &servers {
                    stake[s as usize] = if assignment == 1 { u64::from(s) } else { 0 };
                }
                let params = EpochParams {
                    max_allowed_validators: validators_n as u16,
                    stake_threshold: min_stake,
                    ..mock_params()
                };
                let mut net = Subnet::new(params, &stake);
                net.input.tempo = u64::from(u16::MAX - 1);
                for x in net.input.neurons.iter_mut() {
                    x.block_at_registration = 0;
                    x.last_update = 0;
                }
                net.input.current_block = 0;
                net.epoch();
                let permit = |net: &Subnet, uid: u16| net.input.neurons[uid as usize].validator_permit;
                for &v in &validators {
                    assert_eq!(
                        stake[v as usize] >= min_stake,
                        permit(&net, v),
                        "{interleave} {network_n} {v}"
                    );
                }
                for &s in &servers {
                    assert!(!permit(&net, s));
                }

                for &s in &servers {
                    net.input.neurons[s as usize].stake += 2 * network_n as u64;
                }
                net.input.current_block = 1;
                net.epoch();
                for &v in &validators {
                    assert!(!permit(&net, v));
                }
                for &s in &servers {
                    assert_eq!(stake[s as usize] + 2 * network_n as u64 >= min_stake, permit(&net, s));
                }
                compared.add(&net.compared);
            }
        }
    }
    // Three layouts, three sizes, two stake assignments, two epochs each.
    compared.expect("test_validator_permits", 36);
}

/// `test_1_graph` and `test_10_graph` (tests/epoch.rs): neurons that weigh only themselves produce no
/// consensus, incentive or dividends; ten equal stakers each get a tenth of the emission, by stake.
/// (Their rank and trust checks read storage subtensor no longer writes: always 0.)
#[test]
fn test_1_graph_and_test_10_graph() {
    let mut compared = Compared::default();
    for n in [1usize, 10] {
        let stake = if n == 1 { 1_000_000_000 } else { 1 };
        let mut net = Subnet::new(mock_params(), &vec![stake; n]);
        net.input.tempo = u64::from(u16::MAX - 1);
        for x in net.input.neurons.iter_mut() {
            x.block_at_registration = 0;
        }
        for uid in 0..n {
            net.set_weights(uid, &[uid as u16], &[u16::MAX]);
        }
        let out = net.epoch();
        for x in &out.neurons {
            assert_eq!((x.consensus, x.incentive, x.dividend), (0, 0, 0));
            if n == 10 {
                assert_eq!(x.emission, 99_999_999);
            }
        }
        compared.add(&net.compared);
    }
    compared.expect("test_1_graph_and_test_10_graph", 2);
}

/// What `setup_yuma_3_scenario` (tests/epoch.rs) configures: bonds penalty 0, steepness 1000, bonds moving
/// average 975000, κ = 65535/2, liquid alpha on with `set_alpha_values_32(0.1, 0.3)`, Yuma 3 on, three
/// validator permits.
fn yuma3_params(liquid_alpha: bool) -> EpochParams {
    // `set_alpha_values_32` stores `(x · 65535)` truncated to u16, computed in I32F32.
    let to_u16 = |x: f64| (I32F32::from_num(x) * I32F32::from_num(u16::MAX)).to_num::<u16>();
    EpochParams {
        bonds_penalty: 0,
        alpha_sigmoid_steepness: 1000,
        bonds_moving_average: 975_000,
        kappa: u16::MAX / 2,
        liquid_alpha,
        alpha_low: to_u16(0.1),
        alpha_high: to_u16(0.3),
        yuma3: true,
        max_allowed_validators: 3,
        ..mock_params()
    }
}

/// Replays a Yuma 3 scenario: per epoch, optionally new weights of the three validators on the servers
/// (uids 3, 4, ...), then `run_epoch_and_check_bonds_dividends`. Dividends are compared as subtensor does (the
/// stored `u16` read as a proportion, within 1e-3). Bonds, when given, are compared too, to subtensor's
/// targets for the servers' columns with the same 1e-3: subtensor's own check zips the target row after
/// `skip(3)`, which leaves nothing of a row as long as the server count, so it never reads them.
fn run_yuma3(
    stakes: &[u64],
    liquid_alpha: bool,
    weights: &[Option<Vec<Vec<u16>>>],
    target_bonds: Option<&[Vec<Vec<f32>>]>,
    target_dividends: &[Vec<f32>],
) {
    let mut net = Subnet::new(yuma3_params(liquid_alpha), stakes);
    let servers: Vec<u16> = (3..stakes.len() as u16).collect();
    net.next_block_and_epoch();
    let eps = I32F32::from_num(1e-3);
    for (e, w) in weights.iter().enumerate() {
        if let Some(w) = w {
            for (uid, row) in w.iter().enumerate() {
                net.set_weights(uid, &servers, row);
            }
        }
        let out = net.next_block_and_epoch();
        for (uid, target) in target_dividends[e].iter().enumerate() {
            let got = u16_proportion_to_fixed(out.neurons[uid].dividend);
            let want = I32F32::from_num(*target);
            assert!((got - want).abs() <= eps, "epoch {e}, dividend of {uid}: {got} vs {want}");
        }
        for (uid, row) in target_bonds.map(|t| t[e].as_slice()).unwrap_or_default().iter().enumerate() {
            for (k, target) in row.iter().enumerate() {
                let got = u16_proportion_to_fixed(net.bond(uid, servers[k]));
                let want = I32F32::from_num(*target);
                assert!((got - want).abs() <= eps, "epoch {e}, bond {uid}->{}: {got} vs {want}", servers[k]);
            }
        }
    }
    // The test's thread bears the test's name; one epoch before the scenario, then one per row.
    let test = std::thread::current().name().unwrap_or("run_yuma3").to_owned();
    net.compared.expect(&test, 1 + weights.len());
}

const MAX: u16 = u16::MAX;
const HALF: u16 = u16::MAX / 2;

fn all(row: &[u16]) -> Option<Vec<Vec<u16>>> {
    Some(vec![row.to_vec(); 3])
}

fn each(rows: [&[u16]; 3]) -> Option<Vec<Vec<u16>>> {
    Some(rows.iter().map(|r| r.to_vec()).collect())
}

fn table<const W: usize>(rows: &[[f32; W]]) -> Vec<Vec<f32>> {
    rows.iter().map(|r| r.to_vec()).collect()
}

/// `test_yuma_3_kappa_moves_first` (tests/epoch.rs).
#[test]
fn test_yuma_3_kappa_moves_first() {
    run_yuma3(
        &[8, 1, 1, 0, 0],
        true,
        &[
            all(&[MAX, 0]),
            each([&[0, MAX], &[MAX, 0], &[MAX, 0]]),
            each([&[0, MAX], &[0, MAX], &[MAX, 0]]),
            all(&[0, MAX]),
            None,
            None,
        ],
        Some(&[
            table(&[[0.1013, 0.0000], [0.1013, 0.0000], [0.1013, 0.0000]]),
            table(&[[0.0908, 0.1013], [0.3697, 0.0000], [0.3697, 0.0000]]),
            table(&[[0.0815, 0.1924], [0.3170, 0.1013], [0.5580, 0.0000]]),
            table(&[[0.0731, 0.2742], [0.2765, 0.1924], [0.4306, 0.1013]]),
            table(&[[0.0656, 0.3478], [0.2435, 0.2742], [0.3589, 0.1924]]),
            table(&[[0.0588, 0.4139], [0.2157, 0.3478], [0.3089, 0.2742]]),
        ]),
        &table(&[
            [0.8000, 0.1000, 0.1000, 0.0000, 0.0000],
            [1.0000, 0.0000, 0.0000, 0.0000, 0.0000],
            [0.9382, 0.0618, 0.0000, 0.0000, 0.0000],
            [0.8819, 0.0773, 0.0407, 0.0000, 0.0000],
            [0.8564, 0.0844, 0.0592, 0.0000, 0.0000],
            [0.8418, 0.0884, 0.0697, 0.0000, 0.0000],
        ]),
    );
}

/// `test_yuma_3_kappa_moves_second` (tests/epoch.rs).
#[test]
fn test_yuma_3_kappa_moves_second() {
    run_yuma3(
        &[8, 1, 1, 0, 0],
        true,
        &[
            all(&[MAX, 0]),
            each([&[MAX, 0], &[0, MAX], &[MAX, 0]]),
            each([&[0, MAX], &[0, MAX], &[MAX, 0]]),
            all(&[0, MAX]),
            None,
            None,
        ],
        Some(&[
            table(&[[0.1013, 0.0000], [0.1013, 0.0000], [0.1013, 0.0000]]),
            table(&[[0.1924, 0.0000], [0.0908, 0.2987], [0.1924, 0.0000]]),
            table(&[[0.1715, 0.1013], [0.0815, 0.3697], [0.4336, 0.0000]]),
            table(&[[0.1531, 0.1924], [0.0731, 0.4336], [0.3608, 0.1013]]),
            table(&[[0.1369, 0.2742], [0.0656, 0.4910], [0.3103, 0.1924]]),
            table(&[[0.1225, 0.3478], [0.0588, 0.5426], [0.2712, 0.2742]]),
        ]),
        &table(&[
            [0.8000, 0.1000, 0.1000, 0.0000, 0.0000],
            [0.8446, 0.0498, 0.1056, 0.0000, 0.0000],
            [0.6868, 0.3132, 0.0000, 0.0000, 0.0000],
            [0.7421, 0.2090, 0.0489, 0.0000, 0.0000],
            [0.7625, 0.1706, 0.0669, 0.0000, 0.0000],
            [0.7730, 0.1508, 0.0762, 0.0000, 0.0000],
        ]),
    );
}

/// `test_yuma_3_kappa_moves_last` (tests/epoch.rs).
#[test]
fn test_yuma_3_kappa_moves_last() {
    run_yuma3(
        &[8, 1, 1, 0, 0],
        true,
        &[
            all(&[MAX, 0]),
            each([&[MAX, 0], &[0, MAX], &[MAX, 0]]),
            each([&[MAX, 0], &[0, MAX], &[0, MAX]]),
            all(&[0, MAX]),
            None,
            None,
        ],
        Some(&[
            table(&[[0.1013, 0.0000], [0.1013, 0.0000], [0.1013, 0.0000]]),
            table(&[[0.1924, 0.0000], [0.0908, 0.2987], [0.1924, 0.0000]]),
            table(&[[0.2742, 0.0000], [0.0815, 0.5081], [0.1715, 0.2987]]),
            table(&[[0.2416, 0.1013], [0.0731, 0.5580], [0.1531, 0.3697]]),
            table(&[[0.2141, 0.1924], [0.0656, 0.6028], [0.1369, 0.4336]]),
            table(&[[0.1903, 0.2742], [0.0588, 0.6430], [0.1225, 0.4910]]),
        ]),
        &table(&[
            [0.8000, 0.1000, 0.1000, 0.0000, 0.0000],
            [0.8446, 0.0498, 0.1056, 0.0000, 0.0000],
            [0.8966, 0.0333, 0.0701, 0.0000, 0.0000],
            [0.4663, 0.3210, 0.2127, 0.0000, 0.0000],
            [0.5976, 0.2340, 0.1683, 0.0000, 0.0000],
            [0.6592, 0.1932, 0.1475, 0.0000, 0.0000],
        ]),
    );
}

/// `test_yuma_3_one_epoch_switch` (tests/epoch.rs).
#[test]
fn test_yuma_3_one_epoch_switch() {
    let first = all(&[MAX, 0]);
    run_yuma3(
        &[33, 33, 34, 0, 0],
        true,
        &[
            first.clone(),
            first.clone(),
            each([&[MAX, 0], &[MAX, 0], &[0, MAX]]),
            first.clone(),
            first.clone(),
            first,
        ],
        Some(&[
            table(&[[0.1013, 0.0000], [0.1013, 0.0000], [0.1013, 0.0000]]),
            table(&[[0.1924, 0.0000], [0.1924, 0.0000], [0.1924, 0.0000]]),
            table(&[[0.2742, 0.0000], [0.2742, 0.0000], [0.1715, 0.2987]]),
            table(&[[0.3478, 0.0000], [0.3478, 0.0000], [0.2554, 0.2618]]),
            table(&[[0.4139, 0.0000], [0.4139, 0.0000], [0.3309, 0.2312]]),
            table(&[[0.4733, 0.0000], [0.4733, 0.0000], [0.3987, 0.2051]]),
        ]),
        &table(&[
            [0.3300, 0.3300, 0.3400, 0.0000, 0.0000],
            [0.3300, 0.3300, 0.3400, 0.0000, 0.0000],
            [0.3782, 0.3782, 0.2436, 0.0000, 0.0000],
            [0.3628, 0.3628, 0.2745, 0.0000, 0.0000],
            [0.3541, 0.3541, 0.2917, 0.0000, 0.0000],
            [0.3487, 0.3487, 0.3026, 0.0000, 0.0000],
        ]),
    );
}

/// `test_yuma_3_liquid_alpha_disabled` (tests/epoch.rs): Yuma 3 with the fixed alpha. Dividends only: the
/// bond targets there have three entries per row for two servers and are never read by subtensor's check.
#[test]
fn test_yuma_3_liquid_alpha_disabled() {
    let first = all(&[MAX, 0]);
    run_yuma3(
        &[33, 33, 34, 0, 0],
        false,
        &[
            first.clone(),
            first.clone(),
            each([&[MAX, 0], &[MAX, 0], &[0, MAX]]),
            first.clone(),
            first.clone(),
            first,
        ],
        None,
        &table(&[
            [0.3300, 0.3300, 0.3400, 0.0000, 0.0000],
            [0.3300, 0.3300, 0.3400, 0.0000, 0.0000],
            [0.3734, 0.3734, 0.2532, 0.0000, 0.0000],
            [0.3611, 0.3611, 0.2779, 0.0000, 0.0000],
            [0.3541, 0.3541, 0.2919, 0.0000, 0.0000],
            [0.3495, 0.3495, 0.3009, 0.0000, 0.0000],
        ]),
    );
}

/// `test_yuma_3_stable_miner` (tests/epoch.rs): three servers.
#[test]
fn test_yuma_3_stable_miner() {
    run_yuma3(
        &[8, 1, 1, 0, 0, 0],
        true,
        &[
            all(&[HALF, 0, HALF]),
            each([&[HALF, 0, HALF], &[0, HALF, HALF], &[HALF, 0, HALF]]),
            each([&[0, HALF, HALF], &[0, HALF, HALF], &[HALF, 0, HALF]]),
            all(&[0, HALF, HALF]),
            None,
            None,
        ],
        Some(&[
            table(&[[0.0507, 0.0000, 0.0507], [0.0507, 0.0000, 0.0507], [0.0507, 0.0000, 0.0507]]),
            table(&[[0.0962, 0.0000, 0.0962], [0.0455, 0.1000, 0.0962], [0.0962, 0.0000, 0.0962]]),
            table(&[[0.0863, 0.0507, 0.1371], [0.0408, 0.1405, 0.1371], [0.1770, 0.0000, 0.1371]]),
            table(&[[0.0774, 0.0962, 0.1739], [0.0367, 0.1770, 0.1739], [0.1579, 0.0507, 0.1739]]),
            table(&[[0.0694, 0.1371, 0.2069], [0.0329, 0.2097, 0.2069], [0.1411, 0.0962, 0.2069]]),
            table(&[[0.0623, 0.1739, 0.2366], [0.0296, 0.2391, 0.2366], [0.1263, 0.1371, 0.2366]]),
        ]),
        &table(&[
            [0.8000, 0.1000, 0.1000, 0.0000, 0.0000, 0.0000],
            [0.8226, 0.0745, 0.1028, 0.0000, 0.0000, 0.0000],
            [0.7750, 0.1685, 0.0565, 0.0000, 0.0000, 0.0000],
            [0.7864, 0.1372, 0.0764, 0.0000, 0.0000, 0.0000],
            [0.7912, 0.1241, 0.0847, 0.0000, 0.0000, 0.0000],
            [0.7937, 0.1173, 0.0890, 0.0000, 0.0000, 0.0000],
        ]),
    );
}

/// Malformed input is refused with the reason, never a panic.
#[test]
fn bad_input_is_refused() {
    let mut net = Subnet::new(mock_params(), &[1, 1]);
    net.input.neurons[0].weights = vec![(2, 1)];
    assert_eq!(net.run(), Err(EpochError::UnknownUid { row: 0, column: 2 }));
    net.input.neurons[0].weights = vec![(1, 1), (1, 2)];
    assert_eq!(net.run(), Err(EpochError::DuplicateUid { row: 0, column: 1 }));
    net.input.neurons[0].weights = vec![];
    net.input.owner_uid = Some(5);
    assert_eq!(net.run(), Err(EpochError::UnknownOwner(5)));
    net.input.owner_uid = None;
    net.input.neurons[1].bonds = vec![(0, 1), (7, 1)];
    assert_eq!(net.run(), Err(EpochError::UnknownUid { row: 1, column: 7 }));
    net.input.neurons[1].bonds = vec![];
    net.input.neurons[0].stake = u64::MAX;
    net.input.neurons[1].stake = u64::MAX;
    assert_eq!(net.run(), Err(EpochError::StakeOverflow));
    net.input.neurons[1].stake = 0;
    net.input.neurons = (0..40_000u16).map(|_| Neuron::default()).collect();
    net.input.neurons[0].stake = 1;
    net.input.neurons[0].weights = (1..40_000u16).map(|j| (j, u16::MAX)).collect();
    assert_eq!(net.run(), Err(EpochError::WeightSumOverflow(0)));
    net.input.neurons = vec![Neuron::default(); 65_536];
    assert_eq!(net.run(), Err(EpochError::TooManyNeurons(65_536)));
    net.compared.expect("bad_input_is_refused", 7);
}

/// `test_yuma_3_bonds_reset` (tests/epoch.rs): 41 epochs; at epoch 20 the bonds on server uid 3 are reset
/// (subtensor's `do_reset_bonds`: the column is removed from every stored bond row) and at epoch 21 the
/// small validators move back to server 3 first. Dividends and bonds checked at subtensor's epochs, 1e-3.
#[test]
fn test_yuma_3_bonds_reset() {
    let mut net = Subnet::new(yuma3_params(true), &[8, 1, 1, 0, 0]);
    net.next_block_and_epoch();
    let eps = I32F32::from_num(1e-3);
    let targets: [(usize, [f32; 5], [[f32; 2]; 3]); 7] = [
        (0, [0.8000, 0.1000, 0.1000, 0.0, 0.0], [[0.1013, 0.0000], [0.1013, 0.0000], [0.1013, 0.0000]]),
        (1, [0.8944, 0.0528, 0.0528, 0.0, 0.0], [[0.1924, 0.0000], [0.0908, 0.2987], [0.0908, 0.2987]]),
        (2, [0.5230, 0.2385, 0.2385, 0.0, 0.0], [[0.1715, 0.1013], [0.0815, 0.3697], [0.0815, 0.3697]]),
        (19, [0.7919, 0.1040, 0.1040, 0.0, 0.0], [[0.0269, 0.8539], [0.0131, 0.8975], [0.0131, 0.8975]]),
        (20, [0.7928, 0.1036, 0.1036, 0.0, 0.0], [[0.0000, 0.8687], [0.0000, 0.9079], [0.0000, 0.9079]]),
        (21, [0.8467, 0.0766, 0.0766, 0.0, 0.0], [[0.0000, 0.8820], [0.2987, 0.6386], [0.2987, 0.6386]]),
        (40, [0.7928, 0.1036, 0.1036, 0.0, 0.0], [[0.8687, 0.0578], [0.9079, 0.0523], [0.9079, 0.0523]]),
    ];
    for e in 0..=40 {
        let rows: [[u16; 2]; 3] = match e {
            0 => [[MAX, 0]; 3],
            1 => [[MAX, 0], [0, MAX], [0, MAX]],
            2..=20 => [[0, MAX]; 3],
            21 => [[0, MAX], [MAX, 0], [MAX, 0]],
            _ => [[MAX, 0]; 3],
        };
        for (uid, row) in rows.iter().enumerate() {
            net.set_weights(uid, &[3, 4], row);
        }
        if e == 20 {
            for x in net.input.neurons.iter_mut() {
                x.bonds.retain(|(j, _)| *j != 3);
            }
        }
        let out = net.next_block_and_epoch();
        let Some((_, dividends, bonds)) = targets.iter().find(|t| t.0 == e) else { continue };
        for (uid, want) in dividends.iter().enumerate() {
            let got = u16_proportion_to_fixed(out.neurons[uid].dividend);
            assert!(
                (got - I32F32::from_num(*want)).abs() <= eps,
                "epoch {e}, dividend {uid}: {got} vs {want}"
            );
        }
        for (uid, row) in bonds.iter().enumerate() {
            for (k, want) in row.iter().enumerate() {
                let got = u16_proportion_to_fixed(net.bond(uid, 3 + k as u16));
                assert!(
                    (got - I32F32::from_num(*want)).abs() <= eps,
                    "epoch {e}, bond {uid}: {got} vs {want}"
                );
            }
        }
    }
    net.compared.expect("test_yuma_3_bonds_reset", 42);
}

/// `test_deregistered_miner_bonds` (tests/epoch.rs): once a miner's uid is taken by a new registration, bonds
/// on it are dropped (it registered after the last tempo) and the weights set before that registration do not
/// count, so the bond on the other miner does not fall and the bond on the new one does not rise.
#[test]
fn test_deregistered_miner_bonds() {
    let params = EpochParams { max_allowed_validators: 4, bonds_penalty: u16::MAX, ..mock_params() };
    let mut net = Subnet::new(params, &[1, 1, 1, 1]);
    net.input.tempo = u64::from(u16::MAX - 1);
    net.epoch();
    net.input.current_block = 2;
    for uid in 0..2 {
        net.set_weights(uid, &[2, 3], &[2 * (u16::MAX / 3), u16::MAX / 3]);
    }
    net.input.current_block = 4;
    net.input.tempo = 2;
    net.epoch();
    let (bond_0_2, bond_0_3) = (net.bond(0, 2), net.bond(0, 3));
    assert!(bond_0_2 > 0 && bond_0_3 > 0);

    net.input.current_block = 5;
    net.replace(3);
    for uid in 0..2 {
        net.set_weights(uid, &[2, 3], &[2 * (u16::MAX / 3), u16::MAX / 3]);
    }
    net.input.current_block = 6;
    net.epoch();
    assert!(net.bond(0, 2) >= bond_0_2, "{} vs {bond_0_2}", net.bond(0, 2));
    assert!(net.bond(0, 3) <= bond_0_3, "{} vs {bond_0_3}", net.bond(0, 3));
    net.compared.expect("test_deregistered_miner_bonds", 3);
}

/// Modelled on `test_epoch_masks_incoming_to_sniped_uid_prevents_inheritance` (tests/epoch.rs), whose chain
/// setup (registrations through the coinbase) is not reproduced: a validator with a live weight commit from
/// before a miner's registration cannot direct incentive to that miner, even by weights set after it; the
/// same weights count without the commit.
#[test]
fn commit_reveal_masks_uids_registered_after_the_commit() {
    let mut net = Subnet::new(EpochParams { max_allowed_validators: 3, ..mock_params() }, &[10_000, 100, 0]);
    net.input.neurons[0].validator_permit = true;
    net.input.neurons[2].block_at_registration = 22;
    net.input.current_block = 23;
    net.set_weights(0, &[1, 2], &[u16::MAX / 2, u16::MAX / 2]);
    let open = net.run().expect("well-formed");
    assert!(open.neurons[2].incentive > 0);

    net.input.neurons[0].earliest_commit_block = Some(21);
    let masked = net.run().expect("well-formed");
    assert_eq!(masked.neurons[2].incentive, 0);
    assert_eq!(masked.neurons[1].incentive, u16::MAX);
    net.compared.expect("commit_reveal_masks_uids_registered_after_the_commit", 2);
}

/// The probe refuses, by a panic, a payload that is not one encoded input: cut short, or with an octet
/// after it.
#[test]
fn the_probe_panics_on_a_payload_that_is_not_an_input() {
    let input = Subnet::new(mock_params(), &[1, 1]).input;
    let mut payload = encode_input(&input);
    assert!(matches!(refine(payload.clone()).result, WorkExecResult::Ok(_)));
    payload.push(0);
    assert_eq!(refine(payload.clone()).result, WorkExecResult::Panic);
    payload.truncate(payload.len() - 2);
    assert_eq!(refine(payload).result, WorkExecResult::Panic);
    assert_eq!(refine(vec![]).result, WorkExecResult::Panic);
}
