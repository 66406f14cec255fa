//! The voter: one set's rounds, driven by [`Input`]s (GRANDPA paper §3.3, "the protocol").

use std::collections::{BTreeMap, HashMap, VecDeque};

use orrery_crypto::{ed25519_verify, ed25519_verify_batch};
use orrery_types::Ed25519Public;

use crate::round::{Added, Round};
use crate::wire::{signed_payload, MAX_COMMIT_PRECOMMITS};
use crate::{
    BlockTree, CatchUp, Commit, Config, Input, Message, Millis, Neighbour, Output, SignedVote, Target,
    VoteKind, VoterIndex, VoterSet,
};

/// Rounds before the current one whose votes are still counted (late precommits may still finalize).
const KEEP_PAST: u64 = 2;
/// A vote for a round this far beyond ours is not a lagging peer's honest vote but an attack on our
/// memory or attention (rounds take at least `2T` each; 2^16 rounds is days of running).
const MAX_ROUND_LEAD: u64 = 1 << 16;
/// Commits waiting for their blocks.
const PENDING_COMMITS: usize = 4;
/// Votes waiting for their blocks, at most (and 4 per voter).
const PENDING_VOTES_MAX: usize = 8192;

/// The Ed25519 secret, kept out of `Debug`.
struct Secret(ed25519_zebra::SigningKey);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// A GRANDPA voter (or, without keys, an observer that follows commits).
#[derive(Debug)]
pub struct Voter {
    config: Config,
    set: VoterSet,
    threshold: u32,
    me: Option<(VoterIndex, Secret)>,
    finalized: Target,
    /// The commit that finalized `finalized` (none for the base we were given).
    last_commit: Option<Commit>,
    round: u64,
    round_start: Millis,
    rounds: BTreeMap<u64, Round>,
    /// `E_{r-1}` when round `r-1`'s own votes do not give it: the base, or a caught-up commit's target.
    prior_estimate: Target,
    /// Whether round `r-1` ended by completing here, so its live estimate is `E_{r-1}`.
    prior_live: bool,
    pending_votes: VecDeque<(Option<Ed25519Public>, SignedVote)>,
    pending_commits: VecDeque<(Option<Ed25519Public>, Commit)>,
    now: Millis,
    next_resend: Millis,
    /// When we last answered a lagging neighbour or asked for help, so that neither floods.
    last_help: Option<Millis>,
}

/// What [`verify_commit`] found of a commit whose signatures and voters are in order so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitCheck {
    /// It justifies its target: a supermajority precommitted the target or descendants of it.
    Valid,
    /// Some blocks the commit names are not known yet (the tree may learn them later).
    Unknown,
}

/// More than two thirds of `n` voters: `n - ⌊(n-1)/3⌋` (5 of 6, 683 of 1023). An empty set never
/// finalizes.
pub fn threshold(n: u32) -> u32 {
    if n == 0 {
        1
    } else {
        n - (n - 1) / 3
    }
}

