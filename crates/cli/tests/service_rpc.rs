//! `orrery service deploy` and `storage` against a scripted JIP-2 node: a real jsonrpsee WebSocket
//! server on loopback whose methods answer from a script, so the client's side is checked without
//! a network: the package it submits (authorizer, token, context, the manager's deploy command, laid
//! out here by hand), how it follows the status to an id, and the one-line errors for a package
//! never reported, a JIP-2 error code and a malformed reply.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use jsonrpsee::server::{RpcModule, Server};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use orrery_codec::{decode_exact, Encode};
use orrery_crypto::blake2b_256;
use orrery_rpc::types::{Blob, BlockDescriptor, Hash, Parameters, ParametersResult, WorkPackageStatus};
use orrery_state::ServiceInfo;
use orrery_types::{
    ChainSpec, RefineContext, RefineLoad, WorkExecResult, WorkPackage, WorkPackageSpec, WorkReport,
    WorkResult,
};
use serde_json::{json, Value};

const NEW_ID: u32 = 70_000;
const ANCHOR: u32 = 100;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Reportable, reported, ready: the deploy succeeds.
    Deploys,
    /// Reportable for ever.
    NeverReported,
    /// Reportable, then failed: the anchor grew too old.
    Expires,
    /// `bestBlock` answers a three-octet hash.
    Malformed,
    /// `serviceValue` answers JIP-2 error 1.
    BlockUnavailable,
}

#[derive(Default)]
struct Seen {
    /// The packages submitted, with their cores.
    submitted: Vec<(u16, Vec<u8>)>,
    polls: u32,
}

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn block(slot: u32) -> BlockDescriptor {
    BlockDescriptor { header_hash: Hash([slot as u8; 32]), slot }
}

fn blob(bytes: &[u8]) -> Value {
    serde_json::to_value(Blob(bytes.to_vec())).unwrap()
}

fn ok(v: Value) -> Result<Value, ErrorObjectOwned> {
    Ok(v)
}

fn args(p: Params<'_>) -> Vec<Value> {
    p.parse::<Vec<Value>>().unwrap_or_default()
}

fn report(output: &[u8]) -> WorkReport {
    WorkReport {
        package_spec: WorkPackageSpec {
            hash: [0; 32],
            length: 0,
            erasure_root: [0; 32],
            exports_root: [0; 32],
            exports_count: 0,
        },
        context: RefineContext {
            anchor: [0; 32],
            state_root: [0; 32],
            beefy_root: [0; 32],
            lookup_anchor: [0; 32],
            lookup_anchor_slot: 0,
            prerequisites: vec![],
        },
        core_index: 0,
        authorizer_hash: [0; 32],
        auth_gas_used: 0,
        auth_output: vec![],
        segment_root_lookup: vec![],
        results: vec![WorkResult {
            service_id: 0,
            code_hash: [0; 32],
            payload_hash: [0; 32],
            accumulate_gas: 0,
            result: WorkExecResult::Ok(output.to_vec()),
            refine_load: RefineLoad { gas_used: 4321, ..Default::default() },
        }],
    }
}

