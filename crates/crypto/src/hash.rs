use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use sha3::Keccak256;

/// `H(x)`: blake2b with a 256-bit output.
pub fn blake2b_256(data: &[u8]) -> [u8; 32] {
    Blake2b::<U32>::digest(data).into()
}

/// `H(a ‖ b ‖ …)` without building the concatenation.
pub fn blake2b_256_concat(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Blake2b::<U32>::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// `H_K(x)`: keccak-256 (the pre-standard SHA-3 that Ethereum uses), for the BEEFY MMR.
pub fn keccak_256(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        // Published test values: blake2b-256("abc") from RFC 7693's reference implementation and
        // keccak-256("") as used throughout Ethereum.
        assert_eq!(
            hex::encode(blake2b_256(b"abc")),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"
        );
        assert_eq!(
            hex::encode(keccak_256(b"")),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
        assert_eq!(blake2b_256_concat(&[b"a", b"bc"]), blake2b_256(b"abc"));
    }
}
