//! `shuffle`: the Fisher-Yates shuffle of GP 0.7.2 Appendix F, every case of `shuffle_tests.json`.

use super::not_implemented;
use crate::json::read_json;
use crate::{CaseOutcome, Family};

pub(crate) fn run(family: &Family) -> Result<Vec<CaseOutcome>, String> {
    let cases = read_json(&family.dir.join("shuffle_tests.json"))?;
    let count = cases.as_array().map_or(0, Vec::len);
    not_implemented((0..count).map(|i| format!("case-{i}")).collect(), "shuffle (issue 2)")
}