/// Starts the scripted node; returns its address (the runtime must outlive the test's commands).
fn serve(runtime: &tokio::runtime::Runtime, mode: Mode, seen: Arc<Mutex<Seen>>) -> SocketAddr {
    let manager = std::fs::read(repo().join("services/manager/manager.jam")).unwrap();
    let kv_hash = blake2b_256(&std::fs::read(repo().join("services/kv/kv.jam")).unwrap());
    let manager_info =
        ServiceInfo { code_hash: blake2b_256(&manager), balance: 1 << 50, ..Default::default() }.encode();
    let kv_info = ServiceInfo { code_hash: kv_hash, balance: 1_000_000, items: 2, ..Default::default() };
    // After its accumulation in the ready block: one more item, and that block's slot.
    let ready = block(ANCHOR + 3).header_hash;
    let kv_after =
        ServiceInfo { items: 3, bytes: 40, last_accumulation_slot: ANCHOR + 3, ..kv_info.clone() }.encode();
    let kv_info = kv_info.encode();
    fn at(a: &[Value]) -> Option<Hash> {
        serde_json::from_value::<Hash>(a.first()?.clone()).ok()
    }
    let mut m = RpcModule::new(seen);
    m.register_method("parameters", move |_, _, _| {
        ok(serde_json::to_value(ParametersResult::V1(Parameters::of(&ChainSpec::tiny()))).unwrap())
    })
    .unwrap();
    m.register_method("bestBlock", move |_, seen: &Arc<Mutex<Seen>>, _| {
        if mode == Mode::Malformed {
            return ok(json!({"header_hash": "AQID", "slot": 1}));
        }
        // One block a status poll.
        let polls = seen.lock().unwrap().polls;
        ok(serde_json::to_value(block(ANCHOR + polls)).unwrap())
    })
    .unwrap();
    m.register_method("stateRoot", |_, _, _| ok(serde_json::to_value(Hash([0xa1; 32])).unwrap())).unwrap();
    m.register_method("beefyRoot", |_, _, _| ok(serde_json::to_value(Hash([0xb2; 32])).unwrap())).unwrap();
    m.register_method("serviceData", move |p, _, _| {
        let a = args(p);
        ok(match a.get(1).and_then(Value::as_u64) {
            Some(0) => blob(&manager_info),
            Some(id) if id == u64::from(NEW_ID) && at(&a) == Some(ready) => blob(&kv_after),
            Some(id) if id == u64::from(NEW_ID) => blob(&kv_info),
            _ => Value::Null,
        })
    })
    .unwrap();
    m.register_method("submitWorkPackage", |p, seen: &Arc<Mutex<Seen>>, _| {
        let a = args(p);
        let core = a[0].as_u64().unwrap() as u16;
        let package: Blob = serde_json::from_value(a[1].clone()).unwrap();
        seen.lock().unwrap().submitted.push((core, package.0));
        ok(Value::Null)
    })
    .unwrap();
    m.register_method("workPackageStatus", move |_, seen: &Arc<Mutex<Seen>>, _| {
        let mut seen = seen.lock().unwrap();
        seen.polls += 1;
        let status = match (mode, seen.polls) {
            (Mode::Deploys, 1) => WorkPackageStatus::Reportable { remaining_blocks: 5 },
            (Mode::Deploys, 2) => WorkPackageStatus::Reported {
                reported_in: block(ANCHOR + 2),
                core: 1,
                report_hash: Hash([0xcc; 32]),
            },
            (Mode::Deploys, _) => WorkPackageStatus::Ready {
                reported_in: block(ANCHOR + 2),
                core: 1,
                report_hash: Hash([0xcc; 32]),
                ready_in: block(ANCHOR + 3),
            },
            (Mode::Expires, 2..) => {
                WorkPackageStatus::Failed("its anchor is not among the recent blocks".into())
            }
            _ => WorkPackageStatus::Reportable { remaining_blocks: 5 },
        };
        ok(serde_json::to_value(status).unwrap())
    })
    .unwrap();
    m.register_method("workReport", |p, _, _| {
        let a = args(p);
        let hash: Hash = serde_json::from_value(a[0].clone()).unwrap();
        ok(if hash == Hash([0xcc; 32]) {
            blob(&report(b"the manager's output").encode())
        } else {
            Value::Null
        })
    })
    .unwrap();
    m.register_method("serviceValue", move |p, _, _| {
        if mode == Mode::BlockUnavailable {
            return Err(ErrorObjectOwned::owned(1, "block unavailable", Some("AQID")));
        }
        let a = args(p);
        let key: Blob = serde_json::from_value(a[2].clone()).unwrap();
        ok(match (a[1].as_u64(), key.0.as_slice()) {
            (Some(0), b"last") => blob(&NEW_ID.to_le_bytes()),
            (Some(0), k) if k == [&b"deployed:"[..], &NEW_ID.to_le_bytes()].concat() => blob(&kv_hash),
            (Some(id), b"name") if id == u64::from(NEW_ID) && at(&a) == Some(ready) => blob(b"orrery"),
            _ => Value::Null,
        })
    })
    .unwrap();
    runtime.block_on(async {
        let server = Server::builder().build("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        // The handle is dropped: the server runs until the runtime is.
        let handle = server.start(m);
        std::mem::forget(handle);
        addr
    })
}

fn orrery(args: &[&str]) -> (Option<i32>, String) {
    let out =
        Command::new(env!("CARGO_BIN_EXE_orrery")).args(args).env_remove("ORRERY_RPC").output().unwrap();
    (
        out.status.code(),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    )
}

#[test]
fn deploy_builds_the_dev_package_follows_it_and_names_the_new_service() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let addr = serve(&runtime, Mode::Deploys, seen.clone());
    let rpc = format!("ws://{addr}");
    let kv_path = repo().join("services/kv/kv.jam");
    let kv = std::fs::read(&kv_path).unwrap();
    let (code, out) =
        orrery(&["service", "deploy", kv_path.to_str().unwrap(), "--rpc", &rpc, "--amount", "5000"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("panicked"), "{out}");
    assert!(out.contains("submitted work package "), "{out}");
    // The anchor's slot modulo tiny's two cores.
    assert!(out.contains(&format!("to core 0, anchored at #{ANCHOR} ")), "{out}");
    assert!(out.contains(&format!("reported in #{} on core 1", ANCHOR + 2)), "{out}");
    assert!(out.contains(&format!("available in #{}", ANCHOR + 3)), "{out}");
    assert!(out.contains("refine: output 0x"), "{out}");
    assert!(out.contains("gas used 4321"), "{out}");
    assert!(out.contains(&format!("deployed service {NEW_ID}")), "{out}");
    assert!(out.contains("balance          1000000"), "{out}");

    // The package: GP-encoded, the dev authorizer held by service 0 with "orrery-dev" as token and
    // configuration, the best block as anchor and lookup anchor with its roots, and one item for
    // the manager with its deploy command, laid out by hand from services/manager's table.
    let seen = seen.lock().unwrap();
    assert_eq!(seen.submitted.len(), 1);
    let (core, bytes) = &seen.submitted[0];
    assert_eq!(*core, 0);
    let package: WorkPackage = decode_exact(bytes, ChainSpec::tiny().lengths()).unwrap();
    let authorizer = std::fs::read(repo().join("guests/authorizer.jam")).unwrap();
    assert_eq!(package.auth_code_host, 0);
    assert_eq!(package.auth_code_hash, blake2b_256(&authorizer));
    assert_eq!(package.authorization, b"orrery-dev");
    assert_eq!(package.authorizer_config, b"orrery-dev");
    let c = &package.context;
    assert_eq!(
        (c.anchor, c.lookup_anchor, c.lookup_anchor_slot),
        ([ANCHOR as u8; 32], [ANCHOR as u8; 32], ANCHOR)
    );
    assert_eq!((c.state_root, c.beefy_root), ([0xa1; 32], [0xb2; 32]));
    assert_eq!(package.items.len(), 1);
    let item = &package.items[0];
    let manager = std::fs::read(repo().join("services/manager/manager.jam")).unwrap();
    assert_eq!((item.service, item.code_hash), (0, blake2b_256(&manager)));
    let mut payload = vec![0u8];
    payload.extend_from_slice(&1_000u64.to_le_bytes());
    payload.extend_from_slice(&1_000u64.to_le_bytes());
    payload.extend_from_slice(&5_000u64.to_le_bytes());
    payload.extend_from_slice(&kv);
    assert_eq!(item.payload, payload);
    // Half of tiny's G_R and G_A, from `parameters` (a package's sums must stay below them).
    assert_eq!((item.refine_gas_limit, item.accumulate_gas_limit), (500_000_000, 5_000_000));
}

#[test]
fn call_sends_one_item_to_the_service_and_shows_its_account_and_keys_before_and_after() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let addr = serve(&runtime, Mode::Deploys, seen.clone());
    let payload = b"name=orrery\n";
    let hex: String = payload.iter().map(|b| format!("{b:02x}")).collect();
    let (code, out) = orrery(&[
        "service",
        "call",
        &NEW_ID.to_string(),
        "--payload",
        &hex,
        "--key",
        "@name",
        "--gas",
        "5000",
        "--rpc",
        &format!("ws://{addr}"),
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(&format!("accumulate: service {NEW_ID} accumulated in #{}", ANCHOR + 3)), "{out}");
    assert!(out.contains("  storage items 2 -> 3\n  storage octets 0 -> 40\n"), "{out}");
    assert!(out.contains("  storage 0x6e616d65 = 0x6f7272657279 (\"orrery\") (was none)"), "{out}");

    let seen = seen.lock().unwrap();
    let package: WorkPackage = decode_exact(&seen.submitted[0].1, ChainSpec::tiny().lengths()).unwrap();
    let kv_hash = blake2b_256(&std::fs::read(repo().join("services/kv/kv.jam")).unwrap());
    let item = &package.items[0];
    assert_eq!((item.service, item.code_hash, item.payload.as_slice()), (NEW_ID, kv_hash, &payload[..]));
    assert_eq!((item.refine_gas_limit, item.accumulate_gas_limit), (500_000_000, 5_000));

    drop(seen);
    // All of G_A is one too many.
    let (code, out) =
        orrery(&["service", "call", "0", "--gas", "10000000", "--rpc", &format!("ws://{addr}")]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("--gas 10000000: a package's accumulate gas must be below G_A = 10000000"), "{out}");
}

#[test]
fn a_package_never_reported_a_jip2_error_and_a_malformed_reply_are_one_line_each() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let kv = repo().join("services/kv/kv.jam");
    let kv = kv.to_str().unwrap();

    let addr = serve(&runtime, Mode::NeverReported, Arc::default());
    let rpc = format!("ws://{addr}");
    let (code, out) = orrery(&[
        "service",
        "call",
        &NEW_ID.to_string(),
        "--payload",
        "00",
        "--rpc",
        &rpc,
        "--wait-slots",
        "3",
    ]);
    assert_eq!(code, Some(1), "{out}");
    let error = out.lines().last().unwrap();
    assert!(
        error.contains(&format!("submitted at #{ANCHOR} to core 0 but not reported after 4 slots"))
            && error.contains("the node gives it 5 more blocks"),
        "{out}"
    );

    let addr = serve(&runtime, Mode::Expires, Arc::default());
    let (code, out) = orrery(&["service", "call", &NEW_ID.to_string(), "--rpc", &format!("ws://{addr}")]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("waiting for a guarantee (the anchor stays recent for 5 more blocks)"), "{out}");
    assert!(
        out.lines().last().unwrap().contains(&format!(
            "submitted at #{ANCHOR} to core 0 but not reported in the 1 slots its anchor stayed recent \
             (are core 0's guarantors refining it?); the node says: its anchor is not among the recent blocks"
        )),
        "{out}"
    );

    let addr = serve(&runtime, Mode::BlockUnavailable, Arc::default());
    let (code, out) = orrery(&["service", "storage", "0", "@last", "--rpc", &format!("ws://{addr}")]);
    assert_eq!(
        (code, out.trim()),
        (Some(1), "error: serviceValue: the node answered error 1 (block unavailable): block unavailable")
    );

    let addr = serve(&runtime, Mode::Malformed, Arc::default());
    for args in [vec!["service", "info"], vec!["service", "deploy", kv]] {
        let mut args = args.clone();
        let url = format!("ws://{addr}");
        args.extend(["--rpc", &url]);
        let (code, out) = orrery(&args);
        assert_eq!(code, Some(1), "{args:?}: {out}");
        assert!(out.trim().starts_with("error: bestBlock: a malformed reply: "), "{args:?}: {out}");
        assert_eq!(out.trim().lines().count(), 1, "{args:?}: {out}");
    }
}
