//! Services written with Parity's SDK (`jam-pvm-common` 0.1.28, GP 0.7.2's release), built by
//! `orrery service build` with nothing changed in their sources and run by `orrery service run`,
//! through the binary: the fixtures `tests/fixtures/parity-min` (Parity's documented manifest, no
//! crate type) and `parity-auth` (an authorizer declared `cdylib`), and the published
//! `jam-bootstrap-service` 0.1.28 from crates.io (its own lock file, which pins a `picosimd` that
//! Debian's rustc breaks). Then the refusals: a program with no entry points, and the GP 0.8.0 SDK
//! (`jam-pvm-common` 0.1.29). Expected values are worked out here from the services' sources,
//! never taken from the code under test.
//!
//! The crates come from crates.io (or a filled `~/.cargo/registry`). Without them these tests fail
//! and say so; `ORRERY_OFFLINE=1` skips them instead, saying that it did.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn orrery() -> Command {
    Command::new(env!("CARGO_BIN_EXE_orrery"))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// The cargo `orrery service build` runs, which fetches the guests' crates.
fn guest_cargo() -> PathBuf {
    std::env::var_os("ORRERY_GUEST_CARGO").map_or_else(|| "/usr/bin/cargo".into(), PathBuf::from)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn text_of(output: Output) -> (i32, String) {
    let text =
        String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap_or(-1), text)
}

fn run(args: &[&str]) -> (i32, String) {
    text_of(orrery().args(args).env_remove("CARGO_TARGET_DIR").output().unwrap())
}

fn build(dir: &Path) -> (i32, String) {
    run(&["service", "build", dir.to_str().unwrap()])
}

fn service_run(blob: &Path, payload: &[u8], state: &Path) -> (i32, String) {
    let args = ["service", "run", blob.to_str().unwrap(), "--payload", &hex(payload), "--state"];
    text_of(orrery().args(args).arg(state).output().unwrap())
}

fn assert_has(text: &str, line: &str) {
    assert!(text.contains(line), "expected {line:?} in:\n{text}");
}

