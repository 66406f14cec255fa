//! Binary Merkle trees (GP 0.7.2 Appendix E.1): the node function `N`, the trace `T`, the
//! well-balanced root `M_B`, and the constant-depth root `M` with its paged justifications `J_x`
//! and leaf pages `L_x`.
//!
//! Every function takes the hash as a parameter; the paper's default is blake2b-256
//! ([`orrery_crypto::blake2b_256`]), and the accumulation-output root uses keccak-256.

use std::borrow::Cow;

use crate::{Hash, ZERO_HASH};

/// The prefix of an inner node's preimage, `$node`.
const NODE_PREFIX: &[u8] = b"node";
/// The prefix of a constant-depth leaf's preimage, `$leaf`.
const LEAF_PREFIX: &[u8] = b"leaf";

/// `N(v, H)` (GP eq. E.1): the zero hash for no items, the item itself for one, otherwise
/// `H("node" ‖ N(first half) ‖ N(second half))` with the first half the longer.
///
/// A lone item comes back as it is, whatever its length, which is why this returns bytes.
pub fn node<'a, T: AsRef<[u8]>>(items: &'a [T], hash: &impl Fn(&[u8]) -> Hash) -> Cow<'a, [u8]> {
    match items {
        [] => Cow::Owned(ZERO_HASH.to_vec()),
        [only] => Cow::Borrowed(only.as_ref()),
        _ => Cow::Owned(inner_node(items, hash).to_vec()),
    }
}

/// `N` for two or more items, where it is always a hash.
fn inner_node<T: AsRef<[u8]>>(items: &[T], hash: &impl Fn(&[u8]) -> Hash) -> Hash {
    debug_assert!(items.len() >= 2);
    let (left, right) = items.split_at(items.len().div_ceil(2));
    let left = node(left, hash);
    let right = node(right, hash);
    let mut preimage = Vec::with_capacity(NODE_PREFIX.len() + left.len() + right.len());
    preimage.extend_from_slice(NODE_PREFIX);
    preimage.extend_from_slice(&left);
    preimage.extend_from_slice(&right);
    hash(&preimage)
}

/// `T(v, i, H)` (GP eq. E.2): the sibling of each node on the way from the root down to item `i`,
/// top first. Each entry is `N` of the other half, so a lone item comes back unhashed.
///
/// An index past the end follows the right-hand halves, as the paper's definition does.
pub fn trace<T: AsRef<[u8]>>(items: &[T], index: usize, hash: &impl Fn(&[u8]) -> Hash) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let (mut items, mut index) = (items, index);
    while items.len() > 1 {
        let mid = items.len().div_ceil(2);
        let (left, right) = items.split_at(mid);
        if index < mid {
            out.push(node(right, hash).into_owned());
            items = left;
        } else {
            out.push(node(left, hash).into_owned());
            items = right;
            index -= mid;
        }
    }
    out
}

/// `T(v, i, H)` for every `i` at once: what [`trace`] gives item by item, in `O(n log n)` hashes
/// rather than `O(n²)` (a guarantor hands every validator its co-path, JAMNP-S CE 137).
pub fn traces<T: AsRef<[u8]>>(items: &[T], hash: &impl Fn(&[u8]) -> Hash) -> Vec<Vec<Vec<u8>>> {
    let mut out = vec![Vec::new(); items.len()];
    fill_traces(items, &mut out, hash);
    out
}

/// Pushes, top first, each half's `N` onto the traces of the other half's items; returns `N(items)`.
fn fill_traces<T: AsRef<[u8]>>(
    items: &[T],
    out: &mut [Vec<Vec<u8>>],
    hash: &impl Fn(&[u8]) -> Hash,
) -> Vec<u8> {
    if items.len() <= 1 {
        return node(items, hash).into_owned();
    }
    let mid = items.len().div_ceil(2);
    let (left, right) = items.split_at(mid);
    let (left_out, right_out) = out.split_at_mut(mid);
    // The siblings go on top, so each half's own steps (found below) must come after them.
    let mut left_traces = vec![Vec::new(); left.len()];
    let mut right_traces = vec![Vec::new(); right.len()];
    let left_node = fill_traces(left, &mut left_traces, hash);
    let right_node = fill_traces(right, &mut right_traces, hash);
    for (slot, below) in left_out.iter_mut().zip(left_traces) {
        slot.push(right_node.clone());
        slot.extend(below);
    }
    for (slot, below) in right_out.iter_mut().zip(right_traces) {
        slot.push(left_node.clone());
        slot.extend(below);
    }
    let mut preimage = Vec::with_capacity(NODE_PREFIX.len() + left_node.len() + right_node.len());
    preimage.extend_from_slice(NODE_PREFIX);
    preimage.extend_from_slice(&left_node);
    preimage.extend_from_slice(&right_node);
    hash(&preimage).to_vec()
}

