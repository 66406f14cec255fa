//! The JAM state σ (GP 0.7.2 §4.2 and the components each section defines), as plain data.
//!
//! Every component is a type with its Gray Paper codec layout (the rows of the state serialization
//! `T(σ)`, GP 0.7.2 §D.1), so that a component read from the conformance vectors or written to the
//! state trie is bytes-for-bytes what the paper and the vectors say. Field names follow the vectors'
//! ASN.1 schema (`lib/jam-types.asn`); each doc comment names the paper's symbol.
//!
//! [`serialization`] is `T(σ)`, its inverse and the state root. [`keys`] builds the state keys
//! of `T(σ)` (the constructor `C`); service accounts hold the entries
//! of their storage, preimages and requests under those keys' hashes, as the serialized state does,
//! so an account read back from key/value pairs needs none of its original storage keys.
//!
//! The components know nothing of how they change: the state-transition function (`orrery-stf`)
//! computes posterior values from prior ones. Sequences whose length the chain spec fixes (one entry
//! per validator, per core, per epoch slot) use the spec's lengths from the decoder, so one binary
//! reads every spec.

#![forbid(unused_must_use)]

mod accounts;
mod accumulation;
mod authorization;
mod disputes;
mod history;
pub mod keys;
mod privileges;
mod reports;
mod safrole;
pub mod serialization;
mod state;
mod statistics;
mod validators;

pub use accounts::{EntryValue, MalformedRequest, ServiceAccount, ServiceInfo};
pub use accumulation::{AccumulatedQueue, AccumulationOutput, ReadyQueue, ReadyRecord};
pub use authorization::{AuthPools, AuthQueue, AuthQueues};
pub use disputes::DisputesRecords;
pub use history::{BlockInfo, RecentBlocks, ReportedWorkPackage};
pub use keys::{EntryKey, StateKey};
pub use orrery_merkle::Mmr;
pub use privileges::Privileges;
pub use reports::{AvailabilityAssignment, AvailabilityAssignments};
pub use safrole::{EntropyBuffer, SafroleState, TicketsOrKeys};
pub use state::State;
pub use statistics::{
    CoreActivityRecord, CoresStatistics, ServiceActivityRecord, ServicesStatistics, Statistics,
    ValidatorActivityRecord, ValidatorsStatistics,
};
pub use validators::{ValidatorData, ValidatorsData};
