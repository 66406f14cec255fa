//! `pvm`: every program in `programs/` runs to the expected status, registers, pc, gas and memory.

use super::{case_names, not_implemented};
use crate::{CaseOutcome, Family};

pub(crate) fn run(family: &Family) -> Result<Vec<CaseOutcome>, String> {
    not_implemented(case_names(&family.dir.join("programs"), "json")?, "the PVM (issue 3)")
}
