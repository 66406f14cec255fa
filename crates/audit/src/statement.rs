//! What an auditor signs (GP 0.7.2 §17.3): announcements (eq. 17.5) and judgments (eq. 17.9).

use orrery_crypto::{context, ed25519_verify};
use orrery_keys::ValidatorKeys;
use orrery_types::{CoreIndex, Ed25519Public, Ed25519Signature, Hash, HeaderHash};

/// Why a statement is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    #[error("the announcement's signature does not verify (GP 0.7.2 eq. 17.5)")]
    BadAnnouncement,
    #[error("the judgment's signature does not verify (GP 0.7.2 eq. 17.9)")]
    BadJudgment,
}

/// The signed material of an announcement: `$jam_announce ⌢ n ⌢ x_n ⌢ H(H)` with
/// `x_n = E({E_2(c) ⌢ H(w) | (c, w) ∈ a_n})`. A set encodes as its elements in order (GP 0.7.2
/// Appendix C, "Set Encoding"); the elements are octet strings, so the order is theirs
/// (lexicographic), which for cores below 256 is also the cores' order.
pub fn announcement_message(tranche: u8, reports: &[(CoreIndex, Hash)], block: &HeaderHash) -> Vec<u8> {
    let mut items: Vec<[u8; 34]> = reports
        .iter()
        .map(|(core, hash)| {
            let mut item = [0u8; 34];
            item[..2].copy_from_slice(&core.to_le_bytes());
            item[2..].copy_from_slice(hash);
            item
        })
        .collect();
    items.sort_unstable();
    items.dedup();
    let mut message = Vec::with_capacity(context::ANNOUNCE.len() + 1 + 34 * items.len() + 32);
    message.extend_from_slice(context::ANNOUNCE);
    message.push(tranche);
    for item in &items {
        message.extend_from_slice(item);
    }
    message.extend_from_slice(block);
    message
}

pub fn sign_announcement(
    keys: &ValidatorKeys,
    tranche: u8,
    reports: &[(CoreIndex, Hash)],
    block: &HeaderHash,
) -> Ed25519Signature {
    keys.ed25519_sign(&announcement_message(tranche, reports, block))
}

pub fn verify_announcement(
    public: &Ed25519Public,
    tranche: u8,
    reports: &[(CoreIndex, Hash)],
    block: &HeaderHash,
    signature: &Ed25519Signature,
) -> Result<(), AuditError> {
    ed25519_verify(public, &announcement_message(tranche, reports, block), signature)
        .map_err(|_| AuditError::BadAnnouncement)
}

/// The signed material of a judgment: `$jam_valid ⌢ H(w)` or `$jam_invalid ⌢ H(w)`. The same
/// statement the disputes extrinsic carries (GP 0.7.2 eq. 10.x), so a judgment published here
/// can go into a verdict as it is.
pub fn judgment_message(valid: bool, report_hash: &Hash) -> Vec<u8> {
    let label = if valid { context::VALID } else { context::INVALID };
    [label, report_hash.as_slice()].concat()
}

pub fn sign_judgment(keys: &ValidatorKeys, valid: bool, report_hash: &Hash) -> Ed25519Signature {
    keys.ed25519_sign(&judgment_message(valid, report_hash))
}

pub fn verify_judgment(
    public: &Ed25519Public,
    valid: bool,
    report_hash: &Hash,
    signature: &Ed25519Signature,
) -> Result<(), AuditError> {
    ed25519_verify(public, &judgment_message(valid, report_hash), signature)
        .map_err(|_| AuditError::BadJudgment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcement_layout_by_hand() {
        let message = announcement_message(2, &[(1, [0xbb; 32]), (0, [0xaa; 32])], &[0xcc; 32]);
        let mut expected = b"jam_announce".to_vec();
        expected.push(2);
        expected.extend_from_slice(&[0, 0]);
        expected.extend_from_slice(&[0xaa; 32]);
        expected.extend_from_slice(&[1, 0]);
        expected.extend_from_slice(&[0xbb; 32]);
        expected.extend_from_slice(&[0xcc; 32]);
        assert_eq!(message, expected);
    }

    #[test]
    fn announcements_verify_for_what_was_signed() {
        let keys = ValidatorKeys::dev(0);
        let reports = [(0, [1; 32])];
        let signature = sign_announcement(&keys, 0, &reports, &[2; 32]);
        let public = keys.ed25519_public();
        assert_eq!(verify_announcement(&public, 0, &reports, &[2; 32], &signature), Ok(()));
        assert_eq!(
            verify_announcement(&public, 1, &reports, &[2; 32], &signature),
            Err(AuditError::BadAnnouncement)
        );
        assert!(verify_announcement(&public, 0, &[(1, [1; 32])], &[2; 32], &signature).is_err());
    }

    #[test]
    fn judgments_sign_validity() {
        let keys = ValidatorKeys::dev(5);
        let public = keys.ed25519_public();
        let valid = sign_judgment(&keys, true, &[3; 32]);
        assert_eq!(verify_judgment(&public, true, &[3; 32], &valid), Ok(()));
        assert_eq!(verify_judgment(&public, false, &[3; 32], &valid), Err(AuditError::BadJudgment));
        assert_eq!(judgment_message(false, &[3; 32])[..11], *b"jam_invalid");
    }
}
