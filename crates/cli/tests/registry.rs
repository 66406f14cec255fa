//! The `registry` service through the binary, as docs/SERVICES.md walks through it: alice registers
//! agent 0; carol gives it 87 and 90 ("starred"), dave 99.77 ("uptime"); carol revokes her 87 and
//! alice asks erin to validate a job; erin answers 80. Four `orrery service run`s on one state.
//! Expected numbers are worked by hand in the docs: the summary over all feedback is 3 and
//! 87 + 99.77 + 90 = 276.77, then 2 and 189.77 after the revocation, in units of 10⁻¹⁸.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use ed25519_zebra::SigningKey;
use orrery_registry::wire::{encode_payload, signing_message, Command, Feedback, Principal, Signed};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn key(seed: u64) -> SigningKey {
    SigningKey::new(ChaCha8Rng::seed_from_u64(seed))
}

fn public(key: &SigningKey) -> [u8; 32] {
    ed25519_zebra::VerificationKey::from(key).into()
}

fn sign(key: &SigningKey, nonce: u64, command: Command) -> Signed {
    let signer = public(key);
    let signature = key.sign(&signing_message(&signer, nonce, &command)).to_bytes();
    Signed { signer, nonce, command, signature }
}

fn feedback(value: i128, decimals: u8, tag1: &str) -> Command {
    Command::GiveFeedback(Feedback {
        agent: 0,
        value,
        decimals,
        tag1: tag1.as_bytes().to_vec(),
        tag2: vec![],
        endpoint: vec![],
        uri: vec![],
        hash: None,
    })
}

fn blob() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services/registry/registry.jam")
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A summary record as the run prints it: `E8(count) ‖ E16(sum)`.
fn summary(count: u64, sum: i128) -> String {
    format!("= 0x{}{} (24 octets)", hex(&count.to_le_bytes()), hex(&sum.to_le_bytes()))
}

const E16: i128 = 10_000_000_000_000_000;

#[test]
fn the_walk_through_sums_feedback_and_records_a_validation() {
    let dir = tempfile::tempdir().unwrap();
    let (alice, carol, dave, erin) = (key(1), key(2), key(3), key(4));
    let register = Command::Register {
        uri: b"https://alice.example/agent.json".to_vec(),
        metadata: vec![(b"name".to_vec(), b"alice".to_vec())],
    };
    let request = Command::RequestValidation {
        validator: Principal::Key(public(&erin)),
        agent: 0,
        uri: b"ipfs://job-1".to_vec(),
        hash: [0x11; 32],
    };
    let respond = Command::RespondValidation {
        request: [0x11; 32],
        response: 80,
        uri: vec![],
        hash: None,
        tag: b"soft".to_vec(),
    };
    let files = [
        encode_payload(&[sign(&alice, 1, register)]),
        encode_payload(&[
            sign(&carol, 1, feedback(87, 0, "starred")),
            sign(&dave, 1, feedback(9977, 2, "uptime")),
            sign(&carol, 2, feedback(90, 0, "starred")),
        ]),
        encode_payload(&[
            sign(&carol, 3, Command::RevokeFeedback { agent: 0, index: 1 }),
            sign(&alice, 2, request),
        ]),
        encode_payload(&[sign(&erin, 1, respond)]),
    ];
    let state = dir.path().join("st");
    let mut outs = Vec::new();
    for (i, payload) in files.iter().enumerate() {
        let path = dir.path().join(format!("{i}.bin"));
        std::fs::write(&path, payload).unwrap();
        outs.push(run(&path, &state));
    }
    assert_has(&outs[0], &format!("log [info] agent 0 registered by key:{}", hex(&public(&alice))));
    assert_has(&outs[0], "storage \"agents\" = 0x0100000000000000 (8 octets) (new)");
    assert_has(&outs[0], "= 0x616c696365 (\"alice\") (new)");
    // All three: 87 + 99.77 + 90 = 276.77; "starred": 87 + 90 = 177; "uptime": 99.77.
    assert_has(&outs[1], &summary(3, 27_677 * E16));
    assert_has(&outs[1], &summary(2, 17_700 * E16));
    assert_has(&outs[1], &summary(1, 9_977 * E16));
    // Carol's 87 revoked: 189.77 over two, "starred" 90 over one.
    assert_has(&outs[2], &summary(2, 18_977 * E16));
    assert_has(&outs[2], &summary(1, 9_000 * E16));
    assert_has(&outs[2], "log [info] agent 0: validation requested of key:");
    // The validation summary: one request, one response, their sum 80 (0x50).
    assert_has(&outs[3], "log [info] agent 0: validation response 80");
    assert_has(&outs[3], "= 0x010000000000000001000000000000005000000000000000 (24 octets)");
}
