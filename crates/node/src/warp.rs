//! Warp sync (CE 153): proving to a node that knows only the genesis which block is final now,
//! with one GRANDPA justification per voter-set change instead of every block.
//!
//! jam-np PR #6 names CE 153 "warp sync" and jamduna carries a `Header ++ Justification` per set,
//! but no layout is standard; this is Orrery's, and its rule for who the next set is comes from
//! GP 0.7.2 itself rather than from anything sent beside the headers.
//!
//! # Why the headers are enough
//!
//! Orrery's voter set for epoch `e` is the Ed25519 keys of `κ` in that epoch, and a node hands over
//! to a newer set when finality enters a newer epoch (see the crate doc). At an epoch change GP
//! 0.7.2 eq. 6.13 makes `κ' = γ_P` and eq. 6.27 writes the new `γ'_P`'s keys into the header's
//! epoch marker `H_e`. So, along a chain, the validators of the epoch that epoch-change block `B_i`
//! opens are those of the marker of `B_{i-1}` (the genesis state's `γ_P` for the first), and the
//! marker keys are exactly what becomes `κ` (eq. 6.14's `Φ` already nulled the offenders).
//!
//! A *handover fragment* is the first block `M` of the epoch finality entered (an epoch-change
//! block, on the final chain) with the commit of the set that finalized it: that commit's
//! precommits are for the block the set finalized or its descendants, all descendants of `M`, so
//! with the headers linking them down to `M` it justifies `M` too. The verifier keeps the set it
//! trusts (`κ` keys, the keys of the last marker it has seen, the last handover block) and moves
//! on by each fragment:
//! - the commit is by the set it trusts, valid for `M` with the fragment's headers as the tree;
//! - `M` carries an epoch marker and lies in a later epoch than the set's;
//! - the new set is `M`'s epoch with the last marker's keys, unless `M` is more than one epoch on
//!   (finality stalled past a whole epoch, or epochs without blocks): then the fragment must carry
//!   the chain from `M` back to the last handover block, and the newest epoch-change block on it
//!   before `M`, if any, names the keys. One epoch on, no block can lie between: `M` is the first
//!   of its epoch and the last handover block the first of the one before.
//!
//! The proof ends with the *latest* fragment: the peer's final block and the commit that finalized
//! it, by the trusted set (or by the one before the last handover, when that handover was the
//! latest finalization).
//!
//! # Wire (CE 153)
//!
//! - Request: `SetId u32` (little-endian), the set the requester trusts.
//! - Response: `len++[Fragment]` (handovers, oldest first, from that set's, at most
//!   [`MAX_FRAGMENTS`]) `++ Option<Fragment>` (the latest; absent when the handovers stop before
//!   the peer's current set), where `Fragment = Header ++ Commit (CE 150's layout) ++
//!   len++[Header]` (at most [`MAX_ANCESTRY`] headers).
//!
//! What is not proven: the final block's posterior state. Votes are on `(hash, slot)` (see
//! `orrery-grandpa`'s departures), so the state a node then fetches is checked against its child's
//! header and against the validator sets proven here; the child and everything after are imported
//! and finalized as usual.

use std::collections::{HashMap, HashSet};

use orrery_codec::{Decode, Decoder, Encode, Lengths};
use orrery_grandpa::{verify_commit, BlockTree, Commit, CommitCheck, Target, VoterSet};
use orrery_import::header_hash;
use orrery_types::{Ed25519Public, Header, HeaderHash, TimeSlot};

/// Stream kind (jam-np PR #6's number).
pub const CE_WARP: u8 = 153;
/// The most handover fragments in one response: the requester asks again from where it got to.
pub const MAX_FRAGMENTS: usize = 64;
/// The most headers beside a fragment's block: a full epoch (600 slots) and a finality lag.
pub const MAX_ANCESTRY: usize = 1024;

/// A block and the commit that justifies it, with the headers linking the commit's precommits
/// (and, after a stall, the previous handover block) to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    pub header: Header,
    pub justification: Commit,
    pub ancestry: Vec<Header>,
}

/// A CE 153 response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WarpProof {
    pub handovers: Vec<Fragment>,
    pub latest: Option<Fragment>,
}

/// The voter set a verifier trusts, and what it needs to trust the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedSet {
    pub set_id: u32,
    /// `κ`'s Ed25519 keys in the set's epoch.
    pub keys: Vec<Ed25519Public>,
    /// The Ed25519 keys of the latest epoch marker (`γ_P` there): the next set's.
    pub next: Vec<Ed25519Public>,
    /// The block the set began at: its epoch's first block, or the genesis.
    pub since: HeaderHash,
    /// The set before the last handover, which may have signed the latest commit.
    pub previous: Option<VoterSet>,
}

