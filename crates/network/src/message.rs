//! The messages of UP 0, CE 128, CE 129 and CE 131/132 (JAMNP-S @3a81108), in the GP codec
//! (GP 0.7.2 Appendix C), and the size cap of each stream kind; the work-package streams (CE 133–135,
//! 137, 141–143) are in [`work`].
//!
//! Every decoder takes untrusted bytes: it fails with an error, never a panic, allocates no more than
//! the input justifies, and caps counts that the spec leaves open. Checks that need chain state (that
//! a header is valid, that boundary nodes prove the key/values against a state root, parent-before-child
//! order) belong to the node, not here.

use orrery_codec::{decode_exact, Decode, Decoder, Encode, Error, Lengths};
use orrery_types::constants::MAX_BUNDLE_SIZE;
use orrery_types::{Block, HeaderHash, TimeSlot};

use crate::kind::StreamKind;

/// Leaves a handshake may list. The spec sets no bound; a node with more unfinalized forks than this
/// is unhealthy, and the cap keeps a handshake small.
pub const MAX_LEAVES: usize = 1024;
/// Boundary nodes in a CE 129 response: two root-to-leaf paths of a 248-bit-key trie hold fewer.
pub const MAX_BOUNDARY_NODES: usize = 512;
/// Size of a trie node (GP Appendix D, 512 bits).
pub const TRIE_NODE_SIZE: usize = 64;
/// A CE 131/132 message: epoch (4) + attempt (1) + ring VRF proof (784).
pub const TICKET_MESSAGE_SIZE: usize = 4 + 1 + 784;

const MIB: u32 = 1024 * 1024;

/// The largest message accepted on a stream of `kind`, in either direction. The cap bounds memory per
/// stream; a caller that knows a tighter bound (a request's own maximum) lowers it with
/// [`crate::Stream::set_cap`].
pub fn max_message_size(kind: StreamKind) -> u32 {
    match kind {
        // A full-spec header with an epoch mark and a tickets mark is under 90 KiB; leaves 36 KiB.
        StreamKind::BLOCK_ANNOUNCEMENT => MIB,
        // Requests are a few dozen bytes; responses are blocks or state ranges.
        StreamKind::BLOCK_REQUEST | StreamKind::STATE_REQUEST => 16 * MIB,
        StreamKind::TICKET_TO_PROXY | StreamKind::TICKET_TO_ALL => TICKET_MESSAGE_SIZE as u32,
        // The extrinsics, the bundle, a bundle shard or the segment shards of the smallest recovery
        // threshold (R = 1: 3120 whole segments, 12.8 MB): none exceeds `W_B`. The receiver lowers
        // the cap for the messages that are smaller (the package, the mappings, the justification).
        StreamKind::WORK_PACKAGE_SUBMISSION
        | StreamKind::WORK_PACKAGE_SHARING
        | StreamKind::SHARD_DISTRIBUTION
        | StreamKind::AUDIT_SHARD_REQUEST => MAX_BUNDLE_SIZE as u32,
        StreamKind::WORK_REPORT_DISTRIBUTION => work::MAX_GUARANTEE_SIZE as u32,
        StreamKind::ASSURANCE_DISTRIBUTION => work::MAX_ASSURANCE_SIZE as u32,
        StreamKind::PREIMAGE_ANNOUNCEMENT => work::PREIMAGE_ANNOUNCEMENT_SIZE as u32,
        StreamKind::PREIMAGE_REQUEST => work::MAX_PREIMAGE_SIZE as u32,
        // Kinds this crate has no messages for yet (audit, segment recovery).
        _ => 16 * MIB,
    }
}

