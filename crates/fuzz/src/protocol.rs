//! The messages of the fuzzer protocol v1 (jam-conformance `fuzz-proto/fuzz-v1.asn`) in the JAM
//! codec (GP 0.7.2 appendix C), and their framing: each message is prefixed with its length as a
//! little-endian `u32`.
//!
//! A message is a one-octet discriminator (0–5, or 255 for `error`) and the body in the JAM codec:
//! `PeerInfo` as `u8 ‖ u32 ‖ 3×u8 ‖ 3×u8 ‖ ↕utf8`, `Initialize` as `header ‖ ↕keyvals ‖ ↕ancestry`,
//! roots and hashes as 32 octets, a block as the GP encodes it, a state as `↕(key₃₁ ‖ ↕value)`.
//!
//! The frame cap, [`MAX_MESSAGE`], is the largest legal message: an `Initialize` of the full
//! network with a state of [`MAX_STATE_OCTETS`] (see [`max_initialize_octets`]), which is larger
//! than the largest block ([`max_block_octets`]). Frames are read as they arrive, never allocated
//! ahead to what a length claims, and a reader may count them against a [`Budget`] shared by
//! several connections.

use std::io::{ErrorKind, Read, Write};
use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use orrery_codec::{Decode, Decoder, Describe, Encode, Error as CodecError};
use orrery_import::formats::KeyValue;
use orrery_types::constants::{
    MAX_BUNDLE_SIZE, MAX_PACKAGE_ITEMS, MAX_REPORT_DEPENDENCIES, MAX_REPORT_VAR_SIZE,
};
use orrery_types::{Block, ChainSpec, HeaderHash, StateRoot, TimeSlot};

/// The protocol version this crate speaks.
pub const FUZZ_VERSION: u8 = 1;

/// The target has the last `L` headers before the first block (`feature-ancestry`).
pub const FEATURE_ANCESTRY: u32 = 1;
/// Simple forks: a block whose parent is not the last one imported (`feature-fork`).
pub const FEATURE_FORKS: u32 = 2;

/// The octets of a natural `x` in the GP's compact encoding (appendix C.1): `l + 1` where
/// `2^(7l) ≤ x < 2^(7(l+1))`, and 9 from `2^56` on.
const fn natural_octets(x: u64) -> u64 {
    let mut l = 0;
    while l < 8 && x >= 1 << (7 * (l + 1)) {
        l += 1;
    }
    l + 1
}

/// The octets of a sequence of `n` items of `each` octets, with its length.
const fn seq(n: u64, each: u64) -> u64 {
    natural_octets(n) + n * each
}

/// The most octets all of a block's preimages may take, encoded. The GP bounds a preimage only
/// by its service's balance (a solicited blob of any length can be provided, GP 0.7.2 §12.4), so
/// this is a choice, not a rule: `W_B`, the largest blob a work-package bundle can bring in
/// (13,791,360 octets), which holds three maximal service codes (`W_C` = 4,000,000).
pub const MAX_PREIMAGE_OCTETS: u64 = MAX_BUNDLE_SIZE as u64;

/// The largest encoded header for `spec`: both marks (`E` tickets, `V` keys) and `2V` offenders
/// (culprits' and faults' keys are distinct validators, GP 0.7.2 §10.2).
pub const fn max_header_octets(spec: &ChainSpec) -> u64 {
    let v = spec.validators_count as u64;
    let e = spec.epoch_length as u64;
    // parent, prior state root, extrinsic hash, slot; author index, entropy source, seal.
    let fixed = 32 + 32 + 32 + 4 + 2 + 96 + 96;
    // Option tag, two entropies, V × (Bandersnatch, Ed25519) keys.
    let epoch_mark = 1 + 32 + 32 + v * 64;
    // Option tag, E × (ticket id, attempt): the mark has exactly E entries, no length.
    let tickets_mark = 1 + e * 33;
    let offenders_mark = natural_octets(2 * v) + 2 * v * 32;
    fixed + epoch_mark + tickets_mark + offenders_mark
}

