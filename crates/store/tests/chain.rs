//! The chain against the vectors' traces: every block of a trace imports through the store to the
//! trace's post-state root, a reopened store holds the same chain, forks stay apart and queryable
//! until finality prunes them, and a rejected block leaves the store as it was, byte for byte.
//!
//! Forks come from the vectors themselves: the four traces start from one genesis and share some
//! first blocks, then go different ways (`storage` and `fallback` share block 1; `preimages`
//! differs from block 1), so their blocks are real siblings.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use orrery_codec::{decode_exact, Encode};
use orrery_import::formats::TraceStep;
use orrery_import::{header_hash, ChainState, ImportContext};
use orrery_store::{Backend, Chain, Redb, Start, StoreError, Table};
use orrery_testkit::{tiny_import_context, tiny_state, trace_dir, trace_step as step};
use orrery_types::{ChainSpec, HeaderHash};

fn context() -> Arc<ImportContext> {
    static CTX: OnceLock<Arc<ImportContext>> = OnceLock::new();
    CTX.get_or_init(|| Arc::new(tiny_import_context())).clone()
}

fn genesis() -> (orrery_types::Header, ChainState) {
    let genesis = orrery_testkit::genesis("storage");
    let state = tiny_state(&genesis.state);
    assert_eq!(state.root(), genesis.state.state_root, "the genesis root");
    (genesis.header, state)
}

fn steps(trace: &str) -> usize {
    std::fs::read_dir(trace_dir(trace))
        .expect("the trace folder")
        .filter(|e| {
            e.as_ref().is_ok_and(|e| {
                e.file_name() != "genesis.bin" && e.file_name().to_string_lossy().ends_with(".bin")
            })
        })
        .count()
}

fn open(dir: &Path, finality_depth: u32) -> Chain {
    let (header, state) = genesis();
    let db = Box::new(Redb::open(dir).expect("the database"));
    Chain::open(context(), db, Some(Start::genesis(header, state)), finality_depth).expect("the chain")
}

/// Every row of every table, to compare a store with itself byte for byte.
fn snapshot(db: &dyn Backend) -> Vec<Vec<(Vec<u8>, Vec<u8>)>> {
    Table::ALL.iter().map(|t| db.scan(*t).expect("a scan")).collect()
}

fn hash(step: &TraceStep) -> HeaderHash {
    header_hash(&step.block.header)
}

/// Imports every step of a trace; a step whose post-state is its pre-state must be rejected, and
/// the rejection must leave the store as it was.
fn import_trace(chain: &mut Chain, trace: &str) -> (HeaderHash, orrery_types::StateRoot) {
    let mut last = chain.best();
    for n in 1..=steps(trace) {
        let step = step(trace, n);
        let before = snapshot(chain.backend());
        match chain.import(&step.block) {
            Ok(done) => {
                assert_ne!(
                    step.pre_state, step.post_state,
                    "{trace}/{n}: imported a block the trace rejects"
                );
                assert_eq!(done.state_root, step.post_state.state_root, "{trace}/{n}: posterior root");
                assert!(done.best, "{trace}/{n}: a trace's block extends the best chain");
                last = chain.best();
            }
            Err(StoreError::Invalid(e)) => {
                assert_eq!(step.pre_state, step.post_state, "{trace}/{n}: rejected a valid block: {e}");
                assert_eq!(
                    snapshot(chain.backend()),
                    before,
                    "{trace}/{n}: a rejected block changed the store"
                );
                assert_eq!(chain.best(), last, "{trace}/{n}: a rejected block moved the best block");
            }
            Err(e) => panic!("{trace}/{n}: {e}"),
        }
    }
    (last.0, last.2)
}

