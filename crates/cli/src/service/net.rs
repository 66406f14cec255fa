//! `orrery service deploy/call/storage/info`: a service developer's commands against a running
//! network, through a node's JIP-2 RPC ([`super::rpc`]).
//!
//! `deploy` and `call` send a one-item work package (GP 0.7.2 §14.1) built by
//! [`orrery_chain_spec::package`]: authorized by the dev chain's null authorizer (its code held by
//! service 0, [`DEV_AUTHORIZER_CONFIG`] as configuration and token), refined against the node's best
//! block (anchor and lookup anchor both, with that block's posterior state root and BEEFY root, as
//! the recent history `β` records them, §7). They follow the package's status block by block
//! (`workPackageStatus`): reported (a guarantee on chain, §11.4), then ready (available, §11.2,
//! whereupon its accumulation runs in that block, §12), within a bound counted in slots, and say
//! which step did not happen when one does not.
//!
//! A deploy is the manager's (service 0, `services/manager`) deploy command: its accumulation
//! creates the service, provides its code and endows it, and records the new id under `last` and
//! the code hash under `deployed:E4(id)`; both are read back to name the new service. A call prints
//! refine's output from the report on chain and what the service account shows of accumulation
//! (the slot it last accumulated at, its items, octets and balance); JIP-2 exposes neither
//! accumulation's logs nor a list of the storage keys it wrote.
//!
//! Not here: packages authorized otherwise than by the dev chain's authorizer, extrinsics, imports
//! and exports, and subscriptions (polling once a second is enough for a few slots).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use orrery_chain_spec::dev::{DevServices, MANAGER_SERVICE};
use orrery_chain_spec::package::{
    context, manager_deploy, manager_deploy_by_hash, manager_deployed_key, work_package, Call,
    PackageAuthorizer, MANAGER_LAST, MANAGER_MAX_CODE,
};
use orrery_codec::{decode_exact, Encode};
use orrery_pvm::StandardProgram;
use orrery_state::ServiceInfo;
use orrery_types::{ChainSpec, WorkExecResult, WorkReport};

use super::hex;
use orrery_rpc::types::{BlockDescriptor, WorkPackageStatus};

use super::rpc::{Rpc, RpcError};
use super::run::{parse_payload, show_value};

/// The endowment a deployed service gets by default: enough for a few thousand storage items
/// (`B_I` = 10, `B_L` = 1 per octet on the dev chain, GP 0.7.2 eq. 9.8).
pub const DEFAULT_ENDOWMENT: u64 = 1_000_000;
/// How often the package's status is asked.
const POLL: Duration = Duration::from_millis(1000);
/// The longest slot the wall-clock bound allows for (the spec's 6 s); a chain that does not move
/// for `slots × this + CHAIN_GRACE` is said to have stalled.
const SLOT_BOUND: Duration = Duration::from_secs(6);
const CHAIN_GRACE: Duration = Duration::from_secs(30);

/// Where the node is and how a package is sent.
#[derive(Debug, Clone, clap::Args)]
pub struct NetArgs {
    /// The node's JIP-2 RPC (WebSocket).
    #[arg(long, env = "ORRERY_RPC", value_name = "URL", default_value = "ws://127.0.0.1:19800")]
    pub rpc: String,
    /// The core to send the package to [default: the best block's slot modulo the core count,
    /// spreading packages over the cores; the dev chain's authorizer is in every core's pool].
    #[arg(long, value_name = "N")]
    pub core: Option<u16>,
    /// How many slots after submitting to wait for the package to be reported and then available.
    #[arg(long, value_name = "SLOTS", default_value_t = 24)]
    pub wait_slots: u32,
}

/// The gas of a work item.
#[derive(Debug, Clone, clap::Args)]
pub struct GasArgs {
    /// The item's accumulate gas limit, below G_A [default: G_A / 2].
    #[arg(long = "gas", value_name = "G")]
    pub accumulate_gas: Option<u64>,
    /// The item's refine gas limit, below G_R [default: G_R / 2].
    #[arg(long, value_name = "G")]
    pub refine_gas: Option<u64>,
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("the async runtime: {e}"))
}

