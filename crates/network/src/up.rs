//! UP stream de-duplication (JAMNP-S "Protocols and streams"): only one stream of each UP kind may be
//! open on a connection; when the acceptor sees several (a stream closed and reopened while packets
//! were lost), it keeps the one with the greatest QUIC stream ID and resets/stops the rest.

use std::collections::BTreeMap;

use crate::kind::StreamKind;

/// The open UP streams of one connection, by kind.
#[derive(Debug)]
pub struct UpStreams<T> {
    open: BTreeMap<StreamKind, (u64, T)>,
}

impl<T> Default for UpStreams<T> {
    fn default() -> Self {
        Self { open: BTreeMap::new() }
    }
}

impl<T> UpStreams<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a stream of `kind` with QUIC stream ID `id`. Returns the stream that must now be
    /// reset: the one previously kept if `id` is greater, otherwise the offered one.
    pub fn offer(&mut self, kind: StreamKind, id: u64, stream: T) -> Option<T> {
        match self.open.get(&kind) {
            Some((kept, _)) if *kept >= id => Some(stream),
            _ => self.open.insert(kind, (id, stream)).map(|(_, old)| old),
        }
    }

    /// The kept stream of `kind` and its ID.
    pub fn get(&self, kind: StreamKind) -> Option<(u64, &T)> {
        self.open.get(&kind).map(|(id, s)| (*id, s))
    }

    /// Forgets the stream of `kind` if it is the one with `id` (it ended).
    pub fn remove(&mut self, kind: StreamKind, id: u64) -> Option<T> {
        match self.open.get(&kind) {
            Some((kept, _)) if *kept == id => self.open.remove(&kind).map(|(_, s)| s),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UP0: StreamKind = StreamKind::BLOCK_ANNOUNCEMENT;

    #[test]
    fn greatest_id_is_kept_whatever_the_arrival_order() {
        let mut up = UpStreams::new();
        assert_eq!(up.offer(UP0, 4, "b"), None);
        // An older stream arriving late is the one reset.
        assert_eq!(up.offer(UP0, 0, "a"), Some("a"));
        // A newer one replaces the kept one.
        assert_eq!(up.offer(UP0, 8, "c"), Some("b"));
        assert_eq!(up.get(UP0), Some((8, &"c")));
        // The same ID offered twice keeps the first.
        assert_eq!(up.offer(UP0, 8, "d"), Some("d"));
        // Other kinds are independent.
        assert_eq!(up.offer(StreamKind(1), 0, "e"), None);
        assert_eq!(up.remove(UP0, 4), None);
        assert_eq!(up.remove(UP0, 8), Some("c"));
        assert_eq!(up.get(UP0), None);
    }
}
