//! Safrole's state γ and the entropy accumulator η (GP 0.7.2 §6.2, §6.4).

use orrery_codec::{Decode, Describe, Encode};
use orrery_types::{BandersnatchPublic, BandersnatchRingCommitment, Entropy, TicketBody};

use crate::ValidatorsData;

/// `γ_S`: the current epoch's sealing keys, either the winning tickets or (the fallback) one
/// Bandersnatch key per slot. Exactly `E` entries either way.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub enum TicketsOrKeys {
    Tickets(#[codec(len = epoch_length)] Vec<TicketBody>),
    Keys(#[codec(len = epoch_length)] Vec<BandersnatchPublic>),
}

/// `γ`: Safrole's consensus state, encoded as the row `C(4)` of `T(σ)`.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct SafroleState {
    /// `γ_P`: the next epoch's validator keys.
    #[codec(name = "gamma_k")]
    pub pending_validators: ValidatorsData,
    /// `γ_Z`: the Bandersnatch ring root of `γ_P`.
    #[codec(name = "gamma_z")]
    pub ring_root: BandersnatchRingCommitment,
    /// `γ_S`: the current epoch's sealing-key series.
    #[codec(name = "gamma_s")]
    pub sealing_keys: TicketsOrKeys,
    /// `γ_A`: the ticket accumulator for the next epoch, at most `E` tickets sorted by id.
    #[codec(name = "gamma_a")]
    pub ticket_accumulator: Vec<TicketBody>,
}

/// `η`: the entropy accumulator `η_0` and the three most recent epochs' entropy `η_1..η_3`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode, Describe)]
pub struct EntropyBuffer(pub [Entropy; 4]);
