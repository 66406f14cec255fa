//! The vector and matrix arithmetic of subtensor's epoch (`pallets/subtensor/src/epoch/math.rs`), rewritten.
//!
//! Each function here has the name and the observable behaviour of its subtensor namesake, edge cases
//! included (a division by zero gives 0, mismatched lengths are cut to the shorter side, empty matrices come
//! back as `[[]]` where subtensor's do), because the epoch's numbers depend on them to the last bit. All
//! arithmetic is `substrate-fixed`'s: `saturating_*` where subtensor saturates, `checked_div` falling back to
//! zero where subtensor calls `safe_div`, and the crate's own `Sum` where subtensor sums with `.sum()`.
//!
//! Matrices are row-major: row `i` is a validator (weight setter), column `j` a neuron being scored. A sparse
//! row is a list of `(column, value)` pairs in increasing column order.

use alloc::vec;
use alloc::vec::Vec;
use substrate_fixed::transcendental::{exp, ln};
use substrate_fixed::types::{I32F32, I64F64};

/// A sparse matrix: one list of `(column, value)` per row.
pub type SparseMatrix = Vec<Vec<(u16, I32F32)>>;

const ZERO: I32F32 = I32F32::from_bits(0);
const ONE: I32F32 = I32F32::from_bits(1 << 32);

/// Division that yields zero when the quotient does not exist or does not fit (subtensor's `safe_div`).
#[inline]
pub fn safe_div(x: I32F32, y: I32F32) -> I32F32 {
    x.checked_div(y).unwrap_or(ZERO)
}

#[inline]
fn safe_div_64(x: I64F64, y: I64F64) -> I64F64 {
    x.checked_div(y).unwrap_or(I64F64::from_bits(0))
}

#[inline]
fn at(v: &[I32F32], i: usize) -> I32F32 {
    v.get(i).copied().unwrap_or(ZERO)
}

fn u16_max() -> I32F32 {
    I32F32::saturating_from_num(u16::MAX)
}

// ---- Conversions ----

/// An `f32` as I32F32, saturating.
pub fn fixed(val: f32) -> I32F32 {
    I32F32::saturating_from_num(val)
}

/// The integer part as `u16`, saturating (negative values give 0).
pub fn fixed_to_u16(x: I32F32) -> u16 {
    x.saturating_to_num::<u16>()
}

/// The integer part as `u64`, saturating.
pub fn fixed_to_u64(x: I32F32) -> u64 {
    x.saturating_to_num::<u64>()
}

/// The integer part of an I64F64 as `u64`, saturating.
pub fn fixed64_to_u64(x: I64F64) -> u64 {
    x.saturating_to_num::<u64>()
}

/// I64F64 to I32F32: the low 32 fraction bits are dropped (rounding toward minus infinity), out of range
/// values saturate.
pub fn fixed64_to_fixed32(x: I64F64) -> I32F32 {
    I32F32::saturating_from_num(x)
}

/// I32F32 to I64F64 (exact).
pub fn fixed32_to_fixed64(x: I32F32) -> I64F64 {
    I64F64::saturating_from_num(x)
}

/// A `u16` as I32F32 (exact).
pub fn u16_to_fixed(x: u16) -> I32F32 {
    I32F32::saturating_from_num(x)
}

/// A `u16` read as the proportion `x / 65535`.
pub fn u16_proportion_to_fixed(x: u16) -> I32F32 {
    safe_div(I32F32::saturating_from_num(x), u16_max())
}

/// An I32F32 holding a `u16` scale value, read as the proportion `x / 65535`.
pub fn fixed_to_fixed_u16_proportion(x: I32F32) -> I32F32 {
    safe_div(x, u16_max())
}

/// A proportion in [0, 1] as `u16` on the 65535 scale, truncating.
pub fn fixed_proportion_to_u16(x: I32F32) -> u16 {
    fixed_to_u16(x.saturating_mul(u16_max()))
}

/// [`fixed_to_u64`] on each element.
pub fn vec_fixed32_to_u64(vec: Vec<I32F32>) -> Vec<u64> {
    vec.into_iter().map(fixed_to_u64).collect()
}

/// [`fixed64_to_fixed32`] on each element.
pub fn vec_fixed64_to_fixed32(vec: Vec<I64F64>) -> Vec<I32F32> {
    vec.into_iter().map(fixed64_to_fixed32).collect()
}

/// [`fixed32_to_fixed64`] on each element.
pub fn vec_fixed32_to_fixed64(vec: Vec<I32F32>) -> Vec<I64F64> {
    vec.into_iter().map(fixed32_to_fixed64).collect()
}

/// [`fixed64_to_u64`] on each element.
pub fn vec_fixed64_to_u64(vec: Vec<I64F64>) -> Vec<u64> {
    vec.into_iter().map(fixed64_to_u64).collect()
}

