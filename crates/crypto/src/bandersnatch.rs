//! Bandersnatch VRFs (GP 0.7.2 §3.8.2 and Appendix F) through `ark-vrf` 0.1.1, the suite
//! `Bandersnatch_SHA-512_ELL2` that the 0.7.2 vectors were made with.
//!
//! Two kinds of proof:
//! - the IETF VRF signature `F^m_k⟨c⟩` (96 bytes: the output point, then the challenge and the
//!   response), used for the block seal `H_s` and the entropy source `H_v` (GP §6.4, `eq:ticketconditiontrue` to
//!   `eq:vrfsigcheck`);
//! - the ring VRF proof `F̄^m_r⟨c⟩` (784 bytes: the output point, then the Pedersen proof and the
//!   ring SNARK), used for tickets (GP §6.7, `eq:ticketsextrinsic`), checked against a ring root `O(keys)` (144 bytes).
//!
//! In both, the GP's context `c` is the VRF input (hashed to a curve point) and its message `m` the
//! additional data bound into the proof. `Y(·)`, the output hash, is the first 32 bytes of the
//! suite's 64-byte output hash; [`VrfOutput`] is that value.
//!
//! Decoding here is stricter than `ark-vrf`'s own codec, which skips subgroup checks for points: every
//! point of a signature, proof, key or root must be on the curve and in the prime-order subgroup.
//! Without that, a prover could add a small-order component to the output point and, one time in
//! four, get a second valid output for the same input (a second ticket id).
//!
//! Everything here returns an error for malformed bytes; nothing panics on input.

use std::fmt;
use std::path::Path;
use std::sync::Mutex;

use ark_vrf::reexports::ark_ff::Zero;
use ark_vrf::reexports::ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use ark_vrf::suites::bandersnatch as suite;
use ark_vrf::{ietf, ring};

mod ietf_verifier;
mod subgroup;

/// The length of a Bandersnatch public key (`H^B`): a compressed Twisted Edwards point.
pub const PUBLIC_LEN: usize = 32;
/// The length of an IETF VRF signature (`F^m_k⟨c⟩ ⊂ Y_96`).
pub const SIGNATURE_LEN: usize = 96;
/// The length of a ring VRF proof (`F̄^m_r⟨c⟩ ⊂ Y_784`).
pub const RING_PROOF_LEN: usize = 784;
/// The length of a ring root (`O(…) ∈ Y_144`): three compressed BLS12-381 G1 commitments.
pub const RING_ROOT_LEN: usize = 144;

/// A Bandersnatch public key as it appears in the protocol (it may not be a valid point).
pub type PublicKey = [u8; PUBLIC_LEN];
/// `Y(s)`: the first 32 bytes of a VRF output hash.
pub type VrfOutput = [u8; 32];
/// A ring root, `O(keys)` (the state's `γ_z`).
pub type RingRoot = [u8; RING_ROOT_LEN];

const POINT_LEN: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BandersnatchError {
    #[error("the public key is not a point of the Bandersnatch prime-order subgroup")]
    BadPublicKey,
    #[error("expected {expected} bytes, got {got}")]
    BadLength { expected: usize, got: usize },
    #[error("the signature or proof is not well formed")]
    MalformedProof,
    #[error("the ring root is not well formed")]
    MalformedRingRoot,
    #[error("the VRF input cannot be mapped to a curve point")]
    BadInput,
    #[error("the signature or proof does not verify")]
    VerificationFailed,
    #[error("the secret key is not a canonical non-zero scalar")]
    BadSecret,
    #[error("{keys} keys do not fit a ring of capacity {capacity}")]
    RingTooLarge { keys: usize, capacity: usize },
    #[error("ring position {index} is out of range for {keys} keys")]
    IndexOutOfRange { index: usize, keys: usize },
    #[error("the key at ring position {0} is not the signer's")]
    NotSignersKey(usize),
    #[error("ring size must be at least 1")]
    EmptyRing,
    #[error("the SRS: {0}")]
    Srs(String),
}

type Result<T> = std::result::Result<T, BandersnatchError>;

/// A compressed point that is on the curve and in the prime-order subgroup (what
/// `deserialize_compressed` checks, with a cheaper subgroup test).
fn point_from_bytes(bytes: &[u8]) -> Option<suite::AffinePoint> {
    suite::AffinePoint::deserialize_compressed_unchecked(bytes).ok().filter(subgroup::contains)
}

fn point_to_bytes(point: &suite::AffinePoint) -> [u8; POINT_LEN] {
    let mut out = [0u8; POINT_LEN];
    // A valid affine point always fits its compressed size.
    point.serialize_compressed(&mut out[..]).expect("a compressed point is 32 bytes");
    out
}