fn rpc_err(e: RpcError) -> String {
    e.to_string()
}

fn short(hash: &[u8; 32]) -> String {
    format!("0x{}", hex(&hash[..8]))
}

/// Service `id`'s account info in block `at`'s posterior state, `None` when it has no account.
async fn service_info(rpc: &Rpc, at: &BlockDescriptor, id: u32) -> Result<Option<ServiceInfo>, String> {
    let Some(bytes) = rpc.service_data(&at.header_hash.0, id).await.map_err(rpc_err)? else {
        return Ok(None);
    };
    decode_exact(&bytes, ChainSpec::tiny().lengths())
        .map(Some)
        .map_err(|e| format!("serviceData: a malformed reply: not a service account's info ({e})"))
}

/// What following a package found.
struct Followed {
    reported_in: BlockDescriptor,
    report_hash: [u8; 32],
    ready_in: BlockDescriptor,
}

/// Builds the package of `call` against the best block, submits it and follows it until ready.
async fn submit_and_follow(rpc: &Rpc, net: &NetArgs, call: Call) -> Result<Followed, String> {
    let anchor = rpc.best_block().await.map_err(rpc_err)?;
    let state_root = rpc.state_root(&anchor.header_hash.0).await.map_err(rpc_err)?;
    let beefy_root = rpc.beefy_root(&anchor.header_hash.0).await.map_err(rpc_err)?.ok_or_else(|| {
        format!("beefyRoot: the node does not know the BEEFY root of its own best block #{}", anchor.slot)
    })?;
    let authorizer = PackageAuthorizer::dev(&DevServices::ORRERY);
    let package = work_package(
        &authorizer,
        context(anchor.header_hash.0, anchor.slot, state_root, beefy_root),
        &[call],
    );
    let bytes = package.encode();
    let package_hash = orrery_crypto::blake2b_256(&bytes);
    let core = match net.core {
        Some(core) => core,
        // A node without `parameters` serves the tiny dev chain, the only one a testnet runs.
        None => {
            let cores = match rpc.parameters().await {
                Ok(parameters) => parameters.core_count,
                Err(_) => ChainSpec::tiny().cores_count,
            };
            (anchor.slot % u32::from(cores.max(1))) as u16
        }
    };
    rpc.submit_work_package(core, bytes.clone()).await.map_err(rpc_err)?;
    outln!(
        "submitted work package 0x{} ({} octets) to core {core}, anchored at #{} {}",
        hex(&package_hash),
        bytes.len(),
        anchor.slot,
        short(&anchor.header_hash.0)
    );

    let start = Instant::now();
    let wall_limit = SLOT_BOUND * net.wait_slots + CHAIN_GRACE;
    let mut reported: Option<(BlockDescriptor, u16)> = None;
    // Seen reportable at least once: a later failure is the anchor growing too old.
    let mut waiting = false;
    loop {
        tokio::time::sleep(POLL).await;
        let best = rpc.best_block().await.map_err(rpc_err)?;
        let status =
            match rpc.work_package_status(&best.header_hash.0, &package_hash, &anchor.header_hash.0).await {
                Ok(status) => status,
                // The best block moved on (or was pruned) between the two calls: ask again.
                Err(RpcError::Node { code: 1, .. }) => continue,
                Err(e) => return Err(e.to_string()),
            };
        match &status {
            WorkPackageStatus::Reported { reported_in, core, report_hash } if reported.is_none() => {
                outln!(
                    "reported in #{} on core {core}: work report {}",
                    reported_in.slot,
                    short(&report_hash.0)
                );
                reported = Some((*reported_in, *core));
            }
            WorkPackageStatus::Ready { reported_in, core, report_hash, ready_in } => {
                if reported.is_none() {
                    outln!(
                        "reported in #{} on core {core}: work report {}",
                        reported_in.slot,
                        short(&report_hash.0)
                    );
                }
                outln!("available in #{}: accumulated there", ready_in.slot);
                return Ok(Followed {
                    reported_in: *reported_in,
                    report_hash: report_hash.0,
                    ready_in: *ready_in,
                });
            }
            WorkPackageStatus::Failed(why) => {
                let slots = best.slot.saturating_sub(anchor.slot);
                return Err(match reported {
                    None if waiting => format!(
                        "work package {}: submitted at #{} to core {core} but not reported in the {slots} slots \
                         its anchor stayed recent (are core {core}'s guarantors refining it?); the node says: {why}",
                        short(&package_hash),
                        anchor.slot
                    ),
                    _ => format!("work package {}: the node says it failed: {why}", short(&package_hash)),
                });
            }
            WorkPackageStatus::Reportable { remaining_blocks } if !waiting => {
                outln!(
                    "waiting for a guarantee (the anchor stays recent for {remaining_blocks} more blocks)"
                );
                waiting = true;
            }
            _ => {}
        }
        let slots = best.slot.saturating_sub(anchor.slot);
        if slots > net.wait_slots || start.elapsed() > wall_limit {
            let waited = if slots > net.wait_slots {
                format!("after {slots} slots")
            } else {
                format!(
                    "after {} s, the best block still #{} (has the chain stalled?)",
                    start.elapsed().as_secs(),
                    best.slot
                )
            };
            return Err(match (&reported, &status) {
                (Some((at, core)), _) => format!(
                    "work package {}: reported at #{} on core {core} but not available (so not accumulated) {waited}",
                    short(&package_hash),
                    at.slot
                ),
                (None, WorkPackageStatus::Reportable { remaining_blocks }) => format!(
                    "work package {}: submitted at #{} to core {core} but not reported {waited} (the node gives it \
                     {remaining_blocks} more blocks; are core {core}'s guarantors refining it?)",
                    short(&package_hash),
                    anchor.slot
                ),
                _ => format!("work package {}: not reported {waited}", short(&package_hash)),
            });
        }
    }
}