/// The well-balanced root ([`well_balanced_root`]) that item `index` of `count` and its trace
/// `T(v, index, H)` (top first, as [`trace`] gives it) commit to; `None` when the trace's length
/// does not fit the tree's shape. An observer compares it with the root it was told.
pub fn well_balanced_root_from_trace(
    item: &[u8],
    index: usize,
    count: usize,
    path: &[impl AsRef<[u8]>],
    hash: impl Fn(&[u8]) -> Hash,
) -> Option<Hash> {
    if index >= count {
        return None;
    }
    if count == 1 {
        return path.is_empty().then(|| hash(item));
    }
    // Walk down as `trace` does to learn, per level, which side the item is on.
    let mut left_side = Vec::new();
    let (mut len, mut at) = (count, index);
    while len > 1 {
        let mid = len.div_ceil(2);
        if at < mid {
            left_side.push(true);
            len = mid;
        } else {
            left_side.push(false);
            len -= mid;
            at -= mid;
        }
    }
    if left_side.len() != path.len() {
        return None;
    }
    let mut acc = item.to_vec();
    for (is_left, sibling) in left_side.iter().zip(path).rev() {
        let (l, r) =
            if *is_left { (acc.as_slice(), sibling.as_ref()) } else { (sibling.as_ref(), acc.as_slice()) };
        let mut preimage = Vec::with_capacity(NODE_PREFIX.len() + l.len() + r.len());
        preimage.extend_from_slice(NODE_PREFIX);
        preimage.extend_from_slice(l);
        preimage.extend_from_slice(r);
        acc = hash(&preimage).to_vec();
    }
    acc.try_into().ok()
}

/// `M_B(v, H)` (GP eq. E.3): the well-balanced binary Merkle root. A single item is hashed;
/// otherwise it is `N(v, H)`.
pub fn well_balanced_root<T: AsRef<[u8]>>(items: &[T], hash: impl Fn(&[u8]) -> Hash) -> Hash {
    match items {
        [] => ZERO_HASH,
        [only] => hash(only.as_ref()),
        _ => inner_node(items, &hash),
    }
}

/// `C(v, H)` (GP eq. E.7): each item hashed as `H("leaf" ‖ item)`, padded with zero hashes to the
/// next power of two (at least one entry).
pub fn constant_depth_leaves<T: AsRef<[u8]>>(items: &[T], hash: impl Fn(&[u8]) -> Hash) -> Vec<Hash> {
    let width = items.len().max(1).next_power_of_two();
    let mut out = Vec::with_capacity(width);
    out.extend(items.iter().map(|item| leaf_hash(item.as_ref(), &hash)));
    out.resize(width, ZERO_HASH);
    out
}

fn leaf_hash(item: &[u8], hash: &impl Fn(&[u8]) -> Hash) -> Hash {
    let mut preimage = Vec::with_capacity(LEAF_PREFIX.len() + item.len());
    preimage.extend_from_slice(LEAF_PREFIX);
    preimage.extend_from_slice(item);
    hash(&preimage)
}

/// `M(v, H)` (GP eq. E.4): the constant-depth binary Merkle root, `N(C(v, H), H)`.
pub fn constant_depth_root<T: AsRef<[u8]>>(items: &[T], hash: impl Fn(&[u8]) -> Hash) -> Hash {
    hashes_root(&constant_depth_leaves(items, &hash), &hash)
}

/// `N` over a power-of-two row of hashes, computed level by level.
fn hashes_root(row: &[Hash], hash: &impl Fn(&[u8]) -> Hash) -> Hash {
    match row {
        [] => ZERO_HASH,
        [only] => *only,
        _ => {
            let mut level: Vec<Hash> = row.chunks(2).map(|pair| node_of_pair(pair, hash)).collect();
            while level.len() > 1 {
                level = level.chunks(2).map(|pair| node_of_pair(pair, hash)).collect();
            }
            level[0]
        }
    }
}

