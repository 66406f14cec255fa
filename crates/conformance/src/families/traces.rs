//! `traces/<name>`: block import, step by step and from genesis (the vectors' `traces/schema.asn`).
//!
//! Each `NNNNNNNN.bin` is a step `{pre_state, block, post_state}` and one case: the block is
//! imported on the pre-state (given as its full key/value pairs) and the posterior must have the
//! step's root and exactly its key/value pairs. A step whose post-state is its pre-state holds a
//! block that must be rejected. Where `genesis.bin` is present one more case, `genesis..NNNNNNNN`,
//! imports the whole sequence from the genesis state, carrying Orrery's own posterior from block to
//! block (with the chain's headers as the ancestor set) and comparing every root.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use orrery_codec::decode_exact;
use orrery_crypto::bandersnatch::RingContext;
use orrery_import::formats::{Genesis, RawState, TraceStep};
use orrery_import::{header_hash, import_block, ChainState, ImportContext, ImportOptions};
use orrery_state::keys::{classify, KeyKind};
use orrery_state::serialization::COMPONENT_NAMES;
use orrery_state::StateKey;
use orrery_stf::reports::Ancestry;
use orrery_types::{ChainSpec, HeaderHash, TimeSlot};
use rayon::prelude::*;

use super::stf::safrole::SRS_FILE;
use crate::{files_with_extension, read, stem, CaseOutcome, Family};

/// The environment variable that names the Bandersnatch SRS file, when it is not in the vectors.
pub const SRS_ENV: &str = "ORRERY_SRS";

pub(crate) fn run(family: &Family) -> Result<Vec<CaseOutcome>, String> {
    let ctx = import_context(&family.dir, &family.spec)?;
    let files: Vec<PathBuf> = files_with_extension(&family.dir, "bin")
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|p| stem(p) != "genesis")
        .collect();
    let mut cases: Vec<CaseOutcome> = files
        .par_iter()
        .map(|bin| CaseOutcome::from_result(stem(bin), read(bin).and_then(|b| check_step(&ctx, &b))))
        .collect();
    let genesis = family.dir.join("genesis.bin");
    if genesis.is_file() {
        let last = files.last().map(|p| stem(p)).unwrap_or_default();
        cases.push(CaseOutcome::from_result(
            format!("genesis..{last}"),
            check_sequence(&ctx, &genesis, &files),
        ));
    }
    Ok(cases)
}

/// The SRS for a family folder: `$ORRERY_SRS`, else the vectors' own copy (`<root>/stf/safrole/…`).
pub fn srs_path(family_dir: &Path) -> PathBuf {
    if let Some(path) = std::env::var_os(SRS_ENV) {
        return PathBuf::from(path);
    }
    // `<root>/traces/<name>` → `<root>`.
    let root = family_dir.parent().and_then(Path::parent).unwrap_or(family_dir);
    root.join(SRS_FILE)
}

/// One ring context per ring size for the whole process: building it reads the SRS and sets up
/// the PLONK domain.
pub fn shared_ring(srs: &Path, spec: &ChainSpec) -> Result<Arc<RingContext>, String> {
    static RINGS: OnceLock<Mutex<HashMap<(PathBuf, u16), Arc<RingContext>>>> = OnceLock::new();
    let rings = RINGS.get_or_init(Default::default);
    let key = (srs.to_owned(), spec.validators_count);
    if let Some(ring) = rings.lock().map_err(|_| "ring cache poisoned")?.get(&key) {
        return Ok(ring.clone());
    }
    let ring = Arc::new(super::stf::safrole::ring_context(srs, spec)?);
    rings.lock().map_err(|_| "ring cache poisoned")?.insert(key, ring.clone());
    Ok(ring)
}

fn import_context(dir: &Path, spec: &ChainSpec) -> Result<ImportContext, String> {
    let ring = shared_ring(&srs_path(dir), spec)?;
    Ok(ImportContext::new(spec.clone(), ring))
}

fn load(spec: &ChainSpec, raw: &RawState, what: &str) -> Result<ChainState, String> {
    let state = ChainState::from_pairs(spec, raw.pairs()).map_err(|e| format!("{what}: {e}"))?;
    if state.root() != raw.state_root {
        return Err(format!(
            "{what}: the pairs' root is {}, the file says {}",
            hex::encode(state.root()),
            hex::encode(raw.state_root)
        ));
    }
    Ok(state)
}

