//! What a work item carries and what refine makes of it.
//!
//! Payload: `E1(VERSION) ‖ E(n) ‖ n × (E(command) ‖ signature₆₄)`. Each command names its signer
//! (the owner for [`Command::CreateSubnet`], the hotkey otherwise), and the Ed25519 signature is
//! over [`signing_message`]: [`DOMAIN`] ‖ `E(command)`, so that a signature made for this
//! protocol means nothing elsewhere, and the reverse.
//!
//! Refine output: `E1(VERSION) ‖ E(n) ‖ n × verdict`, a verdict being `0 ‖ E(command)` (the
//! signature checked and dropped) or `1 ‖ E1(reason)` ([`Refusal`]). A payload that does not
//! decode gives one verdict, [`Refusal::Malformed`]. Accumulate applies accepted commands in
//! order; a command it refuses in turn (unknown subnet, wrong weight count, ...) changes nothing
//! and is logged with its [`Refusal`].

use alloc::vec::Vec;

use orrery_yuma::EpochParams;

use crate::codec::{put_natural, Reader};
use crate::{MAX_NEURONS, VERSION};

/// The prefix of every signed message.
pub const DOMAIN: &[u8] = b"orrery/subnet/v1";
/// At most this many commands in one work item.
pub const MAX_COMMANDS: usize = 1024;

/// What a neuron registers as: only validators may set weights; a subnet's weight rows are one
/// entry per miner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Miner = 0,
    Validator = 1,
}

/// One command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Creates a subnet with the next free `netuid`, signed by `owner`.
    CreateSubnet {
        /// The owner's Ed25519 key; when the owner also registers this key as a neuron, that neuron
        /// is the epoch's owner uid (always a permit, its self-weight kept).
        owner: [u8; 32],
        /// Slots between epochs (at least 1): an accumulation at slot `t` runs the epoch when
        /// `t ≥ last epoch (or creation) + tempo`.
        tempo: u32,
        /// What each epoch shares out, in the service's balance units (paid by transfer or owed).
        emission: u64,
        /// The epoch's hyperparameters, in subtensor's units.
        params: EpochParams,
    },
    /// Registers `hotkey` in subnet `netuid` at the next uid, signed by `hotkey`.
    Register {
        netuid: u16,
        hotkey: [u8; 32],
        role: Role,
        /// Its stake (declared; the subnet's total must stay under 2^63, the epoch's bound).
        stake: u64,
        /// The service its emission is paid to by transfer; without one it is owed in storage.
        payee: Option<u32>,
    },
    /// Sets validator `uid`'s weights, one per miner of the subnet in uid order, signed by its
    /// hotkey. `nonce` must exceed the last one accepted for this uid, so a signed message cannot
    /// be replayed.
    SetWeights { netuid: u16, uid: u16, hotkey: [u8; 32], nonce: u64, weights: Vec<u16> },
}

/// Why a command was refused (its code is the octet after a refused verdict's 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Refine: the payload does not decode (or has another version).
    Malformed = 1,
    /// Refine: the signer's key is not a valid Ed25519 point.
    BadKey = 2,
    /// Refine: the signature does not verify.
    BadSignature = 3,
    /// Accumulate: no subnet has this netuid.
    UnknownSubnet = 4,
    /// Accumulate: the subnet has [`MAX_NEURONS`] neurons.
    SubnetFull = 5,
    /// Accumulate: the hotkey is already registered in this subnet.
    DuplicateHotkey = 6,
    /// Accumulate: the subnet's total stake would reach 2^63.
    StakeOverflow = 7,
    /// Accumulate: no neuron has this uid.
    UnknownNeuron = 8,
    /// Accumulate: the hotkey is not the one registered at this uid.
    WrongKey = 9,
    /// Accumulate: a miner tried to set weights.
    NotAValidator = 10,
    /// Accumulate: the weights are not one per miner of the subnet.
    WrongWeightCount = 11,
    /// Accumulate: the nonce is not above the last one accepted.
    StaleNonce = 12,
    /// Accumulate: a tempo of 0, or 65536 subnets already.
    BadSubnet = 13,
    /// Accumulate: the service's balance cannot pay for the storage the command would leave
    /// (GP 0.7.2 §9.3's threshold): refused whole rather than failing half-written.
    StorageFull = 14,
}