fn input_point(data: &[u8]) -> Result<suite::Input> {
    suite::Input::new(data).ok_or(BandersnatchError::BadInput)
}

fn output_hash(output: &suite::Output) -> VrfOutput {
    let hash = output.hash();
    let mut out = [0u8; 32];
    out.copy_from_slice(&hash[..32]);
    out
}

fn check_len(bytes: &[u8], expected: usize) -> Result<()> {
    if bytes.len() == expected {
        Ok(())
    } else {
        Err(BandersnatchError::BadLength { expected, got: bytes.len() })
    }
}

/// Whether `public` is a usable Bandersnatch key: a point of the prime-order subgroup.
pub fn is_valid_public(public: &PublicKey) -> bool {
    point_from_bytes(public).is_some()
}

/// How many decoded output points [`output_point`] keeps.
const RECENT_OUTPUTS: usize = 8;

/// The curve point a signature's output encodes (not checked for the subgroup), remembered for
/// the next few calls. Block import reads the seal's and the entropy source's outputs (for `η'_0`
/// and the entropy source's input) and verifies both signatures, on two threads: without this
/// each point's square root (~20 µs) would be taken twice. The same bytes always decode to the
/// same point, so a remembered one is the answer.
fn output_point(bytes: &[u8; POINT_LEN]) -> Option<suite::AffinePoint> {
    static RECENT: Remembered<[u8; POINT_LEN], suite::AffinePoint> = Remembered::new(RECENT_OUTPUTS);
    if let Some(point) = RECENT.find(|encoded| encoded == bytes) {
        return Some(point);
    }
    // Decoded outside the lock: the two outputs of a block are decoded on two threads at once.
    let point = suite::AffinePoint::deserialize_compressed_unchecked(&bytes[..]).ok()?;
    Some(RECENT.find_or_insert(|encoded| encoded == bytes, || *bytes, || point))
}

/// The output point of a signature or proof: its first `POINT_LEN` bytes, decoded.
fn signature_output(signature: &[u8]) -> Option<suite::AffinePoint> {
    signature.first_chunk().and_then(output_point)
}

/// The output point of a signature or proof (its first 32 bytes), checked: on the curve and in
/// the prime-order subgroup, as [`point_from_bytes`] checks.
fn decode_output(bytes: &[u8]) -> Result<suite::Output> {
    signature_output(bytes)
        .filter(subgroup::contains)
        .map(suite::Output::from)
        .ok_or(BandersnatchError::MalformedProof)
}

/// `Y(s)` of an IETF signature or ring proof, read from its output point without checking the proof.
/// Only for signatures already verified or about to be: the value of an unverified one means nothing.
///
/// The point must decode to a curve point; whether it is in the prime-order subgroup is left to
/// the verification, which checks it (a subgroup check costs as much as a scalar multiplication,
/// and block import reads two outputs per block before verifying them).
pub fn vrf_output(signature: &[u8]) -> Result<VrfOutput> {
    if signature.len() != SIGNATURE_LEN && signature.len() != RING_PROOF_LEN {
        return Err(BandersnatchError::BadLength { expected: SIGNATURE_LEN, got: signature.len() });
    }
    let point = signature_output(signature).ok_or(BandersnatchError::MalformedProof)?;
    Ok(output_hash(&suite::Output::from(point)))
}

/// Decodes and prepares `keys` for [`ietf_vrf_verify`] ahead of their first use (a validator set,
/// when a state is loaded), so that the first block each key seals does not pay for it. Keys that
/// are no valid point are skipped: verification reports them.
pub fn prepare_ietf_keys(keys: &[PublicKey]) {
    for key in keys {
        let _ = ietf_verifier::prepare(key);
    }
}

/// Verifies an IETF VRF signature `s ∈ F^aux_public⟨input⟩` and returns `Y(s)`.
pub fn ietf_vrf_verify(public: &PublicKey, input: &[u8], aux: &[u8], signature: &[u8]) -> Result<VrfOutput> {
    ietf_verifier::verify(public, input, aux, signature).map(|output| output_hash(&output))
}

