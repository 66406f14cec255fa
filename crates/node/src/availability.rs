//! Availability (GP 0.7.2 §14.3, §11.2, Appendix H; JAMNP-S CE 137, 141, 142, 143): an assurer
//! fetches its shards of each newly reported package from a guarantor, keeps them, signs an
//! assurance for the cores whose shards it holds and distributes it; assurances received are
//! checked and pooled for authors. Preimages a service asked for are announced, fetched, pooled.
//!
//! CONTRACT SKELETON (session 7): the entry points below are called from `lib.rs`; their bodies are
//! the availability helper's to write.

use orrery_network::message::{AssuranceMessage, PreimageAnnouncement, ShardRequest, ShardResponse};
use orrery_types::{AvailAssurance, Hash, HeaderHash, Preimage, ServiceId, WorkReport};

use crate::{Millis, Node, Output, PeerId, Response};

/// The availability state.
#[derive(Debug, Default)]
pub(crate) struct Availability {}

impl Node {
    /// Called by the guarantor once it has signed `report`: erasure-code the bundle and the exported
    /// segments (GP 0.7.2 §14.4, Appendix H) and keep every validator's shards, to serve by CE 137.
    pub(crate) fn keep_for_assurers(&mut self, _report: &WorkReport, _bundle: &[u8], _exports: &[Vec<u8>]) {}

    /// CE 137: an assurer asks us (a guarantor) for its shards.
    pub(crate) fn serve_shard(
        &mut self,
        _peer: PeerId,
        _request: ShardRequest,
        _out: &mut Vec<Output>,
    ) -> Option<Response> {
        None
    }

    pub(crate) fn on_shards(
        &mut self,
        _peer: PeerId,
        _erasure_root: Hash,
        _shard_index: u16,
        _shards: ShardResponse,
        _out: &mut Vec<Output>,
    ) {
    }

    pub(crate) fn on_shard_failed(
        &mut self,
        _peer: PeerId,
        _erasure_root: Hash,
        _shard_index: u16,
        _out: &mut Vec<Output>,
    ) {
    }

    /// CE 141.
    pub(crate) fn on_assurance(
        &mut self,
        _peer: PeerId,
        _assurance: AssuranceMessage,
        _out: &mut Vec<Output>,
    ) {
    }

    /// The assurances a block on `parent` may take.
    pub(crate) fn assurances_for_block(&self, _parent: &HeaderHash) -> Vec<AvailAssurance> {
        Vec::new()
    }

    /// CE 142.
    pub(crate) fn on_preimage_announcement(
        &mut self,
        _peer: PeerId,
        _announcement: PreimageAnnouncement,
        _out: &mut Vec<Output>,
    ) {
    }

    /// CE 143: a validator asks us for a preimage we announced.
    pub(crate) fn serve_preimage(
        &mut self,
        _peer: PeerId,
        _hash: Hash,
        _out: &mut Vec<Output>,
    ) -> Option<Response> {
        None
    }

    pub(crate) fn on_preimage(&mut self, _peer: PeerId, _hash: Hash, _blob: Vec<u8>, _out: &mut Vec<Output>) {
    }

    /// The node's own user's preimage (JIP-2 `submitPreimage`).
    pub(crate) fn on_submit_preimage(
        &mut self,
        _requester: ServiceId,
        _blob: Vec<u8>,
        _out: &mut Vec<Output>,
    ) {
    }

    /// The preimages a block on `parent` may take.
    pub(crate) fn preimages_for_block(&self, _parent: &HeaderHash) -> Vec<Preimage> {
        Vec::new()
    }

    pub(crate) fn availability_on_imported(&mut self, _hash: &HeaderHash, _out: &mut Vec<Output>) {}

    pub(crate) fn availability_on_time(&mut self, _out: &mut Vec<Output>) {}

    pub(crate) fn availability_next_wake(&self) -> Option<Millis> {
        None
    }
}
