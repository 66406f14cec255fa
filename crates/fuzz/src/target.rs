//! The target side: answers a fuzzer's requests by importing blocks.
//!
//! A [`Session`] keeps every block it imported by header hash with its posterior state, so a block
//! is imported on whichever state its parent names: the last block, or an earlier one for the
//! fuzzer's forks. States older than [`Session::RETAIN`] slots behind the newest are dropped, as
//! finality would prune them. A block that fails any rule gets an `Error` naming it, and the
//! session goes on; anything the protocol does not allow ends the session.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::Arc;

use orrery_import::formats::KeyValue;
use orrery_import::{header_hash, import_block, ChainState, ImportContext, ImportOptions};
use orrery_stf::reports::Ancestry;
use orrery_types::{Block, HeaderHash, StateRoot, TimeSlot};

use crate::protocol::{
    read_frame, write_frame, Initialize, Message, PeerInfo, ProtocolError, Version, FEATURE_ANCESTRY,
    FEATURE_FORKS,
};

/// What this target says of itself in the handshake.
pub fn our_peer_info() -> PeerInfo {
    PeerInfo {
        fuzz_version: 1,
        fuzz_features: FEATURE_ANCESTRY | FEATURE_FORKS,
        jam_version: Version { major: 0, minor: 7, patch: 2 },
        app_version: Version { major: 0, minor: 1, patch: 0 },
        app_name: "orrery".into(),
    }
}

/// Why a session ended other than by the fuzzer closing it.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("{0}")]
    Protocol(#[from] ProtocolError),
    #[error("expected {expected}, got {got}")]
    Unexpected { expected: &'static str, got: &'static str },
    #[error("the initial state is not a state: {0}")]
    BadState(String),
    #[error("no state is known for header {0}")]
    UnknownState(String),
}

struct Entry {
    state: ChainState,
    slot: TimeSlot,
    parent: HeaderHash,
}

/// The headers before a block: the fuzzer's initial ancestry and the chain imported since.
struct Ancestors(Vec<(HeaderHash, TimeSlot)>);

impl Ancestry for Ancestors {
    fn contains(&self, header: &HeaderHash, slot: TimeSlot) -> bool {
        self.0.iter().any(|(h, s)| h == header && *s == slot)
    }
}

/// One fuzzer session's chain.
pub struct Session {
    ctx: Arc<ImportContext>,
    features: u32,
    blocks: HashMap<HeaderHash, Entry>,
    /// The ancestry the fuzzer gave with `Initialize` (only with `feature-ancestry`).
    initial_ancestry: Vec<(HeaderHash, TimeSlot)>,
    newest_slot: TimeSlot,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("features", &self.features).field("blocks", &self.blocks.len()).finish()
    }
}

impl Session {
    /// Blocks whose slot is this far behind the newest are forgotten.
    pub const RETAIN: TimeSlot = 64;

    pub fn new(ctx: Arc<ImportContext>) -> Self {
        Self { ctx, features: 0, blocks: HashMap::new(), initial_ancestry: Vec::new(), newest_slot: 0 }
    }

    /// The answer to one request, or the reason the session must end.
    pub fn handle(&mut self, request: Message) -> Result<Message, SessionError> {
        match request {
            Message::PeerInfo(peer) => {
                let ours = our_peer_info();
                self.features = peer.fuzz_features & ours.fuzz_features;
                Ok(Message::PeerInfo(ours))
            }
            Message::Initialize(init) => self.initialize(*init),
            Message::ImportBlock(block) => Ok(self.import(&block)),
            Message::GetState(hash) => {
                let entry = self.blocks.get(&hash).ok_or_else(|| SessionError::UnknownState(hex(&hash)))?;
                let keyvals =
                    entry.state.pairs().map(|(key, value)| KeyValue { key: *key, value: value.to_vec() }).collect();
                Ok(Message::State(keyvals))
            }
            other => Err(SessionError::Unexpected { expected: "a request", got: other.kind() }),
        }
    }

