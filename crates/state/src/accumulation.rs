//! The accumulation queues: ready work ω, accumulated history ξ and the last outputs θ
//! (GP 0.7.2 §12.1).

use orrery_codec::{Decode, Describe, Encode};
use orrery_types::{Hash, ServiceId, WorkPackageHash, WorkReport};

/// A report waiting for its dependencies, with the packages it still waits on.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct ReadyRecord {
    pub report: WorkReport,
    pub dependencies: Vec<WorkPackageHash>,
}

/// `ω`: per slot of the epoch, the reports ready but not yet accumulated. Exactly `E` entries.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct ReadyQueue(#[codec(len = epoch_length)] pub Vec<Vec<ReadyRecord>>);

/// `ξ`: per slot of the epoch, the packages accumulated then. Exactly `E` entries.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct AccumulatedQueue(#[codec(len = epoch_length)] pub Vec<Vec<WorkPackageHash>>);

/// One entry of `θ`: a service and the hash its accumulation yielded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Encode, Decode, Describe)]
pub struct AccumulationOutput {
    pub service: ServiceId,
    pub hash: Hash,
}