/// The longest output shown whole; a longer one (the manager's carries the code) is cut.
const SHOWN_OUTPUT: usize = 64;

fn show_output(output: &[u8]) -> String {
    if output.len() <= SHOWN_OUTPUT {
        return show_value(output);
    }
    format!("0x{}… ({} octets)", hex(&output[..SHOWN_OUTPUT / 2]), output.len())
}

/// The report's result for its first item, printed; `false` when refine failed.
async fn print_refine(rpc: &Rpc, followed: &Followed) -> Result<(WorkExecResult, u64), String> {
    let bytes = rpc.work_report(&followed.report_hash).await.map_err(|e| {
        format!(
            "{e} (the report {} of the package reported in #{})",
            short(&followed.report_hash),
            followed.reported_in.slot
        )
    })?;
    let report: WorkReport = decode_exact(&bytes, ChainSpec::tiny().lengths())
        .map_err(|e| format!("workReport: a malformed reply: not a work report ({e})"))?;
    let result = report.results.first().ok_or("workReport: a report with no results")?;
    let gas = result.refine_load.gas_used;
    match &result.result {
        WorkExecResult::Ok(output) => outln!("refine: output {}, gas used {gas}", show_output(output)),
        other => outln!("refine: FAILED ({other:?}), gas used {gas}: nothing was accumulated"),
    }
    Ok((result.result.clone(), gas))
}

/// The item's gas limits: given, else half the chain's `G_R` and `G_A` (tiny's when the node does not
/// say). A package's items must sum to less than each (GP 0.7.2 eq. 14.5's `< G_A`, `< G_R`; the
/// guarantor refuses it otherwise), and half leaves room without being a number to explain.
async fn gas_limits(rpc: &Rpc, gas: &GasArgs) -> Result<(u64, u64), String> {
    let (max_refine, max_accumulate) = match rpc.parameters().await {
        Ok(p) => (p.max_refine_gas, p.max_accumulate_gas),
        Err(_) => (ChainSpec::tiny().max_refine_gas, ChainSpec::tiny().max_accumulate_gas),
    };
    let refine = gas.refine_gas.unwrap_or(max_refine / 2);
    let accumulate = gas.accumulate_gas.unwrap_or(max_accumulate / 2);
    if refine >= max_refine {
        return Err(format!(
            "--refine-gas {refine}: a package's refine gas must be below G_R = {max_refine} (GP 0.7.2 §14.2)"
        ));
    }
    if accumulate >= max_accumulate {
        return Err(format!(
            "--gas {accumulate}: a package's accumulate gas must be below G_A = {max_accumulate} (GP 0.7.2 §14.2)"
        ));
    }
    Ok((refine, accumulate))
}