/// [`fixed_proportion_to_u16`] on each element.
pub fn vec_fixed_proportions_to_u16(vec: Vec<I32F32>) -> Vec<u16> {
    vec.into_iter().map(fixed_proportion_to_u16).collect()
}

/// Scales a non-negative vector so that its largest element becomes 65535, rounding to nearest.
///
/// The order of the multiplication and the division depends on the maximum, as in subtensor: above 32768
/// the element times 65535 could leave I32F32's range, so the scale factor is computed first. A zero maximum
/// leaves every element times 65535 (so all zero for non-negative input).
pub fn vec_max_upscale_to_u16(vec: &[I32F32]) -> Vec<u16> {
    let scale = u16_max();
    let Some(&max) = vec.iter().max() else {
        return Vec::new();
    };
    if max == ZERO {
        return vec.iter().map(|e| e.saturating_mul(scale).saturating_to_num::<u16>()).collect();
    }
    if max > I32F32::saturating_from_num(32768) {
        let factor = safe_div(scale, max);
        return vec.iter().map(|e| e.saturating_mul(factor).round().saturating_to_num::<u16>()).collect();
    }
    vec.iter().map(|e| safe_div(e.saturating_mul(scale), max).round().saturating_to_num::<u16>()).collect()
}

/// [`vec_max_upscale_to_u16`] of a `u16` vector: how subtensor stores a validator's submitted weights.
pub fn vec_u16_max_upscale_to_u16(vec: &[u16]) -> Vec<u16> {
    let as_fixed: Vec<I32F32> = vec.iter().map(|&e| I32F32::saturating_from_num(e)).collect();
    vec_max_upscale_to_u16(&as_fixed)
}

/// Whether the vector, once normalized, has no element above `max_limit / 65535`.
pub fn check_vec_max_limited(vec: &[u16], max_limit: u16) -> bool {
    let limit = safe_div(I32F32::saturating_from_num(max_limit), u16_max());
    let mut normalized: Vec<I32F32> = vec.iter().map(|&e| I32F32::saturating_from_num(e)).collect();
    inplace_normalize(&mut normalized);
    normalized.iter().max().is_none_or(|&m| m <= limit)
}

// ---- Vector operations ----

/// The sum of the elements.
pub fn sum(x: &[I32F32]) -> I32F32 {
    x.iter().sum()
}

/// Whether the elements sum to zero.
pub fn is_zero(vector: &[I32F32]) -> bool {
    sum(vector) == ZERO
}

/// `exp(input)` with the input clamped to [-20, 20]; on the transcendental's failure, 0 below zero and the
/// largest I32F32 above.
pub fn exp_safe(input: I32F32) -> I32F32 {
    let bounded = input.clamp(I32F32::saturating_from_num(-20), I32F32::saturating_from_num(20));
    match exp::<I32F32, I32F32>(bounded) {
        Ok(v) => v,
        Err(()) if bounded <= ZERO => ZERO,
        Err(()) => I32F32::max_value(),
    }
}

/// `1 / (1 + exp(-rho (input - kappa)))`.
pub fn sigmoid_safe(input: I32F32, rho: I32F32, kappa: I32F32) -> I32F32 {
    let shifted = input.saturating_sub(kappa);
    let neg_rho = rho.saturating_mul(ONE.saturating_neg());
    let e = exp_safe(neg_rho.saturating_mul(shifted));
    safe_div(ONE, e.saturating_add(ONE))
}

/// The indices of a stable ascending sort by value, of which the first `n - k` are the ones outside the top k.
fn below_top_k(vector: &[I32F32], k: usize) -> impl Iterator<Item = usize> {
    let n = vector.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| at(vector, i));
    order.into_iter().take(n.saturating_sub(k))
}

/// True for the elements among the `k` largest (ties broken by index: the later index ranks higher).
pub fn is_topk(vector: &[I32F32], k: usize) -> Vec<bool> {
    let mut out = vec![true; vector.len()];
    if vector.len() < k {
        return out;
    }
    for i in below_top_k(vector, k) {
        out[i] = false;
    }
    out
}

/// [`is_topk`], and non-zero: who holds a validator permit after the epoch.
pub fn is_topk_nonzero(vector: &[I32F32], k: usize) -> Vec<bool> {
    let mut out: Vec<bool> = vector.iter().map(|&v| v != ZERO).collect();
    if vector.len() < k {
        return out;
    }
    for i in below_top_k(vector, k) {
        out[i] = false;
    }
    out
}

/// A copy scaled to sum to 1 (unchanged if it sums to 0).
pub fn normalize(x: &[I32F32]) -> Vec<I32F32> {
    let total = sum(x);
    if total == ZERO {
        return x.to_vec();
    }
    x.iter().map(|&v| safe_div(v, total)).collect()
}

/// Scales in place to sum to 1 (unchanged if it sums to 0).
pub fn inplace_normalize(x: &mut [I32F32]) {
    let total: I32F32 = x.iter().sum();
    inplace_normalize_using_sum(x, total);
}