impl TrustedSet {
    /// The genesis's set: the genesis state's `κ` and `γ_P`, in the genesis slot's epoch.
    pub fn genesis(
        genesis: HeaderHash,
        genesis_slot: TimeSlot,
        epoch_length: u32,
        state: &orrery_state::State,
    ) -> Self {
        Self {
            set_id: genesis_slot / epoch_length.max(1),
            keys: state.active_validators.iter().map(|v| v.ed25519).collect(),
            next: state.safrole.pending_validators.iter().map(|v| v.ed25519).collect(),
            since: genesis,
            previous: None,
        }
    }

    fn voters(&self) -> VoterSet {
        VoterSet { set_id: self.set_id, keys: self.keys.clone() }
    }
}

/// Why a warp proof is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WarpError {
    #[error("the proof does not decode: {0}")]
    Decode(String),
    #[error("{0} handover fragments: at most {MAX_FRAGMENTS}")]
    TooManyFragments(u64),
    #[error("{0} headers beside a fragment: at most {MAX_ANCESTRY}")]
    TooManyHeaders(u64),
    #[error("the commit is by set {got}; the trusted set is {trusted}")]
    WrongSet { got: u32, trusted: u32 },
    #[error("the commit's target is not the fragment's block")]
    WrongTarget,
    #[error("the commit does not justify the block: {0}")]
    Unjustified(String),
    #[error("the handover block at slot {0} carries no epoch marker (GP 0.7.2 eq. 6.27): it opens no epoch")]
    NoEpochMarker(TimeSlot),
    #[error("the handover block's epoch {got} is not after the trusted set's {trusted}")]
    NotLater { got: u32, trusted: u32 },
    #[error("the block skips past epoch {0}'s successor and the fragment lacks the chain back to the set's first block")]
    MissingChain(u32),
    #[error("the proof names no final block")]
    Empty,
}

/// The fragment's headers by hash, each hashed once: the block tree [`verify_commit`] walks, and
/// the chain a skipping handover is followed down.
struct Headers<'a> {
    by_hash: HashMap<HeaderHash, &'a Header>,
}

impl<'a> Headers<'a> {
    fn new(fragment: &'a Fragment) -> (Self, HeaderHash) {
        let top = header_hash(&fragment.header);
        let mut by_hash = HashMap::with_capacity(fragment.ancestry.len() + 1);
        by_hash.insert(top, &fragment.header);
        for header in &fragment.ancestry {
            by_hash.insert(header_hash(header), header);
        }
        (Self { by_hash }, top)
    }
}

impl BlockTree for Headers<'_> {
    fn slot(&self, hash: &HeaderHash) -> Option<TimeSlot> {
        self.by_hash.get(hash).map(|h| h.slot)
    }

    fn parent(&self, hash: &HeaderHash) -> Option<HeaderHash> {
        self.by_hash.get(hash).map(|h| h.parent)
    }

    fn best_containing(&self, _base: &HeaderHash) -> Option<Target> {
        None
    }
}

fn marker_keys(header: &Header) -> Option<Vec<Ed25519Public>> {
    header.epoch_mark.as_ref().map(|m| m.validators.iter().map(|v| v.ed25519).collect())
}

/// Checks the commit of `fragment` for `set`, with the fragment's headers as the tree.
fn justified<'a>(fragment: &'a Fragment, set: &VoterSet) -> Result<(Headers<'a>, HeaderHash), WarpError> {
    if fragment.justification.set_id != set.set_id {
        return Err(WarpError::WrongSet { got: fragment.justification.set_id, trusted: set.set_id });
    }
    let (tree, top) = Headers::new(fragment);
    if fragment.justification.target != (Target { hash: top, slot: fragment.header.slot }) {
        return Err(WarpError::WrongTarget);
    }
    match verify_commit(&fragment.justification, set, &tree) {
        Ok(CommitCheck::Valid) => Ok((tree, top)),
        Ok(CommitCheck::Unknown) => {
            Err(WarpError::Unjustified("too few precommits reach the block through the headers given".into()))
        }
        Err(reason) => Err(WarpError::Unjustified(reason)),
    }
}

