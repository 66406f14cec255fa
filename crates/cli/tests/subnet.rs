//! The `subnet` service through the binary, as docs/SERVICES.md walks through it: a subnet with
//! validators of stake 1000 and 3000 and two miners, an empty item, then weights `[1, 3]` and
//! `[1, 1]`, three `orrery service run`s on one state. Expected numbers are worked by hand in the
//! docs: the first epoch pays by stake (1/4 and 3/4 of 10⁶); in the second the miners' incentives
//! are 7/15 and 8/15, so they get 10⁶ · 7/30 = 233,333.3 and 10⁶ · 8/30 = 266,666.7, truncated.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use ed25519_zebra::SigningKey;
use orrery_subnet::wire::{encode_payload, signing_message, Command, Role, Signed};
use orrery_yuma::EpochParams;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn key(seed: u64) -> SigningKey {
    SigningKey::new(ChaCha8Rng::seed_from_u64(seed))
}

fn public(key: &SigningKey) -> [u8; 32] {
    ed25519_zebra::VerificationKey::from(key).into()
}

fn sign(key: &SigningKey, command: Command) -> Signed {
    Signed { signature: key.sign(&signing_message(&command)).to_bytes(), command }
}

fn blob() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services/subnet/subnet.jam")
}

fn run(payload: &Path, state: &Path) -> String {
    let out = Process::new(env!("CARGO_BIN_EXE_orrery"))
        .args(["service", "run", blob().to_str().unwrap(), "--payload"])
        .arg(format!("@{}", payload.display()))
        .arg("--state")
        .arg(state)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    text
}

fn assert_has(text: &str, line: &str) {
    assert!(text.contains(line), "expected {line:?} in:\n{text}");
}

/// The hex of an output record's emission fields (`E8` miner, validator, total), as the run prints
/// storage values.
fn le(x: u64) -> String {
    x.to_le_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_walk_through_pays_by_stake_then_by_incentive_and_dividends() {
    let dir = tempfile::tempdir().unwrap();
    let owner = key(0);
    let params = EpochParams { max_allowed_validators: 2, ..EpochParams::default() };
    let mut create = vec![sign(
        &owner,
        Command::CreateSubnet { owner: public(&owner), tempo: 1, emission: 1_000_000, params },
    )];
    for (uid, (role, stake)) in
        [(Role::Validator, 1_000), (Role::Validator, 3_000), (Role::Miner, 0), (Role::Miner, 0)]
            .into_iter()
            .enumerate()
    {
        let k = key(1 + uid as u64);
        create.push(sign(&k, Command::Register { netuid: 0, hotkey: public(&k), role, stake, payee: None }));
    }
    let weights = |uid: u16, w: [u16; 2]| {
        let k = key(1 + u64::from(uid));
        sign(&k, Command::SetWeights { netuid: 0, uid, hotkey: public(&k), nonce: 1, weights: w.to_vec() })
    };
    let files = [
        encode_payload(&create),
        encode_payload(&[]),
        encode_payload(&[weights(0, [1, 3]), weights(1, [1, 1])]),
    ];
    let state = dir.path().join("st");
    let mut outs = Vec::new();
    for (i, payload) in files.iter().enumerate() {
        let path = dir.path().join(format!("{i}.bin"));
        std::fs::write(&path, payload).unwrap();
        outs.push(run(&path, &state));
    }
    assert_has(&outs[0], "log [info] subnet 0: uid 3 registered, stake 0");
    // Epoch 1: no weights, paid by stake: 250,000 and 750,000, all owed (no payees).
    assert_has(&outs[1], "log [info] subnet 0 epoch 1 at slot 2: 4 neurons, paid 0, owed 1000000");
    assert_has(&outs[1], &le(250_000));
    assert_has(&outs[1], &le(750_000));
    // Epoch 2: the miners' emission by incentive, as miner emission, total and owed.
    assert_has(&outs[2], "log [info] subnet 0 epoch 2 at slot 3: 4 neurons");
    for miner in [233_333u64, 266_666] {
        let fields = format!("{}{}{}{}", le(miner), le(0), le(miner), le(0));
        assert_has(&outs[2], &format!("{fields}{}", le(miner)));
    }
}
