//! Guaranteeing (GP 0.7.2 §14.3, §11.4; JAMNP-S CE 133, 134, 135): a package for one of our cores
//! is authorized and refined (`orrery-work-report`), shared with the core's other guarantors, and
//! once two or three have signed the report, distributed to every validator as a guarantee;
//! guarantees received are checked and pooled for authors.
//!
//! CONTRACT SKELETON (session 7): the entry points below are called from `lib.rs`; their bodies are
//! the guarantor helper's to write.

use orrery_network::message::{BundleShare, ReportSignature, WorkPackageSubmission};
use orrery_types::{Hash, HeaderHash, ReportGuarantee, TimeSlot};

use crate::{Millis, Node, Output, PeerId, Response};

/// The guarantor's state.
#[derive(Debug, Default)]
pub(crate) struct Guarantor {}

impl Node {
    /// CE 133 from `from`, or the node's own user (`None`).
    pub(crate) fn on_work_package(
        &mut self,
        _from: Option<PeerId>,
        _submission: WorkPackageSubmission,
        _out: &mut Vec<Output>,
    ) {
    }

    /// CE 134: a co-guarantor asks us to refine and sign.
    pub(crate) fn serve_share(
        &mut self,
        _peer: PeerId,
        _share: BundleShare,
        _out: &mut Vec<Output>,
    ) -> Option<Response> {
        None
    }

    pub(crate) fn on_report_signature(
        &mut self,
        _peer: PeerId,
        _package: Hash,
        _signature: ReportSignature,
        _out: &mut Vec<Output>,
    ) {
    }

    pub(crate) fn on_share_failed(&mut self, _peer: PeerId, _package: Hash, _out: &mut Vec<Output>) {}

    /// CE 135.
    pub(crate) fn on_guarantee(
        &mut self,
        _peer: PeerId,
        _guarantee: ReportGuarantee,
        _out: &mut Vec<Output>,
    ) {
    }

    /// The guarantees a block at `slot` on `parent` may take.
    pub(crate) fn guarantees_for_block(&self, _parent: &HeaderHash, _slot: TimeSlot) -> Vec<ReportGuarantee> {
        Vec::new()
    }

    pub(crate) fn guarantor_on_imported(&mut self, _hash: &HeaderHash, _out: &mut Vec<Output>) {}

    pub(crate) fn guarantor_on_time(&mut self, _out: &mut Vec<Output>) {}

    pub(crate) fn guarantor_next_wake(&self) -> Option<Millis> {
        None
    }
}
