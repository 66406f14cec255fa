//! Building a JAM service blob from a Rust crate: what `orrery service build` runs.
//!
//! The recipe is the workspace's `SERVICE-TOOLCHAIN.md`, done by one function, [`build`]:
//!
//! 1. [`toolchain::check`]: Debian's `rustc`/`cargo` (1.91+), the library sources and `ld.lld-19`
//!    are there, or the error names the missing one and [`toolchain::INSTALL_COMMAND`];
//! 2. `cargo metadata` names the package, its library and every crate it builds from, and so
//!    which guest API it is written on ([`sdk::check`]): `orrery-service-sdk`, or Parity's
//!    `jam-pvm-common` 0.1.28 (the release for GP 0.7.2). Another `jam-pvm-common` (0.1.29 is for
//!    GP 0.8.0), a `jam-types` other than 0.1.28, or a `picosimd` whose build script cannot read
//!    Debian rustc's version string is refused here, with the fix, before anything compiles;
//! 3. `cargo rustc --lib --crate-type staticlib --release -Zbuild-std=core,alloc` for
//!    polkavm-linker's RISC-V target spec ([`toolchain::target_json`]), with every source path
//!    remapped to a fixed name, so that no path of the build machine reaches the blob. The crate
//!    type is given here, so the manifest's (none, as Parity documents, or `cdylib`) does not
//!    matter;
//! 4. `ld.lld-19` links the staticlib into an ELF;
//! 5. [`blob::link`]: polkavm-linker (a library here, `JamV1` instruction set) turns the ELF into a
//!    program whose dispatch table puts the entry points where the invocations start (refine at 0,
//!    accumulate at 5, or is-authorized at 0), chosen by the exports found: `orrery-service-sdk`'s
//!    or Parity's `jam-pvm-common`'s. Parity's crates are linked by polkavm-linker 0.30, whose
//!    `JamV1` is GP 0.7.2's with `sbrk`; the rest by 0.37, whose opcodes are renumbered into GP
//!    0.7.2's ([`blob::Linker`] says why two);
//! 6. [`blob::service_blob`]: the standard program `E(↕m, c)` of GP 0.7.2 §9.1 and eq. A.38, with
//!    JIP-6 metadata `m` from the package's name, version, license and authors.
//!
//! The same sources, lock file and tool-chain give the same blob, octet for octet: the build
//! reads no clock, the paths are remapped, every crate's identity is free of paths
//! ([`stable_ids`]: rustc runs through a wrapper that rewrites cargo's `-C metadata`),
//! polkavm-linker is deterministic, and the symbols are stripped. `crates/cli/tests/service.rs`
//! builds a service whose path dependencies sit outside its workspace in two directories and
//! compares both with the committed blob.

#![forbid(unused_must_use)]

pub mod blob;
pub mod sdk;
pub mod stable_ids;
pub mod toolchain;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub use blob::{link, service_blob, to_gp_opcodes, Entries, Linked, Linker, Metadata};
pub use sdk::GuestApi;
pub use toolchain::{check, target_json, ToolPaths, Toolchain, INSTALL_COMMAND};