/// Divides every element by `x_sum` unless it is zero.
pub fn inplace_normalize_using_sum(x: &mut [I32F32], x_sum: I32F32) {
    if x_sum == ZERO {
        return;
    }
    for v in x.iter_mut() {
        *v = safe_div(*v, x_sum);
    }
}

/// [`inplace_normalize`] in I64F64.
pub fn inplace_normalize_64(x: &mut [I64F64]) {
    let total: I64F64 = x.iter().sum();
    if total == I64F64::from_bits(0) {
        return;
    }
    for v in x.iter_mut() {
        *v = safe_div_64(*v, total);
    }
}

/// Each row with a positive sum scaled to sum to 1, in I64F64.
pub fn inplace_row_normalize_64(x: &mut [Vec<I64F64>]) {
    for row in x {
        let total: I64F64 = row.iter().sum();
        if total > I64F64::from_bits(0) {
            for v in row.iter_mut() {
                *v = safe_div_64(*v, total);
            }
        }
    }
}

/// Element-wise `x / y`, 0 where `y` is 0 or missing.
pub fn vecdiv(x: &[I32F32], y: &[I32F32]) -> Vec<I32F32> {
    x.iter().enumerate().map(|(i, &xi)| safe_div(xi, at(y, i))).collect()
}

/// Element-wise product, as long as the shorter input; an overflowing product gives 0.
pub fn vec_mul(a: &[I32F32], b: &[I32F32]) -> Vec<I32F32> {
    a.iter().zip(b).map(|(x, y)| x.checked_mul(*y).unwrap_or(ZERO)).collect()
}

/// Clamps to `[low, high]` (upper bound applied first, as subtensor does).
pub fn clamp_value(value: I32F32, low: I32F32, high: I32F32) -> I32F32 {
    value.min(high).max(low)
}

/// `ln(value)`, 0 where it is undefined.
pub fn safe_ln(value: I32F32) -> I32F32 {
    ln::<I32F32, I32F32>(value).unwrap_or(ZERO)
}

/// Sets to 0 the elements whose mask is true (a missing mask entry masks).
pub fn inplace_mask_vector(mask: &[bool], vector: &mut [I32F32]) {
    if mask.is_empty() {
        return;
    }
    for (i, v) in vector.iter_mut().enumerate() {
        if mask.get(i).copied().unwrap_or(true) {
            *v = ZERO;
        }
    }
}

// ---- Dense matrices ----

/// Each row with a positive sum scaled to sum to 1.
pub fn inplace_row_normalize(x: &mut [Vec<I32F32>]) {
    for row in x {
        let total: I32F32 = row.iter().sum();
        if total > ZERO {
            for v in row.iter_mut() {
                *v = safe_div(*v, total);
            }
        }
    }
}

/// The sum of each row (empty if the first row is empty).
pub fn row_sum(x: &[Vec<I32F32>]) -> Vec<I32F32> {
    if x.first().is_some_and(|r| r.is_empty()) {
        return Vec::new();
    }
    x.iter().map(|row| row.iter().sum()).collect()
}

/// Per-column sums over ragged rows (a missing cell counts as 0), saturating.
fn dense_col_sums(x: &[Vec<I32F32>]) -> Vec<I32F32> {
    let mut sums: Vec<I32F32> = Vec::new();
    for row in x {
        if sums.len() < row.len() {
            sums.resize(row.len(), ZERO);
        }
        for (s, v) in sums.iter_mut().zip(row) {
            *s = s.saturating_add(*v);
        }
    }
    sums
}

/// Each column with a non-zero sum scaled to sum to 1.
pub fn inplace_col_normalize(x: &mut [Vec<I32F32>]) {
    let sums = dense_col_sums(x);
    for row in x.iter_mut() {
        for (v, s) in row.iter_mut().zip(&sums) {
            if *s != ZERO {
                *v = safe_div(*v, *s);
            }
        }
    }
}

/// Each column with a non-zero maximum divided by that maximum.
pub fn inplace_col_max_upscale(x: &mut [Vec<I32F32>]) {
    let width = x.iter().map(|r| r.len()).max().unwrap_or(0);
    let mut maxes = vec![ZERO; width];
    for row in x.iter() {
        for (m, v) in maxes.iter_mut().zip(row) {
            if *m < *v {
                *m = *v;
            }
        }
    }
    for row in x.iter_mut() {
        for (v, m) in row.iter_mut().zip(&maxes) {
            if *m != ZERO {
                *v = safe_div(*v, *m);
            }
        }
    }
}

/// Zeroes the cells whose mask is true; a cell without a mask entry is zeroed. An empty mask does nothing.
pub fn inplace_mask_matrix(mask: &[Vec<bool>], matrix: &mut [Vec<I32F32>]) {
    if mask.first().is_none_or(|r| r.is_empty()) {
        return;
    }
    for (r, row) in matrix.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            if mask.get(r).and_then(|m| m.get(c)).copied().unwrap_or(true) {
                *v = ZERO;
            }
        }
    }
}

