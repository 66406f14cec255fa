//! `traces/<name>`: block-import steps, each a pre-state, a block and the post-state.

use super::{case_names, not_implemented};
use crate::{CaseOutcome, Family};

pub(crate) fn run(family: &Family) -> Result<Vec<CaseOutcome>, String> {
    let cases = case_names(&family.dir, "bin")?.into_iter().filter(|n| n != "genesis").collect();
    not_implemented(cases, "block import (issue 6)")
}
