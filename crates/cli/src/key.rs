//! `orrery key`: validator keys (JIP-5) from a seed, kept in owner-only files (`orrery-keys`'s
//! store), and what a key file or seed stands for: the public keys and the JAMNP-S peer name.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use orrery_keys::{store, ValidatorKeys};
use rand::RngCore;

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make a validator's keys from a seed (a random one unless --seed is given) and print its
    /// public keys and peer name. With --out, the seed goes to an owner-only file in that folder
    /// (named after the peer name); without it, the seed is printed.
    Generate {
        /// The 32-byte seed, as 64 hex digits (e.g. a JIP-5 dev seed).
        #[arg(long, value_name = "HEX")]
        seed: Option<String>,
        /// The key store folder (created if missing).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Print the public keys and peer name of a seed (64 hex digits) or of a key file.
    Inspect {
        #[arg(value_name = "SEED|FILE")]
        key: String,
    },
}

pub fn run(command: KeyCommand) -> ExitCode {
    match execute(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn execute(command: KeyCommand) -> Result<(), String> {
    match command {
        KeyCommand::Generate { seed, out } => {
            let seed = match seed {
                Some(text) => store::parse_seed(&text).map_err(|e| format!("--seed: {e}"))?,
                None => {
                    let mut seed = [0u8; 32];
                    rand::rngs::OsRng.try_fill_bytes(&mut seed).map_err(|e| format!("no randomness: {e}"))?;
                    seed
                }
            };
            let keys = ValidatorKeys::from_seed(&seed);
            match out {
                Some(dir) => {
                    let path = store::save(&dir, &keys).map_err(|e| e.to_string())?;
                    outln!("file: {}", path.display());
                }
                None => outln!("seed: {}", hex(keys.seed())),
            }
            print_public(&keys);
            Ok(())
        }
        KeyCommand::Inspect { key } => {
            let keys = match store::parse_seed(&key) {
                Ok(seed) => ValidatorKeys::from_seed(&seed),
                Err(why) if !Path::new(&key).exists() => {
                    return Err(format!("{key:?} is neither a seed ({why}) nor a file"))
                }
                Err(_) => store::load(Path::new(&key)).map_err(|e| e.to_string())?,
            };
            print_public(&keys);
            Ok(())
        }
    }
}

fn print_public(keys: &ValidatorKeys) {
    outln!("ed25519_public: {}", hex(&keys.ed25519_public()));
    outln!("bandersnatch_public: {}", hex(&keys.bandersnatch_public()));
    outln!("peer_name: {}", keys.peer_name());
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
