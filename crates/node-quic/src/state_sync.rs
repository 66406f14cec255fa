//! Starting a fresh node from a peer's finalized state instead of from genesis (JAMNP-S CE 153 warp
//! sync, then CE 128 and CE 129).
//!
//! 1. Dial a bootnode, exchange UP 0 handshakes.
//! 2. CE 153 from the genesis's voter set: the peer's handover fragments and its latest
//!    justification, verified by `orrery_node::warp` (asked again from the set reached while the
//!    peer has more than one response holds). The final block `F` is the one the proof justifies,
//!    and the voter set reached is `F`'s epoch's `κ` with the next epoch's keys.
//! 3. CE 128 ascending from `F`, one block: `F`'s child `C` on the peer's best chain. Its header's
//!    parent state root is `F`'s posterior state root (GP 0.7.2 §5: `H_r` is the parent's state root).
//! 4. CE 129 for `F`'s state, page by page (every key from `00…` to `ff…`), until a page comes back
//!    empty or ends at the last key.
//! 5. The pairs' trie root must equal `C`'s parent state root, `C.parent` must be `F`, and the
//!    state's `κ` and `γ_P` must be the sets the proof reached.
//!
//! What is proven: that `F` is final (GRANDPA justifications from the genesis's validators on), and
//! who validates in its epoch and the next. What is checked but not proven: that the state is `F`'s,
//! through the child header's commitment, whose seal the node checks when it imports `C` (votes do
//! not carry a posterior state root; see `orrery_node::warp`). Boundary nodes are not used: the
//! whole state is fetched, so the root is recomputed from every pair.

use std::net::SocketAddr;
use std::time::Duration;

use orrery_codec::Encode;
use orrery_import::ChainState;
use orrery_network::message::{
    decode_blocks, decode_boundary_nodes, decode_key_values, BlockRef, BlockRequest, Direction, Handshake,
    KeyValue, StateKey, StateRequest,
};
use orrery_network::{Alpn, Endpoint, Identity, StreamKind};
use orrery_node::warp::{self, Fragment, TrustedSet, WarpError, WarpProof};
use orrery_node::PeerId;
use orrery_types::{ChainSpec, HeaderHash};

/// The most bytes of pairs asked for in one CE 129 request.
const PAGE: u32 = 1024 * 1024;
/// The most pages fetched (a 1 GiB state); a peer that pages forever is cut off.
const MAX_PAGES: usize = 1024;
/// Time for each step.
const STEP: Duration = Duration::from_secs(20);
/// The most CE 153 requests in one sync (each answers up to 64 voter-set handovers).
const MAX_WARP_REQUESTS: usize = 1024;

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
    #[error("the warp proof: {0}")]
    Warp(#[from] WarpError),
    #[error("the peer's warp proof stops at voter set {0} without a justified final block")]
    WarpIncomplete(u32),
    #[error("the state's {0} is not the validator set the warp proof reached")]
    WrongValidators(&'static str),
}

/// A fresh node's start: the final block, its state, and the handover fragments that proved it
/// final (the node keeps them, to serve warp proofs in its turn).
#[derive(Debug)]
pub struct Synced {
    pub hash: HeaderHash,
    pub state: ChainState,
    pub handovers: Vec<(u32, Fragment)>,
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

/// Fetches the finalized block's hash and state from the peer at its address, checked as the module doc says.
/// `genesis` is our own final block, sent in our handshake; `trusted` the genesis's voter set.
pub async fn fetch_finalized_state(
    identity: Identity,
    alpn: Alpn,
    spec: &ChainSpec,
    genesis: BlockRef,
    trusted: TrustedSet,
    bind: SocketAddr,
    (peer, addr): (PeerId, SocketAddr),
) -> Result<Synced, StateSyncError> {
    let endpoint = Endpoint::bind(identity, crate::net::endpoint_config(alpn), bind)?;
    let result = fetch(&endpoint, spec, genesis, trusted, peer, addr).await;
    endpoint.close();
    result
}

/// CE 153 until the peer's proof ends at a justified final block.
async fn warp_to_final(
    conn: &orrery_network::Connection,
    spec: &ChainSpec,
    mut trusted: TrustedSet,
) -> Result<(TrustedSet, BlockRef, Vec<(u32, Fragment)>), StateSyncError> {
    let mut kept = Vec::new();
    for _ in 0..MAX_WARP_REQUESTS {
        let mut stream = step("opening CE 153", conn.open_stream(StreamKind(warp::CE_WARP))).await??;
        stream.send(&trusted.set_id.to_le_bytes()).await?;
        stream.finish();
        let bytes =
            step("the warp proof", stream.recv()).await??.ok_or(StateSyncError::Closed("the warp proof"))?;
        let proof = WarpProof::from_bytes(&bytes, spec.lengths())?;
        for fragment in &proof.handovers {
            let next = warp::verify_handover(&trusted, fragment, spec.epoch_length)?;
            kept.push((trusted.set_id, fragment.clone()));
            trusted = next;
        }
        if let Some(latest) = &proof.latest {
            let target = warp::verify_latest(&trusted, latest)?;
            return Ok((trusted, BlockRef { hash: target.hash, slot: target.slot }, kept));
        }
        if proof.handovers.is_empty() {
            return Err(StateSyncError::WarpIncomplete(trusted.set_id));
        }
    }
    Err(StateSyncError::WarpIncomplete(trusted.set_id))
}

async fn fetch(
    endpoint: &Endpoint,
    spec: &ChainSpec,
    genesis: BlockRef,
    trusted: TrustedSet,
    peer: PeerId,
    addr: SocketAddr,
) -> Result<Synced, StateSyncError> {
    let conn = endpoint.connect(addr, Some(peer)).await?;
    let mut up = step("opening UP 0", conn.open_stream(StreamKind::BLOCK_ANNOUNCEMENT)).await??;
    up.send(&Handshake { finalized: genesis, leaves: Vec::new() }.encode()).await?;
    let bytes =
        step("the handshake", up.recv_next()).await??.ok_or(StateSyncError::Closed("its handshake"))?;
    let handshake =
        Handshake::decode(&bytes).map_err(|e| StateSyncError::Decode("handshake", e.to_string()))?;
    if handshake.finalized.hash == genesis.hash {
        return Err(StateSyncError::AtGenesis);
    }
    let (set, finalized, handovers) = warp_to_final(&conn, spec, trusted).await?;
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
    let s = state.state();
    if !s.active_validators.iter().map(|v| v.ed25519).eq(set.keys.iter().copied()) {
        return Err(StateSyncError::WrongValidators("κ"));
    }
    if !s.safrole.pending_validators.iter().map(|v| v.ed25519).eq(set.next.iter().copied()) {
        return Err(StateSyncError::WrongValidators("γ_P"));
    }
    conn.close();
    Ok(Synced { hash: finalized.hash, state, handovers })
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