/// The largest encoded block for `spec`, with every list at its bound (GP 0.7.2):
/// - the largest header ([`max_header_octets`]);
/// - `K` tickets (§6.7); `V` assurances (one per validator, §11.2);
/// - `C` guarantees (one per core, §11.4), each with 3 credentials and a report whose blobs
///   total `W_R`, with `I` digests and `J` segment-root lookups (§11.1);
/// - disputes: `C` verdicts of `⌊2V/3⌋+1` judgements (the GP sets no count; one per core is the
///   allowance), `V` culprits and `V` faults;
/// - preimages: [`MAX_PREIMAGE_OCTETS`].
///
/// For the full network that is 47,642,086 octets; for the tiny one, 13,901,718 (the
/// preimage allowance is most of it).
pub const fn max_block_octets(spec: &ChainSpec) -> u64 {
    let v = spec.validators_count as u64;
    let c = spec.cores_count as u64;
    let k = spec.max_tickets_per_extrinsic as u64;
    let header = max_header_octets(spec);

    // attempt, ring VRF proof.
    let tickets = seq(k, 1 + 784);
    let preimages = MAX_PREIMAGE_OCTETS;

    let w_r = MAX_REPORT_VAR_SIZE as u64;
    let items = MAX_PACKAGE_ITEMS as u64;
    let deps = MAX_REPORT_DEPENDENCIES as u64;
    // hash, length, erasure root, exports root, exports count.
    let package_spec = 32 + 4 + 32 + 32 + 2;
    // anchor, state root, beefy root, lookup anchor, its slot, no prerequisites: the J
    // dependencies are all segment-root lookups, which take more octets (64 against 32).
    let context = 32 + 32 + 32 + 32 + 4 + natural_octets(0);
    let lookups = seq(deps, 64);
    // service, code hash, payload hash, accumulate gas; result tag and its blob's length;
    // refine load (gas, imports, extrinsic count and size, exports) at their widest naturals.
    let digest = 4 + 32 + 32 + 8 + 1 + natural_octets(w_r) + (9 + 3 + 3 + 5 + 3);
    // core index, authorizer hash, authorizer gas (compact), the trace's length; the blobs.
    let report = package_spec
        + context
        + natural_octets(c)
        + 32
        + 9
        + natural_octets(w_r)
        + w_r
        + lookups
        + seq(items, digest);
    // report, slot, up to 3 (validator index, signature).
    let guarantee = report + 4 + seq(3, 2 + 64);
    let guarantees = seq(c, guarantee);

    // anchor, the cores' bitfield, validator index, signature.
    let assurances = seq(v, 32 + c.div_ceil(8) + 2 + 64);

    // report hash, epoch index, ⌊2V/3⌋+1 × (vote, validator index, signature): no length.
    let verdict = 32 + 4 + (v * 2 / 3 + 1) * (1 + 2 + 64);
    let disputes = seq(c, verdict) + seq(v, 32 + 32 + 64) + seq(v, 32 + 1 + 32 + 64);

    header + tickets + preimages + guarantees + assurances + disputes
}

/// The most octets `Initialize`'s state (its `↕(key ‖ ↕value)`) may take. The GP bounds a state
/// only economically (every item and octet a service keeps needs a deposit, `B_I` and `B_L`,
/// GP 0.7.2 §9.3), never by a constant, so this is a choice: 64 MiB. The components with constant
/// bounds come to a few megabytes in the full network (validator sets 4 × 1023 × 336 octets,
/// authorizer pools and queues 341 × 88 × 32, the rest smaller); the others (reports waiting for
/// accumulation, the services' storage and preimages) have none. 64 MiB holds those few
/// megabytes and fifteen maximal service codes (`W_C`) besides, and is some 400 times the
/// largest `Initialize` of the recorded fuzzer sessions (tiny network, 153,451 octets).
pub const MAX_STATE_OCTETS: u64 = 64 << 20;

/// The largest `Initialize` body for `spec`: the largest header, a state of
/// [`MAX_STATE_OCTETS`], and `L` ancestors (slot, header hash).
pub const fn max_initialize_octets(spec: &ChainSpec) -> u64 {
    let l = spec.max_lookup_anchor_age as u64;
    max_header_octets(spec) + MAX_STATE_OCTETS + natural_octets(l) + l * (4 + 32)
}

/// The most octets one message may claim: the discriminator and the largest body of any kind
/// for the full network, which is `Initialize`'s (67,778,373 octets with the discriminator; the
/// largest block is 47,642,087). A larger claim is refused before anything more is read.
pub const MAX_MESSAGE: u32 = {
    const FULL: ChainSpec = ChainSpec::full();
    let init = max_initialize_octets(&FULL);
    let block = max_block_octets(&FULL);
    let largest = if init > block { init } else { block };
    let framed = 1 + largest;
    assert!(framed <= u32::MAX as u64);
    framed as u32
};

