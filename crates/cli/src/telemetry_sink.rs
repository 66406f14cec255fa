//! `orrery telemetry-sink`: a JIP-3 telemetry server on loopback or a LAN address, printing what
//! nodes send (`orrery_telemetry::sink`). Ctrl-C stops it.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Args;
use orrery_telemetry::sink::{serve, Lines, SinkConfig};

#[derive(Debug, Args)]
pub struct SinkArgs {
    /// The address to accept JIP-3 connections on (a node's `--telemetry HOST:PORT`).
    #[arg(long, value_name = "IP:PORT")]
    listen: SocketAddr,
    /// Keep the raw stream: connection 1's bytes in FILE, connection N's in FILE.N.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// One JSON object per line instead of text.
    #[arg(long)]
    json: bool,
    /// Connections served at once; more are closed at once.
    #[arg(long, default_value_t = 64)]
    max_connections: usize,
    /// The largest message accepted, in bytes; a larger frame ends its connection.
    #[arg(long, default_value_t = 1 << 20)]
    max_frame: usize,
    /// Seconds a connection may stay silent before it is closed (a node sends a status every 2 s).
    #[arg(long, default_value_t = 60)]
    idle_seconds: u64,
}

pub fn run(args: SinkArgs) -> ExitCode {
    let listener = match TcpListener::bind(args.listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: --listen {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let local = listener.local_addr().map_or_else(|_| args.listen.to_string(), |a| a.to_string());
    eprintln!("telemetry sink listening on {local}");
    let config = SinkConfig {
        max_connections: args.max_connections.max(1),
        max_frame: args.max_frame,
        idle: Duration::from_secs(args.idle_seconds.max(1)),
        json: args.json,
        out: args.out,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let on_signal = stop.clone();
    let signals = std::thread::Builder::new().name("signals".into()).spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        rt.block_on(async {
            let _ = tokio::signal::ctrl_c().await;
        });
        on_signal.store(true, Ordering::Relaxed);
    });
    if let Err(e) = signals {
        eprintln!("error: the signal thread: {e}");
        return ExitCode::FAILURE;
    }
    let lines: Lines = Arc::new(Mutex::new(std::io::stdout()));
    match serve(listener, config, lines, stop) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
