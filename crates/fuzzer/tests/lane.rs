//! The fuzzer against real targets on real Unix sockets: Orrery's own target (in a thread, the
//! code `orrery fuzz-target` runs), a target that answers garbage, and one that hangs.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use orrery_fuzz::client::Client;
use orrery_fuzz::protocol::{read_frame, write_frame, Message};
use orrery_fuzzer::{run, Config, DriveError, Generator, Lane, RunOptions, StepKind};
use orrery_testkit::tiny_import_context;
use orrery_types::ChainSpec;

fn generator(lane: Lane, seed: u64) -> Generator {
    Generator::new(Arc::new(tiny_import_context()), Config::lane(lane, seed)).unwrap()
}

/// A socket in a fresh folder, and a thread serving one session on it with `serve`; the client's
/// end waits `timeout` for an answer.
fn target_within(
    timeout: Duration,
    serve: impl FnOnce(UnixStream) + Send + 'static,
) -> (tempfile::TempDir, UnixStream) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("target.sock");
    let listener = UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            serve(stream);
        }
    });
    let stream = UnixStream::connect(&path).unwrap();
    stream.set_read_timeout(Some(timeout)).unwrap();
    stream.set_write_timeout(Some(timeout)).unwrap();
    (dir, stream)
}

/// [`target_within`] a timeout no healthy target on a loaded machine reaches.
fn target(serve: impl FnOnce(UnixStream) + Send + 'static) -> (tempfile::TempDir, UnixStream) {
    target_within(Duration::from_secs(60), serve)
}

fn orrery_target() -> (tempfile::TempDir, UnixStream) {
    target(|mut stream| {
        let _ = orrery_fuzz::target::serve(Arc::new(tiny_import_context()), &mut stream);
    })
}

#[test]
fn a_mutations_lane_against_orrerys_target_does_not_diverge() {
    let (_dir, stream) = orrery_target();
    let mut generator = generator(Lane::Mutations, 7);
    let mut client = Client::new(stream, ChainSpec::tiny());
    let options = RunOptions { steps: 60, ..RunOptions::default() };
    let report = run(&mut generator, &mut client, &options, &mut |_| {}).unwrap();
    assert_eq!(report.progress.steps, 60);
    assert!(report.divergences.is_empty(), "{:?}", report.divergences);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert_eq!(report.target_name, "orrery");
    let counts = report.counts;
    assert!(counts.mutants > 0 && counts.blocks >= 30 && counts.work.reports > 0, "{counts:?}");
}

#[test]
fn the_same_seed_makes_the_same_chain() {
    let digest = |seed| {
        let mut g = generator(Lane::Happy, seed);
        let kinds: Vec<StepKind> = (0..40).map(|_| g.next_step().unwrap().kind).collect();
        (g.digest(), kinds, g.counts())
    };
    let (a, kinds, counts) = digest(3);
    assert_eq!(digest(3).0, a);
    assert_ne!(digest(4).0, a);
    // Forty steps on tiny cross epochs, skip slots and fork.
    assert!(counts.epochs >= 2 && counts.skipped_slots > 0, "{counts:?}");
    assert!(kinds.contains(&StepKind::Block));
}

