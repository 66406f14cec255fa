//! The signing contexts `X_*` of GP 0.7.2 (definitions, "Signing Contexts"): the octets prefixed to
//! what is signed, so that a signature made for one purpose is worth nothing for another.
//!
//! The paper writes them as `$jam_…`; the `$` marks a string token and is not part of the octets.
//! The 0.7.2 block-import traces confirm it: their seals and entropy sources verify with
//! `jam_fallback_seal`, `jam_ticket_seal` and `jam_entropy`, and with nothing starting with `$`.

/// `X_A`: Ed25519 availability assurances (GP §11.2, `eq:assurancesig`).
pub const AVAILABLE: &[u8] = b"jam_available";
/// `X_B`: BLS accumulate-result-root MMR commitments (BEEFY).
pub const BEEFY: &[u8] = b"jam_beefy";
/// `X_E`: on-chain entropy, the block's `H_v` (GP §6, `eq:vrfsigcheck`).
pub const ENTROPY: &[u8] = b"jam_entropy";
/// `X_F`: Bandersnatch fallback block seal (GP §6, `eq:ticketconditionfalse`).
pub const FALLBACK_SEAL: &[u8] = b"jam_fallback_seal";
/// `X_G`: Ed25519 guarantee statements (GP §11.4, `eq:guarantorsig`).
pub const GUARANTEE: &[u8] = b"jam_guarantee";
/// `X_I`: Ed25519 audit announcements.
pub const ANNOUNCE: &[u8] = b"jam_announce";
/// `X_T`: Bandersnatch ring VRF tickets and the ticketed block seal (GP §6, `eq:ticketconditiontrue`, `eq:ticketsextrinsic`).
pub const TICKET_SEAL: &[u8] = b"jam_ticket_seal";
/// `X_U`: Bandersnatch audit selection entropy.
pub const AUDIT: &[u8] = b"jam_audit";
/// `X_⊤`: Ed25519 judgments that a work-report is valid (GP §17, `eq:judgments`).
pub const VALID: &[u8] = b"jam_valid";
/// `X_⊥`: Ed25519 judgments that a work-report is invalid (GP §17, `eq:judgments`).
pub const INVALID: &[u8] = b"jam_invalid";