pub struct DeployOptions {
    pub blob: PathBuf,
    pub amount: u64,
    pub min_item_gas: u64,
    pub min_memo_gas: u64,
    pub gas: GasArgs,
    pub net: NetArgs,
}

pub fn deploy(options: DeployOptions) -> Result<(), String> {
    let code = std::fs::read(&options.blob).map_err(|e| format!("{}: {e}", options.blob.display()))?;
    StandardProgram::from_service_code(&code)
        .map_err(|e| format!("{}: not a service blob: {e}", options.blob.display()))?;
    let code_hash = orrery_crypto::blake2b_256(&code);
    runtime()?.block_on(async {
        let rpc = Rpc::connect(&options.net.rpc).await.map_err(rpc_err)?;
        let best = rpc.best_block().await.map_err(rpc_err)?;
        let manager = service_info(&rpc, &best, MANAGER_SERVICE).await?.ok_or(
            "service 0 is not on this chain: deploy sends the dev chain's manager (service 0) a command",
        )?;
        outln!(
            "deploying {} ({} octets, code hash 0x{}) through the manager, service {MANAGER_SERVICE}",
            options.blob.display(),
            code.len(),
            hex(&code_hash)
        );
        let (refine_gas, accumulate_gas) = gas_limits(&rpc, &options.gas).await?;
        // Code a work result cannot carry goes by hash: the new service requests it, and it comes
        // on chain as a preimage (GP 0.7.2 §12.4).
        let by_hash = code.len() > MANAGER_MAX_CODE;
        let payload = if by_hash {
            outln!(
                "the code is larger than a work result carries ({MANAGER_MAX_CODE} octets): the manager deploys it \
                 by hash, then the code goes to the node as a preimage"
            );
            let len = u32::try_from(code.len()).map_err(|_| "the code is over 4 GiB".to_string())?;
            manager_deploy_by_hash(options.min_item_gas, options.min_memo_gas, options.amount, &code_hash, len)
        } else {
            manager_deploy(options.min_item_gas, options.min_memo_gas, options.amount, &code)
        };
        let call = Call {
            service: MANAGER_SERVICE,
            code_hash: manager.code_hash,
            payload,
            refine_gas,
            accumulate_gas,
        };
        let followed = submit_and_follow(&rpc, &options.net, call).await?;
        let (result, _) = print_refine(&rpc, &followed).await?;
        if !matches!(result, WorkExecResult::Ok(_)) {
            return Err("the manager's refine failed: no service was deployed".into());
        }
        let at = followed.ready_in;
        let last =
            rpc.service_value(&at.header_hash.0, MANAGER_SERVICE, MANAGER_LAST).await.map_err(rpc_err)?;
        let id = match last.as_deref().map(<[u8; 4]>::try_from) {
            Some(Ok(bytes)) => u32::from_le_bytes(bytes),
            Some(Err(_)) => return Err("the manager's `last` is not a 4-octet service id".into()),
            None => {
                return Err(format!(
                    "available in #{} but the manager recorded no deployment (its accumulation failed: \
                     out of gas, or too little balance for the new service?)",
                    at.slot
                ))
            }
        };
        let recorded = rpc
            .service_value(&at.header_hash.0, MANAGER_SERVICE, &manager_deployed_key(id))
            .await
            .map_err(rpc_err)?;
        if recorded.as_deref() != Some(&code_hash[..]) {
            return Err(format!(
                "available in #{} but the manager's last deployment, service {id}, is of other code \
                 (another deploy in the same block?); see `orrery service info`",
                at.slot
            ));
        }
        outln!("deployed service {id}");
        let at = if by_hash { provide_code(&rpc, &options.net, id, code, &code_hash).await? } else { at };
        if let Some(info) = service_info(&rpc, &at, id).await? {
            print_info(id, &info);
        }
        Ok(())
    })
}

