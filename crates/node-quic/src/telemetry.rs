//! JIP-3 telemetry from the node thread: the node's events as telemetry events, and a status event
//! every two seconds (`orrery_telemetry` queues them without blocking the thread).
//!
//! Sent today: status (10), best block changed (11), finalized block changed (12), sync status
//! (13), authoring and authored (40, 42), importing, verified and executed (43, 45, 47). Not yet:
//! the connection events (20–28) and block distribution events (60 on), which belong to the
//! network tasks, and the reason a block failed import (the node reports it without the slot the
//! "importing" event needs).

use std::time::{Duration, Instant};

use orrery_codec::Encode;
use orrery_node::{Event, Node, Status};
use orrery_telemetry::{BlockOutline, Event as T, Telemetry};
use orrery_types::Block;

/// How often a status event goes out (JIP-3: about every two seconds).
const STATUS_EVERY: Duration = Duration::from_secs(2);

pub(crate) struct Reporter {
    telemetry: Telemetry,
    last_status: Option<Instant>,
    synced: Option<bool>,
}

fn outline(block: &Block) -> BlockOutline {
    let e = &block.extrinsic;
    BlockOutline {
        size: u32::try_from(block.encode().len()).unwrap_or(u32::MAX),
        hash: orrery_import::header_hash(&block.header),
        tickets: e.tickets.len() as u32,
        preimages: e.preimages.len() as u32,
        preimages_size: e.preimages.iter().map(|p| p.blob.len() as u32).sum(),
        guarantees: e.guarantees.len() as u32,
        assurances: e.assurances.len() as u32,
        dispute_verdicts: e.disputes.verdicts.len() as u32,
    }
}

impl Reporter {
    pub(crate) fn new(telemetry: Telemetry) -> Self {
        Self { telemetry, last_status: None, synced: None }
    }

    pub(crate) fn event(&mut self, node: &Node, event: &Event) {
        let t = &self.telemetry;
        let block_of = |hash: &[u8; 32]| node.chain().block(hash).ok().flatten();
        match event {
            Event::Authored { hash, slot } => {
                let Some(block) = block_of(hash) else { return };
                let authoring = t.emit(T::Authoring { slot: *slot, parent: block.header.parent });
                t.emit(T::Authored { authoring, outline: outline(&block) });
                t.emit(T::BlockExecuted { started: authoring });
            }
            Event::Imported { hash, slot, best } => {
                if let Some(block) = block_of(hash) {
                    let importing = t.emit(T::Importing { slot: *slot, outline: outline(&block) });
                    t.emit(T::BlockVerified { importing });
                    t.emit(T::BlockExecuted { started: importing });
                }
                if *best {
                    t.emit(T::BestBlockChanged { slot: *slot, hash: *hash });
                }
            }
            Event::Finalized { hash, slot } => {
                t.emit(T::FinalizedBlockChanged { slot: *slot, hash: *hash });
            }
            _ => {}
        }
    }

    pub(crate) fn status(&mut self, node: &Node, status: &Status) {
        if self.synced != Some(!status.syncing) {
            self.synced = Some(!status.syncing);
            self.telemetry.emit(T::SyncStatusChanged { synced: !status.syncing });
        }
        if self.last_status.is_some_and(|at| at.elapsed() < STATUS_EVERY) {
            return;
        }
        self.last_status = Some(Instant::now());
        let peers = status.peers as u32;
        self.telemetry.emit(T::Status {
            peers,
            validator_peers: peers,
            announcement_streams: peers,
            guarantees_by_core: vec![0; usize::from(node.chain().context().spec.cores_count)],
            shards: 0,
            shards_size: 0,
            preimages: 0,
            preimages_size: 0,
        });
    }
}