/// Whether `commit` justifies its target for `set`: a supermajority of the set precommitted the
/// target or a descendant of it (as `tree` knows them), an equivocator (two different precommits)
/// counting for every block, and every signature verifies. The commit's `set_id` is not compared
/// with the set's: the caller chose the set by it. `Err` names the rule broken.
pub fn verify_commit(commit: &Commit, set: &VoterSet, tree: &dyn BlockTree) -> Result<CommitCheck, String> {
    let threshold = threshold(set.keys.len() as u32);
    if commit.precommits.len() > MAX_COMMIT_PRECOMMITS {
        return Err(format!("commit with {} precommits", commit.precommits.len()));
    }
    match tree.slot(&commit.target.hash) {
        None => return Ok(CommitCheck::Unknown),
        Some(slot) if slot != commit.target.slot => return Err("commit target's slot is wrong".into()),
        Some(_) => {}
    }
    let mut by_voter: HashMap<VoterIndex, Vec<&Target>> = HashMap::new();
    for (target, voter, _) in &commit.precommits {
        if usize::from(*voter) >= set.keys.len() {
            return Err(format!("commit precommit by {voter}, not in the set"));
        }
        let votes = by_voter.entry(*voter).or_default();
        if votes.contains(&target) || votes.len() >= 2 {
            return Err(format!("commit repeats voter {voter}"));
        }
        votes.push(target);
    }
    let (mut weight, mut unknown) = (0u32, 0u32);
    for votes in by_voter.values() {
        if votes.len() == 2 {
            weight += 1;
        } else if tree.slot(&votes[0].hash).is_none() {
            unknown += 1;
        } else if tree.ancestry(&commit.target.hash, &votes[0].hash).is_some() {
            weight += 1;
        }
    }
    if weight < threshold {
        return if weight + unknown >= threshold {
            Ok(CommitCheck::Unknown)
        } else {
            Err(format!("commit has {weight} precommits for its target, {threshold} needed"))
        };
    }
    let payloads: Vec<_> = commit
        .precommits
        .iter()
        .map(|(t, _, _)| signed_payload(VoteKind::Precommit, t, commit.round, commit.set_id))
        .collect();
    let items = commit
        .precommits
        .iter()
        .zip(&payloads)
        .map(|((_, voter, sig), payload)| (&set.keys[usize::from(*voter)], &payload[..], sig));
    ed25519_verify_batch(items)
        .map_err(|e| format!("commit precommit {}: signature does not verify", e.index))?;
    Ok(CommitCheck::Valid)
}

impl Voter {
    /// A voter for `set`, starting from the final block `base` at time `now`. `me` is our index in
    /// the set and our Ed25519 signing key's seed-derived secret, `None` for an observer.
    pub fn new(
        config: Config,
        set: VoterSet,
        base: Target,
        me: Option<(VoterIndex, [u8; 32])>,
        now: Millis,
    ) -> Self {
        let threshold = threshold(set.keys.len() as u32);
        let me = me
            .filter(|(i, _)| usize::from(*i) < set.keys.len())
            .map(|(i, secret)| (i, Secret(ed25519_zebra::SigningKey::from(secret))));
        let mut rounds = BTreeMap::new();
        rounds.insert(1, Round::new(base));
        Self {
            config,
            set,
            threshold,
            me,
            finalized: base,
            last_commit: None,
            round: 1,
            round_start: now,
            rounds,
            prior_estimate: base,
            prior_live: false,
            pending_votes: VecDeque::new(),
            pending_commits: VecDeque::new(),
            now,
            next_resend: now + 4 * config.gossip_ms.max(1),
            last_help: None,
        }
    }

    /// Handles one input at time `now`.
    pub fn handle(&mut self, now: Millis, input: Input, tree: &dyn BlockTree) -> Vec<Output> {
        self.now = self.now.max(now);
        let mut out = Vec::new();
        match input {
            Input::Tick => {
                if self.now >= self.next_resend {
                    self.resend(&mut out);
                    self.next_resend = self.now + self.resend_interval();
                }
            }
            Input::BlockImported(_) => self.retry_pending(tree, &mut out),
            Input::Message { from, message } => self.on_message(from, message, tree, &mut out, false),
        }
        self.progress(tree, &mut out);
        out
    }

    /// When the voter next wants a [`Input::Tick`].
    pub fn next_wake(&self) -> Millis {
        let t = self.config.gossip_ms;
        let mut wake = self.next_resend;
        if self.me.is_some() {
            if let Some(round) = self.rounds.get(&self.round) {
                let mut deadlines = vec![self.round_start + 8 * t];
                if round.our_prevote.is_none() {
                    deadlines.push(self.round_start + 2 * t);
                }
                if round.our_precommit.is_none() {
                    deadlines.push(self.round_start + 4 * t);
                }
                for d in deadlines {
                    if d > self.now {
                        wake = wake.min(d);
                    }
                }
            }
        }
        wake
    }

    /// The last final block.
    pub fn finalized(&self) -> Target {
        self.finalized
    }

    pub fn set_id(&self) -> u32 {
        self.set.set_id
    }

