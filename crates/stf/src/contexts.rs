//! Signing contexts: the octet strings prefixed to signed messages (GP 0.7.2 Appendix I.4.5).
//!
//! The paper writes them `$jam_valid` and so on; its leading `$` marks an ASCII string (the set
//! `B_$` of §3), so the octets are `jam_valid` without it, as the vectors' signatures confirm.

/// `X_A`: availability assurances.
pub const AVAILABLE: &[u8] = b"jam_available";
/// `X_G`: guarantee statements.
pub const GUARANTEE: &[u8] = b"jam_guarantee";
/// `X_⊤`: judgments that a report is valid.
pub const VALID: &[u8] = b"jam_valid";
/// `X_⊥`: judgments that a report is invalid.
pub const INVALID: &[u8] = b"jam_invalid";

/// `X_v ⌢ r`: the message a judgment (or a fault's vote) of validity `vote` on `report` signs.
pub fn judgment_message(vote: bool, report: &[u8; 32]) -> Vec<u8> {
    [if vote { VALID } else { INVALID }, report].concat()
}
