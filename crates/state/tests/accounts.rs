//! State keys and the account dictionaries: keys checked against an independent blake2b and against
//! the keys of a real serialized state (the traces' genesis), footprints against the vectors.

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use orrery_codec::{Decode, Decoder};
use orrery_state::keys::{
    account_key, classify, component_key, preimage_key, request_key, service_entry_key, storage_key, KeyKind,
    StateKey,
};
use orrery_state::{MalformedRequest, ServiceAccount, ServiceInfo};

fn blake(data: &[u8]) -> [u8; 32] {
    Blake2b::<U32>::digest(data).into()
}

/// C(s, h) written out from GP 0.7.2 §D.1 with the `blake2` crate.
fn by_hand(service: u32, h: &[u8]) -> StateKey {
    let n = service.to_le_bytes();
    let a = blake(h);
    let mut key = [0u8; 31];
    key[..8].copy_from_slice(&[n[0], a[0], n[1], a[1], n[2], a[2], n[3], a[3]]);
    key[8..].copy_from_slice(&a[4..27]);
    key
}

#[test]
fn entry_keys_are_c_of_s_and_the_prefixed_key() {
    let service = 0x0403_0201;
    let k = b"some storage key";
    assert_eq!(storage_key(service, k), by_hand(service, &[&[0xff; 4][..], k].concat()));
    let h = [7u8; 32];
    assert_eq!(preimage_key(service, &h), by_hand(service, &[&[0xfe, 0xff, 0xff, 0xff][..], &h].concat()));
    assert_eq!(request_key(service, &h, 0x0102), by_hand(service, &[&[0x02, 0x01, 0, 0][..], &h].concat()));
}

#[test]
fn component_and_account_keys() {
    assert_eq!(component_key(13)[..2], [13, 0]);
    assert!(component_key(13)[1..].iter().all(|&b| b == 0));
    // C(255, s) = [255, n0, 0, n1, 0, n2, 0, n3, 0, …].
    let key = account_key(0x0403_0201);
    assert_eq!(key[..9], [255, 1, 0, 2, 0, 3, 0, 4, 0]);
    assert!(key[9..].iter().all(|&b| b == 0));
    assert_eq!(classify(&key), KeyKind::Account(0x0403_0201));
    assert_eq!(classify(&account_key(0)), KeyKind::Account(0));
    assert_eq!(classify(&component_key(6)), KeyKind::Component(6));
    let entry = storage_key(9, b"k");
    match classify(&entry) {
        KeyKind::Entry(9, hash) => assert_eq!(service_entry_key(9, &hash), entry),
        other => panic!("{other:?}"),
    }
}

/// The key/value pairs of the `fallback` trace's genesis state (traces/schema.asn: header, state).
fn genesis() -> Vec<(StateKey, Vec<u8>)> {
    let path = orrery_testkit::trace_dir("fallback").join("genesis.bin");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut d = Decoder::new(&bytes, orrery_types::ChainSpec::tiny().lengths());
    orrery_types::Header::decode(&mut d).unwrap();
    let _root: [u8; 32] = d.array().unwrap();
    let count = d.length().unwrap();
    let mut pairs = Vec::new();
    for _ in 0..count {
        let key: StateKey = d.array().unwrap();
        let len = d.length().unwrap();
        pairs.push((key, d.take(len).unwrap().to_vec()));
    }
    d.finish().unwrap();
    pairs
}