    /// The round this voter is in.
    pub fn round(&self) -> u64 {
        self.round
    }

    /// The commit that justifies [`Voter::finalized`], unless it is the base the voter began with.
    pub fn last_commit(&self) -> Option<&Commit> {
        self.last_commit.as_ref()
    }

    /// Votes and commits waiting for blocks not yet imported (both bounded).
    pub fn pending(&self) -> (usize, usize) {
        (self.pending_votes.len(), self.pending_commits.len())
    }

    /// The CE 151 message describing this voter.
    pub fn neighbour(&self) -> Neighbour {
        Neighbour { round: self.round, set_id: self.set.set_id, finalized: self.finalized }
    }

    fn resend_interval(&self) -> Millis {
        4 * self.config.gossip_ms.max(1)
    }

    fn n(&self) -> u32 {
        self.set.keys.len() as u32
    }

    fn key(&self, voter: VoterIndex) -> Option<&Ed25519Public> {
        self.set.keys.get(usize::from(voter))
    }

    /// The round's primary: rotating through the set (paper §3.3, "primary").
    fn primary(&self, round: u64) -> VoterIndex {
        (round % u64::from(self.n().max(1))) as VoterIndex
    }

    fn misbehaviour(out: &mut Vec<Output>, from: Option<Ed25519Public>, reason: String) {
        out.push(Output::Misbehaviour { from, reason });
    }

    /// Whether `set_id` is ours; messages of older sets and of the next one (which the node will
    /// switch to once it finalizes that epoch's first block) are dropped quietly.
    fn check_set(&self, set_id: u32, from: Option<Ed25519Public>, out: &mut Vec<Output>) -> bool {
        if set_id == self.set.set_id {
            return true;
        }
        if set_id > self.set.set_id.saturating_add(1) {
            Self::misbehaviour(
                out,
                from,
                format!("set id {set_id} is beyond the next set ({} is current)", self.set.set_id),
            );
        }
        false
    }

    fn on_message(
        &mut self,
        from: Option<Ed25519Public>,
        message: Message,
        tree: &dyn BlockTree,
        out: &mut Vec<Output>,
        verified: bool,
    ) {
        match message {
            Message::Vote(vote) => self.on_vote(from, vote, tree, out, verified),
            Message::Commit(commit) => self.on_commit(from, commit, tree, out),
            Message::State(neighbour) => self.on_state(neighbour, out),
            Message::CatchUp(catch_up) => self.on_catch_up(from, catch_up, tree, out),
        }
    }