/// polkavm-linker's target name: the file stem of the spec, which cargo uses as the target
/// directory's name.
pub const TARGET_NAME: &str = "riscv64emac-unknown-none-polkavm";

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{tool} is missing or unusable ({detail}); it comes with the Debian package {package}.\ninstall the service tool-chain with:\n    {cmd}", cmd = INSTALL_COMMAND)]
    MissingTool { tool: String, package: String, detail: String },
    #[error("target spec: {0}")]
    TargetSpec(String),
    #[error("{0}")]
    Manifest(String),
    #[error("`{command}` failed{status}")]
    Command { command: String, status: String },
    #[error("linking the ELF into a PVM program: {0}")]
    Link(String),
    #[error("not a JAM service or authorizer: the program exports {}, none of them the entry points of orrery-service-sdk (`refine!` with `accumulate!`, or `is_authorized!`) or of jam-pvm-common 0.1.28 (`declare_service!`, `declare_authorizer!`)", exports_in_words(.0))]
    NoEntryPoints(Vec<String>),
    #[error("{0}")]
    Sdk(#[from] sdk::SdkError),
    #[error("{what} is {value}, too large for the service blob layout")]
    TooLarge { what: &'static str, value: u64 },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

fn exports_in_words(exports: &[String]) -> String {
    if exports.is_empty() {
        "nothing".into()
    } else {
        exports.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ")
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io { path: path.to_owned(), source }
}

/// What to build and where to put it.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The service crate's directory (holding its `Cargo.toml`).
    pub crate_dir: PathBuf,
    /// Where to write `NAME.jam`: the crate's directory when `None`.
    pub out_dir: Option<PathBuf>,
    pub tools: ToolPaths,
    /// Show cargo's progress, not only its warnings and errors.
    pub verbose: bool,
    /// The program cargo runs rustc through, to give every crate an identity that does not
    /// depend on where the sources sit ([`stable_ids`]). `None`: this process's own executable,
    /// whose `main` then starts with [`stable_ids::run_if_invoked`] (the `orrery` binary's does).
    pub rustc_wrapper: Option<PathBuf>,
}

/// A finished build.
#[derive(Debug, Clone)]
pub struct Built {
    /// The package name, which names the blob.
    pub name: String,
    pub metadata: Metadata,
    /// `E(↕m, c)`.
    pub blob: Vec<u8>,
    pub blob_path: PathBuf,
    /// The ELF the blob was made from, for inspection with standard tools.
    pub elf_path: PathBuf,
    /// `blake2b-256` of the blob: the service's code hash.
    pub code_hash: [u8; 32],
    /// The guest API found in the crate's dependencies.
    pub api: GuestApi,
    pub linked: Linked,
}

/// The parts of `cargo metadata` a build needs.
#[derive(Debug, Clone)]
struct Package {
    name: String,
    metadata: Metadata,
    /// The library target's crate name (`-` turned `_`), which names the archive.
    lib_name: String,
    workspace_root: PathBuf,
    target_dir: PathBuf,
    /// The directories of every other crate the build compiles, with a fixed name for each.
    dependency_dirs: Vec<(PathBuf, String)>,
    /// Every package the library builds from (dev-dependencies left out), by name and version.
    dependencies: Vec<(String, String)>,
}

fn metadata_of(toolchain: &Toolchain, manifest: &Path) -> Result<Package, BuildError> {
    let output = Command::new(&toolchain.cargo)
        .args(["metadata", "--format-version", "1"])
        .arg("--manifest-path")
        .arg(manifest)
        .env("RUSTC", &toolchain.rustc)
        .stderr(Stdio::inherit())
        .output()
        .map_err(io(&toolchain.cargo))?;
    if !output.status.success() {
        return Err(BuildError::Command {
            command: format!("cargo metadata --manifest-path {}", manifest.display()),
            status: format!(" ({})", output.status),
        });
    }
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| BuildError::Manifest(format!("cargo metadata gave no JSON: {e}")))?;
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let packages = json["packages"].as_array().cloned().unwrap_or_default();
    let manifest_str = manifest.display().to_string();
    let package = packages
        .iter()
        .find(|p| p["manifest_path"].as_str() == Some(manifest_str.as_str()))
        .ok_or_else(|| BuildError::Manifest(format!("{manifest_str}: no package (a virtual workspace?)")))?;
    // Any library target: `cargo rustc --crate-type staticlib` decides what it is built as.
    const LIBRARY_KINDS: [&str; 5] = ["lib", "rlib", "staticlib", "cdylib", "dylib"];
    let lib = package["targets"]
        .as_array()
        .and_then(|targets| {
            targets.iter().find(|t| {
                t["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| LIBRARY_KINDS.contains(&k.as_str().unwrap_or(""))))
            })
        })
        .ok_or_else(|| {
            BuildError::Manifest(format!(
                "{manifest_str}: no library target: a service or authorizer is a library crate (`src/lib.rs`)"
            ))
        })?;
    let workspace_root = PathBuf::from(text(&json["workspace_root"]));
    let authors = package["authors"].as_array().map(|a| a.iter().map(text).collect()).unwrap_or_default();
    let mut dependency_dirs = Vec::new();
    let mut seen = BTreeSet::new();
    for p in &packages {
        let dir =
            PathBuf::from(text(&p["manifest_path"])).parent().map(Path::to_path_buf).unwrap_or_default();
        if dir.starts_with(&workspace_root) || !seen.insert(dir.clone()) {
            continue;
        }
        dependency_dirs.push((dir, format!("/deps/{}-{}", text(&p["name"]), text(&p["version"]))));
    }
    let dependencies = sdk::build_dependencies(&json, &text(&package["id"]));
    Ok(Package {
        name: text(&package["name"]),
        metadata: Metadata {
            name: text(&package["name"]),
            version: text(&package["version"]),
            license: text(&package["license"]),
            authors,
        },
        lib_name: text(&lib["name"]).replace('-', "_"),
        workspace_root,
        target_dir: PathBuf::from(text(&json["target_directory"])),
        dependency_dirs,
        dependencies,
    })
}

/// `--remap-path-prefix` for every directory the build reads sources from or writes generated
/// sources to: panic messages carry file names, and the blob must not depend on where the
/// sources sit.
fn remap_flags(toolchain: &Toolchain, package: &Package) -> Vec<String> {
    let mut flags = Vec::new();
    let mut remap =
        |from: &Path, to: &str| flags.push(format!("--remap-path-prefix={}={to}", from.display()));
    remap(&toolchain.library_src, "/rust/library");
    for (dir, name) in &package.dependency_dirs {
        remap(dir, name);
    }
    remap(&package.workspace_root, "/service");
    remap(&package.target_dir, "/target");
    flags
}

fn run(mut command: Command, what: String) -> Result<(), BuildError> {
    let status = command
        .status()
        .map_err(|e| BuildError::Command { command: what.clone(), status: format!(": {e}") })?;
    if !status.success() {
        return Err(BuildError::Command { command: what, status: format!(" ({status})") });
    }
    Ok(())
}

/// Builds the service crate in `options.crate_dir` into `NAME.jam`.
pub fn build(options: &BuildOptions) -> Result<Built, BuildError> {
    let toolchain = toolchain::check(&options.tools)?;
    let crate_dir = options.crate_dir.canonicalize().map_err(io(&options.crate_dir))?;
    let manifest = crate_dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(BuildError::Manifest(format!("{}: no Cargo.toml", crate_dir.display())));
    }
    let package = metadata_of(&toolchain, &manifest)?;
    let api = sdk::check(&package.name, &package.dependencies, &toolchain.rustc_version, &manifest)?;

    let work = package.target_dir.join("orrery");
    std::fs::create_dir_all(&work).map_err(io(&work))?;
    let spec_path = work.join(format!("{TARGET_NAME}.json"));
    let spec = toolchain::target_json()?;
    // Rewritten only when it changed, so that cargo's fingerprints stay fresh.
    if std::fs::read_to_string(&spec_path).ok().as_deref() != Some(spec.as_str()) {
        std::fs::write(&spec_path, spec).map_err(io(&spec_path))?;
    }

    let wrapper = match &options.rustc_wrapper {
        Some(path) => path.clone(),
        None => std::env::current_exe().map_err(io(Path::new("the running executable")))?,
    };
    let mut cargo = Command::new(&toolchain.cargo);
    cargo
        .args(["rustc", "--release", "--lib", "--crate-type", "staticlib"])
        .args(["-Zbuild-std=core,alloc", "-Zjson-target-spec"])
        .arg("--target")
        .arg(&spec_path)
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&package.target_dir)
        .env("RUSTC", &toolchain.rustc)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_ENCODED_RUSTFLAGS", remap_flags(&toolchain, &package).join("\u{1f}"))
        .env("RUSTC_WRAPPER", &wrapper)
        .env(stable_ids::ENV, "1")
        // Outside settings that would change the code: the build is the same wherever it runs.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET");
    if !options.verbose {
        cargo.arg("--quiet");
    }
    run(cargo, format!("cargo rustc (in {})", crate_dir.display()))?;

    let archive =
        package.target_dir.join(TARGET_NAME).join("release").join(format!("lib{}.a", package.lib_name));
    let elf_path = work.join(format!("{}.elf", package.name));
    let mut lld = Command::new(&toolchain.linker);
    lld.args([
        "--emit-relocs",
        "--unique",
        "--apply-dynamic-relocs",
        "--no-allow-shlib-undefined",
        "-Bsymbolic",
        "-shared",
        // polkavm-linker rejects local file symbols, which have no section.
        "--discard-all",
        "--gc-sections",
        "--whole-archive",
    ])
    .arg(&archive)
    .arg("-o")
    .arg(&elf_path);
    run(lld, format!("ld.lld-19 {}", archive.display()))?;

    let elf = std::fs::read(&elf_path).map_err(io(&elf_path))?;
    let linked = blob::link(&elf, api.linker())?;
    let blob = blob::service_blob(&package.metadata.encode(), &linked)?;
    // Named as the caller named the crate, so that messages show the path they gave.
    let out_dir = options.out_dir.clone().unwrap_or_else(|| options.crate_dir.clone());
    std::fs::create_dir_all(&out_dir).map_err(io(&out_dir))?;
    let blob_path = out_dir.join(format!("{}.jam", package.name));
    std::fs::write(&blob_path, &blob).map_err(io(&blob_path))?;
    Ok(Built {
        name: package.name,
        metadata: package.metadata,
        code_hash: orrery_crypto::blake2b_256(&blob),
        blob,
        blob_path,
        elf_path,
        api,
        linked,
    })
}
