//! Block import (GP 0.7.2 §4.2, §5, §6.4): `(prior state, block) → posterior state or the rule the
//! block broke`, one pure function.
//!
//! [`import_block`] checks the header (parent state root, slot, extrinsic hash, author index, the
//! three markers, the seal and the entropy VRF), then composes the sub-transitions of `orrery-stf`
//! in the paper's order (eq. 4.5–4.20): disputes, Safrole, assurances, reports, accumulation,
//! preimages, history, authorizations, statistics. Nothing is written until every check has
//! passed: an error leaves the caller's prior state as it was, since the prior is only borrowed.
//!
//! The costly checks (the seal and the entropy source, the tickets' ring proofs, the assurers' and
//! guarantors' Ed25519 batches) run on the rayon pool beside the rest of the transition, whose
//! result only counts once they pass. Their verdicts are taken in the paper's order, so an invalid
//! block is rejected for the rule a sequential check would name.
//!
//! The state travels as a [`ChainState`]: the state σ with its serialization `T(σ)` in a persistent
//! [`Trie`]. A block re-serializes only the rows it changed and the trie re-hashes only their paths,
//! so the posterior state root costs what the block touched, not the size of the state. Cloning a
//! [`ChainState`] (for a fork) shares the trie's nodes.
//!
//! What is not here: where blocks and states are kept (`orrery-store`), how the parent is found
//! (the caller passes the parent's state), the ancestor set beyond what the caller provides, and
//! wall-clock time (the caller passes the current slot, or nothing to skip that rule).

#![forbid(unused_must_use)]

pub mod formats;
mod header;

use std::sync::{Arc, OnceLock};

use rayon::ScopeFifo;

use orrery_codec::Encode;
use orrery_crypto::bandersnatch::RingContext;
use orrery_crypto::blake2b_256;
use orrery_invocation::ProgramCache;
use orrery_merkle::Trie;
use orrery_state::serialization::{self, SerializationError};
use orrery_state::{CoresStatistics, ServicesStatistics, State, StateKey, Statistics};
use orrery_stf::accumulate::{self, AccumulateError, AccumulateInput, AccumulationState};
use orrery_stf::assurances::{self, AssurancesError};
use orrery_stf::disputes::{self, DisputesError, DisputesInput};
use orrery_stf::preimages::{self, PreimagesError};
use orrery_stf::reports::{self, Ancestry, ReportsError, ReportsInput};
use orrery_stf::safrole::{self, SafroleBlock, SafroleError, SafroleInput};
use orrery_stf::{authorizations, history, statistics};
use orrery_types::{BandersnatchPublic, Block, ChainSpec, Hash, HeaderHash, StateRoot, TimeSlot};

pub use header::{extrinsic_hash, HeaderError};

