//! The judgments state ψ (GP 0.7.2 §10.1).

use std::collections::BTreeSet;

use orrery_codec::{Decode, Describe, Encode};
use orrery_types::{Ed25519Public, WorkReportHash};

/// `ψ = (ψ_G, ψ_B, ψ_W, ψ_O)`. The paper's sets encode as sorted sequences, so a decoded value
/// with unsorted or repeated entries is rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode, Describe)]
pub struct DisputesRecords {
    /// `ψ_G`: reports judged valid.
    pub good: BTreeSet<WorkReportHash>,
    /// `ψ_B`: reports judged invalid.
    pub bad: BTreeSet<WorkReportHash>,
    /// `ψ_W`: reports whose validity could not be decided.
    pub wonky: BTreeSet<WorkReportHash>,
    /// `ψ_O`: the Ed25519 keys of validators found to have offended.
    pub offenders: BTreeSet<Ed25519Public>,
}

impl DisputesRecords {
    /// Whether a verdict on `report` has already been recorded, in any of the three sets.
    pub fn is_judged(&self, report: &WorkReportHash) -> bool {
        self.good.contains(report) || self.bad.contains(report) || self.wonky.contains(report)
    }
}