/// The most ancestors `Initialize` may carry (`Ancestry ::= SEQUENCE (SIZE(0..24))`) for the tiny
/// network; `L` of the full network (GP 0.7.2 §11.4, eq. 11.35) bounds it there.
pub const MAX_ANCESTRY: usize = 14_400;

/// `Version ::= SEQUENCE { major, minor, patch }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Describe)]
pub struct Version {
    pub major: u8,
    pub minor: u8,
    pub patch: u8,
}

/// `PeerInfo`: who a peer is and what it supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    pub fuzz_version: u8,
    pub fuzz_features: u32,
    pub jam_version: Version,
    pub app_version: Version,
    pub app_name: String,
}

/// `AncestryItem ::= SEQUENCE { slot, header-hash }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Describe)]
pub struct AncestryItem {
    pub slot: TimeSlot,
    pub header_hash: HeaderHash,
}

/// `Initialize`: a state to start from, the header it belongs to, and that header's ancestors.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct Initialize {
    pub header: orrery_types::Header,
    pub keyvals: Vec<KeyValue>,
    pub ancestry: Vec<AncestryItem>,
}

/// `Message ::= CHOICE { … }`, with the schema's discriminators (0–5 and 255).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    PeerInfo(PeerInfo),
    Initialize(Box<Initialize>),
    StateRoot(StateRoot),
    ImportBlock(Box<Block>),
    GetState(HeaderHash),
    State(Vec<KeyValue>),
    Error(String),
}

impl Message {
    /// The schema's name of the message kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::PeerInfo(_) => "peer_info",
            Message::Initialize(_) => "initialize",
            Message::StateRoot(_) => "state_root",
            Message::ImportBlock(_) => "import_block",
            Message::GetState(_) => "get_state",
            Message::State(_) => "state",
            Message::Error(_) => "error",
        }
    }

    /// `E(message)`: the discriminator, then the body.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Message::PeerInfo(info) => {
                out.push(0);
                out.push(info.fuzz_version);
                info.fuzz_features.encode_to(&mut out);
                info.jam_version.encode_to(&mut out);
                info.app_version.encode_to(&mut out);
                info.app_name.as_bytes().to_vec().encode_to(&mut out);
            }
            Message::Initialize(init) => {
                out.push(1);
                init.encode_to(&mut out);
            }
            Message::StateRoot(root) => {
                out.push(2);
                out.extend_from_slice(root);
            }
            Message::ImportBlock(block) => {
                out.push(3);
                block.encode_to(&mut out);
            }
            Message::GetState(hash) => {
                out.push(4);
                out.extend_from_slice(hash);
            }
            Message::State(keyvals) => {
                out.push(5);
                keyvals.encode_to(&mut out);
            }
            Message::Error(text) => {
                out.push(255);
                text.as_bytes().to_vec().encode_to(&mut out);
            }
        }
        out
    }

    /// Decodes one whole message for chain spec `spec`; trailing bytes are an error.
    pub fn decode(spec: &ChainSpec, bytes: &[u8]) -> Result<Self, ProtocolError> {
        let mut d = Decoder::new(bytes, spec.lengths());
        let message = match d.u8()? {
            0 => Message::PeerInfo(PeerInfo {
                fuzz_version: d.u8()?,
                fuzz_features: d.u32()?,
                jam_version: Version::decode(&mut d)?,
                app_version: Version::decode(&mut d)?,
                app_name: utf8(Vec::<u8>::decode(&mut d)?)?,
            }),
            1 => {
                let init = Initialize::decode(&mut d)?;
                if init.ancestry.len() > MAX_ANCESTRY {
                    return Err(ProtocolError::AncestryTooLong(init.ancestry.len()));
                }
                Message::Initialize(Box::new(init))
            }
            2 => Message::StateRoot(d.array()?),
            3 => {
                // A block that does not decode is told apart: the request itself was well formed.
                let block = Block::decode(&mut d).map_err(ProtocolError::BadBlock)?;
                d.finish().map_err(ProtocolError::BadBlock)?;
                return Ok(Message::ImportBlock(Box::new(block)));
            }
            4 => Message::GetState(d.array()?),
            5 => Message::State(Vec::<KeyValue>::decode(&mut d)?),
            255 => Message::Error(utf8(Vec::<u8>::decode(&mut d)?)?),
            other => return Err(ProtocolError::UnknownMessage(other)),
        };
        d.finish()?;
        Ok(message)
    }
}