/// [`ietf_vrf_verify`] through `ark_vrf`'s own verifier: the reference the fast path is tested against.
#[cfg(test)]
fn ietf_vrf_verify_reference(
    public: &PublicKey,
    input: &[u8],
    aux: &[u8],
    signature: &[u8],
) -> Result<VrfOutput> {
    // `ark-serialize`'s checked decodes throughout, so that nothing of the fast path is shared.
    check_len(signature, SIGNATURE_LEN)?;
    let public = suite::AffinePoint::deserialize_compressed(&public[..])
        .map(suite::Public::from)
        .map_err(|_| BandersnatchError::BadPublicKey)?;
    let output = suite::AffinePoint::deserialize_compressed(&signature[..POINT_LEN])
        .map(suite::Output::from)
        .map_err(|_| BandersnatchError::MalformedProof)?;
    let proof = suite::IetfProof::deserialize_compressed(&signature[POINT_LEN..])
        .map_err(|_| BandersnatchError::MalformedProof)?;
    let input = input_point(input)?;
    ietf::Verifier::verify(&public, input, output, aux, &proof)
        .map_err(|_| BandersnatchError::VerificationFailed)?;
    Ok(output_hash(&output))
}

/// A Bandersnatch secret key, for signing (tests and block authoring).
#[derive(Clone)]
pub struct SecretKey(suite::Secret);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SecretKey").field(&hex_string(&self.public())).finish()
    }
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl SecretKey {
    /// The key `ark-vrf` derives from a seed: SHA-512 of the seed reduced mod the group order
    /// (the derivation JAM's development keys use).
    pub fn from_seed(seed: &[u8]) -> Self {
        Self(suite::Secret::from_seed(seed))
    }

    /// The key whose scalar is `scalar` (32 bytes, little-endian, canonical and non-zero).
    pub fn from_scalar_bytes(scalar: &[u8; 32]) -> Result<Self> {
        let scalar = suite::ScalarField::deserialize_compressed(&scalar[..])
            .map_err(|_| BandersnatchError::BadSecret)?;
        if scalar.is_zero() {
            return Err(BandersnatchError::BadSecret);
        }
        Ok(Self(suite::Secret::from_scalar(scalar)))
    }

    pub fn public(&self) -> PublicKey {
        point_to_bytes(&self.0.public().0)
    }

    /// `Y` of any proof this key would make for `input`, without making one (e.g. to learn a
    /// ticket's id before deciding to submit it).
    pub fn vrf_output(&self, input: &[u8]) -> Result<VrfOutput> {
        Ok(output_hash(&self.0.output(input_point(input)?)))
    }

    /// An IETF VRF signature over `input` and `aux`. Deterministic (RFC 9381 nonce).
    pub fn ietf_sign(&self, input: &[u8], aux: &[u8]) -> Result<[u8; SIGNATURE_LEN]> {
        let input = input_point(input)?;
        let output = self.0.output(input);
        let proof = ietf::Prover::prove(&self.0, input, output, aux);
        let mut out = [0u8; SIGNATURE_LEN];
        out[..POINT_LEN].copy_from_slice(&point_to_bytes(&output.0));
        proof.serialize_compressed(&mut out[POINT_LEN..]).map_err(|_| BandersnatchError::MalformedProof)?;
        Ok(out)
    }

    /// A ring VRF proof over `input` and `aux` for the ring `prover` was made for; the prover's
    /// position must hold this key.
    pub fn ring_sign(&self, prover: &RingProver, input: &[u8], aux: &[u8]) -> Result<[u8; RING_PROOF_LEN]> {
        // The SNARK prover assumes the secret opens the key at its position; check it here rather
        // than let it build a proof of a false statement.
        if prover.public != self.0.public().0 {
            return Err(BandersnatchError::NotSignersKey(prover.index));
        }
        let input = input_point(input)?;
        let output = self.0.output(input);
        let proof = ring::Prover::prove(&self.0, input, output, aux, &prover.inner);
        let mut out = [0u8; RING_PROOF_LEN];
        out[..POINT_LEN].copy_from_slice(&point_to_bytes(&output.0));
        proof.serialize_compressed(&mut out[POINT_LEN..]).map_err(|_| BandersnatchError::MalformedProof)?;
        Ok(out)
    }
}

/// The ring parameters for one ring size: the KZG SRS cut to the size the ring needs, and the
/// PLONK domain. Build one per ring size (6 for the tiny spec, 1023 for the full one) and keep it.
///
/// Costs at ring size 1023, single-threaded (docs/performance/crypto.md has the figures and the
/// machine): building the context (reading the 590 KB SRS) about 20 ms; a ring root about 0.7 s;
/// a [`RingVerifier`] from a root about 2 ms; one proof's verification about 16 ms; a
/// [`RingProver`] as much as a ring root, then about 1.3 s per proof. Ring size 6 costs a fraction.
/// The context is `Send + Sync`: share one across threads.
pub struct RingContext {
    params: suite::RingProofParams,
    ring_size: usize,
    /// The last few ring roots asked for, by key set: a root costs a large MSM, and a node meets
    /// the same set again (the next epoch's keys computed ahead of time, forks, re-imports). A
    /// root still being computed is there too, so a second caller waits for it instead of
    /// computing it again.
    roots: Remembered<Vec<PublicKey>, RootCell>,
    /// Verifiers of the last few roots (see [`RingContext::verifier`]).
    verifiers: Remembered<RingRoot, std::sync::Arc<RingVerifier>>,
}

