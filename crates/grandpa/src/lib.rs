//! GRANDPA finality (GP 0.7.2 §19; the GRANDPA paper, Stewart & Kokoris-Kogia 2020) as a pure state
//! machine: time, messages and the block tree go in, messages to send and finalized blocks come out.
//! Nothing here opens a socket, reads a clock or spawns a task, so the node's simulator can run many
//! voters in one process and one seed replays the same run.
//!
//! SKELETON: the API below is the contract the node core (`orrery-node`) codes against; the bodies
//! are being written on the `grandpa` branch.

mod round;
mod voter;
pub mod wire;

pub use voter::Voter;
pub use wire::{signed_payload, WireError, CE_CATCH_UP, CE_COMMIT, CE_STATE, CE_VOTE, SIGNING_CONTEXT};

use orrery_types::{Ed25519Public, Ed25519Signature, HeaderHash, TimeSlot};

/// A voter's index in its [`VoterSet`].
pub type VoterIndex = u16;
/// Milliseconds on the caller's clock (the node uses milliseconds since the JAM common era).
pub type Millis = u64;

/// A block a vote is for: `Header Hash ++ Slot`, as jam-np PR #6 proposes. Along a chain slots
/// strictly increase, so the slot orders blocks the way GRANDPA's block numbers do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, orrery_codec::Encode, orrery_codec::Decode)]
pub struct Target {
    pub hash: HeaderHash,
    pub slot: TimeSlot,
}

/// The voters of one set: in Orrery, the Ed25519 keys of `κ` of the epoch the set is for, and
/// `set_id` is that epoch's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoterSet {
    pub set_id: u32,
    pub keys: Vec<Ed25519Public>,
}

/// What the voter needs to know of the block tree. The node answers from its store.
pub trait BlockTree {
    /// The slot of a known block.
    fn slot(&self, hash: &HeaderHash) -> Option<TimeSlot>;
    /// The blocks from `hash` (included) back to `base` (excluded), newest first; `None` when
    /// `hash` is not `base` or a known descendant of it. `Some(vec![])` when `hash == base`.
    fn ancestry(&self, base: &HeaderHash, hash: &HeaderHash) -> Option<Vec<HeaderHash>>;
    /// The head of the best chain (GP 0.7.2 §19's rule) that contains `base`, if any.
    fn best_containing(&self, base: &HeaderHash) -> Option<Target>;
}

/// Timing of rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The gossip bound `T` of the GRANDPA paper: a round prevotes after `2T` and precommits
    /// after `4T` unless the votes it waits for arrive earlier.
    pub gossip_ms: Millis,
}

/// GRANDPA messages (carried on CE 149–153, see the node's wire notes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A signed prevote, precommit or primary proposal (CE 149).
    Vote(SignedVote),
    /// A round's commit: a target and a supermajority of precommits justifying it (CE 150).
    Commit(Commit),
    /// A neighbour's state: its round, set and last final block (CE 151), for lag detection.
    State(Neighbour),
    /// A completable round's votes, for a voter that fell behind (CE 152).
    CatchUp(CatchUp),
}

/// A round's prevotes and precommits, enough to make it completable: a voter behind it applies
/// them and moves to the next round (the GRANDPA paper's catch-up, §4.1 of the 2020 text).
#[derive(Debug, Clone, PartialEq, Eq, orrery_codec::Encode, orrery_codec::Decode)]
pub struct CatchUp {
    pub round: u64,
    pub set_id: u32,
    pub prevotes: Vec<(Target, VoterIndex, Ed25519Signature)>,
    pub precommits: Vec<(Target, VoterIndex, Ed25519Signature)>,
    /// The sender's last final block (informative: the receiver counts from its own).
    pub base: Target,
}

/// What a voter tells its neighbours of itself (CE 151): a peer that sees it is behind answers with
/// its last commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, orrery_codec::Encode, orrery_codec::Decode)]
pub struct Neighbour {
    pub round: u64,
    pub set_id: u32,
    pub finalized: Target,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, orrery_codec::Encode, orrery_codec::Decode)]
pub enum VoteKind {
    Prevote,
    Precommit,
    PrimaryPropose,
}

#[derive(Debug, Clone, PartialEq, Eq, orrery_codec::Encode, orrery_codec::Decode)]
pub struct SignedVote {
    pub round: u64,
    pub set_id: u32,
    pub kind: VoteKind,
    pub target: Target,
    pub voter: VoterIndex,
    pub signature: Ed25519Signature,
}

#[derive(Debug, Clone, PartialEq, Eq, orrery_codec::Encode, orrery_codec::Decode)]
pub struct Commit {
    pub round: u64,
    pub set_id: u32,
    pub target: Target,
    /// Each precommit's target, voter and signature.
    pub precommits: Vec<(Target, VoterIndex, Ed25519Signature)>,
}

/// What goes into the voter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Time passed (call at least at [`Voter::next_wake`]).
    Tick,
    /// A block was imported (the best chain may have grown).
    BlockImported(HeaderHash),
    /// A message from a peer (`from` is its Ed25519 key when known).
    Message { from: Option<Ed25519Public>, message: Message },
}

/// What the voter asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send to every voter of the set.
    Broadcast(Message),
    /// A block became final, with the commit that proves it.
    Finalized { target: Target, justification: Commit },
    /// A peer sent a message that breaks a rule (bad signature, not a voter, wrong set, equivocation...).
    Misbehaviour { from: Option<Ed25519Public>, reason: String },
}