fn reopen_check(trace: &str, finality_depth: u32) {
    let dir = tempfile::tempdir().expect("a scratch folder");
    let mut chain = open(dir.path(), finality_depth);
    let (best, root) = import_trace(&mut chain, trace);
    let last = step(trace, steps(trace));
    assert_eq!(root, last.post_state.state_root, "{trace}: the last root");
    let pairs: Vec<(Vec<u8>, Vec<u8>)> =
        chain.state(&best).expect("the best state").pairs().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
    let finalized = chain.finalized();
    drop(chain);

    let chain = open(dir.path(), finality_depth);
    assert_eq!(chain.best().0, best, "{trace}: best block after reopening");
    assert_eq!(chain.best().2, root, "{trace}: best state root after reopening");
    assert_eq!(chain.finalized(), finalized, "{trace}: final block after reopening");
    let reopened: Vec<(Vec<u8>, Vec<u8>)> =
        chain.state(&best).expect("the best state").pairs().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
    assert_eq!(reopened, pairs, "{trace}: the best state after reopening");
    // Every valid block of the trace is still there, with its root; final ones included.
    for n in 1..=steps(trace) {
        let s = step(trace, n);
        if s.pre_state != s.post_state {
            assert_eq!(chain.state_root(&hash(&s)).unwrap(), Some(s.post_state.state_root), "{trace}/{n}");
            assert_eq!(
                chain.block(&hash(&s)).unwrap().map(|b| b.encode()),
                Some(s.block.encode()),
                "{trace}/{n}"
            );
        }
    }
}

#[test]
fn storage_trace_imports_and_reopens() {
    reopen_check("storage", 8);
}

#[test]
fn preimages_trace_imports_and_reopens() {
    reopen_check("preimages", 8);
}

#[test]
fn safrole_trace_imports_and_reopens() {
    // Nothing final but the genesis: the reopened chain rebuilds every block's state from diffs.
    reopen_check("safrole", 1000);
}

#[test]
fn fallback_trace_imports_and_reopens() {
    // Each block final at once: the base state moves every block.
    reopen_check("fallback", 0);
}