/// A ring root, once computed (`None` if serializing it failed).
type RootCell = std::sync::Arc<std::sync::OnceLock<Option<RingRoot>>>;

/// How many ring roots (and verifiers) a [`RingContext`] remembers.
const REMEMBERED_ROOTS: usize = 4;

/// The last few values asked for, by key, the oldest forgotten first. Shared between threads; a
/// poisoned lock (a panic elsewhere while holding it) only loses the memory, never an answer.
struct Remembered<K, V> {
    entries: Mutex<Vec<(K, V)>>,
    capacity: usize,
}

impl<K, V: Clone> Remembered<K, V> {
    const fn new(capacity: usize) -> Self {
        Remembered { entries: Mutex::new(Vec::new()), capacity }
    }

    /// The value whose key `matches`, if remembered.
    fn find(&self, matches: impl Fn(&K) -> bool) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        entries.iter().find(|(k, _)| matches(k)).map(|(_, v)| v.clone())
    }

    /// The value whose key `matches`, or else `make()`'s, remembered under `key()`. Looked up and
    /// inserted under one lock, so two callers asking at once get the same value.
    fn find_or_insert(
        &self,
        matches: impl Fn(&K) -> bool,
        key: impl FnOnce() -> K,
        make: impl FnOnce() -> V,
    ) -> V {
        let Ok(mut entries) = self.entries.lock() else { return make() };
        if let Some((_, v)) = entries.iter().find(|(k, _)| matches(k)) {
            return v.clone();
        }
        if entries.len() == self.capacity {
            entries.remove(0);
        }
        let value = make();
        entries.push((key(), value.clone()));
        value
    }
}

impl fmt::Debug for RingContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RingContext")
            .field("ring_size", &self.ring_size)
            .field("capacity", &self.capacity())
            .finish()
    }
}

impl RingContext {
    /// Reads the SRS (the Zcash powers of tau in `ark-serialize`'s uncompressed form, as shipped in
    /// the vectors at `stf/safrole/zcash-srs-2-11-uncompressed.bin`) and builds the context for
    /// rings of `ring_size` keys.
    pub fn from_srs_file(path: &Path, ring_size: usize) -> Result<Self> {
        let bytes =
            std::fs::read(path).map_err(|e| BandersnatchError::Srs(format!("{}: {e}", path.display())))?;
        Self::from_srs_bytes(&bytes, ring_size)
    }

    /// As [`RingContext::from_srs_file`], from the file's bytes. The SRS is trusted configuration:
    /// its points are not subgroup-checked (that would take seconds), only decoded.
    pub fn from_srs_bytes(srs: &[u8], ring_size: usize) -> Result<Self> {
        if ring_size == 0 {
            return Err(BandersnatchError::EmptyRing);
        }
        check_srs_layout(srs)?;
        let pcs = suite::PcsParams::deserialize_uncompressed_unchecked(srs)
            .map_err(|e| BandersnatchError::Srs(format!("not an uncompressed KZG SRS: {e}")))?;
        let available = pcs.powers_in_g1.len();
        let params = suite::RingProofParams::from_pcs_params(ring_size, pcs).map_err(|_| {
            BandersnatchError::Srs(format!(
                "{available} G1 powers are too few for a ring of {ring_size} (needs {})",
                ark_vrf::ring::pcs_domain_size::<suite::BandersnatchSha512Ell2>(ring_size)
            ))
        })?;
        Ok(Self {
            params,
            ring_size,
            roots: Remembered::new(REMEMBERED_ROOTS),
            verifiers: Remembered::new(REMEMBERED_ROOTS),
        })
    }

    /// The ring size this context was built for.
    pub fn ring_size(&self) -> usize {
        self.ring_size
    }

    /// The most keys a ring of this context may hold (the PLONK domain leaves room beyond
    /// `ring_size`; the missing keys are padding).
    pub fn capacity(&self) -> usize {
        self.params.max_ring_size()
    }

