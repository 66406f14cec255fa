//! A node's database that outlives the node: an in-memory `redb` shared behind an `Arc`, so a
//! crashed node's chain reopens from exactly what it had committed (`orrery_store::Chain::open`
//! recovers it as it would a file after `kill -9`).

use std::sync::Arc;

use orrery_store::{Backend, BackendError, Redb, Rows, Table, Write};

/// A handle on a shared in-memory `redb`; clones are the same database.
#[derive(Debug, Clone)]
pub struct SharedDb(Arc<Redb>);

impl SharedDb {
    pub fn in_memory() -> Result<Self, BackendError> {
        Ok(Self(Arc::new(Redb::in_memory()?)))
    }
}

impl Backend for SharedDb {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        self.0.get(table, key)
    }

    fn scan(&self, table: Table) -> Result<Rows, BackendError> {
        self.0.scan(table)
    }

    fn scan_prefix(&self, table: Table, prefix: &[u8]) -> Result<Rows, BackendError> {
        self.0.scan_prefix(table, prefix)
    }

    fn scan_from(&self, table: Table, start: &[u8], limit: usize) -> Result<Rows, BackendError> {
        self.0.scan_from(table, start, limit)
    }

    fn commit(&self, batch: &[Write]) -> Result<(), BackendError> {
        self.0.commit(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clone_sees_what_the_first_handle_committed_after_it_is_dropped() {
        let db = SharedDb::in_memory().unwrap();
        let reopened = db.clone();
        db.commit(&[Write { table: Table::Meta, key: b"k".to_vec(), value: Some(b"v".to_vec()) }]).unwrap();
        drop(db);
        assert_eq!(reopened.get(Table::Meta, b"k").unwrap(), Some(b"v".to_vec()));
        assert_eq!(reopened.scan(Table::Blocks).unwrap(), Vec::new());
    }
}
