//! Embeds the built UI: walks `explorer/dist` (at the repository root) and writes
//! `$OUT_DIR/assets.rs`, a table of `(URL path, include_bytes!(file), entity tag)` sorted by path, so the binary
//! serves the UI without Node.js or any file at run time. A missing or empty dist stops the build
//! with a message saying how to make one.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let dist = manifest.join("../../explorer/dist");
    // A directory here makes cargo rerun this script when anything under it changes.
    println!("cargo:rerun-if-changed={}", dist.display());
    println!("cargo:rerun-if-changed=build.rs");

    let mut files = Vec::new();
    if let Err(e) = walk(&dist, &dist, &mut files) {
        fail(&format!("cannot read the explorer's built UI in {}: {e}", dist.display()));
    }
    files.sort();
    if !files.iter().any(|(path, _)| path == "/index.html") {
        fail(&format!("{} has no index.html", dist.display()));
    }

    let mut table = String::from("pub(crate) static ASSETS: &[(&str, &[u8], &str)] = &[\n");
    for (path, file) in &files {
        let file = file.canonicalize().unwrap_or_else(|e| fail(&format!("{}: {e}", file.display())));
        let bytes = std::fs::read(&file).unwrap_or_else(|e| fail(&format!("{}: {e}", file.display())));
        let etag = format!("\"{:016x}\"", fnv1a(&bytes));
        let Some(file) = file.to_str() else {
            fail(&format!("{}: the path is not UTF-8", file.display()));
        };
        // `{:?}` writes a Rust string literal (quotes and escapes included).
        let _ = writeln!(table, "    ({path:?}, include_bytes!({file:?}), {etag:?}),");
    }
    table.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("assets.rs");
    std::fs::write(&out, table).unwrap_or_else(|e| fail(&format!("{}: {e}", out.display())));
}

/// FNV-1a, 64 bits: an entity tag that changes when the file does (a cache validator, not a
/// security check; Vite's names are stable, not content-hashed).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// Every file under `dir`, as (URL path from `root`, file). Only names made of URL-safe characters are
/// taken (Vite's output is), so a path in the table is exactly what a browser asks for.
fn walk(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(root, &path, files)?;
            continue;
        }
        let relative = path.strip_prefix(root).expect("walked from the root");
        // Hidden files (an editor's, a `.gitkeep`) are not part of the UI.
        if relative.components().any(|c| c.as_os_str().to_string_lossy().starts_with('.')) {
            continue;
        }
        let mut url = String::new();
        for part in relative.components() {
            let part = part.as_os_str().to_str().unwrap_or("");
            let safe =
                !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || "-_.~@+".contains(c));
            if !safe {
                fail(&format!(
                    "{}: a file name the explorer cannot serve as it is (use letters, digits and -_.~@+)",
                    path.display()
                ));
            }
            url.push('/');
            url.push_str(part);
        }
        files.push((url, path));
    }
    Ok(())
}

fn fail(message: &str) -> ! {
    eprintln!(
        "error: {message}\n\
         The explorer embeds the built UI. It is committed in explorer/dist; rebuild it with \
         `cd explorer && npm ci && npm run build` (Node.js 20)."
    );
    std::process::exit(1);
}
