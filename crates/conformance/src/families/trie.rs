//! `trie`: the state-trie root (GP 0.7.2 Appendix D) of every case in `trie.json`.
//!
//! Each case maps 32-byte hex keys to hex values; the trie takes the first 31 bytes of each key,
//! as the paper's state keys are 31 bytes long. The output is the expected root.

use orrery_merkle::trie::{root, Key};
use serde_json::Value as Json;

use crate::json::{parse_hex, read_json};
use crate::{CaseOutcome, Family};

pub(crate) fn run(family: &Family) -> Result<Vec<CaseOutcome>, String> {
    let cases = read_json(&family.dir.join("trie.json"))?;
    let cases = cases.as_array().ok_or("trie.json: expected an array of cases")?;
    Ok(cases
        .iter()
        .enumerate()
        .map(|(i, case)| CaseOutcome::from_result(format!("case-{i}"), check(case)))
        .collect())
}

fn check(case: &Json) -> Result<(), String> {
    let input = case["input"].as_object().ok_or("input: expected an object")?;
    let mut pairs = Vec::with_capacity(input.len());
    for (key, value) in input {
        let key = parse_hex(key)?;
        let key: Key = key
            .get(..31)
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| format!("key of {} bytes, expected at least 31", key.len()))?;
        let value = parse_hex(value.as_str().ok_or("value: expected a hex string")?)?;
        pairs.push((key, value));
    }
    let expected = parse_hex(case["output"].as_str().ok_or("output: expected a hex string")?)?;
    let actual = root(pairs).map_err(|e| e.to_string())?;
    if actual[..] == expected[..] {
        Ok(())
    } else {
        Err(format!("root: expected 0x{} got 0x{}", hex::encode(&expected), hex::encode(actual)))
    }
}
