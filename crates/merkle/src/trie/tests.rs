use std::collections::BTreeMap;

use orrery_crypto::blake2b_256;
use proptest::prelude::*;

use super::*;

/// The paper's `M` (GP eq. D.5) and node encodings (eqs. D.3, D.4) written out bit by bit, as an
/// independent implementation to check the byte-level, chain-compressed ones against.
mod reference {
    use super::*;

    fn bits(bytes: &[u8]) -> Vec<bool> {
        bytes.iter().flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1 == 1)).collect()
    }

    fn unbits(bits: &[bool]) -> Vec<u8> {
        assert_eq!(bits.len() % 8, 0);
        bits.chunks(8).map(|c| c.iter().fold(0u8, |acc, &b| (acc << 1) | u8::from(b))).collect()
    }

    fn leaf(k: &[u8], v: &[u8]) -> Vec<bool> {
        let mut out = if v.len() <= 32 {
            let mut out = vec![true, false];
            out.extend_from_slice(&bits(&[v.len() as u8])[2..]);
            out.extend(bits(k));
            out.extend(bits(v));
            out
        } else {
            let mut out = vec![true, true, false, false, false, false, false, false];
            out.extend(bits(k));
            out.extend(bits(&blake2b_256(v)));
            out
        };
        out.resize(512, false);
        out
    }

    fn branch(l: &Hash, r: &Hash) -> Vec<bool> {
        let mut out = vec![false];
        out.extend_from_slice(&bits(l)[1..]);
        out.extend(bits(r));
        out
    }

    fn m(d: Vec<(Vec<bool>, &Key, &[u8])>) -> Hash {
        match d.len() {
            0 => [0; 32],
            1 => blake2b_256(&unbits(&leaf(d[0].1, d[0].2))),
            _ => {
                let (mut l, mut r) = (Vec::new(), Vec::new());
                for (b, k, v) in d {
                    let rest = b[1..].to_vec();
                    if b[0] {
                        r.push((rest, k, v))
                    } else {
                        l.push((rest, k, v))
                    }
                }
                blake2b_256(&unbits(&branch(&m(l), &m(r))))
            }
        }
    }

    pub fn root(pairs: &BTreeMap<Key, Vec<u8>>) -> Hash {
        m(pairs.iter().map(|(k, v)| (bits(k), k, v.as_slice())).collect())
    }
}

fn key(prefix: &[u8]) -> Key {
    let mut k = [0u8; 31];
    k[..prefix.len()].copy_from_slice(prefix);
    k
}

#[test]
fn node_encodings_by_hand() {
    let k = key(&[0xaa, 0xbb]);
    let embedded = leaf_node(&k, &[1, 2, 3]);
    assert_eq!(embedded[0], 0b1000_0011);
    assert_eq!(&embedded[1..32], &k);
    assert_eq!(&embedded[32..36], &[1, 2, 3, 0]);
    assert!(embedded[35..].iter().all(|&b| b == 0));
    // 32 bytes still embed: the length 32 fits the six bits.
    let full = leaf_node(&k, &[7; 32]);
    assert_eq!(full[0], 0b1010_0000);
    assert_eq!(&full[32..], &[7; 32]);
    let hashed = leaf_node(&k, &[7; 33]);
    assert_eq!(hashed[0], 0b1100_0000);
    assert_eq!(&hashed[32..], &blake2b_256(&[7; 33]));
    assert_eq!(leaf_node(&k, &[])[0], 0b1000_0000);

    let branch = branch_node(&[0xff; 32], &[0x11; 32]);
    assert_eq!(branch[0], 0x7f);
    assert_eq!(&branch[1..32], &[0xff; 31]);
    assert_eq!(&branch[32..], &[0x11; 32]);
}

#[test]
fn roots_by_hand() {
    let empty: [(Key, &[u8]); 0] = [];
    assert_eq!(root_of_sorted(&empty), Ok([0; 32]));
    let a = key(&[0x00]);
    let b = key(&[0x80]);
    let la = blake2b_256(&leaf_node(&a, b"x"));
    let lb = blake2b_256(&leaf_node(&b, b"y"));
    assert_eq!(root_of_sorted(&[(a, b"x")]), Ok(la));
    // Split at bit 0: one branch.
    let ab = blake2b_256(&branch_node(&la, &lb));
    assert_eq!(root_of_sorted(&[(a, b"x"), (b, b"y")]), Ok(ab));
    // 0b010… and 0b011… share "01": a branch per shared bit, zero hash on the empty side.
    let c = key(&[0x40]);
    let d = key(&[0x60]);
    let (lc, ld) = (blake2b_256(&leaf_node(&c, b"c")), blake2b_256(&leaf_node(&d, b"d")));
    let at2 = blake2b_256(&branch_node(&lc, &ld));
    let at1 = blake2b_256(&branch_node(&[0; 32], &at2));
    let at0 = blake2b_256(&branch_node(&at1, &[0; 32]));
    assert_eq!(root_of_sorted(&[(c, b"c"), (d, b"d")]), Ok(at0));
    let map: BTreeMap<Key, Vec<u8>> = [(c, b"c".to_vec()), (d, b"d".to_vec())].into();
    assert_eq!(reference::root(&map), at0);
    let trie: Trie = [(d, b"d".to_vec()), (c, b"c".to_vec())].into_iter().collect();
    assert_eq!(trie.root(), at0);
}