#[test]
fn forks_stay_apart_until_finality_prunes_them() {
    let dir = tempfile::tempdir().expect("a scratch folder");
    let mut chain = open(dir.path(), 100);
    let genesis_hash = chain.genesis();
    let storage: Vec<TraceStep> = (1..=4).map(|n| step("storage", n)).collect();
    let fallback: Vec<TraceStep> = (1..=6).map(|n| step("fallback", n)).collect();
    let preimages_1 = step("preimages", 1);
    // The premise: the traces share block 1 and part there.
    assert_eq!(hash(&storage[0]), hash(&fallback[0]));
    assert_ne!(hash(&storage[1]), hash(&fallback[1]));
    assert_eq!(fallback[1].block.header.parent, hash(&storage[0]));
    assert_eq!(preimages_1.block.header.parent, genesis_hash);
    assert_ne!(hash(&preimages_1), hash(&storage[0]));

    for s in &storage {
        assert!(chain.import(&s.block).unwrap().best);
    }
    let storage_head = hash(&storage[3]);
    assert_eq!(chain.best().0, storage_head);

    // A sibling of the genesis' child: its own branch, not the best one.
    let done = chain.import(&preimages_1.block).unwrap();
    assert!(!done.best);
    assert_eq!(done.state_root, preimages_1.post_state.state_root);
    assert_eq!(chain.best().0, storage_head);

    // Fallback's blocks 2.. on storage's block 1: a branch that overtakes once its slot is later.
    for f in &fallback[1..] {
        let done = chain.import(&f.block).unwrap();
        assert_eq!(done.state_root, f.post_state.state_root);
        assert_eq!(
            done.best,
            f.block.header.slot > chain_slot(&storage[3]).max(prior_best_slot(&fallback, f))
        );
    }
    let fallback_head = hash(&fallback[5]);
    assert!(fallback[5].block.header.slot > storage[3].block.header.slot, "the premise: fallback ends later");
    assert_eq!(chain.best().0, fallback_head);
    assert_eq!(chain.best().2, fallback[5].post_state.state_root);

    // Every branch is there by header hash: root, block and state.
    let every: Vec<&TraceStep> = storage.iter().chain(&fallback[1..]).chain([&preimages_1]).collect();
    let check_all = |chain: &Chain| {
        for s in &every {
            let h = hash(s);
            assert_eq!(chain.state_root(&h).unwrap(), Some(s.post_state.state_root));
            assert_eq!(chain.block(&h).unwrap().map(|b| b.encode()), Some(s.block.encode()));
            assert_eq!(chain.state(&h).map(|st| st.root()), Some(s.post_state.state_root));
        }
    };
    check_all(&chain);
    drop(chain);

    // Reopened, with a finality depth that makes fallback's block 4 final at the next import.
    let mut chain = open(dir.path(), 2);
    assert_eq!(chain.best().0, fallback_head);
    assert_eq!(chain.finalized(), genesis_hash);
    check_all(&chain);

    // A block of a branch still alive imports onto it: storage's head is not pruned yet.
    assert!(chain.contains(&storage_head));
    let fallback_7 = step("fallback", 7);
    assert!(chain.import(&fallback_7.block).unwrap().best);
    assert_eq!(chain.finalized(), hash(&fallback[4]));

    // The forks off the final chain are gone: from memory, from disk, and after reopening.
    let pruned: Vec<HeaderHash> = storage[1..].iter().chain([&preimages_1]).map(hash).collect();
    let kept: Vec<&TraceStep> = fallback.iter().chain([&fallback_7]).collect();
    let check_pruned = |chain: &Chain| {
        for h in &pruned {
            assert!(!chain.contains(h));
            assert_eq!(chain.state_root(h).unwrap(), None);
            assert_eq!(chain.block(h).unwrap().map(|b| b.encode()), None);
            assert!(chain.state(h).is_none());
        }
        for s in &kept {
            assert_eq!(chain.state_root(&hash(s)).unwrap(), Some(s.post_state.state_root));
        }
        // States are kept from the final block on.
        assert!(chain.state(&hash(&fallback[3])).is_none());
        assert_eq!(
            chain.state(&hash(&fallback[4])).map(|s| s.root()),
            Some(fallback[4].post_state.state_root)
        );
    };
    check_pruned(&chain);
    // A pruned branch takes no more blocks.
    assert!(matches!(chain.import(&step("storage", 5).block), Err(StoreError::UnknownParent(_))));
    // A block on a final block below the final one (fallback[3]) is told apart from one on an
    // unknown parent: a sibling of fallback[4], made by changing its seal (so its hash differs).
    let mut below = fallback[4].block.clone();
    below.header.seal[0] ^= 1;
    assert_eq!(below.header.parent, hash(&fallback[3]));
    match chain.import(&below) {
        Err(StoreError::BelowFinalized { parent, finalized }) => {
            assert_eq!(parent, orrery_store::hex(&hash(&fallback[3])));
            assert_eq!(finalized, orrery_store::hex(&hash(&fallback[4])));
        }
        other => panic!("expected BelowFinalized, got {other:?}"),
    }
    drop(chain);
    let chain = open(dir.path(), 2);
    assert_eq!(chain.best().0, hash(&fallback_7));
    check_pruned(&chain);
}

fn chain_slot(s: &TraceStep) -> u32 {
    s.block.header.slot
}

/// The slot of the best block before `f` is imported, in the fork test: fallback's earlier blocks
/// from 2 on are the only ones that can have overtaken storage's head.
fn prior_best_slot(fallback: &[TraceStep], f: &TraceStep) -> u32 {
    fallback[1..].iter().take_while(|g| !std::ptr::eq(*g, f)).map(chain_slot).max().unwrap_or(0)
}