/// The set trusted after the handover `fragment` (see the module doc for the rule).
pub fn verify_handover(
    set: &TrustedSet,
    fragment: &Fragment,
    epoch_length: u32,
) -> Result<TrustedSet, WarpError> {
    let epoch_length = epoch_length.max(1);
    let (headers, top) = justified(fragment, &set.voters())?;
    let header = &fragment.header;
    let next = marker_keys(header).ok_or(WarpError::NoEpochMarker(header.slot))?;
    let epoch = header.slot / epoch_length;
    if epoch <= set.set_id {
        return Err(WarpError::NotLater { got: epoch, trusted: set.set_id });
    }
    let keys = if epoch == set.set_id + 1 {
        set.next.clone()
    } else {
        // Walk down to the set's first block; the newest marker on the way names `κ` here.
        let mut newest_marker: Option<Vec<Ed25519Public>> = None;
        let mut at = header.parent;
        let mut steps = 0;
        while at != set.since {
            let h = headers.by_hash.get(&at).ok_or(WarpError::MissingChain(set.set_id))?;
            if newest_marker.is_none() {
                newest_marker = marker_keys(h);
            }
            at = h.parent;
            steps += 1;
            if steps > MAX_ANCESTRY {
                return Err(WarpError::MissingChain(set.set_id));
            }
        }
        newest_marker.unwrap_or_else(|| set.next.clone())
    };
    Ok(TrustedSet { set_id: epoch, keys, next, since: top, previous: Some(set.voters()) })
}

/// The final block the latest fragment proves: justified by `set`, or by the set before its last
/// handover.
pub fn verify_latest(set: &TrustedSet, fragment: &Fragment) -> Result<Target, WarpError> {
    let by_current = justified(fragment, &set.voters());
    let result = match (by_current, &set.previous) {
        (Err(WarpError::WrongSet { .. }), Some(previous))
            if fragment.justification.set_id == previous.set_id =>
        {
            justified(fragment, previous)
        }
        (other, _) => other,
    };
    let (_, top) = result?;
    Ok(Target { hash: top, slot: fragment.header.slot })
}

/// Applies a whole response: every handover in turn, then the latest fragment if there is one.
/// Returns the set reached and, when the proof had its latest fragment, the final block.
pub fn verify(
    set: TrustedSet,
    proof: &WarpProof,
    epoch_length: u32,
) -> Result<(TrustedSet, Option<Target>), WarpError> {
    let mut set = set;
    for fragment in &proof.handovers {
        set = verify_handover(&set, fragment, epoch_length)?;
    }
    let finalized = proof.latest.as_ref().map(|f| verify_latest(&set, f)).transpose()?;
    Ok((set, finalized))
}

fn put_fragment(out: &mut Vec<u8>, f: &Fragment) {
    f.header.encode_to(out);
    orrery_grandpa::wire::put_commit(out, &f.justification);
    orrery_codec::natural::encode_to(f.ancestry.len() as u64, out);
    for header in &f.ancestry {
        header.encode_to(out);
    }
}

fn fragment(d: &mut Decoder<'_>) -> Result<Fragment, WarpError> {
    let decode = |e: orrery_codec::Error| WarpError::Decode(e.to_string());
    let header = Header::decode(d).map_err(decode)?;
    let justification =
        orrery_grandpa::wire::decode_commit(d).map_err(|e| WarpError::Decode(e.to_string()))?;
    let count = d.natural().map_err(decode)?;
    if count > MAX_ANCESTRY as u64 {
        return Err(WarpError::TooManyHeaders(count));
    }
    // Every header takes more than 100 octets: a count the input cannot hold is refused before
    // anything is allocated for it.
    if count as usize > d.remaining() / 100 {
        return Err(WarpError::Decode(format!("{count} headers in {} octets", d.remaining())));
    }
    let mut ancestry = Vec::with_capacity(count as usize);
    for _ in 0..count {
        ancestry.push(Header::decode(d).map_err(decode)?);
    }
    Ok(Fragment { header, justification, ancestry })
}

impl Fragment {
    /// The fragment's bytes, as a response carries them (and the store keeps them).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_fragment(&mut out, self);
        out
    }

    /// One fragment, exactly (trailing bytes are an error).
    pub fn from_bytes(bytes: &[u8], lengths: Lengths) -> Result<Self, WarpError> {
        let mut d = Decoder::new(bytes, lengths);
        let f = fragment(&mut d)?;
        d.finish().map_err(|e| WarpError::Decode(e.to_string()))?;
        Ok(f)
    }
}