impl Refusal {
    pub fn from_code(code: u8) -> Option<Refusal> {
        use Refusal::*;
        [
            Malformed,
            BadKey,
            BadSignature,
            UnknownSubnet,
            SubnetFull,
            DuplicateHotkey,
            StakeOverflow,
            UnknownNeuron,
            WrongKey,
            NotAValidator,
            WrongWeightCount,
            StaleNonce,
            BadSubnet,
            StorageFull,
        ]
        .into_iter()
        .find(|r| *r as u8 == code)
    }
}

/// Refine's judgement of one command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accepted(Command),
    Refused(Refusal),
}

impl Command {
    /// `E(command)`: a tag octet (0 create, 1 register, 2 set weights), then the fields in order.
    pub fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Command::CreateSubnet { owner, tempo, emission, params } => {
                out.push(0);
                out.extend_from_slice(owner);
                out.extend_from_slice(&tempo.to_le_bytes());
                out.extend_from_slice(&emission.to_le_bytes());
                orrery_yuma::codec::put_params(out, params);
            }
            Command::Register { netuid, hotkey, role, stake, payee } => {
                out.push(1);
                out.extend_from_slice(&netuid.to_le_bytes());
                out.extend_from_slice(hotkey);
                out.push(*role as u8);
                out.extend_from_slice(&stake.to_le_bytes());
                match payee {
                    None => out.push(0),
                    Some(id) => {
                        out.push(1);
                        out.extend_from_slice(&id.to_le_bytes());
                    }
                }
            }
            Command::SetWeights { netuid, uid, hotkey, nonce, weights } => {
                out.push(2);
                out.extend_from_slice(&netuid.to_le_bytes());
                out.extend_from_slice(&uid.to_le_bytes());
                out.extend_from_slice(hotkey);
                out.extend_from_slice(&nonce.to_le_bytes());
                put_natural(out, weights.len() as u64);
                for w in weights {
                    out.extend_from_slice(&w.to_le_bytes());
                }
            }
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_to(&mut out);
        out
    }

    /// Reads one command.
    pub fn decode_from(r: &mut Reader<'_>) -> Option<Command> {
        Some(match r.u8()? {
            0 => Command::CreateSubnet {
                owner: r.array()?,
                tempo: r.u32()?,
                emission: r.u64()?,
                params: orrery_yuma::codec::read_params(r)?,
            },
            1 => Command::Register {
                netuid: r.u16()?,
                hotkey: r.array()?,
                role: match r.u8()? {
                    0 => Role::Miner,
                    1 => Role::Validator,
                    _ => return None,
                },
                stake: r.u64()?,
                payee: match r.u8()? {
                    0 => None,
                    1 => Some(r.u32()?),
                    _ => return None,
                },
            },
            2 => {
                let netuid = r.u16()?;
                let uid = r.u16()?;
                let hotkey = r.array()?;
                let nonce = r.u64()?;
                let n = r.count(MAX_NEURONS, 2)?;
                let weights = (0..n).map(|_| r.u16()).collect::<Option<Vec<u16>>>()?;
                Command::SetWeights { netuid, uid, hotkey, nonce, weights }
            }
            _ => return None,
        })
    }

    /// The key that must sign this command.
    pub fn signer(&self) -> &[u8; 32] {
        match self {
            Command::CreateSubnet { owner, .. } => owner,
            Command::Register { hotkey, .. } | Command::SetWeights { hotkey, .. } => hotkey,
        }
    }
}

/// What the signer signs: [`DOMAIN`] ‖ `E(command)`.
pub fn signing_message(command: &Command) -> Vec<u8> {
    let mut out = DOMAIN.to_vec();
    command.encode_to(&mut out);
    out
}

/// A command with its signature, as a payload carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    pub command: Command,
    pub signature: [u8; 64],
}

/// The payload of a work item: `E1(VERSION) ‖ E(n) ‖ n × (E(command) ‖ signature)`.
pub fn encode_payload(commands: &[Signed]) -> Vec<u8> {
    let mut out = alloc::vec![VERSION];
    put_natural(&mut out, commands.len() as u64);
    for s in commands {
        s.command.encode_to(&mut out);
        out.extend_from_slice(&s.signature);
    }
    out
}

/// Reads a payload; `None` when it does not decode exactly (trailing octets included).
pub fn decode_payload(data: &[u8]) -> Option<Vec<Signed>> {
    let mut r = Reader::new(data);
    if r.u8()? != VERSION {
        return None;
    }
    // The smallest signed command is a register: 1 + 2 + 32 + 1 + 8 + 1 + 64 octets.
    let n = r.count(MAX_COMMANDS, 109)?;
    let commands = (0..n)
        .map(|_| Some(Signed { command: Command::decode_from(&mut r)?, signature: r.array()? }))
        .collect::<Option<Vec<_>>>()?;
    r.is_empty().then_some(commands)
}