#[test]
fn rejected_block_leaves_store_as_it_was() {
    let dir = tempfile::tempdir().expect("a scratch folder");
    let mut chain = open(dir.path(), 2);
    for n in 1..=4 {
        chain.import(&step("storage", n).block).unwrap();
    }
    let best = chain.best();
    let before = snapshot(chain.backend());
    let finalized = chain.finalized();

    let good = step("storage", 5);
    // The header's slot, changed after sealing: the seal no longer verifies.
    let mut bad = good.block.clone();
    bad.header.slot += 1;
    assert!(matches!(chain.import(&bad), Err(StoreError::Invalid(_))));
    // An extrinsic that is not the one the header commits to.
    let mut bad = good.block.clone();
    bad.extrinsic.preimages.clear();
    bad.extrinsic.guarantees.clear();
    bad.extrinsic.assurances.clear();
    if bad.extrinsic != good.block.extrinsic {
        assert!(matches!(chain.import(&bad), Err(StoreError::Invalid(_))));
    }
    // The parent state root of another block.
    let mut bad = good.block.clone();
    bad.header.parent_state_root = step("storage", 3).post_state.state_root;
    assert!(matches!(chain.import(&bad), Err(StoreError::Invalid(_))));
    // A block already in the chain.
    assert!(matches!(chain.import(&step("storage", 4).block), Err(StoreError::AlreadyImported(_))));

    assert_eq!(snapshot(chain.backend()), before);
    assert_eq!(chain.best(), best);
    assert_eq!(chain.finalized(), finalized);
    drop(chain);
    let mut chain = open(dir.path(), 2);
    assert_eq!(chain.best(), best);
    // The genuine block still imports.
    assert_eq!(chain.import(&good.block).unwrap().state_root, good.post_state.state_root);
}

#[test]
fn other_genesis_and_empty_database_are_errors() {
    let dir = tempfile::tempdir().expect("a scratch folder");
    let db = Box::new(Redb::open(dir.path()).unwrap());
    assert!(matches!(Chain::open(context(), db, None, 2), Err(StoreError::Empty)));
    drop(open(dir.path(), 2));
    let (mut header, state) = genesis();
    header.slot += 1;
    let db = Box::new(Redb::open(dir.path()).unwrap());
    assert!(matches!(
        Chain::open(context(), db, Some(Start::genesis(header, state)), 2),
        Err(StoreError::OtherGenesis)
    ));
    // Without a genesis, the chain in the database is the one opened.
    let db = Box::new(Redb::open(dir.path()).unwrap());
    assert!(Chain::open(context(), db, None, 2).is_ok());
}

#[test]
fn chain_starts_from_a_trace_steps_pre_state() {
    let dir = tempfile::tempdir().expect("a scratch folder");
    let first = step("preimages", 40);
    let state = tiny_state(&first.pre_state);
    assert_eq!(state.root(), first.pre_state.state_root);
    let start = Start::anchor(first.block.header.parent, state);
    let db = Box::new(Redb::open(dir.path()).unwrap());
    let mut chain = Chain::open(context(), db, Some(start.clone()), 4).unwrap();
    for n in 40..=60 {
        let s = step("preimages", n);
        assert_eq!(chain.import(&s.block).unwrap().state_root, s.post_state.state_root, "preimages/{n}");
    }
    drop(chain);
    let db = Box::new(Redb::open(dir.path()).unwrap());
    let chain = Chain::open(context(), db, Some(start), 4).unwrap();
    assert_eq!(chain.best().2, step("preimages", 60).post_state.state_root);
}

