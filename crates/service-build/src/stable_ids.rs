//! Crate identities that do not depend on where the sources sit.
//!
//! cargo names every crate it compiles with `-C metadata=HASH`, and rustc derives from it the
//! crate's `StableCrateId`, so every item's `DefPathHash`, so the order in which codegen lays out
//! functions. For a path dependency outside the workspace root, cargo's hash covers the
//! dependency's absolute path. The same sources built in two checkouts then gave two function
//! orders and two blobs: the `registry` service, whose protocol crate and codec sit in `crates/`,
//! outside the `services/` workspace, came out different in CI's checkout than in ours (same
//! length, 817 octets apart). Remapping paths (the build's `--remap-path-prefix`es) fixes the file
//! names in panic messages; it does not reach this hash.
//!
//! So the build runs rustc through the process that started it, as `RUSTC_WRAPPER` with
//! [`ENV`] set, and [`run_if_invoked`] replaces cargo's metadata with a hash of what identifies
//! the unit without naming a directory of the machine: the crate name, crate types, edition,
//! `--cfg`s, codegen options and target, and the source file's path after the build's own
//! remapping. Two units of one build never share all of these (two versions of a crate differ in
//! their remapped source path, `/deps/NAME-VERSION/…`; a host and a target build of one crate in
//! `--target`), and none of them changes with the checkout's path.

use std::ffi::OsString;
use std::process::Command;

/// Set by [`crate::build`] on the cargo it runs: the process, started by cargo as
/// `RUSTC_WRAPPER RUSTC ARGS…`, is to run rustc with stable crate identities.
pub const ENV: &str = "ORRERY_STABLE_CRATE_IDS";

/// When this process was started by a service build's cargo as its rustc wrapper: runs rustc
/// with [`stabilise`]d arguments and returns its exit code, for `main` to exit with. `None`
/// otherwise. A program that builds services with [`crate::build`] and no explicit
/// [`crate::BuildOptions::rustc_wrapper`] calls this first thing in `main`.
pub fn run_if_invoked() -> Option<i32> {
    std::env::var_os(ENV)?;
    let mut args = std::env::args_os().skip(1);
    let Some(rustc) = args.next() else {
        eprintln!(
            "{ENV} is set but no rustc was given: this program runs as a rustc wrapper only under cargo"
        );
        return Some(2);
    };
    let args: Vec<OsString> = args.collect();
    // An argument that is not UTF-8 cannot be a flag cargo writes; leave such a command as it is.
    let args = match args.iter().map(|a| a.to_str().map(str::to_owned)).collect::<Option<Vec<String>>>() {
        Some(text) => stabilise(text).into_iter().map(OsString::from).collect(),
        None => args,
    };
    match Command::new(&rustc).args(&args).env_remove(ENV).status() {
        Ok(status) => Some(status.code().unwrap_or(1)),
        Err(e) => {
            eprintln!("running {}: {e}", rustc.to_string_lossy());
            Some(1)
        }
    }
}

