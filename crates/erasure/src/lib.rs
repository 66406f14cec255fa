//! Reed-Solomon erasure coding over GF(2^16) as the Gray Paper defines it (GP 0.7.2 erasure-coding appendix)
//!
//! Status: not yet written; see the open issue that brings it.