/// Why a block is invalid: the header rule or the sub-transition it broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    #[error("header: {0}")]
    Header(#[from] HeaderError),
    #[error("disputes (GP 0.7.2 §10): {0}")]
    Disputes(#[from] DisputesError),
    #[error("safrole (GP 0.7.2 §6): {0}")]
    Safrole(#[from] SafroleError),
    #[error("assurances (GP 0.7.2 §11.2): {0}")]
    Assurances(#[from] AssurancesError),
    #[error("guarantees (GP 0.7.2 §11.4): {0}")]
    Reports(#[from] ReportsError),
    #[error("preimages (GP 0.7.2 §12.4): {0}")]
    Preimages(#[from] PreimagesError),
    #[error("accumulation (GP 0.7.2 §12.2): {0}")]
    Accumulate(#[from] AccumulateError),
}

impl BlockError {
    /// A short name of the broken rule (the sub-transitions' names are the vectors' error codes).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Header(e) => e.code(),
            Self::Disputes(e) => e.code(),
            Self::Safrole(e) => e.code(),
            Self::Assurances(e) => e.code(),
            Self::Reports(e) => e.code(),
            Self::Preimages(e) => e.code(),
            Self::Accumulate(_) => "service_index_collision",
        }
    }
}

/// What import needs besides the state and the block; built once per process and shared.
#[derive(Debug)]
pub struct ImportContext {
    pub spec: ChainSpec,
    /// The Bandersnatch ring context for `V` keys: costly to build, so one per process.
    pub ring: Arc<RingContext>,
    /// Decoded service code, by code hash, across blocks.
    pub programs: ProgramCache,
    /// Whether to compute the next epoch's ring root in the background (see [`import_block`]).
    pub ring_roots_ahead: bool,
    /// The key set whose ring root a background thread is computing, if any.
    computing: Arc<std::sync::Mutex<Option<Vec<BandersnatchPublic>>>>,
}

impl ImportContext {
    pub fn new(spec: ChainSpec, ring: Arc<RingContext>) -> Self {
        Self {
            spec,
            ring,
            programs: ProgramCache::new(),
            ring_roots_ahead: true,
            computing: Default::default(),
        }
    }

    /// Starts computing the ring root of `keys` on a thread of its own, unless the ring context
    /// remembers it or a thread is already computing one (at most one such thread, whatever blocks
    /// come in). Returns whether a thread was started.
    fn ring_root_ahead(&self, keys: Vec<BandersnatchPublic>) -> bool {
        if self.ring.remembered_root(&keys).is_some() {
            return false;
        }
        let Ok(mut computing) = self.computing.lock() else { return false };
        if computing.is_some() {
            return false;
        }
        *computing = Some(keys.clone());
        drop(computing);
        let (ring, slot) = (self.ring.clone(), self.computing.clone());
        let started = std::thread::Builder::new().name("ring-root-ahead".into()).spawn(move || {
            // Clears the mark however the thread ends, a panic included.
            struct Done(Arc<std::sync::Mutex<Option<Vec<BandersnatchPublic>>>>);
            impl Drop for Done {
                fn drop(&mut self) {
                    if let Ok(mut computing) = self.0.lock() {
                        *computing = None;
                    }
                }
            }
            let _done = Done(slot);
            // A failure here only means the block at the epoch change computes the root itself.
            let _ = ring.ring_root(&keys);
        });
        if started.is_err() {
            if let Ok(mut computing) = self.computing.lock() {
                *computing = None;
            }
        }
        started.is_ok()
    }

    /// Readies what importing onto `state` will need and what costs milliseconds: the ring root
    /// the next epoch change will ask for (computed here, on this thread, unless remembered), the
    /// verifier of the current ring root, the sealing keys' tables, the signers' Ed25519 points
    /// and the services' decoded code. For when a state is loaded (a node's start, a fuzzer's
    /// `Initialize`), so that the first blocks do not pay for it; import is correct without it.
    pub fn prepare(&self, state: &ChainState) {
        let s = state.state();
        // Failures here are the import's to report, when a block needs the root.
        let _ = self.ring.ring_root(&next_ring_keys(s));
        let _ = self.ring.verifier(&s.safrole.ring_root);
        // The keys that seal this epoch's and the next's blocks, and the services' code.
        for set in [&s.active_validators, &s.safrole.pending_validators] {
            let keys: Vec<BandersnatchPublic> = set.iter().map(|k| k.bandersnatch).collect();
            orrery_crypto::bandersnatch::prepare_ietf_keys(&keys);
        }
        // The keys that sign assurances and guarantees (κ, and λ for late guarantees).
        for set in [&s.active_validators, &s.previous_validators] {
            let keys: Vec<[u8; 32]> = set.iter().map(|k| k.ed25519).collect();
            orrery_crypto::prepare_ed25519_keys(&keys);
        }
        for account in s.accounts.values() {
            self.programs.prepare(account);
        }
        // The checks run on rayon's pool; its threads start with the first job.
        rayon::broadcast(|_| ());
    }

    /// Waits until no ring root is being computed ahead (for tests and benchmarks).
    pub fn wait_for_ring_roots(&self) {
        while self.computing.lock().is_ok_and(|c| c.is_some()) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

/// Runs `work` (a loop that imports blocks) on a thread pool of its own, one thread per core.
///
/// [`import_block`] splits each block across the cores with `rayon::join`. Called from a thread
/// outside a pool, each block waits twice for a sleeping thread to wake (a pool thread to start
/// the work, then the caller to take the answer), 40–90 µs each as measured on the storage trace,
/// more than a tenth of a light block. Inside a pool the importing thread starts on its own half
/// at once and only the helper has to wake. A pool per caller (one per fuzzer session, say) keeps
/// callers that block on I/O from holding each other's threads. If no pool can be built, `work`
/// runs on this thread as before.
pub fn on_import_pool<R: Send>(name: &str, work: impl FnOnce() -> R + Send) -> R {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let name = name.to_owned();
    match rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(move |i| format!("{name}-{i}"))
        .build()
    {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
}

/// `γ'_P` as the next epoch change will set it if neither `ι` nor the offenders change before it
/// (GP 0.7.2 eq. 6.13–6.14): the staging keys with offenders' keys nulled.
fn next_ring_keys(state: &State) -> Vec<BandersnatchPublic> {
    state
        .staging_validators
        .iter()
        .map(|k| {
            if state.disputes.offenders.contains(&k.ed25519) {
                orrery_state::ValidatorData::NULL.bandersnatch
            } else {
                k.bandersnatch
            }
        })
        .collect()
}

/// What the caller knows that the state does not.
#[derive(Clone, Copy, Default)]
pub struct ImportOptions<'a> {
    /// The ancestor set `A` for the lookup-anchor rule (GP 0.7.2 eq. 11.35), when the caller keeps
    /// one; without it lookup anchors are checked for age only.
    pub ancestry: Option<&'a (dyn Ancestry + Sync)>,
    /// The current slot by the wall clock (`⌊T / P⌋`); a block from a later slot is not yet valid.
    /// `None` skips the rule (importing history, or a test chain).
    pub now: Option<TimeSlot>,
}

impl std::fmt::Debug for ImportOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportOptions")
            .field("ancestry", &self.ancestry.is_some())
            .field("now", &self.now)
            .finish()
    }
}

/// A state with its serialization kept as a trie, so that its root is always at hand.
#[derive(Debug, Clone)]
pub struct ChainState {
    state: State,
    trie: Trie,
}

impl ChainState {
    /// A state from its serialization (a trace's or a fuzzer's key/value pairs).
    pub fn from_pairs<'a>(
        spec: &ChainSpec,
        pairs: impl IntoIterator<Item = (&'a StateKey, &'a [u8])> + Clone,
    ) -> Result<Self, SerializationError> {
        let state = serialization::deserialize(spec, pairs)?;
        Ok(Self::from_state(state))
    }

    /// A state from rows kept as they were written (a store's base state): the trie is built from
    /// the rows themselves, so its root is theirs even if a decode and re-encode would differ.
    /// The rows may come in any order; a key given twice is an error.
    pub fn from_rows(
        spec: &ChainSpec,
        mut rows: Vec<(StateKey, Vec<u8>)>,
    ) -> Result<Self, SerializationError> {
        rows.sort_unstable_by_key(|a| a.0);
        if let Some(pair) = rows.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(SerializationError::DuplicateKey { key: pair[0].0 });
        }
        // Sorted and distinct, so the trie takes them.
        let trie = Trie::from_sorted(rows).unwrap_or_default();
        let state = serialization::deserialize(spec, trie.iter())?;
        Ok(Self { state, trie })
    }

    /// A state, serialized once.
    pub fn from_state(state: State) -> Self {
        let pairs = serialization::serialize(&state);
        // `serialize` yields sorted, distinct keys: exactly what `from_sorted` takes.
        let trie = Trie::from_sorted(pairs).unwrap_or_default();
        Self { state, trie }
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// `M_σ(σ)`.
    pub fn root(&self) -> StateRoot {
        self.trie.root()
    }

    /// `T(σ)`, in key order.
    pub fn pairs(&self) -> impl Iterator<Item = (&StateKey, &[u8])> + '_ {
        self.trie.iter()
    }

    /// The number of rows of `T(σ)`.
    pub fn len(&self) -> usize {
        self.trie.len()
    }

    pub fn is_empty(&self) -> bool {
        self.trie.is_empty()
    }

    /// The state whose serialization is this one's with `changes` applied (rows a block changed,
    /// as [`Imported::changes`] gives them): how a stored chain rebuilds a block's state from its
    /// parent's without running the block again.
    pub fn with_changes(
        &self,
        spec: &ChainSpec,
        changes: &[serialization::Change],
    ) -> Result<Self, SerializationError> {
        let mut trie = self.trie.clone();
        trie.apply(changes.iter().map(|(k, v)| (*k, v.as_deref())));
        let state = serialization::deserialize(spec, trie.iter())?;
        Ok(Self { state, trie })
    }

    /// The posterior: `state`, with the trie brought up to date by the rows that differ from `self`.
    /// Returns the changed rows too, for whoever persists states as differences.
    fn advance(&self, state: State) -> (Self, Vec<serialization::Change>) {
        let changes = serialization::changes(&self.state, &state);
        let mut trie = self.trie.clone();
        trie.apply(changes.iter().map(|(k, v)| (*k, v.as_deref())));
        (Self { state, trie }, changes)
    }
}

/// A block that passed every check, and what it made.
#[derive(Debug, Clone)]
pub struct Imported {
    /// `H(E(H))`.
    pub header_hash: HeaderHash,
    pub state: ChainState,
    /// The rows of `T(σ')` that differ from `T(σ)`.
    pub changes: Vec<serialization::Change>,
    /// `W` (eq. 11.16): the reports this block made available, in core order. A node indexes
    /// them to answer for a package's life after the state has forgotten it.
    pub available: Vec<orrery_types::WorkReport>,
}

/// σ' and the reports the block made available on the way.
struct Posterior {
    state: State,
    available: Vec<orrery_types::WorkReport>,
}

/// `H(E(H))`: a header's hash.
pub fn header_hash(header: &orrery_types::Header) -> HeaderHash {
    blake2b_256(&header.encode())
}

/// Imports `block` on `prior`, the state of its parent (GP 0.7.2 §4.2).
pub fn import_block(
    ctx: &ImportContext,
    prior: &ChainState,
    block: &Block,
    options: &ImportOptions<'_>,
) -> Result<Imported, BlockError> {
    let spec = &ctx.spec;
    let header = &block.header;
    let s = &prior.state;

    // The costliest checks (the seal and the entropy source, a VRF check each; the tickets' ring
    // proofs; the Ed25519 batches) do not feed the transition. They run as jobs beside it, taken
    // oldest first by whichever core is free, while this thread applies the transition (the long
    // part of blocks that accumulate). Their verdicts are taken afterwards, in the paper's order.
    //
    // The seal and the entropy source depend on Safrole's outcome only through κ', γ'_S and η'_3,
    // which within the prior state's epoch are the prior state's: for such a block they start at
    // once; for the first block of an epoch, once Safrole has run.
    let mut checks = SideChecks::default();
    let early = header::SealKeys::within_prior_epoch(spec, header.slot, s);
    let transition = rayon::in_place_scope_fifo(|scope| {
        if let Some(keys) = early {
            checks.spawn_seal(scope, spec, header, SealKeysRef::Borrowed(keys));
        }
        transition(ctx, prior, block, options, early.is_none(), scope, &checks)
    });
    let Transition { marks, extrinsics } = transition?;
    checks.tickets.take().unwrap_or(Err(SafroleError::BadTicketProof))?;
    marks?;
    checks.seal.take().unwrap_or(Err(HeaderError::BadSeal))?;
    checks.entropy_source.take().unwrap_or(Err(HeaderError::BadEntropySource))?;
    let rest = extrinsics?;
    checks.signatures.take().unwrap_or(Err(BlockError::Assurances(AssurancesError::BadSignature)))?;
    let Posterior { state, available } = rest?;

    if ctx.ring_roots_ahead {
        // The first block of an epoch needs the ring root of the new keys (eq. 6.14), a large
        // multi-scalar multiplication that would dominate that block's import. The keys are
        // known as soon as `ι` is, so compute the root now, off the import path; the ring
        // context remembers it for the epoch change. Wrong guesses (ι changed, new offenders)
        // cost only the background work: the epoch change then computes its own.
        ctx.ring_root_ahead(next_ring_keys(&state));
    }
    let (state, changes) = prior.advance(state);
    Ok(Imported { header_hash: header_hash(header), state, changes, available })
}

/// The verdicts of the checks run as jobs beside the transition, each set by its job. A verdict
/// missing when it is read (its job never ran) fails the block.
#[derive(Default)]
struct SideChecks {
    tickets: OnceLock<Result<(), SafroleError>>,
    seal: OnceLock<Result<(), HeaderError>>,
    entropy_source: OnceLock<Result<(), HeaderError>>,
    signatures: OnceLock<Result<(), BlockError>>,
}

/// What the seal is checked against: read from the prior state, or Safrole's output kept for the
/// jobs.
#[derive(Clone)]
enum SealKeysRef<'a> {
    Borrowed(header::SealKeys<'a>),
    Posterior(Arc<safrole::SafroleOutput>),
}

impl SealKeysRef<'_> {
    fn keys(&self) -> header::SealKeys<'_> {
        match self {
            SealKeysRef::Borrowed(keys) => *keys,
            SealKeysRef::Posterior(safrole) => header::SealKeys::posterior(safrole),
        }
    }
}

