//! Every ported EigenLayer case (`cases/`) inside the PVM: the committed
//! `services/restaking-cases/restaking-cases.jam` (which compiles the same case files) refined
//! offline once per case, as `orrery service run` refines. A case whose numbers differ from the
//! contract test's panics in the guest, and the work result is then a panic, not the case's name.

extern crate alloc;

use std::collections::BTreeMap;
use std::path::Path;

use orrery_chain_spec::package::{local_account, refine_offline, Call};
use orrery_invocation::ProgramCache;
use orrery_state::ServiceAccount;
use orrery_types::{ChainSpec, ServiceId, WorkExecResult};

#[path = "../cases/mod.rs"]
#[allow(dead_code)]
mod cases;

const PROBE: ServiceId = 1 << 16;

struct Probe {
    spec: ChainSpec,
    accounts: BTreeMap<ServiceId, ServiceAccount>,
    code_hash: [u8; 32],
    cache: ProgramCache,
}

impl Probe {
    fn new() -> Self {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services/restaking-cases/restaking-cases.jam");
        let blob = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (code_hash, account) = local_account(&blob, 0);
        Probe {
            spec: ChainSpec::tiny(),
            accounts: BTreeMap::from([(PROBE, account)]),
            code_hash,
            cache: ProgramCache::new(),
        }
    }

    /// Ψ_R on `payload`: the result and the gas used.
    fn refine(&self, payload: Vec<u8>) -> (WorkExecResult, u64) {
        let call = Call {
            service: PROBE,
            code_hash: self.code_hash,
            payload,
            refine_gas: self.spec.max_refine_gas,
            accumulate_gas: 0,
        };
        let out = refine_offline(&self.spec, call, 1, &self.accounts, Some(&self.cache)).1;
        (out.result, out.gas_used)
    }
}

#[test]
fn every_case_gives_the_contract_tests_numbers_inside_the_pvm() {
    let probe = Probe::new();
    let mut most = (0, "");
    for (index, (name, _)) in cases::ALL.iter().enumerate() {
        let (result, gas) = probe.refine((index as u16).to_le_bytes().to_vec());
        assert_eq!(result, WorkExecResult::Ok(name.as_bytes().to_vec()), "case {index}, {name}");
        most = most.max((gas, name));
    }
    println!("{} cases in the PVM; the dearest, {}, {} gas of refine", cases::ALL.len(), most.1, most.0);
}

/// The probe itself refuses what is not a case: its result is a panic, not a name.
#[test]
fn the_probe_panics_on_a_payload_that_names_no_case() {
    let probe = Probe::new();
    let past_the_end = (cases::ALL.len() as u16).to_le_bytes().to_vec();
    for payload in [vec![], vec![0], vec![0, 0, 0], past_the_end] {
        assert_eq!(probe.refine(payload.clone()).0, WorkExecResult::Panic, "{payload:?}");
    }
}
