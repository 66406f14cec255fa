//! The bytes of GRANDPA's messages on their JAMNP-S streams (jam-np PR #6's CE 149–151), each
//! the content of one frame. See the crate doc for the layout and where it departs from PR #6.

use orrery_codec::{Decoder, Error as CodecError};

use crate::{CatchUp, Commit, Message, Neighbour, SignedVote, Target, VoteKind, VoterIndex};
use orrery_types::Ed25519Signature;

/// CE 149: one signed vote.
pub const CE_VOTE: u8 = 149;
/// CE 150: a round's commit.
pub const CE_COMMIT: u8 = 150;
/// CE 151: a neighbour's state (round, set id, last final block).
pub const CE_STATE: u8 = 151;

/// CE 152: a completable round's votes, for a voter behind.
pub const CE_CATCH_UP: u8 = 152;

/// The most voters a set can have (`V` of the full chain).
pub const MAX_VOTERS: usize = 1023;
/// The most precommits a commit may carry: one per voter, two for an equivocator.
pub const MAX_COMMIT_PRECOMMITS: usize = 2 * MAX_VOTERS;

/// Why bytes are not a GRANDPA message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("stream kind {0} carries no GRANDPA message (CE 149-151 do)")]
    UnknownStream(u8),
    #[error("vote stage {0} is none of prevote (0), precommit (1), primary proposal (2)")]
    BadStage(u8),
    #[error("{0} votes in a commit or catch-up: more than the {MAX_COMMIT_PRECOMMITS} a set of {MAX_VOTERS} can sign")]
    TooManyPrecommits(u64),
    #[error(transparent)]
    Codec(#[from] CodecError),
}

pub(crate) fn stage(kind: VoteKind) -> u8 {
    match kind {
        VoteKind::Prevote => 0,
        VoteKind::Precommit => 1,
        VoteKind::PrimaryPropose => 2,
    }
}

fn kind(stage: u8) -> Result<VoteKind, WireError> {
    match stage {
        0 => Ok(VoteKind::Prevote),
        1 => Ok(VoteKind::Precommit),
        2 => Ok(VoteKind::PrimaryPropose),
        other => Err(WireError::BadStage(other)),
    }
}

fn put_target(out: &mut Vec<u8>, target: &Target) {
    out.extend_from_slice(&target.hash);
    out.extend_from_slice(&target.slot.to_le_bytes());
}

fn target(d: &mut Decoder<'_>) -> Result<Target, CodecError> {
    Ok(Target { hash: d.array()?, slot: d.u32()? })
}

type Vote = (Target, VoterIndex, Ed25519Signature);

/// Bytes of one vote inside a commit or catch-up: hash, slot, signature, voter index.
const VOTE_LEN: usize = 32 + 4 + 64 + 2;

fn put_votes(out: &mut Vec<u8>, votes: &[Vote]) {
    orrery_codec::natural::encode_to(votes.len() as u64, out);
    out.reserve(votes.len() * VOTE_LEN);
    for (t, voter, signature) in votes {
        put_target(out, t);
        out.extend_from_slice(signature);
        out.extend_from_slice(&voter.to_le_bytes());
    }
}

/// `len++[HeaderHash ++ Slot ++ Signature ++ VoterIndex]`, at most [`MAX_COMMIT_PRECOMMITS`], and
/// never allocating more than the input holds.
fn votes(d: &mut Decoder<'_>) -> Result<Vec<Vote>, WireError> {
    let count = d.natural()?;
    if count > MAX_COMMIT_PRECOMMITS as u64 {
        return Err(WireError::TooManyPrecommits(count));
    }
    let count = count as usize;
    if count * VOTE_LEN > d.remaining() {
        return Err(CodecError::UnexpectedEnd { needed: count * VOTE_LEN, remaining: d.remaining() }.into());
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let t = target(d)?;
        let signature = d.array()?;
        let voter = d.u16()?;
        out.push((t, voter, signature));
    }
    Ok(out)
}

/// A commit as CE 150 carries it, appended to `out` (it delimits itself, so it can be embedded:
/// the node's warp-sync fragments carry one).
pub fn put_commit(out: &mut Vec<u8>, c: &Commit) {
    out.extend_from_slice(&c.round.to_le_bytes());
    out.extend_from_slice(&c.set_id.to_le_bytes());
    put_target(out, &c.target);
    put_votes(out, &c.precommits);
}

