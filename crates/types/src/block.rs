//! The block: header and extrinsics (GP 0.7.2 §4, §5 and Appendix C).

use orrery_codec::{BitVec, Decode, Describe, Encode};

use crate::{
    BandersnatchPublic, BandersnatchRingVrfSignature, BandersnatchVrfSignature, Ed25519Public,
    Ed25519Signature, Entropy, Hash, HeaderHash, ServiceId, StateRoot, TimeSlot, ValidatorIndex, WorkReport,
    WorkReportHash,
};

/// A validator's keys as announced in an epoch marker.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct EpochMarkValidatorKeys {
    pub bandersnatch: BandersnatchPublic,
    pub ed25519: Ed25519Public,
}

/// The next epoch's entropy and validators (`H_e`, GP eq. 6.27).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct EpochMark {
    pub entropy: Entropy,
    pub tickets_entropy: Entropy,
    #[codec(len = validators_count)]
    pub validators: Vec<EpochMarkValidatorKeys>,
}

/// A ticket's identifier and attempt index (`T`, GP eq. 6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Describe)]
pub struct TicketBody {
    pub id: Hash,
    /// `E(st_id, st_entryindex)` (GP 0.7.2 appendix C): the attempt is a natural in the general
    /// encoding, one octet for every valid attempt (below `N`) but two from 128 up.
    #[codec(compact)]
    pub attempt: u8,
}

/// A block header (`H`, GP §5).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct Header {
    pub parent: HeaderHash,
    pub parent_state_root: StateRoot,
    pub extrinsic_hash: Hash,
    pub slot: TimeSlot,
    pub epoch_mark: Option<EpochMark>,
    pub tickets_mark: Option<TicketsMark>,
    pub author_index: ValidatorIndex,
    pub entropy_source: BandersnatchVrfSignature,
    pub offenders_mark: Vec<Ed25519Public>,
    pub seal: BandersnatchVrfSignature,
}

impl Header {
    /// `E_U(H)`: the encoding without the seal, which is what the seal signs.
    pub fn encode_unsigned(&self) -> Vec<u8> {
        let mut out = self.encode();
        out.truncate(out.len() - self.seal.len());
        out
    }
}

/// The winning tickets of the next epoch, in slot order (`H_w`). Always `E` long.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct TicketsMark(#[codec(len = epoch_length)] pub Vec<TicketBody>);

/// A ticket submission (GP eq. 6.29).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct TicketEnvelope {
    /// `E(↕E_T)` (GP 0.7.2 appendix C) gives the attempt no fixed width: a natural in the general
    /// encoding, so an out-of-range attempt from 128 up takes two octets (a fixed octet there would
    /// be read by a decoder to the letter as the first of two, shifting the rest of the block).
    #[codec(compact)]
    pub attempt: u8,
    pub signature: BandersnatchRingVrfSignature,
}

/// A preimage provided for a service (GP eq. 12.28).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct Preimage {
    pub requester: ServiceId,
    pub blob: Vec<u8>,
}

/// One guarantor's signature on a work report.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct ValidatorSignature {
    pub validator_index: ValidatorIndex,
    pub signature: Ed25519Signature,
}

/// A guaranteed work report (GP eq. 11.23).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct ReportGuarantee {
    pub report: WorkReport,
    pub slot: TimeSlot,
    pub signatures: Vec<ValidatorSignature>,
}

/// A validator's assurance that it holds its chunks of the listed cores' reports (GP eq. 11.10).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct AvailAssurance {
    pub anchor: HeaderHash,
    #[codec(bits = cores_count)]
    pub bitfield: BitVec,
    pub validator_index: ValidatorIndex,
    pub signature: Ed25519Signature,
}

/// One validator's judgment of a work report's validity.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct Judgement {
    pub vote: bool,
    pub index: ValidatorIndex,
    pub signature: Ed25519Signature,
}

/// A supermajority's judgments of one report (GP eq. 10.2).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct Verdict {
    pub target: WorkReportHash,
    pub age: u32,
    #[codec(len = votes_per_verdict)]
    pub votes: Vec<Judgement>,
}

/// A guarantor of a report found bad.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct Culprit {
    pub target: WorkReportHash,
    pub key: Ed25519Public,
    pub signature: Ed25519Signature,
}

/// A judge who voted against the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct Fault {
    pub target: WorkReportHash,
    pub vote: bool,
    pub key: Ed25519Public,
    pub signature: Ed25519Signature,
}

/// The disputes extrinsic (`E_D`, GP eq. 10.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode, Describe)]
pub struct DisputesExtrinsic {
    pub verdicts: Vec<Verdict>,
    pub culprits: Vec<Culprit>,
    pub faults: Vec<Fault>,
}

/// All five extrinsics of a block, in the paper's order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode, Describe)]
pub struct Extrinsic {
    pub tickets: Vec<TicketEnvelope>,
    pub preimages: Vec<Preimage>,
    pub guarantees: Vec<ReportGuarantee>,
    pub assurances: Vec<AvailAssurance>,
    pub disputes: DisputesExtrinsic,
}

/// A block (`B`, GP eq. 4.2).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct Block {
    pub header: Header,
    pub extrinsic: Extrinsic,
}
