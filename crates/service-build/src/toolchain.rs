//! The guest tool-chain of `SERVICE-TOOLCHAIN.md`: Debian's `rustc` and `cargo` (1.91 or later,
//! for polkavm-linker's target spec) with the library sources that `-Zbuild-std` compiles, and
//! `ld.lld-19`. Each is checked before a build, and a missing one is named with the command that
//! installs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::BuildError;

/// The one command that installs the whole tool-chain on Debian 12.
pub const INSTALL_COMMAND: &str =
    "apt-get update && apt-get install -y rustc-web cargo-web rust-web-src lld-19";

/// The oldest rustc whose target-spec format polkavm-linker 0.37's 1.91 spec is written for.
pub const MIN_RUSTC_MINOR: u32 = 91;

/// The tools a build runs, found and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toolchain {
    pub cargo: PathBuf,
    pub rustc: PathBuf,
    /// `rustc --version`, which also goes into the build's fingerprint.
    pub rustc_version: String,
    pub linker: PathBuf,
    /// `<sysroot>/lib/rustlib/src/rust/library`.
    pub library_src: PathBuf,
}

/// Where to look: Debian's packages put the tools in `/usr/bin`, while rustup's `cargo` and `rustc`
/// usually come first on `PATH` and cannot build `core` from source; so the Debian ones are used
/// by full path. `ORRERY_GUEST_CARGO`, `ORRERY_GUEST_RUSTC` and `ORRERY_GUEST_LD` override them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolPaths {
    pub cargo: PathBuf,
    pub rustc: PathBuf,
    pub linker: PathBuf,
}

impl Default for ToolPaths {
    fn default() -> Self {
        let pick =
            |var: &str, default: &str| std::env::var_os(var).map_or_else(|| default.into(), PathBuf::from);
        Self {
            cargo: pick("ORRERY_GUEST_CARGO", "/usr/bin/cargo"),
            rustc: pick("ORRERY_GUEST_RUSTC", "/usr/bin/rustc"),
            linker: pick("ORRERY_GUEST_LD", "/usr/bin/ld.lld-19"),
        }
    }
}

fn missing(tool: &str, package: &str, detail: String) -> BuildError {
    BuildError::MissingTool { tool: tool.into(), package: package.into(), detail }
}

fn run_version(path: &Path, tool: &str, package: &str) -> Result<String, BuildError> {
    let output = Command::new(path)
        .arg("--version")
        .output()
        .map_err(|e| missing(tool, package, format!("{}: {e}", path.display())))?;
    if !output.status.success() {
        return Err(missing(tool, package, format!("`{} --version` failed", path.display())));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// `1.96.0` from `rustc 1.96.0 (… )` or `cargo 1.96.0 (…)`: the minor version.
fn minor_version(version: &str) -> Option<u32> {
    let number = version.split_whitespace().nth(1)?;
    let mut parts = number.split('.');
    let major: u32 = parts.next()?.parse().ok()?;
    let minor: u32 = parts.next()?.parse().ok()?;
    (major == 1).then_some(minor)
}

/// Finds and checks every tool; the first missing one is the error.
pub fn check(paths: &ToolPaths) -> Result<Toolchain, BuildError> {
    let rustc_version = run_version(&paths.rustc, "rustc", "rustc-web")?;
    if minor_version(&rustc_version).is_none_or(|minor| minor < MIN_RUSTC_MINOR) {
        return Err(missing(
            "rustc",
            "rustc-web",
            format!("{} is `{rustc_version}`; 1.{MIN_RUSTC_MINOR} or later is needed", paths.rustc.display()),
        ));
    }
    let cargo_version = run_version(&paths.cargo, "cargo", "cargo-web")?;
    if minor_version(&cargo_version).is_none_or(|minor| minor < MIN_RUSTC_MINOR) {
        return Err(missing(
            "cargo",
            "cargo-web",
            format!("{} is `{cargo_version}`; 1.{MIN_RUSTC_MINOR} or later is needed", paths.cargo.display()),
        ));
    }
    let sysroot = Command::new(&paths.rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| missing("rustc", "rustc-web", e.to_string()))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    let library_src = sysroot.join("lib/rustlib/src/rust/library");
    if !library_src.join("core/src/lib.rs").is_file() || !library_src.join("Cargo.lock").is_file() {
        return Err(missing(
            "the Rust library sources",
            "rust-web-src",
            format!("{} has no core sources", library_src.display()),
        ));
    }
    run_version(&paths.linker, "ld.lld-19", "lld-19")?;
    Ok(Toolchain {
        cargo: paths.cargo.clone(),
        rustc: paths.rustc.clone(),
        rustc_version,
        linker: paths.linker.clone(),
        library_src,
    })
}

/// polkavm-linker's 64-bit target spec for rustc 1.91+, with the two edits Debian's tool-chain
/// needs: `ld.lld-19` as the linker (Debian's `rust-lld` points at a missing lld), and no
/// `only-cdylib`, since the guest is built as a staticlib and linked by hand (Debian's rustc
/// fails an assertion when it links a cdylib with a non-cc linker flavour). rustc never runs this
/// linker for a staticlib; the name stays fixed so that the spec, which is part of every crate's
/// fingerprint, is the same on every machine.
pub fn target_json() -> Result<String, BuildError> {
    let spec = polkavm_linker::TARGET_JSON_64_BIT_NEW;
    if !spec.contains("\"rust-lld\"") {
        return Err(BuildError::TargetSpec("polkavm-linker's target spec no longer names rust-lld".into()));
    }
    let edited: Vec<String> = spec
        .lines()
        .filter(|line| !line.contains("\"only-cdylib\""))
        .map(|line| line.replace("\"rust-lld\"", "\"ld.lld-19\""))
        .collect();
    let text = edited.join("\n") + "\n";
    serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| BuildError::TargetSpec(format!("the edited target spec is not JSON: {e}")))?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(
            minor_version("rustc 1.96.0 (ac68faa20 2026-05-25) (built from a source tarball)"),
            Some(96)
        );
        assert_eq!(minor_version("cargo 1.95.0 (f2d3ce0bd 2026-03-21)"), Some(95));
        assert_eq!(minor_version("rustc 2.0.0"), None);
        assert_eq!(minor_version("nonsense"), None);
    }

    #[test]
    fn target_spec_names_the_linker_and_drops_only_cdylib() {
        let spec = target_json().unwrap();
        let json: serde_json::Value = serde_json::from_str(&spec).unwrap();
        assert_eq!(json["linker"], "ld.lld-19");
        assert!(json.get("only-cdylib").is_none());
        assert_eq!(json["env"], "polkavm");
        assert_eq!(json["arch"], "riscv64");
    }

    #[test]
    fn a_missing_tool_names_its_package_and_the_install_command() {
        let paths = ToolPaths {
            cargo: "/usr/bin/cargo".into(),
            rustc: "/nonexistent/rustc".into(),
            linker: "/usr/bin/ld.lld-19".into(),
        };
        let error = check(&paths).unwrap_err().to_string();
        assert!(error.contains("rustc-web"), "{error}");
        assert!(error.contains(INSTALL_COMMAND), "{error}");
    }
}
