//! Every ported subtensor math and coinbase case (`cases/`), natively: one test each.

extern crate alloc;

#[path = "../cases/mod.rs"]
mod cases;

/// The list the PVM runs is this file's: every case once.
#[test]
fn the_list_holds_every_case_once() {
    let mut names: Vec<&str> = cases::ALL.iter().map(|(name, _)| *name).collect();
    assert_eq!(names.len(), 83);
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 83, "a name twice");
}

#[test]
fn math_test_vec_max_upscale_to_u16() {
    cases::math::test_vec_max_upscale_to_u16();
}

#[test]
fn math_test_vec_u16_max_upscale_to_u16() {
    cases::math::test_vec_u16_max_upscale_to_u16();
}

#[test]
fn math_test_check_vec_max_limited() {
    cases::math::test_check_vec_max_limited();
}

#[test]
fn math_test_math_u64_normalization() {
    cases::math::test_math_u64_normalization();
}

#[test]
fn math_test_math_to_num() {
    cases::math::test_math_to_num();
}

#[test]
fn math_test_math_vec_to_fixed() {
    cases::math::test_math_vec_to_fixed();
}

#[test]
fn math_test_math_vec_to_mat_fixed() {
    cases::math::test_math_vec_to_mat_fixed();
}

#[test]
fn math_test_math_vec_to_sparse_mat_fixed() {
    cases::math::test_math_vec_to_sparse_mat_fixed();
}

#[test]
fn math_test_math_exp_safe() {
    cases::math::test_math_exp_safe();
}

#[test]
fn math_test_math_sigmoid_safe() {
    cases::math::test_math_sigmoid_safe();
}

#[test]
fn math_test_math_is_topk() {
    cases::math::test_math_is_topk();
}

#[test]
fn math_test_math_sum() {
    cases::math::test_math_sum();
}

#[test]
fn math_test_math_normalize() {
    cases::math::test_math_normalize();
}

#[test]
fn math_test_math_inplace_normalize() {
    cases::math::test_math_inplace_normalize();
}

#[test]
fn math_test_math_inplace_normalize_64() {
    cases::math::test_math_inplace_normalize_64();
}

#[test]
fn math_test_math_vecdiv() {
    cases::math::test_math_vecdiv();
}

#[test]
fn math_test_math_inplace_row_normalize() {
    cases::math::test_math_inplace_row_normalize();
}

#[test]
fn math_test_math_inplace_row_normalize_sparse() {
    cases::math::test_math_inplace_row_normalize_sparse();
}

#[test]
fn math_test_math_inplace_col_normalize() {
    cases::math::test_math_inplace_col_normalize();
}

#[test]
fn math_test_math_inplace_col_normalize_sparse() {
    cases::math::test_math_inplace_col_normalize_sparse();
}

#[test]
fn math_test_math_inplace_col_max_upscale() {
    cases::math::test_math_inplace_col_max_upscale();
}

#[test]
fn math_test_math_inplace_col_max_upscale_sparse() {
    cases::math::test_math_inplace_col_max_upscale_sparse();
}

#[test]
fn math_test_math_inplace_mask_vector() {
    cases::math::test_math_inplace_mask_vector();
}

#[test]
fn math_test_math_inplace_mask_matrix() {
    cases::math::test_math_inplace_mask_matrix();
}

#[test]
fn math_test_math_inplace_mask_rows() {
    cases::math::test_math_inplace_mask_rows();
}

#[test]
fn math_test_math_inplace_mask_diag() {
    cases::math::test_math_inplace_mask_diag();
}

#[test]
fn math_test_math_inplace_mask_diag_except_index() {
    cases::math::test_math_inplace_mask_diag_except_index();
}

#[test]
fn math_test_math_mask_rows_sparse() {
    cases::math::test_math_mask_rows_sparse();
}

#[test]
fn math_test_math_mask_diag_sparse() {
    cases::math::test_math_mask_diag_sparse();
}

#[test]
fn math_test_math_mask_diag_sparse_except_index() {
    cases::math::test_math_mask_diag_sparse_except_index();
}

#[test]
fn math_test_math_vec_mask_sparse_matrix() {
    cases::math::test_math_vec_mask_sparse_matrix();
}

#[test]
fn math_test_math_vec_mul() {
    cases::math::test_math_vec_mul();
}

#[test]
fn math_test_math_mat_vec_mul() {
    cases::math::test_math_mat_vec_mul();
}

#[test]
fn math_test_math_mat_vec_mul_sparse() {
    cases::math::test_math_mat_vec_mul_sparse();
}

#[test]
fn math_test_math_row_hadamard() {
    cases::math::test_math_row_hadamard();
}

#[test]
fn math_test_math_row_hadamard_sparse() {
    cases::math::test_math_row_hadamard_sparse();
}

#[test]
fn math_test_math_row_sum() {
    cases::math::test_math_row_sum();
}

#[test]
fn math_test_math_row_sum_sparse() {
    cases::math::test_math_row_sum_sparse();
}

#[test]
fn math_test_math_matmul() {
    cases::math::test_math_matmul();
}

#[test]
fn math_test_math_matmul_transpose() {
    cases::math::test_math_matmul_transpose();
}

#[test]
fn math_test_math_sparse_matmul() {
    cases::math::test_math_sparse_matmul();
}

#[test]
fn math_test_math_sparse_matmul_transpose() {
    cases::math::test_math_sparse_matmul_transpose();
}

