//! `codec/{tiny,full}`: each `NAME.bin` decodes to the type its name gives, re-encodes to the same
//! bytes, and renders to the same JSON as `NAME.json`.

use std::path::Path;

use orrery_codec::{decode_exact, Describe, Encode};
use orrery_types::*;

use crate::json::{diff, read_json, to_json};
use crate::{files_with_extension, read, stem, CaseOutcome, Family};

pub(crate) fn run(family: &Family) -> Result<Vec<CaseOutcome>, String> {
    let files = files_with_extension(&family.dir, "bin").map_err(|e| e.to_string())?;
    Ok(files
        .iter()
        .map(|bin| {
            let name = stem(bin);
            CaseOutcome::from_result(name.clone(), check_file(family, &name, bin))
        })
        .collect())
}

fn check_file(family: &Family, name: &str, bin: &Path) -> Result<(), String> {
    // `header_0`, `work_result_1`: the type is the name without its numeric suffix.
    let type_name = name.trim_end_matches(|c: char| c.is_ascii_digit()).trim_end_matches('_');
    let bytes = read(bin)?;
    let json = read_json(&bin.with_extension("json"))?;
    let check = |value: orrery_codec::Value, encoded: Vec<u8>| check(&bytes, &json, value, encoded);
    macro_rules! as_type {
        ($t:ty) => {{
            let value: $t =
                decode_exact(&bytes, family.spec.lengths()).map_err(|e| format!("decode: {e}"))?;
            check(value.describe(), value.encode())
        }};
    }
    match type_name {
        "block" => as_type!(Block),
        "header" => as_type!(Header),
        "extrinsic" => as_type!(Extrinsic),
        "tickets_extrinsic" => as_type!(Vec<TicketEnvelope>),
        "preimages_extrinsic" => as_type!(Vec<Preimage>),
        "guarantees_extrinsic" => as_type!(Vec<ReportGuarantee>),
        "assurances_extrinsic" => as_type!(Vec<AvailAssurance>),
        "disputes_extrinsic" => as_type!(DisputesExtrinsic),
        "refine_context" => as_type!(RefineContext),
        "work_item" => as_type!(WorkItem),
        "work_package" => as_type!(WorkPackage),
        "work_report" => as_type!(WorkReport),
        "work_result" => as_type!(WorkResult),
        other => Err(format!("no protocol type for vector {other:?}")),
    }
}

fn check(
    bytes: &[u8],
    json: &serde_json::Value,
    value: orrery_codec::Value,
    encoded: Vec<u8>,
) -> Result<(), String> {
    if encoded != bytes {
        let at =
            encoded.iter().zip(bytes).position(|(a, b)| a != b).unwrap_or(encoded.len().min(bytes.len()));
        return Err(format!(
            "re-encoding differs at byte {at} (expected {} bytes, got {})",
            bytes.len(),
            encoded.len()
        ));
    }
    let rendered = to_json(&value);
    let differences = diff(json, &rendered, 5);
    if differences.is_empty() {
        Ok(())
    } else {
        Err(format!("decoded value differs from the JSON:\n{}", differences.join("\n")))
    }
}