impl SideChecks {
    /// The seal and the entropy source, as two jobs.
    fn spawn_seal<'s>(
        &'s self,
        scope: &ScopeFifo<'s>,
        spec: &'s ChainSpec,
        header: &'s orrery_types::Header,
        keys: SealKeysRef<'s>,
    ) {
        let seal_keys = keys.clone();
        scope.spawn_fifo(move |_| {
            let _ = self.seal.set(header::check_seal(spec, header, seal_keys.keys()));
        });
        scope.spawn_fifo(move |_| {
            let _ = self.entropy_source.set(header::check_entropy_source(spec, header, keys.keys()));
        });
    }
}

/// What [`transition`] leaves for the caller to take after the checks' verdicts: the markers'
/// verdict (after the tickets'), and the extrinsics' outcome: an `Err` for a rule that comes
/// before the Ed25519 signatures, else the rest, whose errors come after them.
struct Transition {
    marks: Result<(), HeaderError>,
    extrinsics: Result<Result<Posterior, BlockError>, BlockError>,
}

/// The block's transition, its costly checks spawned on `scope` (the seal too if `check_seal`).
/// An `Err` is a rule that comes before every check's verdict: the header's own rules,
/// disputes, Safrole.
#[allow(clippy::too_many_arguments)]
fn transition<'s>(
    ctx: &'s ImportContext,
    prior: &'s ChainState,
    block: &'s Block,
    options: &ImportOptions<'_>,
    check_seal: bool,
    scope: &ScopeFifo<'s>,
    checks: &'s SideChecks,
) -> Result<Transition, BlockError> {
    let spec = &ctx.spec;
    let header = &block.header;
    let extrinsic = &block.extrinsic;
    let s = &prior.state;
    let slot = header.slot;

    // What the header alone, with the prior state, decides.
    header::check_before(spec, header, extrinsic, s, prior.root(), options.now)?;

    // ψ', ρ† and the offenders marker (§10).
    let disputed = disputes::apply(
        spec,
        DisputesInput {
            records: &s.disputes,
            pending: &s.pending_reports,
            prior_slot: s.timeslot,
            active: &s.active_validators,
            previous: &s.previous_validators,
        },
        &extrinsic.disputes,
    )?;
    if header.offenders_mark != disputed.offenders_mark {
        return Err(HeaderError::OffendersMark.into());
    }

    // τ', η', κ', λ', γ' and the epoch and tickets markers (§6). η'_0 takes `Y(H_v)`, read here
    // from the signature and verified with the seal before anything is kept.
    let entropy_source = orrery_crypto::bandersnatch::vrf_output(&header.entropy_source)
        .map_err(|_| HeaderError::BadEntropySource)?;
    let (safrole, ticket_proofs) = safrole::apply_deferring_proofs(
        spec,
        &ctx.ring,
        SafroleInput {
            slot: s.timeslot,
            entropy: &s.entropy,
            previous: &s.previous_validators,
            active: &s.active_validators,
            staging: &s.staging_validators,
            safrole: &s.safrole,
            offenders: &disputed.records.offenders,
        },
        SafroleBlock { slot, entropy_source, tickets: &extrinsic.tickets },
    )?;
    let marks = if header.epoch_mark != safrole.epoch_mark {
        Err(HeaderError::EpochMark)
    } else if header.tickets_mark != safrole.tickets_mark {
        Err(HeaderError::TicketsMark)
    } else {
        Ok(())
    };
    scope.spawn_fifo(move |_| {
        let _ = checks.tickets.set(ticket_proofs.verify(&ctx.ring));
    });
    if check_seal {
        checks.spawn_seal(scope, spec, header, SealKeysRef::Posterior(Arc::new(safrole.clone())));
    } else {
        #[cfg(debug_assertions)]
        {
            let early = header::SealKeys::within_prior_epoch(spec, slot, s);
            debug_assert!(early.is_some_and(|e| e.same_as(&header::SealKeys::posterior(&safrole))));
        }
    }
    let extrinsics = apply_extrinsics(ctx, prior, block, options, disputed, safrole, scope, checks);
    Ok(Transition { marks, extrinsics })
}

