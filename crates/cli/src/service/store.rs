//! The local state `orrery service run` works on: service accounts (δ, GP 0.7.2 §9), the slot, and
//! the original storage keys seen so far (the state holds storage by the keys' hashes only, §D.1,
//! so the names are kept beside it for display). Kept in memory, or in a redb database under
//! `--state DIR`, written in one transaction after a run so that a failed run leaves it as it was.

use std::collections::BTreeMap;
use std::path::Path;

use orrery_codec::{Decode, Encode};
use orrery_state::{EntryKey, ServiceAccount, ServiceInfo};
use orrery_types::{ServiceId, TimeSlot};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

const ACCOUNTS: TableDefinition<'static, u32, &[u8]> = TableDefinition::new("accounts");
/// `E4_BE(service) ‖ entry key` → value.
const ENTRIES: TableDefinition<'static, &[u8], &[u8]> = TableDefinition::new("entries");
/// `E4_BE(service) ‖ entry key` → the original storage key.
const KEY_NAMES: TableDefinition<'static, &[u8], &[u8]> = TableDefinition::new("key_names");
const META: TableDefinition<'static, &str, u64> = TableDefinition::new("meta");

/// The state file inside `--state DIR`.
pub const DB_FILE: &str = "state.redb";

/// The local chain's state.
#[derive(Debug, Clone, Default)]
pub struct LocalState {
    /// The slot of the last run; each run takes the next.
    pub slot: TimeSlot,
    pub accounts: BTreeMap<ServiceId, ServiceAccount>,
    /// Original storage keys by service and entry key.
    pub key_names: BTreeMap<(ServiceId, EntryKey), Vec<u8>>,
}

fn row(id: ServiceId, key: &EntryKey) -> Vec<u8> {
    let mut out = id.to_be_bytes().to_vec();
    out.extend_from_slice(key);
    out
}

fn split_row(row: &[u8]) -> Result<(ServiceId, EntryKey), String> {
    if row.len() != 4 + 27 {
        return Err(format!("a state row key of {} octets", row.len()));
    }
    let id = u32::from_be_bytes(row[..4].try_into().map_err(|_| "row key")?);
    let key: EntryKey = row[4..].try_into().map_err(|_| "row key")?;
    Ok((id, key))
}

fn db_error(e: impl std::fmt::Display) -> String {
    format!("state database: {e}")
}

/// A state database.
pub struct Store {
    db: Database,
}

impl Store {
    /// Opens (or creates) the database in `dir`.
    pub fn open(dir: &Path) -> Result<Self, String> {
        // `create_dir_all` on a file says only "File exists".
        if dir.exists() && !dir.is_dir() {
            return Err(format!(
                "--state {}: a file; the state is a folder (it holds {DB_FILE}): name a folder, new or existing",
                dir.display()
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join(DB_FILE);
        let db = Database::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        // Every table exists from the start, so that reading a new database finds them empty.
        let tx = db.begin_write().map_err(db_error)?;
        {
            tx.open_table(ACCOUNTS).map_err(db_error)?;
            tx.open_table(ENTRIES).map_err(db_error)?;
            tx.open_table(KEY_NAMES).map_err(db_error)?;
            tx.open_table(META).map_err(db_error)?;
        }
        tx.commit().map_err(db_error)?;
        Ok(Self { db })
    }

    pub fn load(&self) -> Result<LocalState, String> {
        let tx = self.db.begin_read().map_err(db_error)?;
        let mut state = LocalState::default();
        let meta = tx.open_table(META).map_err(db_error)?;
        if let Some(slot) = meta.get("slot").map_err(db_error)? {
            state.slot = TimeSlot::try_from(slot.value()).map_err(|_| "state database: slot out of range")?;
        }
        for item in tx.open_table(ACCOUNTS).map_err(db_error)?.iter().map_err(db_error)? {
            let (id, info) = item.map_err(db_error)?;
            let info = ServiceInfo::decode_all(info.value())
                .map_err(|e| format!("state database: service {}: {e}", id.value()))?;
            state.accounts.insert(id.value(), ServiceAccount::new(info));
        }
        for item in tx.open_table(ENTRIES).map_err(db_error)?.iter().map_err(db_error)? {
            let (key, value) = item.map_err(db_error)?;
            let (id, entry) = split_row(key.value())?;
            let account = state
                .accounts
                .get_mut(&id)
                .ok_or_else(|| format!("state database: an entry of no service {id}"))?;
            account.insert_entry(entry, value.value().to_vec());
        }
        for item in tx.open_table(KEY_NAMES).map_err(db_error)?.iter().map_err(db_error)? {
            let (key, name) = item.map_err(db_error)?;
            state.key_names.insert(split_row(key.value())?, name.value().to_vec());
        }
        Ok(state)
    }

    /// Replaces the stored state with `state`, atomically.
    pub fn save(&self, state: &LocalState) -> Result<(), String> {
        let tx = self.db.begin_write().map_err(db_error)?;
        {
            let mut accounts = tx.open_table(ACCOUNTS).map_err(db_error)?;
            let mut entries = tx.open_table(ENTRIES).map_err(db_error)?;
            let mut names = tx.open_table(KEY_NAMES).map_err(db_error)?;
            let mut meta = tx.open_table(META).map_err(db_error)?;
            accounts.retain(|_, _| false).map_err(db_error)?;
            entries.retain(|_, _| false).map_err(db_error)?;
            names.retain(|_, _| false).map_err(db_error)?;
            meta.insert("slot", u64::from(state.slot)).map_err(db_error)?;
            for (&id, account) in &state.accounts {
                accounts.insert(id, account.info.encode().as_slice()).map_err(db_error)?;
                for (key, value) in account.entries() {
                    entries.insert(row(id, key).as_slice(), value).map_err(db_error)?;
                }
            }
            for ((id, key), name) in &state.key_names {
                names.insert(row(*id, key).as_slice(), name.as_slice()).map_err(db_error)?;
            }
        }
        tx.commit().map_err(db_error)
    }
}
