//! The dev genesis the scenarios share (as `orrery chain-spec dev` makes it), on one import
//! context per test binary.

#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use orrery_sim::Genesis;
use orrery_testkit::tiny_import_context;

pub fn genesis() -> Genesis {
    static GENESIS: OnceLock<Genesis> = OnceLock::new();
    GENESIS.get_or_init(|| Genesis::dev(Arc::new(tiny_import_context())).expect("the dev genesis")).clone()
}
