//! A validator's secret keys, derived from one 32-byte seed as JIP-5 says, and what is read off
//! them: the public keys a validator set holds (GP 0.7.2 §6.3, `k_b` and `k_e`), the JAMNP-S peer
//! name, and the signatures block authoring makes.
//!
//! - Ed25519: the secret (an RFC 8032 seed) is `blake2b256("jam_val_key_ed25519" ++ seed)`.
//! - Bandersnatch: `blake2b256("jam_val_key_bandersnatch" ++ seed)`, then the scalar is
//!   `LE(sha512(that)) mod r`, which is exactly `ark-vrf`'s `Secret::from_seed` (what
//!   `orrery_crypto::bandersnatch::SecretKey::from_seed` wraps).
//! - Dev seeds: `LE32(i)` repeated eight times (JIP-5 "trivial seeds"); validator `i` of a dev chain.
//!
//! JIP-5 defines no BLS key; a validator's `k_l` stays for the caller to fill (zeros on a dev chain).
//! The signing itself is `orrery-crypto`'s; this crate only holds the keys. [`store`] keeps seeds
//! on disk, one file per key, readable by its owner only.
//!
//! Checked against the JIP-5 test vectors and the dev-account table of the JAM docs (Alice …
//! Fergie), public keys and peer names alike.

#![forbid(unused_must_use)]

pub mod store;

use std::fmt;

use orrery_crypto::bandersnatch::{self, RingProver, RING_PROOF_LEN, SIGNATURE_LEN};
use orrery_crypto::blake2b_256_concat;

/// A 32-byte seed every key of a validator is derived from.
pub type Seed = [u8; 32];

/// JIP-5's domain prefix of the Ed25519 secret.
const ED25519_DOMAIN: &[u8] = b"jam_val_key_ed25519";
/// JIP-5's domain prefix of the Bandersnatch secret.
const BANDERSNATCH_DOMAIN: &[u8] = b"jam_val_key_bandersnatch";

/// JIP-5's trivial seed of dev validator `i`: `LE32(i)` eight times. For test and dev chains only.
pub fn dev_seed(i: u32) -> Seed {
    let mut seed = [0u8; 32];
    for chunk in seed.chunks_exact_mut(4) {
        chunk.copy_from_slice(&i.to_le_bytes());
    }
    seed
}

/// A validator's secret keys, with the seed they came from. `Debug` shows the public keys only.
#[derive(Clone)]
pub struct ValidatorKeys {
    seed: Seed,
    ed25519_secret: [u8; 32],
    bandersnatch_secret: [u8; 32],
    ed25519: ed25519_zebra::SigningKey,
    bandersnatch: bandersnatch::SecretKey,
}

impl fmt::Debug for ValidatorKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidatorKeys")
            .field("ed25519", &hex(&self.ed25519_public()))
            .field("bandersnatch", &hex(&self.bandersnatch_public()))
            .finish_non_exhaustive()
    }
}

impl ValidatorKeys {
    /// The keys of `seed` (JIP-5).
    pub fn from_seed(seed: &Seed) -> Self {
        let ed25519_secret = blake2b_256_concat(&[ED25519_DOMAIN, seed]);
        let bandersnatch_secret = blake2b_256_concat(&[BANDERSNATCH_DOMAIN, seed]);
        Self {
            seed: *seed,
            ed25519_secret,
            bandersnatch_secret,
            ed25519: ed25519_zebra::SigningKey::from(ed25519_secret),
            bandersnatch: bandersnatch::SecretKey::from_seed(&bandersnatch_secret),
        }
    }

    /// Dev validator `i`'s keys (see [`dev_seed`]).
    pub fn dev(i: u32) -> Self {
        Self::from_seed(&dev_seed(i))
    }

    pub fn seed(&self) -> &Seed {
        &self.seed
    }

    /// JIP-5's `ed25519_secret`: the RFC 8032 secret key.
    pub fn ed25519_secret(&self) -> &[u8; 32] {
        &self.ed25519_secret
    }

    /// JIP-5's `bandersnatch_secret`: the seed the Bandersnatch scalar is derived from.
    pub fn bandersnatch_secret(&self) -> &[u8; 32] {
        &self.bandersnatch_secret
    }

    /// `k_e`.
    pub fn ed25519_public(&self) -> [u8; 32] {
        self.ed25519.verification_key().into()
    }

    /// `k_b`.
    pub fn bandersnatch_public(&self) -> bandersnatch::PublicKey {
        self.bandersnatch.public()
    }

    /// The JAMNP-S peer name of these keys (see [`peer_name`]).
    pub fn peer_name(&self) -> String {
        peer_name(&self.ed25519_public())
    }

    /// The Bandersnatch secret, for `orrery-crypto`'s signing functions.
    pub fn bandersnatch(&self) -> &bandersnatch::SecretKey {
        &self.bandersnatch
    }

