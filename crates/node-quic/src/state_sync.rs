//! Starting a fresh node from a peer's finalized state instead of from genesis (JAMNP-S CE 129).
//!
//! 1. Dial a bootnode, exchange UP 0 handshakes: the peer's names its finalized block `F`.
//! 2. CE 128 ascending from `F`, one block: `F`'s child `C` on the peer's best chain. Its header's
//!    parent state root is `F`'s posterior state root (GP 0.7.2 §5: `H_r` is the parent's state root).
//! 3. CE 129 for `F`'s state, page by page (every key from `00…` to `ff…`), until a page comes back
//!    empty or ends at the last key.
//! 4. The pairs' trie root must equal `C`'s parent state root, and `C.parent` must be `F`.
//!
//! What is trusted: the bootnode's word that `F` is final (like a checkpoint; no GRANDPA
//! justification is checked here). What is checked: that the state is `F`'s, through the child
//! header's commitment — not the child's seal (the node checks it when it imports `C`). Boundary nodes
//! are not used: the whole state is fetched, so the root is recomputed from every pair.

use std::net::SocketAddr;
use std::time::Duration;

use orrery_codec::Encode;
use orrery_import::ChainState;
use orrery_network::message::{
    decode_blocks, decode_boundary_nodes, decode_key_values, BlockRef, BlockRequest, Direction, Handshake,
    KeyValue, StateKey, StateRequest,
};
use orrery_network::{Alpn, Endpoint, Identity, StreamKind};
use orrery_node::PeerId;
use orrery_types::{ChainSpec, HeaderHash};

/// The most bytes of pairs asked for in one CE 129 request.
const PAGE: u32 = 1024 * 1024;
/// The most pages fetched (a 1 GiB state); a peer that pages forever is cut off.
const MAX_PAGES: usize = 1024;
/// Time for each step.
const STEP: Duration = Duration::from_secs(20);