/// Copies a crate's files (not its `target/`) to `to`.
fn copy_crate(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" || name == ".cargo-ok" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_crate(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

/// Downloads what `manifest`'s lock names, or says what the test needs: `false` means skip (only
/// when `ORRERY_OFFLINE=1` asks for it).
fn fetched(manifest: &Path) -> bool {
    let output = Command::new(guest_cargo()).arg("fetch").arg("--manifest-path").arg(manifest).output();
    let error = match output {
        Ok(o) if o.status.success() => return true,
        Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
        Err(e) => format!("{}: {e}", guest_cargo().display()),
    };
    if std::env::var_os("ORRERY_OFFLINE").is_some_and(|v| v == "1") {
        eprintln!("SKIPPED (ORRERY_OFFLINE=1): crates.io is not reachable: {error}");
        return false;
    }
    panic!(
        "this test builds services written with Parity's SDK and needs their crates from crates.io \
         (jam-pvm-common 0.1.28, jam-bootstrap-service 0.1.28 and their dependencies, fetched once into \
         ~/.cargo/registry), but `cargo fetch --manifest-path {}` failed:\n{error}\nRun it where crates.io \
         is reachable, or set ORRERY_OFFLINE=1 to skip these tests.",
        manifest.display()
    );
}

/// The published bootstrap service's crate, as crates.io has it (with its lock file), copied to
/// `to`; `None` when offline and skipping.
fn bootstrap_crate(work: &Path, to: &Path) -> Option<()> {
    let fetch = work.join("fetch");
    std::fs::create_dir_all(&fetch).unwrap();
    std::fs::write(
        fetch.join("Cargo.toml"),
        "[package]\nname = \"fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n[lib]\npath = \"lib.rs\"\n\
         [workspace]\n[dependencies]\njam-bootstrap-service = \"=0.1.28\"\n",
    )
    .unwrap();
    std::fs::write(fetch.join("lib.rs"), "").unwrap();
    if !fetched(&fetch.join("Cargo.toml")) {
        return None;
    }
    let metadata = Command::new(guest_cargo())
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(fetch.join("Cargo.toml"))
        .output()
        .unwrap();
    assert!(metadata.status.success(), "{}", String::from_utf8_lossy(&metadata.stderr));
    let json = String::from_utf8(metadata.stdout).unwrap();
    // The manifest path of the one package named so, without a JSON parser in this test.
    let at = json.find("\"name\":\"jam-bootstrap-service\",\"version\":\"0.1.28\"").expect("in the metadata");
    let path_at = at + json[at..].find("\"manifest_path\":\"").unwrap() + "\"manifest_path\":\"".len();
    let manifest = &json[path_at..path_at + json[path_at..].find('"').unwrap()];
    copy_crate(Path::new(manifest).parent().unwrap(), to);
    Some(())
}

#[test]
fn parity_sdk_services_build_unchanged_and_run() {
    let work = tempfile::tempdir().unwrap();
    // The fixtures' workspace (parity-min and not-a-service, one lock file), copied whole.
    let fixtures = work.path().join("fixtures");
    copy_crate(&fixture(""), &fixtures);
    if !fetched(&fixtures.join("Cargo.toml")) {
        return;
    }
    let min = fixtures.join("parity-min");

    // The fixture: no crate type in its manifest; refine prefixes, accumulate stores.
    let (code, out) = build(&min);
    assert_eq!(code, 0, "{out}");
    assert_has(&out, "service (jam-pvm-common): refine at 0, accumulate at 5");
    assert_has(&out, "linked by polkavm-linker 0.30, GP 0.7.2 numbering");
    let blob = min.join("parity-min.jam");
    let (code, out) = run(&["service", "inspect", blob.to_str().unwrap(), "--no-disassembly"]);
    assert_eq!(code, 0, "{out}");
    assert_has(&out, "metadata     parity-min 0.1.0 (license Apache-2.0, authors Orrery developers; JIP-6)");
    assert_has(&out, "     0  refine: jump @");
    assert_has(&out, "     5  accumulate: jump @");

    let state = work.path().join("state");
    let (code, out) = service_run(&blob, b"world", &state);
    assert_eq!(code, 0, "{out}");
    assert_has(&out, "refine: halted");
    assert_has(&out, &format!("output 0x{} (\"parity: world\")", hex(b"parity: world")));
    assert_has(
        &out,
        &format!("65536 storage \"last\" = 0x{} (\"parity: world\") (new)", hex(b"parity: world")),
    );
    assert_has(&out, &format!("65536 storage \"count\" = 0x{} (4 octets) (new)", hex(&1u32.to_le_bytes())));
    assert_has(&out, "log [info] stored output 1");
    let (code, out) = service_run(&blob, b"JAM", &state);
    assert_eq!(code, 0, "{out}");
    assert_has(
        &out,
        &format!(
            "storage \"last\" = 0x{} (\"parity: JAM\") (was 0x{}",
            hex(b"parity: JAM"),
            hex(b"parity: world")
        ),
    );
    assert_has(&out, &format!("storage \"count\" = 0x{} (4 octets) (was", hex(&2u32.to_le_bytes())));

    // An authorizer whose manifest says `cdylib`: built as a staticlib all the same.
    let auth = fixtures.join("parity-auth");
    let (code, out) = build(&auth);
    assert_eq!(code, 0, "{out}");
    assert_has(&out, "authorizer (jam-pvm-common): is-authorized at 0");
    let blob = auth.join("parity-auth.jam");
    let (code, out) = run(&["service", "inspect", blob.to_str().unwrap(), "--no-disassembly"]);
    assert_eq!(code, 0, "{out}");
    assert_has(&out, "     0  is-authorized (an authorizer; a service would have accumulate at 5): jump @");

    // A program on the same SDK that declares no service: named as such, not a linker error.
    let not = fixtures.join("not-a-service");
    let (code, out) = build(&not);
    assert_eq!(code, 1, "{out}");
    assert_has(&out, "error: not a JAM service or authorizer: the program exports `hello`, none of them");

    // The published bootstrap service, as crates.io has it.
    let boot = work.path().join("jam-bootstrap-service");
    if bootstrap_crate(work.path(), &boot).is_none() {
        return;
    }
    let (code, out) = build(&boot);
    assert_eq!(code, 1, "{out}");
    assert_has(&out, "jam-bootstrap-service's Cargo.lock pins picosimd 0.9.2");
    let manifest = boot.join("Cargo.toml");
    let fix = format!("cargo update --manifest-path {} -p picosimd", manifest.display());
    assert_has(&out, &fix);
    // The fix it names changes the lock only.
    let update = Command::new(guest_cargo())
        .args(["update", "--manifest-path", manifest.to_str().unwrap(), "-p", "picosimd"])
        .output()
        .unwrap();
    assert!(update.status.success(), "{}", String::from_utf8_lossy(&update.stderr));
    let (code, out) = build(&boot);
    assert_eq!(code, 0, "{out}");
    assert_has(&out, "service (jam-pvm-common): refine at 0, accumulate at 5");
    let blob = boot.join("jam-bootstrap-service.jam");

    // Payloads are `Instruction`s of jam-bootstrap-service-common 0.1.28, encoded by hand: the
    // variant's index, then its fields (u32/u64 little-endian, hashes and the 128-octet memo as
    // they are). Solicit (6) {hash, len}, Yield (14) {hash}, Checkpoint (15), Panic (16),
    // Transfer (2) {destination, amount, gas_limit, memo}.
    let (requested, yielded, again) = ([0x11u8; 32], [0x22u8; 32], [0xabu8; 32]);
    let mut payload = vec![6];
    payload.extend_from_slice(&requested);
    payload.extend_from_slice(&5u64.to_le_bytes());
    payload.push(14);
    payload.extend_from_slice(&yielded);
    payload.push(15);
    payload.push(2);
    payload.extend_from_slice(&65536u32.to_le_bytes());
    payload.extend_from_slice(&1000u64.to_le_bytes());
    payload.extend_from_slice(&100_000u64.to_le_bytes());
    let mut memo = [0u8; 128];
    memo[..5].copy_from_slice(b"hello");
    payload.extend_from_slice(&memo);

    let state = work.path().join("boot-state");
    let (code, out) = service_run(&blob, &payload, &state);
    assert_eq!(code, 0, "{out}");
    assert_has(&out, "refine: halted");
    assert_has(&out, "accumulate (round 0) service 65536, the refine output: halted");
    assert_has(&out, "log [info boot] Solicited 0x1111111111111111... of length 5");
    assert_has(&out, &format!("65536 storage \"requested\" = 0x{} (32 octets) (new)", hex(&requested)));
    // The solicit's request entry a_l[(h, 5)] holds the empty list of slots: E(↕[]) = 0x00.
    assert_has(&out, " = 0x00 (1 octets) (new)");
    // `(destination, amount, memo)` as the service stores it: E4, E8, the memo.
    let mut transferred = 65536u32.to_le_bytes().to_vec();
    transferred.extend_from_slice(&1000u64.to_le_bytes());
    transferred.extend_from_slice(&memo);
    assert_has(&out, &format!("65536 storage \"transferred\" = 0x{} (140 octets) (new)", hex(&transferred)));
    assert_has(&out, &format!("  yield 0x{}", hex(&yielded)));
    assert_has(&out, "Checkpointed!");
    assert_has(&out, "transfer 65536 -> 65536: amount 1000, gas 100000, memo \"hello\"");
    assert_has(&out, "accumulate (round 1) service 65536, 1 transfer(s) in: halted");
    assert_has(&out, "Received transfer from 65536 of 1000 with memo hello");
    assert_has(
        &out,
        &format!("65536 storage \"transfer-count\" = 0x{} (4 octets) (new)", hex(&1u32.to_le_bytes())),
    );

    // Solicit, checkpoint, then panic: the accumulation fails, and what it did before its
    // checkpoint stays (GP 0.7.2 §B.4).
    let mut payload = vec![6];
    payload.extend_from_slice(&again);
    payload.extend_from_slice(&7u64.to_le_bytes());
    payload.extend_from_slice(&[15, 16]);
    let (code, out) = service_run(&blob, &payload, &state);
    assert_eq!(code, 2, "{out}");
    assert_has(&out, "accumulate (round 0) service 65536, the refine output: PANIC (trap) at pc");
    assert_has(&out, "Panic instruction executed!");
    assert_has(
        &out,
        &format!(
            "65536 storage \"requested\" = 0x{} (32 octets) (was 0x{} (32 octets))",
            hex(&again),
            hex(&requested)
        ),
    );
}

#[test]
fn the_gp_0_8_sdk_is_refused_by_name_before_compiling() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("parity-gp08");
    copy_crate(&fixture("parity-gp08"), &dir);
    if !fetched(&dir.join("Cargo.toml")) {
        return;
    }
    let (code, out) = build(&dir);
    assert_eq!(code, 1, "{out}");
    assert_has(&out, "parity-gp08 is built on jam-pvm-common 0.1.29, Parity's SDK for a later Gray Paper");
    assert_has(&out, "depend on `jam-pvm-common = \"=0.1.28\"` and `jam-types = \"=0.1.28\"`");
    // Refused from the dependency graph: nothing was compiled.
    assert!(!dir.join("target/riscv64emac-unknown-none-polkavm").exists(), "{out}");
}
