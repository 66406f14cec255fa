//! Ed25519 verification with the ZIP-215 rules (GP 0.7.2 §3.8.2 points to them), through
//! `ed25519-zebra`, which implements exactly those rules: cofactored verification, non-canonical
//! point encodings accepted, and `s` required to be canonical.

use ed25519_zebra::{batch, Signature, VerificationKey, VerificationKeyBytes};

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
    let mut verifier = batch::Verifier::new();
    for &(public, message, signature) in &items {
        verifier.queue((VerificationKeyBytes::from(*public), Signature::from_bytes(signature), message));
    }
    if verifier.verify(rand::thread_rng()).is_ok() {
        return Ok(());
    }
    for (index, &(public, message, signature)) in items.iter().enumerate() {
        ed25519_verify(public, message, signature).map_err(|error| Ed25519BatchError { index, error })?;
    }
    // The batch failed but every item verifies alone: only possible if the random weights hit the
    // 2^-128 case, so the single checks are the answer.
    Ok(())
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
}