/// The conformance fuzzer's 0.7.2 report traces, from `$JAM_CONFORMANCE_DIR/fuzz-reports/0.7.2/
/// traces` when that checkout of davxy/jam-conformance holds them (nothing of them is in this
/// repository): each trace through one chain, started from its first step's pre-state. They hold
/// forks (blocks whose parent is not the best block) and invalid blocks; every step must end as
/// the trace says.
#[test]
#[ignore = "needs the fuzzer's report traces (fuzz-reports/0.7.2/traces, 1.4 GB): JAM_CONFORMANCE_DIR=<a davxy/jam-conformance checkout> cargo test -- --ignored"]
fn fuzz_report_traces_through_the_chain() {
    let dir = orrery_testkit::fuzz_report_traces_dir();
    // Each trace's steps in file-name order; a trace's genesis.bin is its first step's pre-state
    // with a header, so the steps suffice.
    let sorted = |dir: &Path| {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        paths.sort();
        paths
    };
    let traces: Vec<(String, Vec<PathBuf>)> = sorted(&dir)
        .into_iter()
        .filter(|path| path.is_dir())
        .map(|trace| {
            let name = trace.file_name().unwrap().to_string_lossy().into_owned();
            let steps = sorted(&trace)
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "bin") && !p.ends_with("genesis.bin"))
                .collect();
            (name, steps)
        })
        .collect();
    let spec = ChainSpec::tiny();
    let (mut runs, mut forks, mut rejected) = (0, 0, 0);
    for (name, files) in &traces {
        let steps: Vec<TraceStep> = files
            .iter()
            .map(|path| decode_exact(&std::fs::read(path).unwrap(), spec.lengths()).expect("a trace step"))
            .collect();
        let Some(first) = steps.first() else { continue };
        let state = tiny_state(&first.pre_state);
        let start = Start::anchor(first.block.header.parent, state);
        let mut chain =
            Chain::open(context(), Box::new(Redb::in_memory().unwrap()), Some(start), 24).unwrap();
        for (n, step) in steps.iter().enumerate() {
            match chain.import(&step.block) {
                Ok(done) => {
                    assert_ne!(
                        step.pre_state, step.post_state,
                        "{name}/{n}: imported a block the trace rejects"
                    );
                    assert_eq!(done.state_root, step.post_state.state_root, "{name}/{n}");
                    forks += usize::from(!done.best);
                }
                Err(StoreError::Invalid(e)) => {
                    assert_eq!(step.pre_state, step.post_state, "{name}/{n}: rejected a valid block: {e}");
                    rejected += 1;
                }
                Err(e) => panic!("{name}/{n}: {e}"),
            }
        }
        runs += 1;
    }
    eprintln!("{runs} fuzzer traces through the chain: {forks} blocks imported off the best chain, {rejected} rejected");
    assert!(runs > 100, "only {runs} traces in the copy");
    assert!(forks > 0 && rejected > 0);
}

#[test]
fn shards_survive_a_restart_and_are_pruned() {
    let dir = tempfile::tempdir().expect("a scratch folder");
    let (a, b) = ([0xaa; 32], [0xbb; 32]);
    {
        let chain = open(dir.path(), 2);
        let rows = vec![(b, 1, b"b1".to_vec()), (a, 300, b"a300".to_vec()), (a, 2, b"a2".to_vec())];
        chain.put_shards(&rows).expect("kept");
        assert_eq!(chain.shard(&a, 2).expect("read"), Some(b"a2".to_vec()));
        assert_eq!(chain.shard(&a, 1).expect("read"), None);
    }
    let chain = open(dir.path(), 2);
    // Back after reopening, ordered by root then index (300 after 2: the index is big-endian).
    let kept = chain.shards().expect("scan");
    let keys: Vec<([u8; 32], u16)> = kept.iter().map(|(r, i, _)| (*r, *i)).collect();
    assert_eq!(keys, vec![(a, 2), (a, 300), (b, 1)]);
    assert_eq!(kept[1].2, b"a300".to_vec());
    chain.remove_shards(&[(a, 2), (a, 300)]).expect("pruned");
    assert_eq!(chain.shards().expect("scan").len(), 1);
    assert_eq!(chain.shard(&a, 300).expect("read"), None);
}

/// Whether a trace step's posterior state holds `package` as accumulated (ξ) or queued for
/// accumulation (ω): the state's own record that the package's report became available.
fn past_availability(step: &TraceStep, package: &[u8; 32]) -> bool {
    let state = tiny_state(&step.post_state);
    let s = state.state();
    s.accumulated.0.iter().flatten().any(|h| h == package)
        || s.ready_queue.0.iter().flatten().any(|r| r.report.package_spec.hash == *package)
}

