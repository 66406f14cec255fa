//! Writes the payloads of docs/SERVICES.md's `registry` walk-through into a directory: alice
//! registers an agent; carol and dave give it feedback; carol revokes her first and alice asks a
//! validator (erin) to check a job; erin answers 80. Keys are fixed (seeds 1 to 4), so the files,
//! and what the service does with them, are the same on every machine. Also the memo another
//! service sends to give feedback (`memo.bin`, 128 octets), for a builder of transfers.
//!
//! `cargo run -p orrery-registry --example registry_payloads -- DIR`

use ed25519_zebra::SigningKey;
use orrery_registry::wire::{
    encode_memo, encode_payload, signing_message, Command, Feedback, Principal, Signed,
};
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

/// The walk-through's four payloads, in order.
pub fn walk() -> Vec<(&'static str, Vec<u8>)> {
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
    vec![
        ("1-register.bin", encode_payload(&[sign(&alice, 1, register)])),
        (
            "2-feedback.bin",
            encode_payload(&[
                sign(&carol, 1, feedback(87, 0, "starred")),
                sign(&dave, 1, feedback(9977, 2, "uptime")),
                sign(&carol, 2, feedback(90, 0, "starred")),
            ]),
        ),
        (
            "3-revoke-request.bin",
            encode_payload(&[
                sign(&carol, 3, Command::RevokeFeedback { agent: 0, index: 1 }),
                sign(&alice, 2, request),
            ]),
        ),
        ("4-respond.bin", encode_payload(&[sign(&erin, 1, respond)])),
    ]
}

fn main() -> Result<(), String> {
    let dir = std::env::args().nth(1).ok_or("usage: registry_payloads DIR")?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("{dir}: {e}"))?;
    let memo = encode_memo(&feedback(87, 0, "incentive")).ok_or("the memo fits")?;
    let mut files = walk();
    files.push(("memo.bin", memo.to_vec()));
    for (name, payload) in files {
        let path = std::path::Path::new(&dir).join(name);
        std::fs::write(&path, &payload).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("{}: {} octets", path.display(), payload.len());
    }
    Ok(())
}
