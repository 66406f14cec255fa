//! The JIP-4 file: a dev spec written, read back and equal; every field made wrong refused naming
//! the field; the dev genesis authored on by the six dev validators and every block imported.

use orrery_author::{author_block, slot_author, Pools};
use orrery_chain_spec::dev::{
    authorizer_hash, dev_spec, DevServices, DEV_AUTHORIZER_CONFIG, DEV_BASE_PORT, MANAGER_SERVICE,
};
use orrery_chain_spec::{params, Bootnode, ChainSpecError, JamChainSpec};
use orrery_crypto::blake2b_256;
use orrery_import::{import_block, ImportOptions};
use orrery_keys::ValidatorKeys;
use orrery_testkit::{genesis as trace_genesis, tiny_import_context, tiny_ring, tiny_state};
use orrery_types::ChainSpec;
use serde_json::Value;

/// A change made to a spec's JSON.
type Edit = Box<dyn FnOnce(&mut serde_json::Map<String, Value>)>;

const AUTHORIZER: &[u8] = include_bytes!("../../../guests/authorizer.jam");
const MANAGER: &[u8] = include_bytes!("../../../services/manager/manager.jam");

fn dev() -> JamChainSpec {
    let keys: Vec<ValidatorKeys> = (0..6).map(ValidatorKeys::dev).collect();
    dev_spec(&ChainSpec::tiny(), &tiny_ring(), &keys, &DevServices::ORRERY, DEV_BASE_PORT).unwrap()
}

