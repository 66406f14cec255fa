//! `trie`: the state-trie root (GP 0.7.2 Appendix D) of every case in `trie.json`.

use super::not_implemented;
use crate::json::read_json;
use crate::{CaseOutcome, Family};

pub(crate) fn run(family: &Family) -> Result<Vec<CaseOutcome>, String> {
    let cases = read_json(&family.dir.join("trie.json"))?;
    let count = cases.as_array().map_or(0, Vec::len);
    not_implemented((0..count).map(|i| format!("case-{i}")).collect(), "state trie (issue 2)")
}