/// Everything after Safrole: assurances, guarantees, accumulation, preimages, history,
/// authorizations and statistics, giving σ'. The assurers' and guarantors' signatures are
/// verified by a job on `scope`; an `Err` is a rule that comes before them.
#[allow(clippy::too_many_arguments)]
fn apply_extrinsics<'s>(
    ctx: &ImportContext,
    prior: &ChainState,
    block: &Block,
    options: &ImportOptions<'_>,
    disputed: disputes::DisputesOutput,
    safrole: safrole::SafroleOutput,
    scope: &ScopeFifo<'s>,
    checks: &'s SideChecks,
) -> Result<Result<Posterior, BlockError>, BlockError> {
    let spec = &ctx.spec;
    let header = &block.header;
    let extrinsic = &block.extrinsic;
    let s = &prior.state;
    let slot = header.slot;

    // β† (eq. 7.5): the parent's state root goes into the last history entry.
    let recent = history::correct_parent_state_root(&s.recent_blocks, header.parent_state_root);

    // ρ‡ and W (§11.2): assurances are signed by the prior active set κ (eq. 11.13).
    let (assured, assurance_signatures) = assurances::apply_deferring_signatures(
        spec,
        &disputed.pending,
        &s.active_validators,
        slot,
        &header.parent,
        &extrinsic.assurances,
    )?;

    // ρ' (§11.4), against the packages already in the pipeline of the prior state.
    let known = reports::known_packages(
        &s.recent_blocks,
        s.accumulated.0.iter().flatten(),
        s.ready_queue.0.iter().flatten().map(|r| &r.report),
        &s.pending_reports,
    );
    let reported = reports::apply_deferring_signatures(
        spec,
        &ReportsInput {
            slot,
            pending: &assured.pending,
            active: &safrole.active,
            previous: &safrole.previous,
            entropy: &safrole.entropy,
            offenders: &disputed.records.offenders,
            recent: &recent,
            auth_pools: &s.auth_pools,
            services: &s.accounts,
            known_packages: &known,
            ancestry: options.ancestry.map(|a| a as &dyn Ancestry),
        },
        &extrinsic.guarantees,
    );
    let (reported, guarantee_signatures) = match reported {
        Ok(reported) => reported,
        Err(e) => {
            // In the paper's order the assurers' signatures come before every guarantee rule.
            assurance_signatures.verify().map_err(|_| AssurancesError::BadSignature)?;
            return Err(e.into());
        }
    };

    // The Ed25519 signatures of both (a batch multiplication each), beside the rest of the
    // transition, whose outcome only counts once they have passed.
    scope.spawn_fifo(move |_| {
        let verdict = match assurance_signatures.verify() {
            Err(_) => Err(AssurancesError::BadSignature.into()),
            Ok(()) => guarantee_signatures.verify().map_err(|_| ReportsError::BadSignature.into()),
        };
        let _ = checks.signatures.set(verdict);
    });
    Ok(accumulate_onwards(ctx, prior, block, safrole, disputed, recent, assured, reported))
}

