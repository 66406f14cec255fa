//! `orrery service new NAME`: a service crate that builds as it stands.

use std::path::{Path, PathBuf};

/// The SDK this binary was built with: `crates/service-sdk` beside the CLI's own sources.
pub fn default_sdk() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../service-sdk")
}

fn manifest(name: &str, sdk: &Path) -> String {
    let sdk = sdk.display().to_string().replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
license = "Apache-2.0"
publish = false

# A service is its own workspace: it is built for the PVM (`orrery service build`), not the host.
[workspace]

[lib]
crate-type = ["staticlib"]
path = "src/lib.rs"

[dependencies]
orrery-service-sdk = {{ path = "{sdk}" }}

[profile.release]
panic = "abort"
opt-level = 3
lto = true
codegen-units = 1
debug = false
"#
    )
}

const LIB: &str = r#"//! A JAM service for Orrery. Refine runs in-core on a work item's payload and returns the item's
//! output; accumulate runs on-chain with the outputs and changes the service's state.
//!
//! Build it with `orrery service build`, run it with `orrery service run NAME.jam --payload ...`.

#![no_std]

extern crate alloc;

use alloc::vec::Vec;

use orrery_service_sdk::accumulate::{inputs, Input, WorkResult};
use orrery_service_sdk::entry::{AccumulateArgs, RefineArgs};
use orrery_service_sdk::general::{read, write, Level, Service};

/// Refine: stateless, in-core. The output is what accumulate will see.
fn refine(args: RefineArgs<'_>) -> Vec<u8> {
    let mut greeting = b"Hello, ".to_vec();
    greeting.extend_from_slice(args.payload);
    greeting
}

/// Accumulate: on-chain, with the service's storage. Keeps the last greeting and counts them.
fn accumulate(args: AccumulateArgs) -> Option<[u8; 32]> {
    for input in inputs(args.input_count) {
        if let Input::Operand(operand) = input {
            if let WorkResult::Ok(greeting) = operand.result {
                write(b"greeting", &greeting).expect("the balance covers the storage");
                let count = read(Service::Me, b"count")
                    .and_then(|v| v.try_into().ok())
                    .map_or(0, u32::from_le_bytes);
                write(b"count", &(count + 1).to_le_bytes()).expect("the balance covers the storage");
                orrery_service_sdk::log!(Level::Info, "greeting number {}", count + 1);
            }
        }
    }
    None
}

orrery_service_sdk::refine!(refine);
orrery_service_sdk::accumulate!(accumulate);
"#;

/// Writes the crate `dir` (named after its last component) using the SDK at `sdk`.
pub fn create(dir: &Path, sdk: &Path) -> Result<String, String> {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{}: not a crate name", dir.display()))?
        .to_owned();
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(format!(
            "`{name}` is not a crate name (letters, digits, `-`, `_`, starting with a letter)"
        ));
    }
    if dir.exists() {
        return Err(format!("{} already exists", dir.display()));
    }
    let sdk = sdk
        .canonicalize()
        .map_err(|e| format!("the service SDK at {}: {e} (give its path with --sdk)", sdk.display()))?;
    if !sdk.join("Cargo.toml").is_file() {
        return Err(format!(
            "{}: not the service SDK (no Cargo.toml); give its path with --sdk",
            sdk.display()
        ));
    }
    let write = |path: PathBuf, text: &str| {
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    std::fs::create_dir_all(dir.join("src")).map_err(|e| format!("{}: {e}", dir.display()))?;
    write(dir.join("Cargo.toml"), &manifest(&name, &sdk))?;
    write(dir.join("src/lib.rs"), LIB)?;
    write(dir.join(".gitignore"), "/target\n*.jam\n")?;
    Ok(name)
}
