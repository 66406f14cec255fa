//! Merklization: the state trie, well-balanced and constant-depth binary trees, and Merkle mountain ranges (GP 0.7.2 Appendices D and E)
//!
//! Status: not yet written; see the open issue that brings it.