/// From the preimages on: accumulation, preimages, history, authorizations and statistics,
/// giving σ' (the assurances and guarantees applied, their signatures not yet verified).
#[allow(clippy::too_many_arguments)]
fn accumulate_onwards(
    ctx: &ImportContext,
    prior: &ChainState,
    block: &Block,
    safrole: safrole::SafroleOutput,
    disputed: disputes::DisputesOutput,
    recent: orrery_state::RecentBlocks,
    assured: assurances::AssurancesOutput,
    reported: reports::ReportsOutput,
) -> Result<Posterior, BlockError> {
    let spec = &ctx.spec;
    let header = &block.header;
    let extrinsic = &block.extrinsic;
    let s = &prior.state;
    let slot = header.slot;

    // E_P against the prior accounts (§12.4); integrated after accumulation.
    preimages::validate(&s.accounts, &extrinsic.preimages)?;

    // δ‡, ι', φ', χ', ω', ξ', θ' and S (§12.1–12.3).
    let accumulated = accumulate::apply(
        spec,
        AccumulationState {
            accounts: s.accounts.clone(),
            staging: s.staging_validators.clone(),
            auth_queues: s.auth_queues.clone(),
            privileges: s.privileges.clone(),
            ready: s.ready_queue.clone(),
            accumulated: s.accumulated.clone(),
        },
        &AccumulateInput {
            slot,
            prior_slot: s.timeslot,
            entropy: &safrole.entropy.0[0],
            available: &assured.available,
        },
        &ctx.programs,
    )?;
    let accumulation_root = accumulated.root();
    let acc = accumulated.state;

    // δ' (eq. 12.34).
    let mut accounts = acc.accounts;
    preimages::integrate(&mut accounts, &extrinsic.preimages, slot);

    // β' (eq. 7.8).
    let recent = history::append(&recent, header_hash(header), accumulation_root, &reported.reported);

    // α' (eq. 8.3), from φ'.
    let auth_pools = authorizations::apply(
        &s.auth_pools,
        &acc.auth_queues,
        slot,
        authorizations::used_authorizers(&extrinsic.guarantees),
    );

    // π' (§13): validators over the epoch; cores and services over this block alone.
    let (vals_curr, vals_last) = statistics::validators(
        spec,
        &s.statistics.vals_curr,
        &s.statistics.vals_last,
        s.timeslot,
        slot,
        header.author_index,
        extrinsic,
        &safrole.active,
        &reported.reporters,
    );
    let mut cores = CoresStatistics::zeroed(usize::from(spec.cores_count));
    let mut services = ServicesStatistics::new();
    statistics::add_reports(&mut cores, &mut services, extrinsic.guarantees.iter().map(|g| &g.report));
    statistics::add_availability(&mut cores, &assured.available, &extrinsic.assurances);
    statistics::add_preimages(&mut services, &extrinsic.preimages);
    accumulate::add_statistics(&mut services, &accumulated.statistics);

    let state = State {
        auth_pools,
        auth_queues: acc.auth_queues,
        recent_blocks: recent,
        safrole: safrole.safrole,
        disputes: disputed.records,
        entropy: safrole.entropy,
        staging_validators: acc.staging,
        active_validators: safrole.active,
        previous_validators: safrole.previous,
        pending_reports: reported.pending,
        timeslot: slot,
        privileges: acc.privileges,
        statistics: Statistics { vals_curr, vals_last, cores, services },
        ready_queue: acc.ready,
        accumulated: acc.accumulated,
        accumulation_outputs: accumulated.outputs,
        accounts,
    };
    Ok(Posterior { state, available: assured.available })
}

/// The root a set of pairs would have, for comparing with an expected one.
pub fn pairs_root<'a>(pairs: impl IntoIterator<Item = (&'a StateKey, &'a [u8])>) -> Hash {
    let mut sorted: Vec<(StateKey, &[u8])> = pairs.into_iter().map(|(k, v)| (*k, v)).collect();
    sorted.sort_unstable_by_key(|a| a.0);
    sorted.dedup_by(|a, b| a.0 == b.0);
    orrery_merkle::trie::root_of_sorted(&sorted).unwrap_or_default()
}