/// Replaces masked rows (or rows without a mask entry) by zeros as wide as the first row.
pub fn inplace_mask_rows(mask: &[bool], matrix: &mut [Vec<I32F32>]) {
    let Some(width) = matrix.first().map(|r| r.len()) else {
        return;
    };
    for (r, row) in matrix.iter_mut().enumerate() {
        if mask.get(r).copied().unwrap_or(true) {
            *row = vec![ZERO; width];
        }
    }
}

/// Zeroes masked columns (or columns without a mask entry).
pub fn inplace_mask_cols(mask: &[bool], matrix: &mut [Vec<I32F32>]) {
    for row in matrix.iter_mut() {
        for (c, v) in row.iter_mut().enumerate() {
            if mask.get(c).copied().unwrap_or(true) {
                *v = ZERO;
            }
        }
    }
}

/// Zeroes the diagonal of a square matrix (a non-square one is left alone).
pub fn inplace_mask_diag(matrix: &mut [Vec<I32F32>]) {
    let Some(width) = matrix.first().map(|r| r.len()) else {
        return;
    };
    if width == 0 || width != matrix.len() {
        return;
    }
    for (i, row) in matrix.iter_mut().enumerate() {
        if let Some(v) = row.get_mut(i) {
            *v = ZERO;
        }
    }
}

/// [`inplace_mask_diag`], keeping the diagonal cell `except_index` (the subnet owner's self-weight).
pub fn inplace_mask_diag_except_index(matrix: &mut [Vec<I32F32>], except_index: u16) {
    let Some(width) = matrix.first().map(|r| r.len()) else {
        return;
    };
    if width == 0 || width != matrix.len() {
        return;
    }
    let k = except_index as usize;
    let kept = matrix.get(k).and_then(|r| r.get(k)).copied();
    inplace_mask_diag(matrix);
    if let (Some(v), Some(cell)) = (kept, matrix.get_mut(k).and_then(|r| r.get_mut(k))) {
        *cell = v;
    }
}

/// Row `i` scaled by `vector[i]` (stops at the shorter of rows and vector); `[[]]` for an empty matrix.
pub fn row_hadamard(matrix: &[Vec<I32F32>], vector: &[I32F32]) -> Vec<Vec<I32F32>> {
    if matrix.first().is_none_or(|r| r.is_empty()) {
        return vec![vec![]];
    }
    matrix.iter().zip(vector).map(|(row, &s)| row.iter().map(|&m| s.saturating_mul(m)).collect()).collect()
}

/// Element-wise product of each row with `vector`; `[[]]` for an empty matrix.
pub fn mat_vec_mul(matrix: &[Vec<I32F32>], vector: &[I32F32]) -> Vec<Vec<I32F32>> {
    if matrix.first().is_none_or(|r| r.is_empty()) {
        return vec![vec![]];
    }
    matrix.iter().map(|row| vec_mul(row, vector)).collect()
}

/// `r_j = Σ_i vector_i · matrix_ij` over the first row's width, saturating.
pub fn matmul(matrix: &[Vec<I32F32>], vector: &[I32F32]) -> Vec<I32F32> {
    let width = matrix.first().map(|r| r.len()).unwrap_or(0);
    if width == 0 {
        return Vec::new();
    }
    let mut out = vec![ZERO; width];
    for (i, row) in matrix.iter().enumerate() {
        let s = at(vector, i);
        for (o, m) in out.iter_mut().zip(row) {
            *o = o.saturating_add(s.saturating_mul(*m));
        }
    }
    out
}

/// `r_i = Σ_j matrix_ij · vector_j`, saturating.
pub fn matmul_transpose(matrix: &[Vec<I32F32>], vector: &[I32F32]) -> Vec<I32F32> {
    if matrix.first().is_none_or(|r| r.is_empty()) {
        return Vec::new();
    }
    matrix
        .iter()
        .map(|row| row.iter().zip(vector).fold(ZERO, |acc, (m, v)| acc.saturating_add(m.saturating_mul(*v))))
        .collect()
}

/// Clips each cell to its column's threshold (`min(value, threshold)`).
pub fn inplace_col_clip(x: &mut [Vec<I32F32>], col_threshold: &[I32F32]) {
    for row in x.iter_mut() {
        for (v, t) in row.iter_mut().zip(col_threshold) {
            *v = (*t).min(*v);
        }
    }
}

