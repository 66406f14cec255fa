//! `stf/<name>/{tiny,full}`: each case applies one sub-transition to its pre-state and must give
//! the expected output and post-state.

use super::{case_names, not_implemented};
use crate::{CaseOutcome, Family};

pub(crate) fn run(family: &Family) -> Result<Vec<CaseOutcome>, String> {
    let cases = case_names(&family.dir, "bin")?;
    let what = match family.name.split('/').nth(1) {
        Some("accumulate") => "accumulation (issue 5)",
        _ => "the state transition (issue 4)",
    };
    not_implemented(cases, what)
}