    /// An Ed25519 signature of `message` (guarantees, assurances, judgments).
    pub fn ed25519_sign(&self, message: &[u8]) -> [u8; 64] {
        self.ed25519.sign(message).to_bytes()
    }

    /// `F^aux_k⟨input⟩`: an IETF VRF signature (the seal and the entropy source).
    pub fn ietf_sign(
        &self,
        input: &[u8],
        aux: &[u8],
    ) -> Result<[u8; SIGNATURE_LEN], bandersnatch::BandersnatchError> {
        self.bandersnatch.ietf_sign(input, aux)
    }

    /// `F̄^aux_r⟨input⟩`: a ring VRF proof (a ticket) with `prover`, made for this key's place in
    /// the ring.
    pub fn ring_sign(
        &self,
        prover: &RingProver,
        input: &[u8],
        aux: &[u8],
    ) -> Result<[u8; RING_PROOF_LEN], bandersnatch::BandersnatchError> {
        self.bandersnatch.ring_sign(prover, input, aux)
    }

    /// `Y` of the VRF output these keys would give for `input` (a ticket's id, before proving it).
    pub fn vrf_output(
        &self,
        input: &[u8],
    ) -> Result<bandersnatch::VrfOutput, bandersnatch::BandersnatchError> {
        self.bandersnatch.vrf_output(input)
    }
}

/// The digits of a peer name (JAMNP-S): RFC 4648's base-32 alphabet, used differently.
const PEER_NAME_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// `N(k) = "e" ++ B(E32⁻¹(k), 52)` (JAMNP-S, the certificate's alternative name): the key read as
/// a 256-bit little-endian integer, written in base 32 least significant digit first. Not RFC
/// 4648's base32, which reads bytes big-end first.
pub fn peer_name(ed25519_public: &[u8; 32]) -> String {
    let mut name = String::with_capacity(53);
    name.push('e');
    // Digit `i` is bits 5i..5i+5 of the little-endian integer; the last digit has only one bit.
    for i in 0..52 {
        let bit = 5 * i;
        let (byte, shift) = (bit / 8, bit % 8);
        let low = u16::from(ed25519_public[byte]);
        let high = ed25519_public.get(byte + 1).map_or(0, |b| u16::from(*b));
        let digit = ((low | high << 8) >> shift) & 31;
        name.push(char::from(PEER_NAME_ALPHABET[usize::from(digit)]));
    }
    name
}