/// A commit in CE 150's layout, read from `d` (at most [`MAX_COMMIT_PRECOMMITS`] precommits).
pub fn decode_commit(d: &mut Decoder<'_>) -> Result<Commit, WireError> {
    let round = d.u64()?;
    let set_id = d.u32()?;
    let commit_target = target(d)?;
    let precommits = votes(d)?;
    Ok(Commit { round, set_id, target: commit_target, precommits })
}

impl Message {
    /// The JAMNP-S stream kind that carries this message.
    pub fn stream_kind(&self) -> u8 {
        match self {
            Message::Vote(_) => CE_VOTE,
            Message::Commit(_) => CE_COMMIT,
            Message::State(_) => CE_STATE,
            Message::CatchUp(_) => CE_CATCH_UP,
        }
    }

    /// The message's bytes on its stream (without the u32 frame length).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Message::Vote(v) => {
                out.reserve(4 + 8 + 1 + 36 + 64 + 2);
                out.extend_from_slice(&v.round.to_le_bytes());
                out.extend_from_slice(&v.set_id.to_le_bytes());
                out.push(stage(v.kind));
                put_target(&mut out, &v.target);
                out.extend_from_slice(&v.signature);
                out.extend_from_slice(&v.voter.to_le_bytes());
            }
            Message::Commit(c) => put_commit(&mut out, c),
            Message::CatchUp(c) => {
                out.extend_from_slice(&c.round.to_le_bytes());
                out.extend_from_slice(&c.set_id.to_le_bytes());
                put_votes(&mut out, &c.prevotes);
                put_votes(&mut out, &c.precommits);
                put_target(&mut out, &c.base);
            }
            Message::State(n) => {
                out.extend_from_slice(&n.round.to_le_bytes());
                out.extend_from_slice(&n.set_id.to_le_bytes());
                put_target(&mut out, &n.finalized);
            }
        }
        out
    }

    /// Decodes the content of one frame of stream `kind`. Exact: trailing bytes are an error.
    pub fn from_bytes(kind: u8, bytes: &[u8]) -> Result<Message, WireError> {
        let mut d = Decoder::without_lengths(bytes);
        let message = match kind {
            CE_VOTE => {
                let round = d.u64()?;
                let set_id = d.u32()?;
                let kind = self::kind(d.u8()?)?;
                let target = target(&mut d)?;
                let signature = d.array()?;
                let voter = d.u16()?;
                Message::Vote(SignedVote { round, set_id, kind, target, voter, signature })
            }
            CE_COMMIT => Message::Commit(decode_commit(&mut d)?),
            CE_STATE => {
                let round = d.u64()?;
                let set_id = d.u32()?;
                let finalized = target(&mut d)?;
                Message::State(Neighbour { round, set_id, finalized })
            }
            CE_CATCH_UP => {
                let round = d.u64()?;
                let set_id = d.u32()?;
                let prevotes = votes(&mut d)?;
                let precommits = votes(&mut d)?;
                let base = target(&mut d)?;
                Message::CatchUp(CatchUp { round, set_id, prevotes, precommits, base })
            }
            other => return Err(WireError::UnknownStream(other)),
        };
        d.finish()?;
        Ok(message)
    }
}

/// The bytes a voter signs for a vote: `"jam_grandpa_vote" ++ stage ++ hash ++ E4(slot) ++
/// E8(round) ++ E4(set_id)`.
pub fn signed_payload(kind: VoteKind, target: &Target, round: u64, set_id: u32) -> [u8; 65] {
    let mut out = [0u8; 65];
    out[..16].copy_from_slice(SIGNING_CONTEXT);
    out[16] = stage(kind);
    out[17..49].copy_from_slice(&target.hash);
    out[49..53].copy_from_slice(&target.slot.to_le_bytes());
    out[53..61].copy_from_slice(&round.to_le_bytes());
    out[61..65].copy_from_slice(&set_id.to_le_bytes());
    out
}

/// The context string of a vote signature.
pub const SIGNING_CONTEXT: &[u8; 16] = b"jam_grandpa_vote";
