//! Blocks and states on disk for block import (GP 0.7.2 §4.2, §19): a chain that imports each
//! block onto its parent's state, keeps forks apart until finality prunes them, and survives being
//! killed at any moment.
//!
//! Layout (see [`backend::Table`]): every block's record by header hash; for each block not yet
//! final, the rows of `T(σ)` it changed (its "diff" against its parent); the full state of the last
//! final block as its rows; and the genesis, best and final hashes. Importing a block is one atomic,
//! durable batch (record, diff, best): after a crash the store holds either all of it or none.
//! Finalizing folds the final chain's diffs into the base state and drops the forks off it, again
//! in one batch. On opening, the final state is read back, each newer block's state is rebuilt from
//! its parent's and its diff, and every root is checked against the one recorded at import.
//!
//! In memory the chain keeps the state of every block from the final one on (as `ChainState`s,
//! which share their tries' unchanged nodes), so a block on either side of a fork imports without
//! touching the disk.
//!
//! A chain starts from a [`Start`]: a genesis header with its state, or only the hash of a block
//! whose posterior state is known (a trace step's pre-state, a fuzzer's initial state). The best
//! block is the one with the latest slot (ties keep the first imported); blocks `finality_depth`
//! below it become final. The engine is `redb` ([`Redb`], on disk or in memory), behind the
//! [`Backend`] trait.

#![forbid(unused_must_use)]

pub mod backend;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use orrery_codec::{decode_exact, Decode, Describe, Encode};
use orrery_import::{header_hash, import_block, BlockError, ChainState, ImportContext, ImportOptions};
use orrery_state::serialization::{Change, SerializationError};
use orrery_state::StateKey;
use orrery_stf::reports::Ancestry;
use orrery_types::{Block, Hash, Header, HeaderHash, StateRoot, TimeSlot};

pub use backend::{Backend, BackendError, Redb, Rows, Table, Write};

/// Why the chain could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage: {0}")]
    Backend(#[from] BackendError),
    #[error("the block is invalid: {0}")]
    Invalid(#[from] BlockError),
    #[error("block {0} is already imported")]
    AlreadyImported(String),
    #[error("the parent {0} is not a block of this chain (or was pruned)")]
    UnknownParent(String),
    /// The parent is a final block older than the newest final one: a block on it would fork
    /// below finality, which no valid chain does (GP 0.7.2 §19: the best chain descends from the
    /// finalized block).
    #[error("the parent {parent} is final but below the final block {finalized}; blocks are built on the final block or its descendants")]
    BelowFinalized { parent: String, finalized: String },
    #[error("the database holds no chain; give a genesis")]
    Empty,
    #[error("the database holds a chain already, from another start block")]
    OtherGenesis,
    #[error("block {0} is not on the best chain above the final block")]
    NotOnBestChain(String),
    #[error("the database is inconsistent: {0}")]
    Corrupt(String),
}

impl From<SerializationError> for StoreError {
    fn from(e: SerializationError) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// What the `Blocks` table holds for a header hash.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
struct BlockRecord {
    slot: TimeSlot,
    parent: HeaderHash,
    state_root: StateRoot,
    /// The encoded block (empty for the start block).
    block: Vec<u8>,
    /// The start block's encoded header, when it was given one.
    header: Vec<u8>,
}

/// One changed row, as the `Diffs` table stores it.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
struct Row {
    key: StateKey,
    value: Option<Vec<u8>>,
}

/// What a block did to a work package, as the `Packages` table keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageStage {
    /// The block's guarantees extrinsic carried its report (GP 0.7.2 §11.4).
    Reported = 0,
    /// The block's assurances made its report available (`W`, eq. 11.16).
    Available = 1,
}

/// One block's mark on a work package's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageMark {
    pub block: HeaderHash,
    pub slot: TimeSlot,
    pub stage: PackageStage,
    pub core: u16,
    /// `H(E(report))`.
    pub report_hash: Hash,
}

/// The `Packages` table's value: the slot, core and report hash.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
struct PackageRecord {
    slot: TimeSlot,
    core: u16,
    report_hash: Hash,
}

/// Package hash ⌢ header hash ⌢ stage: a package's marks sort together, by block then stage.
fn package_key(package: &Hash, block: &HeaderHash, stage: PackageStage) -> [u8; 65] {
    let mut key = [0u8; 65];
    key[..32].copy_from_slice(package);
    key[32..64].copy_from_slice(block);
    key[64] = stage as u8;
    key
}