    /// The ring's points: each key decoded, or the padding point where a key has no corresponding
    /// curve point (GP Appendix G), or is the identity (which the SNARK cannot hold).
    ///
    /// A key on the curve but outside the prime-order subgroup is kept as it is, not padded: the
    /// paper pads only keys with no corresponding point, and the block-import traces of the
    /// conformance fuzzer (made by polkajam) have ring roots over such keys. Nobody can sign for
    /// such a key, so keeping it opens nothing; signatures and proofs stay subgroup-checked.
    fn ring_points(&self, keys: &[PublicKey]) -> Result<Vec<suite::AffinePoint>> {
        if keys.len() > self.capacity() {
            return Err(BandersnatchError::RingTooLarge { keys: keys.len(), capacity: self.capacity() });
        }
        let padding = suite::RingProofParams::padding_point();
        Ok(keys
            .iter()
            .map(|key| {
                // Decompression yields a point on the curve or fails; only the subgroup check is skipped.
                suite::AffinePoint::deserialize_compressed_unchecked(&key[..])
                    .ok()
                    .filter(|p| !p.is_zero())
                    .unwrap_or(padding)
            })
            .collect())
    }

    /// `O(keys)`: the ring root (the state's `γ_z`). Remembered for the last few key sets; if
    /// another thread is computing the same one, this waits for it.
    pub fn ring_root(&self, keys: &[PublicKey]) -> Result<RingRoot> {
        // Checked first, so that only valid key sets are remembered.
        let points = self.ring_points(keys)?;
        // The cell is remembered before the root is computed, outside the lock: a second caller
        // for the same keys waits on the cell.
        let cell = self.roots.find_or_insert(|k| k.as_slice() == keys, || keys.to_vec(), RootCell::default);
        (*cell.get_or_init(|| self.root_of_points(&points))).ok_or(BandersnatchError::MalformedRingRoot)
    }

    /// `O(keys)` computed afresh, neither looked up nor remembered (for measuring its cost).
    pub fn ring_root_uncached(&self, keys: &[PublicKey]) -> Result<RingRoot> {
        let points = self.ring_points(keys)?;
        self.root_of_points(&points).ok_or(BandersnatchError::MalformedRingRoot)
    }

    fn root_of_points(&self, points: &[suite::AffinePoint]) -> Option<RingRoot> {
        // Indexing commits to every column over the whole domain. `ark-vrf`'s incremental builder
        // would commit to the keys alone, but it first needs the SRS in Lagrange form, an inverse
        // FFT over G1 that costs more (0.27 s at ring size 6) than the few roots a process
        // computes, and would land on the import path of the first epoch change.
        let commitment = self.params.verifier_key(points).commitment();
        let mut out = [0u8; RING_ROOT_LEN];
        commitment.serialize_compressed(&mut out[..]).ok().map(|()| out)
    }

    /// The ring root of `keys` if it is remembered and computed: whether [`Self::ring_root`]
    /// would answer at once.
    pub fn remembered_root(&self, keys: &[PublicKey]) -> Option<RingRoot> {
        self.roots.find(|k| k.as_slice() == keys).and_then(|cell| cell.get().copied().flatten())
    }

    /// A verifier for proofs against `root`, shared: the context remembers the verifiers of the
    /// last few roots, since every ticket block of an epoch checks against the same root and
    /// building one prepares the pairing key.
    pub fn verifier(&self, root: &RingRoot) -> Result<std::sync::Arc<RingVerifier>> {
        if let Some(verifier) = self.verifiers.find(|r| r == root) {
            return Ok(verifier);
        }
        // Built outside the lock (it prepares the pairing key); if another thread built one for
        // the same root meanwhile, theirs is kept and returned.
        let verifier = std::sync::Arc::new(self.verifier_uncached(root)?);
        Ok(self.verifiers.find_or_insert(|r| r == root, || *root, || verifier))
    }

    /// A verifier for proofs against `root`, built afresh (for measuring its cost).
    pub fn verifier_uncached(&self, root: &RingRoot) -> Result<RingVerifier> {
        let commitment = suite::RingCommitment::deserialize_compressed(&root[..])
            .map_err(|_| BandersnatchError::MalformedRingRoot)?;
        let key = self.params.verifier_key_from_commitment(commitment);
        Ok(RingVerifier { inner: self.params.verifier(key) })
    }

    /// Verifies one ring proof against `root` and returns its `Y` (a ticket's id). For several proofs
    /// against one root, make a [`RingVerifier`] once instead.
    pub fn ring_vrf_verify(
        &self,
        root: &RingRoot,
        input: &[u8],
        aux: &[u8],
        proof: &[u8],
    ) -> Result<VrfOutput> {
        self.verifier(root)?.verify(input, aux, proof)
    }

