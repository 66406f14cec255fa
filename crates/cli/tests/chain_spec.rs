//! `orrery chain-spec dev` as a user runs it, and `orrery import --chain` starting from what it
//! wrote: the dev validators' blocks, authored on the file's genesis, import from it.

use std::process::{Command, Output};

use orrery_author::{author_block, slot_author, Pools};
use orrery_chain_spec::JamChainSpec;
use orrery_codec::Encode;
use orrery_keys::ValidatorKeys;
use orrery_testkit::{srs_path, tiny_ring};
use orrery_types::ChainSpec;

fn orrery(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orrery"));
    cmd.args(args).arg("--srs").arg(srs_path());
    cmd.output().expect("running orrery")
}

fn dev_spec(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orrery"));
    cmd.args(["chain-spec", "dev"]).arg("--srs").arg(srs_path());
    cmd.args(args);
    cmd.output().expect("running orrery chain-spec dev")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_dev_spec_is_written_and_import_starts_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dev.json");
    let out = dev_spec(&[&"--validators", &"6", &"--out", &path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let chain = JamChainSpec::read(&path).unwrap();
    let genesis = hex::encode(chain.genesis_hash());
    let root = hex::encode(chain.genesis_state.root());
    assert!(
        text(&out.stdout).contains(&format!("genesis {genesis}, state root {root}")),
        "{}",
        text(&out.stdout)
    );

    // Two blocks by the dev validators on the file's genesis, as encoded block files.
    let (spec, ring) = (ChainSpec::tiny(), tiny_ring());
    let keys: Vec<ValidatorKeys> = (0..6).map(ValidatorKeys::dev).collect();
    let (mut state, mut parent) = (chain.genesis_state.clone(), chain.genesis_hash());
    let ctx = orrery_testkit::tiny_import_context();
    let mut files = Vec::new();
    for slot in 1..=2u32 {
        let author =
            keys.iter().find(|k| slot_author(&spec, &ring, state.state(), slot, k).unwrap().is_some());
        let block =
            author_block(&spec, &ring, &state, parent, slot, author.unwrap(), &Pools::default()).unwrap();
        let file = dir.path().join(format!("{slot:08}.bin"));
        std::fs::write(&file, block.encode()).unwrap();
        files.push(file);
        let imported =
            orrery_import::import_block(&ctx, &state, &block, &orrery_import::ImportOptions::default())
                .unwrap();
        (state, parent) = (imported.state, imported.header_hash);
    }

    let out = orrery(&[&"import", &"--chain", &path, &files[0], &files[1]]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}{}", stdout, text(&out.stderr));
    assert!(stdout.contains(&format!("start best {genesis} slot 0 state_root {root}")), "{stdout}");
    assert!(stdout.contains(&format!("imported {} slot 2 ", hex::encode(parent))), "{stdout}");
    assert!(stdout.contains(&hex::encode(state.root())), "{stdout}");
}

#[test]
fn wrong_requests_are_clear_errors() {
    let out = dev_spec(&[&"--validators", &"5"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("the tiny spec has 6 validators"), "{}", text(&out.stderr));
    let out = dev_spec(&[&"--validators", &"6", &"--spec", &"full"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("the full spec has 1023 validators"), "{}", text(&out.stderr));
    let out = dev_spec(&[&"--validators", &"6", &"--spec", &"huge"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("unknown chain spec"), "{}", text(&out.stderr));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(
        &path,
        r#"{"id": "x", "genesis_header": "00", "genesis_state": {}, "protocol_parameters": "00"}"#,
    )
    .unwrap();
    let out = orrery(&[&"import", &"--chain", &path]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("`protocol_parameters`: 1 bytes"), "{}", text(&out.stderr));
    let out = orrery(&[&"import", &"--chain", &path, &"--genesis", &path]);
    assert!(!out.status.success(), "--chain and --genesis together");
}
