//! `orrery node run`: one node process, the protocol core (`orrery-node`) over QUIC
//! (`orrery-node-quic`) with its store on disk; and `orrery testnet`: a loopback network of such
//! processes.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use orrery_chain_spec::{Bootnode, JamChainSpec};
use orrery_crypto::bandersnatch::RingContext;
use orrery_import::ImportContext;
use orrery_keys::ValidatorKeys;
use orrery_network::message::BlockRef;
use orrery_network::{Alpn, Identity};
use orrery_node::warp::TrustedSet;
use orrery_node::{Node, NodeConfig, NodeOptions, PeerId};
use orrery_node_quic::state_sync::{fetch_finalized_state, Synced};
use orrery_node_quic::DriverConfig;
use orrery_store::{Chain, Redb, Start, StoreError};
use orrery_types::ChainSpec;

use crate::chain_spec::build_dev;
use crate::DEFAULT_SRS;
use orrery_chain_spec::dev::DEV_BASE_PORT;

/// The first QUIC port of a dev network: validator N listens on 40000 + N.
pub const DEV_PORT: u16 = 40_000;
/// The first health/RPC port of a dev network: validator N serves on 19800 + N.
pub const DEV_RPC_PORT: u16 = 19_800;
/// The explorer's port on a dev network (node 0's).
pub const DEV_EXPLORER_PORT: u16 = 19_700;
/// The dev nodes' first Prometheus metrics port (`orrery testnet`; node i: this + i).
pub const DEV_METRICS_PORT: u16 = 19_900;

#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Run a node: author (as a validator), announce, sync and finalize blocks over JAMNP-S.
    ///
    /// Logs go to standard error (level from ORRERY_LOG: error, warn, info, debug or trace; info by
    /// default), with a status line every few seconds. SIGINT or SIGTERM stop the node cleanly;
    /// the database (--db) is crash-safe, and a restart on it resumes where it was.
    Run(RunArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("store").required(true).args(["db", "temp"])))]
pub struct RunArgs {
    /// The chain: a JIP-4 chain spec file, or `dev` (the chain `orrery chain-spec dev --validators 6`
    /// writes, built here).
    #[arg(long, value_name = "SPEC.json|dev", default_value = "dev")]
    pub chain: String,
    /// Run as dev validator N (JIP-5 dev seed N).
    #[arg(long, value_name = "N", conflicts_with = "keys")]
    pub dev_validator: Option<u32>,
    /// Run as the validator whose key file is in this key store (`orrery key generate`); the store
    /// must hold exactly one. Without this or --dev-validator the node follows the chain only.
    #[arg(long, value_name = "DIR")]
    pub keys: Option<PathBuf>,
    /// Keep the chain in this database folder (created if missing); a restart on it resumes.
    #[arg(long, value_name = "DIR")]
    pub db: Option<PathBuf>,
    /// Keep the chain in memory only.
    #[arg(long)]
    pub temp: bool,
    /// The QUIC address to listen on [default: 127.0.0.1:40000+N for dev validator N, else
    /// 127.0.0.1:40000].
    #[arg(long, value_name = "IP:PORT")]
    pub listen: Option<SocketAddr>,
    /// The port of the JIP-2 RPC (JSON-RPC over WebSocket, on 127.0.0.1) and of `GET /health` (plain
    /// HTTP) [default: 19800+N for dev validator N, else 19800].
    #[arg(long, value_name = "PORT")]
    pub rpc_port: Option<u16>,
    /// Serve the web explorer on 127.0.0.1:PORT (plain HTTP), pointed at this node's RPC
    /// (ws://127.0.0.1:<rpc port>) [default: off].
    #[arg(long, value_name = "PORT")]
    pub explorer_port: Option<u16>,
    /// A peer to dial, as `<peer name>@<ip>:<port>` (repeatable); added to the chain spec's. On the
    /// dev chain with none given anywhere, the other dev validators at 127.0.0.1:40000+i.
    #[arg(long = "bootnode", value_name = "NAME@IP:PORT")]
    pub bootnodes: Vec<String>,
    /// Seconds per slot on the wall clock [default: the chain spec's slot period, 6]; shorter only
    /// for dev networks.
    #[arg(long, value_name = "S")]
    pub slot_seconds: Option<u32>,
    /// A JIP-3 telemetry server (JAM Tart) to send the node's information and events to, over TCP;
    /// a server that is down or slow never holds the node up (events are dropped and counted).
    #[arg(long, value_name = "HOST:PORT")]
    pub telemetry: Option<String>,
    /// Serve Prometheus metrics (`GET /metrics`, text format 0.0.4; docs/METRICS.md) on
    /// 127.0.0.1:PORT. Off unless given.
    #[arg(long, value_name = "PORT")]
    pub metrics_port: Option<u16>,
    /// Seconds between status lines.
    #[arg(long, value_name = "S", default_value_t = 5)]
    pub status_seconds: u64,
    /// With an empty database (or --temp): start from a bootnode's finalized state, fetched with
    /// CE 129 and checked against the state root its child block commits to, instead of from
    /// genesis. The bootnode is trusted to say which block is final.
    #[arg(long)]
    pub state_sync: bool,
    /// Make no Safrole tickets (the chain stays fallback-sealed; saves a ring proof per ticket).
    #[arg(long)]
    pub no_tickets: bool,
    /// The Bandersnatch SRS (Zcash powers of tau, uncompressed), as the vectors ship it.
    #[arg(long, env = "ORRERY_SRS", default_value = DEFAULT_SRS)]
    pub srs: PathBuf,
}