#[test]
fn math_test_math_inplace_col_clip() {
    cases::math::test_math_inplace_col_clip();
}

#[test]
fn math_test_math_col_clip_sparse() {
    cases::math::test_math_col_clip_sparse();
}

#[test]
fn math_test_math_weighted_median_col() {
    cases::math::test_math_weighted_median_col();
}

#[test]
fn math_test_math_weighted_median_col_sparse() {
    cases::math::test_math_weighted_median_col_sparse();
}

#[test]
fn math_test_math_interpolate() {
    cases::math::test_math_interpolate();
}

#[test]
fn math_test_math_interpolate_sparse() {
    cases::math::test_math_interpolate_sparse();
}

#[test]
fn math_test_math_mat_ema_alpha() {
    cases::math::test_math_mat_ema_alpha();
}

#[test]
fn math_test_math_sparse_mat_ema_alpha() {
    cases::math::test_math_sparse_mat_ema_alpha();
}

#[test]
fn math_test_math_matmul2() {
    cases::math::test_math_matmul2();
}

#[test]
fn math_test_math_fixed_to_u16() {
    cases::math::test_math_fixed_to_u16();
}

#[test]
fn math_test_math_fixed_to_u64() {
    cases::math::test_math_fixed_to_u64();
}

#[test]
fn math_test_math_fixed_to_u64_saturates() {
    cases::math::test_math_fixed_to_u64_saturates();
}

#[test]
fn math_test_math_fixed64_to_u64() {
    cases::math::test_math_fixed64_to_u64();
}

#[test]
fn math_test_math_fixed64_to_u64_saturates() {
    cases::math::test_math_fixed64_to_u64_saturates();
}

#[test]
fn math_test_math_fixed64_to_fixed32() {
    cases::math::test_math_fixed64_to_fixed32();
}

#[test]
fn math_test_math_fixed64_to_fixed32_saturates() {
    cases::math::test_math_fixed64_to_fixed32_saturates();
}

#[test]
fn math_test_math_u16_to_fixed() {
    cases::math::test_math_u16_to_fixed();
}

#[test]
fn math_test_math_u16_proportion_to_fixed() {
    cases::math::test_math_u16_proportion_to_fixed();
}

#[test]
fn math_test_fixed_proportion_to_u16() {
    cases::math::test_fixed_proportion_to_u16();
}

#[test]
fn math_test_fixed_proportion_to_u16_saturates() {
    cases::math::test_fixed_proportion_to_u16_saturates();
}

#[test]
fn math_test_vec_fixed64_to_fixed32() {
    cases::math::test_vec_fixed64_to_fixed32();
}

#[test]
fn math_test_vec_fixed64_to_fixed32_saturates() {
    cases::math::test_vec_fixed64_to_fixed32_saturates();
}

#[test]
fn math_test_mat_ema_alpha_sparse_empty() {
    cases::math::test_mat_ema_alpha_sparse_empty();
}

#[test]
fn math_test_mat_ema_alpha_sparse_single_element() {
    cases::math::test_mat_ema_alpha_sparse_single_element();
}

#[test]
fn math_test_mat_ema_alpha_sparse_multiple_elements() {
    cases::math::test_mat_ema_alpha_sparse_multiple_elements();
}

#[test]
fn math_test_mat_ema_alpha_sparse_zero_alpha() {
    cases::math::test_mat_ema_alpha_sparse_zero_alpha();
}

#[test]
fn math_test_mat_ema_alpha_sparse_one_alpha() {
    cases::math::test_mat_ema_alpha_sparse_one_alpha();
}

#[test]
fn math_test_mat_ema_alpha_sparse_mixed_alpha() {
    cases::math::test_mat_ema_alpha_sparse_mixed_alpha();
}

#[test]
fn math_test_mat_ema_alpha_sparse_sparse_matrix() {
    cases::math::test_mat_ema_alpha_sparse_sparse_matrix();
}

#[test]
fn math_test_mat_ema_alpha_basic() {
    cases::math::test_mat_ema_alpha_basic();
}

#[test]
fn math_test_mat_ema_alpha_varying_alpha() {
    cases::math::test_mat_ema_alpha_varying_alpha();
}

#[test]
fn math_test_mat_ema_alpha_sparse_varying_alpha() {
    cases::math::test_mat_ema_alpha_sparse_varying_alpha();
}

#[test]
fn math_test_mat_ema_alpha_empty_matrices() {
    cases::math::test_mat_ema_alpha_empty_matrices();
}

#[test]
fn math_test_mat_ema_alpha_single_element() {
    cases::math::test_mat_ema_alpha_single_element();
}

#[test]
fn math_test_mat_ema_alpha_mismatched_dimensions() {
    cases::math::test_mat_ema_alpha_mismatched_dimensions();
}

#[test]
fn math_test_math_weighted_median() {
    cases::math::test_math_weighted_median();
}

#[test]
fn emission_test_owner_cut_base() {
    cases::emission::test_owner_cut_base();
}

#[test]
fn emission_test_pending_emission() {
    cases::emission::test_pending_emission();
}

#[test]
fn emission_test_disabling_owner_cut_sends_subnet_emission_to_miners_and_validators() {
    cases::emission::test_disabling_owner_cut_sends_subnet_emission_to_miners_and_validators();
}

#[test]
fn emission_default_owner_cut_hand_worked() {
    cases::emission::default_owner_cut_hand_worked();
}

#[test]
fn emission_validator_share_hand_worked() {
    cases::emission::validator_share_hand_worked();
}
