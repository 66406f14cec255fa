//! `orrery import`: a chain's start and blocks from files, one line per block (header hash, slot,
//! state root, import time), a summary at the end, optionally kept in a database that a later run
//! continues from.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use orrery_chain_spec::JamChainSpec;
use orrery_codec::decode_exact;
use orrery_crypto::bandersnatch::RingContext;
use orrery_import::formats::{BlockFile, Genesis, RawState, TraceStep};
use orrery_import::{header_hash, ChainState, ImportContext};
use orrery_store::{hex, Chain, Redb, Start, StoreError};
use orrery_types::{ChainSpec, HeaderHash};

use crate::Node;

/// What `orrery import` was asked to do.
#[derive(Debug)]
pub struct Request<'a> {
    pub genesis: Option<&'a Path>,
    /// A JIP-4 chain spec: the start and the parameters.
    pub chain: Option<&'a Path>,
    pub db: Option<&'a Path>,
    pub finality_depth: u32,
    pub blocks: &'a [PathBuf],
}

pub fn run(node: &Node, request: &Request<'_>) -> ExitCode {
    // Blocks are imported on a pool of their own so each block's halves start without waiting
    // for a thread to wake (see `on_import_pool`).
    match orrery_import::on_import_pool("import", || import(node, request)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The block files: each path as given, a folder as its `.bin` files (but `genesis.bin`) in name
/// order.
fn block_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().is_some_and(|x| x == "bin") && p.file_stem().is_some_and(|s| s != "genesis")
                })
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(format!("{}: no .bin files in the folder", path.display()));
            }
            out.extend(files);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// A state given as key/value pairs, checked against the root that came with it.
fn state_of(spec: &ChainSpec, raw: &RawState, path: &Path) -> Result<ChainState, String> {
    let state = ChainState::from_pairs(spec, raw.pairs())
        .map_err(|e| format!("{}: the state: {e}", path.display()))?;
    if state.root() != raw.state_root {
        return Err(format!(
            "{}: the state's root is {}, the file says {}",
            path.display(),
            hex(&state.root()),
            hex(&raw.state_root)
        ));
    }
    Ok(state)
}

/// The start of the chain from `--genesis`: a `{header, state}` genesis, a trace step (its
/// pre-state, as the state of the step's block's parent), or a bare `{state_root, keyvals}` state
/// (as the state of the first block's parent).
fn start_of(spec: &ChainSpec, path: &Path, first_block: Option<&Path>) -> Result<Start, String> {
    let bytes = read(path)?;
    let lengths = spec.lengths();
    if let Ok(genesis) = decode_exact::<Genesis>(&bytes, lengths) {
        let state = state_of(spec, &genesis.state, path)?;
        return Ok(Start::genesis(genesis.header, state));
    }
    if let Ok(step) = decode_exact::<TraceStep>(&bytes, lengths) {
        let state = state_of(spec, &step.pre_state, path)?;
        return Ok(Start::anchor(step.block.header.parent, state));
    }
    match decode_exact::<RawState>(&bytes, lengths) {
        Ok(raw) => {
            let state = state_of(spec, &raw, path)?;
            let first = first_block.ok_or_else(|| {
                format!("{}: a bare state needs a first block to say whose state it is", path.display())
            })?;
            let file = BlockFile::decode(spec, &read(first)?)
                .map_err(|e| format!("{}: neither a trace step nor a block: {e}", first.display()))?;
            Ok(Start::anchor(file.block().header.parent, state))
        }
        Err(e) => Err(format!(
            "{}: neither a genesis {{header, state}}, a trace step, nor a state {{state_root, keyvals}}: {e}",
            path.display()
        )),
    }
}

/// Times in milliseconds: count, mean, 99th percentile (nearest rank), largest.
fn summary(times: &[Duration]) -> String {
    if times.is_empty() {
        return "none".into();
    }
    let mut ms: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let mean = ms.iter().sum::<f64>() / ms.len() as f64;
    let rank = (ms.len() * 99).div_ceil(100).max(1);
    format!("mean {mean:.3} ms, p99 {:.3} ms, max {:.3} ms", ms[rank - 1], ms[ms.len() - 1])
}

