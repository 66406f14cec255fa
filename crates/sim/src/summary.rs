//! What a run leaves: each node's view (best, finalized, every finalized block with its state
//! root), counts, and the run hash: blake2b-256 over every [`Event`] every node output, in the
//! order the simulation saw them, each with its time and node. One seed gives one hash; a
//! difference anywhere in what the nodes did changes it.

use std::collections::BTreeMap;

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use orrery_network::message::BlockRef;
use orrery_node::{Event, Millis};
use orrery_types::{HeaderHash, StateRoot, TimeSlot};

/// The running hash of a simulation's events.
#[derive(Debug, Clone, Default)]
pub struct RunHasher {
    hasher: Blake2b<U32>,
    events: u64,
}

impl RunHasher {
    /// Absorbs node `node`'s `event` at `at`: a fixed-width, tagged encoding, so two different
    /// sequences never encode alike.
    pub fn event(&mut self, at: Millis, node: usize, event: &Event) {
        let h = &mut self.hasher;
        h.update(at.to_le_bytes());
        h.update((node as u64).to_le_bytes());
        let text = |h: &mut Blake2b<U32>, s: &str| {
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        };
        match event {
            Event::Authored { hash, slot } => {
                h.update([0]);
                h.update(hash);
                h.update(slot.to_le_bytes());
            }
            Event::Imported { hash, slot, best } => {
                h.update([1]);
                h.update(hash);
                h.update(slot.to_le_bytes());
                h.update([u8::from(*best)]);
            }
            Event::Finalized { hash, slot } => {
                h.update([2]);
                h.update(hash);
                h.update(slot.to_le_bytes());
            }
            Event::Rejected { hash, reason, .. } => {
                h.update([3]);
                h.update(hash);
                text(h, reason);
            }
            Event::Equivocation { slot, author } => {
                h.update([4]);
                h.update(slot.to_le_bytes());
                h.update(author.to_le_bytes());
            }
            Event::WorkPackageRefused { package, reason } => {
                h.update([5]);
                h.update(package);
                text(h, reason);
            }
            Event::Guaranteed { package, core, report, signatures, .. } => {
                h.update([6]);
                h.update(package);
                h.update(core.to_le_bytes());
                h.update(report);
                h.update((*signatures as u64).to_le_bytes());
            }
            Event::ShardsStored { erasure_root } => {
                h.update([7]);
                h.update(erasure_root);
            }
            Event::Audited { block, report, valid } => {
                h.update([8]);
                h.update(block);
                h.update(report);
                h.update([u8::from(*valid)]);
            }
            // Reported as a rejection with no block before they had their own events: hashed as
            // then.
            Event::TicketGenerationFailed { reason, .. } | Event::AuthoringFailed { reason, .. } => {
                h.update([3]);
                h.update([0; 32]);
                text(h, reason);
            }
            // Telemetry's events: not part of a run's outcome, so not in its digest.
            Event::ReportBuilt { .. }
            | Event::TicketsGenerated { .. }
            | Event::BundleRebuilt { .. }
            | Event::DuplicatePackage { .. }
            | Event::Segments { .. }
            | Event::GuaranteeRefused { .. }
            | Event::GuaranteeDiscarded { .. }
            | Event::PreimageForgotten { .. }
            | Event::PreimageDiscarded { .. }
            | Event::WarpFragmentLost { .. } => return,
        }
        self.events += 1;
    }

    pub fn events(&self) -> u64 {
        self.events
    }

    pub fn finish(&self) -> [u8; 32] {
        self.hasher.clone().finalize().into()
    }
}

/// A finalized block as one node saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Final {
    pub slot: TimeSlot,
    pub hash: HeaderHash,
    pub state_root: StateRoot,
}

/// How many of each event a node output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventCounts {
    pub authored: u64,
    pub imported: u64,
    pub finalized: u64,
    pub rejected: u64,
    pub equivocations: u64,
    pub refused_packages: u64,
    pub guaranteed: u64,
    pub shards_stored: u64,
    pub audited_valid: u64,
    pub audited_invalid: u64,
}

impl EventCounts {
    pub fn count(&mut self, event: &Event) {
        match event {
            Event::Authored { .. } => self.authored += 1,
            Event::Imported { .. } => self.imported += 1,
            Event::Finalized { .. } => self.finalized += 1,
            Event::Rejected { .. }
            | Event::TicketGenerationFailed { .. }
            | Event::AuthoringFailed { .. }
            | Event::WarpFragmentLost { .. } => self.rejected += 1,
            Event::Equivocation { .. } => self.equivocations += 1,
            Event::WorkPackageRefused { .. } => self.refused_packages += 1,
            Event::Guaranteed { .. } => self.guaranteed += 1,
            Event::ShardsStored { .. } => self.shards_stored += 1,
            Event::Audited { valid: true, .. } => self.audited_valid += 1,
            Event::Audited { valid: false, .. } => self.audited_invalid += 1,
            Event::ReportBuilt { .. }
            | Event::TicketsGenerated { .. }
            | Event::BundleRebuilt { .. }
            | Event::DuplicatePackage { .. }
            | Event::Segments { .. }
            | Event::GuaranteeRefused { .. }
            | Event::GuaranteeDiscarded { .. }
            | Event::PreimageForgotten { .. }
            | Event::PreimageDiscarded { .. } => {}
        }
    }
}

