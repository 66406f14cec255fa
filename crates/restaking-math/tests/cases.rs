//! Every ported EigenLayer case (`cases/`), natively: one test each.

extern crate alloc;

#[path = "../cases/mod.rs"]
mod cases;

/// The list the PVM runs is this file's: every case once.
#[test]
fn the_list_holds_every_case_once() {
    let mut names: Vec<&str> = cases::ALL.iter().map(|(name, _)| *name).collect();
    assert_eq!(names.len(), 48);
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 48, "a name twice");
}

#[test]
fn allocation_manager_test_operator_allocated_not_active() {
    cases::allocation_manager::test_operator_allocated_not_active();
}

#[test]
fn allocation_manager_test_slash_post_allocation() {
    cases::allocation_manager::test_slash_post_allocation();
}

#[test]
fn allocation_manager_test_repeat_until_full_slash() {
    cases::allocation_manager::test_repeat_until_full_slash();
}

#[test]
fn allocation_manager_test_revert_allocate_after_slashed_entirely() {
    cases::allocation_manager::test_revert_allocate_after_slashed_entirely();
}

#[test]
fn allocation_manager_test_slash_allocate_all_deallocate_all() {
    cases::allocation_manager::test_slash_allocate_all_deallocate_all();
}

#[test]
fn allocation_manager_test_allocate_deallocate_slash_after_deallocation() {
    cases::allocation_manager::test_allocate_deallocate_slash_after_deallocation();
}

#[test]
fn allocation_manager_test_no_funds_slashed_after_deallocation_delay() {
    cases::allocation_manager::test_no_funds_slashed_after_deallocation_delay();
}

#[test]
fn allocation_manager_test_revert_no_funds_slashed_after_deregistration() {
    cases::allocation_manager::test_revert_no_funds_slashed_after_deregistration();
}

#[test]
fn allocation_manager_test_deallocation_slashed_just_before_effect_block() {
    cases::allocation_manager::test_deallocation_slashed_just_before_effect_block();
}

#[test]
fn allocation_manager_test_deregistered_operator_slashable_before_delay() {
    cases::allocation_manager::test_deregistered_operator_slashable_before_delay();
}

#[test]
fn allocation_manager_test_slash_update_slasher_slash_again() {
    cases::allocation_manager::test_slash_update_slasher_slash_again();
}

#[test]
fn allocation_manager_test_revert_slash_zero_and_greater_than_wad() {
    cases::allocation_manager::test_revert_slash_zero_and_greater_than_wad();
}

#[test]
fn allocation_manager_test_revert_not_member_of_set() {
    cases::allocation_manager::test_revert_not_member_of_set();
}

#[test]
fn allocation_manager_test_revert_allocation_delay_not_set_and_not_in_effect() {
    cases::allocation_manager::test_revert_allocation_delay_not_set_and_not_in_effect();
}

#[test]
fn allocation_manager_test_revert_modification_already_pending() {
    cases::allocation_manager::test_revert_modification_already_pending();
}

#[test]
fn allocation_manager_test_revert_allocate_same_or_zero_magnitude() {
    cases::allocation_manager::test_revert_allocate_same_or_zero_magnitude();
}

#[test]
fn allocation_manager_test_revert_safe_cast_overflow() {
    cases::allocation_manager::test_revert_safe_cast_overflow();
}

#[test]
fn allocation_manager_test_modify_allocations_pending_diff_zero() {
    cases::allocation_manager::test_modify_allocations_pending_diff_zero();
}

#[test]
fn allocation_manager_test_modify_allocations_pending_diff_zero_check_ordered_deallocation_queue() {
    cases::allocation_manager::test_modify_allocations_pending_diff_zero_check_ordered_deallocation_queue();
}

#[test]
fn allocation_manager_test_modify_allocations_pending_diff_zero_allocation() {
    cases::allocation_manager::test_modify_allocations_pending_diff_zero_allocation();
}

#[test]
fn allocation_manager_test_deallocate_all() {
    cases::allocation_manager::test_deallocate_all();
}

#[test]
fn allocation_manager_test_allocate_deallocate_allocate() {
    cases::allocation_manager::test_allocate_deallocate_allocate();
}

#[test]
fn allocation_manager_test_regression_deallocation_not_blocked() {
    cases::allocation_manager::test_regression_deallocation_not_blocked();
}

#[test]
fn allocation_manager_test_regression_boundary() {
    cases::allocation_manager::test_regression_boundary();
}

