//! The authorizer pools' transition α → α' (GP 0.7.2 §8.2).
//!
//! Each core's pool loses the authorizer its guaranteed report used (its oldest occurrence), gains
//! the queue's entry for this slot, and keeps only its newest `O` entries.

use orrery_state::{AuthPools, AuthQueues};
use orrery_types::constants::{AUTH_POOL_SIZE, AUTH_QUEUE_SIZE};
use orrery_types::{CoreIndex, Hash, ReportGuarantee, TimeSlot};

/// The (core, authorizer hash) pairs a block's guarantees consume: `((g_r)_c, (g_r)_a)` for each
/// `g ∈ E_G`, in extrinsic order.
pub fn used_authorizers(guarantees: &[ReportGuarantee]) -> Vec<(CoreIndex, Hash)> {
    guarantees.iter().map(|g| (g.report.core_index, g.report.authorizer_hash)).collect()
}

/// `α'` from the prior pools `α`, the posterior queues `φ'`, the block's slot `H_t` and the
/// authorizers its guarantees used.
///
/// The guarantees were validated by the reports sub-transition, which rejects a core index past
/// `C`; a pair naming such a core is ignored here rather than trusted.
pub fn apply(
    pools: &AuthPools,
    queues: &AuthQueues,
    slot: TimeSlot,
    used: impl IntoIterator<Item = (CoreIndex, Hash)>,
) -> AuthPools {
    let mut pools = pools.clone();
    // F(c): the first occurrence of the consumed authorizer leaves the pool.
    for (core, hash) in used {
        if let Some(pool) = pools.0.get_mut(usize::from(core)) {
            if let Some(at) = pool.iter().position(|h| *h == hash) {
                pool.remove(at);
            }
        }
    }
    let index = slot as usize % AUTH_QUEUE_SIZE;
    for (core, pool) in pools.0.iter_mut().enumerate() {
        if let Some(queue) = queues.0.get(core) {
            pool.push(queue[index]);
        }
        // ←(…)^O: keep the newest O.
        let excess = pool.len().saturating_sub(AUTH_POOL_SIZE);
        pool.drain(..excess);
    }
    pools
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(byte: u8) -> Hash {
        [byte; 32]
    }

    fn queues(cores: usize) -> AuthQueues {
        // Core c's queue holds 100·c + i at position i, so the entry drawn shows both.
        AuthQueues(
            (0..cores).map(|c| std::array::from_fn(|i| h((100 * c as u8).wrapping_add(i as u8)))).collect(),
        )
    }

    #[test]
    fn consumes_the_oldest_occurrence_then_appends_the_slot_entry() {
        let pools = AuthPools(vec![vec![h(1), h(2), h(1)], vec![h(7)]]);
        let out = apply(&pools, &queues(2), 83, [(0, h(1))]);
        // 83 mod 80 = 3: core 0 draws 3, core 1 draws 103.
        assert_eq!(out.0[0], vec![h(2), h(1), h(3)]);
        assert_eq!(out.0[1], vec![h(7), h(103)]);
    }

    #[test]
    fn keeps_only_the_newest_pool_size_entries() {
        let full: Vec<Hash> = (10..18).map(h).collect();
        let out = apply(&AuthPools(vec![full]), &queues(1), 5, []);
        let expected: Vec<Hash> = (11..18).map(h).chain([h(5)]).collect();
        assert_eq!(out.0[0], expected);
    }

    #[test]
    fn unknown_cores_and_absent_authorizers_change_nothing_but_the_refill() {
        let pools = AuthPools(vec![vec![h(1)]]);
        let out = apply(&pools, &queues(1), 0, [(0, h(9)), (5, h(1)), (u16::MAX, h(1))]);
        assert_eq!(out.0[0], vec![h(1), h(0)]);
    }
}