/// `A + ratio (B − A)` cell by cell, with `ratio` 0 or 1 returning a copy of A or B.
pub fn interpolate(mat1: &[Vec<I32F32>], mat2: &[Vec<I32F32>], ratio: I32F32) -> Vec<Vec<I32F32>> {
    if ratio == ZERO {
        return mat1.to_vec();
    }
    if ratio == ONE {
        return mat2.to_vec();
    }
    let Some(width) = mat1.first().map(|r| r.len()).filter(|&w| w > 0) else {
        return vec![vec![]];
    };
    let mut out = vec![vec![ZERO; width]; mat1.len()];
    for ((r1, r2), o) in mat1.iter().zip(mat2).zip(out.iter_mut()) {
        for ((a, b), c) in r1.iter().zip(r2).zip(o.iter_mut()) {
            *c = a.saturating_add(ratio.saturating_mul(b.saturating_sub(*a)));
        }
    }
    out
}

/// Bonds moving average with one `alpha`: `alpha · new + (1 − alpha) · old`; `[[]]` for an empty `new`.
pub fn mat_ema(new: &[Vec<I32F32>], old: &[Vec<I32F32>], alpha: I32F32) -> Vec<Vec<I32F32>> {
    if new.first().is_none_or(|r| r.is_empty()) {
        return vec![vec![]];
    }
    let keep = ONE.saturating_sub(alpha);
    new.iter()
        .zip(old)
        .map(|(n, o)| {
            n.iter()
                .zip(o)
                .map(|(n, o)| alpha.saturating_mul(*n).saturating_add(keep.saturating_mul(*o)))
                .collect()
        })
        .collect()
}

/// The moving average with one alpha per cell, clamped to [0, 1] (liquid alpha).
///
/// Shapes that disagree are answered as subtensor does: rows of different count give `old` back, a row of
/// different length gives `new` back.
pub fn mat_ema_alpha(new: &[Vec<I32F32>], old: &[Vec<I32F32>], alpha: &[Vec<I32F32>]) -> Vec<Vec<I32F32>> {
    if new.first().is_none_or(|r| r.is_empty()) {
        return vec![vec![]];
    }
    if new.len() != old.len() || new.len() != alpha.len() {
        return old.to_vec();
    }
    let same_shape =
        new.iter().zip(old).zip(alpha).all(|((n, o), a)| n.len() == o.len() && n.len() == a.len());
    if !same_shape {
        return new.to_vec();
    }
    new.iter()
        .zip(old)
        .zip(alpha)
        .map(|((n, o), a)| {
            n.iter()
                .zip(o)
                .zip(a)
                .map(|((&n, &o), &a)| {
                    let decayed = ONE.saturating_sub(a).saturating_mul(o);
                    let added = a.saturating_mul(n).max(ZERO);
                    decayed.saturating_add(added).min(ONE)
                })
                .collect()
        })
        .collect()
}

// ---- Sparse matrices ----

/// Each row with a positive sum scaled to sum to 1.
pub fn inplace_row_normalize_sparse(sparse_matrix: &mut [Vec<(u16, I32F32)>]) {
    for row in sparse_matrix.iter_mut() {
        let total: I32F32 = row.iter().map(|&(_, v)| v).sum();
        if total > ZERO {
            for (_, v) in row.iter_mut() {
                *v = safe_div(*v, total);
            }
        }
    }
}

/// The sum of each row.
pub fn row_sum_sparse(sparse_matrix: &[Vec<(u16, I32F32)>]) -> Vec<I32F32> {
    sparse_matrix.iter().map(|row| row.iter().map(|(_, v)| v).sum()).collect()
}

/// Each of the `columns` columns with a non-zero sum scaled to sum to 1 (cells beyond are left alone).
pub fn inplace_col_normalize_sparse(sparse_matrix: &mut [Vec<(u16, I32F32)>], columns: u16) {
    let mut sums = vec![ZERO; columns as usize];
    for &(j, v) in sparse_matrix.iter().flatten() {
        if let Some(s) = sums.get_mut(j as usize) {
            *s = s.saturating_add(v);
        }
    }
    for (j, v) in sparse_matrix.iter_mut().flatten() {
        let s = at(&sums, *j as usize);
        if s != ZERO {
            *v = safe_div(*v, s);
        }
    }
}

/// Each of the `columns` columns with a non-zero maximum divided by it.
pub fn inplace_col_max_upscale_sparse(sparse_matrix: &mut [Vec<(u16, I32F32)>], columns: u16) {
    let mut maxes = vec![ZERO; columns as usize];
    for &(j, v) in sparse_matrix.iter().flatten() {
        if let Some(m) = maxes.get_mut(j as usize) {
            if *m < v {
                *m = v;
            }
        }
    }
    for (j, v) in sparse_matrix.iter_mut().flatten() {
        let m = at(&maxes, *j as usize);
        if m != ZERO {
            *v = safe_div(*v, m);
        }
    }
}

