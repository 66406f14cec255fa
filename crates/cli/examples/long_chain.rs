//! Writes a long chain into a node database: the dev validators of a JIP-4 chain spec (JIP-5 dev
//! seeds) author `--blocks` fallback-sealed blocks, one per slot from slot 1, and each is imported
//! into the redb store that `orrery node run --db DIR` opens, so a follower node can serve it (the
//! explorer's 100k-block measurement, `scripts/explorer-100k.sh`).
//!
//! ```text
//! cargo run --release -p orrery-cli --example long_chain -- SPEC.json SRS DIR BLOCKS
//! ```
//!
//! Blocks carry no extrinsics: what is measured is a chain's length, not its contents. The store
//! finalizes blocks 10 deep as it goes, so memory stays flat however long the chain.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use orrery_author::{author_block, posterior_safrole, Pools};
use orrery_chain_spec::JamChainSpec;
use orrery_crypto::bandersnatch::RingContext;
use orrery_import::ImportContext;
use orrery_keys::ValidatorKeys;
use orrery_state::TicketsOrKeys;
use orrery_store::{Chain, Redb, Start};

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [spec_file, srs, dir, blocks] = args.as_slice() else {
        return Err("usage: long_chain SPEC.json SRS DIR BLOCKS".into());
    };
    let blocks: u32 = blocks.parse().map_err(|e| format!("BLOCKS {blocks:?}: {e}"))?;
    let chain_spec = JamChainSpec::read(&PathBuf::from(spec_file))?;
    let spec = chain_spec.spec.clone();
    let ring = RingContext::from_srs_file(&PathBuf::from(srs), usize::from(spec.validators_count))
        .map_err(|e| format!("the SRS {srs}: {e}"))?;
    let keys: Vec<ValidatorKeys> = (0..u32::from(spec.validators_count)).map(ValidatorKeys::dev).collect();
    let dir = PathBuf::from(dir);
    let db = Redb::open(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let ring_for_import = RingContext::from_srs_file(&PathBuf::from(srs), usize::from(spec.validators_count))
        .map_err(|e| format!("the SRS {srs}: {e}"))?;
    let ctx = Arc::new(ImportContext::new(spec.clone(), Arc::new(ring_for_import)));
    let start = Start::genesis(chain_spec.genesis_header.clone(), chain_spec.genesis_state.clone());
    let mut chain = Chain::open(ctx, Box::new(db), Some(start), 10).map_err(|e| e.to_string())?;
    // The marker `orrery node run` checks: this database holds this chain.
    std::fs::write(dir.join("orrery-chain-genesis"), format!("{}\n", hex::encode(chain_spec.genesis_hash())))
        .map_err(|e| e.to_string())?;

    let started = Instant::now();
    let (mut parent, mut slot, _) = chain.best();
    for n in 1..=blocks {
        slot += 1;
        let prior = chain.state(&parent).ok_or("the best block's state is gone")?;
        let posterior =
            posterior_safrole(&spec, &ring, prior.state(), slot, &prior.state().disputes.offenders, &[])
                .map_err(|e| e.to_string())?;
        let TicketsOrKeys::Keys(sealers) = &posterior.safrole.sealing_keys else {
            return Err(format!("slot {slot} is ticket-sealed; this chain makes no tickets"));
        };
        let sealer = sealers[(slot % spec.epoch_length) as usize];
        let author = keys
            .iter()
            .find(|k| k.bandersnatch_public() == sealer)
            .ok_or_else(|| format!("slot {slot}: its sealer is not a dev validator"))?;
        let block = author_block(&spec, &ring, prior, parent, slot, author, &Pools::default())
            .map_err(|e| format!("slot {slot}: {e}"))?;
        let outcome = chain.import(&block).map_err(|e| format!("slot {slot}: {e}"))?;
        parent = outcome.hash;
        if n % 1000 == 0 || n == blocks {
            let rate = f64::from(n) / started.elapsed().as_secs_f64();
            eprintln!("{n} blocks, slot {slot}, {rate:.0} blocks/s");
        }
    }
    println!("{}", hex::encode(parent));
    Ok(())
}
