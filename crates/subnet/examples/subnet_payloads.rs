//! Writes the payloads of docs/SERVICES.md's `subnet` walk-through into a directory: a subnet with
//! two validators and two miners, then an empty item (the first epoch: permits), then both
//! validators' signed weights (the second epoch pays). Keys are fixed (seeds 0 to 4), so the
//! files, and what the service does with them, are the same on every machine.
//!
//! `cargo run -p orrery-subnet --example subnet_payloads -- DIR`

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

fn main() -> Result<(), String> {
    let dir = std::env::args().nth(1).ok_or("usage: subnet_payloads DIR")?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("{dir}: {e}"))?;
    let owner = key(0);
    let params = EpochParams { max_allowed_validators: 2, ..EpochParams::default() };
    let mut create = vec![sign(
        &owner,
        Command::CreateSubnet { owner: public(&owner), tempo: 1, emission: 1_000_000, params },
    )];
    let neurons = [(Role::Validator, 1_000), (Role::Validator, 3_000), (Role::Miner, 0), (Role::Miner, 0)];
    for (uid, (role, stake)) in neurons.into_iter().enumerate() {
        let k = key(1 + uid as u64);
        create.push(sign(&k, Command::Register { netuid: 0, hotkey: public(&k), role, stake, payee: None }));
    }
    let weights = |uid: u16, w: [u16; 2]| {
        let k = key(1 + u64::from(uid));
        sign(&k, Command::SetWeights { netuid: 0, uid, hotkey: public(&k), nonce: 1, weights: w.to_vec() })
    };
    let files = [
        ("1-create.bin", encode_payload(&create)),
        ("2-tick.bin", encode_payload(&[])),
        ("3-weights.bin", encode_payload(&[weights(0, [1, 3]), weights(1, [1, 1])])),
    ];
    for (name, payload) in files {
        let path = std::path::Path::new(&dir).join(name);
        std::fs::write(&path, &payload).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("{}: {} octets", path.display(), payload.len());
    }
    Ok(())
}
