//! Values derived from 32-byte keys (decoded points and their tables), kept for the process: a
//! block's signers are validators whose keys come back block after block, and decoding a key
//! costs a square root or more.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

/// What was made from each key, up to `limit` keys; past it the cache starts over. A poisoned
/// lock (a panic elsewhere while holding it) leaves a sound map, so it is used as it is.
pub(crate) struct KeyCache<V> {
    entries: OnceLock<Mutex<HashMap<[u8; 32], V>>>,
    limit: usize,
}

impl<V: Clone> KeyCache<V> {
    pub(crate) const fn new(limit: usize) -> Self {
        KeyCache { entries: OnceLock::new(), limit }
    }

    /// The value kept for `key`, or else `make()`'s, kept if it is one. `make` runs outside the
    /// lock, so callers on other threads are not held up by it.
    pub(crate) fn get_or_make<E>(&self, key: &[u8; 32], make: impl FnOnce() -> Result<V, E>) -> Result<V, E> {
        let entries = self.entries.get_or_init(Default::default);
        if let Some(value) = entries.lock().unwrap_or_else(PoisonError::into_inner).get(key) {
            return Ok(value.clone());
        }
        let value = make()?;
        let mut entries = entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.limit {
            entries.clear();
        }
        entries.insert(*key, value.clone());
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_was_made_and_starts_over_past_its_limit() {
        let cache = KeyCache::new(2);
        let made = std::cell::Cell::new(0);
        let make = |v: u32| {
            made.set(made.get() + 1);
            Ok::<_, ()>(v)
        };
        assert_eq!(cache.get_or_make(&[1; 32], || make(10)), Ok(10));
        assert_eq!(cache.get_or_make(&[1; 32], || make(99)), Ok(10));
        assert_eq!(made.get(), 1);
        // A failure is not kept.
        assert_eq!(cache.get_or_make(&[2; 32], || Err(())), Err(()));
        assert_eq!(cache.get_or_make(&[2; 32], || make(20)), Ok(20));
        // The third key empties the cache first: the first is made again.
        assert_eq!(cache.get_or_make(&[3; 32], || make(30)), Ok(30));
        assert_eq!(cache.get_or_make(&[1; 32], || make(11)), Ok(11));
        assert_eq!(made.get(), 4);
    }
}
