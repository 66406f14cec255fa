//! The entropy-driven Fisher-Yates shuffle of GP 0.7.2 Appendix F
//!
//! Status: not yet written; see the open issue that brings it.