/// Drops the cells `(i, j)` for which `mask_fn(scalar, vector[j])` holds (a missing `vector[j]` reads 0).
pub fn scalar_vec_mask_sparse_matrix(
    sparse_matrix: &[Vec<(u16, I32F32)>],
    scalar: u64,
    vector: &[u64],
    mask_fn: &dyn Fn(u64, u64) -> bool,
) -> SparseMatrix {
    sparse_matrix
        .iter()
        .map(|row| {
            row.iter()
                .filter(|(j, _)| !mask_fn(scalar, vector.get(*j as usize).copied().unwrap_or(0)))
                .copied()
                .collect()
        })
        .collect()
}

/// Drops the cells `(i, j)` for which `mask_fn(first[i], second[j])` holds (missing entries read 0).
pub fn vec_mask_sparse_matrix(
    sparse_matrix: &[Vec<(u16, I32F32)>],
    first_vector: &[u64],
    second_vector: &[u64],
    mask_fn: &dyn Fn(u64, u64) -> bool,
) -> SparseMatrix {
    sparse_matrix
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let f = first_vector.get(i).copied().unwrap_or(0);
            row.iter()
                .filter(|(j, _)| !mask_fn(f, second_vector.get(*j as usize).copied().unwrap_or(0)))
                .copied()
                .collect()
        })
        .collect()
}

/// Empties the masked rows (and rows without a mask entry).
pub fn mask_rows_sparse(mask: &[bool], sparse_matrix: &[Vec<(u16, I32F32)>]) -> SparseMatrix {
    sparse_matrix
        .iter()
        .enumerate()
        .map(|(i, row)| if mask.get(i).copied().unwrap_or(true) { Vec::new() } else { row.clone() })
        .collect()
}

/// Drops the diagonal cells.
pub fn mask_diag_sparse(sparse_matrix: &[Vec<(u16, I32F32)>]) -> SparseMatrix {
    sparse_matrix
        .iter()
        .enumerate()
        .map(|(i, row)| row.iter().filter(|(j, _)| *j as usize != i).copied().collect())
        .collect()
}

/// Drops the diagonal cells except `(except_index, except_index)`.
pub fn mask_diag_sparse_except_index(
    sparse_matrix: &[Vec<(u16, I32F32)>],
    except_index: u16,
) -> SparseMatrix {
    sparse_matrix
        .iter()
        .enumerate()
        .map(|(i, row)| {
            row.iter().filter(|(j, _)| *j as usize != i || i == except_index as usize).copied().collect()
        })
        .collect()
}

/// Row `i` scaled by `vector[i]` (stops at the shorter of rows and vector).
pub fn row_hadamard_sparse(sparse_matrix: &[Vec<(u16, I32F32)>], vector: &[I32F32]) -> SparseMatrix {
    sparse_matrix
        .iter()
        .zip(vector)
        .map(|(row, &s)| row.iter().map(|&(j, v)| (j, v.saturating_mul(s))).collect())
        .collect()
}

/// Cell `(i, j)` times `vector[j]`, dropping cells that become 0 or have no `vector[j]`.
pub fn mat_vec_mul_sparse(matrix: &[Vec<(u16, I32F32)>], vector: &[I32F32]) -> SparseMatrix {
    matrix
        .iter()
        .map(|row| {
            row.iter()
                .filter_map(|&(j, v)| {
                    let p = v.saturating_mul(*vector.get(j as usize)?);
                    (p != ZERO).then_some((j, p))
                })
                .collect()
        })
        .collect()
}

/// `r_j = Σ_i vector_i · matrix_ij` for `columns` columns, saturating.
pub fn matmul_sparse(sparse_matrix: &[Vec<(u16, I32F32)>], vector: &[I32F32], columns: u16) -> Vec<I32F32> {
    let mut out = vec![ZERO; columns as usize];
    for (i, row) in sparse_matrix.iter().enumerate() {
        let s = at(vector, i);
        for &(j, v) in row {
            if let Some(o) = out.get_mut(j as usize) {
                *o = o.saturating_add(s.saturating_mul(v));
            }
        }
    }
    out
}

/// `r_i = Σ_j vector_j · matrix_ij`, saturating.
pub fn matmul_transpose_sparse(sparse_matrix: &[Vec<(u16, I32F32)>], vector: &[I32F32]) -> Vec<I32F32> {
    sparse_matrix
        .iter()
        .map(|row| {
            row.iter().fold(ZERO, |acc, &(j, v)| acc.saturating_add(at(vector, j as usize).saturating_mul(v)))
        })
        .collect()
}

/// Clips each cell to its column's threshold; a cell whose threshold is not positive is dropped.
pub fn col_clip_sparse(sparse_matrix: &[Vec<(u16, I32F32)>], col_threshold: &[I32F32]) -> SparseMatrix {
    sparse_matrix
        .iter()
        .map(|row| {
            row.iter()
                .filter_map(|&(j, v)| {
                    let t = at(col_threshold, j as usize);
                    if t < v {
                        (t > ZERO).then_some((j, t))
                    } else {
                        Some((j, v))
                    }
                })
                .collect()
        })
        .collect()
}