    fn initialize(&mut self, init: Initialize) -> Result<Message, SessionError> {
        let pairs = init.keyvals.iter().map(|kv| (&kv.key, kv.value.as_slice()));
        // The state is taken as given, whatever the header says (fuzz-proto README).
        let state = ChainState::from_pairs(&self.ctx.spec, pairs).map_err(|e| SessionError::BadState(e.to_string()))?;
        let root = state.root();
        let hash = header_hash(&init.header);
        self.blocks.clear();
        self.newest_slot = init.header.slot;
        self.initial_ancestry = if self.features & FEATURE_ANCESTRY != 0 {
            init.ancestry.iter().map(|a| (a.header_hash, a.slot)).collect()
        } else {
            Vec::new()
        };
        self.blocks.insert(hash, Entry { state, slot: init.header.slot, parent: init.header.parent });
        Ok(Message::StateRoot(root))
    }

    /// The posterior root, or an `Error` naming the rule the block broke.
    fn import(&mut self, block: &Block) -> Message {
        let header = &block.header;
        let Some(parent) = self.blocks.get(&header.parent) else {
            return Message::Error(format!("unknown parent {}", hex(&header.parent)));
        };
        let ancestry = (self.features & FEATURE_ANCESTRY != 0).then(|| self.ancestors(header.parent, header.slot));
        let options = ImportOptions { ancestry: ancestry.as_ref().map(|a| a as _), now: None };
        match import_block(&self.ctx, &parent.state, block, &options) {
            Ok(imported) => {
                let root: StateRoot = imported.state.root();
                self.blocks.insert(
                    imported.header_hash,
                    Entry { state: imported.state, slot: header.slot, parent: header.parent },
                );
                self.newest_slot = self.newest_slot.max(header.slot);
                let oldest = self.newest_slot.saturating_sub(Self::RETAIN);
                self.blocks.retain(|_, e| e.slot >= oldest);
                Message::StateRoot(root)
            }
            Err(e) => Message::Error(format!("block import failure: {e}")),
        }
    }

    /// The ancestors of a block whose parent is `parent`: back along the imported chain, then the
    /// fuzzer's initial ancestry, no older than `L` slots.
    fn ancestors(&self, parent: HeaderHash, slot: TimeSlot) -> Ancestors {
        let oldest = slot.saturating_sub(self.ctx.spec.max_lookup_anchor_age);
        let mut out = Vec::new();
        let mut at = parent;
        while let Some(entry) = self.blocks.get(&at) {
            if out.len() > self.blocks.len() {
                break;
            }
            out.push((at, entry.slot));
            at = entry.parent;
        }
        out.extend(self.initial_ancestry.iter().copied());
        out.retain(|(_, s)| *s >= oldest);
        Ancestors(out)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Serves one connection until the fuzzer closes it: the handshake first, then requests.
pub fn serve(ctx: Arc<ImportContext>, stream: &mut (impl Read + Write)) -> Result<(), SessionError> {
    let mut session = Session::new(ctx.clone());
    let mut first = true;
    while let Some(bytes) = read_frame(stream)? {
        let request = Message::decode(&ctx.spec, &bytes)?;
        if first && !matches!(request, Message::PeerInfo(_)) {
            return Err(SessionError::Unexpected { expected: "peer_info", got: request.kind() });
        }
        first = false;
        let response = session.handle(request)?;
        write_frame(stream, &response.encode())?;
    }
    Ok(())
}

/// Listens on a Unix socket at `path` and serves fuzzers one after another, forever. A stale
/// socket file is replaced.
pub fn listen(ctx: Arc<ImportContext>, path: &Path, mut log: impl FnMut(&str)) -> std::io::Result<()> {
    if path.exists() {
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    log(&format!("listening on {}", path.display()));
    for stream in listener.incoming() {
        let mut stream = stream?;
        log("fuzzer connected");
        match serve(ctx.clone(), &mut stream) {
            Ok(()) => log("session closed by the fuzzer"),
            Err(e) => log(&format!("session ended: {e}")),
        }
    }
    Ok(())
}
