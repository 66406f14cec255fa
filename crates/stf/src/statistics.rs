//! Activity statistics π → π' (GP 0.7.2 §13).
//!
//! Validator statistics accumulate over an epoch and roll over at its end ([`validators`]). Core and
//! service statistics describe one block: the block starts from zeroed records and each
//! sub-transition adds what it saw ([`add_reports`], [`add_availability`], [`add_preimages`]), so
//! the sum over all of them is the paper's `π'_C` and `π'_S`. Counts saturate rather than wrap: a
//! valid block cannot come near the limits, and an invalid one must not panic the node.

use std::collections::BTreeSet;

use orrery_state::{CoresStatistics, ServicesStatistics, ValidatorsData, ValidatorsStatistics};
use orrery_types::constants::SEGMENT_SIZE;
use orrery_types::{
    AvailAssurance, ChainSpec, Ed25519Public, Extrinsic, Preimage, TimeSlot, ValidatorIndex, WorkReport,
};

/// `(π'_V, π'_L)` (GP 0.7.2 §13.1).
///
/// `prior_slot` is `τ`, `slot` is `τ' = H_t`, `author` is `H_i`, `active` is `κ'` and `reporters`
/// is the reporters set `R` of the guarantees (GP 0.7.2 §11.4). An author index past `V` credits no
/// one (the header checks reject such a block before this runs).
#[allow(clippy::too_many_arguments)]
pub fn validators(
    spec: &ChainSpec,
    current: &ValidatorsStatistics,
    last: &ValidatorsStatistics,
    prior_slot: TimeSlot,
    slot: TimeSlot,
    author: ValidatorIndex,
    extrinsic: &Extrinsic,
    active: &ValidatorsData,
    reporters: &BTreeSet<Ed25519Public>,
) -> (ValidatorsStatistics, ValidatorsStatistics) {
    let validators = spec.validators_count as usize;
    let (mut current, last) = if prior_slot / spec.epoch_length == slot / spec.epoch_length {
        (current.clone(), last.clone())
    } else {
        (ValidatorsStatistics::zeroed(validators), current.clone())
    };
    // A malformed prior record of the wrong length is made whole rather than indexed out of range.
    current.0.resize(validators, Default::default());

    if let Some(record) = current.0.get_mut(usize::from(author)) {
        record.blocks = record.blocks.saturating_add(1);
        record.tickets = record.tickets.saturating_add(count(extrinsic.tickets.len()));
        record.pre_images = record.pre_images.saturating_add(count(extrinsic.preimages.len()));
        let size = extrinsic.preimages.iter().fold(0u32, |sum, p| sum.saturating_add(count(p.blob.len())));
        record.pre_images_size = record.pre_images_size.saturating_add(size);
    }
    for (record, key) in current.0.iter_mut().zip(active.iter()) {
        if reporters.contains(&key.ed25519) {
            record.guarantees = record.guarantees.saturating_add(1);
        }
    }
    // The assurances extrinsic holds at most one entry per validator once validated; counting
    // distinct indices keeps the paper's "∃a" even for an unvalidated one.
    let assurers: BTreeSet<ValidatorIndex> = extrinsic.assurances.iter().map(|a| a.validator_index).collect();
    for index in assurers {
        if let Some(record) = current.0.get_mut(usize::from(index)) {
            record.assurances = record.assurances.saturating_add(1);
        }
    }
    (current, last)
}

/// Adds the incoming reports `I` to the core records (`R(c)` and `L(c)`, GP 0.7.2 §13.2) and to the
/// service records (`R(s)`).
pub fn add_reports<'a>(
    cores: &mut CoresStatistics,
    services: &mut ServicesStatistics,
    reports: impl IntoIterator<Item = &'a WorkReport>,
) {
    for report in reports {
        if let Some(core) = cores.0.get_mut(usize::from(report.core_index)) {
            core.bundle_size = core.bundle_size.saturating_add(report.package_spec.length);
            for digest in &report.results {
                let load = &digest.refine_load;
                core.imports = core.imports.saturating_add(load.imports);
                core.extrinsic_count = core.extrinsic_count.saturating_add(load.extrinsic_count);
                core.extrinsic_size = core.extrinsic_size.saturating_add(load.extrinsic_size);
                core.exports = core.exports.saturating_add(load.exports);
                core.gas_used = core.gas_used.saturating_add(load.gas_used);
            }
        }
        for digest in &report.results {
            let load = &digest.refine_load;
            let service = services.entry(digest.service_id).or_default();
            service.refinement_count = service.refinement_count.saturating_add(1);
            service.refinement_gas_used = service.refinement_gas_used.saturating_add(load.gas_used);
            service.imports = service.imports.saturating_add(load.imports.into());
            service.extrinsic_count = service.extrinsic_count.saturating_add(load.extrinsic_count.into());
            service.extrinsic_size = service.extrinsic_size.saturating_add(load.extrinsic_size);
            service.exports = service.exports.saturating_add(load.exports.into());
        }
    }
}

/// Adds the assurances' popularity and the availability load `D(c)` of the reports that became
/// available `W` (GP 0.7.2 §13.2).
pub fn add_availability<'a>(
    cores: &mut CoresStatistics,
    available: impl IntoIterator<Item = &'a WorkReport>,
    assurances: &[AvailAssurance],
) {
    for assurance in assurances {
        for (core, record) in cores.0.iter_mut().enumerate() {
            if assurance.bitfield.get(core) == Some(true) {
                record.popularity = record.popularity.saturating_add(1);
            }
        }
    }
    for report in available {
        if let Some(core) = cores.0.get_mut(usize::from(report.core_index)) {
            // W_G · ⌈segments · 65/64⌉: the exported segments with their paged proofs.
            let segments = u64::from(report.package_spec.exports_count) * 65;
            let load = u64::from(report.package_spec.length) + SEGMENT_SIZE as u64 * segments.div_ceil(64);
            core.da_load = core.da_load.saturating_add(u32::try_from(load).unwrap_or(u32::MAX));
        }
    }
}

/// Adds the provided preimages to their services' records (`p`, GP 0.7.2 §13.2).
pub fn add_preimages(services: &mut ServicesStatistics, preimages: &[Preimage]) {
    for preimage in preimages {
        let service = services.entry(preimage.requester).or_default();
        service.provided_count = service.provided_count.saturating_add(1);
        service.provided_size = service.provided_size.saturating_add(count(preimage.blob.len()));
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