/// Reads a sparse row into a dense one of `columns` cells (cells beyond are ignored).
fn densify(row: Option<&Vec<(u16, I32F32)>>, columns: usize) -> Vec<I32F32> {
    let mut dense = vec![ZERO; columns];
    for &(j, v) in row.into_iter().flatten() {
        if let Some(d) = dense.get_mut(j as usize) {
            *d = v;
        }
    }
    dense
}

/// `A + ratio (B − A)` over `columns` columns, keeping positive cells; a row-count mismatch gives B.
pub fn interpolate_sparse(
    mat1: &[Vec<(u16, I32F32)>],
    mat2: &[Vec<(u16, I32F32)>],
    columns: u16,
    ratio: I32F32,
) -> SparseMatrix {
    if ratio == ZERO {
        return mat1.to_vec();
    }
    if ratio == ONE || mat1.len() != mat2.len() {
        return mat2.to_vec();
    }
    let width = columns as usize;
    mat1.iter()
        .zip(mat2)
        .map(|(r1, r2)| {
            // Two empty rows interpolate to zeros, none of which is kept.
            if r1.is_empty() && r2.is_empty() {
                return Vec::new();
            }
            let a = densify(Some(r1), width);
            let b = densify(Some(r2), width);
            a.iter()
                .zip(&b)
                .enumerate()
                .filter_map(|(j, (a, b))| {
                    let v = a.saturating_add(ratio.saturating_mul(b.saturating_sub(*a)));
                    (v > ZERO).then_some((j as u16, v))
                })
                .collect()
        })
        .collect()
}

/// The moving average with one alpha, `alpha · new + (1 − alpha) · old`, keeping positive cells.
///
/// Columns run to the number of rows, as in subtensor, whose bond matrix is square (neurons × neurons).
/// Only the cells a row names are visited (the others stay 0 and are not kept), in column order.
pub fn mat_ema_sparse(new: &[Vec<(u16, I32F32)>], old: &[Vec<(u16, I32F32)>], alpha: I32F32) -> SparseMatrix {
    let n = new.len();
    let keep = ONE.saturating_sub(alpha);
    let mut acc = vec![ZERO; n];
    let mut touched_mark = vec![false; n];
    let mut touched: Vec<usize> = Vec::new();
    new.iter()
        .enumerate()
        .map(|(i, new_row)| {
            let old_row = old.get(i).map(|r| r.as_slice()).unwrap_or_default();
            let terms =
                new_row.iter().map(|&(j, v)| (j, alpha, v)).chain(old_row.iter().map(|&(j, v)| (j, keep, v)));
            for (j, factor, v) in terms {
                let j = j as usize;
                if let Some(a) = acc.get_mut(j) {
                    *a = a.saturating_add(factor.saturating_mul(v));
                    if !core::mem::replace(&mut touched_mark[j], true) {
                        touched.push(j);
                    }
                }
            }
            touched.sort_unstable();
            let row = touched.iter().filter(|&&j| acc[j] > ZERO).map(|&j| (j as u16, acc[j])).collect();
            for &j in &touched {
                acc[j] = ZERO;
                touched_mark[j] = false;
            }
            touched.clear();
            row
        })
        .collect()
}

/// The moving average with one alpha per cell (liquid alpha), clamped to [0, 1].
///
/// Only cells present in `new` come out: a bond whose validator no longer names the column is dropped, as in
/// subtensor (a validator's stored weights name every column it ever set, zeros included). Shapes that
/// disagree give `new` back.
pub fn mat_ema_alpha_sparse(
    new: &[Vec<(u16, I32F32)>],
    old: &[Vec<(u16, I32F32)>],
    alpha: &[Vec<I32F32>],
) -> SparseMatrix {
    if new.len() != old.len() || new.len() != alpha.len() {
        return new.to_vec();
    }
    new.iter()
        .zip(old)
        .zip(alpha)
        .map(|((new_row, old_row), alpha_row)| {
            let mut decayed = vec![ZERO; alpha_row.len()];
            for &(j, o) in old_row {
                if let (Some(&a), Some(d)) = (alpha_row.get(j as usize), decayed.get_mut(j as usize)) {
                    *d = ONE.saturating_sub(a).saturating_mul(o);
                }
            }
            new_row
                .iter()
                .filter_map(|&(j, n)| {
                    let a = *alpha_row.get(j as usize)?;
                    let d = *decayed.get(j as usize)?;
                    let v = d.saturating_add(a.saturating_mul(n).max(ZERO)).min(ONE);
                    (v > ZERO).then_some((j, v))
                })
                .collect()
        })
        .collect()
}

// ---- Stake-weighted median ----