#[test]
fn bad_input_is_an_error() {
    let a = key(&[1]);
    let b = key(&[2]);
    assert_eq!(root_of_sorted(&[(b, b""), (a, b"")]), Err(TrieError::Unsorted(1)));
    assert_eq!(root_of_sorted(&[(a, b""), (a, b"")]), Err(TrieError::DuplicateKey(a)));
    assert_eq!(root([(a, b""), (b, b""), (a, b"")]), Err(TrieError::DuplicateKey(a)));
    assert!(Trie::from_sorted(vec![(b, vec![]), (a, vec![])]).is_err());
    assert_eq!(root([(b, b"1"), (a, b"2")]), root_of_sorted(&[(a, b"2"), (b, b"1")]));
}

/// `trie.json` from the vectors: 32-byte keys of which the trie takes the first 31.
#[test]
fn vectors_file() {
    let path = orrery_testkit::vectors().join("trie/trie.json");
    let text = std::fs::read_to_string(&path).expect("the vectors folder beside the repository");
    let cases: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 11);
    for case in cases {
        let map: BTreeMap<Key, Vec<u8>> = case["input"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                (hex::decode(k).unwrap()[..31].try_into().unwrap(), hex::decode(v.as_str().unwrap()).unwrap())
            })
            .collect();
        let expected = hex::decode(case["output"].as_str().unwrap()).unwrap();
        assert_eq!(root(&map).unwrap().to_vec(), expected);
        assert_eq!(reference::root(&map).to_vec(), expected);
        assert_eq!(map.iter().map(|(k, v)| (*k, v.clone())).collect::<Trie>().root().to_vec(), expected);
    }
}

/// Keys from a small alphabet of prefixes so that long shared prefixes (and so long single-child
/// chains, like the state's `C(i)` keys) are common, plus fully random ones.
fn arb_key() -> impl Strategy<Value = Key> {
    prop_oneof![
        any::<[u8; 31]>(),
        (0u8..4, any::<u8>()).prop_map(|(a, b)| key(&[a, 0, 0, 0, b])),
        (any::<u8>()).prop_map(|b| {
            let mut k = [0xff; 31];
            k[30] = b;
            k
        }),
    ]
}

fn arb_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![prop::collection::vec(any::<u8>(), 0..=32), prop::collection::vec(any::<u8>(), 33..100)]
}

fn arb_map(max: usize) -> impl Strategy<Value = BTreeMap<Key, Vec<u8>>> {
    prop::collection::btree_map(arb_key(), arb_value(), 0..max)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn one_shot_matches_the_reference(map in arb_map(40)) {
        prop_assert_eq!(root(&map).unwrap(), reference::root(&map));
    }

    #[test]
    fn incremental_matches_one_shot(
        initial in arb_map(60),
        changes in prop::collection::vec((arb_key(), prop::option::of(arb_value())), 0..60),
    ) {
        let mut model = initial.clone();
        let mut trie = Trie::from_sorted(initial.iter().map(|(k, v)| (*k, v.clone())).collect()).unwrap();
        prop_assert_eq!(trie.len(), model.len());
        prop_assert_eq!(trie.root(), root(&model).unwrap());
        let snapshot = trie.clone();
        let before = trie.root();
        for (i, (k, change)) in changes.iter().enumerate() {
            match change {
                Some(v) => prop_assert_eq!(trie.insert(*k, v.clone()).map(Vec::from), model.insert(*k, v.clone())),
                None => prop_assert_eq!(trie.remove(k).map(Vec::from), model.remove(k)),
            }
            // Ask for the root part-way too, so cached identities are reused across changes.
            if i % 7 == 3 {
                prop_assert_eq!(trie.root(), root(&model).unwrap());
            }
        }
        prop_assert_eq!(trie.len(), model.len());
        prop_assert_eq!(trie.root(), root(&model).unwrap());
        prop_assert!(trie.iter().map(|(k, v)| (*k, v.to_vec())).eq(model.clone()));
        for (k, v) in &model {
            prop_assert_eq!(trie.get(k), Some(v.as_slice()));
        }
        // The same changes again as one batch, on top: the last change of a key is what holds.
        let before_batch = trie.clone();
        let model_before = model.clone();
        trie.apply(changes.iter().cloned());
        for (k, change) in &changes {
            match change {
                Some(v) => model.insert(*k, v.clone()),
                None => model.remove(k),
            };
        }
        prop_assert_eq!(trie.len(), model.len());
        prop_assert_eq!(trie.root(), root(&model).unwrap());
        prop_assert!(trie.iter().map(|(k, v)| (*k, v.to_vec())).eq(model.clone()));
        prop_assert!(before_batch.iter().map(|(k, v)| (*k, v.to_vec())).eq(model_before.clone()));
        prop_assert_eq!(before_batch.root(), root(&model_before).unwrap());
        // The snapshot taken before the changes still has its old pairs and root.
        prop_assert_eq!(snapshot.root(), before);
        prop_assert!(snapshot.iter().map(|(k, v)| (*k, v.to_vec())).eq(initial.clone()));
        // Building the same pairs in one go, or by insertion in another order, agrees.
        let rebuilt: Trie = model.iter().rev().map(|(k, v)| (*k, v.clone())).collect();
        prop_assert_eq!(rebuilt.root(), trie.root());
        let mut by_insertion = Trie::new();
        for (k, v) in model.iter().rev() {
            by_insertion.insert(*k, v.clone());
        }
        prop_assert_eq!(by_insertion.root(), trie.root());
    }
}