/// Submits `code` as the preimage service `id` requests and waits for a block that has it in the
/// service's state; that block.
async fn provide_code(
    rpc: &Rpc,
    net: &NetArgs,
    id: u32,
    code: Vec<u8>,
    code_hash: &[u8; 32],
) -> Result<BlockDescriptor, String> {
    let len = code.len();
    let request_len = u32::try_from(len).map_err(|_| "the code is over 4 GiB".to_string())?;
    rpc.submit_preimage(id, code).await.map_err(rpc_err)?;
    outln!("submitted its code ({len} octets) as a preimage");
    let start = Instant::now();
    let wall_limit = SLOT_BOUND * net.wait_slots + CHAIN_GRACE;
    loop {
        tokio::time::sleep(POLL).await;
        let best = rpc.best_block().await.map_err(rpc_err)?;
        match rpc.service_request(&best.header_hash.0, id, code_hash, request_len).await {
            // An odd count of slots: provided (and not forgotten since).
            Ok(Some(slots)) if slots.len() % 2 == 1 => {
                outln!("code on chain in #{} {}", best.slot, short(&best.header_hash.0));
                return Ok(best);
            }
            Ok(_) | Err(RpcError::Node { code: 1, .. }) => {}
            Err(e) => return Err(e.to_string()),
        }
        if start.elapsed() > wall_limit {
            return Err(format!(
                "service {id} exists but its code is not on chain after {} s: no block took the preimage \
                 (is the node authoring, and is its preimage pool full?)",
                wall_limit.as_secs()
            ));
        }
    }
}

pub struct CallOptions {
    pub id: u32,
    pub payload: String,
    /// Storage keys (hex or `@text`) to show before and after.
    pub keys: Vec<String>,
    pub gas: GasArgs,
    pub net: NetArgs,
}

pub fn call(options: CallOptions) -> Result<bool, String> {
    let payload = parse_payload(&options.payload)?;
    let id = options.id;
    runtime()?.block_on(async {
        let rpc = Rpc::connect(&options.net.rpc).await.map_err(rpc_err)?;
        let best = rpc.best_block().await.map_err(rpc_err)?;
        let before = service_info(&rpc, &best, id)
            .await?
            .ok_or_else(|| format!("service {id} is not on the chain (best block #{})", best.slot))?;
        let keys = options.keys.iter().map(|k| parse_key(k)).collect::<Result<Vec<_>, _>>()?;
        let mut old_values = Vec::with_capacity(keys.len());
        for key in &keys {
            old_values.push(rpc.service_value(&best.header_hash.0, id, key).await.map_err(rpc_err)?);
        }
        let (refine_gas, accumulate_gas) = gas_limits(&rpc, &options.gas).await?;
        if accumulate_gas < before.min_item_gas {
            return Err(format!(
                "--gas {accumulate_gas}: service {id} takes work items with at least {} accumulate gas",
                before.min_item_gas
            ));
        }
        outln!(
            "calling service {id} (code hash 0x{}), payload {} octets",
            hex(&before.code_hash),
            payload.len()
        );
        let call = Call { service: id, code_hash: before.code_hash, payload, refine_gas, accumulate_gas };
        let followed = submit_and_follow(&rpc, &options.net, call).await?;
        let (result, _) = print_refine(&rpc, &followed).await?;
        let at = followed.ready_in;
        let after = service_info(&rpc, &at, id)
            .await?
            .ok_or_else(|| format!("service {id} is gone in #{}", at.slot))?;
        if after.last_accumulation_slot == at.slot {
            outln!("accumulate: service {id} accumulated in #{}", at.slot);
        } else {
            outln!(
                "accumulate: service {id} did not accumulate in #{} (last at #{})",
                at.slot,
                after.last_accumulation_slot
            );
        }
        let changes = [
            ("storage items", u64::from(before.items), u64::from(after.items)),
            ("storage octets", before.bytes, after.bytes),
            ("balance", before.balance, after.balance),
        ];
        for (what, old, new) in changes {
            if old != new {
                outln!("  {what} {old} -> {new}");
            }
        }
        if after.code_hash != before.code_hash {
            outln!("  code hash 0x{} -> 0x{}", hex(&before.code_hash), hex(&after.code_hash));
        }
        let shown = |v: &Option<Vec<u8>>| v.as_deref().map_or_else(|| "none".to_string(), show_value);
        for (key, old) in keys.iter().zip(&old_values) {
            let new = rpc.service_value(&at.header_hash.0, id, key).await.map_err(rpc_err)?;
            let change = if new == *old { "unchanged".to_string() } else { format!("was {}", shown(old)) };
            outln!("  storage 0x{} = {} ({change})", hex(key), shown(&new));
        }
        Ok(matches!(result, WorkExecResult::Ok(_)))
    })
}

