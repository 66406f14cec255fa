//! Bandersnatch VRFs against the JAM 0.7.2 vectors: ring roots (`γ_z`) and ticket proofs from the
//! safrole STF vectors, block seals and entropy sources from the block-import traces; and ring
//! proofs made and checked here at the tiny (6) and full (1023) ring sizes.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use orrery_codec::{Decode, Decoder};
use orrery_crypto::bandersnatch::{
    ietf_vrf_verify, is_valid_public, BandersnatchError, PublicKey, RingContext, RingRoot, SecretKey,
    RING_PROOF_LEN,
};
use orrery_crypto::context;
use orrery_testkit::{srs_path, trace_dir, vectors};
use orrery_types::{Block, ChainSpec};
use serde_json::Value;

/// The tiny spec's ring context, built once for all tests of this binary.
fn tiny_context() -> &'static RingContext {
    static CONTEXT: OnceLock<RingContext> = OnceLock::new();
    CONTEXT.get_or_init(|| RingContext::from_srs_file(&srs_path(), 6).expect("SRS loads"))
}

fn bytes<const N: usize>(value: &Value) -> [u8; N] {
    let text = value.as_str().expect("a hex string");
    hex::decode(text.trim_start_matches("0x")).expect("hex").try_into().expect("length")
}

fn safrole_cases() -> Vec<(String, Value)> {
    let dir = vectors().join("stf/safrole/tiny");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("safrole vectors")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
        .into_iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let json = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            (name, json)
        })
        .collect()
}

fn bandersnatch_keys(validators: &Value) -> Vec<PublicKey> {
    validators.as_array().unwrap().iter().map(|v| bytes(&v["bandersnatch"])).collect()
}

#[test]
fn ring_roots_match_safrole_gamma_z() {
    let ctx = tiny_context();
    let mut checked = BTreeSet::new();
    let mut with_invalid_keys = 0;
    for (name, case) in safrole_cases() {
        for side in ["pre_state", "post_state"] {
            let keys = bandersnatch_keys(&case[side]["gamma_k"]);
            let expected: RingRoot = bytes(&case[side]["gamma_z"]);
            if !checked.insert((keys.clone(), expected)) {
                continue;
            }
            if keys.iter().any(|k| !is_valid_public(k)) {
                with_invalid_keys += 1;
            }
            assert_eq!(hex::encode(ctx.ring_root(&keys).unwrap()), hex::encode(expected), "{name} {side}");
        }
    }
    // The padding case: a zeroed offender key and a key that is no point, both padded.
    assert!(with_invalid_keys > 0, "no vector exercised padding");
    assert!(checked.len() >= 3, "{}", checked.len());
}

#[test]
fn ticket_proofs_from_safrole_vectors() {
    let ctx = tiny_context();
    let mut verified = 0;
    let mut rejected = 0;
    for (name, case) in safrole_cases() {
        let tickets = case["input"]["extrinsic"].as_array().unwrap();
        if tickets.is_empty() {
            continue;
        }
        // GP `eq:ticketsextrinsic`: proofs are against γ'_z with context X_T ‖ η'_2 ‖ attempt and no message.
        let post = &case["post_state"];
        let verifier = ctx.verifier(&bytes(&post["gamma_z"])).unwrap();
        let eta2: [u8; 32] = bytes(&post["eta"][2]);
        let accumulated: BTreeSet<([u8; 32], u64)> = post["gamma_a"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (bytes(&t["id"]), t["attempt"].as_u64().unwrap()))
            .collect();
        let output_ok = case["output"].get("ok").is_some();
        let mut failures = 0;
        for ticket in tickets {
            let attempt = ticket["attempt"].as_u64().unwrap();
            let proof = hex::decode(ticket["signature"].as_str().unwrap().trim_start_matches("0x")).unwrap();
            let input = [context::TICKET_SEAL, &eta2, &[attempt as u8]].concat();
            match verifier.verify(&input, &[], &proof) {
                Ok(id) => {
                    verified += 1;
                    if output_ok {
                        assert!(
                            accumulated.contains(&(id, attempt)),
                            "{name}: id {} not in γ'_a",
                            hex::encode(id)
                        );
                    }
                }
                Err(e) => {
                    assert_eq!(e, BandersnatchError::VerificationFailed, "{name}");
                    failures += 1;
                }
            }
        }
        // Valid blocks' tickets all verify; the bad-proof case has one that does not. (Other error
        // cases fail earlier checks, such as an attempt out of range, whatever their proofs.)
        if output_ok {
            assert_eq!(failures, 0, "{name}");
        } else if case["output"]["err"] == "bad_ticket_proof" {
            assert!(failures > 0, "{name}");
        }
        rejected += failures;
    }
    assert!(verified >= 15, "{verified}");
    assert!(rejected >= 1);
}

