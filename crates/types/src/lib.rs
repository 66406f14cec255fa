//! JAM protocol types (GP 0.7.2): the header and block, the five extrinsics, work packages, work
//! reports and their parts, and the chain spec as a run-time value.
//!
//! Each type is declared once with its layout in the Gray Paper codec (Appendix C, "block
//! serialization"); field names follow the vectors' ASN.1 schema (`lib/jam-types.asn`) so that the
//! conformance runner can compare them field by field. Types that live only in the state (σ) are in
//! `orrery-state`.

#![forbid(unused_must_use)]

mod block;
mod primitives;
mod spec;
mod work;

pub use block::*;
pub use primitives::*;
pub use spec::{constants, ChainSpec};
pub use work::*;
