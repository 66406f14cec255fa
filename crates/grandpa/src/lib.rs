//! GRANDPA finality (GP 0.7.2 §19; the GRANDPA paper, Stewart & Kokoris-Kogia 2020) as a pure state
//! machine: time, messages and the block tree go in, messages to send and finalized blocks come out.
//! Nothing here opens a socket, reads a clock or spawns a task, so the node's simulator can run many
//! voters in one process and one seed replays the same run.
//!
//! # What is here
//!
//! - [`Voter`]: one voter set's rounds (paper §3.3). Round `r` starts at `t_r`; the round's primary
//!   (voter `r mod V`) proposes `E_{r-1}` when it is beyond the final block; each voter prevotes at
//!   `t_r + 2T` (or once the round is completable) for the head of the best chain containing
//!   `E_{r-1}`, or containing the primary's block when that lies between `E_{r-1}` and the last
//!   round's prevote-GHOST; it precommits the prevote-GHOST `g(V_r)` once that is `E_{r-1}` or a
//!   descendant, at `t_r + 4T` or once the round is completable; it starts round `r+1` when round
//!   `r` is completable and it has precommitted (or after `8T`, so a voter that cannot precommit does
//!   not hold its own liveness hostage). `T` is [`Config::gossip_ms`]; time is only the `now` given.
//! - The paper's functions of a round (module `round`, §3.2): weights per block of the vote graph,
//!   GHOST with a supermajority threshold of `V - ⌊(V-1)/3⌋` (> 2/3: 5 of 6, 683 of 1023), the
//!   estimate `E_r` (highest block of `g(V_r)`'s chain that precommits could still give a
//!   supermajority), completability, and the precommit-GHOST `g(C_r)`, which is final once beyond
//!   the last final block. Any kept round (the current one and the two before) can finalize.
//! - Equivocation: a voter's second, different vote of one kind in one round is reported as
//!   [`Output::Misbehaviour`] naming its key, and from then on the voter counts for every block
//!   (the paper's rule for "S has a supermajority for B"), once.
//! - Commits: on finalizing, a voter broadcasts a [`Commit`]: the target and precommits for it or a
//!   descendant, enough for the threshold (non-equivocators first; an equivocator's two precommits).
//!   A valid commit (every signature, a supermajority for the target or descendants) finalizes its
//!   target at any voter or observer, and one for our round or later moves us past it (catch-up).
//! - Catch-up: each voter broadcasts its [`Neighbour`] state every `4T`, with its current round's
//!   votes again when that round is older than `4T` (lost messages must not stall a round). A voter
//!   that sees a neighbour behind answers with its last commit (if the neighbour's final block is
//!   older), its own previous-round votes (one round behind), or a [`CatchUp`]: the prevotes and
//!   precommits of its last completed round, which the receiver checks (signatures, completability)
//!   and continues from. An observer (`me = None`) follows commits only.
//! - Bounds: votes for blocks not yet imported wait (already verified) until
//!   [`Input::BlockImported`], at most `4V + 16` of them (8192 at most), oldest dropped; at most 4
//!   commits wait. Per round and kind a voter holds at most two votes. Rounds more than 2 behind are
//!   dropped, votes for the next round are kept, later ones are dropped (and make us ask for help),
//!   and a round more than 2^16 ahead is misbehaviour.
//! - Sets: a voter starts from any final block (`base`). Messages of older sets, and of the next set
//!   (the node switches when the new epoch's first block is final), are dropped without blame; a set
//!   id beyond the next is misbehaviour.
//! - [`wire`]: the bytes of CE 149-152, with bounded decoders.
//!
//! # Wire format (jam-np PR #6, as far as it goes)
//!
//! Integers little-endian, fixed width; `len++` is the GP natural-number length prefix.
//!
//! - CE 149 vote: `Round u64 ++ SetId u32 ++ Stage u8 (0 prevote, 1 precommit, 2 primary) ++
//!   HeaderHash ++ Slot u32 ++ Ed25519Signature ++ VoterIndex u16` (115 bytes).
//! - CE 150 commit: `Round ++ SetId ++ HeaderHash ++ Slot ++ len++[HeaderHash ++ Slot ++ Signature ++
//!   VoterIndex]` (the stage is implied: precommits), at most 2046 = 2 × 1023 entries.
//! - CE 151 state: `Round ++ SetId ++ FinalizedHash ++ FinalizedSlot`.
//! - CE 152 catch-up: `Round ++ SetId ++ len++[prevote] ++ len++[precommit] ++ BaseHash ++ BaseSlot`,
//!   each entry as in a commit. CE 153 (warp sync) is not here: it is the node's, from its store
//!   (`orrery_node::warp`, which checks each justification with [`verify_commit`]).
//! - Signed payload: `"jam_grandpa_vote" ++ Stage ++ HeaderHash ++ Slot ++ Round u64 ++ SetId u32`
//!   ([`signed_payload`]); so a vote cannot be replayed in another round, set or stage.
//!
//! Departures, and why:
//! - PR #6 puts the voter's Ed25519 key after the signature; we send the voter's index in the set
//!   instead: the receiver knows the set (it must, to weigh the vote), a key would only be looked up
//!   to find that index, and 30 bytes less per vote.
//! - Commits may list an equivocator twice (hence the 2 × 1023 cap): that is how a justification
//!   proves the voter counts for every block.
//! - GP §19 says the vote is on the header *with its posterior state root*. PR #6's `HeaderHash ++
//!   Slot` does not carry that root, and neither do we: the header commits to its parent's posterior
//!   root, not its own. What the GP asks for holds by the node's side of the contract instead: its
//!   [`BlockTree`] knows only blocks it has imported, which means executed, so `best_containing` and
//!   every vote we count are for blocks whose posterior state this node computed; a block whose
//!   execution disagrees with the author's is not imported and its votes wait, uncounted.
//! - Slots order blocks where the paper uses block numbers (along a chain both strictly increase).
//!
//! # What is not here
//!
//! GP §19's choice of the best chain (ticket-sealed ancestors, audits, equivocating blocks) is the
//! node's, behind [`BlockTree::best_containing`]. No authority-set handover logic: the node starts a
//! new `Voter` per epoch. No gossip relay or peer selection: [`Output::Broadcast`] goes to every
//! voter of the set. No persistence of votes across restarts: a voter restarted within a set begins
//! again at round 1 and is caught up by its neighbours, but if caught up into a round it had already
//! voted in before the restart it may vote there again, differently; persisting its last votes (or
//! not voting until past them) is the node's job.
//! No BEEFY (GP §18).

mod round;
mod voter;
pub mod wire;

pub use voter::{threshold, verify_commit, CommitCheck, Voter};
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
    /// The parent of a known block.
    fn parent(&self, hash: &HeaderHash) -> Option<HeaderHash>;
    /// The blocks from `hash` (included) back to `base` (excluded), newest first; `None` when
    /// `hash` is not `base` or a known descendant of it. `Some(vec![])` when `hash == base`. By
    /// default a walk down the parents, given up below `base`'s slot (slots rise along a chain).
    fn ancestry(&self, base: &HeaderHash, hash: &HeaderHash) -> Option<Vec<HeaderHash>> {
        let base_slot = self.slot(base)?;
        let mut out = Vec::new();
        let mut at = *hash;
        while at != *base {
            if self.slot(&at)? <= base_slot {
                return None;
            }
            out.push(at);
            at = self.parent(&at)?;
        }
        Some(out)
    }
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
