//! The chain generator: a seeded walk that authors block after block on a dev genesis, with the
//! workloads of its lane, and the steps a fuzzer sends for them.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use orrery_author::{author_block, generate_tickets, posterior_safrole, AuthorError, Pools};
use orrery_crypto::bandersnatch::vrf_output;
use orrery_crypto::{blake2b_256, context};
use orrery_import::{header_hash, import_block, ChainState, ImportContext, ImportOptions};
use orrery_keys::ValidatorKeys;
use orrery_state::{State, TicketsOrKeys};
use orrery_stf::safrole::{ticket_vrf_input, SafroleOutput};
use orrery_types::{
    Block, ChainSpec, Culprit, DisputesExtrinsic, Entropy, Fault, Header, HeaderHash, Judgement, Preimage,
    ServiceId, TicketEnvelope, TimeSlot, Verdict,
};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::genesis::dev_genesis;
use crate::mutate::{mutate, Mutation, Sealer};
use crate::work::{WorkConfig, WorkCounts, WorkMix, Workload};

/// A workload mix, named after the JAM milestone-1 conformance lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Valid blocks only, no ticket contest: fallback-sealed blocks, skipped slots, forks and
    /// disputes.
    Happy,
    /// The happy lane's chain with a contest in a quarter of the epochs, and mutants before a
    /// tenth of the blocks.
    Mutations,
    /// Ticket contests every epoch (a random subset of validators in each), so ticket-sealed
    /// and fallback-sealed epochs alternate; no mutants.
    Safrole,
}

impl Lane {
    pub fn by_name(name: &str) -> Option<Self> {
        match name {
            "happy" => Some(Lane::Happy),
            "mutations" => Some(Lane::Mutations),
            "safrole" => Some(Lane::Safrole),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Lane::Happy => "happy",
            Lane::Mutations => "mutations",
            Lane::Safrole => "safrole",
        }
    }
}

/// What the generator makes, and how often.
#[derive(Debug, Clone)]
pub struct Config {
    pub lane: Lane,
    pub seed: u64,
    /// Chance that a slot gets no block.
    pub skip_ratio: f64,
    /// Chance that a block gets a sibling (a fork on its parent).
    pub fork_ratio: f64,
    /// Chance that a block carries a verdict.
    pub dispute_ratio: f64,
    /// Chance that an epoch has a ticket contest.
    pub contest_ratio: f64,
    /// The most validators entering one contest. Each entrant's proofs cost about a second (on
    /// full, 2.6 s); the mutations lane needs a few tickets to alter, not a full accumulator. On a
    /// set of more than [`LARGE_SET`] validators at most [`LARGE_SET_ENTRANTS`] enter whatever
    /// this says: filling full's accumulator (600 tickets) would take a quarter of an hour a contest.
    pub max_entrants: usize,
    /// Chance that a block is preceded by mutants of it.
    pub mutation_ratio: f64,
    /// The most mutants of one block.
    pub max_mutants: usize,
    /// Chance that a block provides solicited preimages (while the genesis' last).
    pub preimage_ratio: f64,
    /// The work workload ([`crate::work`]).
    pub work: WorkConfig,
    /// Make the chain's first verdict a bad one (two culprits) when the offender budget allows,
    /// so a short run is sure to have one; otherwise one verdict in eight is bad.
    pub first_verdict_bad: bool,
}

impl Config {
    pub fn lane(lane: Lane, seed: u64) -> Self {
        let services = WorkMix { services: true, preimages: true, validators: false };
        let validators = WorkMix { services: false, preimages: false, validators: true };
        let (contest_ratio, mutation_ratio, work_ratio, mix) = match lane {
            Lane::Happy => (0.0, 0.0, 0.5, services),
            Lane::Mutations => (0.1, 0.1, 0.3, services),
            // Validator sets managed through the manager's designate: few reports, no others.
            Lane::Safrole => (1.0, 0.0, 0.2, validators),
        };
        Self {
            lane,
            seed,
            skip_ratio: 0.1,
            fork_ratio: 0.05,
            dispute_ratio: 0.05,
            contest_ratio,
            max_entrants: if lane == Lane::Mutations { 2 } else { usize::MAX },
            mutation_ratio,
            max_mutants: 5,
            preimage_ratio: 0.1,
            work: WorkConfig { ratio: work_ratio, mix, max_items: 5, max_reports: 4 },
            first_verdict_bad: false,
        }
    }
}

