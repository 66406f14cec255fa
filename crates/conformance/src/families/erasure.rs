//! `erasure/{tiny,full}`: encoding each blob gives the vector's shards, and the blob comes back from
//! any sufficient subset of them (GP 0.7.2 Appendix H).

use std::path::Path;

use orrery_erasure::ErasureCoder;

use crate::json::{parse_hex, read_json};
use crate::{files_with_extension, stem, CaseOutcome, Family};

pub(crate) fn run(family: &Family) -> Result<Vec<CaseOutcome>, String> {
    let coder =
        ErasureCoder::for_spec(&family.spec).map_err(|e| format!("{} spec: {e}", family.spec.name))?;
    let files = files_with_extension(&family.dir, "json").map_err(|e| e.to_string())?;
    Ok(files.iter().map(|path| CaseOutcome::from_result(stem(path), check_case(&coder, path))).collect())
}

fn check_case(coder: &ErasureCoder, path: &Path) -> Result<(), String> {
    let json = read_json(path)?;
    let data = parse_hex(json["data"].as_str().ok_or("`data` is not a string")?)?;
    let shards = json["shards"]
        .as_array()
        .ok_or("`shards` is not an array")?
        .iter()
        .map(|s| parse_hex(s.as_str().ok_or("a shard is not a string")?))
        .collect::<Result<Vec<_>, _>>()?;
    if shards.len() != coder.total_shards() {
        return Err(format!(
            "{} shards, expected one per validator ({})",
            shards.len(),
            coder.total_shards()
        ));
    }

    let chunks = coder.encode(&data).map_err(|e| format!("encode: {e}"))?;
    if let Some(i) = (0..shards.len()).find(|&i| chunks[i] != shards[i][..]) {
        return Err(format!(
            "encoded chunk {i} differs: expected 0x{}, got 0x{}",
            hex::encode(&shards[i]),
            hex::encode(&chunks[i])
        ));
    }

    let n = coder.data_shards();
    let total = coder.total_shards();
    let subsets = [("the last", (total - n..total).collect()), ("a scattered", scattered(path, n, total))];
    for (what, indices) in subsets {
        let given = indices.iter().map(|&i: &usize| (i, shards[i].as_slice()));
        let back = coder
            .reconstruct(given, data.len())
            .map_err(|e| format!("reconstruct from {what} {n} shards: {e}"))?;
        if back != data {
            return Err(format!("reconstruct from {what} {n} shards gives different data"));
        }
    }
    Ok(())
}

/// `n` distinct indices below `total`, chosen by a partial Fisher-Yates shuffle seeded from the case's
/// file name, so each case gets its own subset and every run the same one.
fn scattered(path: &Path, n: usize, total: usize) -> Vec<usize> {
    // FNV-1a of the name, then xorshift64*.
    let mut state = stem(path)
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut indices: Vec<usize> = (0..total).collect();
    for i in 0..n {
        let j = i + (next() % (total - i) as u64) as usize;
        indices.swap(i, j);
    }
    indices.truncate(n);
    indices
}