/// The dev spec's JSON with `edit` applied.
fn edited(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Result<JamChainSpec, ChainSpecError> {
    let Value::Object(mut root) = serde_json::from_str(&dev().to_json()).unwrap() else { unreachable!() };
    edit(&mut root);
    JamChainSpec::from_json(&serde_json::to_string(&Value::Object(root)).unwrap())
}

fn refused_field(result: Result<JamChainSpec, ChainSpecError>) -> (String, String) {
    match result {
        Err(ChainSpecError::Field { field, why }) => (field, why),
        other => panic!("not a field error: {other:?}"),
    }
}

#[test]
fn a_written_spec_reads_back_equal() {
    let mut spec = dev();
    spec.bootnodes = vec![
        Bootnode::parse("eecgwpgwq3noky4ijm4jmvjtmuzv44qvigciusxakq5epnrfj2utb@127.0.0.1:40000").unwrap(),
        Bootnode::parse(&format!("{}@[::1]:40001", ValidatorKeys::dev(1).peer_name())).unwrap(),
    ];
    let json = spec.to_json();
    let back = JamChainSpec::from_json(&json).unwrap();
    assert_eq!(back, spec);
    assert_eq!(back.genesis_state.root(), spec.genesis_state.root());
    assert_eq!(back.genesis_hash(), spec.genesis_hash());
    assert_eq!(back.to_json(), json);
    // Dev key 0's published peer name is its Ed25519 key (JIP-5 vectors).
    assert_eq!(hex::encode(back.bootnodes[0].ed25519), hex::encode(ValidatorKeys::dev(0).ed25519_public()));
    assert!(json.contains("\"id\": \"dev\""));
}

#[test]
fn the_dev_genesis_has_the_dev_services() {
    let spec = dev();
    let state = spec.genesis_state.state();
    let code_hash = blake2b_256(AUTHORIZER);
    let manager = &state.accounts[&MANAGER_SERVICE];
    assert_eq!(manager.preimage(&code_hash), Some(AUTHORIZER));
    assert_eq!(manager.request(&code_hash, AUTHORIZER.len() as u32), Some(Ok(vec![0])));
    // Service 0 runs the manager, by the hash of the committed blob, and is the only service.
    assert_eq!(manager.info.code_hash, blake2b_256(MANAGER));
    assert_eq!(manager.code_blob(), Some(MANAGER));
    assert_eq!(manager.request(&blake2b_256(MANAGER), MANAGER.len() as u32), Some(Ok(vec![0])));
    assert_eq!(state.accounts.len(), 1);
    // The footprint (GP 0.7.2 eq. 9.8): two requests, 2 items and 81 + z octets each.
    assert_eq!(manager.info.items, 4);
    assert_eq!(manager.info.bytes, 2 * 81 + (MANAGER.len() + AUTHORIZER.len()) as u64);
    // Each validator's metadata holds its loopback endpoint (JAMNP-S: 16 octets of IPv6,
    // IPv4-mapped, then the port little-endian), and the validators are the boot nodes.
    for (i, v) in state.active_validators.iter().enumerate() {
        let port = 40000 + i as u16;
        let mut expected = [0u8; 128];
        expected[10..16].copy_from_slice(&[0xff, 0xff, 127, 0, 0, 1]);
        expected[16..18].copy_from_slice(&port.to_le_bytes());
        assert_eq!(v.metadata, expected, "validator {i}");
        assert_eq!(spec.bootnodes[i].ed25519, ValidatorKeys::dev(i as u32).ed25519_public());
        assert_eq!(spec.bootnodes[i].address.to_string(), format!("127.0.0.1:{port}"));
    }
    let authorized = authorizer_hash(&code_hash, DEV_AUTHORIZER_CONFIG);
    assert!(state.auth_pools.0.iter().all(|pool| pool == &vec![authorized]));
    assert!(state.auth_queues.0.iter().all(|queue| queue.iter().all(|h| *h == authorized)));
    let p = &state.privileges;
    assert_eq!((p.bless, p.designate, p.register), (0, 0, 0));
    assert_eq!(p.assign, vec![0, 0]);
    for (i, v) in state.active_validators.iter().enumerate() {
        assert_eq!(v.ed25519, ValidatorKeys::dev(i as u32).ed25519_public());
    }
}

#[test]
fn every_wrong_field_is_refused_by_name() {
    let cases: Vec<(&str, Edit)> = vec![
        ("id", Box::new(|r| drop(r.insert("id".into(), Value::from(7))))),
        ("genesis_header", Box::new(|r| drop(r.insert("genesis_header".into(), Value::from("zz00"))))),
        (
            "genesis_header",
            Box::new(|r| {
                let h = r["genesis_header"].as_str().unwrap().to_owned();
                r.insert("genesis_header".into(), Value::from(&h[..h.len() - 2]));
            }),
        ),
        (
            "protocol_parameters",
            Box::new(|r| {
                let p = r["protocol_parameters"].as_str().unwrap().to_owned();
                r.insert("protocol_parameters".into(), Value::from(format!("{p}0000")));
            }),
        ),
        // Full's parameters are fine; the tiny header is then not a full one.
        (
            "genesis_header",
            Box::new(|r| {
                let full = hex::encode(params::encode(&ChainSpec::full()));
                r.insert("protocol_parameters".into(), Value::from(full));
            }),
        ),
        ("protocol_parameters", Box::new(|r| drop(r.remove("protocol_parameters")))),
        ("bootnodes[0]", Box::new(|r| drop(r.insert("bootnodes".into(), Value::from(vec!["e@1.2.3.4:5"]))))),
        (
            "bootnodes[0]",
            Box::new(|r| {
                let node = format!("{}@1.2.3.4", ValidatorKeys::dev(0).peer_name());
                r.insert("bootnodes".into(), Value::from(vec![node]));
            }),
        ),
        ("bootnodes", Box::new(|r| drop(r.insert("bootnodes".into(), Value::from("x"))))),
        ("genesis_state", Box::new(|r| drop(r.insert("genesis_state".into(), Value::from(vec![1]))))),
        ("nonsense", Box::new(|r| drop(r.insert("nonsense".into(), Value::from(1))))),
    ];
    for (expected, edit) in cases {
        let (field, why) = refused_field(edited(edit));
        assert_eq!(field, expected, "{why}");
    }

    // State rows: a key of 30 bytes, a value that is not hex, a state that does not decode.
    let state_of = |edit: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        edited(|r| {
            let Value::Object(state) = r.get_mut("genesis_state").unwrap() else { unreachable!() };
            edit(state);
        })
    };
    let (field, why) = refused_field(state_of(&|s| drop(s.insert("00".repeat(30), Value::from("00")))));
    assert!(field.starts_with("genesis_state[") && why.contains("30 bytes, not 31"), "{field}: {why}");
    let (field, why) = refused_field(state_of(&|s| drop(s.insert("0b".repeat(31), Value::from("0g")))));
    assert!(field.starts_with("genesis_state[") && why.contains("not hex"), "{field}: {why}");
    let timeslot = format!("0b{}", "00".repeat(30));
    let (field, why) = refused_field(state_of(&|s| drop(s.insert(timeslot.clone(), Value::from("00")))));
    assert_eq!(field, "genesis_state", "{why}");
    // A header whose slot is not the state's τ.
    let (field, why) =
        refused_field(state_of(&|s| drop(s.insert(timeslot.clone(), Value::from("07000000")))));
    assert_eq!(field, "genesis_header", "{why}");
    assert!(why.contains("slot 0") && why.contains("τ is 7"), "{why}");

    assert!(matches!(JamChainSpec::from_json("[1]"), Err(ChainSpecError::Json(_))));
    assert!(matches!(JamChainSpec::from_json("{"), Err(ChainSpecError::Json(_))));
}