    fn on_vote(
        &mut self,
        from: Option<Ed25519Public>,
        vote: SignedVote,
        tree: &dyn BlockTree,
        out: &mut Vec<Output>,
        verified: bool,
    ) {
        if self.me.is_none() || !self.check_set(vote.set_id, from, out) {
            // Observers follow commits only.
            return;
        }
        let Some(key) = self.key(vote.voter).copied() else {
            return Self::misbehaviour(out, from, format!("voter {} is not in the set", vote.voter));
        };
        if vote.round.saturating_add(KEEP_PAST) < self.round {
            return;
        }
        if vote.round > self.round + MAX_ROUND_LEAD {
            return Self::misbehaviour(out, from, format!("round {} is implausibly far ahead", vote.round));
        }
        let known = self.rounds.get(&vote.round).is_some_and(|r| match vote.kind {
            VoteKind::Prevote => r.prevotes.has(vote.voter, &vote.target, &vote.signature),
            VoteKind::Precommit => r.precommits.has(vote.voter, &vote.target, &vote.signature),
            VoteKind::PrimaryPropose => r.proposal == Some(vote.target),
        });
        if known {
            return;
        }
        if !verified {
            let payload = signed_payload(vote.kind, &vote.target, vote.round, vote.set_id);
            if ed25519_verify(&key, &payload, &vote.signature).is_err() {
                return Self::misbehaviour(out, from, "vote signature does not verify".into());
            }
        }
        if vote.round > self.round + 1 {
            // We lag: say where we are so that a neighbour answers with its last commit.
            self.ask_for_help(out);
            return;
        }
        if vote.kind == VoteKind::PrimaryPropose {
            if vote.voter != self.primary(vote.round) {
                return Self::misbehaviour(out, Some(key), "primary proposal from a non-primary".into());
            }
            let base = self.finalized;
            let round = self.rounds.entry(vote.round).or_insert_with(|| Round::new(base));
            match round.proposal {
                None => round.proposal = Some(vote.target),
                Some(p) if p == vote.target => {}
                Some(_) => Self::misbehaviour(out, Some(key), "two primary proposals in a round".into()),
            }
            return;
        }
        match tree.slot(&vote.target.hash) {
            None => {
                let cap = (4 * self.set.keys.len() + 16).min(PENDING_VOTES_MAX);
                if self.pending_votes.len() >= cap {
                    self.pending_votes.pop_front();
                }
                self.pending_votes.push_back((from, vote));
                return;
            }
            Some(slot) if slot != vote.target.slot => {
                return Self::misbehaviour(out, from, "vote names a block with the wrong slot".into());
            }
            Some(_) => {}
        }
        let base = self.finalized;
        let round = self.rounds.entry(vote.round).or_insert_with(|| Round::new(base));
        let tally = if vote.kind == VoteKind::Prevote { &mut round.prevotes } else { &mut round.precommits };
        if let Added::Equivocation(old) = tally.add(vote.voter, vote.target, vote.signature, tree) {
            Self::misbehaviour(
                out,
                Some(key),
                format!(
                    "equivocation: voter {} cast two {:?}s in round {} (slots {} and {})",
                    vote.voter, vote.kind, vote.round, old.slot, vote.target.slot
                ),
            );
        }
    }

    fn on_state(&mut self, peer: Neighbour, out: &mut Vec<Output>) {
        if peer.set_id != self.set.set_id {
            return;
        }
        let behind_final = peer.finalized.slot < self.finalized.slot;
        if (behind_final || peer.round < self.round) && self.help_allowed() {
            self.last_help = Some(self.now);
            if behind_final {
                if let Some(commit) = self.last_commit.clone() {
                    out.push(Output::Broadcast(Message::Commit(commit)));
                }
            }
            if peer.round + 1 == self.round {
                // One round behind: our own votes of that round are all it may be missing from us,
                // and they cost two signatures to check, where a catch-up costs the whole round's.
                self.resend_votes(peer.round, out);
            } else if let Some(catch_up) = self.catch_up_for(peer.round) {
                out.push(Output::Broadcast(Message::CatchUp(catch_up)));
            }
        } else if peer.finalized.slot > self.finalized.slot || peer.round > self.round + 1 {
            self.ask_for_help(out);
        }
    }

    /// The votes of our last round, when it completed here and `peer_round` is not beyond it.
    fn catch_up_for(&self, peer_round: u64) -> Option<CatchUp> {
        let last = self.round - 1;
        if !self.prior_live || peer_round > last {
            return None;
        }
        let round = self.rounds.get(&last)?;
        Some(CatchUp {
            round: last,
            set_id: self.set.set_id,
            prevotes: round.prevotes.all_votes(),
            precommits: round.precommits.all_votes(),
            base: self.finalized,
        })
    }

