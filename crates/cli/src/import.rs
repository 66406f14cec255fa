//! `orrery import`: a genesis and blocks from files, one line per block (hash, slot, state root,
//! import time), optionally kept in a database that a later run continues from.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use orrery_codec::decode_exact;
use orrery_import::formats::{BlockFile, Genesis};
use orrery_import::ChainState;
use orrery_store::{Backend, Chain, Redb, StoreError};

use crate::Node;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The block files: each path as given, a folder as its `.bin` files (but `genesis.bin`) in order.
fn block_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "bin") && p.file_stem().is_some_and(|s| s != "genesis"))
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

pub fn run(node: &Node, genesis: Option<&Path>, db: Option<&Path>, finality_depth: u32, blocks: &[PathBuf]) -> ExitCode {
    match import(node, genesis, db, finality_depth, blocks) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn import(node: &Node, genesis: Option<&Path>, db: Option<&Path>, finality_depth: u32, blocks: &[PathBuf]) -> Result<(), String> {
    let ctx = Arc::new(node.context()?);
    let spec = ctx.spec.clone();
    let genesis = match genesis {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let genesis: Genesis =
                decode_exact(&bytes, spec.lengths()).map_err(|e| format!("{}: not a genesis: {e}", path.display()))?;
            let state = ChainState::from_pairs(&spec, genesis.state.pairs())
                .map_err(|e| format!("{}: the genesis state: {e}", path.display()))?;
            Some((genesis.header, state))
        }
        None => None,
    };
    let backend: Box<dyn Backend> = match db {
        Some(dir) => Box::new(Redb::open(dir).map_err(|e| e.to_string())?),
        None => {
            // Without --db the chain lives in a scratch database that is removed afterwards.
            let dir = std::env::temp_dir().join(format!("orrery-import-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            Box::new(ScratchDb { dir: dir.clone(), inner: Redb::open(&dir).map_err(|e| e.to_string())? })
        }
    };
    let mut chain = Chain::open(ctx, backend, genesis.as_ref().map(|(h, s)| (h, s.clone())), finality_depth)
        .map_err(|e| e.to_string())?;
    let (best, slot, root) = chain.best();
    println!("best {} slot {slot} state_root {}", hex(&best), hex(&root));

    for path in block_files(blocks)? {
        let name = path.display();
        let bytes = std::fs::read(&path).map_err(|e| format!("{name}: {e}"))?;
        let file = BlockFile::decode(&spec, &bytes).map_err(|e| format!("{name}: neither a trace step nor a block: {e}"))?;
        match chain.import(file.block()) {
            Ok(done) => println!(
                "{} slot {} state_root {} import {:.3} ms commit {:.3} ms{}",
                hex(&done.hash),
                done.slot,
                hex(&done.state_root),
                done.import_time.as_secs_f64() * 1e3,
                done.commit_time.as_secs_f64() * 1e3,
                if done.best { "" } else { " (fork)" }
            ),
            Err(StoreError::AlreadyImported(hash)) => println!("{hash} already imported"),
            Err(StoreError::Invalid(e)) => println!("{name}: rejected: {e}"),
            Err(e) => return Err(format!("{name}: {e}")),
        }
    }
    Ok(())
}

/// A database removed when the run ends.
struct ScratchDb {
    dir: PathBuf,
    inner: Redb,
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Backend for ScratchDb {
    fn get(&self, table: orrery_store::Table, key: &[u8]) -> Result<Option<Vec<u8>>, orrery_store::BackendError> {
        self.inner.get(table, key)
    }
    fn scan(&self, table: orrery_store::Table) -> Result<Vec<(Vec<u8>, Vec<u8>)>, orrery_store::BackendError> {
        self.inner.scan(table)
    }
    fn commit(&self, batch: &[orrery_store::Write]) -> Result<(), orrery_store::BackendError> {
        self.inner.commit(batch)
    }
}