/// What a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// The next block of the chain.
    Block,
    /// A valid sibling of the next block, on the same parent.
    Fork,
    /// The next block altered: it must be rejected.
    Mutant(Mutation),
}

/// One block to import, with what Orrery's own import made of it.
#[derive(Debug, Clone)]
pub struct Step {
    pub kind: StepKind,
    pub block: Block,
    /// The header hash of the parent the block was made on (a `Parent` mutant names another).
    pub parent: HeaderHash,
    /// The state of that parent.
    pub pre_state: ChainState,
    /// The posterior state, or the rule Orrery's import says the block broke.
    pub outcome: Result<ChainState, String>,
}

impl Step {
    pub fn header_hash(&self) -> HeaderHash {
        header_hash(&self.block.header)
    }
}

/// Why the generator could not go on: each is a bug (in the generator or in Orrery), not a
/// property of the target.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("authoring the block of slot {slot}: {error}")]
    Author { slot: TimeSlot, error: AuthorError },
    #[error("Orrery's import rejects the block it authored at slot {slot}: {error}")]
    OwnBlockRejected { slot: TimeSlot, error: String },
    #[error("no validator can seal any of the {0} slots after the head")]
    NoAuthor(u32),
    #[error("the dev genesis: {0}")]
    Genesis(String),
}

/// Past this many validators, contests have at most [`LARGE_SET_ENTRANTS`] entrants.
pub const LARGE_SET: usize = 64;
/// The most entrants of a contest on a large set: tickets to select, never a ticket-sealed epoch.
pub const LARGE_SET_ENTRANTS: usize = 8;

/// How many validators may become offenders. Past `V/3` the chain would stall (Safrole's
/// sealing and the supermajorities of disputes need the rest); with the work workload on, past
/// `V` less a supermajority no report could ever become available again (GP 0.7.2 eq. 11.16
/// needs more than two thirds of `κ'` to assure, and offenders' keys are nulled, eq. 6.14). On
/// tiny that is one: no bad verdict (two culprits), faults only.
fn offender_budget(spec: &ChainSpec, config: &Config) -> usize {
    let v = usize::from(spec.validators_count);
    match config.work.ratio > 0.0 {
        true => (v / 3).min(v - spec.super_majority()),
        false => v / 3,
    }
}

/// A block on the chain: its hash and posterior state, and the latest of its ancestors (itself
/// first), for the lookup anchors of reports.
#[derive(Debug, Clone)]
struct Node {
    hash: HeaderHash,
    state: ChainState,
    ancestors: Vec<(HeaderHash, TimeSlot)>,
}

/// How many of a block's latest ancestors are kept: more than the recent history's `H` = 8,
/// from which every report's anchor and lookup anchor are drawn.
const ANCESTORS: usize = 16;

impl Node {
    /// The child `hash` at `slot` of `self`, with `state`.
    fn child(&self, hash: HeaderHash, slot: TimeSlot, state: ChainState) -> Self {
        let mut ancestors = Vec::with_capacity(ANCESTORS);
        ancestors.push((hash, slot));
        ancestors.extend(self.ancestors.iter().take(ANCESTORS - 1).copied());
        Self { hash, state, ancestors }
    }
}

/// The ancestor set `A` of a block on `parent` (GP 0.7.2 eq. 11.35), as far as the generator
/// keeps it: the parent and its latest ancestors.
struct Ancestors<'a>(&'a [(HeaderHash, TimeSlot)]);

impl orrery_stf::reports::Ancestry for Ancestors<'_> {
    fn contains(&self, header: &HeaderHash, slot: TimeSlot) -> bool {
        self.0.iter().any(|a| a == &(*header, slot))
    }
}

/// Who seals a slot, and with which VRF input.
struct Claim {
    author: usize,
    seal_input: Vec<u8>,
    /// Safrole's posterior for the slot on the prior state: who seals is read from it, and the
    /// ticket pool and the guarantor assignments use it too (computing it is the costly part of
    /// a claim at an epoch change).
    posterior: SafroleOutput,
}