fn utf8(bytes: Vec<u8>) -> Result<String, ProtocolError> {
    String::from_utf8(bytes).map_err(|_| ProtocolError::NotUtf8)
}

/// Why a message could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("the connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("a message claims {claim} octets, more than the {max} allowed")]
    TooLong { claim: u32, max: u32 },
    #[error("the connection closed in the middle of a message")]
    Truncated,
    #[error("the peer neither sent nor took an octet within the idle limit")]
    Idle,
    #[error(
        "the octets of messages being read, across every connection, would pass the budget of \
         {0} octets"
    )]
    OverBudget(usize),
    #[error("unknown message discriminator {0}")]
    UnknownMessage(u8),
    #[error("a string is not UTF-8")]
    NotUtf8,
    #[error("initialize carries {0} ancestors, more than the {MAX_ANCESTRY} allowed")]
    AncestryTooLong(usize),
    #[error("import_block: the block does not decode: {0}")]
    BadBlock(CodecError),
    #[error("decoding a message: {0}")]
    Codec(#[from] CodecError),
}

/// A read or write that timed out (a socket's `SO_RCVTIMEO`/`SO_SNDTIMEO` gives `EAGAIN`) is the
/// idle limit; anything else is the connection's.
fn io_error(e: std::io::Error) -> ProtocolError {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => ProtocolError::Idle,
        _ => ProtocolError::Io(e),
    }
}

/// Writes one framed message.
pub fn write_frame(out: &mut impl Write, payload: &[u8]) -> Result<(), ProtocolError> {
    let len = u32::try_from(payload.len())
        .map_err(|_| ProtocolError::TooLong { claim: u32::MAX, max: u32::MAX })?;
    out.write_all(&len.to_le_bytes()).map_err(io_error)?;
    out.write_all(payload).map_err(io_error)?;
    out.flush().map_err(io_error)?;
    Ok(())
}

/// Octets of messages being read, shared by the connections of one target: what a reader holds
/// is counted here until the message is dropped, so many slow senders together cannot make the
/// process hold more than the budget.
#[derive(Debug)]
pub struct Budget {
    limit: usize,
    used: AtomicUsize,
}

impl Budget {
    pub fn new(limit: usize) -> Self {
        Self { limit, used: AtomicUsize::new(0) }
    }

    /// The octets held now.
    pub fn in_use(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    fn take(&self, n: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }

    fn give(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }
}

/// One message's octets, counted against a [`Budget`] (if the reader had one) until dropped.
#[derive(Debug)]
pub struct Frame {
    bytes: Vec<u8>,
    held: Option<(Arc<Budget>, usize)>,
}

impl Frame {
    pub fn into_vec(mut self) -> Vec<u8> {
        std::mem::take(&mut self.bytes)
    }
}

impl Deref for Frame {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        if let Some((budget, n)) = self.held.take() {
            budget.give(n);
        }
    }
}

/// The first allocation for a message, and the least each later one adds.
const READ_CHUNK: usize = 64 << 10;

/// Reads one framed message's bytes, or `None` when the peer closed the connection between
/// messages; claims above [`MAX_MESSAGE`] are refused.
pub fn read_frame(input: &mut impl Read) -> Result<Option<Vec<u8>>, ProtocolError> {
    Ok(read_frame_within(input, MAX_MESSAGE, None)?.map(Frame::into_vec))
}

/// Reads one framed message of at most `max` octets, counting what it holds against `budget`.
///
/// The buffer grows with what arrives (doubling, from [`READ_CHUNK`], never past the claim), so
/// a peer that claims a large message and sends it slowly holds at most twice what it sent. A
/// claim above `max` is refused before anything more is read; a buffer the budget cannot cover
/// ends the read with [`ProtocolError::OverBudget`].
pub fn read_frame_within(
    input: &mut impl Read,
    max: u32,
    budget: Option<&Arc<Budget>>,
) -> Result<Option<Frame>, ProtocolError> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match input.read(&mut len[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(ProtocolError::Truncated),
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(e)),
        }
    }
    let claim = u32::from_le_bytes(len);
    if claim > max {
        return Err(ProtocolError::TooLong { claim, max });
    }
    let len = claim as usize;
    let mut frame = Frame { bytes: Vec::new(), held: budget.map(|b| (b.clone(), 0)) };
    let mut got = 0;
    while got < len {
        if got == frame.bytes.len() {
            let grown = (2 * frame.bytes.len()).max(READ_CHUNK).min(len);
            if let Some((budget, held)) = &mut frame.held {
                let more = grown - frame.bytes.len();
                if !budget.take(more) {
                    return Err(ProtocolError::OverBudget(budget.limit()));
                }
                *held += more;
            }
            frame.bytes.resize(grown, 0);
        }
        match input.read(&mut frame.bytes[got..]) {
            Ok(0) => return Err(ProtocolError::Truncated),
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(e)),
        }
    }
    Ok(Some(frame))
}