/// The stake-weighted median of `score` over the indices `partition_idx`, by a deterministic mid-pivot
/// search.
///
/// The search keeps a segment `[partition_lo, partition_hi]` of the cumulative stake; each round splits the
/// candidates around the score of the middle candidate and descends into the lower side while its stake
/// reaches past `minority`, into the upper side while the upper side's stake leaves `minority` below it, and
/// otherwise answers the pivot. `minority` is `Σ stake − κ`: with κ = 0.5 the answer is the highest score
/// that at least half the stake meets or exceeds.
pub fn weighted_median(
    stake: &[I32F32],
    score: &[I32F32],
    partition_idx: &[usize],
    minority: I32F32,
    mut partition_lo: I32F32,
    mut partition_hi: I32F32,
) -> I32F32 {
    if stake.len() != score.len() {
        return ZERO;
    }
    let mut candidates: Vec<usize> = partition_idx.to_vec();
    let mut lower: Vec<usize> = Vec::new();
    let mut upper: Vec<usize> = Vec::new();
    // Every round removes at least the pivot's score, so this many rounds always suffice.
    for _ in 0..=partition_idx.len() {
        match candidates.len() {
            0 => return ZERO,
            1 => return at(score, candidates[0]),
            _ => {}
        }
        let pivot = at(score, candidates[candidates.len() / 2]);
        let mut lo_stake = ZERO;
        let mut hi_stake = ZERO;
        lower.clear();
        upper.clear();
        for &idx in &candidates {
            let s = at(score, idx);
            if s < pivot {
                lo_stake = lo_stake.saturating_add(at(stake, idx));
                lower.push(idx);
            } else if s > pivot {
                hi_stake = hi_stake.saturating_add(at(stake, idx));
                upper.push(idx);
            }
        }
        if minority < partition_lo.saturating_add(lo_stake) && !lower.is_empty() {
            partition_hi = partition_lo.saturating_add(lo_stake);
            core::mem::swap(&mut candidates, &mut lower);
        } else if partition_hi.saturating_sub(hi_stake) <= minority && !upper.is_empty() {
            partition_lo = partition_hi.saturating_sub(hi_stake);
            core::mem::swap(&mut candidates, &mut upper);
        } else {
            return pivot;
        }
    }
    ZERO
}

/// The median of one column given the (already filtered and normalized) stakes.
fn column_median(
    use_stake: &[I32F32],
    column: &[I32F32],
    idx: &[usize],
    minority: I32F32,
    total: I32F32,
) -> I32F32 {
    weighted_median(use_stake, column, idx, minority, ZERO, total)
}

/// The stake-weighted median of each column over the rows with positive stake, at majority `majority` (κ).
pub fn weighted_median_col(stake: &[I32F32], score: &[Vec<I32F32>], majority: I32F32) -> Vec<I32F32> {
    let columns = score.first().map(|r| r.len()).unwrap_or(0);
    (0..columns)
        .map(|c| {
            let mut use_stake = Vec::new();
            let mut use_score = Vec::new();
            for (r, &s) in stake.iter().enumerate() {
                if s > ZERO {
                    // A missing or ragged row takes part with no stake and no score.
                    match score.get(r) {
                        Some(row) if row.len() == columns => {
                            use_stake.push(s);
                            use_score.push(at(row, c));
                        }
                        _ => {
                            use_stake.push(ZERO);
                            use_score.push(ZERO);
                        }
                    }
                }
            }
            if use_stake.is_empty() {
                return ZERO;
            }
            inplace_normalize(&mut use_stake);
            let total: I32F32 = use_stake.iter().sum();
            let idx: Vec<usize> = (0..use_stake.len()).collect();
            column_median(&use_stake, &use_score, &idx, total.saturating_sub(majority), total)
        })
        .collect()
}

/// [`weighted_median_col`] for a sparse score matrix of `columns` columns.
pub fn weighted_median_col_sparse(
    stake: &[I32F32],
    score: &[Vec<(u16, I32F32)>],
    columns: u16,
    majority: I32F32,
) -> Vec<I32F32> {
    let mut use_stake: Vec<I32F32> = stake.iter().copied().filter(|&s| s > ZERO).collect();
    inplace_normalize(&mut use_stake);
    let total: I32F32 = use_stake.iter().sum();
    let minority = total.saturating_sub(majority);
    let idx: Vec<usize> = (0..use_stake.len()).collect();
    // Column-major scores of the staked rows only.
    let mut by_column = vec![vec![ZERO; use_stake.len()]; columns as usize];
    let staked_rows = stake.iter().zip(score).filter(|(&s, _)| s > ZERO).map(|(_, row)| row);
    for (k, row) in staked_rows.enumerate() {
        for &(j, v) in row {
            if let Some(cell) = by_column.get_mut(j as usize).and_then(|c| c.get_mut(k)) {
                *cell = v;
            }
        }
    }
    by_column.iter().map(|col| column_median(&use_stake, col, &idx, minority, total)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_are_zero_and_one() {
        assert_eq!(ZERO, I32F32::from_num(0));
        assert_eq!(ONE, I32F32::from_num(1));
    }
}