/// One step on its own pre-state.
pub fn check_step(ctx: &ImportContext, bytes: &[u8]) -> Result<(), String> {
    let step: TraceStep = decode_exact(bytes, ctx.spec.lengths()).map_err(|e| format!("decoding: {e}"))?;
    let pre = load(&ctx.spec, &step.pre_state, "pre_state")?;
    let rejected = step.pre_state == step.post_state;
    match import_block(ctx, &pre, &step.block, &ImportOptions::default()) {
        Ok(_) if rejected => Err("the block was imported; the step expects it rejected".into()),
        Ok(imported) => compare(&imported.state, &step.post_state),
        Err(_) if rejected => Ok(()),
        Err(e) => Err(format!("the block was rejected: {e}")),
    }
}

/// The pairs of `ours` against `expected`: the root, then each differing key by what it addresses.
pub fn compare(ours: &ChainState, expected: &RawState) -> Result<(), String> {
    let mine: BTreeMap<StateKey, &[u8]> = ours.pairs().map(|(k, v)| (*k, v)).collect();
    let theirs: BTreeMap<StateKey, &[u8]> = expected.pairs().map(|(k, v)| (*k, v)).collect();
    if ours.root() == expected.state_root && mine == theirs {
        return Ok(());
    }
    let mut differences = Vec::new();
    for key in mine.keys().chain(theirs.keys()).collect::<std::collections::BTreeSet<_>>() {
        let (a, b) = (mine.get(key), theirs.get(key));
        if a != b {
            let what = describe_key(key);
            differences.push(match (a, b) {
                (Some(_), None) => format!("{what}: ours only"),
                (None, Some(_)) => format!("{what}: expected only"),
                (Some(a), Some(b)) => format!("{what}: ours {} expected {}", short(a), short(b)),
                (None, None) => unreachable!("a key from one of the maps"),
            });
        }
    }
    Err(format!(
        "post-state root {} expected {}; {} keys differ: {}",
        hex::encode(ours.root()),
        hex::encode(expected.state_root),
        differences.len(),
        differences.into_iter().take(12).collect::<Vec<_>>().join("; ")
    ))
}

fn short(bytes: &[u8]) -> String {
    if bytes.len() <= 48 {
        hex::encode(bytes)
    } else {
        format!("{}…({} bytes)", hex::encode(&bytes[..40]), bytes.len())
    }
}

/// A state key by what it addresses.
pub fn describe_key(key: &StateKey) -> String {
    match classify(key) {
        KeyKind::Component(i) => {
            let name = COMPONENT_NAMES.get(usize::from(i).wrapping_sub(1)).copied().unwrap_or("unknown");
            format!("C({i}) {name}")
        }
        KeyKind::Account(s) => format!("C(255, {s}) account"),
        KeyKind::Entry(s, _) => format!("C({s}, …) entry {}", hex::encode(key)),
    }
}

/// The headers of the chain imported so far, by hash and slot.
#[derive(Debug, Default)]
struct Headers(Vec<(HeaderHash, TimeSlot)>);

impl Ancestry for Headers {
    fn contains(&self, header: &HeaderHash, slot: TimeSlot) -> bool {
        self.0.iter().any(|(h, s)| h == header && *s == slot)
    }
}

/// The whole trace from genesis: every step's block on the state the previous ones made.
fn check_sequence(ctx: &ImportContext, genesis: &Path, steps: &[PathBuf]) -> Result<(), String> {
    let genesis: Genesis =
        decode_exact(&read(genesis)?, ctx.spec.lengths()).map_err(|e| format!("genesis: decoding: {e}"))?;
    let mut state = load(&ctx.spec, &genesis.state, "genesis")?;
    let mut headers = Headers(vec![(header_hash(&genesis.header), genesis.header.slot)]);
    for path in steps {
        let name = stem(path);
        let step: TraceStep =
            decode_exact(&read(path)?, ctx.spec.lengths()).map_err(|e| format!("{name}: decoding: {e}"))?;
        if state.root() != step.pre_state.state_root {
            return Err(format!(
                "{name}: the state before the block has root {}, the step's pre-state {}",
                hex::encode(state.root()),
                hex::encode(step.pre_state.state_root)
            ));
        }
        let rejected = step.pre_state == step.post_state;
        let options = ImportOptions { ancestry: Some(&headers), now: None };
        match import_block(ctx, &state, &step.block, &options) {
            Ok(_) if rejected => {
                return Err(format!("{name}: the block was imported; the step expects it rejected"))
            }
            Ok(imported) => {
                if imported.state.root() != step.post_state.state_root {
                    return Err(format!(
                        "{name}: {}",
                        compare(&imported.state, &step.post_state).err().unwrap_or_default()
                    ));
                }
                headers.0.push((imported.header_hash, step.block.header.slot));
                state = imported.state;
            }
            Err(_) if rejected => {}
            Err(e) => return Err(format!("{name}: the block was rejected: {e}")),
        }
    }
    Ok(())
}