pub fn run(command: NodeCommand) -> ExitCode {
    let NodeCommand::Run(args) = command;
    match run_node(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The log level from ORRERY_LOG.
fn init_logs() -> Result<(), String> {
    let level = match std::env::var("ORRERY_LOG").as_deref() {
        Err(_) | Ok("") | Ok("info") => tracing::Level::INFO,
        Ok("error") => tracing::Level::ERROR,
        Ok("warn") => tracing::Level::WARN,
        Ok("debug") => tracing::Level::DEBUG,
        Ok("trace") => tracing::Level::TRACE,
        Ok(other) => return Err(format!("ORRERY_LOG={other:?}: use error, warn, info, debug or trace")),
    };
    // Fails only if a subscriber is already set, which leaves logging working.
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
    Ok(())
}

fn ring(srs: &Path, spec: &ChainSpec) -> Result<RingContext, String> {
    RingContext::from_srs_file(srs, usize::from(spec.validators_count))
        .map_err(|e| format!("the Bandersnatch SRS {} (--srs or ORRERY_SRS): {e}", srs.display()))
}

/// The chain spec named by `--chain`, and its ring context.
fn chain_of(name: &str, srs: &Path) -> Result<(JamChainSpec, RingContext), String> {
    if name == "dev" {
        let spec = ChainSpec::tiny();
        let ring = ring(srs, &spec)?;
        let chain = build_dev(&spec, &ring, u32::from(spec.validators_count), DEV_BASE_PORT)?;
        Ok((chain, ring))
    } else {
        let chain = JamChainSpec::read(Path::new(name)).map_err(|e| format!("--chain {name}: {e}"))?;
        let ring = ring(srs, &chain.spec)?;
        Ok((chain, ring))
    }
}

fn keys_of(args: &RunArgs, spec: &ChainSpec) -> Result<Option<ValidatorKeys>, String> {
    if let Some(n) = args.dev_validator {
        if n >= u32::from(spec.validators_count) {
            return Err(format!(
                "--dev-validator {n}: the {} spec has validators 0..{}",
                spec.name,
                spec.validators_count - 1
            ));
        }
        return Ok(Some(ValidatorKeys::dev(n)));
    }
    let Some(dir) = &args.keys else { return Ok(None) };
    let files = orrery_keys::store::list(dir).map_err(|e| format!("--keys {}: {e}", dir.display()))?;
    match files.as_slice() {
        [one] => orrery_keys::store::load(one).map(Some).map_err(|e| e.to_string()),
        [] => Err(format!("--keys {}: no key file (make one with `orrery key generate`)", dir.display())),
        _ => Err(format!("--keys {}: {} key files; the node needs exactly one", dir.display(), files.len())),
    }
}

fn run_node(args: RunArgs) -> Result<(), String> {
    init_logs()?;
    if args.slot_seconds == Some(0) {
        return Err("--slot-seconds 0: a slot needs at least one second".into());
    }
    if args.status_seconds == 0 {
        return Err("--status-seconds 0: give at least one second".into());
    }
    let extra_bootnodes = args
        .bootnodes
        .iter()
        .map(|b| Bootnode::parse(b).map_err(|e| format!("--bootnode {b}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let telemetry_server = match &args.telemetry {
        Some(text) => Some(resolve(text).map_err(|e| format!("--telemetry {text}: {e}"))?),
        None => None,
    };
    let (chain_spec, ring) = chain_of(&args.chain, &args.srs)?;
    let spec = chain_spec.spec.clone();
    let keys = keys_of(&args, &spec)?;
    let index = args.dev_validator.map(|n| n as u16);
    let listen = args
        .listen
        .unwrap_or_else(|| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DEV_PORT + index.unwrap_or(0)));
    let rpc_port = args.rpc_port.unwrap_or(DEV_RPC_PORT + index.unwrap_or(0));
    let explorer = match args.explorer_port {
        None => None,
        Some(0) => return Err("--explorer-port 0: give the port to serve the explorer on".into()),
        Some(port) if port == rpc_port => {
            return Err(format!("--explorer-port {port}: that is the RPC port; give another"))
        }
        Some(port) => {
            let config = orrery_explorer::Config::new(&format!("ws://127.0.0.1:{rpc_port}"))
                .map_err(|e| e.to_string())?;
            Some((SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port), config))
        }
    };
    let mut bootnodes: Vec<_> =
        chain_spec.bootnodes.iter().chain(&extra_bootnodes).map(|b| (b.ed25519, b.address)).collect();
    if bootnodes.is_empty() && args.chain == "dev" {
        bootnodes = (0..u32::from(spec.validators_count))
            .map(|i| {
                let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DEV_PORT + i as u16);
                (ValidatorKeys::dev(i).ed25519_public(), addr)
            })
            .collect();
    }
    let slot_ms = u64::from(args.slot_seconds.unwrap_or(spec.slot_duration)) * 1000;

    let secret = match &keys {
        Some(keys) => *keys.ed25519_secret(),
        None => rand::random::<[u8; 32]>(),
    };
    let identity = Identity::from_ed25519_secret(&secret).map_err(|e| format!("our certificate: {e}"))?;
    let alpn = Alpn::for_genesis_hash(&chain_spec.genesis_hash());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("the async runtime: {e}"))?;
    let open_backend = || match &args.db {
        Some(dir) => Redb::open(dir).map_err(|e| format!("the database in {}: {e}", dir.display())),
        None => Redb::in_memory().map_err(|e| e.to_string()),
    };
    let ctx = Arc::new(ImportContext::new(spec.clone(), Arc::new(ring)));
    // A chain already in the database resumes; with none, the chain starts at genesis or, with
    // --state-sync, at a bootnode's finalized state. No depth finality: GRANDPA finalizes.
    // The store records where it started (genesis, or a synced state), not the chain spec; a file
    // beside it names the chain's genesis so a database of another chain is refused.
    let marker = args.db.as_ref().map(|dir| dir.join("orrery-chain-genesis"));
    let genesis_hex = hex::encode(chain_spec.genesis_hash());
    if let Some(Ok(recorded)) = marker.as_ref().map(std::fs::read_to_string) {
        if recorded.trim() != genesis_hex {
            return Err(format!(
                "the database in {} holds the chain with genesis {}, not this chain's {genesis_hex}",
                args.db.as_deref().unwrap_or(Path::new("")).display(),
                recorded.trim()
            ));
        }
    }
    let chain = match Chain::open(ctx.clone(), Box::new(open_backend()?), None, u32::MAX) {
        Ok(chain) => {
            tracing::info!(genesis = %orrery_node_quic::short(&chain.genesis()), "resuming the chain in the database");
            chain
        }
        Err(StoreError::Empty) => {
            let mut handovers = Vec::new();
            let start = if args.state_sync {
                let genesis =
                    BlockRef { hash: chain_spec.genesis_hash(), slot: chain_spec.genesis_header.slot };
                let bind = SocketAddr::new(listen.ip(), 0);
                let trusted = TrustedSet::genesis(
                    genesis.hash,
                    genesis.slot,
                    spec.epoch_length,
                    chain_spec.genesis_state.state(),
                );
                let synced = runtime
                    .block_on(state_sync(&secret, &alpn, &spec, genesis, trusted, bind, &bootnodes))?;
                handovers = synced.handovers;
                Start::anchor(synced.hash, synced.state)
            } else {
                Start::genesis(chain_spec.genesis_header.clone(), chain_spec.genesis_state.clone())
            };
            let chain = Chain::open(ctx, Box::new(open_backend()?), Some(start), u32::MAX)
                .map_err(|e| format!("the store: {e}"))?;
            // The handovers that proved the state final: served in turn to the next fresh node.
            for (set_id, fragment) in &handovers {
                let first = orrery_import::header_hash(&fragment.header);
                chain
                    .put_warp_fragment(*set_id, fragment.to_bytes(), &first)
                    .map_err(|e| format!("the store: {e}"))?;
            }
            if let Some(marker) = &marker {
                std::fs::write(marker, format!("{genesis_hex}\n"))
                    .map_err(|e| format!("{}: {e}", marker.display()))?;
            }
            chain
        }
        Err(e) => return Err(format!("the store: {e}")),
    };
    let config =
        NodeConfig { spec: spec.clone(), keys, slot_ms, grandpa_gossip_ms: (slot_ms / 4).clamp(100, 1000) };
    let options = NodeOptions { tickets: !args.no_tickets, grandpa: true, ..NodeOptions::default() };
    let node =
        Node::with_options(config, options, chain, orrery_node_quic::now_ms()).map_err(|e| e.to_string())?;
    let telemetry = telemetry_server.map(|server| {
        let info = orrery_telemetry::NodeInfo {
            parameters: orrery_chain_spec::params::encode(&spec),
            genesis: chain_spec.genesis_hash(),
            peer_id: *identity.key(),
            address: listen,
            recompiler: orrery_invocation::Backend::current() == orrery_invocation::Backend::Recompiler,
            name: "Orrery".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            gp_version: "0.7.2".into(),
            note: String::new(),
        };
        tracing::info!(%server, "sending JIP-3 telemetry");
        orrery_telemetry::Telemetry::start(orrery_telemetry::TelemetryConfig::new(server), info)
    });
    let driver = DriverConfig {
        spec,
        identity,
        alpn,
        listen,
        health: Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), rpc_port)),
        rpc: Default::default(),
        bootnodes,
        slot_ms,
        status_every: Duration::from_secs(args.status_seconds),
        telemetry,
        metrics: args.metrics_port.map(|port| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)),
    };
    if let Some((addr, config)) = explorer {
        // Bound before the node starts, so a port in use stops it with a clear error. It serves
        // files only (the page talks to the RPC itself) and ends with the runtime.
        let server = runtime
            .block_on(orrery_explorer::Explorer::bind(addr, config))
            .map_err(|e| format!("--explorer-port: {e}"))?;
        tracing::info!(url = %format!("http://{addr}/"), "serving the explorer");
        runtime.spawn(server.serve(std::future::pending()));
    }
    runtime.block_on(orrery_node_quic::run(node, driver, shutdown_signal())).map_err(|e| e.to_string())?;
    tracing::info!("stopped");
    Ok(())
}

