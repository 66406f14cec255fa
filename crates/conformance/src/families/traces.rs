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

use orrery_codec::{decode_exact, Describe};
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
use crate::json::{diff, to_json};
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
    type Rings = Mutex<HashMap<(PathBuf, u16), Arc<RingContext>>>;
    static RINGS: OnceLock<Rings> = OnceLock::new();
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
        Ok(imported) => compare(&ctx.spec, &imported.state, &step.post_state),
        Err(_) if rejected => Ok(()),
        Err(e) => Err(format!("the block was rejected: {e}")),
    }
}

/// The pairs of `ours` against `expected`: the root, then each differing key by what it addresses.
pub fn compare(spec: &ChainSpec, ours: &ChainState, expected: &RawState) -> Result<(), String> {
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
                (Some(a), Some(b)) => match component_diff(spec, key, a, b) {
                    Some(fields) => format!("{what}: {fields}"),
                    None => format!("{what}: ours {} expected {}", short(a), short(b)),
                },
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

/// A field-level difference of a component's two values, when both decode.
fn component_diff(spec: &ChainSpec, key: &StateKey, ours: &[u8], expected: &[u8]) -> Option<String> {
    let lengths = spec.lengths();
    let fields = |f: fn(&[u8], &[u8], orrery_codec::Lengths) -> Option<String>| f(ours, expected, lengths);
    fn typed<T: orrery_codec::Decode + Describe>(
        ours: &[u8],
        expected: &[u8],
        lengths: orrery_codec::Lengths,
    ) -> Option<String> {
        let (a, b) = (decode_exact::<T>(ours, lengths).ok()?, decode_exact::<T>(expected, lengths).ok()?);
        let differences = diff(&to_json(&b.describe()), &to_json(&a.describe()), 6);
        Some(differences.join(", "))
    }
    match classify(key) {
        KeyKind::Component(4) => fields(typed::<orrery_state::SafroleState>),
        KeyKind::Component(13) => fields(typed::<orrery_state::Statistics>),
        KeyKind::Component(3) => fields(typed::<orrery_state::RecentBlocks>),
        KeyKind::Component(10) => fields(typed::<orrery_state::AvailabilityAssignments>),
        KeyKind::Component(14) => fields(typed::<orrery_state::ReadyQueue>),
        KeyKind::Component(12) => fields(typed::<orrery_state::Privileges>),
        KeyKind::Account(_) => fields(typed::<orrery_state::ServiceInfo>),
        _ => None,
    }
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

/// The ancestors of a block: the headers along its parent chain, by hash and slot.
#[derive(Debug, Default)]
struct Ancestors(Vec<(HeaderHash, TimeSlot)>);

impl Ancestry for Ancestors {
    fn contains(&self, header: &HeaderHash, slot: TimeSlot) -> bool {
        self.0.iter().any(|(h, s)| h == header && *s == slot)
    }
}

/// Every block imported so far, by header hash: its slot, its parent and its posterior state.
struct Chain {
    blocks: HashMap<HeaderHash, (TimeSlot, HeaderHash, ChainState)>,
}

impl Chain {
    /// The headers from `head` back along parents, as far as the chain knows them, no older than `L`
    /// slots before `slot`.
    fn ancestors(&self, head: HeaderHash, slot: TimeSlot, spec: &ChainSpec) -> Ancestors {
        let oldest = slot.saturating_sub(spec.max_lookup_anchor_age);
        let mut out = Vec::new();
        let mut at = head;
        while let Some((s, parent, _)) = self.blocks.get(&at) {
            if *s < oldest || out.len() > self.blocks.len() {
                break;
            }
            out.push((at, *s));
            at = *parent;
        }
        Ancestors(out)
    }
}

/// The whole trace from genesis: each step's block on the state of its parent, which is the
/// previous step's block or, for the fuzzer's forks, an earlier one; every root is compared.
fn check_sequence(ctx: &ImportContext, genesis: &Path, steps: &[PathBuf]) -> Result<(), String> {
    let genesis: Genesis =
        decode_exact(&read(genesis)?, ctx.spec.lengths()).map_err(|e| format!("genesis: decoding: {e}"))?;
    let state = load(&ctx.spec, &genesis.state, "genesis")?;
    let mut chain = Chain { blocks: HashMap::new() };
    chain.blocks.insert(header_hash(&genesis.header), (genesis.header.slot, genesis.header.parent, state));
    for path in steps {
        let name = stem(path);
        let step: TraceStep =
            decode_exact(&read(path)?, ctx.spec.lengths()).map_err(|e| format!("{name}: decoding: {e}"))?;
        let header = &step.block.header;
        let Some((_, _, parent)) = chain.blocks.get(&header.parent) else {
            return Err(format!(
                "{name}: the parent {} is no block of the trace",
                hex::encode(header.parent)
            ));
        };
        if parent.root() != step.pre_state.state_root {
            return Err(format!(
                "{name}: the parent's state has root {}, the step's pre-state {}",
                hex::encode(parent.root()),
                hex::encode(step.pre_state.state_root)
            ));
        }
        let rejected = step.pre_state == step.post_state;
        let ancestors = chain.ancestors(header.parent, header.slot, &ctx.spec);
        let options = ImportOptions { ancestry: Some(&ancestors), now: None };
        match import_block(ctx, parent, &step.block, &options) {
            Ok(_) if rejected => {
                return Err(format!("{name}: the block was imported; the step expects it rejected"))
            }
            Ok(imported) => {
                if imported.state.root() != step.post_state.state_root {
                    let why = compare(&ctx.spec, &imported.state, &step.post_state).err().unwrap_or_default();
                    return Err(format!("{name}: {why}"));
                }
                chain.blocks.insert(imported.header_hash, (header.slot, header.parent, imported.state));
            }
            Err(_) if rejected => {}
            Err(e) => return Err(format!("{name}: the block was rejected: {e}")),
        }
    }
    Ok(())
}