#[test]
fn genesis_keys_classify_and_service_zero_loads_into_an_account() {
    let state = genesis();
    let info_bytes = &state.iter().find(|(k, _)| classify(k) == KeyKind::Account(0)).expect("service 0").1;
    let info = ServiceInfo::decode_all(info_bytes).unwrap();
    let mut account = ServiceAccount::new(info.clone());
    let mut components = Vec::new();
    for (key, value) in &state {
        match classify(key) {
            KeyKind::Component(i) => components.push(i),
            KeyKind::Account(s) => assert_eq!(s, 0, "only service 0 at genesis"),
            KeyKind::Entry(s, entry) => {
                assert_eq!(s, 0);
                account.insert_entry(entry, value.clone());
            }
        }
    }
    assert_eq!(components, (1..=16).collect::<Vec<u8>>());
    // The code preimage and its request are found by hash and length through the typed accessors.
    let code = account.code_blob().expect("code preimage");
    assert_eq!(blake(code), info.code_hash);
    let length = code.len() as u32;
    let slots = account.request(&info.code_hash, length).expect("code request").unwrap();
    assert_eq!(slots.len(), 1);
    assert!(account.has_request(&info.code_hash, length));
    assert!(!account.has_request(&info.code_hash, length + 1));
    // Its footprint: the one request, 2 items of 81 + |code| octets, plus any storage. Loading
    // entries leaves the footprint as the C(255, 0) row gives it.
    assert_eq!(account.info, info);
    assert!(info.items >= 2 && info.bytes >= 81 + u64::from(length));
    // The historical lookup sees the code from the slot it became available.
    assert_eq!(account.historical_lookup(slots[0], &info.code_hash).map(|v| &v[..]), Some(code));
}

#[test]
fn footprint_follows_the_rules_of_section_9_3() {
    // stf/accumulate/tiny/process_one_immediate_report-1: service 1729 holds one request for its
    // 35728-octet code (pre: items 2, bytes 35809), then stores "last" ↦ 16 octets (post: items 3,
    // bytes 35863).
    let code_hash = [0x65; 32];
    let mut account = ServiceAccount::new(ServiceInfo::default());
    account.set_request(&code_hash, 35728, &[0]);
    assert_eq!((account.info.items, account.info.bytes), (2, 35809));
    account.set_preimage(&code_hash, vec![0; 35728]);
    assert_eq!((account.info.items, account.info.bytes), (2, 35809), "preimages are not counted");
    assert_eq!(account.set_storage(b"last", vec![1; 16]), None);
    assert_eq!((account.info.items, account.info.bytes), (3, 35863));
    // Overwriting changes only the size; 34 + 4 + 20 replaces 34 + 4 + 16.
    assert_eq!(account.set_storage(b"last", vec![2; 20]).as_deref(), Some(&[1; 16][..]));
    assert_eq!((account.info.items, account.info.bytes), (3, 35867));
    // A re-set request does not count twice.
    account.set_request(&code_hash, 35728, &[0, 5]);
    assert_eq!((account.info.items, account.info.bytes), (3, 35867));
    assert_eq!(account.remove_storage(b"last").as_deref(), Some(&[2; 20][..]));
    assert!(account.remove_request(&code_hash, 35728));
    assert!(!account.remove_request(&code_hash, 35728));
    assert_eq!((account.info.items, account.info.bytes), (0, 0));
    assert_eq!(account.storage(b"last"), None);
}

#[test]
fn threshold_balance_is_eq_9_8() {
    // B_S + B_I·i + B_L·o − f = 100 + 10·3 + 35863 − 0.
    let info = ServiceInfo { items: 3, bytes: 35863, ..Default::default() };
    assert_eq!(info.threshold_balance(), 35993);
    // The offset can take it to zero but not below.
    let free = ServiceInfo { deposit_offset: 1 << 40, ..info.clone() };
    assert_eq!(free.threshold_balance(), 0);
    let huge = ServiceInfo { items: u32::MAX, bytes: u64::MAX, ..info };
    assert_eq!(huge.threshold_balance(), u64::MAX);
}

#[test]
fn a_malformed_request_value_is_reported_not_decoded() {
    let hash = [1u8; 32];
    let mut account = ServiceAccount::new(ServiceInfo::default());
    account.set_request(&hash, 3, &[]);
    let entry = match classify(&request_key(0, &hash, 3)) {
        KeyKind::Entry(_, entry) => entry,
        other => panic!("{other:?}"),
    };
    // A length prefix of 2 with only one slot behind it.
    account.insert_entry(entry, vec![2, 1, 0, 0, 0]);
    assert_eq!(account.request(&hash, 3), Some(Err(MalformedRequest)));
    assert_eq!(account.historical_lookup(0, &hash), None);
}