#[test]
fn a_target_answering_garbage_is_reported_with_its_step() {
    // A handshake and Initialize answered properly (by Orrery's target code), then octets that are
    // no message.
    let (_dir, stream) = target(|mut stream| {
        let ctx = Arc::new(tiny_import_context());
        let mut session = orrery_fuzz::target::Session::new(ctx);
        for i in 0.. {
            let Ok(Some(frame)) = read_frame(&mut stream) else { return };
            let answer = match Message::decode(&ChainSpec::tiny(), &frame) {
                Ok(Message::PeerInfo(peer)) => Message::PeerInfo(session.handshake(&peer).unwrap()).encode(),
                Ok(request) if i < 3 => session.handle(request).unwrap().encode(),
                _ => vec![0xee; 7],
            };
            if write_frame(&mut stream, &answer).is_err() {
                return;
            }
        }
    });
    let mut client = Client::new(stream, ChainSpec::tiny());
    let options = RunOptions { steps: 10, ..RunOptions::default() };
    match run(&mut generator(Lane::Happy, 1), &mut client, &options, &mut |_| {}) {
        Err(DriveError::Target { step, .. }) => assert_eq!(step, 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_target_that_hangs_is_reported_within_the_timeout() {
    let (_dir, stream) = target_within(Duration::from_secs(2), |mut stream| {
        // Reads and never answers, holding the connection open.
        let mut buf = [0u8; 4096];
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
        let _ = stream.flush();
    });
    let start = Instant::now();
    let mut client = Client::new(stream, ChainSpec::tiny());
    match run(&mut generator(Lane::Happy, 1), &mut client, &RunOptions::default(), &mut |_| {}) {
        Err(DriveError::Target { step: 0, what, .. }) => assert_eq!(what, "handshake"),
        other => panic!("{other:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(10));
}

/// A written step reads back as a trace step (`orrery import` and the traces family read that
/// format), and its post-state is what importing its block on its pre-state gives; a mutant's
/// post-state is its pre-state, as the vectors mark a block to reject.
#[test]
fn steps_are_written_as_trace_steps_that_replay() {
    use orrery_import::formats::BlockFile;
    use orrery_import::{import_block, ChainState, ImportOptions};

    let config = Config { mutation_ratio: 1.0, ..Config::lane(Lane::Mutations, 2) };
    let mut generator = Generator::new(Arc::new(tiny_import_context()), config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ctx = tiny_import_context();
    let (mut valid, mut mutants) = (0, 0);
    for n in 0..12 {
        let step = generator.next_step().unwrap();
        let path = orrery_fuzzer::driver::write_trace(dir.path(), &format!("{n:08}"), &step).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let Ok(BlockFile::Step(trace)) = BlockFile::decode(&ChainSpec::tiny(), &bytes) else {
            panic!("{}: not a trace step", path.display())
        };
        let pre = ChainState::from_pairs(&ChainSpec::tiny(), trace.pre_state.pairs()).unwrap();
        assert_eq!(pre.root(), trace.pre_state.state_root);
        let imported = import_block(&ctx, &pre, &trace.block, &ImportOptions::default());
        match step.kind {
            StepKind::Mutant(_) => {
                assert_eq!(trace.post_state, trace.pre_state);
                // A mutant naming another parent is refused before import, by its parent hash.
                if step.block.header.parent == step.parent {
                    assert!(imported.is_err());
                }
                mutants += 1;
            }
            _ => {
                assert_eq!(imported.unwrap().state.root(), trace.post_state.state_root);
                valid += 1;
            }
        }
    }
    assert!(valid > 0 && mutants > 0);
}

/// A target whose first imported state differs from Orrery's in one row (it answers that state's
/// root, computed from its rows): the divergence is reported at step 1 with the row's key, from
/// the target's `get_state`, and the step written as a trace step.
#[test]
fn a_divergence_names_the_differing_keys_and_writes_the_step() {
    use orrery_import::formats::KeyValue;
    use orrery_import::pairs_root;

    let (_dir, stream) = target(|mut stream| {
        let mut session = orrery_fuzz::target::Session::new(Arc::new(tiny_import_context()));
        let mut altered: Option<Vec<KeyValue>> = None;
        while let Ok(Some(frame)) = read_frame(&mut stream) {
            let answer = match Message::decode(&ChainSpec::tiny(), &frame).unwrap() {
                Message::PeerInfo(peer) => Message::PeerInfo(session.handshake(&peer).unwrap()),
                request @ Message::ImportBlock(_) => {
                    let hash = match &request {
                        Message::ImportBlock(b) => orrery_import::header_hash(&b.header),
                        _ => unreachable!(),
                    };
                    session.handle(request).unwrap();
                    let Message::State(mut rows) = session.handle(Message::GetState(hash)).unwrap() else {
                        panic!("no state")
                    };
                    // C(1), α: the genesis' services' rows come before it in key order.
                    let alpha =
                        rows.iter().position(|kv| kv.key[0] == 1 && kv.key[1..].iter().all(|&b| b == 0));
                    rows[alpha.unwrap()].value.push(0x2a);
                    let root = pairs_root(rows.iter().map(|kv| (&kv.key, kv.value.as_slice())));
                    altered = Some(rows);
                    Message::StateRoot(root)
                }
                Message::GetState(_) => Message::State(altered.clone().unwrap()),
                request => session.handle(request).unwrap(),
            };
            if write_frame(&mut stream, &answer.encode()).is_err() {
                return;
            }
        }
    });
    let out = tempfile::tempdir().unwrap();
    let mut client = Client::new(stream, ChainSpec::tiny());
    let options = RunOptions { steps: 5, out: Some(out.path().to_owned()), ..RunOptions::default() };
    let report = run(&mut generator(Lane::Happy, 1), &mut client, &options, &mut |_| {}).unwrap();
    assert_eq!(report.progress.steps, 1, "the run stops at the divergence");
    let [d] = report.divergences.as_slice() else { panic!("{:?}", report.divergences) };
    assert_eq!(d.step, 1);
    assert_eq!(d.differing_keys.len(), 1, "{:?}", d.differing_keys);
    // C(1), α: one octet longer in the target's state.
    let (key, sizes) = d.differing_keys[0].split_once(": ").unwrap();
    assert_eq!(key, format!("01{}", "00".repeat(30)));
    let n: Vec<usize> = sizes.split(' ').filter_map(|w| w.parse().ok()).collect();
    assert_eq!(n.len(), 2, "{sizes}");
    assert_eq!(n[0] + 1, n[1], "{sizes}");
    assert!(d.trace.as_ref().unwrap().is_file());
}

/// A target that accepts every block, mutants included (it answers a made-up root where Orrery's
/// session refuses): with `keep_going_on_mutants` the run goes on to its last step, counting a
/// divergence per mutant; without, it stops at the first.
#[test]
fn a_run_keeps_going_past_mutants_a_target_accepts_when_asked() {
    let accepting = || {
        target(|mut stream| {
            let mut session = orrery_fuzz::target::Session::new(Arc::new(tiny_import_context()));
            while let Ok(Some(frame)) = read_frame(&mut stream) {
                let answer = match Message::decode(&ChainSpec::tiny(), &frame).unwrap() {
                    Message::PeerInfo(peer) => Message::PeerInfo(session.handshake(&peer).unwrap()),
                    request => match session.handle(request).unwrap() {
                        Message::Error(_) => Message::StateRoot([0x5a; 32]),
                        answer => answer,
                    },
                };
                if write_frame(&mut stream, &answer.encode()).is_err() {
                    return;
                }
            }
        })
    };
    let config = || Config { mutation_ratio: 0.5, ..Config::lane(Lane::Mutations, 3) };
    let run_with = |keep_going_on_mutants| {
        let (_dir, stream) = accepting();
        let mut generator = Generator::new(Arc::new(tiny_import_context()), config()).unwrap();
        let mut client = Client::new(stream, ChainSpec::tiny());
        let options = RunOptions { steps: 40, keep_going_on_mutants, ..RunOptions::default() };
        run(&mut generator, &mut client, &options, &mut |_| {}).unwrap()
    };
    let stopped = run_with(false);
    assert_eq!(stopped.divergences.len(), 1);
    assert!(stopped.progress.steps < 40);
    let went_on = run_with(true);
    assert_eq!(went_on.progress.steps, 40);
    assert_eq!(went_on.divergences.len() as u64, went_on.counts.mutants, "{:?}", went_on.counts);
    assert!(went_on.divergences.len() > 1);
    assert!(went_on.divergences.iter().all(|d| matches!(d.kind, StepKind::Mutant(_))));
}
