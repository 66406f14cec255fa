//! What goes into the node and what comes out: the contract between the protocol core, the
//! simulator and the QUIC driver. Messages are the JAMNP-S ones (`orrery_network::message`) and
//! GRANDPA's (`orrery_grandpa::Message`), already decoded: the driver decodes with the caps of
//! `orrery_network` and reports a peer whose bytes do not decode as [`Input::Misbehaved`].

use orrery_network::message::audit::{AuditAnnouncement, JudgmentPublication};
use orrery_network::message::{
    Announcement, AssuranceMessage, AuditShardResponse, BlockRequest, BoundaryNode, BundleShare, Handshake,
    KeyValue, PreimageAnnouncement, ReportSignature, SegmentShardRequest, ShardRequest, ShardResponse,
    StateRequest, TicketMessage, WorkPackageSubmission,
};
use orrery_types::{Block, CoreIndex, Hash, ReportGuarantee, ServiceId, TicketEnvelope};

use std::sync::Arc;

use orrery_author::TicketJob;
use orrery_crypto::bandersnatch::RingContext;
use orrery_keys::ValidatorKeys;

/// A peer, by the Ed25519 key its certificate proved.
pub type PeerId = [u8; 32];

/// Milliseconds since the JAM common era (1200 UTC, 1 January 2025; GP 0.7.2 §4.4). Slot `s` starts
/// at `s × slot_ms`.
pub type Millis = u64;

/// A request the node made, named by the node so it can match the response.
pub type RequestId = u64;

/// One-way messages: UP 0's handshake and announcements, CE 131/132 tickets, the work-package
/// streams that expect no answer (CE 133, 135, 141, 142), GRANDPA's votes and commits (CE 149/150).
/// The driver carries each on its stream kind.
// The variants are moved once per delivery; boxing the large ones would change the contract the
// simulator and the driver code against for no measurable gain.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Handshake(Handshake),
    Announcement(Announcement),
    /// CE 131 (to the proxy validator) when `to_proxy`, CE 132 (proxy to all) otherwise.
    Ticket {
        to_proxy: bool,
        ticket: TicketMessage,
    },
    Grandpa(orrery_grandpa::Message),
    /// CE 133: a work package for one of the receiver's cores (from a builder or another node).
    WorkPackage(WorkPackageSubmission),
    /// CE 135: a guaranteed work report, with two or three guarantors' signatures.
    Guarantee(ReportGuarantee),
    /// CE 141: the sender's availability assurance (its validator index is the connection's).
    Assurance(AssuranceMessage),
    /// CE 142: the sender holds a preimage a service asked for.
    PreimageAnnouncement(PreimageAnnouncement),
    /// CE 144: the sender will audit these reports of a block, with the evidence.
    AuditAnnouncement(AuditAnnouncement),
    /// CE 145: a judgment of a report.
    Judgment(JudgmentPublication),
}

/// Requests that expect a response (CE 128, 129, 134, 137, 138, 139, 143, 147).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Blocks(BlockRequest),
    State(StateRequest),
    /// CE 134: refine this bundle on this core and sign the report.
    ShareBundle(BundleShare),
    /// CE 137: the shards of this erasure root that the requester, as assurer, is to keep.
    Shard(ShardRequest),
    /// CE 138: the bundle shard of this erasure root the requested assurer keeps (an auditor
    /// rebuilding a bundle asks).
    AuditShard(ShardRequest),
    /// CE 143: the preimage of this hash.
    Preimage(Hash),
    /// CE 147: the bundle with this erasure root (an auditor asks a guarantor).
    Bundle(Hash),
    /// CE 139: these segment shards (a guarantor fetching imports asks an assurer).
    SegmentShards(SegmentShardRequest),
    /// CE 153: the warp proof from the voter set with this id ([`crate::warp`]).
    Warp(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Blocks(Vec<Block>),
    State {
        boundary: Vec<BoundaryNode>,
        pairs: Vec<KeyValue>,
    },
    ReportSignature(ReportSignature),
    Shard(ShardResponse),
    AuditShard(AuditShardResponse),
    Preimage(Vec<u8>),
    Bundle(Vec<u8>),
    /// CE 139's answer: the asked segment shards, in the order asked.
    SegmentShards(Vec<Vec<u8>>),
    /// CE 153's answer (boxed: a fragment holds a whole header).
    Warp(Box<crate::warp::WarpProof>),
}

/// Why a request got no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFailure {
    /// The peer closed the stream, sent something that does not decode, or is gone.
    Failed,
    /// No response within the driver's deadline.
    TimedOut,
}

