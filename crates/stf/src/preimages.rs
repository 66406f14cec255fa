//! Preimage integration δ‡ → δ' (GP 0.7.2 §12.4).
//!
//! The extrinsic must be sorted by (service, blob) without duplicates, and every blob must be
//! solicited and not yet provided in the *prior* accounts ([`validate`]). Integration then writes
//! the blobs that are still wanted after accumulation ([`integrate`]).

use std::collections::BTreeMap;

use orrery_crypto::blake2b_256;
use orrery_state::{ServiceAccount, ServicesStatistics};
use orrery_types::{Preimage, ServiceId, TimeSlot};

use crate::statistics;

/// Why a preimages extrinsic is invalid. Codes are the vectors' names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PreimagesError {
    #[error("preimage_unneeded: a preimage was not solicited, or is already provided")]
    PreimageUnneeded,
    #[error("preimages_not_sorted_unique: preimages are not sorted by (service, blob) without duplicates")]
    PreimagesNotSortedUnique,
}

impl PreimagesError {
    /// The vectors' name for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::PreimageUnneeded => "preimage_unneeded",
            Self::PreimagesNotSortedUnique => "preimages_not_sorted_unique",
        }
    }
}

/// `Y(d, s, i)`: service `s` exists and has requested `i` (by hash and length) without yet
/// receiving it.
pub fn is_providable(
    accounts: &BTreeMap<ServiceId, ServiceAccount>,
    service: ServiceId,
    blob: &[u8],
) -> bool {
    providable_key(accounts, service, blob).is_some()
}

fn providable_key(
    accounts: &BTreeMap<ServiceId, ServiceAccount>,
    service: ServiceId,
    blob: &[u8],
) -> Option<([u8; 32], u32)> {
    let account = accounts.get(&service)?;
    let key = (blake2b_256(blob), u32::try_from(blob.len()).ok()?);
    matches!(account.request(&key.0, key.1), Some(Ok(slots)) if slots.is_empty()).then_some(key)
}

/// Checks `E_P` against the prior accounts `δ` (GP 0.7.2 §12.4).
pub fn validate(
    accounts: &BTreeMap<ServiceId, ServiceAccount>,
    preimages: &[Preimage],
) -> Result<(), PreimagesError> {
    let sorted = preimages
        .windows(2)
        .all(|pair| (pair[0].requester, &pair[0].blob) < (pair[1].requester, &pair[1].blob));
    if !sorted {
        return Err(PreimagesError::PreimagesNotSortedUnique);
    }
    if preimages.iter().all(|p| is_providable(accounts, p.requester, &p.blob)) {
        Ok(())
    } else {
        Err(PreimagesError::PreimageUnneeded)
    }
}

/// `P(δ‡, E_P)`: writes each still-providable blob and marks its request provided at `slot` (`τ'`).
/// Blobs that accumulation made unwanted are skipped without error.
pub fn integrate(accounts: &mut BTreeMap<ServiceId, ServiceAccount>, preimages: &[Preimage], slot: TimeSlot) {
    for preimage in preimages {
        let Some(key) = providable_key(accounts, preimage.requester, &preimage.blob) else {
            continue;
        };
        if let Some(account) = accounts.get_mut(&preimage.requester) {
            account.set_request(&key.0, key.1, &[slot]);
            account.set_preimage(&key.0, preimage.blob.clone());
        }
    }
}

/// Validates `E_P` against `accounts` and integrates it into the same accounts, adding the
/// provisions to the block's service statistics: the transition the preimages vectors test, where
/// no accumulation happens in between.
pub fn apply(
    accounts: &BTreeMap<ServiceId, ServiceAccount>,
    services: &ServicesStatistics,
    preimages: &[Preimage],
    slot: TimeSlot,
) -> Result<(BTreeMap<ServiceId, ServiceAccount>, ServicesStatistics), PreimagesError> {
    validate(accounts, preimages)?;
    let mut accounts = accounts.clone();
    integrate(&mut accounts, preimages, slot);
    let mut services = services.clone();
    statistics::add_preimages(&mut services, preimages);
    Ok((accounts, services))
}