/// `H("node" ‖ a ‖ b)` for a chunk of one or two hashes; a power-of-two row always gives two.
fn node_of_pair(pair: &[Hash], hash: &impl Fn(&[u8]) -> Hash) -> Hash {
    match pair {
        [a, b] => node_pair(a, b, hash),
        _ => node(pair, hash).as_ref().try_into().unwrap_or(ZERO_HASH),
    }
}

fn node_pair(a: &Hash, b: &Hash, hash: &impl Fn(&[u8]) -> Hash) -> Hash {
    let mut preimage = [0u8; 4 + 64];
    preimage[..4].copy_from_slice(NODE_PREFIX);
    preimage[4..36].copy_from_slice(a);
    preimage[36..].copy_from_slice(b);
    hash(&preimage)
}

/// `⌈log₂(max(1, n))⌉`: the depth of the constant-depth tree over `n` items.
fn depth(n: usize) -> u32 {
    n.max(1).next_power_of_two().trailing_zeros()
}

/// The first item of page `page` when pages hold `2^x` items, if that page exists: page 0 always
/// does (it may be empty), and any other page must start before the end.
fn page_start(len: usize, x: u32, page: usize) -> Option<usize> {
    let start = 1usize.checked_shl(x).and_then(|size| size.checked_mul(page))?;
    (page == 0 || start < len).then_some(start)
}

/// `J_x(v, i, H)` (GP eq. E.5): the path from the root down to page `i` of `2^x` leaves, top first,
/// or `None` when there is no such page.
///
/// The path is the first `max(0, ⌈log₂(max(1, |v|))⌉ - x)` entries of the trace to the page's
/// first leaf; the observer also needs the page itself, [`leaf_page`].
pub fn justification<T: AsRef<[u8]>>(
    items: &[T],
    x: u32,
    page: usize,
    hash: impl Fn(&[u8]) -> Hash,
) -> Option<Vec<Hash>> {
    let start = page_start(items.len(), x, page)?;
    let keep = depth(items.len()).saturating_sub(x) as usize;
    let leaves = constant_depth_leaves(items, &hash);
    // Only the top `keep` siblings are wanted, so the walk stops there instead of tracing to a leaf.
    let mut out = Vec::with_capacity(keep);
    let (mut row, mut index) = (leaves.as_slice(), start);
    while out.len() < keep {
        let mid = row.len() / 2;
        let (left, right) = row.split_at(mid);
        if index < mid {
            out.push(hashes_root(right, &hash));
            row = left;
        } else {
            out.push(hashes_root(left, &hash));
            row = right;
            index -= mid;
        }
    }
    Some(out)
}

/// `L_x(v, i, H)` (GP eq. E.6): the hashed leaves `H("leaf" ‖ item)` of page `i` of `2^x` items,
/// without padding; empty when the page lies past the end.
pub fn leaf_page<T: AsRef<[u8]>>(
    items: &[T],
    x: u32,
    page: usize,
    hash: impl Fn(&[u8]) -> Hash,
) -> Vec<Hash> {
    let Some(start) = page_start(items.len(), x, page) else {
        return Vec::new();
    };
    let end = start.saturating_add(1usize.checked_shl(x).unwrap_or(usize::MAX)).min(items.len());
    items.get(start..end).unwrap_or_default().iter().map(|item| leaf_hash(item.as_ref(), &hash)).collect()
}

