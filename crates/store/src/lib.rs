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

#![forbid(unused_must_use)]

pub mod backend;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use orrery_codec::{decode_exact, Decode, Describe, Encode};
use orrery_import::{header_hash, import_block, BlockError, ChainState, ImportContext, ImportOptions};
use orrery_state::serialization::{Change, SerializationError};
use orrery_state::StateKey;
use orrery_stf::reports::Ancestry;
use orrery_types::{Block, Header, HeaderHash, StateRoot, TimeSlot};

pub use backend::{Backend, BackendError, Fjall, Redb, Table, Write};

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
    #[error("the database holds no chain; give a genesis")]
    Empty,
    #[error("the database holds a chain already, from another genesis")]
    OtherGenesis,
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
    /// The encoded block (empty for the genesis, whose header is in `header`).
    block: Vec<u8>,
    header: Vec<u8>,
}

/// One changed row, as the `Diffs` table stores it.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
struct Row {
    key: StateKey,
    value: Option<Vec<u8>>,
}

const GENESIS: &[u8] = b"genesis";
const BEST: &[u8] = b"best";
const FINALIZED: &[u8] = b"finalized";

/// A block the chain holds in memory: from the final block on.
#[derive(Debug, Clone)]
struct Node {
    slot: TimeSlot,
    parent: HeaderHash,
    state: ChainState,
}

/// What importing a block did.
#[derive(Debug, Clone)]
pub struct ImportOutcome {
    pub hash: HeaderHash,
    pub slot: TimeSlot,
    pub state_root: StateRoot,
    /// The pure import (checks and transition, state root included).
    pub import_time: Duration,
    /// Writing it to disk, durably.
    pub commit_time: Duration,
    /// Whether it became the best block.
    pub best: bool,
}

/// The ancestors of a block, along its parent chain.
struct Ancestors(Vec<(HeaderHash, TimeSlot)>);

impl Ancestry for Ancestors {
    fn contains(&self, header: &HeaderHash, slot: TimeSlot) -> bool {
        self.0.iter().any(|(h, s)| h == header && *s == slot)
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash_of(bytes: &[u8]) -> Result<HeaderHash, StoreError> {
    bytes.try_into().map_err(|_| StoreError::Corrupt("a hash is not 32 octets".into()))
}

impl Chain {
    /// Opens the chain in `db`, or starts it from `genesis` when `db` is empty. A chain already in
    /// `db` must have the same genesis header.
    pub fn open(
        ctx: Arc<ImportContext>,
        db: Box<dyn Backend>,
        genesis: Option<(&Header, ChainState)>,
        finality_depth: u32,
    ) -> Result<Self, StoreError> {
        match db.get(Table::Meta, GENESIS)? {
            Some(stored) => {
                if let Some((header, _)) = genesis {
                    if header_hash(header) != hash_of(&stored)? {
                        return Err(StoreError::OtherGenesis);
                    }
                }
                Self::recover(ctx, db, finality_depth)
            }
            None => {
                let (header, state) = genesis.ok_or(StoreError::Empty)?;
                let hash = header_hash(header);
                let record = BlockRecord {
                    slot: header.slot,
                    parent: header.parent,
                    state_root: state.root(),
                    block: Vec::new(),
                    header: header.encode(),
                };
                let mut batch: Vec<Write> = state
                    .pairs()
                    .map(|(k, v)| Write { table: Table::Base, key: k.to_vec(), value: Some(v.to_vec()) })
                    .collect();
                batch.push(Write { table: Table::Blocks, key: hash.to_vec(), value: Some(record.encode()) });
                for key in [BEST, FINALIZED, GENESIS] {
                    batch.push(Write { table: Table::Meta, key: key.to_vec(), value: Some(hash.to_vec()) });
                }
                db.commit(&batch)?;
                let mut nodes = HashMap::new();
                nodes.insert(hash, Node { slot: header.slot, parent: header.parent, state });
                let headers = HashMap::from([(hash, (header.slot, header.parent))]);
                Ok(Self { ctx, db, nodes, headers, genesis: hash, best: hash, finalized: hash, finality_depth })
            }
        }
    }

    /// Reads the chain back: the final state from its rows, then every newer block's state from its
    /// parent's and its diff, each checked against its recorded root.
    fn recover(ctx: Arc<ImportContext>, db: Box<dyn Backend>, finality_depth: u32) -> Result<Self, StoreError> {
        let meta = |key: &[u8]| -> Result<HeaderHash, StoreError> {
            hash_of(&db.get(Table::Meta, key)?.ok_or_else(|| StoreError::Corrupt("missing meta".into()))?)
        };
        let (genesis, best, finalized) = (meta(GENESIS)?, meta(BEST)?, meta(FINALIZED)?);
        let lengths = ctx.spec.lengths();
        let mut records: HashMap<HeaderHash, BlockRecord> = HashMap::new();
        for (key, value) in db.scan(Table::Blocks)? {
            let record: BlockRecord =
                decode_exact(&value, lengths).map_err(|e| StoreError::Corrupt(format!("block record: {e}")))?;
            records.insert(hash_of(&key)?, record);
        }
        let headers = records.iter().map(|(h, r)| (*h, (r.slot, r.parent))).collect();
        let base_rows = db.scan(Table::Base)?;
        let mut pairs: Vec<(StateKey, &[u8])> = Vec::with_capacity(base_rows.len());
        for (k, v) in &base_rows {
            let key: StateKey = k.as_slice().try_into().map_err(|_| StoreError::Corrupt("a state key".into()))?;
            pairs.push((key, v.as_slice()));
        }
        let base = ChainState::from_pairs(&ctx.spec, pairs.iter().map(|(k, v)| (k, *v)))?;
        let final_record =
            records.get(&finalized).ok_or_else(|| StoreError::Corrupt("no record of the final block".into()))?;
        if base.root() != final_record.state_root {
            return Err(StoreError::Corrupt("the final state's root is not the recorded one".into()));
        }
        let mut nodes = HashMap::new();
        nodes.insert(finalized, Node { slot: final_record.slot, parent: final_record.parent, state: base });

        // Blocks with a diff, parents before children.
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
                let record = records.get(&hash).ok_or_else(|| StoreError::Corrupt("a diff without a block".into()))?;
                match nodes.get(&record.parent) {
                    Some(parent) => {
                        let state = parent.state.with_changes(&ctx.spec, &changes)?;
                        if state.root() != record.state_root {
                            return Err(StoreError::Corrupt(format!("block {}: rebuilt root differs", hex(&hash))));
                        }
                        nodes.insert(hash, Node { slot: record.slot, parent: record.parent, state });
                    }
                    None => rest.push((hash, changes)),
                }
            }
            if rest.len() == before {
                // Diffs whose parents are gone: forks a finalization pruned but did not delete.
                break;
            }
            pending = rest;
        }
        if !nodes.contains_key(&best) {
            return Err(StoreError::Corrupt("the best block's state cannot be rebuilt".into()));
        }
        Ok(Self { ctx, db, nodes, headers, genesis, best, finalized, finality_depth })
    }