/// Why a message does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("codec: {0}")]
    Codec(#[from] Error),
    #[error("{what}: {count} items exceed the cap of {cap}")]
    TooMany { what: &'static str, count: usize, cap: usize },
    #[error("{what}: {len} bytes is not a whole number of {item}-byte items")]
    Ragged { what: &'static str, len: usize, item: usize },
    #[error("CE 129 response: keys not strictly ascending")]
    UnsortedKeys,
    #[error("CE 129 response: duplicate boundary node")]
    DuplicateNode,
    #[error("CE 129 response: key outside the requested range")]
    KeyOutOfRange,
    #[error("CE 129 response: {size} bytes exceed the requested maximum of {max} with more than one pair")]
    ResponseTooLarge { size: usize, max: u32 },
    #[error("{what}: {len} bytes exceed the cap of {cap}")]
    TooLarge { what: &'static str, len: usize, cap: usize },
    #[error("CE 133 extrinsics: {got} bytes, but the work items declare {declared}")]
    ExtrinsicsSize { declared: u64, got: usize },
    #[error("CE 135: {0} signatures on a guaranteed report, not 2 or 3 (GP 0.7.2 §11.4)")]
    GuaranteeSignatures(usize),
    #[error("CE 138: the justification does not end in the segment-shard root (a `0 ++ Hash` step)")]
    NoSegmentShardsRoot,
}

/// `Final` / `Leaf = Header Hash ++ Slot`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, orrery_codec::Encode, orrery_codec::Decode)]
pub struct BlockRef {
    pub hash: HeaderHash,
    pub slot: TimeSlot,
}

/// UP 0 handshake: `Final ++ len++[Leaf]`.
#[derive(Debug, Clone, PartialEq, Eq, orrery_codec::Encode, orrery_codec::Decode)]
pub struct Handshake {
    pub finalized: BlockRef,
    pub leaves: Vec<BlockRef>,
}

impl Handshake {
    pub fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
        let handshake: Self = Decode::decode_all(bytes)?;
        if handshake.leaves.len() > MAX_LEAVES {
            return Err(MessageError::TooMany {
                what: "UP 0 leaves",
                count: handshake.leaves.len(),
                cap: MAX_LEAVES,
            });
        }
        Ok(handshake)
    }
}

/// UP 0 announcement: `Header ++ Final`. The header's layout depends on the chain spec's lengths.
#[derive(Debug, Clone, PartialEq, Eq, orrery_codec::Encode, orrery_codec::Decode)]
pub struct Announcement {
    pub header: orrery_types::Header,
    pub finalized: BlockRef,
}

impl Announcement {
    pub fn decode(bytes: &[u8], lengths: Lengths) -> Result<Self, MessageError> {
        Ok(decode_exact(bytes, lengths)?)
    }
}

/// CE 128 direction (a single byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From a child of the given block upward.
    AscendingExclusive,
    /// From the given block down through its ancestors.
    DescendingInclusive,
}

impl Encode for Direction {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(match self {
            Direction::AscendingExclusive => 0,
            Direction::DescendingInclusive => 1,
        });
    }
}

impl Decode for Direction {
    fn decode(d: &mut Decoder<'_>) -> Result<Self, Error> {
        match d.u8()? {
            0 => Ok(Direction::AscendingExclusive),
            1 => Ok(Direction::DescendingInclusive),
            v => Err(Error::InvalidDiscriminator { type_name: "Direction", value: v.into() }),
        }
    }
}

/// CE 128 request: `Header Hash ++ Direction ++ Maximum Blocks`.
#[derive(Debug, Clone, PartialEq, Eq, orrery_codec::Encode, orrery_codec::Decode)]
pub struct BlockRequest {
    pub hash: HeaderHash,
    pub direction: Direction,
    pub max_blocks: u32,
}

impl BlockRequest {
    pub fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
        Ok(Decode::decode_all(bytes)?)
    }
}

/// CE 128 response `[Block]`: the blocks concatenated, their count implied by the message size.
pub fn encode_blocks(blocks: &[Block]) -> Vec<u8> {
    let mut out = Vec::new();
    for block in blocks {
        block.encode_to(&mut out);
    }
    out
}

/// Decodes a CE 128 response, refusing more than `max_blocks` blocks (the request's maximum).
pub fn decode_blocks(bytes: &[u8], lengths: Lengths, max_blocks: u32) -> Result<Vec<Block>, MessageError> {
    let cap = max_blocks as usize;
    let mut d = Decoder::new(bytes, lengths);
    let mut blocks = Vec::new();
    while d.remaining() > 0 {
        if blocks.len() == cap {
            return Err(MessageError::TooMany { what: "CE 128 blocks", count: cap + 1, cap });
        }
        blocks.push(Block::decode(&mut d)?);
    }
    Ok(blocks)
}

/// A state key as CE 129 carries it: the first 31 bytes (the last is ignored by merklization).
pub type StateKey = [u8; 31];

/// CE 129 request: `Header Hash ++ Key (start) ++ Key (end) ++ Maximum Size`.
#[derive(Debug, Clone, PartialEq, Eq, orrery_codec::Encode, orrery_codec::Decode)]
pub struct StateRequest {
    pub hash: HeaderHash,
    pub start: StateKey,
    pub end: StateKey,
    pub max_size: u32,
}