#[test]
fn allocation_manager_test_set_allocation_delay_newly_registered_sets_delay_and_is_set_immediately() {
    cases::allocation_manager::test_set_allocation_delay_newly_registered_sets_delay_and_is_set_immediately();
}

#[test]
fn allocation_manager_test_set_allocation_delay_existing_operator_delay_not_set_immediately() {
    cases::allocation_manager::test_set_allocation_delay_existing_operator_delay_not_set_immediately();
}

#[test]
fn allocation_manager_test_fuzz_set_delay_one_value() {
    cases::allocation_manager::test_fuzz_set_delay_one_value();
}

#[test]
fn allocation_manager_test_registered_and_deregistered_operator_slashable() {
    cases::allocation_manager::test_registered_and_deregistered_operator_slashable();
}

#[test]
fn allocation_manager_slash_while_deallocation_pending_one_case() {
    cases::allocation_manager::slash_while_deallocation_pending_one_case();
}

#[test]
fn allocation_manager_refused_modification_changes_nothing() {
    cases::allocation_manager::refused_modification_changes_nothing();
}

#[test]
fn allocation_manager_state_rebuilt_from_its_parts_is_the_same() {
    cases::allocation_manager::state_rebuilt_from_its_parts_is_the_same();
}

#[test]
fn delegation_manager_test_revert_invalid_deposit_scaling_factor() {
    cases::delegation_manager::test_revert_invalid_deposit_scaling_factor();
}

#[test]
fn delegation_manager_test_increase_delegated_shares_deposit_repeatedly() {
    cases::delegation_manager::test_increase_delegated_shares_deposit_repeatedly();
}

#[test]
fn delegation_manager_test_slash_operator_shares_slashed_repeatedly() {
    cases::delegation_manager::test_slash_operator_shares_slashed_repeatedly();
}

#[test]
fn delegation_manager_test_shares_burnable_at_min_delay_blocks() {
    cases::delegation_manager::test_shares_burnable_at_min_delay_blocks();
}

#[test]
fn delegation_manager_test_get_slashable_shares_in_queue_returns_zero_when_fully_slashed() {
    cases::delegation_manager::test_get_slashable_shares_in_queue_returns_zero_when_fully_slashed();
}

#[test]
fn delegation_manager_test_shares_not_burnable_when_withdrawal_completable() {
    cases::delegation_manager::test_shares_not_burnable_when_withdrawal_completable();
}

#[test]
fn delegation_manager_test_slashable_shares_in_queue() {
    cases::delegation_manager::test_slashable_shares_in_queue();
}

#[test]
fn delegation_manager_test_clear_withdrawal_fully_slashed() {
    cases::delegation_manager::test_clear_withdrawal_fully_slashed();
}

#[test]
fn delegation_manager_test_get_queued_withdrawals_uses_correct_operator_magnitude() {
    cases::delegation_manager::test_get_queued_withdrawals_uses_correct_operator_magnitude();
}

#[test]
fn delegation_manager_test_convert_to_deposit_shares_with_slashing() {
    cases::delegation_manager::test_convert_to_deposit_shares_with_slashing();
}

#[test]
fn delegation_manager_beacon_chain_balance_drop_hand_worked() {
    cases::delegation_manager::beacon_chain_balance_drop_hand_worked();
}

#[test]
fn delegation_manager_bad_input_is_refused_without_change() {
    cases::delegation_manager::bad_input_is_refused_without_change();
}

#[test]
fn delegation_manager_test_fuzz_undelegate_delegate_again_with_rounding_one_case() {
    cases::delegation_manager::test_fuzz_undelegate_delegate_again_with_rounding_one_case();
}

#[test]
fn rewards_coordinator_test_fuzz_set_operator_avs_split_first_time() {
    cases::rewards_coordinator::test_fuzz_set_operator_avs_split_first_time();
}

#[test]
fn rewards_coordinator_test_fuzz_revert_set_operator_avs_split_second_time_before_prior_activation() {
    cases::rewards_coordinator::test_fuzz_revert_set_operator_avs_split_second_time_before_prior_activation();
}

#[test]
fn rewards_coordinator_test_fuzz_set_operator_avs_split_second_time_after_prior_activation() {
    cases::rewards_coordinator::test_fuzz_set_operator_avs_split_second_time_after_prior_activation();
}

#[test]
fn rewards_coordinator_test_fuzz_revert_when_split_greater_than_100() {
    cases::rewards_coordinator::test_fuzz_revert_when_split_greater_than_100();
}
