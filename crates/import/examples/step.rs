use orrery_codec::decode_exact;
use orrery_import::formats::TraceStep;
use orrery_import::*;
use orrery_types::ChainSpec;
use std::sync::Arc;
fn main() {
    let spec = ChainSpec::tiny();
    let ring = Arc::new(
        orrery_crypto::bandersnatch::RingContext::from_srs_file(
            std::path::Path::new(
                "/work/shared/vectors/jam-0.7.2/stf/safrole/zcash-srs-2-11-uncompressed.bin",
            ),
            6,
        )
        .unwrap(),
    );
    let ctx = ImportContext::new(spec.clone(), ring);
    for path in std::env::args().skip(1) {
        let step: TraceStep = decode_exact(&std::fs::read(&path).unwrap(), spec.lengths()).unwrap();
        let pre = ChainState::from_pairs(&spec, step.pre_state.pairs()).unwrap();
        for (i, k) in pre.state().staging_validators.iter().enumerate() {
            eprintln!(
                "iota[{i}] bs {} valid {} offender {}",
                hex(&k.bandersnatch),
                orrery_crypto::bandersnatch::is_valid_public(&k.bandersnatch),
                pre.state().disputes.offenders.contains(&k.ed25519)
            );
        }
        eprintln!("slot {} -> {}", pre.state().timeslot, step.block.header.slot);
        let post = ChainState::from_pairs(&spec, step.post_state.pairs()).unwrap();
        for g in &step.block.extrinsic.guarantees {
            for r in &g.report.results {
                eprintln!(
                    "report core {} service {} acc_gas {} result {:?}",
                    g.report.core_index,
                    r.service_id,
                    r.accumulate_gas,
                    std::mem::discriminant(&r.result)
                );
            }
        }
        match import_block(&ctx, &pre, &step.block, &ImportOptions::default()) {
            Ok(i) => {
                let ours = &i.state.state().statistics.services;
                let exp = &post.state().statistics.services;
                for (s, r) in exp {
                    let o = ours.get(s);
                    eprintln!(
                        "service {s}: expected acc gas {} count {} ours {:?}",
                        r.accumulate_gas_used,
                        r.accumulate_count,
                        o.map(|o| (o.accumulate_gas_used, o.accumulate_count))
                    );
                }
            }
            Err(e) => eprintln!("rejected: {e}"),
        }
    }
}
#[allow(dead_code)]
fn unused() {}
fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