/// Why a state could not be fetched from a peer.
#[derive(Debug, thiserror::Error)]
pub enum StateSyncError {
    #[error("network: {0}")]
    Network(#[from] orrery_network::NetworkError),
    #[error("stream: {0}")]
    Frame(#[from] orrery_network::FrameError),
    #[error("the peer's {0} does not decode: {1}")]
    Decode(&'static str, String),
    #[error("the peer closed the stream before {0}")]
    Closed(&'static str),
    #[error("{0} took longer than {STEP:?}")]
    TimedOut(&'static str),
    #[error("the peer has no block above its final block {0} yet")]
    NoChild(String),
    #[error("the peer's block above {0} does not name it as parent")]
    WrongParent(String),
    #[error("the state the peer sent has root {got}, the child header commits to {expected}")]
    WrongRoot { got: String, expected: String },
    #[error("the state does not deserialize: {0}")]
    State(String),
    #[error("the peer's final block is genesis: nothing to sync from a state")]
    AtGenesis,
    #[error("the peer returned no state for block {0}")]
    Unavailable(String),
    #[error("more than {MAX_PAGES} pages of state")]
    TooManyPages,
}

async fn step<T>(what: &'static str, f: impl std::future::Future<Output = T>) -> Result<T, StateSyncError> {
    tokio::time::timeout(STEP, f).await.map_err(|_| StateSyncError::TimedOut(what))
}

fn hex(hash: &[u8]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// One past `key`, or `None` after the last key.
fn successor(key: &StateKey) -> Option<StateKey> {
    let mut next = *key;
    for byte in next.iter_mut().rev() {
        if *byte == 0xff {
            *byte = 0;
        } else {
            *byte += 1;
            return Some(next);
        }
    }
    None
}

/// Fetches the finalized block's hash and state from `peer` at `addr`, checked as the module doc says.
/// `genesis` is our own final block, sent in our handshake.
pub async fn fetch_finalized_state(
    identity: Identity,
    alpn: Alpn,
    spec: &ChainSpec,
    genesis: BlockRef,
    bind: SocketAddr,
    peer: PeerId,
    addr: SocketAddr,
) -> Result<(HeaderHash, ChainState), StateSyncError> {
    let endpoint = Endpoint::bind(identity, crate::net::endpoint_config(alpn), bind)?;
    let result = fetch(&endpoint, spec, genesis, peer, addr).await;
    endpoint.close();
    result
}

async fn fetch(
    endpoint: &Endpoint,
    spec: &ChainSpec,
    genesis: BlockRef,
    peer: PeerId,
    addr: SocketAddr,
) -> Result<(HeaderHash, ChainState), StateSyncError> {
    let conn = endpoint.connect(addr, Some(peer)).await?;
    let mut up = step("opening UP 0", conn.open_stream(StreamKind::BLOCK_ANNOUNCEMENT)).await??;
    up.send(&Handshake { finalized: genesis, leaves: Vec::new() }.encode()).await?;
    let bytes =
        step("the handshake", up.recv_next()).await??.ok_or(StateSyncError::Closed("its handshake"))?;
    let handshake =
        Handshake::decode(&bytes).map_err(|e| StateSyncError::Decode("handshake", e.to_string()))?;
    let finalized = handshake.finalized;
    if finalized.hash == genesis.hash {
        return Err(StateSyncError::AtGenesis);
    }

    // The child: its header commits to the final block's posterior state.
    let mut stream = step("opening CE 128", conn.open_stream(StreamKind::BLOCK_REQUEST)).await??;
    let request =
        BlockRequest { hash: finalized.hash, direction: Direction::AscendingExclusive, max_blocks: 1 };
    stream.send(&request.encode()).await?;
    stream.finish();
    let bytes =
        step("the child block", stream.recv()).await??.ok_or(StateSyncError::Closed("the child block"))?;
    let blocks = decode_blocks(&bytes, spec.lengths(), 1)
        .map_err(|e| StateSyncError::Decode("block", e.to_string()))?;
    let child = blocks.first().ok_or_else(|| StateSyncError::NoChild(hex(&finalized.hash)))?;
    if child.header.parent != finalized.hash {
        return Err(StateSyncError::WrongParent(hex(&finalized.hash)));
    }
    let expected = child.header.parent_state_root;

    let mut pairs: Vec<KeyValue> = Vec::new();
    let mut start: StateKey = [0; 31];
    let mut complete = false;
    for _ in 0..MAX_PAGES {
        let mut stream = step("opening CE 129", conn.open_stream(StreamKind::STATE_REQUEST)).await??;
        let request = StateRequest { hash: finalized.hash, start, end: [0xff; 31], max_size: PAGE };
        stream.send(&request.encode()).await?;
        stream.finish();
        let nodes =
            step("boundary nodes", stream.recv()).await??.ok_or(StateSyncError::Closed("boundary nodes"))?;
        decode_boundary_nodes(&nodes).map_err(|e| StateSyncError::Decode("boundary nodes", e.to_string()))?;
        let raw = step("key/values", stream.recv()).await??.ok_or(StateSyncError::Closed("key/values"))?;
        let page =
            decode_key_values(&raw).map_err(|e| StateSyncError::Decode("key/values", e.to_string()))?;
        request
            .check_response(&page, nodes.len() + raw.len())
            .map_err(|e| StateSyncError::Decode("CE 129 response", e.to_string()))?;
        let Some(last) = page.last().map(|p| p.key) else {
            if pairs.is_empty() {
                // A state has pairs; none means the peer no longer (or never) had this block's
                // state, e.g. it finalized past it meanwhile.
                return Err(StateSyncError::Unavailable(hex(&finalized.hash)));
            }
            complete = true;
            break;
        };
        pairs.extend(page);
        match successor(&last) {
            Some(next) => start = next,
            None => {
                complete = true;
                break;
            }
        }
    }
    if !complete {
        return Err(StateSyncError::TooManyPages);
    }
    let state = ChainState::from_pairs(spec, pairs.iter().map(|p| (&p.key, p.value.as_slice())))
        .map_err(|e| StateSyncError::State(e.to_string()))?;
    if state.root() != expected {
        return Err(StateSyncError::WrongRoot { got: hex(&state.root()), expected: hex(&expected) });
    }
    conn.close();
    Ok((finalized.hash, state))
}

#[cfg(test)]
mod tests {
    use super::successor;

    #[test]
    fn successor_carries_and_ends() {
        let mut key = [0u8; 31];
        key[30] = 0xff;
        let mut expected = [0u8; 31];
        expected[29] = 1;
        assert_eq!(successor(&key), Some(expected));
        assert_eq!(successor(&[0xff; 31]), None);
        assert_eq!(successor(&[0; 31]).map(|k| k[30]), Some(1));
    }
}