    /// Applies a catch-up for a round at or beyond ours: every signature valid, every block known,
    /// and the votes make the round completable (then we continue from the next round).
    fn on_catch_up(
        &mut self,
        from: Option<Ed25519Public>,
        catch_up: CatchUp,
        tree: &dyn BlockTree,
        out: &mut Vec<Output>,
    ) {
        if self.me.is_none() || !self.check_set(catch_up.set_id, from, out) || catch_up.round < self.round {
            return;
        }
        if catch_up.round > self.round + MAX_ROUND_LEAD {
            return Self::misbehaviour(
                out,
                from,
                format!("catch-up round {} is implausibly far ahead", catch_up.round),
            );
        }
        let lists = [(VoteKind::Prevote, &catch_up.prevotes), (VoteKind::Precommit, &catch_up.precommits)];
        let mut payloads = Vec::new();
        for (kind, votes) in lists {
            if votes.len() > MAX_COMMIT_PRECOMMITS {
                return Self::misbehaviour(out, from, "catch-up with too many votes".into());
            }
            for (target, voter, _) in votes.iter() {
                if usize::from(*voter) >= self.set.keys.len() {
                    return Self::misbehaviour(
                        out,
                        from,
                        format!("catch-up vote by {voter}, not in the set"),
                    );
                }
                match tree.slot(&target.hash) {
                    // Blocks we lack: the sender will offer again once we have them.
                    None => return,
                    Some(slot) if slot != target.slot => {
                        return Self::misbehaviour(out, from, "catch-up vote names a wrong slot".into());
                    }
                    Some(_) => {}
                }
                payloads.push(signed_payload(kind, target, catch_up.round, catch_up.set_id));
            }
        }
        let signed = catch_up.prevotes.iter().chain(&catch_up.precommits);
        let items = signed
            .zip(&payloads)
            .map(|((_, voter, sig), payload)| (&self.set.keys[usize::from(*voter)], &payload[..], sig));
        if let Err(e) = ed25519_verify_batch(items) {
            return Self::misbehaviour(
                out,
                from,
                format!("catch-up vote {}: signature does not verify", e.index),
            );
        }
        let mut round = Round::new(self.finalized);
        for (target, voter, signature) in &catch_up.prevotes {
            round.prevotes.add(*voter, *target, *signature, tree);
        }
        for (target, voter, signature) in &catch_up.precommits {
            round.precommits.add(*voter, *target, *signature, tree);
        }
        let state = round.state(self.n(), self.threshold);
        if !state.completable {
            return Self::misbehaviour(out, from, "catch-up does not complete its round".into());
        }
        self.prior_estimate = state.estimate.unwrap_or(self.finalized);
        self.rounds.insert(catch_up.round, round);
        self.start_round(catch_up.round + 1, true);
    }

    fn help_allowed(&self) -> bool {
        self.last_help.is_none_or(|t| self.now >= t + 2 * self.config.gossip_ms)
    }

    fn ask_for_help(&mut self, out: &mut Vec<Output>) {
        if self.help_allowed() {
            self.last_help = Some(self.now);
            out.push(Output::Broadcast(Message::State(self.neighbour())));
        }
    }

    fn on_commit(
        &mut self,
        from: Option<Ed25519Public>,
        commit: Commit,
        tree: &dyn BlockTree,
        out: &mut Vec<Output>,
    ) {
        if !self.check_set(commit.set_id, from, out) {
            return;
        }
        if commit.round > self.round + MAX_ROUND_LEAD {
            return Self::misbehaviour(
                out,
                from,
                format!("commit round {} is implausibly far ahead", commit.round),
            );
        }
        if commit.target.slot <= self.finalized.slot && commit.round < self.round {
            return;
        }
        match verify_commit(&commit, &self.set, tree) {
            Err(reason) => Self::misbehaviour(out, from, reason),
            Ok(CommitCheck::Unknown) => {
                if self.pending_commits.len() >= PENDING_COMMITS {
                    self.pending_commits.pop_front();
                }
                self.pending_commits.push_back((from, commit));
            }
            Ok(CommitCheck::Valid) => {
                let round = commit.round;
                let target = commit.target;
                self.finalize(commit, tree, out, false);
                if round >= self.round {
                    // Catch up: the round is decided without us (paper §4.1's catch-up, by commit).
                    self.prior_estimate =
                        if self.finalized.slot > target.slot { self.finalized } else { target };
                    self.start_round(round + 1, false);
                }
            }
        }
    }

