//! Preimages with hand-built extrinsics and accounts.

use std::collections::BTreeMap;

use orrery_crypto::blake2b_256;
use orrery_state::{ServiceAccount, ServiceInfo, ServicesStatistics};
use orrery_stf::preimages::{apply, integrate, PreimagesError};
use orrery_types::Preimage;

fn accounts(requests: &[(u32, &[u8], Vec<u32>)]) -> BTreeMap<u32, ServiceAccount> {
    let mut accounts = BTreeMap::new();
    for (service, blob, slots) in requests {
        let account = accounts.entry(*service).or_insert_with(|| ServiceAccount::new(ServiceInfo::default()));
        account.set_request(&blake2b_256(blob), blob.len() as u32, slots);
    }
    accounts
}

fn preimage(requester: u32, blob: &[u8]) -> Preimage {
    Preimage { requester, blob: blob.to_vec() }
}

#[test]
fn solicited_blobs_are_stored_and_counted() {
    let prior = accounts(&[(1, b"abc", vec![]), (2, b"de", vec![])]);
    let extrinsic = [preimage(1, b"abc"), preimage(2, b"de")];
    let (posterior, stats) = apply(&prior, &ServicesStatistics::new(), &extrinsic, 42).unwrap();
    let account = &posterior[&1];
    assert_eq!(account.preimage(&blake2b_256(b"abc")), Some(&b"abc"[..]));
    assert_eq!(account.request(&blake2b_256(b"abc"), 3), Some(Ok(vec![42])));
    assert_eq!((stats[&1].provided_count, stats[&1].provided_size), (1, 3));
    assert_eq!((stats[&2].provided_count, stats[&2].provided_size), (1, 2));
}

#[test]
fn order_and_uniqueness_are_by_service_then_blob() {
    let prior = accounts(&[(1, b"a", vec![]), (1, b"b", vec![]), (2, b"a", vec![])]);
    let stats = ServicesStatistics::new();
    let ok = [preimage(1, b"a"), preimage(1, b"b"), preimage(2, b"a")];
    assert!(apply(&prior, &stats, &ok, 1).is_ok());
    for bad in [
        vec![preimage(1, b"b"), preimage(1, b"a")],
        vec![preimage(2, b"a"), preimage(1, b"a")],
        vec![preimage(1, b"a"), preimage(1, b"a")],
    ] {
        assert_eq!(apply(&prior, &stats, &bad, 1), Err(PreimagesError::PreimagesNotSortedUnique));
    }
}

#[test]
fn unsolicited_or_already_provided_blobs_are_unneeded() {
    let prior = accounts(&[(1, b"a", vec![5]), (1, b"b", vec![])]);
    let stats = ServicesStatistics::new();
    for bad in [
        vec![preimage(1, b"a")],  // already provided at slot 5
        vec![preimage(1, b"c")],  // never requested
        vec![preimage(9, b"b")],  // no such service
        vec![preimage(1, b"bb")], // same service, different length and hash
    ] {
        assert_eq!(apply(&prior, &stats, &bad, 1), Err(PreimagesError::PreimageUnneeded));
    }
}

#[test]
fn integration_skips_blobs_accumulation_made_unneeded() {
    // Valid against the prior state, but the request vanished before integration.
    let mut accounts = accounts(&[(1, b"a", vec![])]);
    assert!(accounts.get_mut(&1).unwrap().remove_request(&blake2b_256(b"a"), 1));
    let before = accounts.clone();
    integrate(&mut accounts, &[preimage(1, b"a"), preimage(7, b"x")], 3);
    assert_eq!(accounts, before);
}
