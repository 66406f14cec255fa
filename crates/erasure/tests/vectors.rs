//! Every case of the JAM 0.7.2 `erasure/{tiny,full}` vectors: encoding gives exactly the vector's
//! shards, and the data comes back from several sufficient subsets of them.

use std::path::PathBuf;

use orrery_erasure::ErasureCoder;
use orrery_types::ChainSpec;

struct Case {
    name: String,
    data: Vec<u8>,
    shards: Vec<Vec<u8>>,
}

fn vectors_dir(spec: &str) -> PathBuf {
    orrery_testkit::vectors().join("erasure").join(spec)
}

fn hex(value: &serde_json::Value) -> Vec<u8> {
    let text = value.as_str().expect("hex string");
    hex::decode(text.strip_prefix("0x").expect("0x prefix")).expect("valid hex")
}

fn cases(spec: &str) -> Vec<Case> {
    let dir = vectors_dir(spec);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("vectors folder {}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let json: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).expect("read vector")).expect("vector JSON");
            Case {
                name: path.file_stem().expect("file name").to_string_lossy().into_owned(),
                data: hex(&json["data"]),
                shards: json["shards"].as_array().expect("shards array").iter().map(hex).collect(),
            }
        })
        .collect()
}

fn check_spec(spec: ChainSpec) {
    let coder = ErasureCoder::for_spec(&spec).expect("spec's code");
    let cases = cases(spec.name);
    assert_eq!(cases.len(), 6, "{}: expected the six vector cases", spec.name);
    for case in cases {
        let label = format!("{}/{}", spec.name, case.name);
        assert_eq!(case.shards.len(), coder.total_shards(), "{label}: one shard per validator");

        let chunks = coder.encode(&case.data).unwrap_or_else(|e| panic!("{label}: encode: {e}"));
        assert_eq!(chunks.to_vecs(), case.shards, "{label}: encoded chunks differ from the vector's shards");

        let n = coder.data_shards();
        let total = coder.total_shards();
        let subsets: Vec<(&str, Vec<usize>)> = vec![
            ("first", (0..n).collect()),
            ("last", (total - n..total).collect()),
            // A stride of 5 is coprime to 6 and to 1,023, so these are distinct and mix both kinds.
            ("spread", (0..n).map(|i| (i * 5 + 3) % total).collect()),
            ("all", (0..total).rev().collect()),
        ];
        for (what, indices) in subsets {
            let given = indices.iter().map(|&i| (i, case.shards[i].as_slice()));
            let back = coder
                .reconstruct(given, case.data.len())
                .unwrap_or_else(|e| panic!("{label}: reconstruct from {what} chunks: {e}"));
            assert_eq!(back, case.data, "{label}: reconstruct from {what} chunks");
        }
    }
}

#[test]
fn tiny_vectors() {
    check_spec(ChainSpec::tiny());
}

#[test]
fn full_vectors() {
    check_spec(ChainSpec::full());
}