// The variants are moved once per delivery; boxing the large ones would change the contract the
// simulator and the driver code against for no measurable gain.
#[allow(clippy::large_enum_variant)]
/// Everything that happens to the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Time passed.
    Tick,
    /// A connection is up and authenticated (`builder`: it used the `/builder` ALPN).
    PeerConnected {
        peer: PeerId,
        builder: bool,
    },
    PeerDisconnected {
        peer: PeerId,
    },
    Message {
        peer: PeerId,
        message: Message,
    },
    Request {
        peer: PeerId,
        id: RequestId,
        request: Request,
    },
    Response {
        peer: PeerId,
        id: RequestId,
        response: Result<Response, RequestFailure>,
    },
    /// The driver caught the peer breaking the wire rules (undecodable bytes, oversized frame,
    /// unknown stream kind, a stalled stream); the node counts it against the peer.
    Misbehaved {
        peer: PeerId,
        what: String,
    },
    /// A work package from this node's own user (the JIP-2 `submitWorkPackage`), handled as if a
    /// builder had sent it by CE 133.
    SubmitWorkPackage(WorkPackageSubmission),
    /// A preimage from this node's own user (the JIP-2 `submitPreimage`): kept, announced (CE 142)
    /// and offered to authors while `requester` has asked for it.
    SubmitPreimage {
        requester: ServiceId,
        blob: Vec<u8>,
    },
    /// What [`TicketWork::run`] made of the node's [`Output::MakeTickets`]: our ticket proofs for
    /// the contest running in `epoch`, or why there are none.
    TicketsMade {
        epoch: u32,
        tickets: Result<Vec<TicketEnvelope>, String>,
    },
}

// The variants are moved once per delivery; boxing the large ones would change the contract the
// simulator and the driver code against for no measurable gain.
#[allow(clippy::large_enum_variant)]
/// Everything the node asks its driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Send {
        peer: PeerId,
        message: Message,
    },
    Request {
        peer: PeerId,
        id: RequestId,
        request: Request,
    },
    /// Answer request `id` of `peer`.
    Respond {
        peer: PeerId,
        id: RequestId,
        response: Response,
    },
    /// Refuse request `id` of `peer` (reset its stream): the node cannot or will not serve it.
    Refuse {
        peer: PeerId,
        id: RequestId,
    },
    /// Close the connection and refuse the peer for a while.
    Disconnect {
        peer: PeerId,
        reason: String,
    },
    /// The validators the node should be connected to now (previous, current and next epochs),
    /// with the endpoints from their metadata; the driver dials those it is the preferred
    /// initiator for (`orrery_network::policy`) and drops connections no longer wanted.
    WantPeers(Vec<(PeerId, std::net::SocketAddr)>),
    /// Make our Safrole tickets and hand them back as the [`Input::TicketsMade`] that
    /// [`TicketWork::run`] returns. It costs a ring prover and `N` ring proofs (about 1.5 s on the
    /// tiny spec, tens of seconds on the full one), so a driver runs it where it holds up no other
    /// input (the QUIC driver: a thread of its own); the result is the same wherever it runs.
    MakeTickets(TicketWork),
    /// Something worth a log line, a status figure or a telemetry event.
    Event(Event),
}

/// What the node did, for logs, status lines, telemetry and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Authored {
        hash: [u8; 32],
        slot: u32,
    },
    Imported {
        hash: [u8; 32],
        slot: u32,
        best: bool,
    },
    Finalized {
        hash: [u8; 32],
        slot: u32,
    },
    /// A block failed import, or finalizing it failed; `reason` names the rule, `failure` the stage.
    Rejected {
        hash: [u8; 32],
        reason: String,
        failure: Failure,
    },
    /// The warp-sync fragment of voter set `set_id`'s handover could not be made or kept: warp
    /// proofs this node serves stop before it.
    WarpFragmentLost {
        set_id: u32,
        reason: String,
    },
    /// Authoring a block at `slot` on `parent` failed before anything was sealed.
    AuthoringFailed {
        slot: u32,
        parent: Hash,
        reason: String,
    },
    /// Two blocks sealed by the same author for the same slot.
    Equivocation {
        slot: u32,
        author: u16,
    },
    /// A work package this node was to guarantee was refused; `reason` names the rule.
    WorkPackageRefused {
        package: Hash,
        reason: String,
    },
    /// This node, as guarantor, has a guaranteed report for `package` and has distributed it
    /// (`slot` and `guarantors`: the guarantee's timeslot and signers' validator indices).
    Guaranteed {
        package: Hash,
        core: CoreIndex,
        report: Hash,
        signatures: usize,
        slot: u32,
        guarantors: Vec<u16>,
    },
    /// This node, as guarantor, refined `package` and built its report; `gas` is each work item's
    /// refine gas, `auth_gas` the gas Ψ_I used to authorize the package (the report's `g`).
    ReportBuilt {
        package: Hash,
        report: Hash,
        bundle_size: u32,
        erasure_root: Hash,
        segments_root: Hash,
        gas: Vec<u64>,
        auth_gas: u64,
    },
    /// A package this node is guaranteeing or was passed on already came again (same hash): it is
    /// not taken a second time.
    DuplicatePackage {
        package: Hash,
        core: CoreIndex,
    },
    /// A guarantor's segment recovery for `package` (the one importing the segments).
    Segments {
        package: Hash,
        step: SegmentStep,
    },
    /// A guarantee a peer sent failed the checks (`reason`); it was not pooled.
    GuaranteeRefused {
        report: Hash,
        reason: String,
    },
    /// A guarantee left the pool.
    GuaranteeDiscarded {
        report: Hash,
        slot: u32,
        guarantors: Vec<u16>,
        reason: GuaranteeDiscard,
    },
    /// A preimage a peer announced is forgotten without being acquired.
    PreimageForgotten {
        service: ServiceId,
        hash: Hash,
        length: u32,
        reason: PreimageForget,
    },
    /// A preimage the node held (or had just acquired) left, or never entered, the pool.
    PreimageDiscarded {
        hash: Hash,
        length: u32,
        reason: PreimageDiscard,
    },
    /// This node made its Safrole tickets for `epoch` (`outputs`: their VRF outputs, by attempt).
    TicketsGenerated {
        epoch: u32,
        outputs: Vec<[u8; 32]>,
    },
    TicketGenerationFailed {
        epoch: u32,
        reason: String,
    },
    /// This node, as auditor, rebuilt (`ok`) or failed to rebuild a bundle from assurers' shards;
    /// `trivial`: only original-data shards were used.
    BundleRebuilt {
        erasure_root: Hash,
        trivial: bool,
        ok: bool,
    },
    /// This node, as assurer, holds its shards of the report with this erasure root.
    ShardsStored {
        erasure_root: Hash,
    },
    /// This node, as auditor, judged a report that `block` made available.
    Audited {
        block: Hash,
        report: Hash,
        valid: bool,
    },
}

