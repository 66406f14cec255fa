//! Which guest API a crate is written on, read from its dependency graph before anything compiles,
//! and the versions that cannot make a GP 0.7.2 program, refused with the fix.
//!
//! - `orrery-service-sdk`: Orrery's own; linked by polkavm-linker 0.37 as before.
//! - Parity's `jam-pvm-common` 0.1.28 over `jam-types` 0.1.28, whose `GP_VERSION` is `"0.7.2"`;
//!   linked by polkavm-linker 0.30, as Parity's `jam-pvm-build` 0.1.28 links it. `jam-types` 0.1.26
//!   says `"0.7.1"` and 0.1.29 (with `jam-pvm-common` 0.1.29) `"0.8.0"`: their parameter encodings
//!   and host calls are another paper's, so a blob built from them would fail on a GP 0.7.2 chain at
//!   run time. `jam-pvm-common` 0.1.28 asks for `jam-types` `^0.1.28`, so a crate without a lock
//!   file gets 0.1.29 from cargo: that case names the `cargo update` that pins it.
//! - Neither: built as before, and the link says whether it has entry points.
//!
//! `picosimd` (under `picoalloc`, `jam-pvm-common`'s allocator) before 0.9.6 has a build script
//! that panics on a rustc version string with a second parenthesis, as Debian's has
//! (`rustc 1.96.0 (ac68faa20 2026-05-25) (built from a source tarball)`); 0.9.6 reads it. A lock
//! file that pins the old one (the published `jam-bootstrap-service` 0.1.28's does) is refused
//! here with the `cargo update` that fixes it, rather than failing inside a dependency's build
//! script. Only the lock changes, never a source.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::blob::Linker;

/// The Parity SDK release whose types and encodings are GP 0.7.2's.
pub const PARITY_SDK_VERSION: &str = "0.1.28";

/// The first `picosimd` whose build script reads Debian rustc's version string.
pub const PICOSIMD_FIXED: (u64, u64, u64) = (0, 9, 6);

/// The guest API a crate's dependencies show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestApi {
    /// `orrery-service-sdk`.
    Orrery,
    /// Parity's `jam-pvm-common` 0.1.28.
    Parity,
    /// Neither SDK: the link decides whether it has entry points.
    Unknown,
}

impl GuestApi {
    /// The linker its programs need (see [`Linker`]).
    pub fn linker(self) -> Linker {
        match self {
            GuestApi::Parity => Linker::Polkavm030,
            GuestApi::Orrery | GuestApi::Unknown => Linker::Polkavm037,
        }
    }
}

/// A crate that cannot be built into a GP 0.7.2 program as its dependencies stand.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SdkError {
    #[error("{krate} is built on {dependency} {version}, {why}. Orrery builds GP 0.7.2 programs, whose Parity SDK is jam-pvm-common 0.1.28 with jam-types 0.1.28; {fix}")]
    ParityVersion { krate: String, dependency: String, version: String, why: String, fix: String },
    #[error("{krate}'s Cargo.lock pins picosimd {version}, whose build script cannot read this rustc's version string ({rustc_version:?}) and would stop the build; picosimd 0.9.6 and later read it. Update the lock (no source changes):\n    cargo update --manifest-path {manifest} -p picosimd")]
    OldPicosimd { krate: String, version: String, rustc_version: String, manifest: String },
}

/// `major.minor.patch` of a version, pre-release and build tags ignored.
fn triple(version: &str) -> Option<(u64, u64, u64)> {
    let core = version.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

/// The packages `root` builds from (its normal and build dependencies, transitively, on any
/// platform; dev-dependencies left out), by name and version, from `cargo metadata` JSON.
pub fn build_dependencies(metadata: &serde_json::Value, root: &str) -> Vec<(String, String)> {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let versions: BTreeMap<String, (String, String)> = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| (text(&p["id"]), (text(&p["name"]), text(&p["version"]))))
        .collect();
    let nodes: BTreeMap<String, &serde_json::Value> =
        metadata["resolve"]["nodes"].as_array().into_iter().flatten().map(|n| (text(&n["id"]), n)).collect();
    let mut seen = BTreeSet::from([root.to_owned()]);
    let mut todo = vec![root.to_owned()];
    while let Some(id) = todo.pop() {
        let Some(node) = nodes.get(&id) else { continue };
        for dep in node["deps"].as_array().into_iter().flatten() {
            let not_dev_only = dep["dep_kinds"].as_array().is_none_or(|kinds| {
                kinds.is_empty() || kinds.iter().any(|k| k["kind"].as_str() != Some("dev"))
            });
            let pkg = text(&dep["pkg"]);
            if not_dev_only && seen.insert(pkg.clone()) {
                todo.push(pkg);
            }
        }
    }
    seen.remove(root);
    seen.iter().filter_map(|id| versions.get(id).cloned()).collect()
}

