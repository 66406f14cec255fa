//! Shared by the refine and is-authorized tests: accounts holding code and preimages available
//! from a slot, work packages, and the committed guest blobs.
#![allow(dead_code)]

use std::collections::BTreeMap;

use orrery_state::{ServiceAccount, ServiceInfo};
use orrery_types::{ChainSpec, Hash, RefineContext, ServiceId, WorkItem, WorkPackage};

pub const PROBE: &[u8] = include_bytes!("../../../../guests/probe.jam");
pub const COMPUTE: &[u8] = include_bytes!("../../../../guests/compute-service.jam");
pub const AUTHORIZER: &[u8] = include_bytes!("../../../../guests/authorizer.jam");

/// The lookup anchor's slot in every package here.
pub const ANCHOR: u32 = 10;

pub fn spec() -> ChainSpec {
    ChainSpec::tiny()
}

pub fn blake(data: &[u8]) -> Hash {
    use blake2::digest::consts::U32;
    use blake2::{Blake2b, Digest};
    Blake2b::<U32>::digest(data).into()
}

/// An account with `preimages` available since slot `since` (requested then provided).
pub fn account(preimages: &[(&[u8], u32)]) -> ServiceAccount {
    let mut account = ServiceAccount::new(ServiceInfo { balance: 1 << 40, ..ServiceInfo::default() });
    for &(blob, since) in preimages {
        let hash = blake(blob);
        account.set_preimage(&hash, blob.to_vec());
        account.set_request(&hash, blob.len() as u32, &[since]);
    }
    account
}

/// An account whose code is `code`, available since slot 0, with more preimages.
pub fn service(code: &[u8], more: &[(&[u8], u32)]) -> ServiceAccount {
    let mut all = vec![(code, 0)];
    all.extend_from_slice(more);
    let mut account = account(&all);
    account.info.code_hash = blake(code);
    account
}

pub fn accounts(list: Vec<(ServiceId, ServiceAccount)>) -> BTreeMap<ServiceId, ServiceAccount> {
    list.into_iter().collect()
}

pub fn item(service: ServiceId, code: &[u8], payload: Vec<u8>, gas: u64, exports: u16) -> WorkItem {
    WorkItem {
        service,
        code_hash: blake(code),
        refine_gas_limit: gas,
        accumulate_gas_limit: 100_000,
        export_count: exports,
        payload,
        import_segments: Vec::new(),
        extrinsic: Vec::new(),
    }
}

pub fn package(items: Vec<WorkItem>) -> WorkPackage {
    WorkPackage {
        auth_code_host: 0,
        auth_code_hash: [0; 32],
        context: RefineContext {
            anchor: [1; 32],
            state_root: [2; 32],
            beefy_root: [3; 32],
            lookup_anchor: [4; 32],
            lookup_anchor_slot: ANCHOR,
            prerequisites: Vec::new(),
        },
        authorization: Vec::new(),
        authorizer_config: Vec::new(),
        items,
    }
}