impl WarpProof {
    /// The response's bytes (one CE 153 frame).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        orrery_codec::natural::encode_to(self.handovers.len() as u64, &mut out);
        for f in &self.handovers {
            put_fragment(&mut out, f);
        }
        match &self.latest {
            None => out.push(0),
            Some(f) => {
                out.push(1);
                put_fragment(&mut out, f);
            }
        }
        out
    }

    /// Decodes one CE 153 response for a chain of `lengths`. Exact: trailing bytes are an error.
    pub fn from_bytes(bytes: &[u8], lengths: Lengths) -> Result<Self, WarpError> {
        let mut d = Decoder::new(bytes, lengths);
        let decode = |e: orrery_codec::Error| WarpError::Decode(e.to_string());
        let count = d.natural().map_err(decode)?;
        if count > MAX_FRAGMENTS as u64 {
            return Err(WarpError::TooManyFragments(count));
        }
        let mut handovers = Vec::with_capacity(count as usize);
        for _ in 0..count {
            handovers.push(fragment(&mut d)?);
        }
        let latest = match d.u8().map_err(decode)? {
            0 => None,
            1 => Some(fragment(&mut d)?),
            other => return Err(WarpError::Decode(format!("option tag {other}"))),
        };
        d.finish().map_err(decode)?;
        Ok(Self { handovers, latest })
    }
}

/// Builds the handover fragment for `commit`, which finalized a block of a later epoch than its set:
/// the target becomes the first block `M` of that epoch on the final chain, and the headers linking
/// the precommits to it (and, when `M` is more than one epoch after the set's, the chain back to
/// `since`) come from `header`. `None` when a header is missing or the chain is longer than a
/// fragment may carry.
pub fn handover_fragment(
    commit: &Commit,
    since: &HeaderHash,
    epoch_length: u32,
    header: impl Fn(&HeaderHash) -> Option<Header>,
) -> Option<Fragment> {
    let epoch_length = epoch_length.max(1);
    let epoch = commit.target.slot / epoch_length;
    let mut ancestry: Vec<Header> = Vec::new();
    let mut known: HashSet<HeaderHash> = HashSet::new();
    // Down from the finalized block to the first block of its epoch.
    let mut at = commit.target.hash;
    let mut top = header(&at)?;
    loop {
        let parent = header(&top.parent);
        match parent {
            Some(p) if p.slot / epoch_length == epoch && top.parent != *since => {
                known.insert(at);
                ancestry.push(top);
                at = ancestry.last()?.parent;
                top = p;
            }
            _ => break,
        }
        if ancestry.len() > MAX_ANCESTRY {
            return None;
        }
    }
    let first = top;
    first.epoch_mark.as_ref()?;
    let first_hash = at;
    known.insert(first_hash);
    if epoch > commit.set_id + 1 {
        let mut at = first.parent;
        while at != *since {
            let h = header(&at)?;
            known.insert(at);
            at = h.parent;
            ancestry.push(h);
            if ancestry.len() > MAX_ANCESTRY {
                return None;
            }
        }
    }
    link_precommits(commit, first.slot, &mut known, &mut ancestry, &header)?;
    let justification = Commit { target: Target { hash: first_hash, slot: first.slot }, ..commit.clone() };
    Some(Fragment { header: first, justification, ancestry })
}

/// The latest fragment: `commit`'s own target with the headers its precommits need.
pub fn latest_fragment(commit: &Commit, header: impl Fn(&HeaderHash) -> Option<Header>) -> Option<Fragment> {
    let top = header(&commit.target.hash)?;
    let mut known = HashSet::from([commit.target.hash]);
    let mut ancestry = Vec::new();
    link_precommits(commit, top.slot, &mut known, &mut ancestry, &header)?;
    Some(Fragment { header: top, justification: commit.clone(), ancestry })
}

/// Adds to `ancestry` the headers from each precommit's block down to a block already `known`
/// (all above slot `above`); a precommit whose chain does not reach one adds nothing (it does not
/// count for the target). `None` past [`MAX_ANCESTRY`] headers.
fn link_precommits(
    commit: &Commit,
    above: TimeSlot,
    known: &mut HashSet<HeaderHash>,
    ancestry: &mut Vec<Header>,
    header: &impl Fn(&HeaderHash) -> Option<Header>,
) -> Option<()> {
    for (target, _, _) in &commit.precommits {
        let mut chain = Vec::new();
        let mut at = target.hash;
        let linked = loop {
            if known.contains(&at) {
                break true;
            }
            match header(&at) {
                Some(h) if h.slot > above && chain.len() < MAX_ANCESTRY => {
                    let parent = h.parent;
                    chain.push((at, h));
                    at = parent;
                }
                _ => break false,
            }
        };
        if linked {
            for (hash, h) in chain {
                known.insert(hash);
                ancestry.push(h);
            }
        }
        if ancestry.len() > MAX_ANCESTRY {
            return None;
        }
    }
    Some(())
}