impl StateRequest {
    pub fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
        Ok(Decode::decode_all(bytes)?)
    }

    /// Checks a response's shape against this request: every key within `start..=end`, and the two
    /// messages' total size (`response_size`) within `max_size` unless only one pair was returned.
    /// (Sortedness is checked by [`decode_key_values`]; the proof against the state root is the node's.)
    pub fn check_response(&self, pairs: &[KeyValue], response_size: usize) -> Result<(), MessageError> {
        if pairs.iter().any(|p| p.key < self.start || p.key > self.end) {
            return Err(MessageError::KeyOutOfRange);
        }
        if pairs.len() > 1 && response_size > self.max_size as usize {
            return Err(MessageError::ResponseTooLarge { size: response_size, max: self.max_size });
        }
        Ok(())
    }
}

/// A trie node as returned by B/L (GP Appendix D).
pub type BoundaryNode = [u8; TRIE_NODE_SIZE];

/// CE 129 first response message `[Boundary Node]`: fixed-size nodes, no prefix.
pub fn encode_boundary_nodes(nodes: &[BoundaryNode]) -> Vec<u8> {
    nodes.concat()
}

/// Decodes `[Boundary Node]`: a whole number of nodes, at most [`MAX_BOUNDARY_NODES`], no duplicates.
pub fn decode_boundary_nodes(bytes: &[u8]) -> Result<Vec<BoundaryNode>, MessageError> {
    if bytes.len() % TRIE_NODE_SIZE != 0 {
        return Err(MessageError::Ragged {
            what: "CE 129 boundary nodes",
            len: bytes.len(),
            item: TRIE_NODE_SIZE,
        });
    }
    let count = bytes.len() / TRIE_NODE_SIZE;
    if count > MAX_BOUNDARY_NODES {
        return Err(MessageError::TooMany { what: "CE 129 boundary nodes", count, cap: MAX_BOUNDARY_NODES });
    }
    let mut nodes: Vec<BoundaryNode> = Vec::with_capacity(count);
    for chunk in bytes.chunks_exact(TRIE_NODE_SIZE) {
        let mut node = [0u8; TRIE_NODE_SIZE];
        node.copy_from_slice(chunk);
        // At most 512 nodes, so the quadratic check is cheap and needs no hashing.
        if nodes.contains(&node) {
            return Err(MessageError::DuplicateNode);
        }
        nodes.push(node);
    }
    Ok(nodes)
}

/// One pair of a CE 129 response: `Key ++ len++Value`.
#[derive(Debug, Clone, PartialEq, Eq, orrery_codec::Encode, orrery_codec::Decode)]
pub struct KeyValue {
    pub key: StateKey,
    pub value: Vec<u8>,
}

/// CE 129 second response message `[Key ++ Value]`, concatenated.
pub fn encode_key_values(pairs: &[KeyValue]) -> Vec<u8> {
    let mut out = Vec::new();
    for pair in pairs {
        pair.encode_to(&mut out);
    }
    out
}

/// Decodes `[Key ++ Value]`: pairs until the bytes run out, keys strictly ascending. Each pair takes at
/// least 32 bytes, so the count is bounded by the (capped) message size.
pub fn decode_key_values(bytes: &[u8]) -> Result<Vec<KeyValue>, MessageError> {
    let mut d = Decoder::without_lengths(bytes);
    let mut pairs: Vec<KeyValue> = Vec::new();
    while d.remaining() > 0 {
        let pair = KeyValue::decode(&mut d)?;
        if pairs.last().is_some_and(|last| last.key >= pair.key) {
            return Err(MessageError::UnsortedKeys);
        }
        pairs.push(pair);
    }
    Ok(pairs)
}

/// CE 131/132: `Epoch Index ++ Attempt ++ Ring VRF Proof`. The epoch is the one the ticket is used in.
#[derive(Debug, Clone, PartialEq, Eq, orrery_codec::Encode, orrery_codec::Decode)]
pub struct TicketMessage {
    pub epoch: u32,
    pub attempt: u8,
    pub proof: orrery_types::BandersnatchRingVrfSignature,
}

impl TicketMessage {
    pub fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
        Ok(Decode::decode_all(bytes)?)
    }
}

pub mod audit;
pub mod work;
pub use work::{
    decode_guarantee, decode_justification, decode_preimage, decode_preimage_request,
    decode_segment_shard_answer, encode_guarantee, encode_justification, AssuranceMessage,
    AuditShardResponse, BundleShare, JustificationStep, PreimageAnnouncement, ReportSignature,
    SegmentShardItem, SegmentShardRequest, ShardRequest, ShardResponse, ShardSizes, WorkPackageSubmission,
};

#[cfg(test)]
mod tests;
