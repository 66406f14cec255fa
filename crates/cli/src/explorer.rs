//! `orrery explorer`: the web explorer (`orrery-explorer`) on its own, for a node elsewhere. The
//! server only hands out the page and `/config.json`; the browser opens the node's RPC itself, so
//! the RPC address must be one the browser can reach.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Args)]
pub struct ExplorerArgs {
    /// The node's JIP-2 RPC, as the browser will reach it: ws://HOST:PORT (or wss://).
    #[arg(long, value_name = "ws://HOST:PORT")]
    rpc: String,
    /// Where to serve the explorer (plain HTTP).
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:19700")]
    listen: SocketAddr,
}

pub fn run(args: ExplorerArgs) -> ExitCode {
    match serve(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ExplorerArgs) -> Result<(), String> {
    let config = orrery_explorer::Config::new(&args.rpc).map_err(|e| format!("--rpc: {e}"))?;
    if args.listen.port() == 0 {
        return Err(format!("--listen {}: give the port to serve on", args.listen));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("the async runtime: {e}"))?;
    runtime.block_on(async {
        let server = orrery_explorer::Explorer::bind(args.listen, config)
            .await
            .map_err(|e| format!("--listen: {e}"))?;
        outln!("explorer http://{}/ for the node at {} (Ctrl-C stops it)", server.local_addr(), args.rpc);
        server.serve(crate::node::shutdown_signal()).await;
        outln!("stopped");
        Ok(())
    })
}
