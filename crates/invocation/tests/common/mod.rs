//! Shared by the host-call and Ψ_A tests: a few PVM instructions assembled by hand, service code
//! blobs built from them, a partial state for the tiny spec, and a way to run one host call.
#![allow(dead_code)]

use orrery_invocation::accumulate::{AccumulateHost, PartialState, StateView};
use orrery_invocation::AccumulationInput;
use orrery_pvm::{Exit, Machine, StandardProgram};
use orrery_state::{ServiceAccount, ServiceInfo};
use orrery_types::{ChainSpec, Hash, ServiceId, TimeSlot};

#[allow(unused_imports)]
pub use orrery_invocation::testing::RO_BYTE;
// Not every test binary that shares this module uses every name.
#[allow(unused_imports)]
pub use orrery_invocation::testing::{Asm, RO, RW, UNMAPPED};

pub fn spec() -> ChainSpec {
    ChainSpec::tiny()
}

pub fn account(balance: u64) -> ServiceAccount {
    ServiceAccount::new(ServiceInfo { balance, ..ServiceInfo::default() })
}

#[allow(unused_imports)]
pub use orrery_invocation::testing::service_with_code as account_with_code;

/// A tiny-spec partial state with these accounts, zero keys and queues, and no privileges.
pub fn partial_state(accounts: Vec<(ServiceId, ServiceAccount)>) -> PartialState {
    PartialState::local(&spec(), accounts.into_iter().collect(), 0)
}

/// Everything one host call runs with.
pub struct Env {
    pub spec: ChainSpec,
    pub state: PartialState,
    pub entropy: Hash,
    pub inputs: Vec<AccumulationInput>,
    pub slot: TimeSlot,
    pub service: ServiceId,
}

impl Env {
    pub fn new(state: PartialState, service: ServiceId) -> Self {
        Self { spec: spec(), state, entropy: [0x11; 32], inputs: Vec::new(), slot: 100, service }
    }

    /// A fresh host: both dimensions the unchanged state.
    pub fn host(&self) -> AccumulateHost<'_> {
        AccumulateHost::new(
            &self.spec,
            self.slot,
            &self.entropy,
            &self.inputs,
            self.service,
            StateView::new(&self.state),
        )
    }
}

/// The result of one host call: how the run ended, the machine after it and the host.
pub struct Run<'a> {
    pub exit: Exit,
    pub machine: Machine,
    pub host: AccumulateHost<'a>,
}

impl Run<'_> {
    pub fn reg(&self, i: usize) -> u64 {
        self.machine.reg(i)
    }

    pub fn mem(&self, address: u32, length: u32) -> Vec<u8> {
        self.machine.memory.read_vec(address, length).unwrap()
    }
}

/// The gas a call program uses before its call: its one basic block, `ecalli` and `jump_ind`.
pub const BLOCK_GAS: i64 = 2;

/// Runs `ecalli index` then halts, with the registers and memory given and `gas`.
pub fn call<'a>(
    env: &'a Env,
    index: u32,
    regs: &[(usize, u64)],
    memory: &[(u32, &[u8])],
    gas: i64,
) -> Run<'a> {
    call_with(env, env.host(), index, regs, memory, gas)
}

/// As [`call`], with a host already set up (for calls made one after another).
pub fn call_with<'a>(
    _env: &'a Env,
    mut host: AccumulateHost<'a>,
    index: u32,
    regs: &[(usize, u64)],
    memory: &[(u32, &[u8])],
    gas: i64,
) -> Run<'a> {
    let mut asm = Asm::new();
    asm.ecalli(index).halt();
    let (_, program) = StandardProgram::from_service_code(&asm.service_blob()).unwrap();
    let mut machine = program.instantiate(&[], 0, gas).unwrap();
    for &(r, v) in regs {
        machine.set_reg(r, v);
    }
    for &(address, data) in memory {
        machine.memory.write(address, data).unwrap();
    }
    let exit = machine.run_with_host(&mut host);
    Run { exit, machine, host }
}

/// Plenty of gas.
pub const GAS: i64 = 1_000_000;