    fn retry_pending(&mut self, tree: &dyn BlockTree, out: &mut Vec<Output>) {
        let votes = std::mem::take(&mut self.pending_votes);
        for (from, vote) in votes {
            if tree.slot(&vote.target.hash).is_some() {
                self.on_vote(from, vote, tree, out, true);
            } else {
                self.pending_votes.push_back((from, vote));
            }
        }
        let commits = std::mem::take(&mut self.pending_commits);
        for (from, commit) in commits {
            self.on_commit(from, commit, tree, out);
        }
    }

    /// Records `commit`'s target as final when it extends what is final.
    fn finalize(&mut self, commit: Commit, tree: &dyn BlockTree, out: &mut Vec<Output>, broadcast: bool) {
        let target = commit.target;
        if target.slot <= self.finalized.slot {
            return;
        }
        if tree.ancestry(&self.finalized.hash, &target.hash).is_none() {
            // Conflicts with what we finalized: only possible with more than a third faulty.
            return Self::misbehaviour(
                out,
                None,
                format!("commit for slot {} conflicts with finality", target.slot),
            );
        }
        self.finalized = target;
        if broadcast {
            out.push(Output::Broadcast(Message::Commit(commit.clone())));
        }
        self.last_commit = Some(commit.clone());
        out.push(Output::Finalized { target, justification: commit });
    }

    /// `E_{r-1}`, raised to the final block when that is later on the same chain.
    fn prior(&self, tree: &dyn BlockTree) -> Target {
        let live = if self.prior_live {
            self.rounds
                .get(&(self.round - 1))
                .and_then(|r| r.state(self.n(), self.threshold).estimate)
                .unwrap_or(self.prior_estimate)
        } else {
            self.prior_estimate
        };
        if self.finalized.slot > live.slot && tree.ancestry(&live.hash, &self.finalized.hash).is_some() {
            self.finalized
        } else {
            live
        }
    }

    fn start_round(&mut self, round: u64, live: bool) {
        self.round = round;
        self.round_start = self.now;
        self.prior_live = live;
        self.rounds.retain(|r, _| r + KEEP_PAST >= round);
        let base = self.finalized;
        self.rounds.entry(round).or_insert_with(|| Round::new(base));
        // Future-round votes beyond the next are not kept.
        self.rounds.retain(|r, _| *r <= round + 1);
    }

    fn sign(&self, kind: VoteKind, target: Target) -> Option<SignedVote> {
        self.sign_for(self.round, kind, target)
    }

    fn sign_for(&self, round: u64, kind: VoteKind, target: Target) -> Option<SignedVote> {
        let (voter, secret) = self.me.as_ref()?;
        let payload = signed_payload(kind, &target, round, self.set.set_id);
        let signature = secret.0.sign(&payload).to_bytes();
        Some(SignedVote { round, set_id: self.set.set_id, kind, target, voter: *voter, signature })
    }

    /// Casts our vote: counted here, then sent.
    fn cast(&mut self, kind: VoteKind, target: Target, tree: &dyn BlockTree, out: &mut Vec<Output>) {
        let Some(vote) = self.sign(kind, target) else { return };
        let base = self.finalized;
        let round = self.rounds.entry(self.round).or_insert_with(|| Round::new(base));
        match kind {
            VoteKind::Prevote => {
                round.our_prevote = Some(target);
                round.prevotes.add(vote.voter, target, vote.signature, tree);
            }
            VoteKind::Precommit => {
                round.our_precommit = Some(target);
                round.precommits.add(vote.voter, target, vote.signature, tree);
            }
            VoteKind::PrimaryPropose => {
                round.proposed = true;
                round.proposal = Some(target);
            }
        }
        out.push(Output::Broadcast(Message::Vote(vote)));
    }