/// The constant-depth root that page `page` of `2^x` leaves and its justification `J_x` commit to:
/// what an observer holding both computes and compares with `M(v, H)`.
///
/// The page is padded with zero hashes as `C` pads the tree: to `2^x` leaves when the tree is deeper
/// than a page (a non-empty path), else to the tree's own power-of-two width. `None` when the page
/// holds more leaves than a page can or its index does not fit the path.
pub fn root_from_page(
    x: u32,
    page: usize,
    leaves: &[Hash],
    path: &[Hash],
    hash: impl Fn(&[u8]) -> Hash,
) -> Option<Hash> {
    let page_size = 1usize.checked_shl(x)?;
    if leaves.len() > page_size {
        return None;
    }
    let width = if path.is_empty() { leaves.len().max(1).next_power_of_two() } else { page_size };
    if (path.is_empty() && page != 0) || (path.len() < usize::BITS as usize && page >> path.len() != 0) {
        return None;
    }
    let mut row = leaves.to_vec();
    row.resize(width, ZERO_HASH);
    let mut acc = hashes_root(&row, &hash);
    // The path runs top first; climb it from the bottom, the page index's bits saying which side.
    for (level, sibling) in path.iter().rev().enumerate() {
        acc = if (page >> level) & 1 == 0 {
            node_pair(&acc, sibling, &hash)
        } else {
            node_pair(sibling, &acc, &hash)
        };
    }
    Some(acc)
}

