//! One module per kind of vector. Each turns a family folder into case outcomes.

mod codec;
mod erasure;
mod pvm;
mod shuffle;
pub(crate) mod stf;
mod traces;
mod trie;

use crate::{CaseOutcome, Family};

/// What a family's first path component says it tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Codec,
    Erasure,
    Shuffle,
    Trie,
    Pvm,
    Stf,
    Traces,
}

impl Kind {
    pub const ALL: [Kind; 7] =
        [Kind::Codec, Kind::Erasure, Kind::Shuffle, Kind::Trie, Kind::Pvm, Kind::Stf, Kind::Traces];

    pub fn folder(self) -> &'static str {
        match self {
            Kind::Codec => "codec",
            Kind::Erasure => "erasure",
            Kind::Shuffle => "shuffle",
            Kind::Trie => "trie",
            Kind::Pvm => "pvm",
            Kind::Stf => "stf",
            Kind::Traces => "traces",
        }
    }

    pub fn from_folder(folder: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.folder() == folder)
    }

    /// Kinds whose folder holds one family per sub-folder (`stf/safrole`, `traces/storage`).
    pub fn has_subfamilies(self) -> bool {
        matches!(self, Kind::Stf | Kind::Traces)
    }
}

pub(crate) fn run(family: &Family) -> Result<Vec<CaseOutcome>, String> {
    match family.kind {
        Kind::Codec => codec::run(family),
        Kind::Erasure => erasure::run(family),
        Kind::Shuffle => shuffle::run(family),
        Kind::Trie => trie::run(family),
        Kind::Pvm => pvm::run(family),
        Kind::Stf => stf::run(family),
        Kind::Traces => traces::run(family),
    }
}

/// Every case of a family that Orrery cannot run yet, each counted as a failure (never a skip),
/// naming the issue that brings it.
pub(crate) fn not_implemented(cases: Vec<String>, what: &str) -> Result<Vec<CaseOutcome>, String> {
    Ok(cases
        .into_iter()
        .map(|name| CaseOutcome::fail(name, format!("not implemented yet: {what}")))
        .collect())
}

/// Case names from the files with `extension` in `dir`.
pub(crate) fn case_names(dir: &std::path::Path, extension: &str) -> Result<Vec<String>, String> {
    Ok(crate::files_with_extension(dir, extension)
        .map_err(|e| e.to_string())?
        .iter()
        .map(|p| crate::stem(p))
        .collect())
}