/// rustc's arguments with `-C metadata=…` replaced by a hash of the unit's path-free identity
/// (the module doc says what it covers). A command without `-C metadata` is returned unchanged.
pub fn stabilise(args: Vec<String>) -> Vec<String> {
    // rustc applies the last matching `--remap-path-prefix` (FROM=TO, split at the last `=`).
    let remaps: Vec<(&str, &str)> = args
        .iter()
        .filter_map(|a| a.strip_prefix("--remap-path-prefix="))
        .filter_map(|r| r.rsplit_once('='))
        .collect();
    let remap = |path: &str| -> String {
        for (from, to) in remaps.iter().rev() {
            if let Some(rest) = path.strip_prefix(from) {
                return format!("{to}{rest}");
            }
        }
        path.to_owned()
    };

    let mut identity = String::new();
    let mut metadata_at = None;
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        // Flags cargo writes either as `FLAG VALUE` or as `FLAG=VALUE` (`-CVALUE` for `-C`).
        let (flag, value, step) = match arg {
            "--crate-name" | "--crate-type" | "--edition" | "--cfg" | "--target" | "-C" => {
                (arg, args.get(i + 1).map(String::as_str), 2)
            }
            _ => match arg.split_once('=') {
                Some((flag @ ("--crate-name" | "--crate-type" | "--edition" | "--cfg" | "--target"), v)) => {
                    (flag, Some(v), 1)
                }
                _ if arg.starts_with("-C") && arg.len() > 2 => ("-C", Some(&arg[2..]), 1),
                _ => (arg, None, 1),
            },
        };
        match (flag, value) {
            ("-C", Some(v)) if v.starts_with("metadata=") => {
                metadata_at = Some((i + step - 1, step == 2));
            }
            // Output file names and the incremental cache's directory: not part of the identity.
            ("-C", Some(v)) if v.starts_with("extra-filename=") || v.starts_with("incremental=") => {}
            ("--target", Some(v)) => identity.push_str(&format!("--target {}\n", remap(v))),
            (_, Some(v)) if flag.starts_with('-') => identity.push_str(&format!("{flag} {v}\n")),
            (source, None) if !source.starts_with('-') && source.ends_with(".rs") => {
                identity.push_str(&format!("source {}\n", remap(source)));
            }
            _ => {}
        }
        i += step;
    }

    let Some((at, separate)) = metadata_at else { return args };
    let hash = orrery_crypto::blake2b_256(identity.as_bytes());
    let hex: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
    let mut args = args;
    args[at] = if separate { format!("metadata={hex}") } else { format!("-Cmetadata={hex}") };
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(root: &str, metadata: &str) -> Vec<String> {
        [
            "--crate-name",
            "orrery_registry",
            "--edition=2021",
            &format!("{root}/crates/registry/src/lib.rs"),
            "--crate-type",
            "lib",
            "-C",
            "opt-level=3",
            "-C",
            &format!("metadata={metadata}"),
            "-C",
            &format!("extra-filename=-{metadata}"),
            "--out-dir",
            &format!("{root}/services/target/deps"),
            "--target",
            &format!("{root}/services/target/orrery/riscv64emac-unknown-none-polkavm.json"),
            "--cfg",
            "feature=\"std\"",
            &format!("--remap-path-prefix={root}/crates/registry=/deps/orrery-registry-0.1.0"),
            &format!("--remap-path-prefix={root}/services=/service"),
            &format!("--remap-path-prefix={root}/services/target=/target"),
        ]
        .map(str::to_owned)
        .to_vec()
    }

    fn metadata(args: &[String]) -> &str {
        args.iter().find_map(|a| a.strip_prefix("metadata=")).unwrap()
    }

    #[test]
    fn two_checkouts_give_one_identity() {
        let a = stabilise(command("/work/main", "0123456789abcdef"));
        let b = stabilise(command("/tmp/ci/repo", "fedcba9876543210"));
        assert_eq!(metadata(&a), metadata(&b));
        assert_eq!(metadata(&a).len(), 16);
        assert_ne!(metadata(&a), "0123456789abcdef");
        // Nothing else is touched.
        let original = command("/work/main", "0123456789abcdef");
        let changed: Vec<_> = a.iter().zip(&original).filter(|(x, y)| x != y).collect();
        assert_eq!(changed.len(), 1, "{changed:?}");
    }

    #[test]
    fn what_tells_units_apart_changes_the_identity() {
        let base = metadata(&stabilise(command("/r", "00"))).to_owned();
        for (from, to) in [
            ("orrery_registry", "orrery_restaking"),
            ("feature=\"std\"", "feature=\"alloc\""),
            ("opt-level=3", "opt-level=0"),
            ("riscv64emac-unknown-none-polkavm.json", "other.json"),
            ("--edition=2021", "--edition=2024"),
        ] {
            let args: Vec<String> = command("/r", "00").into_iter().map(|a| a.replace(from, to)).collect();
            assert_ne!(metadata(&stabilise(args)), base, "{from} → {to}");
        }
        // A second version of a crate sits under another remapped directory.
        let args: Vec<String> = command("/r", "00")
            .into_iter()
            .map(|a| a.replace("/deps/orrery-registry-0.1.0", "/deps/orrery-registry-0.2.0"))
            .collect();
        assert_ne!(metadata(&stabilise(args)), base);
    }

    #[test]
    fn joined_flags_and_commands_without_metadata() {
        let joined: Vec<String> =
            ["--crate-name=x", "src/lib.rs", "-Cmetadata=aa", "-Copt-level=3"].map(str::to_owned).to_vec();
        let out = stabilise(joined.clone());
        assert!(out[2].starts_with("-Cmetadata=") && out[2] != "-Cmetadata=aa", "{out:?}");
        assert_eq!(out[3], "-Copt-level=3");
        let query: Vec<String> = ["-vV"].map(str::to_owned).to_vec();
        assert_eq!(stabilise(query.clone()), query);
    }
}