    /// Runs the paper's voting rules and finality check until nothing more happens.
    fn progress(&mut self, tree: &dyn BlockTree, out: &mut Vec<Output>) {
        if self.me.is_none() {
            return;
        }
        let t = self.config.gossip_ms;
        loop {
            self.check_finality(tree, out);
            let (n, threshold, now, start) = (self.n(), self.threshold, self.now, self.round_start);
            let prior = self.prior(tree);
            let me = self.me.as_ref().map(|m| m.0);
            let primary = self.primary(self.round);
            let base = self.finalized;
            let round = self.rounds.entry(self.round).or_insert_with(|| Round::new(base));

            // Primary: propose E_{r-1} when it is beyond what is final (paper §3.3, step 1).
            if me == Some(primary) && !round.proposed {
                round.proposed = true;
                if prior.slot > self.finalized.slot {
                    self.cast(VoteKind::PrimaryPropose, prior, tree, out);
                    continue;
                }
            }
            let state = round.state(n, threshold);
            // Prevote at 2T or once completable: the best chain containing E_{r-1}, or the primary's
            // block when it lies between E_{r-1} and the last round's prevote-GHOST.
            if round.our_prevote.is_none() && (now >= start + 2 * t || state.completable) {
                let proposal = round.proposal;
                let mut from = prior;
                if let Some(p) = proposal {
                    let prev_ghost =
                        self.rounds.get(&(self.round - 1)).and_then(|r| r.state(n, threshold).prevote_ghost);
                    let above = p.slot > prior.slot && tree.ancestry(&prior.hash, &p.hash).is_some();
                    let below = prev_ghost.is_none_or(|g| tree.ancestry(&p.hash, &g.hash).is_some());
                    if above && below {
                        from = p;
                    }
                }
                let target = tree.best_containing(&from.hash).unwrap_or(from);
                self.cast(VoteKind::Prevote, target, tree, out);
                continue;
            }
            // Precommit g(V_r) once it is E_{r-1} or beyond, at 4T or once completable.
            if round.our_prevote.is_some() && round.our_precommit.is_none() {
                if let Some(g) = state.prevote_ghost {
                    let extends = tree.ancestry(&prior.hash, &g.hash).is_some();
                    if extends && (now >= start + 4 * t || state.completable) {
                        self.cast(VoteKind::Precommit, g, tree, out);
                        continue;
                    }
                }
            }
            // Next round once this one is completable and we have voted (or waited 8T).
            if state.completable && (round.our_precommit.is_some() || now >= start + 8 * t) {
                let estimate = state.estimate.unwrap_or(prior);
                self.prior_estimate = estimate;
                let next = self.round + 1;
                self.start_round(next, true);
                continue;
            }
            break;
        }
    }

    /// Finalizes the precommit-GHOST of any kept round that reaches beyond what is final.
    fn check_finality(&mut self, tree: &dyn BlockTree, out: &mut Vec<Output>) {
        let (n, threshold) = (self.n(), self.threshold);
        let mut found: Option<Commit> = None;
        for (number, round) in &self.rounds {
            let Some(g) = round.state(n, threshold).precommit_ghost else { continue };
            if g.slot <= self.finalized.slot || found.as_ref().is_some_and(|c| c.target.slot >= g.slot) {
                continue;
            }
            let precommits = round.precommits.justification(&g, threshold, tree);
            found = Some(Commit { round: *number, set_id: self.set.set_id, target: g, precommits });
        }
        if let Some(commit) = found {
            self.finalize(commit, tree, out, true);
        }
    }

    /// Sends our votes of the current round again, and our state: lost messages must not stall a
    /// round forever.
    fn resend(&mut self, out: &mut Vec<Output>) {
        if self.me.is_some() && self.now >= self.round_start + self.resend_interval() {
            self.resend_votes(self.round, out);
        }
        out.push(Output::Broadcast(Message::State(self.neighbour())));
    }

    /// Our prevote and precommit of `number`, signed again (Ed25519 signatures are deterministic,
    /// so receivers see the same vote).
    fn resend_votes(&self, number: u64, out: &mut Vec<Output>) {
        let Some(round) = self.rounds.get(&number) else { return };
        let votes = [(VoteKind::Prevote, round.our_prevote), (VoteKind::Precommit, round.our_precommit)];
        for (kind, target) in votes {
            if let Some(vote) = target.and_then(|t| self.sign_for(number, kind, t)) {
                out.push(Output::Broadcast(Message::Vote(vote)));
            }
        }
    }
}
