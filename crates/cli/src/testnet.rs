//! `orrery testnet`: the dev chain on loopback, one `orrery node run` process per validator, each with
//! its own database and log file, and a summary line read from their `/health` every few seconds.
//!
//! Stopping (Ctrl-C, SIGTERM or `--for-seconds`): every node gets SIGTERM (sent with the system's
//! `kill` command, since the workspace allows no `unsafe` for `libc::kill`) and up to 10 s to stop
//! cleanly, then SIGKILL. A terminal's Ctrl-C reaches the nodes directly too (same process group).

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use orrery_keys::ValidatorKeys;

use crate::node::{health, json_peers, json_slot, testnet_spec, wait_bounded, TestnetArgs};

/// Time a node has to stop after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(10);

struct Running {
    index: u32,
    child: Child,
    rpc_port: u16,
    exited: Option<std::process::ExitStatus>,
}

pub fn run(args: TestnetArgs) -> Result<(), String> {
    if args.summary_seconds == 0 {
        return Err("--summary-seconds 0: give at least one second".into());
    }
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("orrery-testnet-{}", std::process::id())));
    let spec = testnet_spec(&args, &dir)?;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the orrery binary: {e}"))?;
    outln!("testnet in {} (chain spec {})", dir.display(), spec.display());

    let mut nodes: Vec<Running> = Vec::new();
    let started = start_all(&args, &dir, &spec, &exe, &mut nodes);
    let outcome = started.and_then(|()| watch(&args, &mut nodes));
    outln!("final {}", summary(&nodes));
    stop_all(&mut nodes);
    outln!("stopped; databases and logs stay in {}", dir.display());
    outcome
}

fn start_all(
    args: &TestnetArgs,
    dir: &std::path::Path,
    spec: &std::path::Path,
    exe: &std::path::Path,
    nodes: &mut Vec<Running>,
) -> Result<(), String> {
    for i in 0..args.validators {
        let port = args.base_port + i as u16;
        let rpc_port = args.base_rpc_port + i as u16;
        let metrics_port = args.base_metrics_port + i as u16;
        let log_path = dir.join(format!("node-{i}.log"));
        let db: PathBuf = dir.join(format!("node-{i}")).join("db");
        let log = File::options()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("{}: {e}", log_path.display()))?;
        let log_err = log.try_clone().map_err(|e| format!("{}: {e}", log_path.display()))?;
        let mut command = Command::new(exe);
        command.args(["node", "run"]);
        if args.no_tickets {
            command.arg("--no-tickets");
        }
        if let Some(server) = &args.telemetry {
            command.args(["--telemetry", server]);
        }
        // One explorer is enough: node 0's, pointed at its own RPC.
        if i == 0 {
            command.args(["--explorer-port", &args.base_explorer_port.to_string()]);
        }
        let child = command
            .arg("--chain")
            .arg(spec)
            .args(["--dev-validator", &i.to_string(), "--db"])
            .arg(&db)
            .args(["--listen", &format!("127.0.0.1:{port}"), "--rpc-port", &rpc_port.to_string()])
            .args(["--metrics-port", &metrics_port.to_string()])
            .args(["--slot-seconds", &args.slot_seconds.to_string(), "--srs"])
            .arg(&args.srs)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("starting node {i}: {e}"))?;
        outln!(
            "node {i}: pid {} quic 127.0.0.1:{port} ({}) health http://127.0.0.1:{rpc_port}/health \
             metrics http://127.0.0.1:{metrics_port}/metrics log {}",
            child.id(),
            ValidatorKeys::dev(i).peer_name(),
            log_path.display()
        );
        if i == 0 {
            outln!(
                "node 0: explorer http://127.0.0.1:{}/ (RPC ws://127.0.0.1:{rpc_port})",
                args.base_explorer_port
            );
        }
        nodes.push(Running { index: i, child, rpc_port, exited: None });
    }
    Ok(())
}

/// Prints a summary line every few seconds until the time is up or a signal comes.
fn watch(args: &TestnetArgs, nodes: &mut [Running]) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("the async runtime: {e}"))?;
    let start = Instant::now();
    let deadline = args.for_seconds.map(|s| start + Duration::from_secs(s));
    runtime.block_on(async {
        let mut stop = Box::pin(crate::node::shutdown_signal());
        loop {
            let mut wait = Duration::from_secs(args.summary_seconds);
            if let Some(deadline) = deadline {
                wait = wait.min(deadline.saturating_duration_since(Instant::now()));
            }
            tokio::select! {
                _ = &mut stop => {
                    outln!("stopping");
                    return Ok(());
                }
                _ = tokio::time::sleep(wait) => {}
            }
            for node in nodes.iter_mut() {
                if node.exited.is_none() {
                    if let Ok(Some(status)) = node.child.try_wait() {
                        // The others go on: a network outlives one node (and it may be restarted
                        // by hand on its database).
                        outln!("node {} exited ({status}); see its log", node.index);
                        node.exited = Some(status);
                    }
                }
            }
            outln!("t={:>4}s {}", start.elapsed().as_secs(), summary(nodes));
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(());
            }
        }
    })
}

/// `best a b c … | finalized a b c … | peers a b c …`, `-` for a node that does not answer.
fn summary(nodes: &[Running]) -> String {
    let healths: Vec<Option<String>> = nodes.iter().map(|n| health(n.rpc_port)).collect();
    let column = |f: &dyn Fn(&str) -> Option<String>| {
        healths
            .iter()
            .map(|h| h.as_deref().and_then(f).unwrap_or_else(|| "-".into()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "best {} | finalized {} | peers {}",
        column(&|h| json_slot(h, "best").map(|s| s.to_string())),
        column(&|h| json_slot(h, "finalized").map(|s| s.to_string())),
        column(&|h| json_peers(h).map(|p| p.to_string())),
    )
}

fn stop_all(nodes: &mut [Running]) {
    for node in nodes.iter_mut() {
        if let Ok(None) = node.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &node.child.id().to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
    for node in nodes.iter_mut() {
        if !wait_bounded(&mut node.child, STOP_GRACE) {
            let _ = node.child.kill();
            let _ = node.child.wait();
        }
    }
}
