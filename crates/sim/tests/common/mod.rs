//! The dev genesis the scenarios share: the vectors' tiny trace genesis made a dev chain (as
//! `orrery chain-spec dev` makes it), on one import context per test binary.

#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use orrery_sim::Genesis;
use orrery_testkit::{genesis as trace_genesis, tiny_import_context, tiny_state};

pub fn genesis() -> Genesis {
    static GENESIS: OnceLock<Genesis> = OnceLock::new();
    GENESIS
        .get_or_init(|| {
            let trace = trace_genesis("fallback");
            let base = tiny_state(&trace.state).state().clone();
            Genesis::dev(Arc::new(tiny_import_context()), &trace.header, base).expect("the dev genesis")
        })
        .clone()
}
