//! Decoding work-package submissions and shares from untrusted bytes (CE 133's two messages, CE 134's
//! first): never a panic, and what decodes re-encodes to exactly the input. The first byte picks the
//! decoder. For CE 133's extrinsics the input is a package followed by the extrinsics message, so a
//! package that decodes reaches the splitter with lengths the fuzzer chose.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orrery_codec::{Decode, Decoder};
use orrery_network::message::{BundleShare, WorkPackageSubmission};
use orrery_types::WorkPackage;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    match selector % 3 {
        0 => {
            if let Ok((core, package)) = WorkPackageSubmission::decode_head(bytes) {
                let s = WorkPackageSubmission { core, package, extrinsics: vec![] };
                assert_eq!(s.encode_head(), bytes);
            }
        }
        1 => {
            let mut d = Decoder::without_lengths(bytes);
            if let Ok(package) = WorkPackage::decode(&mut d) {
                let rest = d.rest();
                if let Ok(extrinsics) = WorkPackageSubmission::decode_extrinsics(&package, rest) {
                    assert_eq!(extrinsics.len(), package.items.len());
                    let s = WorkPackageSubmission { core: 0, package, extrinsics };
                    assert_eq!(s.encode_extrinsics(), rest);
                }
            }
        }
        _ => {
            if let Ok((core, segment_roots)) = BundleShare::decode_head(bytes) {
                assert_eq!(BundleShare { core, segment_roots, bundle: vec![] }.encode_head(), bytes);
            }
        }
    }
});
