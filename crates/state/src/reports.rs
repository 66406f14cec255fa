//! Reports pending availability ρ (GP 0.7.2 §11.1).

use orrery_codec::{Decode, Describe, Encode};
use orrery_types::{TimeSlot, WorkReport};

/// A report assigned to a core and the slot at which it was reported (`(r, t)`).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct AvailabilityAssignment {
    pub report: WorkReport,
    /// `t`: the slot at which it was reported (the vectors call it the timeout).
    pub timeout: TimeSlot,
}

/// `ρ`: per core, the report pending availability, if any. Exactly `C` entries.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct AvailabilityAssignments(#[codec(len = cores_count)] pub Vec<Option<AvailabilityAssignment>>);

impl AvailabilityAssignments {
    /// `C` empty cores.
    pub fn empty(cores: usize) -> Self {
        Self(vec![None; cores])
    }
}