const GENESIS: &[u8] = b"genesis";
const BEST: &[u8] = b"best";
const FINALIZED: &[u8] = b"finalized";
const WARP_SINCE: &[u8] = b"warp-since";

/// A block the chain holds in memory: from the final block on.
#[derive(Debug, Clone)]
struct Node {
    slot: TimeSlot,
    parent: HeaderHash,
    state: ChainState,
    /// The rows its block changed (empty for the final block), folded into the base state when
    /// the block becomes final.
    changes: Vec<Change>,
}

/// The block a chain starts from, with its posterior state: a genesis header, or only the hash
/// and slot of a block whose state is known (a trace step's pre-state, a fuzzer's initial state).
#[derive(Debug, Clone)]
pub struct Start {
    pub hash: HeaderHash,
    pub slot: TimeSlot,
    /// The block's parent, when known (zero otherwise); the chain never goes below the start.
    pub parent: HeaderHash,
    pub header: Option<Header>,
    pub state: ChainState,
}

impl Start {
    /// A genesis block: its header and the state it sets.
    pub fn genesis(header: Header, state: ChainState) -> Self {
        Self {
            hash: header_hash(&header),
            slot: header.slot,
            parent: header.parent,
            header: Some(header),
            state,
        }
    }

    /// The block `hash`, of which only the posterior state is known; its slot is the state's `τ`.
    pub fn anchor(hash: HeaderHash, state: ChainState) -> Self {
        Self { hash, slot: state.state().timeslot, parent: HeaderHash::default(), header: None, state }
    }
}

/// What importing a block did.
#[derive(Debug, Clone)]
pub struct ImportOutcome {
    pub hash: HeaderHash,
    pub slot: TimeSlot,
    pub state_root: StateRoot,
    /// The pure import (checks and transition, state root included).
    pub import_time: Duration,
    /// Writing it to disk, durably (finalization included, when the block made one).
    pub commit_time: Duration,
    /// Whether it became the best block.
    pub best: bool,
}

/// The ancestors of a block, along its parent chain.
struct Ancestors {
    known: Vec<(HeaderHash, TimeSlot)>,
    /// When the chain started from a block known only by its state, its ancestors are unknown:
    /// anchors older than it cannot be checked and are let through (their age still is checked).
    unknown_before: Option<TimeSlot>,
}

impl Ancestry for Ancestors {
    fn contains(&self, header: &HeaderHash, slot: TimeSlot) -> bool {
        self.known.iter().any(|(h, s)| h == header && *s == slot)
            || self.unknown_before.is_some_and(|start| slot < start)
    }
}

/// A chain of blocks on disk.
pub struct Chain {
    ctx: Arc<ImportContext>,
    db: Box<dyn Backend>,
    nodes: HashMap<HeaderHash, Node>,
    /// Every block's slot and parent, final ones included (for the ancestor set).
    headers: HashMap<HeaderHash, (TimeSlot, HeaderHash)>,
    genesis: HeaderHash,
    /// Whether the chain started from a block without its header (see [`Start::anchor`]).
    anchored: bool,
    best: HeaderHash,
    finalized: HeaderHash,
    finality_depth: u32,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("blocks_in_memory", &self.nodes.len())
            .field("best", &hex(&self.best))
            .field("finalized", &hex(&self.finalized))
            .finish()
    }
}

/// Lower-case hex, for messages.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash_of(bytes: &[u8]) -> Result<HeaderHash, StoreError> {
    bytes.try_into().map_err(|_| StoreError::Corrupt("a hash is not 32 octets".into()))
}

fn put(table: Table, key: &[u8], value: Vec<u8>) -> Write {
    Write { table, key: key.to_vec(), value: Some(value) }
}

/// Erasure root then shard index, big-endian so a root's shards sort by index.
fn shard_key(erasure_root: &Hash, index: u16) -> [u8; 34] {
    let mut key = [0u8; 34];
    key[..32].copy_from_slice(erasure_root);
    key[32..].copy_from_slice(&index.to_be_bytes());
    key
}

fn delete(table: Table, key: &[u8]) -> Write {
    Write { table, key: key.to_vec(), value: None }
}