/// The stage at which a block failed (JIP-3 tells verification from execution).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// It broke a validity rule of the header or of an extrinsic (GP 0.7.2 §5, §6, §10, §11,
    /// §12.4), or its parent is not one a block may have.
    Verification(Box<Block>),
    /// It was valid but executing it failed: accumulation (GP 0.7.2 §12.2) or the store's writing
    /// of its posterior state.
    Execution(Box<Block>),
    /// The block was imported; making it final failed in the store.
    Finality,
}

/// A step of a guarantor's segment recovery (GP 0.7.2 §14.3 `S(w)`, `J(w)`; JAMNP-S CE 139).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentStep {
    /// An import named by `package`'s hash resolved, through the recent history, to its
    /// segment root.
    PackageMapped { package: Hash, segments_root: Hash },
    /// A segment root resolved to its report's erasure root (where the shards are); `ids`: each
    /// segment index of that report to be fetched with its JIP-3 Import Segment ID (its position
    /// in the package's import list, or 2^15 plus the index of a proof page).
    RootMapped { segments_root: Hash, erasure_root: Hash, ids: Vec<(u16, u16)> },
    /// Reconstruction of `segments` (positions in the package's import list) begins; `trivial`:
    /// only original-data shards are at hand.
    Reconstructing { segments: Vec<u16>, trivial: bool },
    /// Erasure decoding failed.
    ReconstructionFailed { segments: Vec<u16>, reason: String },
    /// Reconstructed; then proven against the segment root (`ok`) or not.
    Reconstructed { segments: Vec<u16>, proven: Result<(), String> },
    /// Every import is proven: the package goes on to refinement.
    ImportsReceived,
}

/// Why a guarantee left the pool (JIP-3 "Guarantee Discard Reason").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuaranteeDiscard {
    /// The best chain reported its package.
    ReportedOnChain,
    /// Another guarantee of the core (newer rotation, or more signatures) took its place.
    Replaced,
    /// Its rotation is past: no block may take it any more.
    CannotBeReported,
}

/// Why an announced preimage is forgotten (JIP-3 "Announced Preimage Forget Reason").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreimageForget {
    NotRequested,
    AcquireFailed,
    TooMany,
    BadLength,
}

/// Why a preimage left the pool (JIP-3 "Preimage Discard Reason").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreimageDiscard {
    ProvidedOnChain,
    NotRequested,
    TooMany,
}

/// One validator's ticket proofs for one contest, with what they are made with: the ring context
/// and the keys (the node's own, so that a driver needs nothing else to run it).
#[derive(Clone)]
pub struct TicketWork {
    /// The epoch whose contest the tickets enter (they are used in the next one).
    pub epoch: u32,
    pub job: TicketJob,
    ring: Arc<RingContext>,
    keys: ValidatorKeys,
}

impl TicketWork {
    pub(crate) fn new(epoch: u32, job: TicketJob, ring: Arc<RingContext>, keys: ValidatorKeys) -> Self {
        Self { epoch, job, ring, keys }
    }

    /// Makes the proofs (the slow part) and says so as the node's next input.
    pub fn run(&self) -> Input {
        let tickets = self.job.run(&self.ring, &self.keys).map_err(|e| e.to_string());
        Input::TicketsMade { epoch: self.epoch, tickets }
    }
}

// The ring context and the keys are the node's own and never differ between two works of one
// node; what a work is, is its epoch and its job.
impl PartialEq for TicketWork {
    fn eq(&self, other: &Self) -> bool {
        self.epoch == other.epoch && self.job == other.job
    }
}

impl Eq for TicketWork {}

impl std::fmt::Debug for TicketWork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketWork")
            .field("epoch", &self.epoch)
            .field("job", &self.job)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}
