//! The conformance runner: finds families of JAM 0.7.2 vectors on disk, runs each case through
//! Orrery, and reports passes and failures with a short diff.
//!
//! A family is a folder under the vectors root (`codec/tiny`, `stf/safrole/tiny`, `pvm`, …). Its
//! kind is the first path component and its chain spec the `tiny`/`full` component (`tiny` when
//! there is none). Asking for a folder that holds `tiny/` and `full/` runs both.
//!
//! Everything that reads the vectors' JSON lives here, not in the protocol crates.

#![forbid(unused_must_use)]

mod families;
pub mod json;

use std::path::{Path, PathBuf};

use orrery_types::ChainSpec;

pub use families::stf::accumulate::PreparedCase as AccumulateCase;
pub use families::stf::safrole::{
    check as stf_safrole_check, ring_context as safrole_ring_context, SRS_FILE as SAFROLE_SRS_FILE,
};
pub use families::stf::{checker as stf_checker, CaseChecker};
pub use families::Kind;

/// The vectors folder, relative to the repository root, where CI and the README expect it.
pub const DEFAULT_VECTORS: &str = "../shared/vectors/jam-0.7.2";

/// The vectors folder for this workspace's own tests, found from the crate's location.
pub fn workspace_vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(DEFAULT_VECTORS)
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "vectors folder {0} not found (pass --vectors DIR; CI keeps them in ../shared/vectors/jam-0.7.2)"
    )]
    MissingVectors(PathBuf),
    #[error("no family {family:?} under {root}")]
    MissingFamily { family: String, root: PathBuf },
    #[error("{family:?} is not a family: its first component must be one of {known}")]
    UnknownKind { family: String, known: String },
    #[error("reading {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// One folder of cases, run with one chain spec.
#[derive(Debug, Clone)]
pub struct Family {
    /// The folder relative to the vectors root, with `/` separators (`stf/safrole/tiny`).
    pub name: String,
    pub dir: PathBuf,
    pub kind: Kind,
    pub spec: ChainSpec,
}

/// The result of one case: `None` when it passed, else why it failed.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    pub name: String,
    pub failure: Option<String>,
}

impl CaseOutcome {
    pub fn pass(name: impl Into<String>) -> Self {
        Self { name: name.into(), failure: None }
    }
    pub fn fail(name: impl Into<String>, why: impl Into<String>) -> Self {
        Self { name: name.into(), failure: Some(why.into()) }
    }
    /// A pass when `result` is `Ok`, a failure with the error's text otherwise.
    pub fn from_result(name: impl Into<String>, result: Result<(), String>) -> Self {
        Self { name: name.into(), failure: result.err() }
    }
}

/// The cases of one family.
#[derive(Debug, Clone)]
pub struct FamilyReport {
    pub family: String,
    pub cases: Vec<CaseOutcome>,
}

impl FamilyReport {
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.failure.is_none()).count()
    }
    pub fn failed(&self) -> usize {
        self.cases.len() - self.passed()
    }
}

/// A folder under the vectors root that no runner knows: reported, never silently passed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherFolder {
    /// The folder relative to the vectors root (`lib`).
    pub name: String,
    /// Whether it holds vector files (`.json` or `.bin`, at any depth): such a folder is a kind of
    /// vector the runner lacks and counts as a failure; one without them (scripts, schemas) does
    /// not.
    pub has_vectors: bool,
}

/// What a full run finds under the vectors root.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// Every family, in a stable order.
    pub families: Vec<Family>,
    /// The top-level folders that are not a kind of vector, in name order.
    pub others: Vec<OtherFolder>,
}

/// Every family under `root`, in a stable order, and every other top-level folder.
pub fn discover(root: &Path) -> Result<Discovery, Error> {
    if !root.is_dir() {
        return Err(Error::MissingVectors(root.to_owned()));
    }
    let mut families = Vec::new();
    for kind in Kind::ALL {
        let base = root.join(kind.folder());
        if !base.is_dir() {
            continue;
        }
        if kind.has_subfamilies() {
            for sub in sorted_dirs(&base)? {
                families.extend(resolve(root, &format!("{}/{}", kind.folder(), sub))?);
            }
        } else {
            families.extend(resolve(root, kind.folder())?);
        }
    }
    let mut others = Vec::new();
    for name in sorted_dirs(root)? {
        if Kind::from_folder(&name).is_none() {
            let has_vectors = holds_vectors(&root.join(&name))?;
            others.push(OtherFolder { name, has_vectors });
        }
    }
    Ok(Discovery { families, others })
}