impl Chain {
    /// Opens the chain in `db`, or starts it from `start` when `db` is empty. A chain already in
    /// `db` must have started from the same block. Blocks deeper than `finality_depth` below the
    /// best block become final as the chain grows.
    pub fn open(
        ctx: Arc<ImportContext>,
        db: Box<dyn Backend>,
        start: Option<Start>,
        finality_depth: u32,
    ) -> Result<Self, StoreError> {
        if let Some(stored) = db.get(Table::Meta, GENESIS)? {
            if let Some(start) = &start {
                if start.hash != hash_of(&stored)? {
                    return Err(StoreError::OtherGenesis);
                }
            }
            return Self::recover(ctx, db, finality_depth);
        }
        let Start { hash, slot, parent, header, state } = start.ok_or(StoreError::Empty)?;
        let anchored = header.is_none();
        let record = BlockRecord {
            slot,
            parent,
            state_root: state.root(),
            block: Vec::new(),
            header: header.map(|h| h.encode()).unwrap_or_default(),
        };
        let mut batch: Vec<Write> = state.pairs().map(|(k, v)| put(Table::Base, k, v.to_vec())).collect();
        batch.push(put(Table::Blocks, &hash, record.encode()));
        for key in [BEST, FINALIZED, GENESIS] {
            batch.push(put(Table::Meta, key, hash.to_vec()));
        }
        // One batch: a crash leaves either no chain (the next run starts again) or all of it.
        db.commit(&batch)?;
        ctx.prepare(&state);
        let nodes = HashMap::from([(hash, Node { slot, parent, state, changes: Vec::new() })]);
        let headers = HashMap::from([(hash, (slot, parent))]);
        Ok(Self {
            ctx,
            db,
            nodes,
            headers,
            genesis: hash,
            anchored,
            best: hash,
            finalized: hash,
            finality_depth,
        })
    }

    /// Reads the chain back: the final state from its rows, then every newer block's state from its
    /// parent's and its diff, each checked against its recorded root.
    fn recover(
        ctx: Arc<ImportContext>,
        db: Box<dyn Backend>,
        finality_depth: u32,
    ) -> Result<Self, StoreError> {
        let meta = |key: &[u8]| -> Result<HeaderHash, StoreError> {
            let value = db.get(Table::Meta, key)?;
            hash_of(
                &value.ok_or_else(|| StoreError::Corrupt(format!("no {}", String::from_utf8_lossy(key))))?,
            )
        };
        let (genesis, best, finalized) = (meta(GENESIS)?, meta(BEST)?, meta(FINALIZED)?);
        let lengths = ctx.spec.lengths();
        let mut records: HashMap<HeaderHash, BlockRecord> = HashMap::new();
        for (key, value) in db.scan(Table::Blocks)? {
            let record: BlockRecord = decode_exact(&value, lengths)
                .map_err(|e| StoreError::Corrupt(format!("a block record: {e}")))?;
            records.insert(hash_of(&key)?, record);
        }
        let headers = records.iter().map(|(h, r)| (*h, (r.slot, r.parent))).collect();

        let mut rows = Vec::new();
        for (k, v) in db.scan(Table::Base)? {
            let key: StateKey =
                k.as_slice().try_into().map_err(|_| StoreError::Corrupt("a state key".into()))?;
            rows.push((key, v));
        }
        let base = ChainState::from_rows(&ctx.spec, rows)?;
        let final_record = records
            .get(&finalized)
            .ok_or_else(|| StoreError::Corrupt("no record of the final block".into()))?;
        if base.root() != final_record.state_root {
            return Err(StoreError::Corrupt("the final state's root is not the recorded one".into()));
        }
        let mut nodes = HashMap::new();
        nodes.insert(
            finalized,
            Node { slot: final_record.slot, parent: final_record.parent, state: base, changes: Vec::new() },
        );

        // Blocks with a diff, rebuilt parents before children.
        let mut pending: Vec<(HeaderHash, Vec<Change>)> = Vec::new();
        for (key, value) in db.scan(Table::Diffs)? {
            let rows: Vec<Row> =
                decode_exact(&value, lengths).map_err(|e| StoreError::Corrupt(format!("a diff: {e}")))?;
            pending.push((hash_of(&key)?, rows.into_iter().map(|r| (r.key, r.value)).collect()));
        }
        while !pending.is_empty() {
            let before = pending.len();
            let mut rest = Vec::new();
            for (hash, changes) in pending {
                let record =
                    records.get(&hash).ok_or_else(|| StoreError::Corrupt("a diff without a block".into()))?;
                match nodes.get(&record.parent) {
                    Some(parent) => {
                        let state = parent.state.with_changes(&ctx.spec, &changes)?;
                        if state.root() != record.state_root {
                            return Err(StoreError::Corrupt(format!(
                                "block {}: the rebuilt root differs",
                                hex(&hash)
                            )));
                        }
                        nodes.insert(hash, Node { slot: record.slot, parent: record.parent, state, changes });
                    }
                    None => rest.push((hash, changes)),
                }
            }
            if rest.len() == before {
                // Finalization deletes a pruned fork's diffs in the batch that prunes it.
                return Err(StoreError::Corrupt(format!("{} diffs descend from no kept block", rest.len())));
            }
            pending = rest;
        }
        let Some(best_node) = nodes.get(&best) else {
            return Err(StoreError::Corrupt("the best block's state cannot be rebuilt".into()));
        };
        ctx.prepare(&best_node.state);
        let anchored = records.get(&genesis).is_none_or(|r| r.header.is_empty());
        Ok(Self { ctx, db, nodes, headers, genesis, anchored, best, finalized, finality_depth })
    }

