//! Ed25519 verification with the ZIP-215 rules (GP 0.7.2 §3.8.2 points to them), through
//! `ed25519-zebra`, which implements exactly those rules: cofactored verification, non-canonical
//! point encodings accepted, and `s` required to be canonical.

use ed25519_zebra::{Signature, VerificationKey};

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
}