    /// A prover for the key at `index` of `keys`. Building it indexes the whole ring (as costly as a
    /// ring root); reuse it for all of that key's proofs in the ring.
    pub fn prover(&self, keys: &[PublicKey], index: usize) -> Result<RingProver> {
        let points = self.ring_points(keys)?;
        let public =
            *points.get(index).ok_or(BandersnatchError::IndexOutOfRange { index, keys: keys.len() })?;
        let key = self.params.prover_key(&points);
        Ok(RingProver { inner: self.params.prover(key, index), index, public })
    }
}

/// The uncompressed sizes of BLS12-381 G1 and G2 points in `ark-serialize`.
const G1_UNCOMPRESSED: usize = 96;
const G2_UNCOMPRESSED: usize = 192;

/// Checks that the SRS is `n1 ‖ n1 G1 points ‖ n2 ‖ n2 G2 points` (little-endian `u64` counts)
/// spanning exactly the bytes given, before `ark-serialize` reads it: it would reserve memory for
/// whatever count the first eight bytes claim.
fn check_srs_layout(srs: &[u8]) -> Result<()> {
    let bad = |why: &str| BandersnatchError::Srs(format!("not an uncompressed KZG SRS: {why}"));
    let count = |at: usize| -> Result<usize> {
        let bytes: [u8; 8] =
            srs.get(at..at + 8).and_then(|b| b.try_into().ok()).ok_or_else(|| bad("truncated"))?;
        usize::try_from(u64::from_le_bytes(bytes)).map_err(|_| bad("count too large"))
    };
    let n1 = count(0)?;
    let g2_at = n1
        .checked_mul(G1_UNCOMPRESSED)
        .and_then(|n| n.checked_add(8))
        .filter(|&at| at <= srs.len())
        .ok_or_else(|| bad("more G1 powers claimed than bytes"))?;
    let n2 = count(g2_at)?;
    let end = n2
        .checked_mul(G2_UNCOMPRESSED)
        .and_then(|n| n.checked_add(g2_at + 8))
        .ok_or_else(|| bad("more G2 powers claimed than bytes"))?;
    if end != srs.len() {
        return Err(bad("length does not match the counts"));
    }
    Ok(())
}

/// Verifies ring proofs against one ring root.
pub struct RingVerifier {
    inner: suite::RingVerifier,
}

impl fmt::Debug for RingVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RingVerifier").finish_non_exhaustive()
    }
}

impl RingVerifier {
    /// Verifies `proof ∈ F̄^aux_root⟨input⟩` and returns `Y(proof)`.
    pub fn verify(&self, input: &[u8], aux: &[u8], proof: &[u8]) -> Result<VrfOutput> {
        check_len(proof, RING_PROOF_LEN)?;
        let output = decode_output(proof)?;
        let ring_proof = suite::RingProof::deserialize_compressed(&proof[POINT_LEN..])
            .map_err(|_| BandersnatchError::MalformedProof)?;
        let input = input_point(input)?;
        <suite::Public as ring::Verifier<_>>::verify(input, output, aux, &ring_proof, &self.inner)
            .map_err(|_| BandersnatchError::VerificationFailed)?;
        Ok(output_hash(&output))
    }
}

/// Makes ring proofs for one position of one ring (see [`SecretKey::ring_sign`]).
pub struct RingProver {
    inner: suite::RingProver,
    index: usize,
    public: suite::AffinePoint,
}

impl fmt::Debug for RingProver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RingProver").field("index", &self.index).finish_non_exhaustive()
    }
}