/// How long a fresh node keeps asking its bootnodes for a finalized state.
const STATE_SYNC_FOR: Duration = Duration::from_secs(40);
/// The wait between rounds of asking.
const STATE_SYNC_RETRY: Duration = Duration::from_millis(700);

/// Fetches a finalized state from the bootnodes, one after the other, in rounds for
/// [`STATE_SYNC_FOR`] at most.
async fn state_sync(
    secret: &[u8; 32],
    alpn: &Alpn,
    spec: &ChainSpec,
    genesis: BlockRef,
    trusted: TrustedSet,
    bind: SocketAddr,
    bootnodes: &[(PeerId, SocketAddr)],
) -> Result<Synced, String> {
    if bootnodes.is_empty() {
        return Err("--state-sync: no bootnode to fetch a state from".into());
    }
    let mut last = String::new();
    // A peer whose finality has caught up with its head has no child of its final block to commit
    // to the state's root; that lasts part of each slot. Rounds are spaced off the slot length (a
    // wait of one slot would meet the same phase every time) and go on for a bounded while.
    let deadline = Instant::now() + STATE_SYNC_FOR;
    while Instant::now() < deadline {
        for (peer, addr) in bootnodes {
            let identity =
                Identity::from_ed25519_secret(secret).map_err(|e| format!("our certificate: {e}"))?;
            let started = Instant::now();
            let fetched = fetch_finalized_state(
                identity,
                alpn.clone(),
                spec,
                genesis,
                trusted.clone(),
                bind,
                (*peer, *addr),
            )
            .await;
            match fetched {
                Ok(synced) => {
                    tracing::info!(
                        from = %addr,
                        block = %orrery_node_quic::short(&synced.hash),
                        slot = synced.state.state().timeslot,
                        pairs = synced.state.len(),
                        handovers = synced.handovers.len(),
                        ms = started.elapsed().as_millis() as u64,
                        "warped to a justified final block (CE 153) and fetched its state (CE 129)"
                    );
                    return Ok(synced);
                }
                Err(e) => {
                    tracing::warn!(from = %addr, error = %e, "state sync failed");
                    last = format!("{addr}: {e}");
                }
            }
        }
        tokio::time::sleep(STATE_SYNC_RETRY).await;
    }
    Err(format!("--state-sync: no bootnode gave a state within {STATE_SYNC_FOR:?} (last: {last})"))
}

/// SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
        (Ok(mut int), Ok(mut term)) => {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// `orrery testnet`.
#[derive(Debug, Args)]
pub struct TestnetArgs {
    /// How many validators (the spec's V: 6 for tiny).
    #[arg(long, default_value_t = 6)]
    pub validators: u32,
    /// The chain spec's parameters: only `tiny` for now.
    #[arg(long, default_value = "tiny")]
    pub spec: String,
    /// Seconds per slot.
    #[arg(long, value_name = "S", default_value_t = 6)]
    pub slot_seconds: u32,
    /// Where the chain spec, the databases and the logs go [default: a new folder under the
    /// system's temporary folder, printed].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Stop by itself after this many seconds (otherwise at Ctrl-C).
    #[arg(long, value_name = "N")]
    pub for_seconds: Option<u64>,
    /// The first QUIC port; node i listens on 127.0.0.1:(this + i).
    #[arg(long, default_value_t = DEV_PORT)]
    pub base_port: u16,
    /// The first health port; node i serves on 127.0.0.1:(this + i).
    #[arg(long, default_value_t = DEV_RPC_PORT)]
    pub base_rpc_port: u16,
    /// The explorer's port: node 0 serves it on 127.0.0.1:(this), pointed at its RPC.
    #[arg(long, value_name = "PORT", default_value_t = DEV_EXPLORER_PORT)]
    pub base_explorer_port: u16,
    /// The first metrics port; node i serves Prometheus metrics on 127.0.0.1:(this + i).
    #[arg(long, default_value_t = DEV_METRICS_PORT)]
    pub base_metrics_port: u16,
    /// Seconds between summary lines.
    #[arg(long, value_name = "S", default_value_t = 5)]
    pub summary_seconds: u64,
    /// The nodes make no Safrole tickets (`node run --no-tickets`): the chain stays fallback-sealed,
    /// and the CPU burst of every validator's ring proofs early in each epoch goes away.
    #[arg(long)]
    pub no_tickets: bool,
    /// A JIP-3 telemetry server every node reports to (`node run --telemetry`), one connection
    /// per node.
    #[arg(long, value_name = "HOST:PORT")]
    pub telemetry: Option<String>,
    /// The Bandersnatch SRS (passed on to the nodes).
    #[arg(long, env = "ORRERY_SRS", default_value = DEFAULT_SRS)]
    pub srs: PathBuf,
}

pub fn testnet(args: TestnetArgs) -> ExitCode {
    match crate::testnet::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Checks the testnet arguments and writes its chain spec: the dev chain with every validator as a
/// bootnode on loopback.
pub fn testnet_spec(args: &TestnetArgs, dir: &Path) -> Result<PathBuf, String> {
    let spec = ChainSpec::by_name(&args.spec).ok_or_else(|| format!("unknown chain spec {:?}", args.spec))?;
    if spec != ChainSpec::tiny() {
        return Err(format!(
            "--spec {}: a testnet runs tiny only ({} node processes would not fit one machine; \
             `orrery chain-spec dev --spec full` writes a full dev chain)",
            spec.name, spec.validators_count
        ));
    }
    if args.validators != u32::from(spec.validators_count) {
        return Err(format!(
            "--validators {}: the {} spec has {} validators, and a dev chain has them all",
            args.validators, spec.name, spec.validators_count
        ));
    }
    if args.slot_seconds == 0 {
        return Err("--slot-seconds 0: a slot needs at least one second".into());
    }
    if u32::from(args.base_port) + args.validators > 65_536
        || u32::from(args.base_rpc_port) + args.validators > 65_536
        || u32::from(args.base_metrics_port) + args.validators > 65_536
    {
        return Err("--base-port/--base-rpc-port/--base-metrics-port: the ports run past 65535".into());
    }
    if args.base_explorer_port == 0 {
        return Err("--base-explorer-port 0: give the port to serve the explorer on".into());
    }
    let taken =
        |base: u16| (base..base.saturating_add(args.validators as u16)).contains(&args.base_explorer_port);
    if taken(args.base_port) || taken(args.base_rpc_port) || taken(args.base_metrics_port) {
        return Err(format!(
            "--base-explorer-port {}: one of the nodes' QUIC, RPC or metrics ports; give another",
            args.base_explorer_port
        ));
    }
    let ring = ring(&args.srs, &spec)?;
    // The validators' metadata and the boot nodes name the testnet's ports.
    let chain = build_dev(&spec, &ring, args.validators, args.base_port)?;
    // Only once the arguments are known good, so a mistyped command leaves no folder behind.
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join("chain-spec.json");
    std::fs::write(&path, format!("{}\n", chain.to_json()))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Reads a node's `/health` (a one-shot HTTP GET with short timeouts).
pub fn health(port: u16) -> Option<String> {
    use std::io::{Read, Write};
    let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(1))).ok()?;
    s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
    let mut out = Vec::new();
    s.take(64 * 1024).read_to_end(&mut out).ok()?;
    let text = String::from_utf8(out).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_string())
}

/// A number field of a flat-enough JSON text: the value after `"outer":{"slot":`. Enough for
/// `/health`, whose shape is ours.
pub fn json_slot(json: &str, outer: &str) -> Option<u32> {
    let at = json.find(&format!("\"{outer}\":{{\"slot\":"))? + outer.len() + 11;
    let digits: String = json[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// `"peers":N` of `/health`.
pub fn json_peers(json: &str) -> Option<usize> {
    let at = json.find("\"peers\":")? + 8;
    json[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
}

/// Waits for `child`, at most `limit`.
pub fn wait_bounded(child: &mut std::process::Child, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// `HOST:PORT` to a socket address (a name is looked up; the first address is taken).
fn resolve(text: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    text.to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or_else(|| "the name has no address".to_string())
}
