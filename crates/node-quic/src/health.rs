//! What `GET /health` reports: the node's best and finalized blocks, its peer count and whether it
//! is syncing, as one JSON object. The driver serves it on the JIP-2 RPC's port through
//! `orrery_rpc::health::HealthLayer` with [`Health::to_json`].

/// What `/health` reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    /// Hash and slot of the best block.
    pub best: ([u8; 32], u32),
    pub finalized: ([u8; 32], u32),
    pub peers: usize,
    pub syncing: bool,
}

impl Health {
    pub fn of(status: &orrery_node::Status) -> Self {
        Self {
            best: (status.best.hash, status.best.slot),
            finalized: (status.finalized.hash, status.finalized.slot),
            peers: status.peers,
            syncing: status.syncing,
        }
    }

    /// `{"best":{"slot":S,"hash":"…"},"finalized":{…},"peers":N,"syncing":B}`, hashes in lowercase hex.
    pub fn to_json(&self) -> String {
        let block = |(hash, slot): &([u8; 32], u32)| {
            let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
            format!("{{\"slot\":{slot},\"hash\":\"{hex}\"}}")
        };
        format!(
            "{{\"best\":{},\"finalized\":{},\"peers\":{},\"syncing\":{}}}",
            block(&self.best),
            block(&self.finalized),
            self.peers,
            self.syncing
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape() {
        let mut hash = [0u8; 32];
        hash[0] = 0xab;
        hash[31] = 0x01;
        let h = Health { best: (hash, 7), finalized: ([0; 32], 3), peers: 5, syncing: false };
        assert_eq!(
            h.to_json(),
            "{\"best\":{\"slot\":7,\"hash\":\"ab000000000000000000000000000000000000000000000000000000000000\
             01\"},\"finalized\":{\"slot\":3,\"hash\":\"00000000000000000000000000000000000000000000\
             00000000000000000000\"},\"peers\":5,\"syncing\":false}"
        );
    }
}
