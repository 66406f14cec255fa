//! Keys on disk: one file per validator key, holding its 32-byte seed as 64 hex digits and a
//! newline, named after the key's peer name (`<peer name>.seed`), readable and writable by its
//! owner only (mode 0600). Loading refuses a key file that its group or others may read or write,
//! as `ssh` does: a seed that others could have read is no longer a secret.
//!
//! Everything read is untrusted: a file longer than a key file can be, or not hex, or not 32
//! bytes, is an error naming the file and what is wrong with it.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::{Seed, ValidatorKeys};

/// A key file's extension.
pub const EXTENSION: &str = "seed";
/// The longest key file read: 64 digits, a line ending and some slack for trailing whitespace.
const MAX_FILE_LEN: u64 = 256;

#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "{path}: mode {mode:o} lets its group or others read or write the key; \
         make it owner-only (chmod 600)"
    )]
    Permissions { path: PathBuf, mode: u32 },
    #[error("{path}: not a key file: {why}")]
    Malformed { path: PathBuf, why: String },
    #[error("{path}: a key file is already there")]
    Exists { path: PathBuf },
}

/// A seed written as hex (64 digits, either case; an optional `0x`), as a command line or a key
/// file gives it.
pub fn parse_seed(text: &str) -> Result<Seed, String> {
    let text = text.trim();
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.len() != 64 {
        return Err(format!("a seed is 64 hex digits, this is {} characters", digits.len()));
    }
    let mut seed = [0u8; 32];
    for (i, pair) in digits.as_bytes().chunks_exact(2).enumerate() {
        let digit = |c: u8| {
            char::from(c).to_digit(16).ok_or_else(|| format!("{:?} is not a hex digit", char::from(c)))
        };
        seed[i] = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
    }
    Ok(seed)
}

/// The file [`save`] writes `keys` to in `dir`.
pub fn path_in(dir: &Path, keys: &ValidatorKeys) -> PathBuf {
    dir.join(format!("{}.{EXTENSION}", keys.peer_name()))
}

/// Writes `keys`' seed to a new owner-only file in `dir` (created if missing) and returns its
/// path. An existing key file is never overwritten.
pub fn save(dir: &Path, keys: &ValidatorKeys) -> Result<PathBuf, KeyStoreError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| KeyStoreError::Io { path, source }
    };
    fs::create_dir_all(dir).map_err(io(dir))?;
    let path = path_in(dir, keys);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Created owner-only, never readable by others even for a moment.
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            KeyStoreError::Exists { path: path.clone() }
        } else {
            KeyStoreError::Io { path: path.clone(), source }
        }
    })?;
    let text: String = keys.seed().iter().map(|b| format!("{b:02x}")).collect();
    file.write_all(format!("{text}\n").as_bytes()).and_then(|()| file.sync_all()).map_err(io(&path))?;
    Ok(path)
}

/// Reads the keys of a key file, refusing one its group or others may access.
pub fn load(path: &Path) -> Result<ValidatorKeys, KeyStoreError> {
    let io = |source| KeyStoreError::Io { path: path.to_path_buf(), source };
    let file = fs::File::open(path).map_err(io)?;
    let metadata = file.metadata().map_err(io)?;
    if !metadata.is_file() {
        return Err(KeyStoreError::Malformed { path: path.to_path_buf(), why: "not a regular file".into() });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(KeyStoreError::Permissions { path: path.to_path_buf(), mode });
        }
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_LEN + 1).read_to_end(&mut bytes).map_err(io)?;
    let malformed = |why: String| KeyStoreError::Malformed { path: path.to_path_buf(), why };
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(malformed(format!("longer than {MAX_FILE_LEN} bytes")));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| malformed("not text".into()))?;
    let seed = parse_seed(text).map_err(malformed)?;
    Ok(ValidatorKeys::from_seed(&seed))
}

/// The key files in `dir` (those with the [`EXTENSION`]), sorted by name.
pub fn list(dir: &Path) -> Result<Vec<PathBuf>, KeyStoreError> {
    let io = |source| KeyStoreError::Io { path: dir.to_path_buf(), source };
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().is_some_and(|e| e == EXTENSION) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_then_load_gives_the_same_keys_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let keys = ValidatorKeys::dev(2);
        let path = save(dir.path(), &keys).unwrap();
        assert_eq!(
            path.file_name().unwrap().to_str().unwrap(),
            "ekwmt37xecoq6a7otkm4ux5gfmm4uwbat4bg5m223shckhaaxdpqa.seed"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let loaded = load(&path).unwrap();
        assert_eq!(loaded.seed(), &crate::dev_seed(2));
        assert_eq!(list(dir.path()).unwrap(), vec![path.clone()]);
        // Never overwritten.
        assert!(matches!(save(dir.path(), &keys), Err(KeyStoreError::Exists { .. })));
    }

    #[cfg(unix)]
    #[test]
    fn readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = save(dir.path(), &ValidatorKeys::dev(0)).unwrap();
        for mode in [0o644, 0o640, 0o604, 0o620] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            match load(&path) {
                Err(KeyStoreError::Permissions { mode: got, .. }) => assert_eq!(got, mode),
                other => panic!("mode {mode:o}: {other:?}"),
            }
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
        assert!(load(&path).is_ok());
    }

    #[test]
    fn malformed_files_are_named_errors() {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in [
            ("short", "00ff".to_string()),
            ("not-hex", "zz".repeat(32)),
            ("long", "0".repeat(1000)),
            ("binary", String::from_utf8_lossy(&[0xff, 0xfe]).into_owned()),
        ] {
            let path = dir.path().join(name);
            fs::write(&path, content).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
            }
            let err = load(&path).unwrap_err();
            assert!(matches!(err, KeyStoreError::Malformed { .. }), "{name}: {err}");
            assert!(err.to_string().contains(name), "{err}");
        }
        assert!(matches!(load(&dir.path().join("missing")), Err(KeyStoreError::Io { .. })));
    }

    #[test]
    fn seeds_parse_as_hex() {
        let seed = "0x0100000001000000010000000100000001000000010000000100000001000000";
        assert_eq!(parse_seed(seed), Ok(crate::dev_seed(1)));
        assert_eq!(parse_seed(&seed[2..].to_uppercase()), Ok(crate::dev_seed(1)));
        assert!(parse_seed("01").is_err());
        assert!(parse_seed(&"g".repeat(64)).is_err());
    }
}