#[test]
fn incremental_at_scale() {
    // Large enough for the parallel paths (sub-tries above PARALLEL_MIN) to run.
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut model = BTreeMap::new();
    for _ in 0..20_000 {
        let len = rng.gen_range(0..80);
        model.insert(rng.gen::<Key>(), (0..len).map(|_| rng.gen()).collect::<Vec<u8>>());
    }
    let mut trie: Trie = model.iter().map(|(k, v)| (*k, v.clone())).collect();
    assert_eq!(trie.root(), root(&model).unwrap());
    let keys: Vec<Key> = model.keys().copied().collect();
    for i in 0..2_000 {
        let k = if i % 2 == 0 { keys[rng.gen_range(0..keys.len())] } else { rng.gen() };
        if i % 5 == 0 {
            assert_eq!(trie.remove(&k).map(Vec::from), model.remove(&k));
        } else {
            let v = vec![i as u8; i % 70];
            assert_eq!(trie.insert(k, v.clone()).map(Vec::from), model.insert(k, v));
        }
    }
    assert_eq!(trie.root(), root(&model).unwrap());
    assert_eq!(trie.len(), model.len());
    // A large batch, merged in one descent (on two threads near the top, with `parallel`).
    let snapshot = trie.clone();
    let snapshot_root = snapshot.root();
    let keys: Vec<Key> = model.keys().copied().collect();
    let batch: Vec<(Key, Option<Vec<u8>>)> = (0..6_000)
        .map(|i| {
            let k = if i % 3 == 0 { rng.gen() } else { keys[rng.gen_range(0..keys.len())] };
            (k, (i % 4 != 0).then(|| vec![(i % 251) as u8; i % 90]))
        })
        .collect();
    trie.apply(batch.clone());
    for (k, change) in batch {
        match change {
            Some(v) => model.insert(k, v),
            None => model.remove(&k),
        };
    }
    assert_eq!(trie.root(), root(&model).unwrap());
    assert_eq!(trie.len(), model.len());
    assert_eq!(snapshot.root(), snapshot_root);
}

#[test]
fn batched_runs_match_the_reference_and_insertion() {
    // More pairs than one level-by-level run holds, so the root is cut into runs; half the keys
    // share a 20-byte prefix so that a cut sits below a long single-child chain.
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let mut model = BTreeMap::new();
    for i in 0..9_000 {
        let mut k: Key = rng.gen();
        if i % 2 == 0 {
            k[..20].fill(0);
        }
        let len = rng.gen_range(0..70);
        model.insert(k, (0..len).map(|_| rng.gen()).collect::<Vec<u8>>());
    }
    let expected = reference::root(&model);
    assert_eq!(root(&model).unwrap(), expected);
    let built: Trie = model.iter().map(|(k, v)| (*k, v.clone())).collect();
    assert_eq!(built.root(), expected);
    // Inserted one by one, the trie hashes node by node, sharing nothing with the batched code.
    let mut inserted = Trie::new();
    for (k, v) in &model {
        inserted.insert(*k, v.clone());
    }
    assert_eq!(inserted.root(), expected);
}

#[test]
fn trie_can_cross_threads() {
    // State snapshots are handed between the importer's threads.
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Trie>();
    send_sync::<crate::Mmr>();
}
