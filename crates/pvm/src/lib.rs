//! The Polkadot Virtual Machine of GP 0.7.2 Appendix A: program decoding, an interpreter with gas, paged memory and host calls
//!
//! Status: not yet written; see the open issue that brings it.
