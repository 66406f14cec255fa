//! `protocol_parameters`: the constants blob of the `fetch` host call's selector 0 (GP 0.7.2
//! §B.5, eq. B.10's `c`), which orrery-invocation makes for the guests; a spec file carries the
//! same bytes. [`ChainSpec`] holds the paper's constants by name, with `tiny` and `full` as its
//! only values, so a blob is read back by finding the spec that makes exactly those bytes.

use orrery_invocation::general::constants;
use orrery_types::ChainSpec;

/// The blob's length in GP 0.7.2's layout (the JIP's own example, 138 bytes, is GP 0.6.7's).
pub const LENGTH: usize = 134;

/// The blob for `spec`.
pub fn encode(spec: &ChainSpec) -> Vec<u8> {
    constants(spec)
}

/// The spec whose blob `bytes` is, or why there is none.
pub fn decode(bytes: &[u8]) -> Result<ChainSpec, String> {
    if bytes.len() != LENGTH {
        return Err(format!("{} bytes, GP 0.7.2's parameters are {LENGTH}", bytes.len()));
    }
    for spec in [ChainSpec::tiny(), ChainSpec::full()] {
        if encode(&spec) == bytes {
            return Ok(spec);
        }
    }
    // Name the first parameter that differs from the nearer spec (tiny or full: the one with the
    // same `V`, else tiny), so a custom network's author sees what Orrery cannot run.
    let v = u16::from_le_bytes([bytes[92], bytes[93]]);
    let near = if v == ChainSpec::full().validators_count { ChainSpec::full() } else { ChainSpec::tiny() };
    let offset = encode(&near).iter().zip(bytes).position(|(a, b)| a != b).unwrap_or(0);
    Err(format!(
        "neither tiny's nor full's parameters (they first differ from {}'s at byte {offset}: {}); \
         Orrery runs only those two",
        near.name,
        FIELDS.iter().rev().find(|(at, _)| *at <= offset).map_or("?", |(_, name)| name)
    ))
}

/// Where each parameter starts in the blob, in the paper's order.
const FIELDS: [(usize, &str); 33] = [
    (0, "B_I"),
    (8, "B_L"),
    (16, "B_S"),
    (24, "C"),
    (26, "D"),
    (30, "E"),
    (34, "G_A"),
    (42, "G_I"),
    (50, "G_R"),
    (58, "G_T"),
    (66, "H"),
    (68, "I"),
    (70, "J"),
    (72, "K"),
    (74, "L"),
    (78, "N"),
    (80, "O"),
    (82, "P"),
    (84, "Q"),
    (86, "R"),
    (88, "T"),
    (90, "U"),
    (92, "V"),
    (94, "W_A"),
    (98, "W_B"),
    (102, "W_C"),
    (106, "W_E"),
    (110, "W_M"),
    (114, "W_P"),
    (118, "W_R"),
    (122, "W_T"),
    (126, "W_X"),
    (130, "Y"),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The tiny parameters as other JAM implementations publish them for GP 0.7.2 (the `fetch`
    /// selector 0 constants of the tiny network in jamduna's `TestParam` and in a TypeScript
    /// implementation's fetch test). Older copies carry `W_B = 13,794,305` (`017cd200`), the value
    /// before GP 0.7.2's 13,791,360.
    const PUBLISHED_TINY: &str = "0a00000000000000010000000000000064000000000000000200200000000c000000\
809698000000000080f0fa020000000000ca9a3b00000000002d31010000000008001000080003001800000003000800\
06005000040080000500060000fa00008070d20000093d0004000000000c00000204000000c0000080000000000c0000\
0a000000";

    #[test]
    fn tiny_is_the_published_blob() {
        let published = hex::decode(PUBLISHED_TINY).unwrap();
        assert_eq!(published.len(), LENGTH);
        assert_eq!(encode(&ChainSpec::tiny()), published);
        assert_eq!(decode(&published), Ok(ChainSpec::tiny()));
    }

    #[test]
    fn the_blob_is_134_bytes_and_v_sits_at_92() {
        for spec in [ChainSpec::tiny(), ChainSpec::full()] {
            let blob = encode(&spec);
            assert_eq!(blob.len(), LENGTH);
            assert_eq!(u16::from_le_bytes([blob[92], blob[93]]), spec.validators_count);
            assert_eq!(decode(&blob), Ok(spec));
        }
    }

    #[test]
    fn other_blobs_are_refused_naming_the_difference() {
        let mut blob = encode(&ChainSpec::tiny());
        blob[30] = 13; // E = 13
        let why = decode(&blob).unwrap_err();
        assert!(why.contains("byte 30: E"), "{why}");
        assert!(decode(&blob[..133]).unwrap_err().contains("133 bytes"));
        assert!(decode(&[0; 138]).unwrap_err().contains("138 bytes"));
    }
}
