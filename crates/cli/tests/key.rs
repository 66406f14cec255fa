//! `orrery key generate` and `orrery key inspect`, run as a user would, checked against the JAM
//! docs' dev-account table (Bob: seed `LE32(1)` × 8).

use std::process::{Command, Output};

fn orrery(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_orrery")).args(args).output().unwrap()
}

const BOB_SEED: &str = "0100000001000000010000000100000001000000010000000100000001000000";
const BOB: &str = "ed25519_public: ad93247bd01307550ec7acd757ce6fb805fcf73db364063265b30a949e90d933\n\
bandersnatch_public: dee6d555b82024f1ccf8a1e37e60fa60fd40b1958c4bb3006af78647950e1b91\n\
peer_name: en5ejs5b2tybkfh4ym5vpfh7nynby73xhtfzmazumtvcijpcsz6ma\n";

#[test]
fn inspect_a_seed_prints_the_dev_account() {
    let out = orrery(&["key", "inspect", BOB_SEED]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), BOB);
}

#[test]
fn generate_into_a_store_then_inspect_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("keys");
    let out = orrery(&["key", "generate", "--seed", BOB_SEED, "--out", store.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let file = store.join("en5ejs5b2tybkfh4ym5vpfh7nynby73xhtfzmazumtvcijpcsz6ma.seed");
    assert_eq!(stdout, format!("file: {}\n{BOB}", file.display()));
    assert!(!stdout.contains(BOB_SEED), "the seed is not printed when it is stored");

    let out = orrery(&["key", "inspect", file.to_str().unwrap()]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), BOB);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = orrery(&["key", "inspect", file.to_str().unwrap()]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 600"));
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let out = orrery(&["key", "inspect", "not-a-seed-nor-a-file"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither a seed"));
    let out = orrery(&["key", "generate", "--seed", "abcd"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--seed: a seed is 64 hex digits"));
}

#[test]
fn generate_without_a_seed_makes_a_fresh_one() {
    let a = String::from_utf8(orrery(&["key", "generate"]).stdout).unwrap();
    let b = String::from_utf8(orrery(&["key", "generate"]).stdout).unwrap();
    assert!(a.starts_with("seed: ") && a.contains("peer_name: e"), "{a}");
    assert_ne!(a, b);
}
