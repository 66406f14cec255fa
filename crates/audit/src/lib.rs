//! Auditing (GP 0.7.2 §17, "Auditing and Judging"): the part of a validator's off-chain work that
//! decides which newly available work reports it re-checks, signs what it promised and what it
//! found, and tells when a report, and so a block, counts as audited (the best-chain and GRANDPA
//! condition of §19).
//!
//! What is here, all pure functions and plain data:
//! - [`select`]: the reports a block makes auditable (`q`, eq. 17.1), the tranche-0 draw (a
//!   Bandersnatch VRF signature `s_0` over `$jam_audit ⌢ Y(H_v)`, then the first ten cores of the
//!   shuffle by `Y(s_0)`, eq. 17.2–17.3), the draw of later tranches for reports with no-shows
//!   (eq. 17.7), and the tranche number at a time (eq. 17.4).
//! - [`statement`]: the announcement `S` (Ed25519 over `$jam_announce ⌢ n ⌢ x_n ⌢ H(H)`, eq. 17.5)
//!   and the judgment (Ed25519 over `$jam_valid` or `$jam_invalid` ⌢ `H(w)`, eq. 17.9), signed
//!   and checked.
//! - [`tracker`]: per report, the announcements `A_n` and judgments `J_⊤`, `J_⊥` seen; whether it
//!   is audited (`U(w)`, eq. 17.10) and whether a block is (eq. 17.11); how many no-shows a
//!   tranche left (`m_n`).
//!
//! What is not here: fetching bundles (CE 147, CE 138 and reconstruction), re-running refine
//! (that is `orrery-work-report`'s Ξ), the wire format of CE 144/145, and the node that drives all
//! of it with a clock.

pub mod select;
pub mod statement;
pub mod tracker;

pub use select::{later_tranche_selected, tranche_at, Tranche0, TRANCHE0_CORES};
pub use statement::{announcement_message, judgment_message, AuditError};
pub use tracker::ReportAudit;

/// `Ctrancheseconds`: a new tranche begins every eight seconds after a slot starts (GP 0.7.2 §17.3).
pub const TRANCHE_SECONDS: u64 = 8;
/// `Cauditbiasfactor = F`: the expected number of validators drawn to cover one no-show.
pub const AUDIT_BIAS_FACTOR: u64 = 2;