/// Imports; `Ok(false)` when a trace step's outcome differed from the trace's.
fn import(node: &Node, request: &Request<'_>) -> Result<bool, String> {
    let files = block_files(request.blocks)?;
    if request.genesis.is_none() && request.chain.is_none() && request.db.is_none() {
        return Err(
            "nothing to start from: give --genesis FILE, --chain FILE, or --db DIR holding a chain".into()
        );
    }
    let chain_spec = request.chain.map(JamChainSpec::read).transpose()?;
    let ctx = match &chain_spec {
        Some(chain) => {
            let ring = RingContext::from_srs_file(&node.srs, usize::from(chain.spec.validators_count))
                .map_err(|e| format!("the Bandersnatch SRS (--srs or ORRERY_SRS): {e}"))?;
            ImportContext::new(chain.spec.clone(), Arc::new(ring))
        }
        None => node.context()?,
    };
    let ctx = Arc::new(ctx);
    let spec = ctx.spec.clone();
    let start = match (request.genesis, chain_spec) {
        (Some(path), _) => Some(start_of(&spec, path, files.first().map(PathBuf::as_path))?),
        (None, Some(chain)) => Some(Start::genesis(chain.genesis_header, chain.genesis_state)),
        (None, None) => None,
    };
    let backend = match request.db {
        Some(dir) => Redb::open(dir).map_err(|e| format!("the database in {}: {e}", dir.display()))?,
        None => Redb::in_memory().map_err(|e| e.to_string())?,
    };
    let mut chain =
        Chain::open(ctx, Box::new(backend), start, request.finality_depth).map_err(|e| match e {
            StoreError::Empty => "the database holds no chain yet: give --genesis FILE".to_string(),
            e => e.to_string(),
        })?;
    let (best, slot, root) = chain.best();
    outln!("start best {} slot {slot} state_root {}", hex(&best), hex(&root));

    let (mut import_times, mut commit_times) = (Vec::new(), Vec::new());
    let (mut rejected, mut skipped, mut mismatches) = (0usize, 0usize, 0usize);
    for path in &files {
        let name = path.display();
        let file = BlockFile::decode(&spec, &read(path)?)
            .map_err(|e| format!("{name}: neither a trace step nor a block: {e}"))?;
        let block = file.block();
        // What the trace says should happen: the post-state root, or a rejection (post = pre).
        let expected = match &file {
            BlockFile::Step(step) if step.pre_state == step.post_state => Some(None),
            BlockFile::Step(step) => Some(Some(step.post_state.state_root)),
            BlockFile::Block(_) => None,
        };
        let hash: HeaderHash = header_hash(&block.header);
        match chain.import(block) {
            Ok(done) => {
                import_times.push(done.import_time);
                commit_times.push(done.commit_time);
                outln!(
                    "imported {} slot {} state_root {} import {:.3} ms commit {:.3} ms{}",
                    hex(&done.hash),
                    done.slot,
                    hex(&done.state_root),
                    done.import_time.as_secs_f64() * 1e3,
                    done.commit_time.as_secs_f64() * 1e3,
                    if done.best { "" } else { " fork" }
                );
                match expected {
                    Some(Some(root)) if root != done.state_root => {
                        mismatches += 1;
                        outln!("  {name}: the trace's post-state root is {}", hex(&root));
                    }
                    Some(None) => {
                        mismatches += 1;
                        outln!("  {name}: the trace rejects this block");
                    }
                    _ => {}
                }
            }
            Err(StoreError::AlreadyImported(_)) => {
                skipped += 1;
                outln!("already {} ({name})", hex(&hash));
            }
            Err(StoreError::Invalid(e)) => {
                rejected += 1;
                outln!("rejected {} slot {} ({name}): {e}", hex(&hash), block.header.slot);
                if let Some(Some(_)) = expected {
                    mismatches += 1;
                    outln!("  {name}: the trace imports this block");
                }
            }
            Err(e @ (StoreError::UnknownParent(_) | StoreError::BelowFinalized { .. })) => {
                rejected += 1;
                outln!("orphan {} slot {} ({name}): {e}", hex(&hash), block.header.slot);
                // A trace step names its parent through its pre-state; a block that finds no
                // parent was not checked against the trace at all, whatever the trace expects.
                if expected.is_some() {
                    mismatches += 1;
                    outln!("  {name}: the trace step could not be checked: its parent is not in this chain");
                }
            }
            Err(e) => return Err(format!("{name}: {e}")),
        }
    }
    let (best, slot, root) = chain.best();
    outln!("best {} slot {slot} state_root {}", hex(&best), hex(&root));
    outln!(
        "summary: {} imported, {rejected} rejected, {skipped} already there; import {}; commit {}",
        import_times.len(),
        summary(&import_times),
        summary(&commit_times)
    );
    outln!("{}", crate::pvm_summary());
    if mismatches > 0 {
        outln!("{mismatches} blocks did not do what their trace step says");
    }
    Ok(mismatches == 0)
}