impl RingProver {
    pub fn index(&self) -> usize {
        self.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h<const N: usize>(s: &str) -> [u8; N] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    // Vectors 1 and 3 of the Bandersnatch VRF specification's `bandersnatch_sha-512_ell2_ietf`
    // set: secret scalar, public key, input (alpha), additional data, output point (gamma),
    // proof (c, s) and the 64-byte output hash (beta).
    struct SpecVector {
        sk: &'static str,
        pk: &'static str,
        alpha: &'static str,
        ad: &'static str,
        gamma: &'static str,
        c: &'static str,
        s: &'static str,
        beta: &'static str,
    }

    const SPEC_VECTORS: [SpecVector; 2] = [
        SpecVector {
            sk: "3d6406500d4009fdf2604546093665911e753f2213570a29521fd88bc30ede18",
            pk: "a1b1da71cc4682e159b7da23050d8b6261eb11a3247c89b07ef56ccd002fd38b",
            alpha: "",
            ad: "",
            gamma: "e7aa5154103450f0a0525a36a441f827296ee489ef30ed8787cff8df1bef223f",
            c: "439fd9495643314fa623f2581f4b3d7d6037394468084f4ad7d8031479d9d101",
            s: "828bedd2ad95380b11f67a05ea0a76f0c3fef2bee9f043f4dffdddde09f55c01",
            beta: "fdeb377a4ffd7f95ebe48e5b43a88d069ce62188e49493500315ad55ee04d7442b93c4c91d5475370e9380496f4bc0b838c2483bce4e133c6f18b0adbb9e4722",
        },
        SpecVector {
            sk: "6db187202f69e627e432296ae1d0f166ae6ac3c1222585b6ceae80ea07670b14",
            pk: "9d97151298a5339866ddd3539d16696e19e6b68ac731562c807fe63a1ca49506",
            alpha: "",
            ad: "0b8c",
            gamma: "67a348e256d908eb695d15ee0d869efef2bcf9f0fea646e788f967abbc0464dd",
            c: "aec4d1cf308cb4cb400190350e69f4fb309255aa738fff5a6ac4ced7538fce03",
            s: "54e5d38a76f309ce63ca82465160abd8d75b78805a0b499e60c26436de4a8e01",
            beta: "edde0178045133eb03ef4d1ad8b978a56ee80ec4eab8830d6bc6c080031388416657d3c449d9398cc4385d1c8a2bb19bcf61ff086e5a6c477a0302ce270d1abf",
        },
    ];

    #[test]
    fn ietf_spec_vectors_verify_and_sign() {
        for v in &SPEC_VECTORS {
            let public: PublicKey = h(v.pk);
            let alpha = hex::decode(v.alpha).unwrap();
            let ad = hex::decode(v.ad).unwrap();
            let signature =
                [hex::decode(v.gamma).unwrap(), hex::decode(v.c).unwrap(), hex::decode(v.s).unwrap()]
                    .concat();
            let beta = hex::decode(v.beta).unwrap();
            assert_eq!(ietf_vrf_verify(&public, &alpha, &ad, &signature).unwrap()[..], beta[..32]);
            assert_eq!(vrf_output(&signature).unwrap()[..], beta[..32]);

            let secret = SecretKey::from_scalar_bytes(&h(v.sk)).unwrap();
            assert_eq!(secret.public(), public);
            assert_eq!(secret.ietf_sign(&alpha, &ad).unwrap()[..], signature[..]);
            assert_eq!(secret.vrf_output(&alpha).unwrap()[..], beta[..32]);

            // The same signature under other data, or another key, fails.
            assert_eq!(
                ietf_vrf_verify(&public, b"other", &ad, &signature),
                Err(BandersnatchError::VerificationFailed)
            );
            assert_eq!(
                ietf_vrf_verify(&public, &alpha, b"other", &signature),
                Err(BandersnatchError::VerificationFailed)
            );
            let other = SecretKey::from_seed(b"other").public();
            assert_eq!(
                ietf_vrf_verify(&other, &alpha, &ad, &signature),
                Err(BandersnatchError::VerificationFailed)
            );
        }
    }

    #[test]
    fn ietf_sign_verify_roundtrip_binds_input_and_aux() {
        let secret = SecretKey::from_seed(&[7u8; 32]);
        let public = secret.public();
        let signature = secret.ietf_sign(b"$jam_entropy context", b"header bytes").unwrap();
        let out = ietf_vrf_verify(&public, b"$jam_entropy context", b"header bytes", &signature).unwrap();
        // The output depends on the input only, not on the additional data.
        let other_aux = secret.ietf_sign(b"$jam_entropy context", b"").unwrap();
        assert_eq!(ietf_vrf_verify(&public, b"$jam_entropy context", b"", &other_aux).unwrap(), out);
        assert_ne!(secret.ietf_sign(b"another context", b"").unwrap()[..32], signature[..32]);
    }

    /// The fast verifier decides as `ark-vrf`'s on valid signatures, on every single-byte change of
    /// them (output point, challenge, response), on other keys, inputs and additional data.
    #[test]
    fn ietf_verification_agrees_with_ark_vrf() {
        let secrets: Vec<_> = (0u8..4).map(|i| SecretKey::from_seed(&[i; 32])).collect();
        for (n, secret) in secrets.iter().enumerate() {
            let input = [b"jam_fallback_seal".as_slice(), &[n as u8; 32]].concat();
            let aux = vec![n as u8; 40 * n];
            let signature = secret.ietf_sign(&input, &aux).unwrap();
            let public = secret.public();
            let both = |public: &PublicKey, input: &[u8], aux: &[u8], signature: &[u8]| {
                let fast = ietf_vrf_verify(public, input, aux, signature);
                assert_eq!(fast, ietf_vrf_verify_reference(public, input, aux, signature));
                fast
            };
            assert!(both(&public, &input, &aux, &signature).is_ok());
            assert!(both(&secrets[(n + 1) % 4].public(), &input, &aux, &signature).is_err());
            assert!(both(&public, b"other input", &aux, &signature).is_err());
            assert!(both(&public, &input, b"other aux", &signature).is_err());
            for at in 0..SIGNATURE_LEN {
                for change in [1u8, 0x80, 0xff] {
                    let mut bad = signature;
                    bad[at] ^= change;
                    assert!(both(&public, &input, &aux, &bad).is_err(), "byte {at} ^ {change:#x}");
                }
            }
        }
    }

    #[test]
    fn malformed_ietf_inputs_are_errors() {
        let secret = SecretKey::from_seed(b"malformed");
        let public = secret.public();
        let signature = secret.ietf_sign(b"in", b"ad").unwrap();

        for len in [0, 1, 32, 95, 97, 784] {
            let bytes = vec![0u8; len];
            assert_eq!(
                ietf_vrf_verify(&public, b"in", b"ad", &bytes),
                Err(BandersnatchError::BadLength { expected: SIGNATURE_LEN, got: len })
            );
        }
        // Every single-bit flip is rejected, as malformed or as not verifying.
        for bit in 0..SIGNATURE_LEN * 8 {
            let mut bad = signature;
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(ietf_vrf_verify(&public, b"in", b"ad", &bad).is_err(), "bit {bit}");
        }
        // All-ones is no point; a zero key decodes to a point outside the prime-order subgroup.
        assert_eq!(
            ietf_vrf_verify(&[0xff; 32], b"in", b"ad", &signature),
            Err(BandersnatchError::BadPublicKey)
        );
        assert_eq!(ietf_vrf_verify(&[0; 32], b"in", b"ad", &signature), Err(BandersnatchError::BadPublicKey));
        assert!(!is_valid_public(&[0; 32]));
        assert!(is_valid_public(&public));
        assert_eq!(vrf_output(&signature[..95]), Err(BandersnatchError::BadLength { expected: 96, got: 95 }));
        // Secrets: zero and non-canonical scalars.
        assert_eq!(SecretKey::from_scalar_bytes(&[0; 32]).unwrap_err(), BandersnatchError::BadSecret);
        assert_eq!(SecretKey::from_scalar_bytes(&[0xff; 32]).unwrap_err(), BandersnatchError::BadSecret);
    }

    #[test]
    fn shareable_across_threads() {
        fn check<T: Send + Sync>() {}
        check::<RingContext>();
        check::<RingVerifier>();
        check::<SecretKey>();
    }

    #[test]
    fn srs_layout_is_checked_before_reading() {
        // A count claiming 2^60 G1 points must not reach `ark-serialize`, which would reserve that.
        let mut huge = (1u64 << 60).to_le_bytes().to_vec();
        huge.extend([0u8; 200]);
        assert!(matches!(RingContext::from_srs_bytes(&huge, 6), Err(BandersnatchError::Srs(_))));
        let mut g2_huge = 1u64.to_le_bytes().to_vec();
        g2_huge.extend([0u8; G1_UNCOMPRESSED]);
        g2_huge.extend(u64::MAX.to_le_bytes());
        assert!(matches!(RingContext::from_srs_bytes(&g2_huge, 6), Err(BandersnatchError::Srs(_))));
        assert!(matches!(RingContext::from_srs_bytes(&[], 6), Err(BandersnatchError::Srs(_))));
    }

    /// An output point with a small-order component added must not verify: without the subgroup
    /// check, one such forgery in four would, giving a second output for one input.
    #[test]
    fn output_with_torsion_component_is_rejected() {
        use ark_vrf::reexports::ark_ec::{AffineRepr, CurveGroup};
        // (0, -1) is the point of order two on a twisted Edwards curve.
        let torsion = suite::AffinePoint::new_unchecked(Zero::zero(), -suite::BaseField::from(1u8));
        assert!(torsion.is_on_curve() && !torsion.is_in_correct_subgroup_assuming_on_curve());
        let secret = SecretKey::from_seed(b"torsion");
        let signature = secret.ietf_sign(b"in", b"").unwrap();
        let output = point_from_bytes(&signature[..32]).unwrap();
        let shifted = (output.into_group() + torsion).into_affine();
        let mut bad = signature;
        let mut encoded = Vec::new();
        shifted.serialize_compressed(&mut encoded).unwrap();
        bad[..32].copy_from_slice(&encoded);
        assert_eq!(
            ietf_vrf_verify(&secret.public(), b"in", b"", &bad),
            Err(BandersnatchError::MalformedProof)
        );
    }
}
