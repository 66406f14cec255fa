//! The `restaking` service through the binary, as docs/SERVICES.md walks through it: six
//! `orrery service run`s on one state, with the `avs` service (services/avs) as the AVS sending
//! the memos by real deferred transfers. An operator registers; the AVS creates set 1 and a
//! deposit of 10¹¹ units arrives for a staker; the operator joins and allocates everything, the
//! staker delegates; the AVS slashes the operator to a third of its magnitude (EigenLayer's
//! `test_convertToDepositShares_withSlashing`: the operator keeps 33333333333333333300 of 100e18
//! shares, so 66666666666666666700 are slashed); another service's slash is refused; a withdrawal
//! cannot complete in its delay.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use ed25519_zebra::SigningKey;
use orrery_restaking::memo::Memo;
use orrery_restaking::wire::{encode_payload, signing_message, Action, Command, OperatorSet, Signed};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const RESTAKING: u32 = 1 << 16;
const AVS: u32 = RESTAKING + 1;
const WAD: u64 = 1_000_000_000_000_000_000;

fn key(seed: u64) -> SigningKey {
    SigningKey::new(ChaCha8Rng::seed_from_u64(seed))
}

fn public(key: &SigningKey) -> [u8; 32] {
    ed25519_zebra::VerificationKey::from(key).into()
}

fn sign(key: &SigningKey, nonce: u64, action: Action) -> Signed {
    let command = Command { signer: public(key), nonce, action };
    Signed { signature: key.sign(&signing_message(&command)).to_bytes(), command }
}

fn blob(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../services/{name}/{name}.jam"))
}

/// The `avs` service's payload: orders `(amount, memo)` to the restaking service, each with
/// 10⁶ gas for its accumulation there.
fn orders(orders: &[(u64, Memo)]) -> Vec<u8> {
    let mut out = vec![orders.len() as u8];
    for (amount, memo) in orders {
        out.extend_from_slice(&RESTAKING.to_le_bytes());
        out.extend_from_slice(&amount.to_le_bytes());
        out.extend_from_slice(&1_000_000u64.to_le_bytes());
        out.extend_from_slice(&memo.encode());
    }
    out
}

fn run(dir: &Path, service: &str, id: u32, payload: &[u8], n: usize) -> String {
    let file = dir.join(format!("{n}.bin"));
    std::fs::write(&file, payload).unwrap();
    let out = Process::new(env!("CARGO_BIN_EXE_orrery"))
        .args(["service", "run", blob(service).to_str().unwrap(), "--id", &id.to_string(), "--payload"])
        .arg(format!("@{}", file.display()))
        .arg("--state")
        .arg(dir.join("state"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    text
}

fn assert_has(text: &str, line: &str) {
    assert!(text.contains(line), "expected {line:?} in:\n{text}");
}

#[test]
fn the_walk_through_deposits_delegates_and_slashes_by_transfers() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (op, st) = (key(1), key(2));
    let set = OperatorSet { avs: AVS, id: 1 };

    let out = run(
        dir,
        "restaking",
        RESTAKING,
        &encode_payload(&[sign(&op, 1, Action::RegisterOperator { allocation_delay: 0 })]),
        1,
    );
    assert!(!out.contains("refused"), "{out}");

    let deposit = Memo::Deposit { staker: public(&st) };
    let out = run(
        dir,
        "avs",
        AVS,
        &orders(&[(0, Memo::CreateOperatorSet { id: 1 }), (100_000_000_000, deposit)]),
        2,
    );
    assert_has(&out, "2 transfer(s) in");
    assert!(!out.contains("refused"), "{out}");

    let commands = [
        sign(&op, 2, Action::RegisterForSet { set }),
        sign(&op, 3, Action::Allocate { set, magnitude: WAD }),
        sign(&st, 1, Action::Delegate { operator: public(&op) }),
    ];
    let out = run(dir, "restaking", RESTAKING, &encode_payload(&commands), 3);
    assert!(!out.contains("refused"), "{out}");

    let slash = Memo::Slash { set, operator: public(&op), wad_to_slash: 666_666_666_666_666_667 };
    let out = run(dir, "avs", AVS, &orders(&[(0, slash)]), 4);
    assert_has(
        &out,
        "set (65537, 1) slashed an operator: magnitude 1000000000000000000 -> 333333333333333333, \
         shares 66666666666666666700 + 0 queued",
    );

    // The same memo from another service (the avs code installed again, as 65538) is refused.
    let out = run(dir, "avs", AVS + 1, &orders(&[(0, slash)]), 5);
    assert_has(&out, "refused: NotTheAvs");

    let commands = [
        sign(&st, 2, Action::QueueWithdrawal { shares: 50 * WAD as u128 }),
        sign(&st, 3, Action::CompleteWithdrawal { index: 0, payee: AVS }),
    ];
    let out = run(dir, "restaking", RESTAKING, &encode_payload(&commands), 6);
    assert_has(&out, "command 1 refused: WithdrawalDelayNotElapsed");
}
