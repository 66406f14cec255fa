//! The messages of the fuzzer protocol v1 (jam-conformance `fuzz-proto/fuzz-v1.asn`) in the JAM
//! codec (GP 0.7.2 appendix C), and their framing: each message is prefixed with its length as a
//! little-endian `u32`.
//!
//! A message is a one-octet discriminator (0–5, or 255 for `error`) and the body in the JAM codec:
//! `PeerInfo` as `u8 ‖ u32 ‖ 3×u8 ‖ 3×u8 ‖ ↕utf8`, `Initialize` as `header ‖ ↕keyvals ‖ ↕ancestry`,
//! roots and hashes as 32 octets, a block as the GP encodes it, a state as `↕(key₃₁ ‖ ↕value)`.

use std::io::{Read, Write};

use orrery_codec::{Decode, Decoder, Describe, Encode, Error as CodecError};
use orrery_import::formats::KeyValue;
use orrery_types::{Block, ChainSpec, HeaderHash, StateRoot, TimeSlot};

/// The protocol version this crate speaks.
pub const FUZZ_VERSION: u8 = 1;

/// The target has the last `L` headers before the first block (`feature-ancestry`).
pub const FEATURE_ANCESTRY: u32 = 1;
/// Simple forks: a block whose parent is not the last one imported (`feature-fork`).
pub const FEATURE_FORKS: u32 = 2;

/// The most octets one message may claim. A tiny-network state is a few megabytes at most and a
/// full-network block a few tens; a larger claim is refused before anything is read.
pub const MAX_MESSAGE: u32 = 256 << 20;

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
    #[error("a message claims {0} octets, more than the {MAX_MESSAGE} allowed")]
    TooLong(u32),
    #[error("the connection closed in the middle of a message")]
    Truncated,
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

/// Writes one framed message.
pub fn write_frame(out: &mut impl Write, payload: &[u8]) -> Result<(), ProtocolError> {
    let len = u32::try_from(payload.len()).map_err(|_| ProtocolError::TooLong(u32::MAX))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(payload)?;
    out.flush()?;
    Ok(())
}

/// Reads one framed message's bytes, or `None` when the peer closed the connection between
/// messages. The buffer grows with what arrives, never ahead of it to what the length claims.
pub fn read_frame(input: &mut impl Read) -> Result<Option<Vec<u8>>, ProtocolError> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match input.read(&mut len[got..])? {
            0 if got == 0 => return Ok(None),
            0 => return Err(ProtocolError::Truncated),
            n => got += n,
        }
    }
    let len = u32::from_le_bytes(len);
    if len > MAX_MESSAGE {
        return Err(ProtocolError::TooLong(len));
    }
    let mut payload = Vec::new();
    input.take(u64::from(len)).read_to_end(&mut payload)?;
    if payload.len() != len as usize {
        return Err(ProtocolError::Truncated);
    }
    Ok(Some(payload))
}
