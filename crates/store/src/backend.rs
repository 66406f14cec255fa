//! The key/value engine under the store: five tables, point reads, full scans, and atomic,
//! durable batches. The node uses `redb` ([`Redb`]); the [`Backend`] trait keeps the chain apart
//! from it. `fjall` was measured against it and set aside (`docs/performance/import.md`).

use std::path::Path;

/// The store's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `genesis`, `best`, `finalized`: header hashes.
    Meta,
    /// Header hash → block record (slot, parent, posterior root, the block).
    Blocks,
    /// Header hash → the rows its block changed, for blocks not yet final.
    Diffs,
    /// State key → value: the state of the last final block.
    Base,
    /// Erasure root ⌢ shard index (big-endian) → the availability record the node keeps for it
    /// (GP 0.7.2 §14.4): written and pruned by the node, not by the chain.
    Shards,
    /// Work-package hash ⌢ header hash ⌢ stage → where the block put the package (reported by a
    /// guarantee, or made available): written with the block, so a package's life is answered
    /// after the state has forgotten it.
    Packages,
    /// Voter set id (big-endian) → the node's warp-sync fragment of that set's handover (GRANDPA's
    /// justification of the first block of the epoch it handed over to): written by the node.
    Warp,
}

impl Table {
    pub const ALL: [Table; 7] =
        [Table::Meta, Table::Blocks, Table::Diffs, Table::Base, Table::Shards, Table::Packages, Table::Warp];

    fn name(self) -> &'static str {
        match self {
            Table::Meta => "meta",
            Table::Blocks => "blocks",
            Table::Diffs => "diffs",
            Table::Base => "base",
            Table::Shards => "shards",
            Table::Packages => "packages",
            Table::Warp => "warp",
        }
    }
}

/// One write of a batch: set `key` to `value`, or remove it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub table: Table,
    pub key: Vec<u8>,
    pub value: Option<Vec<u8>>,
}

/// A table's pairs, in key order.
pub type Rows = Vec<(Vec<u8>, Vec<u8>)>;

/// Why the engine failed.
#[derive(Debug, thiserror::Error)]
#[error("{engine}: {message}")]
pub struct BackendError {
    pub engine: &'static str,
    pub message: String,
}

/// An embedded key/value engine.
pub trait Backend: Send {
    /// The value under `key`.
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError>;
    /// Every pair of a table, in key order.
    fn scan(&self, table: Table) -> Result<Rows, BackendError>;
    /// The pairs of a table whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, table: Table, prefix: &[u8]) -> Result<Rows, BackendError> {
        Ok(self.scan(table)?.into_iter().filter(|(k, _)| k.starts_with(prefix)).collect())
    }
    /// At most `limit` pairs of a table from key `start` on, in key order.
    fn scan_from(&self, table: Table, start: &[u8], limit: usize) -> Result<Rows, BackendError> {
        Ok(self.scan(table)?.into_iter().filter(|(k, _)| k.as_slice() >= start).take(limit).collect())
    }
    /// Applies every write or none, and returns once they are on disk.
    fn commit(&self, batch: &[Write]) -> Result<(), BackendError>;
}

fn redb_error(e: impl std::fmt::Display) -> BackendError {
    BackendError { engine: "redb", message: e.to_string() }
}

/// `redb`: copy-on-write B+trees in one file; a commit is durable when it returns.
pub struct Redb {
    db: redb::Database,
}

impl std::fmt::Debug for Redb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redb")
    }
}

type RedbTable = redb::TableDefinition<'static, &'static [u8], &'static [u8]>;

fn redb_table(table: Table) -> RedbTable {
    redb::TableDefinition::new(table.name())
}

impl Redb {
    /// Opens (or creates) the database file `dir/orrery.redb`.
    pub fn open(dir: &Path) -> Result<Self, BackendError> {
        // `create_dir_all` on a file says only "File exists".
        if dir.exists() && !dir.is_dir() {
            return Err(redb_error(format!(
                "{} is a file; the database is a folder (it holds orrery.redb): name a folder, new or existing",
                dir.display()
            )));
        }
        std::fs::create_dir_all(dir).map_err(redb_error)?;
        let db = redb::Database::create(dir.join("orrery.redb")).map_err(redb_error)?;
        Self::with_tables(db)
    }

    /// A database in memory, gone when dropped: for a chain that need not outlive the process.
    pub fn in_memory() -> Result<Self, BackendError> {
        let db = redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(redb_error)?;
        Self::with_tables(db)
    }

    fn with_tables(db: redb::Database) -> Result<Self, BackendError> {
        // Every table exists from the start, so reads never meet a missing one.
        let txn = db.begin_write().map_err(redb_error)?;
        for table in Table::ALL {
            txn.open_table(redb_table(table)).map_err(redb_error)?;
        }
        txn.commit().map_err(redb_error)?;
        Ok(Self { db })
    }
}

impl Backend for Redb {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        use redb::ReadableDatabase;
        let txn = self.db.begin_read().map_err(redb_error)?;
        let t = txn.open_table(redb_table(table)).map_err(redb_error)?;
        Ok(t.get(key).map_err(redb_error)?.map(|v| v.value().to_vec()))
    }

    fn scan(&self, table: Table) -> Result<Rows, BackendError> {
        use redb::{ReadableDatabase, ReadableTable};
        let txn = self.db.begin_read().map_err(redb_error)?;
        let t = txn.open_table(redb_table(table)).map_err(redb_error)?;
        let mut out = Vec::new();
        for entry in t.iter().map_err(redb_error)? {
            let (k, v) = entry.map_err(redb_error)?;
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        Ok(out)
    }

    fn scan_prefix(&self, table: Table, prefix: &[u8]) -> Result<Rows, BackendError> {
        use redb::ReadableDatabase;
        let txn = self.db.begin_read().map_err(redb_error)?;
        let t = txn.open_table(redb_table(table)).map_err(redb_error)?;
        let mut out = Vec::new();
        for entry in t.range(prefix..).map_err(redb_error)? {
            let (k, v) = entry.map_err(redb_error)?;
            if !k.value().starts_with(prefix) {
                break;
            }
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        Ok(out)
    }

    fn scan_from(&self, table: Table, start: &[u8], limit: usize) -> Result<Rows, BackendError> {
        use redb::ReadableDatabase;
        let txn = self.db.begin_read().map_err(redb_error)?;
        let t = txn.open_table(redb_table(table)).map_err(redb_error)?;
        let mut out = Vec::new();
        for entry in t.range(start..).map_err(redb_error)?.take(limit) {
            let (k, v) = entry.map_err(redb_error)?;
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        Ok(out)
    }

    fn commit(&self, batch: &[Write]) -> Result<(), BackendError> {
        let txn = self.db.begin_write().map_err(redb_error)?;
        for table in Table::ALL {
            let writes: Vec<&Write> = batch.iter().filter(|w| w.table == table).collect();
            if writes.is_empty() {
                continue;
            }
            let mut t = txn.open_table(redb_table(table)).map_err(redb_error)?;
            for w in writes {
                match &w.value {
                    Some(v) => {
                        t.insert(w.key.as_slice(), v.as_slice()).map_err(redb_error)?;
                    }
                    None => {
                        t.remove(w.key.as_slice()).map_err(redb_error)?;
                    }
                }
            }
        }
        txn.commit().map_err(redb_error)
    }
}