/// `J_0(v, n)` (GP eq. E.5 with `x = 0`) from what a proof page holds: page `⌊n/2^x⌋`'s hashed leaves
/// (`L_x`) and its path `J_x`. The page is padded as [`root_from_page`] pads it; the result is `J_x`
/// followed by the path inside the page, top first. `None` when the page holds more than `2^x`
/// leaves or `n` falls outside it.
pub fn justification_in_page(
    x: u32,
    leaves: &[Hash],
    path: &[Hash],
    index: usize,
    hash: impl Fn(&[u8]) -> Hash,
) -> Option<Vec<Hash>> {
    let page_size = 1usize.checked_shl(x)?;
    if leaves.len() > page_size {
        return None;
    }
    let width = if path.is_empty() { leaves.len().max(1).next_power_of_two() } else { page_size };
    let mut at = index % page_size;
    if path.is_empty() && index >= width {
        return None;
    }
    let mut row = leaves.to_vec();
    row.resize(width, ZERO_HASH);
    let mut out = path.to_vec();
    let mut row = row.as_slice();
    while row.len() > 1 {
        let mid = row.len() / 2;
        let (left, right) = row.split_at(mid);
        if at < mid {
            out.push(hashes_root(right, &hash));
            row = left;
        } else {
            out.push(hashes_root(left, &hash));
            row = right;
            at -= mid;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use orrery_crypto::{blake2b_256, keccak_256};

    use super::*;

    fn cat(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }
    fn hn(a: &[u8], b: &[u8]) -> Hash {
        blake2b_256(&cat(&[b"node", a, b]))
    }
    fn hl(a: &[u8]) -> Hash {
        blake2b_256(&cat(&[b"leaf", a]))
    }

    #[test]
    fn node_function_by_hand() {
        let none: [&[u8]; 0] = [];
        assert_eq!(node(&none, &blake2b_256).as_ref(), &ZERO_HASH);
        // A lone item is returned as is, even when it is not 32 bytes.
        assert_eq!(node(&[b"abc"], &blake2b_256).as_ref(), b"abc");
        // Three items split 2 + 1: H(node ‖ H(node ‖ a ‖ b) ‖ c).
        let items: [&[u8]; 3] = [b"a", b"bb", b"ccc"];
        let expected = hn(&hn(b"a", b"bb"), b"ccc");
        assert_eq!(node(&items, &blake2b_256).as_ref(), &expected);
    }

    #[test]
    fn well_balanced_by_hand() {
        let none: [&[u8]; 0] = [];
        assert_eq!(well_balanced_root(&none, blake2b_256), ZERO_HASH);
        assert_eq!(well_balanced_root(&[b"x"], blake2b_256), blake2b_256(b"x"));
        let two: [&[u8]; 2] = [b"x", b"y"];
        assert_eq!(well_balanced_root(&two, blake2b_256), hn(b"x", b"y"));
        // Five items split 3 + 2, and the 3 split 2 + 1.
        let five: [&[u8]; 5] = [b"1", b"2", b"3", b"4", b"5"];
        let expected = hn(&hn(&hn(b"1", b"2"), b"3"), &hn(b"4", b"5"));
        assert_eq!(well_balanced_root(&five, blake2b_256), expected);
        // With keccak, as the accumulation-output root takes it.
        let kn = |a: &[u8], b: &[u8]| keccak_256(&cat(&[b"node", a, b]));
        assert_eq!(well_balanced_root(&two, keccak_256), kn(b"x", b"y"));
        assert_eq!(well_balanced_root(&[b"x"], keccak_256), keccak_256(b"x"));
    }

    #[test]
    fn trace_by_hand() {
        let five: [&[u8]; 5] = [b"1", b"2", b"3", b"4", b"5"];
        // Item 2 ("3") sits at left(3) → right(1): siblings are N([4,5]) then N([1,2]).
        assert_eq!(trace(&five, 2, &blake2b_256), vec![hn(b"4", b"5").to_vec(), hn(b"1", b"2").to_vec()]);
        // Item 0: siblings N([4,5]), then "3" unhashed, then "2" unhashed.
        assert_eq!(
            trace(&five, 0, &blake2b_256),
            vec![hn(b"4", b"5").to_vec(), b"3".to_vec(), b"2".to_vec()]
        );
        assert_eq!(trace(&five[..1], 0, &blake2b_256), Vec::<Vec<u8>>::new());
    }

    #[test]
    fn constant_depth_by_hand() {
        let none: [&[u8]; 0] = [];
        // C of nothing is one zero hash, and N of one item is that item.
        assert_eq!(constant_depth_leaves(&none, blake2b_256), vec![ZERO_HASH]);
        assert_eq!(constant_depth_root(&none, blake2b_256), ZERO_HASH);
        // One item: the root is its leaf hash (not hashed again as M_B would).
        assert_eq!(constant_depth_root(&[b"a"], blake2b_256), hl(b"a"));
        // Three items pad to four.
        let three: [&[u8]; 3] = [b"a", b"b", b"c"];
        let expected = hn(&hn(&hl(b"a"), &hl(b"b")), &hn(&hl(b"c"), &ZERO_HASH));
        assert_eq!(constant_depth_root(&three, blake2b_256), expected);
        assert_eq!(constant_depth_leaves(&three, blake2b_256), vec![hl(b"a"), hl(b"b"), hl(b"c"), ZERO_HASH]);
    }

    #[test]
    fn pages_by_hand() {
        // Five items: C pads to 8, depth 3. Pages of 2 (x = 1): 4 pages; paths of 3 - 1 = 2.
        let five: [&[u8]; 5] = [b"a", b"b", b"c", b"d", b"e"];
        let l: Vec<Hash> = five.iter().map(|i| hl(i)).collect();
        let z = ZERO_HASH;
        let ab = hn(&l[0], &l[1]);
        let cd = hn(&l[2], &l[3]);
        let e0 = hn(&l[4], &z);
        let zz = hn(&z, &z);
        let right = hn(&e0, &zz);
        let left = hn(&ab, &cd);
        assert_eq!(justification(&five, 1, 0, blake2b_256), Some(vec![right, cd]));
        assert_eq!(justification(&five, 1, 1, blake2b_256), Some(vec![right, ab]));
        assert_eq!(justification(&five, 1, 2, blake2b_256), Some(vec![left, zz]));
        // Page 3 would start at item 6, past the end.
        assert_eq!(justification(&five, 1, 3, blake2b_256), None);
        assert_eq!(leaf_page(&five, 1, 0, blake2b_256), vec![l[0], l[1]]);
        assert_eq!(leaf_page(&five, 1, 2, blake2b_256), vec![l[4]]);
        assert_eq!(leaf_page(&five, 1, 3, blake2b_256), Vec::<Hash>::new());
        // x = 0: full traces of hashes.
        assert_eq!(justification(&five, 0, 4, blake2b_256), Some(vec![left, zz, z]));
        // A page as large as the tree: no path, and the page is everything.
        assert_eq!(justification(&five, 3, 0, blake2b_256), Some(vec![]));
        assert_eq!(justification(&five, 10, 0, blake2b_256), Some(vec![]));
        assert_eq!(leaf_page(&five, 10, 0, blake2b_256), l);
        // Absurd sizes are refused, not overflowed.
        assert_eq!(justification(&five, 200, 1, blake2b_256), None);
        assert_eq!(leaf_page(&five, 70, 1, blake2b_256), Vec::<Hash>::new());
    }

    #[test]
    fn j0_from_a_page_by_hand() {
        // The five items of `pages_by_hand`, pages of 2: item 4 is in page 2, whose J_1 is
        // [left, zz]; inside the page its sibling is the padding's zero hash.
        let five: [&[u8]; 5] = [b"a", b"b", b"c", b"d", b"e"];
        let l: Vec<Hash> = five.iter().map(|i| hl(i)).collect();
        let z = ZERO_HASH;
        let left = hn(&hn(&l[0], &l[1]), &hn(&l[2], &l[3]));
        let zz = hn(&z, &z);
        assert_eq!(justification_in_page(1, &[l[4]], &[left, zz], 4, blake2b_256), Some(vec![left, zz, z]));
        // One page holding the whole tree (no path): padded to its power of two, 8.
        let e0 = hn(&l[4], &z);
        let cd = hn(&l[2], &l[3]);
        assert_eq!(justification_in_page(6, &l, &[], 1, blake2b_256), Some(vec![hn(&e0, &zz), cd, l[0]]));
        // Outside the page, or a page larger than 2^x.
        assert_eq!(justification_in_page(6, &l, &[], 8, blake2b_256), None);
        assert_eq!(justification_in_page(1, &l, &[left], 0, blake2b_256), None);
    }

    #[test]
    fn pages_verify_against_the_root() {
        for n in 0..20usize {
            let items: Vec<Vec<u8>> = (0..n).map(|i| vec![i as u8; i % 7]).collect();
            let root = constant_depth_root(&items, blake2b_256);
            for x in 0..6 {
                for page in 0..=n {
                    let Some(path) = justification(&items, x, page, blake2b_256) else {
                        assert!(page > 0 && page << x >= n);
                        continue;
                    };
                    // The paper's literal definition: the trace over C(v) to the page's first leaf, cut.
                    let literal = trace(&constant_depth_leaves(&items, blake2b_256), page << x, &blake2b_256);
                    let keep = (depth(n) as usize).saturating_sub(x as usize);
                    let literal: Vec<Vec<u8>> = literal.into_iter().take(keep).collect();
                    assert_eq!(path.iter().map(|h| h.to_vec()).collect::<Vec<_>>(), literal);
                    let leaves = leaf_page(&items, x, page, blake2b_256);
                    assert_eq!(
                        root_from_page(x, page, &leaves, &path, blake2b_256),
                        Some(root),
                        "n={n} x={x} page={page}"
                    );
                    // A tampered page fails.
                    if let Some(first) = leaves.first() {
                        let mut bad = leaves.clone();
                        bad[0] = blake2b_256(first);
                        assert_ne!(root_from_page(x, page, &bad, &path, blake2b_256), Some(root));
                    }
                }
            }
        }
    }

    #[test]
    fn traces_match_trace_and_prove_the_root() {
        for n in [1usize, 2, 3, 5, 6, 7, 16, 23] {
            let items: Vec<Vec<u8>> = (0..n).map(|i| vec![i as u8; 64]).collect();
            let all = traces(&items, &blake2b_256);
            let root = well_balanced_root(&items, blake2b_256);
            for (i, t) in all.iter().enumerate() {
                assert_eq!(*t, trace(&items, i, &blake2b_256), "n={n} i={i}");
                assert_eq!(well_balanced_root_from_trace(&items[i], i, n, t, blake2b_256), Some(root));
                let mut bad = items[i].clone();
                bad[0] ^= 1;
                assert_ne!(well_balanced_root_from_trace(&bad, i, n, t, blake2b_256), Some(root));
            }
        }
    }

    #[test]
    fn root_from_trace_by_hand() {
        // Three items: N = H("node" ‖ H("node" ‖ a ‖ b) ‖ c); item b's trace is [c, a].
        let (a, b, c) = ([1u8; 64], [2u8; 64], [3u8; 64]);
        let ab = blake2b_256(&cat(&[b"node", &a, &b]));
        let root = blake2b_256(&cat(&[b"node", &ab, &c]));
        let path = [c.to_vec(), a.to_vec()];
        assert_eq!(well_balanced_root_from_trace(&b, 1, 3, &path, blake2b_256), Some(root));
        assert_eq!(well_balanced_root_from_trace(&b, 2, 3, &path, blake2b_256), None);
        assert_eq!(well_balanced_root_from_trace(&b, 1, 3, &path[..1], blake2b_256), None);
    }
}
