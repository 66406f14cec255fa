//! Ed25519 verification with the ZIP-215 rules (GP 0.7.2 §3.8.2 points to them): cofactored
//! verification, non-canonical point encodings accepted, and `s` required to be canonical.
//!
//! Single signatures go through `ed25519-zebra`, which implements exactly those rules. Batches
//! are checked here, with the same equation as `ed25519-zebra`'s batch verifier, because a
//! block's signers are validators whose keys come back block after block: their decompressed
//! points are kept (a decompression is a square root, as costly as a fifth of a signature's
//! share of the batch), and only the signatures' `R` points are decompressed each time. The tests
//! compare the outcome with `ed25519-zebra`'s batch verifier.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_zebra::{Signature, VerificationKey};
use rand::Rng;
use sha2::{Digest, Sha512};

use crate::key_cache::KeyCache;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Ed25519Error {
    #[error("the public key is not a valid curve point")]
    BadKey,
    #[error("the signature does not verify")]
    BadSignature,
}

/// Verifies `signature` over `message` by `public`.
pub fn ed25519_verify(public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> Result<(), Ed25519Error> {
    let key = VerificationKey::try_from(*public).map_err(|_| Ed25519Error::BadKey)?;
    key.verify(&Signature::from_bytes(signature), message).map_err(|_| Ed25519Error::BadSignature)
}

/// A batch item that failed, found by checking the items one by one after the batch failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("item {index} of the batch: {error}")]
pub struct Ed25519BatchError {
    pub index: usize,
    pub error: Ed25519Error,
}

/// Verifies many `(public, message, signature)` triples at once: one multi-scalar multiplication
/// instead of one check each, with random weights so that invalid items cannot cancel out. Under
/// ZIP-215 the batch accepts exactly what [`ed25519_verify`] accepts one by one (up to the 2^-128
/// chance the weights allow). When the batch fails, the items are checked singly and the first bad
/// one is reported, so the outcome names the same item a sequential check would.
pub fn ed25519_verify_batch<'a, I>(items: I) -> Result<(), Ed25519BatchError>
where
    I: IntoIterator<Item = (&'a [u8; 32], &'a [u8], &'a [u8; 64])>,
{
    let items: Vec<_> = items.into_iter().collect();
    if batch_holds(&items) {
        return Ok(());
    }
    for (index, &(public, message, signature)) in items.iter().enumerate() {
        ed25519_verify(public, message, signature).map_err(|error| Ed25519BatchError { index, error })?;
    }
    // The batch failed but every item verifies alone: only possible if the random weights hit the
    // 2^-128 case, so the single checks are the answer.
    Ok(())
}

/// The batch equation `[8](−(Σ z_i s_i) B + Σ_keys (Σ z_i k_i) A + Σ z_i R_i) = 0` with random
/// 128-bit weights `z_i` and `k_i = H(R_i ‖ A_i ‖ m_i)` reduced mod ℓ: true when every item
/// verifies (and, with probability 2^-128 at most, when one does not). False when any `s` is not
/// canonical or any `R` or key is no point.
fn batch_holds(items: &[(&[u8; 32], &[u8], &[u8; 64])]) -> bool {
    // Nothing to check; the equation would still cost a full-length multiplication of B.
    if items.is_empty() {
        return true;
    }
    let mut rng = rand::thread_rng();
    let mut base_weight = Scalar::ZERO;
    let mut key_index: HashMap<[u8; 32], usize> = HashMap::new();
    let (mut key_points, mut key_weights) = (Vec::new(), Vec::new());
    let (mut r_points, mut r_weights) = (Vec::with_capacity(items.len()), Vec::with_capacity(items.len()));
    for &(public, message, signature) in items {
        let (r_bytes, s_bytes) = signature.split_at(32);
        let Some(s) =
            s_bytes.try_into().ok().and_then(|s| Option::<Scalar>::from(Scalar::from_canonical_bytes(s)))
        else {
            return false;
        };
        let Some(r) = r_bytes.try_into().ok().and_then(|r| CompressedEdwardsY(r).decompress()) else {
            return false;
        };
        let k =
            Scalar::from_hash(Sha512::new().chain_update(r_bytes).chain_update(public).chain_update(message));
        let z = Scalar::from(rng.gen::<u128>());
        base_weight -= z * s;
        r_points.push(r);
        r_weights.push(z);
        let index = match key_index.entry(*public) {
            Entry::Occupied(entry) => *entry.get(),
            Entry::Vacant(entry) => {
                let Some(point) = key_point(public) else { return false };
                key_points.push(point);
                key_weights.push(Scalar::ZERO);
                *entry.insert(key_points.len() - 1)
            }
        };
        key_weights[index] += z * k;
    }
    let check = EdwardsPoint::vartime_multiscalar_mul(
        std::iter::once(&base_weight).chain(&key_weights).chain(&r_weights),
        std::iter::once(&ED25519_BASEPOINT_POINT).chain(&key_points).chain(&r_points),
    );
    check.mul_by_cofactor().is_identity()
}

/// How many decompressed keys are kept: a few validator sets' worth (1023 keys each in the full
/// spec); past it the cache starts over.
const KEY_CACHE_LIMIT: usize = 4096;

/// A public key's point (ZIP-215: any encoding that decompresses), kept for next time; `None`
/// when it is no point.
fn key_point(public: &[u8; 32]) -> Option<EdwardsPoint> {
    static KEYS: KeyCache<EdwardsPoint> = KeyCache::new(KEY_CACHE_LIMIT);
    KEYS.get_or_make(public, || CompressedEdwardsY(*public).decompress().ok_or(())).ok()
}

/// Decompresses and keeps `keys` (validators' keys, before their first signatures arrive).
/// Keys that are no points are skipped; verification reports them.
pub fn prepare_ed25519_keys(keys: &[[u8; 32]]) {
    for key in keys {
        let _ = key_point(key);
    }
}

/// Signatures gathered to be verified later, together: a sub-transition collects them while it
/// checks everything else, and its caller may verify them alongside other work.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ed25519Batch {
    items: Vec<([u8; 32], Vec<u8>, [u8; 64])>,
}

impl Ed25519Batch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, public: [u8; 32], message: Vec<u8>, signature: [u8; 64]) {
        self.items.push((public, message, signature));
    }

    /// [`ed25519_verify_batch`] over the items, in the order they were pushed.
    pub fn verify(&self) -> Result<(), Ed25519BatchError> {
        ed25519_verify_batch(
            self.items.iter().map(|(public, message, signature)| (public, message.as_slice(), signature)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_zebra::VerificationKeyBytes;

    #[test]
    fn rfc8032_test_vector_1() {
        // RFC 8032 §7.1, TEST 1 (empty message).
        let public: [u8; 32] =
            hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
                .unwrap()
                .try_into()
                .unwrap();
        let signature: [u8; 64] = hex::decode(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        )
        .unwrap()
        .try_into()
        .unwrap();
        assert_eq!(ed25519_verify(&public, b"", &signature), Ok(()));
        assert_eq!(ed25519_verify(&public, b"x", &signature), Err(Ed25519Error::BadSignature));
        let mut bad = signature;
        bad[0] ^= 1;
        assert_eq!(ed25519_verify(&public, b"", &bad), Err(Ed25519Error::BadSignature));
    }

    fn signed(n: usize) -> Vec<Owned> {
        (0..n)
            .map(|i| {
                let key = ed25519_zebra::SigningKey::from([i as u8 + 1; 32]);
                let message = format!("message {i}").into_bytes();
                let signature = key.sign(&message).to_bytes();
                (VerificationKeyBytes::from(&key).into(), message, signature)
            })
            .collect()
    }

    type Owned = ([u8; 32], Vec<u8>, [u8; 64]);

    fn refs(items: &[Owned]) -> Vec<(&[u8; 32], &[u8], &[u8; 64])> {
        items.iter().map(|(k, m, s)| (k, m.as_slice(), s)).collect()
    }

    #[test]
    fn batch_agrees_with_single_checks() {
        let items = signed(20);
        assert_eq!(ed25519_verify_batch(refs(&items)), Ok(()));
        assert_eq!(ed25519_verify_batch(Vec::new()), Ok(()));

        // A wrong message at 7 and a bad signature at 12: the first is named.
        let mut bad = items.clone();
        bad[7].1 = b"something else".to_vec();
        bad[12].2[3] ^= 1;
        assert_eq!(
            ed25519_verify_batch(refs(&bad)),
            Err(Ed25519BatchError { index: 7, error: Ed25519Error::BadSignature })
        );
        // A key that is no point.
        let mut bad = items.clone();
        bad[3].0 = [0xff; 32];
        bad[3].0[31] = 0x7f;
        let single = ed25519_verify(&bad[3].0, &bad[3].1, &bad[3].2).unwrap_err();
        assert_eq!(ed25519_verify_batch(refs(&bad)), Err(Ed25519BatchError { index: 3, error: single }));

        // The RFC 8032 vector in a batch.
        let public: [u8; 32] =
            hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
                .unwrap()
                .try_into()
                .unwrap();
        let signature: [u8; 64] = hex::decode("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b").unwrap().try_into().unwrap();
        let mut with_rfc = refs(&items);
        with_rfc.push((&public, b"", &signature));
        assert_eq!(ed25519_verify_batch(with_rfc), Ok(()));
    }

    /// `ed25519-zebra`'s batch verifier, the reference for [`batch_holds`].
    fn zebra_batch(items: &[(&[u8; 32], &[u8], &[u8; 64])]) -> bool {
        let mut verifier = ed25519_zebra::batch::Verifier::new();
        for &(public, message, signature) in items {
            verifier.queue((VerificationKeyBytes::from(*public), Signature::from_bytes(signature), message));
        }
        verifier.verify(rand::thread_rng()).is_ok()
    }

    #[test]
    fn batch_equation_agrees_with_ed25519_zebra() {
        let mut items = signed(10);
        // One key signing twice, as a guarantor of two reports does.
        let key = ed25519_zebra::SigningKey::from([1; 32]);
        let message = b"second report".to_vec();
        items.push((VerificationKeyBytes::from(&key).into(), message.clone(), key.sign(&message).to_bytes()));
        // ZIP-215 edge cases, valid by its cofactored equation: the identity as key and as R with
        // s = 0, canonically and non-canonically encoded (y = 1 and y = p + 1).
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut identity_noncanonical = [0xff; 32];
        identity_noncanonical[0] = 0xee;
        identity_noncanonical[31] = 0x7f;
        for (public, r) in
            [(identity, identity), (identity_noncanonical, identity), (identity, identity_noncanonical)]
        {
            let mut signature = [0u8; 64];
            signature[..32].copy_from_slice(&r);
            items.push((public, b"anything".to_vec(), signature));
        }
        assert!(batch_holds(&refs(&items)));
        assert!(zebra_batch(&refs(&items)));

        // Every single-byte change of every item's key, signature and message, and the
        // non-canonical s, on a short batch to keep the test quick: both must agree each time.
        let base: Vec<Owned> = items[8..].to_vec();
        let mut checked = 0;
        for i in 0..base.len() {
            for byte in 0..32 + 64 + 1 {
                let mut case = base.clone();
                match byte {
                    0..=31 => case[i].0[byte] ^= 0x21,
                    32..=95 => case[i].2[byte - 32] ^= 0x21,
                    _ => case[i].1.push(7),
                }
                let ours = batch_holds(&refs(&case));
                assert_eq!(ours, zebra_batch(&refs(&case)), "item {i}, byte {byte}");
                checked += usize::from(!ours);
            }
            let mut case = base.clone();
            case[i].2[63] |= 0xf0;
            assert!(!batch_holds(&refs(&case)));
            assert!(!zebra_batch(&refs(&case)));
        }
        // Most changes break the batch; the edge items' bytes that ZIP-215 ignores need not.
        assert!(checked > base.len() * 80, "only {checked} changes were rejected");
    }
}