/// Refine's output: `E1(VERSION) ‖ E(n) ‖ n × verdict`.
pub fn encode_verdicts(verdicts: &[Verdict]) -> Vec<u8> {
    let mut out = alloc::vec![VERSION];
    put_natural(&mut out, verdicts.len() as u64);
    for v in verdicts {
        match v {
            Verdict::Accepted(c) => {
                out.push(0);
                c.encode_to(&mut out);
            }
            Verdict::Refused(why) => {
                out.push(1);
                out.push(*why as u8);
            }
        }
    }
    out
}

/// Reads refine's output; `None` when it does not decode exactly.
pub fn decode_verdicts(data: &[u8]) -> Option<Vec<Verdict>> {
    let mut r = Reader::new(data);
    if r.u8()? != VERSION {
        return None;
    }
    let n = r.count(MAX_COMMANDS, 2)?;
    let verdicts = (0..n)
        .map(|_| {
            Some(match r.u8()? {
                0 => Verdict::Accepted(Command::decode_from(&mut r)?),
                1 => Verdict::Refused(Refusal::from_code(r.u8()?)?),
                _ => return None,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    r.is_empty().then_some(verdicts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn samples() -> Vec<Command> {
        vec![
            Command::CreateSubnet {
                owner: [1; 32],
                tempo: 360,
                emission: 1_000_000_000,
                params: EpochParams { yuma3: true, alpha_sigmoid_steepness: -5, ..EpochParams::default() },
            },
            Command::Register { netuid: 3, hotkey: [2; 32], role: Role::Validator, stake: 7, payee: Some(9) },
            Command::Register { netuid: 3, hotkey: [2; 32], role: Role::Miner, stake: 0, payee: None },
            Command::SetWeights { netuid: 3, uid: 1, hotkey: [3; 32], nonce: 4, weights: vec![1, 65535, 0] },
        ]
    }

    #[test]
    fn payloads_and_verdicts_round_trip() {
        let signed: Vec<Signed> =
            samples().into_iter().map(|command| Signed { command, signature: [5; 64] }).collect();
        let payload = encode_payload(&signed);
        assert_eq!(decode_payload(&payload), Some(signed.clone()));
        let mut longer = payload.clone();
        longer.push(0);
        assert_eq!(decode_payload(&longer), None);
        assert_eq!(decode_payload(&payload[..payload.len() - 1]), None);
        let mut other_version = payload;
        other_version[0] = 2;
        assert_eq!(decode_payload(&other_version), None);

        let mut verdicts: Vec<Verdict> = samples().into_iter().map(Verdict::Accepted).collect();
        verdicts.push(Verdict::Refused(Refusal::BadSignature));
        assert_eq!(decode_verdicts(&encode_verdicts(&verdicts)), Some(verdicts));
        assert_eq!(decode_verdicts(&[VERSION, 1, 1, 99]), None);
    }

    /// The layout worked by hand for one set-weights command: tag 2, E2(netuid), E2(uid), hotkey,
    /// E8(nonce), E(3), three E2 weights.
    #[test]
    fn set_weights_is_laid_out_field_by_field() {
        let c = Command::SetWeights {
            netuid: 0x0102,
            uid: 5,
            hotkey: [0xaa; 32],
            nonce: 1,
            weights: vec![1, 2, 3],
        };
        let mut want = vec![2, 0x02, 0x01, 5, 0];
        want.extend_from_slice(&[0xaa; 32]);
        want.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
        want.extend_from_slice(&[3, 1, 0, 2, 0, 3, 0]);
        assert_eq!(c.encode(), want);
        let msg = signing_message(&c);
        assert_eq!(&msg[..DOMAIN.len()], b"orrery/subnet/v1");
        assert_eq!(&msg[DOMAIN.len()..], want.as_slice());
    }

    #[test]
    fn every_refusal_code_reads_back() {
        for code in 0..=255u8 {
            if let Some(r) = Refusal::from_code(code) {
                assert_eq!(r as u8, code);
            }
        }
        assert_eq!(Refusal::from_code(11), Some(Refusal::WrongWeightCount));
        assert_eq!(Refusal::from_code(0), None);
    }
}