/// Every package the storage trace guarantees is marked where the trace says: reported in the
/// block whose guarantees carry it (that block's hash, slot and the guarantee's core), available
/// in the first block whose posterior state holds it in ξ or ω; nothing is answered for a chain
/// that ends before the mark, and the marks outlive a reopening.
#[test]
fn package_marks_follow_the_trace_and_outlive_a_reopening() {
    use orrery_store::PackageStage;
    let trace = "storage";
    let dir = tempfile::tempdir().expect("a scratch folder");
    let mut chain = open(dir.path(), 4);
    let (best, _) = import_trace(&mut chain, trace);
    let steps: Vec<TraceStep> = (1..=steps(trace)).map(|n| step(trace, n)).collect();
    let mut checked = (0, 0);
    for check in [false, true] {
        if check {
            drop(chain);
            chain = open(dir.path(), 4);
        }
        for (k, s) in steps.iter().enumerate() {
            if s.pre_state == s.post_state {
                continue;
            }
            for g in &s.block.extrinsic.guarantees {
                let package = g.report.package_spec.hash;
                let marks = chain.package_marks(&package, &best).unwrap();
                assert!(!marks.is_empty(), "{trace}/{}: no mark for a guaranteed package", k + 1);
                let reported = marks[0];
                assert_eq!(reported.stage, PackageStage::Reported);
                assert_eq!((reported.block, reported.slot), (hash(s), s.block.header.slot));
                assert_eq!(reported.core, g.report.core_index);
                assert_eq!(reported.report_hash, orrery_crypto::blake2b_256(&g.report.encode()));
                let available = steps[k + 1..].iter().find(|later| past_availability(later, &package));
                match available {
                    Some(later) => {
                        assert_eq!(marks.len(), 2, "{trace}/{}: {marks:?}", k + 1);
                        assert_eq!(marks[1].stage, PackageStage::Available);
                        assert_eq!((marks[1].block, marks[1].slot), (hash(later), later.block.header.slot));
                        assert_eq!(
                            (marks[1].core, marks[1].report_hash),
                            (reported.core, reported.report_hash)
                        );
                        checked.1 += 1;
                    }
                    None => assert_eq!(marks.len(), 1, "{trace}/{}: {marks:?}", k + 1),
                }
                // The chain as it stood before the guarantee knows nothing of it.
                assert_eq!(chain.package_marks(&package, &s.block.header.parent).unwrap(), vec![]);
                checked.0 += 1;
            }
        }
    }
    assert!(checked.0 >= 10 && checked.1 >= 5, "too few packages in the trace to say much: {checked:?}");
    assert_eq!(chain.package_marks(&[0xee; 32], &best).unwrap(), vec![], "an unknown package");
}

#[test]
fn warp_fragments_are_read_from_a_set_on_and_at_most_as_many_as_asked_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let chain = open(dir.path(), 1);
    assert_eq!(chain.warp_since().unwrap(), None);
    for set in [3u32, 4, 5, 300, 70_000] {
        chain.put_warp_fragment(set, vec![set as u8; 3], &[set as u8; 32]).unwrap();
    }
    let ids = |from, limit| -> Vec<u32> {
        chain.warp_fragments(from, limit).unwrap().into_iter().map(|(id, _)| id).collect()
    };
    // Big-endian keys: numeric order, past a byte boundary too.
    assert_eq!(ids(0, 10), [3, 4, 5, 300, 70_000]);
    assert_eq!(ids(4, 2), [4, 5]);
    assert_eq!(ids(6, 10), [300, 70_000]);
    assert_eq!(ids(70_001, 10), Vec::<u32>::new());
    assert_eq!(chain.warp_fragments(5, 1).unwrap(), vec![(5, vec![5; 3])]);
    drop(chain);
    let chain = open(dir.path(), 1);
    assert_eq!(chain.warp_since().unwrap(), Some([70_000u32 as u8; 32]));
    assert_eq!(chain.warp_fragments(300, 1).unwrap(), vec![(300, vec![300u32 as u8; 3])]);
}