#[cfg(test)]
mod tests {
    use super::*;
    use orrery_types::{Extrinsic, Header};
    use proptest::prelude::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    fn header() -> Header {
        Header {
            parent: [1; 32],
            parent_state_root: [2; 32],
            extrinsic_hash: [3; 32],
            slot: 7,
            epoch_mark: None,
            tickets_mark: None,
            author_index: 4,
            entropy_source: [5; 96],
            offenders_mark: vec![[6; 32]],
            seal: [7; 96],
        }
    }

    fn samples() -> Vec<Message> {
        vec![
            Message::PeerInfo(PeerInfo {
                fuzz_version: 1,
                fuzz_features: FEATURE_ANCESTRY | FEATURE_FORKS,
                jam_version: Version { major: 0, minor: 7, patch: 2 },
                app_version: Version { major: 1, minor: 2, patch: 3 },
                app_name: "orrery ☉".into(),
            }),
            Message::Initialize(Box::new(Initialize {
                header: header(),
                keyvals: vec![
                    KeyValue { key: [8; 31], value: vec![9, 10] },
                    KeyValue { key: [11; 31], value: vec![] },
                ],
                ancestry: vec![AncestryItem { slot: 6, header_hash: [12; 32] }],
            })),
            Message::StateRoot([13; 32]),
            Message::ImportBlock(Box::new(Block { header: header(), extrinsic: Extrinsic::default() })),
            Message::GetState([14; 32]),
            Message::State(vec![KeyValue { key: [15; 31], value: vec![16; 300] }]),
            Message::State(vec![]),
            Message::Error("block import failure".into()),
        ]
    }

    /// The three encodings the protocol's README works through, field by field.
    #[test]
    fn readme_examples() {
        let spec = ChainSpec::tiny();
        let peer = unhex("0001020000000007000001190666757a7a6572");
        let expected = Message::PeerInfo(PeerInfo {
            fuzz_version: 1,
            fuzz_features: 2,
            jam_version: Version { major: 0, minor: 7, patch: 0 },
            app_version: Version { major: 0, minor: 1, patch: 25 },
            app_name: "fuzzer".into(),
        });
        assert_eq!(Message::decode(&spec, &peer).unwrap(), expected);
        assert_eq!(expected.encode(), peer);

        let root = unhex("024559342d3a32a8cbc3c46399a80753abff8bf785aa9d6f623e0de045ba6701fe");
        let expected = Message::StateRoot(root[1..].try_into().unwrap());
        assert_eq!(Message::decode(&spec, &root).unwrap(), expected);
        assert_eq!(expected.encode(), root);

        let text = "Chain error: block execution failure: preimages error: preimage not required";
        let mut error = vec![0xff, 0x4c];
        error.extend_from_slice(text.as_bytes());
        assert_eq!(Message::decode(&spec, &error).unwrap(), Message::Error(text.into()));
        assert_eq!(Message::Error(text.into()).encode(), error);
    }

    /// `Initialize` laid out by hand: header, then `↕[key ‖ ↕value]`, then `↕[slot ‖ hash]`.
    #[test]
    fn initialize_layout() {
        let init = Initialize {
            header: header(),
            keyvals: vec![KeyValue { key: [8; 31], value: vec![9, 10] }],
            ancestry: vec![AncestryItem { slot: 0x0102_0304, header_hash: [12; 32] }],
        };
        let mut expected = vec![1];
        expected.extend(header().encode());
        expected.push(1);
        expected.extend([8; 31]);
        expected.extend([2, 9, 10]);
        expected.push(1);
        expected.extend([4, 3, 2, 1]);
        expected.extend([12; 32]);
        let message = Message::Initialize(Box::new(init));
        assert_eq!(message.encode(), expected);
        assert_eq!(Message::decode(&ChainSpec::tiny(), &expected).unwrap(), message);
    }

    #[test]
    fn every_kind_round_trips() {
        let spec = ChainSpec::tiny();
        for message in samples() {
            let bytes = message.encode();
            assert_eq!(Message::decode(&spec, &bytes).unwrap(), message, "{}", message.kind());
        }
    }