/// Reads a trace step's raw state: the state root, then `(key, value)` pairs.
fn read_state(d: &mut Decoder<'_>) -> Vec<([u8; 31], Vec<u8>)> {
    d.array::<32>().unwrap();
    let n = d.length().unwrap();
    (0..n)
        .map(|_| {
            let key = d.array::<31>().unwrap();
            let len = d.length().unwrap();
            (key, d.take(len).unwrap().to_vec())
        })
        .collect()
}

fn component(state: &[([u8; 31], Vec<u8>)], index: u8) -> &[u8] {
    let mut key = [0u8; 31];
    key[0] = index;
    &state.iter().find(|(k, _)| *k == key).expect("state component").1
}

#[test]
fn header_seals_and_entropy_sources_from_traces() {
    let spec = ChainSpec::tiny();
    let lengths = spec.lengths();
    let (validators, epoch) = (lengths.validators_count(), lengths.epoch_length());
    let (mut ticketed, mut fallback) = (0, 0);
    for trace in ["fallback", "safrole"] {
        let dir = trace_dir(trace);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "bin") && !p.ends_with("genesis.bin"))
            .collect();
        files.sort();
        for file in files {
            let raw = std::fs::read(&file).unwrap();
            let mut d = Decoder::new(&raw, lengths);
            let _pre = read_state(&mut d);
            let block = Block::decode(&mut d).unwrap();
            let post = read_state(&mut d);
            d.finish().unwrap();
            let header = &block.header;
            let at = format!("{}", file.display());

            // GP `eq:ticketconditiontrue`–`eq:vrfsigcheck` read the posterior κ', η'_3 and γ'_s.
            let kappa = component(&post, 8);
            let author = usize::from(header.author_index);
            assert!(author < validators);
            let author_key: PublicKey = kappa[author * 336..author * 336 + 32].try_into().unwrap();
            let eta3 = &component(&post, 6)[96..128];
            let gamma = component(&post, 4);
            let sealing = &gamma[validators * 336 + 144..];
            let slot_in_epoch = header.slot as usize % epoch;
            let unsigned = header.encode_unsigned();

            let seal_output = match sealing[0] {
                0 => {
                    // Tickets: `E` × (id, attempt).
                    let entry = &sealing[1 + slot_in_epoch * 33..1 + (slot_in_epoch + 1) * 33];
                    let input = [context::TICKET_SEAL, eta3, &entry[32..33]].concat();
                    let out = ietf_vrf_verify(&author_key, &input, &unsigned, &header.seal).expect(&at);
                    assert_eq!(out[..], entry[..32], "{at}: seal output is not the ticket id");
                    ticketed += 1;
                    out
                }
                1 => {
                    // Fallback keys: `E` × key.
                    let key = &sealing[1 + slot_in_epoch * 32..1 + (slot_in_epoch + 1) * 32];
                    assert_eq!(key, author_key, "{at}");
                    let input = [context::FALLBACK_SEAL, eta3].concat();
                    fallback += 1;
                    ietf_vrf_verify(&author_key, &input, &unsigned, &header.seal).expect(&at)
                }
                other => panic!("{at}: sealing-key discriminator {other}"),
            };
            let entropy_input = [context::ENTROPY, &seal_output].concat();
            ietf_vrf_verify(&author_key, &entropy_input, &[], &header.entropy_source).expect(&at);
            // The seal does not verify as an entropy source, nor under a changed header.
            assert!(ietf_vrf_verify(&author_key, &entropy_input, &[], &header.seal).is_err());
            let mut altered = unsigned.clone();
            altered[0] ^= 1;
            let input = if sealing[0] == 1 {
                [context::FALLBACK_SEAL, eta3].concat()
            } else {
                let entry = &sealing[1 + slot_in_epoch * 33..1 + (slot_in_epoch + 1) * 33];
                [context::TICKET_SEAL, eta3, &entry[32..33]].concat()
            };
            assert_eq!(
                ietf_vrf_verify(&author_key, &input, &altered, &header.seal),
                Err(BandersnatchError::VerificationFailed)
            );
        }
    }
    assert!(ticketed > 0 && fallback > 0, "ticketed {ticketed}, fallback {fallback}");
}