#[test]
fn the_dev_genesis_authors_blocks_that_import() {
    let spec = ChainSpec::tiny();
    let ring = tiny_ring();
    let ctx = tiny_import_context();
    let keys: Vec<ValidatorKeys> = (0..6).map(ValidatorKeys::dev).collect();
    // Through the file, as a node would start.
    let file = JamChainSpec::from_json(&dev().to_json()).unwrap();
    let mut chain = file.genesis_state.clone();
    let mut parent = file.genesis_hash();
    let pools = Pools::default();
    for slot in 1..=4 {
        let author = keys
            .iter()
            .find(|k| slot_author(&spec, &ring, chain.state(), slot, k).unwrap().is_some())
            .unwrap_or_else(|| panic!("slot {slot}: no dev validator may author"));
        let block = author_block(&spec, &ring, &chain, parent, slot, author, &pools).unwrap();
        assert_eq!(block.header.parent, parent);
        let imported = import_block(&ctx, &chain, &block, &ImportOptions::default())
            .unwrap_or_else(|e| panic!("slot {slot}: the authored block does not import: {e}"));
        assert_eq!(imported.state.state().timeslot, slot);
        parent = imported.header_hash;
        chain = imported.state;
    }
}

/// The full spec's dev chain: 1023 validators, 341 cores; the first block imports.
#[test]
fn a_full_dev_genesis_authors_a_block_that_imports() {
    use orrery_crypto::bandersnatch::RingContext;
    use orrery_import::ImportContext;
    let spec = ChainSpec::full();
    let ring = std::sync::Arc::new(RingContext::from_srs_file(&orrery_testkit::srs_path(), 1023).unwrap());
    let keys: Vec<ValidatorKeys> = (0..1023).map(ValidatorKeys::dev).collect();
    let file = JamChainSpec::from_json(
        &dev_spec(&spec, &ring, &keys, &DevServices::ORRERY, DEV_BASE_PORT).unwrap().to_json(),
    )
    .unwrap();
    let state = file.genesis_state.state();
    assert_eq!((state.active_validators.len(), state.auth_pools.0.len()), (1023, 341));
    assert_eq!(file.bootnodes.len(), 1023);
    let slot = 1;
    let author = keys
        .iter()
        .find(|k| slot_author(&spec, &ring, state, slot, k).unwrap().is_some())
        .expect("one of the dev validators seals slot 1");
    let block =
        author_block(&spec, &ring, &file.genesis_state, file.genesis_hash(), slot, author, &Pools::default())
            .unwrap();
    let ctx = ImportContext::new(spec, ring);
    let imported = import_block(&ctx, &file.genesis_state, &block, &ImportOptions::default()).unwrap();
    assert_eq!(imported.state.state().timeslot, slot);
}

#[test]
fn the_vectors_genesis_passes_the_genesis_checks() {
    // The vectors' genesis (parent and prior state root zero, slot τ, κ in the epoch marker) is
    // what the checks ask of a genesis; each trace's genesis passes them as published.
    for name in ["fallback", "safrole", "storage", "preimages"] {
        let trace = trace_genesis(name);
        let state = tiny_state(&trace.state);
        assert_eq!(state.root(), trace.state.state_root);
        JamChainSpec::new(name.into(), Vec::new(), ChainSpec::tiny(), trace.header, state)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn the_dev_genesis_authorizes_a_package_by_the_null_authorizer() {
    use orrery_invocation::is_authorized;
    use orrery_types::{RefineContext, WorkExecResult, WorkPackage};
    let spec = dev();
    let state = spec.genesis_state.state();
    let package = WorkPackage {
        auth_code_host: MANAGER_SERVICE,
        auth_code_hash: blake2b_256(AUTHORIZER),
        context: RefineContext {
            anchor: [0; 32],
            state_root: [0; 32],
            beefy_root: [0; 32],
            lookup_anchor: [0; 32],
            lookup_anchor_slot: 1,
            prerequisites: Vec::new(),
        },
        authorization: DEV_AUTHORIZER_CONFIG.to_vec(),
        authorizer_config: DEV_AUTHORIZER_CONFIG.to_vec(),
        items: Vec::new(),
    };
    // The code is found in service 0's preimages; the token matches the configuration, whose
    // authorizer hash with the code's is what every pool holds. The guest's trace is "authorized" ⌢ E2(core).
    let out = is_authorized(&spec.spec, &package, 1, &state.accounts, None);
    let logs: Vec<String> =
        out.logs.iter().map(|l| String::from_utf8_lossy(&l.message).into_owned()).collect();
    assert_eq!(out.result, WorkExecResult::Ok(b"authorized\x01\x00".to_vec()), "{logs:?}");
    let mut refused = package;
    refused.authorization = b"x".to_vec();
    let pooled = authorizer_hash(&refused.auth_code_hash, &refused.authorizer_config);
    assert_eq!(state.auth_pools.0[1], vec![pooled]);
    assert_eq!(is_authorized(&spec.spec, &refused, 1, &state.accounts, None).result, WorkExecResult::Panic);
}