    #[test]
    fn truncated_messages_are_errors() {
        let spec = ChainSpec::tiny();
        for message in samples() {
            let bytes = message.encode();
            for end in 0..bytes.len() {
                assert!(Message::decode(&spec, &bytes[..end]).is_err(), "{} cut at {end}", message.kind());
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(Message::decode(&spec, &longer).is_err(), "{} with a trailing octet", message.kind());
        }
    }

    #[test]
    fn unknown_discriminators_are_errors() {
        let spec = ChainSpec::tiny();
        for tag in (6..=254).chain([0x80]) {
            match Message::decode(&spec, &[tag; 40]) {
                Err(ProtocolError::UnknownMessage(t)) => assert_eq!(t, tag),
                other => panic!("{tag}: {other:?}"),
            }
        }
    }

    #[test]
    fn strings_must_be_utf8() {
        let spec = ChainSpec::tiny();
        assert!(matches!(Message::decode(&spec, &[0xff, 2, 0xc3, 0x28]), Err(ProtocolError::NotUtf8)));
    }

    /// A length prefix claiming more than the message holds is refused before any allocation.
    #[test]
    fn oversized_inner_lengths_are_errors() {
        let spec = ChainSpec::tiny();
        // A state claiming 2^32 rows, and an error string claiming 2^30 octets, in a few octets.
        assert!(Message::decode(&spec, &[5, 0xf0, 0, 0, 0, 1]).is_err());
        assert!(Message::decode(&spec, &[0xff, 0xe0, 0, 0, 0x40]).is_err());
    }

    #[test]
    fn an_undecodable_block_is_told_apart() {
        let spec = ChainSpec::tiny();
        let mut bytes =
            Message::ImportBlock(Box::new(Block { header: header(), extrinsic: Extrinsic::default() }))
                .encode();
        bytes.pop();
        assert!(matches!(Message::decode(&spec, &bytes), Err(ProtocolError::BadBlock(_))));
        assert!(matches!(Message::decode(&spec, &[3]), Err(ProtocolError::BadBlock(_))));
    }

    #[test]
    fn frames() {
        let mut wire = Vec::new();
        write_frame(&mut wire, b"abc").unwrap();
        write_frame(&mut wire, b"").unwrap();
        assert_eq!(wire, [3, 0, 0, 0, b'a', b'b', b'c', 0, 0, 0, 0]);
        let mut input = wire.as_slice();
        assert_eq!(read_frame(&mut input).unwrap().unwrap(), b"abc");
        assert_eq!(read_frame(&mut input).unwrap().unwrap(), b"");
        assert!(read_frame(&mut input).unwrap().is_none(), "a close between frames ends the stream");
    }

    #[test]
    fn truncated_and_oversized_frames_are_errors() {
        // A close inside the length, or inside the payload.
        assert!(matches!(read_frame(&mut &[3u8, 0][..]), Err(ProtocolError::Truncated)));
        assert!(matches!(read_frame(&mut &[3u8, 0, 0, 0, 1][..]), Err(ProtocolError::Truncated)));
        // A claim past the limit is refused without reading (nor reserving) the payload.
        let claim = (MAX_MESSAGE + 1).to_le_bytes();
        assert!(matches!(
            read_frame(&mut &claim[..]),
            Err(ProtocolError::TooLong { claim, max: MAX_MESSAGE }) if claim == MAX_MESSAGE + 1
        ));
        assert!(matches!(
            read_frame(&mut &[0xff; 4][..]),
            Err(ProtocolError::TooLong { claim: u32::MAX, .. })
        ));
    }

    /// The full network's bounds, summed by hand from the GP's constants (C = 341, V = 1023,
    /// E = 600, K = 16, L = 14,400, I = 16, J = 8, W_R = 49,152, W_B = 13,791,360):
    /// header 100 + 194 (the fixed fields) + 65,537 (epoch mark) + 19,801 (tickets mark) + 2 +
    /// 65,472 (2,046 offenders) = 151,106; tickets 1 + 16 × 785 =
    /// 12,561; guarantees 2 + 341 × 51,798 = 17,663,120 (a report: 102 + 133 + 2 + 32 + 9 + 3 +
    /// 49,152 + 513 + 1 + 16 × 103 = 51,595, then slot 4 and 1 + 3 × 66 credentials); assurances
    /// 2 + 1023 × 141 = 144,245; disputes 2 + 341 × 45,797 + 2 + 1023 × 128 + 2 + 1023 × 129 =
    /// 15,879,694; preimages 13,791,360.
    #[test]
    fn the_full_network_bounds_by_hand() {
        let full = ChainSpec::full();
        assert_eq!(max_header_octets(&full), 151_106);
        assert_eq!(
            max_block_octets(&full),
            151_106 + 12_561 + 17_663_120 + 144_245 + 15_879_694 + 13_791_360
        );
        // The state, and 14,400 ancestors of 36 octets behind a 2-octet length.
        assert_eq!(max_initialize_octets(&full), 151_106 + (64 << 20) + 2 + 14_400 * 36);
        assert_eq!(MAX_MESSAGE, 1 + 151_106 + (64 << 20) + 2 + 14_400 * 36);
    }

    /// A tiny-network block with every list at its bound and every field at its widest encodes
    /// to the bound but for what no real block can reach at once: the bound gives each of a
    /// report's 16 result blobs a 3-octet length (a blob of 2^14 octets or more), while the
    /// blobs share `W_R`, so here they are empty (1 octet each) and the trace holds `W_R`: 32
    /// octets a report, 2 reports.
    #[test]
    fn a_block_at_every_bound_fits_the_tiny_bound() {
        use orrery_codec::BitVec;
        use orrery_types::{
            AvailAssurance, Culprit, DisputesExtrinsic, EpochMark, EpochMarkValidatorKeys, Fault, Judgement,
            Preimage, RefineContext, RefineLoad, ReportGuarantee, SegmentRootLookupItem, TicketBody,
            TicketEnvelope, TicketsMark, ValidatorSignature, Verdict, WorkExecResult, WorkPackageSpec,
            WorkReport, WorkResult,
        };
        let spec = ChainSpec::tiny();
        let (v, c, e) =
            (spec.validators_count as usize, spec.cores_count as usize, spec.epoch_length as usize);
        let mut header = header();
        header.epoch_mark = Some(EpochMark {
            entropy: [1; 32],
            tickets_entropy: [2; 32],
            validators: vec![EpochMarkValidatorKeys { bandersnatch: [3; 32], ed25519: [4; 32] }; v],
        });
        header.tickets_mark = Some(TicketsMark(vec![TicketBody { id: [5; 32], attempt: 1 }; e]));
        header.offenders_mark = vec![[6; 32]; 2 * v];
        let digest = WorkResult {
            service_id: 1,
            code_hash: [7; 32],
            payload_hash: [8; 32],
            accumulate_gas: 9,
            result: WorkExecResult::Ok(vec![]),
            refine_load: RefineLoad {
                gas_used: u64::MAX,
                imports: u16::MAX,
                extrinsic_count: u16::MAX,
                extrinsic_size: u32::MAX,
                exports: u16::MAX,
            },
        };
        let report = WorkReport {
            package_spec: WorkPackageSpec {
                hash: [10; 32],
                length: 11,
                erasure_root: [12; 32],
                exports_root: [13; 32],
                exports_count: 14,
            },
            context: RefineContext {
                anchor: [15; 32],
                state_root: [16; 32],
                beefy_root: [17; 32],
                lookup_anchor: [18; 32],
                lookup_anchor_slot: 19,
                prerequisites: vec![],
            },
            core_index: spec.cores_count - 1,
            authorizer_hash: [20; 32],
            auth_gas_used: u64::MAX,
            auth_output: vec![21; MAX_REPORT_VAR_SIZE],
            segment_root_lookup: vec![
                SegmentRootLookupItem {
                    work_package_hash: [22; 32],
                    segment_tree_root: [23; 32]
                };
                MAX_REPORT_DEPENDENCIES
            ],
            results: vec![digest; MAX_PACKAGE_ITEMS],
        };
        let credential = ValidatorSignature { validator_index: 1, signature: [24; 64] };
        // One preimage filling the allowance: 1 (count) + 4 (service) + 4 (length) + the blob.
        let blob_len = MAX_PREIMAGE_OCTETS as usize - 9;
        let block = Block {
            header,
            extrinsic: orrery_types::Extrinsic {
                tickets: vec![
                    TicketEnvelope { attempt: 1, signature: [25; 784] };
                    spec.max_tickets_per_extrinsic as usize
                ],
                preimages: vec![Preimage { requester: 26, blob: vec![27; blob_len] }],
                guarantees: vec![ReportGuarantee { report, slot: 28, signatures: vec![credential; 3] }; c],
                assurances: vec![
                    AvailAssurance {
                        anchor: [29; 32],
                        bitfield: BitVec::zeros(c),
                        validator_index: 30,
                        signature: [31; 64],
                    };
                    v
                ],
                disputes: DisputesExtrinsic {
                    verdicts: vec![
                        Verdict {
                            target: [32; 32],
                            age: 33,
                            votes: vec![
                                Judgement { vote: true, index: 34, signature: [35; 64] };
                                v * 2 / 3 + 1
                            ],
                        };
                        c
                    ],
                    culprits: vec![Culprit { target: [36; 32], key: [37; 32], signature: [38; 64] }; v],
                    faults: vec![
                        Fault { target: [39; 32], vote: false, key: [40; 32], signature: [41; 64] };
                        v
                    ],
                },
            },
        };
        let encoded = block.encode();
        assert_eq!(
            Message::decode(&spec, &Message::ImportBlock(Box::new(block)).encode()).map(|m| m.kind()).ok(),
            Some("import_block")
        );
        assert_eq!(max_block_octets(&spec) - encoded.len() as u64, 2 * 16 * 2);
    }

    /// A slow sender: the buffer follows what arrived, and the budget counts it until the
    /// message is dropped; a message the budget cannot cover is refused.
    #[test]
    fn frames_grow_with_what_arrives_within_the_budget() {
        /// Gives at most `step` octets a read.
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = buf.len().min(self.1).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let budget = Arc::new(Budget::new(1 << 20));
        // 100 KiB of a message claiming 40 MB: truncated, and nothing held after.
        let mut wire = 40_000_000u32.to_le_bytes().to_vec();
        wire.extend(vec![7u8; 100 << 10]);
        let cut = read_frame_within(&mut Trickle(&wire, 1000), MAX_MESSAGE, Some(&budget));
        assert!(matches!(cut, Err(ProtocolError::Truncated)), "{cut:?}");
        assert_eq!(budget.in_use(), 0);
        // A whole message of 300 KiB: held (64 + 64 + 128 + 256 KiB grown, cut to the claim)
        // until dropped.
        let mut wire = (300u32 << 10).to_le_bytes().to_vec();
        wire.extend(vec![8u8; 300 << 10]);
        let frame =
            read_frame_within(&mut Trickle(&wire, 4096), MAX_MESSAGE, Some(&budget)).unwrap().unwrap();
        assert_eq!(frame.len(), 300 << 10);
        assert_eq!(budget.in_use(), 300 << 10);
        // A second one does not fit beside it (1 MiB budget: 300 KiB + 512 KiB + the next 1 MiB).
        let mut wire = (2u32 << 20).to_le_bytes().to_vec();
        wire.extend(vec![9u8; 2 << 20]);
        let over = read_frame_within(&mut Trickle(&wire, 1 << 16), MAX_MESSAGE, Some(&budget));
        assert!(matches!(over, Err(ProtocolError::OverBudget(n)) if n == 1 << 20), "{over:?}");
        assert_eq!(budget.in_use(), 300 << 10);
        drop(frame);
        assert_eq!(budget.in_use(), 0);
        // A claim above the cap given is refused before a byte of it is read.
        let mut wire = 1001u32.to_le_bytes().to_vec();
        wire.extend([0u8; 1001]);
        let mut input = Trickle(&wire, 1 << 20);
        assert!(matches!(
            read_frame_within(&mut input, 1000, Some(&budget)),
            Err(ProtocolError::TooLong { claim: 1001, max: 1000 })
        ));
        assert_eq!(input.0.len(), 1001);
    }

    proptest! {
        /// Any octets: an error or a message, never a panic; a message re-encodes to the input
        /// (the codec gives every value one encoding).
        #[test]
        fn arbitrary_octets_decode_or_fail(tag in prop_oneof![0u8..=6, Just(255u8)], body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut bytes = vec![tag];
            bytes.extend(body);
            if let Ok(message) = Message::decode(&ChainSpec::tiny(), &bytes) {
                prop_assert_eq!(message.encode(), bytes);
            }
        }

        /// Every sample with one octet changed: an error or a message that re-encodes to it.
        #[test]
        fn mutated_messages_decode_or_fail(which in 0usize..8, at in any::<prop::sample::Index>(), to in any::<u8>()) {
            let mut bytes = samples()[which].encode();
            let i = at.index(bytes.len());
            bytes[i] = to;
            if let Ok(message) = Message::decode(&ChainSpec::tiny(), &bytes) {
                prop_assert_eq!(message.encode(), bytes);
            }
        }
    }
}