/// A storage key: hex (`0x` optional) or `@text` for the text's UTF-8 octets.
fn parse_key(text: &str) -> Result<Vec<u8>, String> {
    match text.strip_prefix('@') {
        Some(key) => Ok(key.as_bytes().to_vec()),
        None => parse_payload(text).map_err(|e| e.replacen("payload", "key", 1)),
    }
}

pub fn storage(id: u32, key: &str, rpc_url: &str) -> Result<(), String> {
    let key = parse_key(key)?;
    runtime()?.block_on(async {
        let rpc = Rpc::connect(rpc_url).await.map_err(rpc_err)?;
        let best = rpc.best_block().await.map_err(rpc_err)?;
        match rpc.service_value(&best.header_hash.0, id, &key).await.map_err(rpc_err)? {
            Some(value) => outln!("{}", show_value(&value)),
            None => {
                if service_info(&rpc, &best, id).await?.is_none() {
                    return Err(format!("service {id} is not on the chain (best block #{})", best.slot));
                }
                outln!("none (service {id} has no value under 0x{} at #{})", hex(&key), best.slot)
            }
        }
        Ok(())
    })
}

fn print_info(id: u32, info: &ServiceInfo) {
    outln!("service {id}");
    outln!("  code hash        0x{}", hex(&info.code_hash));
    outln!("  balance          {} (threshold {})", info.balance, info.threshold_balance());
    outln!("  min item gas     {}", info.min_item_gas);
    outln!("  min memo gas     {}", info.min_memo_gas);
    outln!("  storage          {} items, {} octets", info.items, info.bytes);
    outln!("  created at       #{} by service {}", info.creation_slot, info.parent_service);
    outln!("  last accumulated #{}", info.last_accumulation_slot);
}

pub fn info(id: Option<u32>, rpc_url: &str) -> Result<(), String> {
    runtime()?.block_on(async {
        let rpc = Rpc::connect(rpc_url).await.map_err(rpc_err)?;
        let best = rpc.best_block().await.map_err(rpc_err)?;
        match id {
            Some(id) => {
                let info = service_info(&rpc, &best, id)
                    .await?
                    .ok_or_else(|| format!("service {id} is not on the chain (best block #{})", best.slot))?;
                print_info(id, &info);
            }
            None => {
                let ids = rpc.list_services(&best.header_hash.0).await.map_err(rpc_err)?;
                outln!("{} services at #{} {}:", ids.len(), best.slot, short(&best.header_hash.0));
                for id in ids {
                    match service_info(&rpc, &best, id).await? {
                        Some(info) => outln!(
                            "  {id:>10}  code 0x{}  balance {}  {} items",
                            hex(&info.code_hash[..8]),
                            info.balance,
                            info.items
                        ),
                        None => outln!("  {id:>10}  (listed, but no account)"),
                    }
                }
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::parse_key;

    #[test]
    fn keys_are_hex_or_text() {
        assert_eq!(parse_key("@name").unwrap(), b"name");
        assert_eq!(parse_key("0x6e61").unwrap(), b"na");
        assert_eq!(parse_key("6e61").unwrap(), b"na");
        let e = parse_key("xyz").unwrap_err();
        assert!(e.starts_with("key `xyz`"), "{e}");
    }
}
