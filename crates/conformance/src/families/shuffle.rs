//! `shuffle`: the Fisher-Yates shuffle of GP 0.7.2 Appendix E, every case of `shuffle_tests.json`:
//! the sequence `0..input` shuffled by `entropy` must equal `output`.

use serde_json::Value;

use crate::json::read_json;
use crate::{CaseOutcome, Family};

pub(crate) fn run(family: &Family) -> Result<Vec<CaseOutcome>, String> {
    let cases = read_json(&family.dir.join("shuffle_tests.json"))?;
    let cases = cases.as_array().ok_or("shuffle_tests.json is not an array")?;
    Ok(cases
        .iter()
        .enumerate()
        .map(|(i, case)| CaseOutcome::from_result(format!("case-{i}"), check(case)))
        .collect())
}

fn check(case: &Value) -> Result<(), String> {
    let n = case["input"].as_u64().ok_or("input is not a number")?;
    let n = u32::try_from(n).map_err(|_| format!("input {n} is too large"))?;
    let entropy = case["entropy"].as_str().ok_or("entropy is not a string")?;
    let entropy: [u8; 32] = hex::decode(entropy.trim_start_matches("0x"))
        .map_err(|e| format!("entropy: {e}"))?
        .try_into()
        .map_err(|_| "entropy is not 32 bytes")?;
    let expected: Vec<u64> = case["output"]
        .as_array()
        .ok_or("output is not an array")?
        .iter()
        .map(|v| v.as_u64().ok_or("output holds a non-number"))
        .collect::<Result<_, _>>()?;
    let items: Vec<u32> = (0..n).collect();
    let got: Vec<u64> = orrery_shuffle::shuffle(&items, &entropy).into_iter().map(u64::from).collect();
    if got == expected {
        Ok(())
    } else {
        Err(format!("expected {expected:?}, got {got:?}"))
    }
}