/// Whether `dir` holds a `.json` or `.bin` file at any depth.
fn holds_vectors(dir: &Path) -> Result<bool, Error> {
    for path in read_dir(dir)? {
        if path.is_dir() {
            if holds_vectors(&path)? {
                return Ok(true);
            }
        } else if path.extension().is_some_and(|e| e == "json" || e == "bin") {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The families the requested folders stand for, each once, in the order first asked for
/// (`codec codec` and `codec codec/tiny` run `codec/tiny` once).
pub fn resolve_all(root: &Path, requested: &[String]) -> (Vec<Family>, Vec<Error>) {
    let (mut families, mut errors) = (Vec::<Family>::new(), Vec::new());
    for name in requested {
        match resolve(root, name) {
            Ok(found) => {
                for family in found {
                    if !families.iter().any(|f| f.name == family.name) {
                        families.push(family);
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }
    (families, errors)
}

/// The families a requested folder stands for: itself, or its `tiny/` and `full/` halves.
pub fn resolve(root: &Path, requested: &str) -> Result<Vec<Family>, Error> {
    if !root.is_dir() {
        return Err(Error::MissingVectors(root.to_owned()));
    }
    let name = requested.trim_matches('/').to_owned();
    let dir = root.join(&name);
    if name.is_empty() || !dir.is_dir() {
        return Err(Error::MissingFamily { family: requested.to_owned(), root: root.to_owned() });
    }
    let first = name.split('/').next().unwrap_or_default();
    let kind = Kind::from_folder(first).ok_or_else(|| Error::UnknownKind {
        family: requested.to_owned(),
        known: Kind::ALL.iter().map(|k| k.folder()).collect::<Vec<_>>().join(", "),
    })?;
    // `stf` or `traces` alone stands for every family under it.
    if kind.has_subfamilies() && name == kind.folder() {
        let mut out = Vec::new();
        for sub in sorted_dirs(&dir)? {
            out.extend(resolve(root, &format!("{name}/{sub}"))?);
        }
        return Ok(out);
    }
    let halves: Vec<_> = ["tiny", "full"].into_iter().filter(|h| dir.join(h).is_dir()).collect();
    if !halves.is_empty() && !name.split('/').any(|c| c == "tiny" || c == "full") {
        return Ok(halves.into_iter().map(|half| family(root, format!("{name}/{half}"), kind)).collect());
    }
    Ok(vec![family(root, name, kind)])
}

fn family(root: &Path, name: String, kind: Kind) -> Family {
    let spec = if name.split('/').any(|c| c == "full") { ChainSpec::full() } else { ChainSpec::tiny() };
    Family { dir: root.join(&name), name, kind, spec }
}

/// Runs every case of a family. A family without a case fails: an empty or misplaced folder
/// must not read as a pass.
pub fn run(family: &Family) -> FamilyReport {
    let cases = match families::run(family) {
        Ok(cases) if cases.is_empty() => vec![CaseOutcome::fail(
            "(family)",
            format!("no cases in {}: a family with nothing to check is not a pass", family.dir.display()),
        )],
        Ok(cases) => cases,
        Err(err) => vec![CaseOutcome::fail("(family)", err)],
    };
    FamilyReport { family: family.name.clone(), cases }
}

/// Sub-folders of `dir`, sorted by name.
pub(crate) fn sorted_dirs(dir: &Path) -> Result<Vec<String>, Error> {
    let mut names: Vec<String> = read_dir(dir)?
        .into_iter()
        .filter(|p| p.is_dir())
        .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}

/// Files in `dir` with the given extension, sorted by name.
pub(crate) fn files_with_extension(dir: &Path, extension: &str) -> Result<Vec<PathBuf>, Error> {
    let mut files: Vec<PathBuf> = read_dir(dir)?
        .into_iter()
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    Ok(files)
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let io = |source| Error::Io { path: dir.to_owned(), source };
    std::fs::read_dir(dir).map_err(io)?.map(|entry| entry.map(|e| e.path()).map_err(io)).collect()
}

/// Reads a file, naming it in the error.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

/// A case's name: its file stem.
pub(crate) fn stem(path: &Path) -> String {
    path.file_stem().and_then(|s| s.to_str()).unwrap_or("?").to_owned()
}