    /// The import context.
    pub fn context(&self) -> &ImportContext {
        &self.ctx
    }

    /// The storage engine, for inspection.
    pub fn backend(&self) -> &dyn Backend {
        self.db.as_ref()
    }

    pub fn genesis(&self) -> HeaderHash {
        self.genesis
    }

    /// The best block: its hash, slot and state root.
    pub fn best(&self) -> (HeaderHash, TimeSlot, StateRoot) {
        let node = &self.nodes[&self.best];
        (self.best, node.slot, node.state.root())
    }

    /// The last final block.
    pub fn finalized(&self) -> HeaderHash {
        self.finalized
    }

    /// The posterior state of a block from the final one on (older states are not kept).
    pub fn state(&self, hash: &HeaderHash) -> Option<&ChainState> {
        self.nodes.get(hash).map(|n| &n.state)
    }

    /// Whether the chain holds this block (final ones included; pruned forks not).
    pub fn contains(&self, hash: &HeaderHash) -> bool {
        self.headers.contains_key(hash)
    }

    /// The slot and parent of a block the chain holds, final ones included.
    pub fn header_of(&self, hash: &HeaderHash) -> Option<(TimeSlot, HeaderHash)> {
        self.headers.get(hash).copied()
    }

    /// The blocks held in memory (the final one and every block above it, forks included), as
    /// (hash, slot, parent), in no particular order.
    pub fn unfinalized(&self) -> impl Iterator<Item = (HeaderHash, TimeSlot, HeaderHash)> + '_ {
        self.nodes.iter().map(|(h, n)| (*h, n.slot, n.parent))
    }

    /// Makes `hash`, a block held in memory, the best block, for a caller that chooses the best chain
    /// by a rule of its own (GP 0.7.2 §19) rather than the latest slot; stored durably.
    pub fn set_best(&mut self, hash: HeaderHash) -> Result<(), StoreError> {
        if !self.nodes.contains_key(&hash) {
            return Err(StoreError::NotOnBestChain(hex(&hash)));
        }
        if hash != self.best {
            self.db.commit(&[put(Table::Meta, BEST, hash.to_vec())])?;
            self.best = hash;
        }
        Ok(())
    }

    /// Keeps availability records (shard `index` of the package with `erasure_root`), all in one
    /// durable batch: after a crash either every one is there or none.
    pub fn put_shards(&self, shards: &[(Hash, u16, Vec<u8>)]) -> Result<(), StoreError> {
        let batch: Vec<Write> = shards
            .iter()
            .map(|(root, index, record)| put(Table::Shards, &shard_key(root, *index), record.clone()))
            .collect();
        Ok(self.db.commit(&batch)?)
    }

    /// The availability record of shard `index` of `erasure_root`, if kept.
    pub fn shard(&self, erasure_root: &Hash, index: u16) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get(Table::Shards, &shard_key(erasure_root, index))?)
    }

    /// Keeps the warp-sync fragment of voter set `set_id`'s handover, whose block `first` begins the
    /// next set, in one durable batch.
    pub fn put_warp_fragment(
        &self,
        set_id: u32,
        fragment: Vec<u8>,
        first: &HeaderHash,
    ) -> Result<(), StoreError> {
        let batch =
            [put(Table::Warp, &set_id.to_be_bytes(), fragment), put(Table::Meta, WARP_SINCE, first.to_vec())];
        Ok(self.db.commit(&batch)?)
    }

    /// The block the newest kept handover began its set at (`None` before any).
    pub fn warp_since(&self) -> Result<Option<HeaderHash>, StoreError> {
        self.db.get(Table::Meta, WARP_SINCE)?.map(|bytes| hash_of(&bytes)).transpose()
    }

    /// At most `limit` warp-sync fragments, of sets `from` and later, by set id in order (a peer's
    /// request reads only what it can be sent).
    pub fn warp_fragments(&self, from: u32, limit: usize) -> Result<Vec<(u32, Vec<u8>)>, StoreError> {
        let mut out = Vec::new();
        for (key, value) in self.db.scan_from(Table::Warp, &from.to_be_bytes(), limit)? {
            let Ok(id) = <[u8; 4]>::try_from(key.as_slice()) else {
                return Err(StoreError::Corrupt(format!("a warp fragment under a {}-byte key", key.len())));
            };
            out.push((u32::from_be_bytes(id), value));
        }
        Ok(out)
    }

    /// Drops availability records, in one batch.
    pub fn remove_shards(&self, shards: &[(Hash, u16)]) -> Result<(), StoreError> {
        let batch: Vec<Write> =
            shards.iter().map(|(root, index)| delete(Table::Shards, &shard_key(root, *index))).collect();
        Ok(self.db.commit(&batch)?)
    }

    /// Every availability record kept, by (erasure root, shard index) in order: for a node that
    /// restarts to learn what it holds.
    pub fn shards(&self) -> Result<Vec<(Hash, u16, Vec<u8>)>, StoreError> {
        self.db
            .scan(Table::Shards)?
            .into_iter()
            .map(|(key, record)| {
                let (root, index) = key
                    .split_first_chunk::<32>()
                    .and_then(|(root, rest)| Some((*root, u16::from_be_bytes(rest.try_into().ok()?))))
                    .ok_or_else(|| StoreError::Corrupt("a shard key is not 34 octets".into()))?;
                Ok((root, index, record))
            })
            .collect()
    }

    /// Every block recorded as carrying a guarantee (the `Packages` table's reported marks), by slot,
    /// oldest first, each once; blocks of pruned forks included (the chain no longer holds them).
    pub fn reporting_blocks(&self) -> Result<Vec<(TimeSlot, HeaderHash)>, StoreError> {
        let mut blocks = std::collections::BTreeSet::new();
        for (key, value) in self.db.scan(Table::Packages)? {
            let Some([block @ .., 0]) = key.get(32..) else { continue };
            let record: PackageRecord = decode_exact(&value, self.ctx.spec.lengths())
                .map_err(|e| StoreError::Corrupt(format!("a package record: {e}")))?;
            blocks.insert((record.slot, hash_of(block)?));
        }
        Ok(blocks.into_iter().collect())
    }

    /// What the blocks of the chain ending at `at` did to work package `package`, oldest first:
    /// the blocks whose guarantees carried its report and the block that made it available. Marks
    /// of forks pruned since stay on disk but are never answered (their blocks are not held).
    pub fn package_marks(&self, package: &Hash, at: &HeaderHash) -> Result<Vec<PackageMark>, StoreError> {
        let mut marks = Vec::new();
        for (key, value) in self.db.scan_prefix(Table::Packages, package)? {
            let (block, stage) = match key.get(32..) {
                Some([block @ .., 0]) => (block, PackageStage::Reported),
                Some([block @ .., 1]) => (block, PackageStage::Available),
                _ => return Err(StoreError::Corrupt("a package key is not 65 octets".into())),
            };
            let block = hash_of(block)?;
            let record: PackageRecord = decode_exact(&value, self.ctx.spec.lengths())
                .map_err(|e| StoreError::Corrupt(format!("a package record: {e}")))?;
            if self.descends(at, &block, record.slot) {
                let PackageRecord { slot, core, report_hash } = record;
                marks.push(PackageMark { block, slot, stage, core, report_hash });
            }
        }
        marks.sort_by_key(|m| (m.slot, m.stage as u8));
        Ok(marks)
    }

    /// Whether `at` is `block` (at `slot`) or one of its descendants. Below the final block the
    /// chain holds one line of blocks, which every held block descends from; above it, the walk
    /// from `at` down is at most the unfinalized blocks long.
    fn descends(&self, at: &HeaderHash, block: &HeaderHash, slot: TimeSlot) -> bool {
        let Some(&(at_slot, _)) = self.headers.get(at) else { return false };
        if !self.headers.contains_key(block) || at_slot < slot {
            return false;
        }
        let final_slot = self.headers.get(&self.finalized).map_or(0, |(s, _)| *s);
        if slot <= final_slot {
            return true;
        }
        let mut cursor = *at;
        for _ in 0..=self.nodes.len() {
            if cursor == *block {
                return true;
            }
            match self.headers.get(&cursor) {
                Some(&(s, parent)) if s > slot => cursor = parent,
                _ => return false,
            }
        }
        false
    }

    /// The posterior state root the chain recorded for a block, final ones included.
    pub fn state_root(&self, hash: &HeaderHash) -> Result<Option<StateRoot>, StoreError> {
        Ok(self.record(hash)?.map(|r| r.state_root))
    }

    /// The stored block with this hash (the genesis has none).
    pub fn block(&self, hash: &HeaderHash) -> Result<Option<Block>, StoreError> {
        let Some(record) = self.record(hash)? else { return Ok(None) };
        if record.block.is_empty() {
            return Ok(None);
        }
        let block = decode_exact(&record.block, self.ctx.spec.lengths())
            .map_err(|e| StoreError::Corrupt(format!("block {}: {e}", hex(hash))))?;
        Ok(Some(block))
    }

    fn record(&self, hash: &HeaderHash) -> Result<Option<BlockRecord>, StoreError> {
        let Some(bytes) = self.db.get(Table::Blocks, hash)? else { return Ok(None) };
        decode_exact(&bytes, self.ctx.spec.lengths())
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("block record {}: {e}", hex(hash))))
    }

    /// The headers along `parent`'s chain within `L` slots of `slot` (GP 0.7.2 eq. 11.35).
    fn ancestors(&self, parent: HeaderHash, slot: TimeSlot) -> Ancestors {
        let oldest = slot.saturating_sub(self.ctx.spec.max_lookup_anchor_age);
        let mut out = Vec::new();
        let mut at = parent;
        while let Some(&(s, p)) = self.headers.get(&at) {
            // The length bound stops a cycle that a corrupt store could hold.
            if s < oldest || out.len() > self.headers.len() {
                break;
            }
            out.push((at, s));
            at = p;
        }
        let unknown_before = self.anchored.then(|| self.headers.get(&self.genesis).map_or(0, |(s, _)| *s));
        Ancestors { known: out, unknown_before }
    }

    /// Imports `block` onto its parent's state, stores it durably, and finalizes what is now deep
    /// enough. A block whose parent is not the best block goes on its own branch, which becomes the
    /// best one when its head has a later slot. An invalid block changes nothing, in memory or on
    /// disk.
    pub fn import(&mut self, block: &Block) -> Result<ImportOutcome, StoreError> {
        let header = &block.header;
        let hash = header_hash(header);
        if self.contains(&hash) {
            return Err(StoreError::AlreadyImported(hex(&hash)));
        }
        let parent = self.nodes.get(&header.parent).ok_or_else(|| {
            if self.headers.contains_key(&header.parent) {
                StoreError::BelowFinalized { parent: hex(&header.parent), finalized: hex(&self.finalized) }
            } else {
                StoreError::UnknownParent(hex(&header.parent))
            }
        })?;
        let ancestors = self.ancestors(header.parent, header.slot);
        let start = Instant::now();
        let imported = import_block(
            &self.ctx,
            &parent.state,
            block,
            &ImportOptions { ancestry: Some(&ancestors), now: None },
        )?;
        let import_time = start.elapsed();

        let state_root = imported.state.root();
        let becomes_best = header.slot > self.nodes[&self.best].slot;
        let record = BlockRecord {
            slot: header.slot,
            parent: header.parent,
            state_root,
            block: block.encode(),
            header: Vec::new(),
        };
        let rows: Vec<Row> =
            imported.changes.iter().map(|(k, v)| Row { key: *k, value: v.clone() }).collect();
        let mut batch =
            vec![put(Table::Blocks, &hash, record.encode()), put(Table::Diffs, &hash, rows.encode())];
        let reported = block.extrinsic.guarantees.iter().map(|g| (PackageStage::Reported, &g.report));
        let available = imported.available.iter().map(|r| (PackageStage::Available, r));
        for (stage, report) in reported.chain(available) {
            let mark = PackageRecord {
                slot: header.slot,
                core: report.core_index,
                report_hash: orrery_crypto::blake2b_256(&report.encode()),
            };
            batch.push(put(
                Table::Packages,
                &package_key(&report.package_spec.hash, &hash, stage),
                mark.encode(),
            ));
        }
        if becomes_best {
            batch.push(put(Table::Meta, BEST, hash.to_vec()));
        }
        let start = Instant::now();
        self.db.commit(&batch)?;

        self.headers.insert(hash, (header.slot, header.parent));
        let node = Node {
            slot: header.slot,
            parent: header.parent,
            state: imported.state,
            changes: imported.changes,
        };
        self.nodes.insert(hash, node);
        if becomes_best {
            self.best = hash;
            self.finalize_deep()?;
        }
        let commit_time = start.elapsed();
        Ok(ImportOutcome {
            hash,
            slot: header.slot,
            state_root,
            import_time,
            commit_time,
            best: becomes_best,
        })
    }

    /// Finalizes the best chain's block `finality_depth` blocks below the best one, if it is newer
    /// than the final one.
    fn finalize_deep(&mut self) -> Result<(), StoreError> {
        let mut at = self.best;
        for _ in 0..self.finality_depth {
            if at == self.finalized {
                return Ok(());
            }
            at = self.nodes[&at].parent;
        }
        if at != self.finalized {
            self.finalize(at)?;
        }
        Ok(())
    }

    /// The best chain from the best block down to the final one, both included.
    fn best_chain(&self) -> Vec<HeaderHash> {
        let mut out = vec![self.best];
        let mut at = self.best;
        while at != self.finalized {
            at = self.nodes[&at].parent;
            out.push(at);
        }
        out
    }

    /// Makes `target`, a block of the best chain newer than the final one, the final block: its
    /// chain's diffs go into the base state, and every block not descending from it is dropped,
    /// in one durable batch.
    pub fn finalize(&mut self, target: HeaderHash) -> Result<(), StoreError> {
        let chain = self.best_chain();
        let Some(depth) = chain.iter().position(|h| *h == target) else {
            return Err(StoreError::NotOnBestChain(hex(&target)));
        };
        // The blocks that become final, oldest first (the old final block excluded).
        let path: Vec<HeaderHash> = chain[depth..chain.len() - 1].iter().rev().copied().collect();
        if path.is_empty() {
            return Ok(());
        }
        // The blocks that stay in memory: the target and its descendants.
        let mut keep: HashSet<HeaderHash> = HashSet::from([target]);
        let mut grew = true;
        while grew {
            grew = false;
            for (hash, node) in &self.nodes {
                if !keep.contains(hash) && keep.contains(&node.parent) {
                    keep.insert(*hash);
                    grew = true;
                }
            }
        }
        let on_path: HashSet<HeaderHash> = path.iter().copied().collect();
        let dropped: Vec<HeaderHash> = self
            .nodes
            .keys()
            .filter(|h| !keep.contains(*h) && !on_path.contains(*h) && **h != self.finalized)
            .copied()
            .collect();

        // The base moves to the target's state: the path's changes, later ones over earlier ones.
        let mut base: BTreeMap<StateKey, Option<&[u8]>> = BTreeMap::new();
        for hash in &path {
            for (key, value) in &self.nodes[hash].changes {
                base.insert(*key, value.as_deref());
            }
        }
        let mut batch: Vec<Write> = base
            .into_iter()
            .map(|(key, value)| Write {
                table: Table::Base,
                key: key.to_vec(),
                value: value.map(<[u8]>::to_vec),
            })
            .collect();
        batch.extend(path.iter().map(|hash| delete(Table::Diffs, hash)));
        for hash in &dropped {
            batch.push(delete(Table::Diffs, hash));
            batch.push(delete(Table::Blocks, hash));
        }
        batch.push(put(Table::Meta, FINALIZED, target.to_vec()));
        self.db.commit(&batch)?;

        for hash in dropped {
            self.nodes.remove(&hash);
            self.headers.remove(&hash);
        }
        self.nodes.remove(&self.finalized);
        for hash in &path[..path.len() - 1] {
            self.nodes.remove(hash);
        }
        if let Some(node) = self.nodes.get_mut(&target) {
            node.changes = Vec::new();
        }
        self.finalized = target;
        Ok(())
    }
}
