//! The ALPN protocol identifiers (JAMNP-S "ALPN"): `jamnp-s/0/H` and `jamnp-s/0/H/builder`, H being the
//! first 8 lowercase hex nibbles of the genesis header hash. A peer of another chain or protocol version
//! fails the TLS handshake.

/// The protocol version in the identifier. The spec's "v1" bump was reverted; `0` is current.
pub const PROTOCOL_VERSION: u8 = 0;

/// The ALPN identifiers of one chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alpn {
    plain: Vec<u8>,
    builder: Vec<u8>,
}

impl Alpn {
    /// The identifiers of the chain whose genesis header hashes to `genesis_header_hash`.
    pub fn for_genesis_hash(genesis_header_hash: &[u8; 32]) -> Self {
        let mut h = String::with_capacity(8);
        for byte in &genesis_header_hash[..4] {
            h.push_str(&format!("{byte:02x}"));
        }
        let plain = format!("jamnp-s/{PROTOCOL_VERSION}/{h}").into_bytes();
        let mut builder = plain.clone();
        builder.extend_from_slice(b"/builder");
        Self { plain, builder }
    }

    /// The identifiers of the chain with this encoded genesis header (`blake2b-256` of it, GP §5).
    pub fn for_genesis_header(encoded_header: &[u8]) -> Self {
        Self::for_genesis_hash(&orrery_crypto::blake2b_256(encoded_header))
    }

    /// `jamnp-s/0/H`: what nodes dial with.
    pub fn plain(&self) -> &[u8] {
        &self.plain
    }

    /// `jamnp-s/0/H/builder`: what work-package builders dial with, asking for a reserved slot.
    pub fn builder(&self) -> &[u8] {
        &self.builder
    }

    /// Which of our identifiers `protocol` is: `Some(true)` for the builder one, `None` for neither.
    pub fn classify(&self, protocol: &[u8]) -> Option<bool> {
        if protocol == self.plain {
            Some(false)
        } else if protocol == self.builder {
            Some(true)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_uses_first_four_bytes_in_lowercase_hex() {
        let mut hash = [0u8; 32];
        hash[..5].copy_from_slice(&[0x2b, 0xf1, 0x1d, 0xc5, 0xff]);
        let alpn = Alpn::for_genesis_hash(&hash);
        assert_eq!(alpn.plain(), b"jamnp-s/0/2bf11dc5");
        assert_eq!(alpn.builder(), b"jamnp-s/0/2bf11dc5/builder");
        assert_eq!(alpn.classify(b"jamnp-s/0/2bf11dc5"), Some(false));
        assert_eq!(alpn.classify(b"jamnp-s/0/2bf11dc5/builder"), Some(true));
        assert_eq!(alpn.classify(b"jamnp-s/0/2BF11DC5"), None);
        assert_eq!(alpn.classify(b"jamnp-s/1/2bf11dc5"), None);
    }

    #[test]
    fn identifier_hashes_the_header_with_blake2b_256() {
        // blake2b-256 of the empty string is 0e5751c0 26e543b2 ...(RFC 7693 parameters, 32-byte output).
        assert_eq!(Alpn::for_genesis_header(b"").plain(), b"jamnp-s/0/0e5751c0");
    }
}