fn ring_of(size: usize) -> (Vec<SecretKey>, Vec<PublicKey>) {
    let secrets: Vec<_> = (0..size as u32).map(|i| SecretKey::from_seed(&i.to_le_bytes())).collect();
    let publics = secrets.iter().map(SecretKey::public).collect();
    (secrets, publics)
}

#[test]
fn ring_proofs_at_tiny_size() {
    let ctx = tiny_context();
    let (secrets, keys) = ring_of(6);
    let root = ctx.ring_root(&keys).unwrap();
    let verifier = ctx.verifier(&root).unwrap();
    for index in [0, 5] {
        let prover = ctx.prover(&keys, index).unwrap();
        let proof = secrets[index].ring_sign(&prover, b"ticket context", b"").unwrap();
        let id = verifier.verify(b"ticket context", b"", &proof).unwrap();
        // The ring output is the key's VRF output for the input: the same as its IETF output.
        assert_eq!(id, secrets[index].vrf_output(b"ticket context").unwrap());
        let ietf = secrets[index].ietf_sign(b"ticket context", b"").unwrap();
        assert_eq!(ietf_vrf_verify(&keys[index], b"ticket context", b"", &ietf).unwrap(), id);
        assert_eq!(
            verifier.verify(b"another context", b"", &proof),
            Err(BandersnatchError::VerificationFailed)
        );
        assert_eq!(
            verifier.verify(b"ticket context", b"aux", &proof),
            Err(BandersnatchError::VerificationFailed)
        );
    }

    // Another ring's root rejects the proof.
    let (_, other_keys) = ring_of(7);
    let other_root = ctx.ring_root(&other_keys[1..]).unwrap();
    assert_ne!(other_root, root);
    let prover = ctx.prover(&keys, 2).unwrap();
    let proof = secrets[2].ring_sign(&prover, b"in", b"").unwrap();
    assert_eq!(
        ctx.ring_vrf_verify(&other_root, b"in", b"", &proof),
        Err(BandersnatchError::VerificationFailed)
    );
    assert!(ctx.ring_vrf_verify(&root, b"in", b"", &proof).is_ok());

    // Sampled bit flips across the proof: errors, never a panic or a pass.
    for bit in (0..RING_PROOF_LEN * 8).step_by(97) {
        let mut bad = proof;
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(verifier.verify(b"in", b"", &bad).is_err(), "bit {bit}");
    }
    for len in [0, 32, 783, 785] {
        assert_eq!(
            verifier.verify(b"in", b"", &vec![0u8; len]),
            Err(BandersnatchError::BadLength { expected: RING_PROOF_LEN, got: len })
        );
    }
    assert!(verifier.verify(b"in", b"", &[0u8; RING_PROOF_LEN]).is_err());
    assert!(verifier.verify(b"in", b"", &[0xffu8; RING_PROOF_LEN]).is_err());
}

#[test]
fn ring_misuse_is_an_error() {
    let ctx = tiny_context();
    let (secrets, mut keys) = ring_of(6);
    assert_eq!(ctx.prover(&keys, 6).unwrap_err(), BandersnatchError::IndexOutOfRange { index: 6, keys: 6 });
    let prover = ctx.prover(&keys, 1).unwrap();
    assert_eq!(secrets[0].ring_sign(&prover, b"in", b"").unwrap_err(), BandersnatchError::NotSignersKey(1));

    let too_many = vec![keys[0]; ctx.capacity() + 1];
    assert!(matches!(ctx.ring_root(&too_many), Err(BandersnatchError::RingTooLarge { .. })));

    // Keys that are no usable point are padding: all-ones (no point), zero (outside the
    // subgroup), and the identity (in the subgroup, but the SNARK cannot hold it).
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let padded_root = {
        let mut padded = keys.clone();
        padded[3] = [0xff; 32];
        ctx.ring_root(&padded).unwrap()
    };
    for bad in [[0u8; 32], identity] {
        keys[3] = bad;
        assert_eq!(ctx.ring_root(&keys).unwrap(), padded_root);
    }
    // A padded position cannot sign; the others still can.
    assert_eq!(
        secrets[3].ring_sign(&ctx.prover(&keys, 3).unwrap(), b"in", b"").unwrap_err(),
        BandersnatchError::NotSignersKey(3)
    );
    let proof = secrets[4].ring_sign(&ctx.prover(&keys, 4).unwrap(), b"in", b"").unwrap();
    assert!(ctx.ring_vrf_verify(&padded_root, b"in", b"", &proof).is_ok());

    // Malformed roots.
    assert_eq!(ctx.verifier(&[0u8; 144]).unwrap_err(), BandersnatchError::MalformedRingRoot);
    assert_eq!(ctx.verifier(&[0xffu8; 144]).unwrap_err(), BandersnatchError::MalformedRingRoot);

    // Bad SRS.
    assert!(matches!(RingContext::from_srs_bytes(&[1, 2, 3], 6), Err(BandersnatchError::Srs(_))));
    assert!(matches!(
        RingContext::from_srs_file(Path::new("/nonexistent"), 6),
        Err(BandersnatchError::Srs(_))
    ));
    assert_eq!(RingContext::from_srs_file(&srs_path(), 0).unwrap_err(), BandersnatchError::EmptyRing);
    // The file holds enough powers for 1023 keys (a PLONK domain of 2048) but not for a larger domain.
    assert!(matches!(RingContext::from_srs_file(&srs_path(), 2000), Err(BandersnatchError::Srs(_))));
    let srs = std::fs::read(srs_path()).unwrap();
    assert!(matches!(RingContext::from_srs_bytes(&srs[..srs.len() / 2], 6), Err(BandersnatchError::Srs(_))));
}

