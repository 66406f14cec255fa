//! Compiled code by code hash, bounded in bytes, least recently used out first: a service's code
//! compiles once per process however many invocations, blocks and threads run it.
//!
//! The key is the hash the caller names the code by (a work item's or an account's code hash), but
//! the state gives that hash with a preimage that nothing here has checked hashes to it, so a hit
//! is also checked against the program itself (its code, bitmask and jump table): a wrong
//! preimage under a known hash compiles its own code and replaces the entry, it never runs
//! another program's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use orrery_pvm::Program;

use crate::compile::{compile, CompileError, Compiled};

/// The bound of [`CodeCache::global`]: 256 MiB, room for hundreds of the largest service blobs
/// (the 137 KB bootstrap blob compiles to about 1 MiB with its tables).
pub const GLOBAL_CAPACITY: usize = 256 << 20;

/// Compiled programs by code hash, at most `capacity` bytes of [`Compiled::footprint`]. Safe to
/// share between threads; compiling happens outside the lock.
#[derive(Debug)]
pub struct CodeCache {
    capacity: usize,
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<[u8; 32], Entry>,
    bytes: usize,
    /// A counter that orders uses: the entry with the smallest `used` goes first.
    clock: u64,
    hits: u64,
    compiles: u64,
}

#[derive(Debug)]
struct Entry {
    compiled: Arc<Compiled>,
    bytes: usize,
    used: u64,
}

/// How a cache has been used, for benches and the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Programs held.
    pub entries: usize,
    /// Their footprint in bytes.
    pub bytes: usize,
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Programs compiled.
    pub compiles: u64,
}

/// Whether two programs are the same code (what compiling depends on).
fn same_program(a: &Program, b: &Program) -> bool {
    a.code() == b.code() && a.bitmask() == b.bitmask() && a.jump_table() == b.jump_table()
}

impl CodeCache {
    /// An empty cache holding at most `capacity` bytes. A single program larger than that is
    /// compiled and returned but not kept.
    pub fn new(capacity: usize) -> Self {
        CodeCache { capacity, inner: Mutex::new(Entries::default()) }
    }

    /// The process-wide cache the invocations use, bounded by [`GLOBAL_CAPACITY`].
    pub fn global() -> &'static CodeCache {
        static GLOBAL: OnceLock<CodeCache> = OnceLock::new();
        GLOBAL.get_or_init(|| CodeCache::new(GLOBAL_CAPACITY))
    }

    /// The compiled form of `program`, named `hash`: from the cache when it holds that program,
    /// else compiled now and kept (evicting the least recently used entries past the bound).
    pub fn get_or_compile(
        &self,
        hash: &[u8; 32],
        program: &Arc<Program>,
    ) -> Result<Arc<Compiled>, CompileError> {
        if let Ok(mut entries) = self.inner.lock() {
            entries.clock += 1;
            let now = entries.clock;
            if let Some(entry) = entries.map.get_mut(hash) {
                let cached = entry.compiled.program();
                if Arc::ptr_eq(cached, program) || same_program(cached, program) {
                    entry.used = now;
                    let compiled = Arc::clone(&entry.compiled);
                    entries.hits += 1;
                    return Ok(compiled);
                }
            }
        }
        let compiled = Arc::new(compile(Arc::clone(program))?);
        let bytes = compiled.footprint();
        if let Ok(mut entries) = self.inner.lock() {
            entries.compiles += 1;
            if bytes <= self.capacity {
                if let Some(old) = entries.map.remove(hash) {
                    entries.bytes -= old.bytes;
                }
                while entries.bytes + bytes > self.capacity {
                    let Some(oldest) = entries.map.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| *k) else {
                        break;
                    };
                    if let Some(old) = entries.map.remove(&oldest) {
                        entries.bytes -= old.bytes;
                    }
                }
                entries.clock += 1;
                let used = entries.clock;
                entries.bytes += bytes;
                entries.map.insert(*hash, Entry { compiled: Arc::clone(&compiled), bytes, used });
            }
        }
        Ok(compiled)
    }

    /// How the cache has been used so far.
    pub fn stats(&self) -> CacheStats {
        self.inner
            .lock()
            .map(|e| CacheStats { entries: e.map.len(), bytes: e.bytes, hits: e.hits, compiles: e.compiles })
            .unwrap_or_default()
    }

    /// Drops every entry (compiled code still in use stays alive with its users).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.inner.lock() {
            entries.map.clear();
            entries.bytes = 0;
        }
    }
}