/// The chain generator. Deterministic: the same spec, keys and config give the same steps.
pub struct Generator {
    ctx: Arc<ImportContext>,
    keys: Vec<ValidatorKeys>,
    by_bandersnatch: HashMap<[u8; 32], usize>,
    by_ed25519: HashMap<[u8; 32], usize>,
    config: Config,
    rng: ChaCha8Rng,
    genesis: (Header, ChainState),
    head: Node,
    parent: Option<Node>,
    queue: VecDeque<Step>,
    /// Ticket submissions per contest (`η'_2`, `γ'_Z`) and validator: ring proofs cost about a
    /// second per validator on tiny, and forks and every block of a contest reuse them.
    tickets: HashMap<(Entropy, [u8; 144]), Vec<TicketEnvelope>>,
    contests: VecDeque<(Entropy, [u8; 144])>,
    /// Which validator made a ticket id: who seals a ticket-sealed slot.
    ticket_owner: HashMap<Entropy, usize>,
    /// Validators that may still be made offenders: past `V/3` the chain would stall.
    offender_budget: usize,
    /// Whether a bad verdict has been made (see [`Config::first_verdict_bad`]).
    made_bad_verdict: bool,
    /// The blobs the genesis solicits.
    solicited: Vec<(ServiceId, Vec<u8>)>,
    /// The work workload: packages, guarantees and assurances.
    work: Workload,
    digest: [u8; 32],
    counts: Counts,
}

/// What has been generated so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub blocks: u64,
    pub forks: u64,
    pub mutants: u64,
    pub skipped_slots: u64,
    pub ticket_sealed: u64,
    pub tickets: u64,
    pub verdicts: u64,
    pub offenders: u64,
    pub epochs: u64,
    pub preimages: u64,
    /// The work workload's reports, items and assurances.
    pub work: WorkCounts,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator").field("config", &self.config).field("counts", &self.counts).finish()
    }
}

impl Generator {
    /// A generator on the dev genesis of `ctx.spec` with the first `V` dev keys.
    pub fn new(ctx: Arc<ImportContext>, config: Config) -> Result<Self, GenerateError> {
        let v = u32::from(ctx.spec.validators_count);
        // Twice `V` dev keys: the genesis sets are the first `V`; the key sets the manager
        // designates (safrole lane) draw from all of them.
        let keys: Vec<ValidatorKeys> = (0..2 * v).into_par_iter().map(ValidatorKeys::dev).collect();
        let genesis = dev_genesis(&ctx.spec, &ctx.ring, &keys[..v as usize], config.seed)
            .map_err(|e| GenerateError::Genesis(e.to_string()))?;
        let by_bandersnatch = keys.iter().enumerate().map(|(i, k)| (k.bandersnatch_public(), i)).collect();
        let by_ed25519 = keys.iter().enumerate().map(|(i, k)| (k.ed25519_public(), i)).collect();
        let head = Node { hash: header_hash(&genesis.0), state: genesis.1.clone(), ancestors: Vec::new() };
        let seed = config.seed;
        Ok(Self {
            offender_budget: offender_budget(&ctx.spec, &config),
            made_bad_verdict: false,
            ctx,
            keys,
            by_bandersnatch,
            by_ed25519,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            config,
            genesis,
            head,
            parent: None,
            queue: VecDeque::new(),
            tickets: HashMap::new(),
            contests: VecDeque::new(),
            ticket_owner: HashMap::new(),
            solicited: crate::genesis::solicited_blobs(seed),
            work: Workload::new(),
            digest: [0; 32],
            counts: Counts::default(),
        })
    }

    /// The genesis header and state, for `Initialize`.
    pub fn genesis(&self) -> (&Header, &ChainState) {
        (&self.genesis.0, &self.genesis.1)
    }

