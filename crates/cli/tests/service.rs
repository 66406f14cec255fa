//! `orrery service …` end to end, through the binary, on the example services in `services/`
//! (their committed blobs) and a scaffolded one. Expected values come from the payloads and from
//! the `blake2` crate run here, never from the code under test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn orrery() -> Command {
    Command::new(env!("CARGO_BIN_EXE_orrery"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn blob(name: &str) -> PathBuf {
    repo().join("services").join(name).join(format!("{name}.jam"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn run(args: &[&str]) -> (i32, String) {
    let Output { status, stdout, stderr } = orrery().args(args).output().unwrap();
    let text = String::from_utf8(stdout).unwrap() + &String::from_utf8(stderr).unwrap();
    (status.code().unwrap_or(-1), text)
}

fn service_run(blob: &Path, payload: &str, state: Option<&Path>, more: &[&str]) -> (i32, String) {
    let mut args = vec!["service", "run", blob.to_str().unwrap(), "--payload", payload];
    if let Some(state) = state {
        args.extend(["--state", state.to_str().unwrap()]);
    }
    args.extend_from_slice(more);
    run(&args)
}

fn assert_has(text: &str, line: &str) {
    assert!(text.contains(line), "expected {line:?} in:\n{text}");
}

fn blake2b_256(data: &[u8]) -> [u8; 32] {
    use blake2::digest::consts::U32;
    use blake2::{Blake2b, Digest};
    Blake2b::<U32>::digest(data).into()
}

#[test]
fn kv_sets_updates_removes_and_a_failed_run_changes_nothing() {
    let state = tempfile::tempdir().unwrap();
    let kv = blob("kv");
    let (code, out) = service_run(&kv, &hex(b"name=orrery\ncolour=blue\n"), Some(state.path()), &[]);
    assert_eq!(code, 0, "{out}");
    assert_has(&out, "service 65536: ");
    assert_has(&out, &format!("code hash 0x{}, installed", hex(&blake2b_256(&std::fs::read(&kv).unwrap()))));
    assert_has(&out, "slot 1, payload 24 octets");
    assert_has(&out, &format!("65536 storage \"name\" = 0x{} (\"orrery\") (new)", hex(b"orrery")));
    assert_has(&out, &format!("65536 storage \"colour\" = 0x{} (\"blue\") (new)", hex(b"blue")));
    assert_has(&out, "state saved in");

    // The state persisted: the second run sees the first run's values.
    let (code, out) = service_run(&kv, &hex(b"colour=\nname=jam"), Some(state.path()), &[]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("installed"), "{out}");
    assert_has(&out, "slot 2,");
    assert_has(
        &out,
        &format!("storage \"name\" = 0x{} (\"jam\") (was 0x{} (\"orrery\"))", hex(b"jam"), hex(b"orrery")),
    );
    assert_has(&out, "storage \"colour\" removed");

    // A line without `=` makes refine panic: reported, exit status 2, nothing saved.
    let (code, out) = service_run(&kv, &hex(b"oops"), Some(state.path()), &[]);
    assert_eq!(code, 2, "{out}");
    assert_has(&out, "refine: PANIC (trap) at pc");
    assert_has(&out, "log [fatal panic] line 1: no `=`");
    assert_has(&out, "the state is unchanged");
    assert!(!out.contains("accumulate ("), "{out}");

    // The slot did not advance and the values are those of the second run.
    let (code, out) = service_run(&kv, &hex(b"name=x"), Some(state.path()), &[]);
    assert_eq!(code, 0, "{out}");
    assert_has(&out, "slot 3,");
    assert_has(
        &out,
        &format!("storage \"name\" = 0x{} (\"x\") (was 0x{} (\"jam\"))", hex(b"x"), hex(b"jam")),
    );

    // Without --state every run starts from nothing.
    let (_, out) = service_run(&kv, &hex(b"name=y"), None, &[]);
    assert_has(&out, "slot 1,");
    assert_has(&out, &format!("storage \"name\" = 0x{} (\"y\") (new)", hex(b"y")));
    assert_has(&out, "state not kept");
}

#[test]
fn two_pay_instances_pay_each_other() {
    let state = tempfile::tempdir().unwrap();
    let pay = blob("pay");
    let (code, out) = service_run(&pay, "", Some(state.path()), &["--id", "1000"]);
    assert_eq!(code, 0, "{out}");
    let mut order = 1000u32.to_le_bytes().to_vec();
    order.extend_from_slice(&1000u64.to_le_bytes());
    let (code, out) = service_run(&pay, &hex(&order), Some(state.path()), &["--id", "2000"]);
    assert_eq!(code, 0, "{out}");

    // Worked out apart from the services: 2000 pays 1000 to 1000, then each payment a is
    // answered with ⌊a/2⌋ while a ≥ 2.
    let (mut payer, mut payee, mut amount) = (2000u32, 1000u32, 1000u64);
    let mut sent = std::collections::BTreeMap::from([(1000u32, 0u64), (2000, 0)]);
    let mut received = sent.clone();
    let mut round = 0;
    loop {
        *sent.get_mut(&payer).unwrap() += amount;
        *received.get_mut(&payee).unwrap() += amount;
        let memo = if round == 0 { "ping" } else { "pong" };
        assert_has(&out, &format!("transfer {payer} -> {payee}: amount {amount}, gas"));
        assert_has(&out, &format!("memo \"{memo}\""));
        assert_has(&out, &format!("log [info] {payee} received {amount} from {payer}"));
        round += 1;
        if amount < 2 {
            break;
        }
        amount /= 2;
        std::mem::swap(&mut payer, &mut payee);
    }
    assert_has(&out, &format!("accumulate (round {round}) service"));
    assert!(!out.contains(&format!("accumulate (round {})", round + 1)), "{out}");
    let net = received[&2000] as i64 - sent[&2000] as i64;
    assert_eq!(net, -666);
    let (last_2000, last_1000) = (1_000_000_000_000i64 + net, 1_000_000_000_000i64 - net);
    assert_has(&out, &format!("service 2000 balance {} -> {last_2000}", last_2000 - 1));
    assert_has(&out, &format!("service 1000 balance {} -> {last_1000}", last_1000 - 2));
    for id in [1000u32, 2000] {
        assert_has(&out, &format!("{id} storage \"sent\" = 0x{}", hex(&sent[&id].to_le_bytes())));
        assert_has(&out, &format!("{id} storage \"received\" = 0x{}", hex(&received[&id].to_le_bytes())));
    }
}

#[test]
fn hasher_stores_the_blake2b_of_the_payload() {
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("payload.bin");
    std::fs::write(&file, &payload).unwrap();
    let digest = hex(&blake2b_256(&payload));
    let (code, out) = service_run(&blob("hasher"), &format!("@{}", file.display()), None, &[]);
    assert_eq!(code, 0, "{out}");
    assert_has(&out, "payload 100000 octets");
    assert_has(&out, &format!("output 0x{digest}{} (36 octets)", hex(&100_000u32.to_le_bytes())));
    assert_has(&out, &format!("65536 storage \"digest\" = 0x{digest} (32 octets) (new)"));
    assert_has(
        &out,
        &format!("65536 storage \"length\" = 0x{} (4 octets) (new)", hex(&100_000u32.to_le_bytes())),
    );
    assert_has(&out, &format!("65536 storage \"count\" = 0x{} (4 octets) (new)", hex(&1u32.to_le_bytes())));
    assert_has(&out, "log [info] payload 1 hashed");

    // Too little gas for the hashing: out of gas, all of it used, nothing accumulated.
    let (code, out) =
        service_run(&blob("hasher"), &format!("@{}", file.display()), None, &["--refine-gas", "5000"]);
    assert_eq!(code, 2, "{out}");
    assert_has(&out, "refine: OUT OF GAS at pc");
    assert_has(&out, "gas used 5000 of 5000");
    assert_has(&out, "refine failed (OutOfGas)");
}

#[test]
fn a_page_fault_names_its_address() {
    // The probe guest's mode 5 reads 0xfefe0000, which the standard layout leaves unmapped.
    let probe = repo().join("guests/probe.jam");
    let (code, out) = service_run(&probe, "05", None, &[]);
    assert_eq!(code, 2, "{out}");
    assert_has(&out, "refine: PAGE FAULT at address 0xfefe0000");
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.jam");
    std::fs::write(&junk, b"not a service").unwrap();
    let (code, out) = service_run(&junk, "", None, &[]);
    assert_eq!(code, 1, "{out}");
    assert_has(&out, "not a service blob");
    let (code, out) = service_run(&blob("kv"), "abc", None, &[]);
    assert_eq!(code, 1, "{out}");
    assert_has(&out, "odd number of hex digits");
    let (code, out) = run(&["service", "inspect", junk.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
}

#[test]
fn inspect_shows_metadata_sections_entries_and_code() {
    let kv = blob("kv");
    let bytes = std::fs::read(&kv).unwrap();
    let (code, out) = run(&["service", "inspect", kv.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert_has(&out, &format!("{} octets", bytes.len()));
    assert_has(&out, &format!("code hash    0x{}", hex(&blake2b_256(&bytes))));
    assert_has(&out, "metadata     kv 0.1.0 (license Apache-2.0, authors Orrery developers; JIP-6)");
    assert_has(&out, "     0  refine: jump @");
    assert_has(&out, "     5  accumulate: jump @");
    assert_has(&out, "disassembly");
    assert_has(&out, "ecalli");
}

/// Copies the example workspace's manifests and one service into `dir`, pointing at this
/// repository's SDK and protocol crates.
fn copy_service(name: &str, dir: &Path) {
    let services = repo().join("services");
    let sdk = repo().join("crates/service-sdk");
    let manifest = std::fs::read_to_string(services.join("Cargo.toml")).unwrap();
    let manifest = manifest.replace("../crates/service-sdk", sdk.to_str().unwrap());
    // The workspace keeps only this member (whatever the list holds today).
    let manifest: String = manifest
        .lines()
        .map(|line| {
            if line.starts_with("members = [") {
                format!("members = [\"{name}\"]")
            } else {
                line.to_string()
            }
        })
        .map(|line| line + "\n")
        .collect();
    assert!(manifest.contains(&format!("members = [\"{name}\"]")), "services/Cargo.toml has no members line");
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(services.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::create_dir_all(dir.join(name).join("src")).unwrap();
    let member = std::fs::read_to_string(services.join(name).join("Cargo.toml")).unwrap();
    let crates = format!("\"{}/", repo().join("crates").display());
    std::fs::write(dir.join(name).join("Cargo.toml"), member.replace("\"../../crates/", &crates)).unwrap();
    std::fs::copy(services.join(name).join("src/lib.rs"), dir.join(name).join("src/lib.rs")).unwrap();
}

/// Builds `registry` from source in two unrelated directories: the same bytes both times, and
/// the bytes committed in `services/registry/registry.jam`. Its protocol crate and codec are path
/// dependencies outside the workspace, whose identities cargo derives from their absolute paths:
/// before `orrery_service_build::stable_ids`, each checkout gave its own function order (`kv`,
/// which this test built before, happened not to show it).
#[test]
fn building_is_reproducible_and_matches_the_committed_blob() {
    let mut blobs = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        copy_service("registry", dir.path());
        let (code, out) = run(&["service", "build", dir.path().join("registry").to_str().unwrap()]);
        assert_eq!(code, 0, "{out}");
        let bytes = std::fs::read(dir.path().join("registry/registry.jam")).unwrap();
        assert_has(&out, &format!("code hash 0x{}", hex(&blake2b_256(&bytes))));
        blobs.push(bytes);
    }
    assert_eq!(blobs[0], blobs[1], "two builds differ");
    assert!(
        blobs[0] == std::fs::read(blob("registry")).unwrap(),
        "services/registry/registry.jam is not what its sources build"
    );
}

#[test]
fn new_scaffolds_a_service_that_builds_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let crate_dir = dir.path().join("greeter");
    let (code, out) = run(&["service", "new", crate_dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert_has(&out, "created service `greeter`");
    let (code, out) = run(&["service", "build", crate_dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let built = crate_dir.join("greeter.jam");
    let (code, out) = service_run(&built, &hex(b"world"), None, &[]);
    assert_eq!(code, 0, "{out}");
    assert_has(&out, &format!("output 0x{} (\"Hello, world\")", hex(b"Hello, world")));
    assert_has(&out, &format!("storage \"greeting\" = 0x{} (\"Hello, world\") (new)", hex(b"Hello, world")));
    assert_has(&out, &format!("storage \"count\" = 0x{} (4 octets) (new)", hex(&1u32.to_le_bytes())));
    assert_has(&out, "log [info] greeting number 1");
    // Scaffolding over an existing directory is refused.
    let (code, out) = run(&["service", "new", crate_dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert_has(&out, "already exists");
}

#[test]
fn a_failed_accumulation_keeps_no_changes() {
    // kv's accumulate of one command uses about 1100 gas: 500 runs it out of gas before its
    // write, and with no checkpoint Ψ_A keeps none of its changes (GP 0.7.2 §B.4).
    let state = tempfile::tempdir().unwrap();
    let kv = blob("kv");
    let (code, out) =
        service_run(&kv, &hex(b"name=orrery"), Some(state.path()), &["--accumulate-gas", "500"]);
    assert_eq!(code, 2, "{out}");
    assert_has(&out, "refine: halted");
    assert_has(&out, "accumulate (round 0) service 65536, the refine output: OUT OF GAS at pc");
    assert_has(&out, "gas used 500 of 500");
    assert_has(&out, "changes:\n    none");
    // The next run finds no value under `name`.
    let (code, out) = service_run(&kv, &hex(b"name=jam"), Some(state.path()), &[]);
    assert_eq!(code, 0, "{out}");
    assert_has(&out, &format!("storage \"name\" = 0x{} (\"jam\") (new)", hex(b"jam")));
}

#[test]
fn build_names_a_missing_tool_and_the_install_command() {
    let (code, out) = orrery()
        .args(["service", "build", repo().join("services/kv").to_str().unwrap()])
        .env("ORRERY_GUEST_LD", "/nonexistent/ld.lld-19")
        .output()
        .map(|o| (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stderr).into_owned()))
        .unwrap();
    assert_eq!(code, 1, "{out}");
    assert_has(&out, "ld.lld-19 is missing or unusable");
    assert_has(&out, "apt-get update && apt-get install -y rustc-web cargo-web rust-web-src lld-19");
}

/// Runs service `id` of the state with the code it holds there (no blob).
fn call(id: u32, payload: &str, state: &Path) -> (i32, String) {
    let id = id.to_string();
    run(&["service", "run", "--id", &id, "--payload", payload, "--state", state.to_str().unwrap()])
}

/// The id after `prefix` on some line of `text`.
fn id_after(text: &str, prefix: &str) -> u32 {
    let at = text.find(prefix).unwrap_or_else(|| panic!("no {prefix:?} in:\n{text}")) + prefix.len();
    text[at..].split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
}

#[test]
fn the_manager_deploys_funds_and_upgrades_and_the_deployed_code_runs() {
    let state = tempfile::tempdir().unwrap();
    let payloads = tempfile::tempdir().unwrap();
    let manager = blob("manager");
    let kv = std::fs::read(blob("kv")).unwrap();

    // Deploy kv: [0] ++ E8(item gas) ++ E8(memo gas) ++ E8(endowment) ++ code.
    let mut deploy = vec![0u8];
    for field in [1_000u64, 1_000_000, 5_000] {
        deploy.extend_from_slice(&field.to_le_bytes());
    }
    deploy.extend_from_slice(&kv);
    let file = payloads.path().join("deploy");
    std::fs::write(&file, &deploy).unwrap();
    let (code, out) =
        service_run(&manager, &format!("@{}", file.display()), Some(state.path()), &["--id", "0"]);
    assert_eq!(code, 0, "{out}");
    let id = id_after(&out, "log [info] deployed service ");
    assert_has(&out, &format!("service {id} created"));
    assert_has(&out, &format!("0 storage \"last\" = 0x{}", hex(&id.to_le_bytes())));
    assert_has(&out, &format!("transfer 0 -> {id}: amount 5000, gas 1000000, memo \"endowment\""));

    // The new service runs the code the manager provided: kv, by the hash of kv's blob.
    let (code, out) = call(id, &hex(b"name=orrery\n"), state.path());
    assert_eq!(code, 0, "{out}");
    assert_has(&out, &format!("service {id}: service {id}'s code on chain (kv "));
    assert_has(&out, &format!("code hash 0x{}", hex(&blake2b_256(&kv))));
    assert_has(&out, &format!("{id} storage \"name\" = 0x{} (\"orrery\") (new)", hex(b"orrery")));

    // Fund: [1] ++ E4(service) ++ E8(amount) ++ E8(gas).
    let mut fund = vec![1u8];
    fund.extend_from_slice(&id.to_le_bytes());
    fund.extend_from_slice(&777u64.to_le_bytes());
    fund.extend_from_slice(&1_000_000u64.to_le_bytes());
    let (code, out) = call(0, &hex(&fund), state.path());
    assert_eq!(code, 0, "{out}");
    assert_has(&out, &format!("log [info] funded service {id} with 777"));
    assert_has(&out, &format!("transfer 0 -> {id}: amount 777, gas 1000000, memo \"fund\""));

    // Upgrade the manager to hasher's code: [2] ++ E8(item gas) ++ E8(memo gas) ++ code.
    let hasher = std::fs::read(blob("hasher")).unwrap();
    let mut upgrade = vec![2u8];
    upgrade.extend_from_slice(&1_000u64.to_le_bytes());
    upgrade.extend_from_slice(&1_000u64.to_le_bytes());
    upgrade.extend_from_slice(&hasher);
    std::fs::write(&file, &upgrade).unwrap();
    let (code, out) = call(0, &format!("@{}", file.display()), state.path());
    assert_eq!(code, 0, "{out}");
    assert_has(&out, "log [info] upgraded the manager");
    let (code, out) = call(0, &hex(b"abc"), state.path());
    assert_eq!(code, 0, "{out}");
    assert_has(&out, &format!("code hash 0x{}", hex(&blake2b_256(&hasher))));
    assert_has(&out, &format!("0 storage \"digest\" = 0x{}", hex(&blake2b_256(b"abc"))));

    // A command of the wrong shape makes refine panic; nothing changes.
    let (code, out) = service_run(&manager, "09", Some(state.path()), &["--id", "1"]);
    assert_eq!(code, 2, "{out}");
    assert_has(&out, "unknown command 9");
    // A deploy by hash without its fields: [8] alone.
    let (code, out) = service_run(&manager, "08", Some(state.path()), &["--id", "1"]);
    assert_eq!(code, 2, "{out}");
    assert_has(&out, "command 8: 0 octets after the command, not 60");
    // An eject without its service and hash: [7] alone.
    let (code, out) = service_run(&manager, "07", Some(state.path()), &["--id", "1"]);
    assert_eq!(code, 2, "{out}");
    assert_has(&out, "command 7: 0 octets after the command, not 36");
    // A service id that is not there, and no code: an error, not a panic.
    let (code, out) = call(12345, "", state.path());
    assert_eq!(code, 1, "{out}");
    assert_has(&out, "service 12345 is not in the state");
}