    /// The import context.
    pub fn context(&self) -> &ImportContext {
        &self.ctx
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

    /// The posterior state of a block from the final one on.
    pub fn state(&self, hash: &HeaderHash) -> Option<&ChainState> {
        self.nodes.get(hash).map(|n| &n.state)
    }

    /// Whether the chain has imported this block (final ones included).
    pub fn contains(&self, hash: &HeaderHash) -> bool {
        self.headers.contains_key(hash)
    }

    /// The stored block with this hash (the genesis has none).
    pub fn block(&self, hash: &HeaderHash) -> Result<Option<Block>, StoreError> {
        let Some(bytes) = self.db.get(Table::Blocks, hash)? else { return Ok(None) };
        let record: BlockRecord =
            decode_exact(&bytes, self.ctx.spec.lengths()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if record.block.is_empty() {
            return Ok(None);
        }
        decode_exact(&record.block, self.ctx.spec.lengths()).map(Some).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    /// The headers along `parent`'s chain within `L` slots of `slot`.
    fn ancestors(&self, parent: HeaderHash, slot: TimeSlot) -> Ancestors {
        let oldest = slot.saturating_sub(self.ctx.spec.max_lookup_anchor_age);
        let mut out = Vec::new();
        let mut at = parent;
        while let Some(&(s, p)) = self.headers.get(&at) {
            if s < oldest || out.len() > self.headers.len() {
                break;
            }
            out.push((at, s));
            at = p;
        }
        Ancestors(out)
    }

    /// Imports `block` onto its parent's state, stores it durably, and finalizes what is now deep
    /// enough. A block on another branch than the best one is kept on its own.
    pub fn import(&mut self, block: &Block) -> Result<ImportOutcome, StoreError> {
        let header = &block.header;
        let hash = header_hash(header);
        if self.contains(&hash) {
            return Err(StoreError::AlreadyImported(hex(&hash)));
        }
        let parent = self.nodes.get(&header.parent).ok_or_else(|| StoreError::UnknownParent(hex(&header.parent)))?;
        let ancestors = self.ancestors(header.parent, header.slot);
        let start = Instant::now();
        let imported = import_block(&self.ctx, &parent.state, block, &ImportOptions { ancestry: Some(&ancestors), now: None })?;
        let import_time = start.elapsed();

        let state_root = imported.state.root();
        let best_slot = self.nodes[&self.best].slot;
        let becomes_best = header.slot > best_slot;
        let record = BlockRecord {
            slot: header.slot,
            parent: header.parent,
            state_root,
            block: block.encode(),
            header: Vec::new(),
        };
        let rows: Vec<Row> = imported.changes.iter().map(|(k, v)| Row { key: *k, value: v.clone() }).collect();
        let mut batch = vec![
            Write { table: Table::Blocks, key: hash.to_vec(), value: Some(record.encode()) },
            Write { table: Table::Diffs, key: hash.to_vec(), value: Some(rows.encode()) },
        ];
        if becomes_best {
            batch.push(Write { table: Table::Meta, key: BEST.to_vec(), value: Some(hash.to_vec()) });
        }
        let start = Instant::now();
        self.db.commit(&batch)?;
        let commit_time = start.elapsed();

        self.headers.insert(hash, (header.slot, header.parent));
        self.nodes.insert(hash, Node { slot: header.slot, parent: header.parent, state: imported.state });
        if becomes_best {
            self.best = hash;
            self.finalize_deep()?;
        }
        Ok(ImportOutcome { hash, slot: header.slot, state_root, import_time, commit_time, best: becomes_best })
    }

    /// Finalizes the best chain's block `finality_depth` blocks below the best one, if it is newer
    /// than the final one.
    fn finalize_deep(&mut self) -> Result<(), StoreError> {
        let mut at = self.best;
        for _ in 0..self.finality_depth {
            match self.nodes.get(&at) {
                Some(node) if at != self.finalized => at = node.parent,
                _ => return Ok(()),
            }
        }
        if at != self.finalized && self.nodes.contains_key(&at) {
            self.finalize(at)?;
        }
        Ok(())
    }

    /// Makes `target` (a descendant of the final block, held in memory) the final block: its
    /// chain's diffs go into the base state, and every block not descending from it is dropped.
    pub fn finalize(&mut self, target: HeaderHash) -> Result<(), StoreError> {
        // The path from the final block (exclusive) to the target, oldest first.
        let mut path = Vec::new();
        let mut at = target;
        while at != self.finalized {
            let node = self.nodes.get(&at).ok_or_else(|| StoreError::UnknownParent(hex(&at)))?;
            path.push(at);
            at = node.parent;
        }
        path.reverse();
        // The blocks that stay: the target and its descendants.
        let mut keep: HashSet<HeaderHash> = HashSet::from([target]);
        let mut changed = true;
        while changed {
            changed = false;
            for (hash, node) in &self.nodes {
                if !keep.contains(hash) && keep.contains(&node.parent) {
                    keep.insert(*hash);
                    changed = true;
                }
            }
        }
        let mut batch = Vec::new();
        let target_state = &self.nodes[&target].state;
        // The base becomes the target's state: only the rows that differ from the old base.
        let old_base = &self.nodes[&self.finalized].state;
        let old: HashMap<&StateKey, &[u8]> = old_base.pairs().collect();
        let new: HashMap<&StateKey, &[u8]> = target_state.pairs().collect();
        for (k, v) in &new {
            if old.get(k) != Some(v) {
                batch.push(Write { table: Table::Base, key: k.to_vec(), value: Some(v.to_vec()) });
            }
        }
        for k in old.keys() {
            if !new.contains_key(k) {
                batch.push(Write { table: Table::Base, key: k.to_vec(), value: None });
            }
        }
        for hash in &path {
            batch.push(Write { table: Table::Diffs, key: hash.to_vec(), value: None });
        }
        let dropped: Vec<HeaderHash> =
            self.nodes.keys().filter(|h| !keep.contains(*h) && !path.contains(h) && **h != self.finalized).copied().collect();
        for hash in &dropped {
            batch.push(Write { table: Table::Diffs, key: hash.to_vec(), value: None });
            batch.push(Write { table: Table::Blocks, key: hash.to_vec(), value: None });
        }
        batch.push(Write { table: Table::Meta, key: FINALIZED.to_vec(), value: Some(target.to_vec()) });
        self.db.commit(&batch)?;

        for hash in dropped {
            self.nodes.remove(&hash);
            self.headers.remove(&hash);
        }
        let old_final = self.finalized;
        for hash in path.iter().filter(|h| **h != target).chain([&old_final]) {
            self.nodes.remove(hash);
        }
        self.finalized = target;
        Ok(())
    }
}