/// One node at the end of a run.
#[derive(Debug, Clone)]
pub struct NodeSummary {
    /// `None` while crashed.
    pub best: Option<BlockRef>,
    pub finalized: Option<BlockRef>,
    /// Every block the node finalized, oldest first, ancestors of a finalized block included.
    pub finals: Vec<Final>,
    /// A finalized block that did not descend from the one finalized before it (never, in a
    /// safe run): `(previous final, new final)`.
    pub conflicts: Vec<(Final, Final)>,
    pub events: EventCounts,
    /// `Output::Disconnect`s the node asked for, by peer index.
    pub disconnected: BTreeMap<usize, u64>,
}

/// What the network carried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetCounts {
    pub messages_sent: u64,
    pub messages_delivered: u64,
    pub messages_lost: u64,
    pub duplicates: u64,
    /// Dropped because the connection was down when they would have arrived.
    pub dropped_no_link: u64,
    pub requests: u64,
    pub responses: u64,
    pub timed_out: u64,
    pub failed: u64,
    pub disconnects: u64,
}

/// A run's outcome.
#[derive(Debug, Clone)]
pub struct Summary {
    pub seed: u64,
    pub now: Millis,
    /// The slot the clock is in.
    pub slot: TimeSlot,
    pub nodes: Vec<NodeSummary>,
    pub net: NetCounts,
    /// Events the queue ran.
    pub steps: u64,
    pub run_hash: [u8; 32],
}

impl Summary {
    /// Slots at which two nodes finalized different blocks: `(slot, node a, node b)`.
    pub fn disagreements(&self) -> Vec<(TimeSlot, usize, usize)> {
        let mut by_slot: BTreeMap<TimeSlot, (usize, Final)> = BTreeMap::new();
        let mut out = Vec::new();
        for (i, node) in self.nodes.iter().enumerate() {
            for f in &node.finals {
                match by_slot.get(&f.slot) {
                    Some((j, g)) if g != f => out.push((f.slot, *j, i)),
                    Some(_) => {}
                    None => {
                        by_slot.insert(f.slot, (i, *f));
                    }
                }
            }
        }
        out
    }

    /// The lowest finalized slot over the nodes given (those alive at the end, say).
    pub fn min_finalized_slot(&self, nodes: impl IntoIterator<Item = usize>) -> Option<TimeSlot> {
        nodes.into_iter().map(|i| self.nodes[i].finalized.map_or(0, |f| f.slot)).min()
    }

    /// Lower-case hex of the run hash.
    pub fn run_hash_hex(&self) -> String {
        orrery_store::hex(&self.run_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orrery_node::Failure;

    fn hash_of(events: &[(Millis, usize, Event)]) -> [u8; 32] {
        let mut h = RunHasher::default();
        for (t, n, e) in events {
            h.event(*t, *n, e);
        }
        h.finish()
    }

    #[test]
    fn the_hash_covers_order_time_node_and_content() {
        let a = Event::Authored { hash: [1; 32], slot: 5 };
        let b = Event::Imported { hash: [1; 32], slot: 5, best: true };
        let base = hash_of(&[(10, 0, a.clone()), (20, 1, b.clone())]);
        assert_eq!(base, hash_of(&[(10, 0, a.clone()), (20, 1, b.clone())]));
        assert_ne!(base, hash_of(&[(20, 1, b.clone()), (10, 0, a.clone())]), "order");
        assert_ne!(base, hash_of(&[(11, 0, a.clone()), (20, 1, b.clone())]), "time");
        assert_ne!(base, hash_of(&[(10, 2, a.clone()), (20, 1, b.clone())]), "node");
        let b2 = Event::Imported { hash: [1; 32], slot: 5, best: false };
        assert_ne!(base, hash_of(&[(10, 0, a), (20, 1, b2)]), "content");
        // Rejection reasons are length-prefixed: "ab"+"c" is not "a"+"bc".
        let r = |s: &str| Event::Rejected { hash: [0; 32], reason: s.into(), failure: Failure::Finality };
        assert_ne!(hash_of(&[(0, 0, r("ab")), (0, 0, r("c"))]), hash_of(&[(0, 0, r("a")), (0, 0, r("bc"))]));
    }

    #[test]
    fn disagreements_name_the_slot_and_nodes() {
        let f = |slot, h: u8| Final { slot, hash: [h; 32], state_root: [h; 32] };
        let node = |finals: Vec<Final>| NodeSummary {
            best: None,
            finalized: None,
            finals,
            conflicts: Vec::new(),
            events: EventCounts::default(),
            disconnected: BTreeMap::new(),
        };
        let summary = Summary {
            seed: 0,
            now: 0,
            slot: 0,
            nodes: vec![node(vec![f(1, 1), f(2, 2)]), node(vec![f(1, 1)]), node(vec![f(1, 1), f(2, 9)])],
            net: NetCounts::default(),
            steps: 0,
            run_hash: [0; 32],
        };
        assert_eq!(summary.disagreements(), vec![(2, 0, 2)]);
    }
}