#[test]
fn ring_proof_at_full_size() {
    let ctx = RingContext::from_srs_file(&srs_path(), 1023).unwrap();
    assert!(ctx.capacity() >= 1023);
    let (secrets, keys) = ring_of(1023);
    let root = ctx.ring_root(&keys).unwrap();
    // The tiny context's root of the same keys differs: the domain is part of the commitment.
    let index = 1000;
    let prover = ctx.prover(&keys, index).unwrap();
    let proof = secrets[index].ring_sign(&prover, b"full ring", b"").unwrap();
    let verifier = ctx.verifier(&root).unwrap();
    assert_eq!(
        verifier.verify(b"full ring", b"", &proof).unwrap(),
        secrets[index].vrf_output(b"full ring").unwrap()
    );
    assert_eq!(verifier.verify(b"full ring!", b"", &proof), Err(BandersnatchError::VerificationFailed));
    // The proof names no key: it verifies against the ring, not against the tiny ring's root.
    let tiny_root = tiny_context().ring_root(&keys[..6]).unwrap();
    assert!(ctx.ring_vrf_verify(&tiny_root, b"full ring", b"", &proof).is_err());
}

#[test]
fn remembered_ring_roots_stay_the_vectors_roots() {
    // Every distinct (γ_k, γ_z) of the safrole vectors, asked of one context from two threads at
    // once, in opposite orders, twice over: more sets than the context remembers, so roots are
    // remembered, forgotten, computed again and waited for, and each must still be the vectors'.
    let mut sets: Vec<(Vec<PublicKey>, RingRoot)> = Vec::new();
    for (_, case) in safrole_cases() {
        for side in ["pre_state", "post_state"] {
            let set = (bandersnatch_keys(&case[side]["gamma_k"]), bytes(&case[side]["gamma_z"]));
            if !sets.contains(&set) {
                sets.push(set);
            }
        }
    }
    assert!(sets.len() >= 3, "{}", sets.len());
    let ctx = RingContext::from_srs_file(&srs_path(), 6).unwrap();
    assert_eq!(ctx.remembered_root(&sets[0].0), None);
    std::thread::scope(|scope| {
        for reversed in [false, true] {
            let (ctx, sets) = (&ctx, &sets);
            scope.spawn(move || {
                for _ in 0..2 {
                    let order: Vec<&(Vec<PublicKey>, RingRoot)> =
                        if reversed { sets.iter().rev().collect() } else { sets.iter().collect() };
                    for (keys, expected) in order {
                        assert_eq!(ctx.ring_root(keys).unwrap(), *expected);
                    }
                }
            });
        }
    });
    let (last_keys, last_root) = &sets[sets.len() - 1];
    assert!(ctx.remembered_root(&sets[0].0).is_some() || ctx.remembered_root(last_keys).is_some());
    for (keys, expected) in &sets {
        if let Some(root) = ctx.remembered_root(keys) {
            assert_eq!(root, *expected);
        }
    }
    assert_eq!(ctx.ring_root(last_keys).unwrap(), *last_root);
    assert_eq!(ctx.remembered_root(last_keys), Some(*last_root));
}
