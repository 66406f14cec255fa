//! CE 129's boundary nodes (JAMNP-S; GP 0.7.2 Appendix D.2): the trie nodes on the paths from the
//! root to the requested start key and to the last key sent, parent before child, each once. A path
//! to a key absent from the state ends at a branch with the zero hash on the key's side or at a
//! leaf of another key. With
//! the key/value pairs of the range they let the requester check the pairs against the state root:
//! every subtrie off the two paths is either wholly inside the range (its pairs were sent) or
//! wholly outside (its identity is in a boundary node).
//!
//! The nodes are those of `M` (eq. D.5): where every key of a subtrie agrees on the next bit, `M`
//! still makes a branch with the zero hash on the empty side, so a path has one node per bit until
//! its subtrie holds at most one key; a subtrie of one key is its leaf (which proves that a key
//! absent from the state is absent). Computed from the sorted pairs: `O(n)` hashes per request.

use orrery_crypto::blake2b_256;
use orrery_merkle::trie::{branch_node, leaf_node};
use orrery_merkle::{Hash, Key, ZERO_HASH};
use orrery_network::message::BoundaryNode;

/// Bit `i` of a key, most significant first (GP §3.8's `bits`).
fn bit(key: &Key, i: usize) -> bool {
    (key[i >> 3] >> (7 - (i & 7))) & 1 == 1
}

/// The boundary nodes of the paths to `start` and `end` through the trie of `pairs` (sorted by key,
/// distinct), root first.
pub fn boundary_nodes<V: AsRef<[u8]>>(pairs: &[(Key, V)], start: &Key, end: &Key) -> Vec<BoundaryNode> {
    let mut out = Vec::new();
    let targets: Vec<Key> = if start == end { vec![*start] } else { vec![*start, *end] };
    walk(pairs, 0, &targets, &mut out);
    out
}

/// The identity of the subtrie of `pairs` (which agree on bits `..depth`), recording the nodes on
/// the paths of `targets` (keys routed into this subtrie) into `out`, parent before child.
fn walk<V: AsRef<[u8]>>(
    pairs: &[(Key, V)],
    depth: usize,
    targets: &[Key],
    out: &mut Vec<BoundaryNode>,
) -> Hash {
    match pairs {
        [] => ZERO_HASH,
        [(key, value)] => {
            let node = leaf_node(key, value.as_ref());
            if !targets.is_empty() {
                out.push(node);
            }
            blake2b_256(&node)
        }
        _ => {
            let at = out.len();
            if !targets.is_empty() {
                // Filled in once the children's identities are known.
                out.push([0; 64]);
            }
            // Sorted keys that share bits `..depth`: those with a 0 at `depth` come first.
            let mid = pairs.partition_point(|(k, _)| !bit(k, depth));
            let (left_targets, right_targets): (Vec<Key>, Vec<Key>) =
                targets.iter().partition(|k| !bit(k, depth));
            let left = walk(&pairs[..mid], depth + 1, &left_targets, out);
            let right = walk(&pairs[mid..], depth + 1, &right_targets, out);
            let node = branch_node(&left, &right);
            if !targets.is_empty() {
                out[at] = node;
            }
            blake2b_256(&node)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(first: u8) -> Key {
        let mut k = [0u8; 31];
        k[0] = first;
        k
    }

    #[test]
    fn the_first_node_is_the_root_and_a_single_pair_is_its_leaf() {
        let pairs = vec![(key(0x10), vec![1u8, 2, 3])];
        let nodes = boundary_nodes(&pairs, &key(0), &key(0xff));
        assert_eq!(nodes.len(), 1);
        let root = orrery_merkle::trie::root_of_sorted(&pairs).unwrap();
        assert_eq!(blake2b_256(&nodes[0]), root);
        assert_eq!(nodes[0], leaf_node(&key(0x10), &[1, 2, 3]));
    }

    #[test]
    fn paths_to_both_ends_share_their_top_and_hash_to_the_root() {
        // Keys 0b0000_0000, 0b0100_0000, 0b1000_0000, 0b1100_0000: two levels of real branches.
        let pairs: Vec<(Key, Vec<u8>)> =
            [0x00u8, 0x40, 0x80, 0xc0].iter().map(|b| (key(*b), vec![*b; 40])).collect();
        let root = orrery_merkle::trie::root_of_sorted(&pairs).unwrap();
        let nodes = boundary_nodes(&pairs, &key(0x00), &key(0xc0));
        // Root, then the left branch and its leftmost leaf, then the right branch and its
        // rightmost leaf.
        assert_eq!(nodes.len(), 5);
        assert_eq!(blake2b_256(&nodes[0]), root);
        let (l, r) = (blake2b_256(&nodes[1]), blake2b_256(&nodes[3]));
        assert_eq!(nodes[0], branch_node(&l, &r));
        assert_eq!(nodes[2], leaf_node(&key(0x00), &[0x00; 40]));
        assert_eq!(nodes[4], leaf_node(&key(0xc0), &[0xc0; 40]));
        // One end only: the root, one branch, one leaf.
        assert_eq!(boundary_nodes(&pairs, &key(0x40), &key(0x40)).len(), 3);
    }
}