    /// The state at the head of the chain generated so far.
    pub fn head_state(&self) -> &ChainState {
        &self.head.state
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// A hash of every block generated so far, in order: two runs are the same iff it is.
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    /// The next step.
    pub fn next_step(&mut self) -> Result<Step, GenerateError> {
        if self.queue.is_empty() {
            self.advance()?;
        }
        let step = self.queue.pop_front().ok_or(GenerateError::NoAuthor(0))?;
        self.digest = blake2b_256(&[self.digest.as_slice(), &step.header_hash()].concat());
        Ok(step)
    }

    /// Who seals `slot` on `prior`, if one of our keys does.
    fn claim(&self, prior: &State, slot: TimeSlot) -> Result<Option<Claim>, GenerateError> {
        let spec = &self.ctx.spec;
        let posterior = posterior_safrole(spec, &self.ctx.ring, prior, slot, &prior.disputes.offenders, &[])
            .map_err(|error| GenerateError::Author { slot, error })?;
        let phase = (slot % spec.epoch_length) as usize;
        let entropy = &posterior.entropy.0[3];
        let sealer = match &posterior.safrole.sealing_keys {
            TicketsOrKeys::Keys(keys) => keys
                .get(phase)
                .and_then(|k| self.by_bandersnatch.get(k))
                .map(|&author| (author, [context::FALLBACK_SEAL, entropy.as_slice()].concat())),
            TicketsOrKeys::Tickets(tickets) => tickets.get(phase).and_then(|t| {
                self.ticket_owner.get(&t.id).map(|&author| (author, ticket_vrf_input(entropy, t.attempt)))
            }),
        }
        // The sealer must be in `κ'` (a ticket's maker may have left the set since); `author` is
        // the index of its keys here, not its place in the set (designated sets reorder keys).
        .filter(|&(author, _)| {
            let key = self.keys[author].bandersnatch_public();
            posterior.active.iter().any(|k| k.bandersnatch == key)
        });
        Ok(sealer.map(|(author, seal_input)| Claim { author, seal_input, posterior }))
    }

    /// The first slot after `after` that the lane does not skip and one of our keys seals.
    fn next_slot(&mut self, prior: &State, after: TimeSlot) -> Result<(TimeSlot, Claim), GenerateError> {
        let limit = 4 * self.ctx.spec.epoch_length;
        for slot in after + 1..=after + limit {
            if self.rng.gen_bool(self.config.skip_ratio) {
                self.counts.skipped_slots += 1;
                continue;
            }
            if let Some(claim) = self.claim(prior, slot)? {
                return Ok((slot, claim));
            }
            self.counts.skipped_slots += 1;
        }
        Err(GenerateError::NoAuthor(limit))
    }

    /// The ticket pool for a block at `slot` on `prior` (`posterior`: Safrole's for that slot):
    /// the contest's submissions, made once.
    fn ticket_pool(
        &mut self,
        prior: &State,
        slot: TimeSlot,
        posterior: &SafroleOutput,
    ) -> Result<Vec<TicketEnvelope>, GenerateError> {
        let spec = &self.ctx.spec;
        if self.config.contest_ratio <= 0.0 || slot % spec.epoch_length >= spec.ticket_submission_end {
            return Ok(Vec::new());
        }
        let contest = (posterior.entropy.0[2], posterior.safrole.ring_root);
        if let Some(pool) = self.tickets.get(&contest) {
            return Ok(pool.clone());
        }
        // A contest's entrants: none, some or all of the validators of `γ'_P` whose keys we hold,
        // so that the accumulator is sometimes filled (ticket-sealed epochs) and sometimes not
        // (fallback).
        let members: Vec<usize> = posterior
            .safrole
            .pending_validators
            .iter()
            .filter_map(|k| self.by_bandersnatch.get(&k.bandersnatch).copied())
            .collect();
        let mut entrants: Vec<usize> = Vec::new();
        if self.rng.gen_bool(self.config.contest_ratio) {
            let v = members.len();
            let n = match self.rng.gen_range(0..4) {
                0 => self.rng.gen_range(0..=v),
                _ => v,
            };
            let cap = if v > LARGE_SET { LARGE_SET_ENTRANTS } else { usize::MAX };
            let n = n.min(self.config.max_entrants).min(cap);
            entrants =
                rand::seq::index::sample(&mut self.rng, v, n).into_iter().map(|i| members[i]).collect();
            entrants.sort_unstable();
        }
        let (ctx, keys) = (&self.ctx, &self.keys);
        let made: Result<Vec<Vec<TicketEnvelope>>, AuthorError> = entrants
            .par_iter()
            .map(|&i| generate_tickets(&ctx.spec, &ctx.ring, prior, slot, &keys[i]))
            .collect();
        let made = made.map_err(|error| GenerateError::Author { slot, error })?;
        let mut pool = Vec::new();
        for (&i, tickets) in entrants.iter().zip(made) {
            for t in &tickets {
                if let Ok(id) = vrf_output(&t.signature) {
                    self.ticket_owner.insert(id, i);
                }
            }
            pool.extend(tickets);
        }
        self.tickets.insert(contest, pool.clone());
        self.contests.push_back(contest);
        // Forks stay within an epoch or two: older contests are not needed again.
        while self.contests.len() > 4 {
            if let Some(old) = self.contests.pop_front() {
                self.tickets.remove(&old);
            }
        }
        if self.ticket_owner.len() > 64 * spec.epoch_length as usize {
            let keep: std::collections::HashSet<Entropy> = self
                .tickets
                .values()
                .flatten()
                .filter_map(|t| vrf_output(&t.signature).ok())
                .chain(match &prior.safrole.sealing_keys {
                    TicketsOrKeys::Tickets(t) => t.iter().map(|t| t.id).collect(),
                    TicketsOrKeys::Keys(_) => Vec::new(),
                })
                .chain(prior.safrole.ticket_accumulator.iter().map(|t| t.id))
                .collect();
            self.ticket_owner.retain(|id, _| keep.contains(id));
        }
        Ok(pool)
    }

    /// A verdict on a made-up report by a supermajority of `κ` (our keys), now and then with
    /// culprits or a fault, or nothing if too few of `κ` are ours.
    fn disputes(&mut self, prior: &State) -> DisputesExtrinsic {
        let spec = &self.ctx.spec;
        let supermajority = spec.super_majority();
        let v = usize::from(spec.validators_count);
        let judges: Vec<(u16, usize)> = prior
            .active_validators
            .iter()
            .enumerate()
            .filter_map(|(i, k)| self.by_ed25519.get(&k.ed25519).map(|&key| (i as u16, key)))
            .collect();
        if judges.len() < supermajority {
            return DisputesExtrinsic::default();
        }
        let target: [u8; 32] = self.rng.gen();
        let mut voters: Vec<(u16, usize)> =
            judges.choose_multiple(&mut self.rng, supermajority).copied().collect();
        voters.sort_unstable();
        // Validators that may become offenders: known (κ or λ), ours, not yet offenders.
        let mut punishable: Vec<usize> = prior
            .active_validators
            .iter()
            .chain(prior.previous_validators.iter())
            .filter(|k| !prior.disputes.offenders.contains(&k.ed25519))
            .filter_map(|k| self.by_ed25519.get(&k.ed25519).copied())
            .collect();
        punishable.sort_unstable();
        punishable.dedup();
        enum Kind {
            Wonky,
            Bad,
            Good,
        }
        let draw = self.rng.gen_range(0..8);
        let draw = if self.config.first_verdict_bad && !self.made_bad_verdict { 0 } else { draw };
        let kind = match draw {
            0 if self.offender_budget >= 2 && punishable.len() >= 2 => {
                self.made_bad_verdict = true;
                Kind::Bad
            }
            // Not the last two of the budget: a bad verdict needs two.
            // Where a bad verdict can never be afforded, the whole budget is for faults.
            1 if (self.offender_budget >= 3 || offender_budget(spec, &self.config) < 2)
                && self.offender_budget >= 1
                && !punishable.is_empty() =>
            {
                Kind::Good
            }
            _ => Kind::Wonky,
        };
        let valid: Vec<bool> = match kind {
            Kind::Bad => vec![false; supermajority],
            Kind::Good => vec![true; supermajority],
            Kind::Wonky => {
                let mut votes = vec![false; supermajority];
                for i in rand::seq::index::sample(&mut self.rng, supermajority, v / 3) {
                    votes[i] = true;
                }
                votes
            }
        };
        let judgment = |vote: bool| [if vote { context::VALID } else { context::INVALID }, &target].concat();
        let votes = voters
            .iter()
            .zip(valid)
            .map(|(&(index, key), vote)| Judgement {
                vote,
                index,
                signature: self.keys[key].ed25519_sign(&judgment(vote)),
            })
            .collect();
        let verdict = Verdict { target, age: prior.timeslot / spec.epoch_length, votes };
        let mut disputes = DisputesExtrinsic { verdicts: vec![verdict], ..Default::default() };
        match kind {
            Kind::Bad => {
                for &i in punishable.choose_multiple(&mut self.rng, 2) {
                    let k = &self.keys[i];
                    disputes.culprits.push(Culprit {
                        target,
                        key: k.ed25519_public(),
                        signature: k.ed25519_sign(&[context::GUARANTEE, &target].concat()),
                    });
                }
                disputes.culprits.sort_by_key(|c| c.key);
            }
            Kind::Good => {
                let k = &self.keys[*punishable.choose(&mut self.rng).unwrap_or(&0)];
                disputes.faults.push(Fault {
                    target,
                    vote: false,
                    key: k.ed25519_public(),
                    signature: k.ed25519_sign(&judgment(false)),
                });
            }
            Kind::Wonky => {}
        }
        disputes
    }

    /// One to three of the genesis' solicited blobs that `prior` still waits for (`l[(h, z)] = []`).
    fn preimages(&mut self, prior: &State) -> Vec<Preimage> {
        let wanted: Vec<&(ServiceId, Vec<u8>)> = self
            .solicited
            .iter()
            .filter(|(service, blob)| {
                prior.accounts.get(service).and_then(|a| a.request(&blake2b_256(blob), blob.len() as u32))
                    == Some(Ok(Vec::new()))
            })
            .collect();
        let n = self.rng.gen_range(1..=3).min(wanted.len());
        wanted
            .choose_multiple(&mut self.rng, n)
            .map(|(requester, blob)| Preimage { requester: *requester, blob: blob.clone() })
            .collect()
    }

    /// Orrery's import of `block` on `parent`, as a step's outcome, lookup anchors checked
    /// against `parent`'s ancestors.
    fn import(&self, parent: &Node, block: &Block) -> Result<ChainState, String> {
        let ancestry = Ancestors(&parent.ancestors);
        let options = ImportOptions { ancestry: Some(&ancestry), ..ImportOptions::default() };
        import_block(&self.ctx, &parent.state, block, &options)
            .map(|imported| imported.state)
            .map_err(|e| e.to_string())
    }

    /// Authors the next block (and its sibling or mutants) and queues their steps.
    fn advance(&mut self) -> Result<(), GenerateError> {
        let spec = self.ctx.spec.clone();
        let head = self.head.clone();
        let prior = head.state.state();
        let (slot, claim) = self.next_slot(prior, prior.timeslot)?;
        let mut pools =
            Pools { tickets: self.ticket_pool(prior, slot, &claim.posterior)?, ..Pools::default() };
        if self.rng.gen_bool(self.config.dispute_ratio) {
            pools.disputes = self.disputes(prior);
        }
        if self.rng.gen_bool(self.config.preimage_ratio) {
            pools.preimages = self.preimages(prior);
        }
        // What the manager solicited during the run is provided as soon as it is wanted: few
        // blobs, and the next step of their workload (a designate, a forget) waits for them.
        pools.preimages.extend(
            self.work.wanted(prior).into_iter().map(|(requester, blob)| Preimage { requester, blob }),
        );
        if self.config.work.ratio > 0.0 {
            pools.assurances = self.work.assurances(
                &mut self.rng,
                &self.keys,
                &self.by_ed25519,
                head.hash,
                prior,
                // Assurers sign as members of the prior `κ`, not `κ'` (GP 0.7.2 eq. 11.13).
                &prior.active_validators,
            );
            // A verdict may make a guarantor an offender in this very block: no report beside one.
            if pools.disputes.verdicts.is_empty() && self.rng.gen_bool(self.config.work.ratio) {
                pools.guarantees = self.work.guarantees(
                    &self.ctx,
                    &self.config.work,
                    &mut self.rng,
                    &self.keys,
                    &self.by_ed25519,
                    &head.ancestors,
                    &head.state,
                    slot,
                    &claim.posterior,
                );
            }
            self.counts.work = self.work.counts;
        }
        let block = author_block(
            &spec,
            &self.ctx.ring,
            &head.state,
            head.hash,
            slot,
            &self.keys[claim.author],
            &pools,
        )
        .map_err(|error| GenerateError::Author { slot, error })?;
        let post =
            self.import(&head, &block).map_err(|error| GenerateError::OwnBlockRejected { slot, error })?;

        // Mutants first, all on the head, then the sibling, then the block.
        if self.config.mutation_ratio > 0.0 && self.rng.gen_bool(self.config.mutation_ratio) {
            let n = self.rng.gen_range(1..=self.config.max_mutants.max(1));
            let mut kinds = Mutation::ALL.to_vec();
            kinds.shuffle(&mut self.rng);
            let other = (claim.author + self.rng.gen_range(1..self.keys.len())) % self.keys.len();
            let sealer = Sealer {
                spec: &spec,
                keys: &self.keys[claim.author],
                other: &self.keys[other],
                seal_input: &claim.seal_input,
                parent_slot: prior.timeslot,
                grandparent: self.parent.as_ref().map(|p| p.hash),
            };
            let mut mutants = Vec::new();
            for kind in kinds {
                if mutants.len() == n {
                    break;
                }
                if let Some(m) = mutate(kind, &block, &mut self.rng, &sealer) {
                    mutants.push((kind, m));
                }
            }
            for (kind, mutant) in mutants {
                // The state the mutant names as its parent's, if the chain has it.
                let outcome = if mutant.header.parent == head.hash {
                    self.import(&head, &mutant)
                } else {
                    match &self.parent {
                        Some(p) if p.hash == mutant.header.parent => self.import(p, &mutant),
                        _ => Err("unknown parent".into()),
                    }
                };
                self.counts.mutants += 1;
                self.queue.push_back(Step {
                    kind: StepKind::Mutant(kind),
                    block: mutant,
                    parent: head.hash,
                    pre_state: head.state.clone(),
                    outcome,
                });
            }
        }

        let mut next = head.child(header_hash(&block.header), slot, post.clone());
        if self.rng.gen_bool(self.config.fork_ratio) {
            let (sibling_slot, sibling_claim) = self.next_slot(prior, slot)?;
            let pools = Pools {
                tickets: self.ticket_pool(prior, sibling_slot, &sibling_claim.posterior)?,
                ..Pools::default()
            };
            let sibling = author_block(
                &spec,
                &self.ctx.ring,
                &head.state,
                head.hash,
                sibling_slot,
                &self.keys[sibling_claim.author],
                &pools,
            )
            .map_err(|error| GenerateError::Author { slot: sibling_slot, error })?;
            let sibling_post = self
                .import(&head, &sibling)
                .map_err(|error| GenerateError::OwnBlockRejected { slot: sibling_slot, error })?;
            self.counts.forks += 1;
            self.count_block(&sibling, prior, &sibling_claim);
            if self.rng.gen_bool(0.5) {
                next = head.child(header_hash(&sibling.header), sibling_slot, sibling_post.clone());
            }
            self.queue.push_back(Step {
                kind: StepKind::Fork,
                block: sibling,
                parent: head.hash,
                pre_state: head.state.clone(),
                outcome: Ok(sibling_post),
            });
        }
        self.count_block(&block, prior, &claim);
        self.queue.push_back(Step {
            kind: StepKind::Block,
            block,
            parent: head.hash,
            pre_state: head.state.clone(),
            outcome: Ok(post),
        });
        let offenders_before = prior.disputes.offenders.len();
        let offenders_after = next.state.state().disputes.offenders.len();
        self.offender_budget =
            self.offender_budget.saturating_sub(offenders_after.saturating_sub(offenders_before));
        self.parent = Some(head);
        self.head = next;
        Ok(())
    }

    fn count_block(&mut self, block: &Block, prior: &State, claim: &Claim) {
        let spec = &self.ctx.spec;
        self.counts.blocks += 1;
        self.counts.tickets += block.extrinsic.tickets.len() as u64;
        self.counts.verdicts += block.extrinsic.disputes.verdicts.len() as u64;
        self.counts.preimages += block.extrinsic.preimages.len() as u64;
        self.counts.offenders += block.header.offenders_mark.len() as u64;
        self.counts.epochs +=
            u64::from(block.header.slot / spec.epoch_length > prior.timeslot / spec.epoch_length);
        if !claim.seal_input.starts_with(context::FALLBACK_SEAL) {
            self.counts.ticket_sealed += 1;
        }
    }
}