/// Whether `rustc_version` has more after its `(hash date)` than old `picosimd` build scripts
/// expect: they take the date from the last word, so any suffix breaks them.
fn version_string_has_suffix(rustc_version: &str) -> bool {
    rustc_version.trim().find(')').is_some_and(|close| close + 1 < rustc_version.trim().len())
}

/// Reads the guest API from `dependencies` (name, version) of crate `krate`, refusing the Parity
/// SDK versions that are not GP 0.7.2's and a `picosimd` that `rustc_version` breaks.
pub fn check(
    krate: &str,
    dependencies: &[(String, String)],
    rustc_version: &str,
    manifest: &Path,
) -> Result<GuestApi, SdkError> {
    let version_of = |name: &str| dependencies.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let pin = format!(
        "depend on `jam-pvm-common = \"={PARITY_SDK_VERSION}\"` and `jam-types = \"={PARITY_SDK_VERSION}\"`"
    );
    let wanted = triple(PARITY_SDK_VERSION);
    let parity = version_of("jam-pvm-common");
    if let Some(version) = &parity {
        if triple(version) != wanted {
            let why = if triple(version) > wanted {
                "Parity's SDK for a later Gray Paper (0.1.29 is for GP 0.8.0)"
            } else {
                "Parity's SDK for an earlier Gray Paper"
            };
            return Err(SdkError::ParityVersion {
                krate: krate.into(),
                dependency: "jam-pvm-common".into(),
                version: version.clone(),
                why: why.into(),
                fix: pin,
            });
        }
        if let Some(types) = version_of("jam-types").filter(|v| triple(v) != wanted) {
            let why = if triple(&types) > wanted {
                "the types of a later Gray Paper (jam-types 0.1.29 is GP 0.8.0's; cargo picks it for jam-pvm-common 0.1.28's `^0.1.28` when nothing pins it)"
            } else {
                "the types of an earlier Gray Paper"
            };
            return Err(SdkError::ParityVersion {
                krate: krate.into(),
                dependency: "jam-types".into(),
                version: types,
                why: why.into(),
                fix: format!(
                    "{pin}, or pin the lock: `cargo update --manifest-path {} -p jam-types --precise {PARITY_SDK_VERSION}`",
                    manifest.display()
                ),
            });
        }
    }
    if let Some(version) = version_of("picosimd") {
        if triple(&version).is_some_and(|v| v < PICOSIMD_FIXED) && version_string_has_suffix(rustc_version) {
            return Err(SdkError::OldPicosimd {
                krate: krate.into(),
                version,
                rustc_version: rustc_version.trim().into(),
                manifest: manifest.display().to_string(),
            });
        }
    }
    Ok(if version_of("orrery-service-sdk").is_some() {
        GuestApi::Orrery
    } else if parity.is_some() {
        GuestApi::Parity
    } else {
        GuestApi::Unknown
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN: &str = "rustc 1.96.0 (ac68faa20 2026-05-25) (built from a source tarball)";
    const RUSTUP: &str = "rustc 1.90.0-nightly (e9182f195 2025-07-13)";

    fn deps(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    fn check_deps(list: &[(&str, &str)], rustc: &str) -> Result<GuestApi, SdkError> {
        check("svc", &deps(list), rustc, Path::new("/x/svc/Cargo.toml"))
    }

    #[test]
    fn the_api_follows_the_sdk() {
        assert_eq!(check_deps(&[("orrery-service-sdk", "0.1.0")], DEBIAN), Ok(GuestApi::Orrery));
        let parity = [("jam-pvm-common", "0.1.28"), ("jam-types", "0.1.28"), ("picosimd", "0.9.6")];
        assert_eq!(check_deps(&parity, DEBIAN), Ok(GuestApi::Parity));
        assert_eq!(check_deps(&[("polkavm-derive", "0.37.0")], DEBIAN), Ok(GuestApi::Unknown));
        assert_eq!(GuestApi::Parity.linker(), Linker::Polkavm030);
        assert_eq!(GuestApi::Orrery.linker(), Linker::Polkavm037);
    }

    #[test]
    fn other_parity_sdks_are_named() {
        let e = check_deps(&[("jam-pvm-common", "0.1.29"), ("jam-types", "0.1.29")], DEBIAN).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("jam-pvm-common 0.1.29, Parity's SDK for a later Gray Paper"), "{text}");
        assert!(text.contains("GP 0.8.0"), "{text}");
        assert!(text.contains("`jam-pvm-common = \"=0.1.28\"`"), "{text}");
        let e = check_deps(&[("jam-pvm-common", "0.1.26")], DEBIAN).unwrap_err().to_string();
        assert!(e.contains("jam-pvm-common 0.1.26, Parity's SDK for an earlier Gray Paper"), "{e}");
        // The SDK at 0.1.28 over GP 0.8.0's types: the lock is what to fix.
        let e = check_deps(&[("jam-pvm-common", "0.1.28"), ("jam-types", "0.1.29")], DEBIAN).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("jam-types 0.1.29"), "{text}");
        assert!(
            text.contains("cargo update --manifest-path /x/svc/Cargo.toml -p jam-types --precise 0.1.28"),
            "{text}"
        );
    }

    #[test]
    fn old_picosimd_is_refused_only_where_the_version_string_breaks_it() {
        let list = [("jam-pvm-common", "0.1.28"), ("jam-types", "0.1.28"), ("picosimd", "0.9.2")];
        let text = check_deps(&list, DEBIAN).unwrap_err().to_string();
        assert!(text.contains("pins picosimd 0.9.2"), "{text}");
        assert!(text.contains("cargo update --manifest-path /x/svc/Cargo.toml -p picosimd"), "{text}");
        assert_eq!(check_deps(&list, RUSTUP), Ok(GuestApi::Parity));
        assert_eq!(check_deps(&list, "rustc 1.96.0 (ac68faa20 2026-05-25)\n"), Ok(GuestApi::Parity));
    }

    #[test]
    fn versions_compare_by_number() {
        assert_eq!(triple("0.1.28"), Some((0, 1, 28)));
        assert_eq!(triple("0.9.10-rc.1"), Some((0, 9, 10)));
        assert!(triple("0.9.10") > Some(PICOSIMD_FIXED));
        assert_eq!(triple("1.2"), None);
    }

    #[test]
    fn dependencies_walk_the_resolve_and_skip_dev_dependencies() {
        let json = serde_json::json!({
            "packages": [
                {"id": "a", "name": "svc", "version": "0.1.0"},
                {"id": "b", "name": "jam-pvm-common", "version": "0.1.28"},
                {"id": "c", "name": "picosimd", "version": "0.9.2"},
                {"id": "d", "name": "tester", "version": "1.0.0"},
                {"id": "e", "name": "other-member", "version": "0.1.0"},
            ],
            "resolve": {"nodes": [
                {"id": "a", "deps": [
                    {"pkg": "b", "dep_kinds": [{"kind": null}]},
                    {"pkg": "d", "dep_kinds": [{"kind": "dev"}]},
                ]},
                {"id": "b", "deps": [{"pkg": "c", "dep_kinds": [{"kind": "build"}]}]},
                {"id": "e", "deps": [{"pkg": "d", "dep_kinds": [{"kind": null}]}]},
            ]}
        });
        assert_eq!(
            build_dependencies(&json, "a"),
            deps(&[("jam-pvm-common", "0.1.28"), ("picosimd", "0.9.2")])
        );
    }
}
