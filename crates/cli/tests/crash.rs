//! `orrery import --db` killed with SIGKILL at random moments while it imports a trace, then
//! restarted, several times over: the database must come back every time, lose no block the
//! process reported as committed, and end with the trace's last block as the best block and the
//! trace's post-state root as its state root.
//!
//! Each round waits for a random number of newly committed blocks (zero: a kill during start-up
//! or recovery) and a random few milliseconds more, so kills land inside imports, commits and
//! finalizations alike. The seed is printed; `ORRERY_CRASH_SEED` replays one.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use orrery_import::header_hash;
use orrery_store::{hex, Chain, Redb};
use orrery_testkit::{srs_path, tiny_import_context, trace_dir, trace_step};
use rand::{Rng, SeedableRng};

/// What one run of the child printed: `(header hash, slot, state root)` of each committed block,
/// and the best block it started from.
#[derive(Debug, Default)]
struct Run {
    start: Option<(String, u32)>,
    committed: Vec<(String, u32, String)>,
    finished: bool,
}

fn parse(line: &str, run: &mut Run) {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["start", "best", hash, "slot", slot, ..] => {
            run.start = Some((hash.to_string(), slot.parse().unwrap()))
        }
        ["imported", hash, "slot", slot, "state_root", root, ..] => {
            run.committed.push((hash.to_string(), slot.parse().unwrap(), root.to_string()))
        }
        ["summary:", ..] => run.finished = true,
        _ => {}
    }
}

/// Runs the child; kills it once `kill_after` more blocks are committed and `delay` has passed,
/// or after `delay` from the start when `kill_after` is 0. Returns what it printed.
fn run_child(db: &Path, trace: &Path, kill: Option<(usize, Duration)>) -> (Run, bool) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_orrery"))
        .arg("import")
        .arg("--srs")
        .arg(srs_path())
        .arg("--finality-depth")
        .arg("8")
        .arg("--db")
        .arg(db)
        .arg("--genesis")
        .arg(trace.join("genesis.bin"))
        .arg(trace)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning orrery import");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut run = Run::default();
    let mut killed = false;
    if let Some((blocks, delay)) = kill {
        let started = Instant::now();
        // Wait for the blocks (the channel ends if the child finishes first).
        while run.committed.len() < blocks {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => parse(&line, &mut run),
                Err(_) => break,
            }
        }
        let deadline = if blocks == 0 { started + delay } else { Instant::now() + delay };
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(line) => parse(&line, &mut run),
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        // `Child::kill` is SIGKILL on Unix: no destructor, no flush, no commit completes.
        killed = child.kill().is_ok();
    }
    let status = child.wait().expect("waiting for the child");
    // Whatever the child wrote before dying is still in the pipe: those blocks were committed.
    reader.join().unwrap();
    for line in rx.try_iter() {
        parse(&line, &mut run);
    }
    if !killed || status.success() {
        let mut stderr = String::new();
        if let Some(mut e) = child.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut stderr);
        }
        assert!(status.success() || killed, "orrery import failed: {status}\n{stderr}");
    }
    (run, killed && !status.success())
}

#[test]
fn import_survives_sigkill_at_random_moments() {
    let trace = trace_dir("storage");
    let seed: u64 =
        std::env::var("ORRERY_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
        });
    eprintln!("ORRERY_CRASH_SEED={seed}");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("a scratch folder");
    let db = dir.path().join("db");

    // Every block the trace holds, by header hash: its slot and post-state root.
    let mut expected: HashMap<String, (u32, String)> = HashMap::new();
    let mut last = None;
    for n in 1..=100 {
        let step = trace_step("storage", n);
        let hash = hex(&header_hash(&step.block.header));
        expected.insert(hash.clone(), (step.block.header.slot, hex(&step.post_state.state_root)));
        last = Some((hash, hex(&step.post_state.state_root)));
    }
    let (last_hash, last_root) = last.unwrap();

    let mut reported: Vec<(String, u32, String)> = Vec::new();
    let mut kills = 0;
    let mut highest_slot = 0;
    for round in 0..12 {
        let blocks = if rng.gen_bool(0.2) { 0 } else { rng.gen_range(1..=12) };
        // With no block to wait for, the kill lands during start-up (reading the SRS, opening or
        // recovering the database) or the first blocks: the whole trace imports in a few hundred
        // milliseconds, so a longer delay would mostly find the import finished.
        let delay = Duration::from_micros(if blocks == 0 {
            rng.gen_range(0..120_000)
        } else {
            rng.gen_range(0..20_000)
        });
        let (run, killed) = run_child(&db, &trace, Some((blocks, delay)));
        if let Some((_, slot)) = &run.start {
            // Nothing reported committed is lost: the chain restarts at or past it.
            assert!(*slot >= highest_slot, "round {round}: restarted at slot {slot}, below {highest_slot}");
        }
        for (hash, slot, root) in &run.committed {
            assert_eq!(expected.get(hash), Some(&(*slot, root.clone())), "round {round}: block {hash}");
            highest_slot = highest_slot.max(*slot);
        }
        eprintln!(
            "round {round}: kill after {blocks} blocks + {delay:?}: {} committed, {}",
            run.committed.len(),
            if killed { "killed" } else { "finished first" }
        );
        reported.extend(run.committed);
        kills += usize::from(killed);
        if run.finished && !killed {
            break;
        }
    }
    assert!(kills >= 3, "only {kills} kills landed");

    // A last run to the end.
    let (run, _) = run_child(&db, &trace, None);
    assert!(run.finished);
    reported.extend(run.committed.iter().cloned());

    // The store, opened here: the last block is the best, with the trace's root, and every block
    // any run reported is there with its root.
    let ctx = Arc::new(tiny_import_context());
    let chain = Chain::open(ctx, Box::new(Redb::open(&db).unwrap()), None, 8).unwrap();
    let (best, slot, root) = chain.best();
    assert_eq!(hex(&best), last_hash);
    assert_eq!(hex(&root), last_root);
    assert_eq!(slot, 100);
    for (hash, _, root) in &reported {
        let bytes: [u8; 32] = hash_from_hex(hash);
        assert_eq!(chain.state_root(&bytes).unwrap().map(|r| hex(&r)), Some(root.clone()), "block {hash}");
    }
    eprintln!("{kills} kills, {} blocks reported committed, all present", reported.len());
}

fn hash_from_hex(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}