/// The Ed25519 key a peer name names: the inverse of [`peer_name`], `None` when `name` is not one
/// (not 53 characters, not `e` first, a character outside the alphabet, or a last digit with more
/// than the one bit a 256-bit key leaves it).
pub fn peer_key(name: &str) -> Option<[u8; 32]> {
    let digits = name.strip_prefix('e')?.as_bytes();
    if digits.len() != 52 {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, c) in digits.iter().enumerate() {
        let digit = PEER_NAME_ALPHABET.iter().position(|a| a == c)? as u16;
        // 52 digits carry 260 bits; the key has 256, so the last digit may only be 0 or 1.
        if i == 51 && digit > 1 {
            return None;
        }
        let bit = 5 * i;
        let (byte, shift) = (bit / 8, bit % 8);
        let spread = digit << shift;
        key[byte] |= spread as u8;
        if let Some(next) = key.get_mut(byte + 1) {
            *next |= (spread >> 8) as u8;
        }
    }
    Some(key)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use orrery_crypto::bandersnatch::{ietf_vrf_verify, vrf_output};
    use orrery_crypto::ed25519_verify;

    fn h32(s: &str) -> [u8; 32] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    /// JIP-5 at polkadot-fellows/JIPs@d016c0f6 "Test vectors" (seed, `ed25519_secret`,
    /// `ed25519_public`, `bandersnatch_secret`, `bandersnatch_public`), and the peer names of the
    /// JAM docs' dev-account table (JamBrains/jam-docs `docs/knowledge/basics/dev-accounts.md`,
    /// `dns_alt_name`, which lists the same keys for seeds 0–5).
    /// Seed, Ed25519 secret and public key, Bandersnatch secret and public key, peer name.
    type Vector =
        (&'static str, &'static str, &'static str, &'static str, &'static str, Option<&'static str>);

    const VECTORS: [Vector; 7] = [
        (
            "0000000000000000000000000000000000000000000000000000000000000000",
            "996542becdf1e78278dc795679c825faca2e9ed2bf101bf3c4a236d3ed79cf59",
            "4418fb8c85bb3985394a8c2756d3643457ce614546202a2f50b093d762499ace",
            "007596986419e027e65499cc87027a236bf4a78b5e8bd7f675759d73e7a9c799",
            "ff71c6c03ff88adb5ed52c9681de1629a54e702fc14729f6b50d2f0a76f185b3",
            Some("eecgwpgwq3noky4ijm4jmvjtmuzv44qvigciusxakq5epnrfj2utb"),
        ),
        (
            "0100000001000000010000000100000001000000010000000100000001000000",
            "b81e308145d97464d2bc92d35d227a9e62241a16451af6da5053e309be4f91d7",
            "ad93247bd01307550ec7acd757ce6fb805fcf73db364063265b30a949e90d933",
            "12ca375c9242101c99ad5fafe8997411f112ae10e0e5b7c4589e107c433700ac",
            "dee6d555b82024f1ccf8a1e37e60fa60fd40b1958c4bb3006af78647950e1b91",
            Some("en5ejs5b2tybkfh4ym5vpfh7nynby73xhtfzmazumtvcijpcsz6ma"),
        ),
        (
            "0200000002000000020000000200000002000000020000000200000002000000",
            "0093c8c10a88ebbc99b35b72897a26d259313ee9bad97436a437d2e43aaafa0f",
            "cab2b9ff25c2410fbe9b8a717abb298c716a03983c98ceb4def2087500b8e341",
            "3d71dc0ffd02d90524fda3e4a220e7ec514a258c59457d3077ce4d4f003fd98a",
            "9326edb21e5541717fde24ec085000b28709847b8aab1ac51f84e94b37ca1b66",
            Some("ekwmt37xecoq6a7otkm4ux5gfmm4uwbat4bg5m223shckhaaxdpqa"),
        ),
        (
            "0300000003000000030000000300000003000000030000000300000003000000",
            "69b3a7031787e12bfbdcac1b7a737b3e5a9f9450c37e215f6d3b57730e21001a",
            "f30aa5444688b3cab47697b37d5cac5707bb3289e986b19b17db437206931a8d",
            "107a9148b39a1099eeaee13ac0e3c6b9c256258b51c967747af0f8749398a276",
            "0746846d17469fb2f95ef365efcab9f4e22fa1feb53111c995376be8019981cc",
            Some("etxckkczii4mvm22ox4m3horvx2bwlzerjxbd3n6c36qehdms2idb"),
        ),
        (
            "0400000004000000040000000400000004000000040000000400000004000000",
            "b4de9ebf8db5428930baa5a98d26679ab2a03eae7c791d582e6b75b7f018d0d4",
            "8b8c5d436f92ecf605421e873a99ec528761eb52a88a2f9a057b3b3003e6f32a",
            "0bb36f5ba8e3ba602781bb714e67182410440ce18aa800c4cb4dd22525b70409",
            "151e5c8fe2b9d8a606966a79edd2f9e5db47e83947ce368ccba53bf6ba20a40b",
            Some("eled3vb5nse3n7cii6ybvtms5s2bdwvlkivc7cnwa33oatby4txka"),
        ),
        (
            "0500000005000000050000000500000005000000050000000500000005000000",
            "4a6482f8f479e3ba2b845f8cef284f4b3208ba3241ed82caa1b5ce9fc6281730",
            "ab0084d01534b31c1dd87c81645fd762482a90027754041ca1b56133d0466c06",
            "75e73b8364bf4753c5802021c6aa6548cddb63fe668e3cacf7b48cdb6824bb09",
            "2105650944fcd101621fd5bb3124c9fd191d114b7ad936c1d79d734f9f21392e",
            Some("elfaiiixcuzmzroa34lajwp52cdsucikaxdviaoeuvnygdi3imtba"),
        ),
        (
            "f92d680ea3f0ac06307795490d8a03c5c0d4572b5e0a8cffec87e1294855d9d1",
            "f21e2d96a51387f9a7e5b90203654913dde7fa1044e3eba5631ed19f327d6126",
            "11a695f674de95ff3daaff9a5b88c18448b10156bf88bc04200e48d5155c7243",
            "06154d857537a9b622a9a94b1aeee7d588db912bfc914a8a9707148bfba3b9d1",
            "299bdfd8d615aadd9e6c58718f9893a5144d60e897bc9da1f3d73c935715c650",
            None,
        ),
    ];

    #[test]
    fn jip5_vectors_and_dev_accounts() {
        for (i, (seed, ed_secret, ed_public, bs_secret, bs_public, name)) in VECTORS.iter().enumerate() {
            let keys = ValidatorKeys::from_seed(&h32(seed));
            assert_eq!(keys.ed25519_secret(), &h32(ed_secret), "vector {i}");
            assert_eq!(keys.ed25519_public(), h32(ed_public), "vector {i}");
            assert_eq!(keys.bandersnatch_secret(), &h32(bs_secret), "vector {i}");
            assert_eq!(keys.bandersnatch_public(), h32(bs_public), "vector {i}");
            if let Some(name) = name {
                assert_eq!(keys.peer_name(), *name, "vector {i}");
                assert_eq!(ValidatorKeys::dev(i as u32).ed25519_public(), h32(ed_public));
            }
        }
    }

    #[test]
    fn dev_seeds_repeat_le32() {
        assert_eq!(dev_seed(0), [0; 32]);
        assert_eq!(
            dev_seed(0x0403_0201),
            h32("0102030401020304010203040102030401020304010203040102030401020304")
        );
    }

    /// Hand-worked: 1 as a little-endian integer is digit `b` then 51 `a`s; all-ones bytes are
    /// 51 digits 31 (`7`) then the one bit left (`b`).
    #[test]
    fn peer_key_inverts_peer_name_and_refuses_non_names() {
        for seed in 0..6 {
            let key = ValidatorKeys::dev(seed).ed25519_public();
            assert_eq!(peer_key(&peer_name(&key)), Some(key));
        }
        // JAMNP-S's example name of dev key 0 (see VECTORS).
        let name = "eecgwpgwq3noky4ijm4jmvjtmuzv44qvigciusxakq5epnrfj2utb";
        assert_eq!(
            peer_key(name),
            Some(h32("4418fb8c85bb3985394a8c2756d3643457ce614546202a2f50b093d762499ace"))
        );
        assert_eq!(peer_key(&name[..52]), None, "52 characters");
        assert_eq!(peer_key(&format!("f{}", &name[1..])), None, "not e first");
        assert_eq!(peer_key(&name.replace('q', "1")), None, "1 is not a digit");
        assert_eq!(peer_key(&format!("{}c", &name[..52])), None, "a last digit of 2 is bit 257");
    }

    #[test]
    fn peer_name_is_little_endian_base32() {
        let mut one = [0u8; 32];
        one[0] = 1;
        assert_eq!(peer_name(&one), format!("eb{}", "a".repeat(51)));
        assert_eq!(peer_name(&[0xff; 32]), format!("e{}b", "7".repeat(51)));
        // 32 = digit 0 then digit 1.
        one[0] = 32;
        assert_eq!(peer_name(&one), format!("eab{}", "a".repeat(50)));
    }

    #[test]
    fn signatures_verify_with_orrery_crypto() {
        let keys = ValidatorKeys::dev(3);
        let signature = keys.ed25519_sign(b"jam_guarantee message");
        assert_eq!(ed25519_verify(&keys.ed25519_public(), b"jam_guarantee message", &signature), Ok(()));
        assert!(ed25519_verify(&keys.ed25519_public(), b"another message", &signature).is_err());

        let seal = keys.ietf_sign(b"jam_fallback_seal input", b"header").unwrap();
        let output =
            ietf_vrf_verify(&keys.bandersnatch_public(), b"jam_fallback_seal input", b"header", &seal);
        assert_eq!(output, Ok(keys.vrf_output(b"jam_fallback_seal input").unwrap()));
        assert_eq!(vrf_output(&seal), output);
        assert!(ietf_vrf_verify(
            &ValidatorKeys::dev(4).bandersnatch_public(),
            b"jam_fallback_seal input",
            b"header",
            &seal
        )
        .is_err());
    }

    /// A ticket-style ring proof by dev validator 4 in the ring of the six dev validators, checked by
    /// `orrery-crypto`'s verifier against the ring root.
    #[test]
    fn ring_proofs_verify_with_orrery_crypto() {
        let ring = bandersnatch::RingContext::from_srs_file(&orrery_testkit::srs_path(), 6).unwrap();
        let keys: Vec<ValidatorKeys> = (0..6).map(ValidatorKeys::dev).collect();
        let publics: Vec<_> = keys.iter().map(|k| k.bandersnatch_public()).collect();
        let prover = ring.prover(&publics, 4).unwrap();
        let input = b"jam_ticket_seal entropy and attempt";
        let proof = keys[4].ring_sign(&prover, input, &[]).unwrap();
        let verifier = ring.verifier(&ring.ring_root(&publics).unwrap()).unwrap();
        assert_eq!(verifier.verify(input, &[], &proof), Ok(keys[4].vrf_output(input).unwrap()));
        assert!(verifier.verify(b"another input", &[], &proof).is_err());
        // Another key cannot sign for position 4.
        assert!(keys[3].ring_sign(&prover, input, &[]).is_err());
    }

    #[test]
    fn debug_shows_no_secret() {
        let keys = ValidatorKeys::dev(0);
        let shown = format!("{keys:?}");
        assert!(shown.contains("4418fb8c"));
        assert!(!shown.contains(&hex(keys.ed25519_secret())));
        assert!(!shown.contains(&hex(keys.bandersnatch_secret())));
    }
}
