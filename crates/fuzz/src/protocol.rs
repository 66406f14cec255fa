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
        assert!(
            matches!(read_frame(&mut &claim[..]), Err(ProtocolError::TooLong(n)) if n == MAX_MESSAGE + 1)
        );
        assert!(matches!(read_frame(&mut &[0xff; 4][..]), Err(ProtocolError::TooLong(u32::MAX))));
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
