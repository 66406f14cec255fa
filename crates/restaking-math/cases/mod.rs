//! EigenLayer's unit-test cases that `orrery-restaking-math` ports, as plain functions that panic
//! when a number differs, so that the same code runs natively (`tests/cases.rs`, one test each)
//! and inside the PVM (`services/restaking-cases`, whose refine runs the case a work item names;
//! `tests/pvm.rs` runs every one through Ψ_R). Each file says which contract tests it ports.
//!
//! `no_std`-clean (`core` and `alloc` only): the guest includes these files with `#[path]`.

#![allow(clippy::unreadable_literal)]

pub mod allocation_manager;
pub mod delegation_manager;
pub mod rewards_coordinator;

/// Every case, by name, in file order.
pub const ALL: &[(&str, fn())] = &[
    (
        "allocation_manager::test_operator_allocated_not_active",
        allocation_manager::test_operator_allocated_not_active,
    ),
    ("allocation_manager::test_slash_post_allocation", allocation_manager::test_slash_post_allocation),
    ("allocation_manager::test_repeat_until_full_slash", allocation_manager::test_repeat_until_full_slash),
    (
        "allocation_manager::test_revert_allocate_after_slashed_entirely",
        allocation_manager::test_revert_allocate_after_slashed_entirely,
    ),
    (
        "allocation_manager::test_slash_allocate_all_deallocate_all",
        allocation_manager::test_slash_allocate_all_deallocate_all,
    ),
    (
        "allocation_manager::test_allocate_deallocate_slash_after_deallocation",
        allocation_manager::test_allocate_deallocate_slash_after_deallocation,
    ),
    (
        "allocation_manager::test_no_funds_slashed_after_deallocation_delay",
        allocation_manager::test_no_funds_slashed_after_deallocation_delay,
    ),
    (
        "allocation_manager::test_revert_no_funds_slashed_after_deregistration",
        allocation_manager::test_revert_no_funds_slashed_after_deregistration,
    ),
    (
        "allocation_manager::test_deallocation_slashed_just_before_effect_block",
        allocation_manager::test_deallocation_slashed_just_before_effect_block,
    ),
    (
        "allocation_manager::test_deregistered_operator_slashable_before_delay",
        allocation_manager::test_deregistered_operator_slashable_before_delay,
    ),
    (
        "allocation_manager::test_slash_update_slasher_slash_again",
        allocation_manager::test_slash_update_slasher_slash_again,
    ),
    (
        "allocation_manager::test_revert_slash_zero_and_greater_than_wad",
        allocation_manager::test_revert_slash_zero_and_greater_than_wad,
    ),
    ("allocation_manager::test_revert_not_member_of_set", allocation_manager::test_revert_not_member_of_set),
    (
        "allocation_manager::test_revert_allocation_delay_not_set_and_not_in_effect",
        allocation_manager::test_revert_allocation_delay_not_set_and_not_in_effect,
    ),
    (
        "allocation_manager::test_revert_modification_already_pending",
        allocation_manager::test_revert_modification_already_pending,
    ),
    (
        "allocation_manager::test_revert_allocate_same_or_zero_magnitude",
        allocation_manager::test_revert_allocate_same_or_zero_magnitude,
    ),
    (
        "allocation_manager::test_revert_safe_cast_overflow",
        allocation_manager::test_revert_safe_cast_overflow,
    ),
    (
        "allocation_manager::test_modify_allocations_pending_diff_zero",
        allocation_manager::test_modify_allocations_pending_diff_zero,
    ),
    (
        "allocation_manager::test_modify_allocations_pending_diff_zero_check_ordered_deallocation_queue",
        allocation_manager::test_modify_allocations_pending_diff_zero_check_ordered_deallocation_queue,
    ),
    (
        "allocation_manager::test_modify_allocations_pending_diff_zero_allocation",
        allocation_manager::test_modify_allocations_pending_diff_zero_allocation,
    ),
    ("allocation_manager::test_deallocate_all", allocation_manager::test_deallocate_all),
    (
        "allocation_manager::test_allocate_deallocate_allocate",
        allocation_manager::test_allocate_deallocate_allocate,
    ),
    (
        "allocation_manager::test_regression_deallocation_not_blocked",
        allocation_manager::test_regression_deallocation_not_blocked,
    ),
    ("allocation_manager::test_regression_boundary", allocation_manager::test_regression_boundary),
    (
        "allocation_manager::test_set_allocation_delay_newly_registered_sets_delay_and_is_set_immediately",
        allocation_manager::test_set_allocation_delay_newly_registered_sets_delay_and_is_set_immediately,
    ),
    (
        "allocation_manager::test_set_allocation_delay_existing_operator_delay_not_set_immediately",
        allocation_manager::test_set_allocation_delay_existing_operator_delay_not_set_immediately,
    ),
    ("allocation_manager::test_fuzz_set_delay_one_value", allocation_manager::test_fuzz_set_delay_one_value),
    (
        "allocation_manager::test_registered_and_deregistered_operator_slashable",
        allocation_manager::test_registered_and_deregistered_operator_slashable,
    ),
    (
        "allocation_manager::slash_while_deallocation_pending_one_case",
        allocation_manager::slash_while_deallocation_pending_one_case,
    ),
    (
        "allocation_manager::refused_modification_changes_nothing",
        allocation_manager::refused_modification_changes_nothing,
    ),
    (
        "allocation_manager::state_rebuilt_from_its_parts_is_the_same",
        allocation_manager::state_rebuilt_from_its_parts_is_the_same,
    ),
    (
        "delegation_manager::test_revert_invalid_deposit_scaling_factor",
        delegation_manager::test_revert_invalid_deposit_scaling_factor,
    ),
    (
        "delegation_manager::test_increase_delegated_shares_deposit_repeatedly",
        delegation_manager::test_increase_delegated_shares_deposit_repeatedly,
    ),
    (
        "delegation_manager::test_slash_operator_shares_slashed_repeatedly",
        delegation_manager::test_slash_operator_shares_slashed_repeatedly,
    ),
    (
        "delegation_manager::test_shares_burnable_at_min_delay_blocks",
        delegation_manager::test_shares_burnable_at_min_delay_blocks,
    ),
    (
        "delegation_manager::test_get_slashable_shares_in_queue_returns_zero_when_fully_slashed",
        delegation_manager::test_get_slashable_shares_in_queue_returns_zero_when_fully_slashed,
    ),
    (
        "delegation_manager::test_shares_not_burnable_when_withdrawal_completable",
        delegation_manager::test_shares_not_burnable_when_withdrawal_completable,
    ),
    (
        "delegation_manager::test_slashable_shares_in_queue",
        delegation_manager::test_slashable_shares_in_queue,
    ),
    (
        "delegation_manager::test_clear_withdrawal_fully_slashed",
        delegation_manager::test_clear_withdrawal_fully_slashed,
    ),
    (
        "delegation_manager::test_get_queued_withdrawals_uses_correct_operator_magnitude",
        delegation_manager::test_get_queued_withdrawals_uses_correct_operator_magnitude,
    ),
    (
        "delegation_manager::test_convert_to_deposit_shares_with_slashing",
        delegation_manager::test_convert_to_deposit_shares_with_slashing,
    ),
    (
        "delegation_manager::beacon_chain_balance_drop_hand_worked",
        delegation_manager::beacon_chain_balance_drop_hand_worked,
    ),
    (
        "delegation_manager::bad_input_is_refused_without_change",
        delegation_manager::bad_input_is_refused_without_change,
    ),
    (
        "delegation_manager::test_fuzz_undelegate_delegate_again_with_rounding_one_case",
        delegation_manager::test_fuzz_undelegate_delegate_again_with_rounding_one_case,
    ),
    (
        "rewards_coordinator::test_fuzz_set_operator_avs_split_first_time",
        rewards_coordinator::test_fuzz_set_operator_avs_split_first_time,
    ),
    (
        "rewards_coordinator::test_fuzz_revert_set_operator_avs_split_second_time_before_prior_activation",
        rewards_coordinator::test_fuzz_revert_set_operator_avs_split_second_time_before_prior_activation,
    ),
    (
        "rewards_coordinator::test_fuzz_set_operator_avs_split_second_time_after_prior_activation",
        rewards_coordinator::test_fuzz_set_operator_avs_split_second_time_after_prior_activation,
    ),
    (
        "rewards_coordinator::test_fuzz_revert_when_split_greater_than_100",
        rewards_coordinator::test_fuzz_revert_when_split_greater_than_100,
    ),
];
