//! The service's storage: keys and records, encoded as the payload is (GP 0.7.2 Appendix C codec).
//!
//! | key | value |
//! |---|---|
//! | `"subnets"` | `E2(count)`: netuids `0..count` exist |
//! | `"subnet" ‖ E2(netuid)` | [`SubnetRecord`] |
//! | `"miners" ‖ E2(netuid)` | the miners' uids in order, `E2` each: the columns of a weight row |
//! | `"hotkey" ‖ E2(netuid) ‖ key` | `E2(uid)` |
//! | `"neuron" ‖ E2(netuid) ‖ E2(uid)` | [`NeuronRecord`] |
//! | `"output" ‖ E2(netuid) ‖ E2(uid)` | [`OutputRecord`]: the last epoch's numbers and the totals paid and owed |

use alloc::vec::Vec;

use orrery_yuma::codec::{put_params, read_params};
use orrery_yuma::EpochParams;

use crate::codec::{put_pairs, read_pairs, Reader};
use crate::wire::Role;

pub const SUBNETS_KEY: &[u8] = b"subnets";

fn key(prefix: &[u8], netuid: u16, rest: &[u8]) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.extend_from_slice(&netuid.to_le_bytes());
    k.extend_from_slice(rest);
    k
}

pub fn subnet_key(netuid: u16) -> Vec<u8> {
    key(b"subnet", netuid, &[])
}

pub fn miners_key(netuid: u16) -> Vec<u8> {
    key(b"miners", netuid, &[])
}

pub fn hotkey_key(netuid: u16, hotkey: &[u8; 32]) -> Vec<u8> {
    key(b"hotkey", netuid, hotkey)
}

pub fn neuron_key(netuid: u16, uid: u16) -> Vec<u8> {
    key(b"neuron", netuid, &uid.to_le_bytes())
}

pub fn output_key(netuid: u16, uid: u16) -> Vec<u8> {
    key(b"output", netuid, &uid.to_le_bytes())
}

/// A subnet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubnetRecord {
    pub owner: [u8; 32],
    pub tempo: u32,
    pub emission: u64,
    pub params: EpochParams,
    /// The slot it was created at.
    pub created: u32,
    /// The slot of its last epoch, 0 before the first (subtensor's `LastMechansimStepBlock`).
    pub last_epoch: u32,
    /// Epochs run so far.
    pub epochs: u32,
    /// Neurons registered: uids `0..neurons`.
    pub neurons: u16,
    /// The sum of their stakes, below 2^63.
    pub total_stake: u64,
}

impl SubnetRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.owner.to_vec();
        out.extend_from_slice(&self.tempo.to_le_bytes());
        out.extend_from_slice(&self.emission.to_le_bytes());
        put_params(&mut out, &self.params);
        out.extend_from_slice(&self.created.to_le_bytes());
        out.extend_from_slice(&self.last_epoch.to_le_bytes());
        out.extend_from_slice(&self.epochs.to_le_bytes());
        out.extend_from_slice(&self.neurons.to_le_bytes());
        out.extend_from_slice(&self.total_stake.to_le_bytes());
        out
    }

    pub fn decode(data: &[u8]) -> Option<Self> {
        let mut r = Reader::new(data);
        let record = SubnetRecord {
            owner: r.array()?,
            tempo: r.u32()?,
            emission: r.u64()?,
            params: read_params(&mut r)?,
            created: r.u32()?,
            last_epoch: r.u32()?,
            epochs: r.u32()?,
            neurons: r.u16()?,
            total_stake: r.u64()?,
        };
        r.is_empty().then_some(record)
    }

    /// Whether an accumulation at `slot` runs the epoch.
    pub fn epoch_due(&self, slot: u32) -> bool {
        let since = if self.epochs == 0 { self.created } else { self.last_epoch };
        slot >= since.saturating_add(self.tempo)
    }
}

/// A neuron.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeuronRecord {
    pub hotkey: [u8; 32],
    pub role: Role,
    pub stake: u64,
    pub payee: Option<u32>,
    /// The slot it registered at.
    pub registered: u32,
    /// The slot of its last weights (its registration before any).
    pub last_update: u32,
    /// Its validator permit, from the last epoch.
    pub permit: bool,
    /// The last set-weights nonce accepted (0: none).
    pub nonce: u64,
    /// Its weights as subtensor stores them: `(miner uid, value)`, the row max-upscaled.
    pub weights: Vec<(u16, u16)>,
    /// Its bonds from the last epoch.
    pub bonds: Vec<(u16, u16)>,
}

impl NeuronRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.hotkey.to_vec();
        out.push(self.role as u8);
        out.extend_from_slice(&self.stake.to_le_bytes());
        out.extend_from_slice(&self.payee.unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(&self.registered.to_le_bytes());
        out.extend_from_slice(&self.last_update.to_le_bytes());
        out.push(self.permit.into());
        out.extend_from_slice(&self.nonce.to_le_bytes());
        put_pairs(&mut out, &self.weights);
        put_pairs(&mut out, &self.bonds);
        out
    }

    pub fn decode(data: &[u8]) -> Option<Self> {
        let mut r = Reader::new(data);
        let record = NeuronRecord {
            hotkey: r.array()?,
            role: match r.u8()? {
                0 => Role::Miner,
                1 => Role::Validator,
                _ => return None,
            },
            stake: r.u64()?,
            payee: Some(r.u32()?).filter(|&p| p != u32::MAX),
            registered: r.u32()?,
            last_update: r.u32()?,
            permit: r.bool()?,
            nonce: r.u64()?,
            weights: read_pairs(&mut r)?,
            bonds: read_pairs(&mut r)?,
        };
        r.is_empty().then_some(record)
    }
}

/// What the last epoch gave a neuron, and what it has been paid and is owed in all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputRecord {
    /// The slot of that epoch.
    pub slot: u32,
    pub active: bool,
    pub stake_weight: u16,
    pub consensus: u16,
    pub incentive: u16,
    pub dividend: u16,
    pub validator_trust: u16,
    pub server_emission: u64,
    pub validator_emission: u64,
    /// The epoch's emission to it (subtensor's `Emission`): what is paid.
    pub emission: u64,
    /// Paid by transfer, all epochs.
    pub paid: u64,
    /// Owed (no payee, or the transfer failed), all epochs.
    pub owed: u64,
}

impl OutputRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.slot.to_le_bytes().to_vec();
        out.push(self.active.into());
        for v in [self.stake_weight, self.consensus, self.incentive, self.dividend, self.validator_trust] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in [self.server_emission, self.validator_emission, self.emission, self.paid, self.owed] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    pub fn decode(data: &[u8]) -> Option<Self> {
        let mut r = Reader::new(data);
        let record = OutputRecord {
            slot: r.u32()?,
            active: r.bool()?,
            stake_weight: r.u16()?,
            consensus: r.u16()?,
            incentive: r.u16()?,
            dividend: r.u16()?,
            validator_trust: r.u16()?,
            server_emission: r.u64()?,
            validator_emission: r.u64()?,
            emission: r.u64()?,
            paid: r.u64()?,
            owed: r.u64()?,
        };
        r.is_empty().then_some(record)
    }
}

/// The miners list: `E2` uids.
pub fn encode_uids(uids: &[u16]) -> Vec<u8> {
    uids.iter().flat_map(|u| u.to_le_bytes()).collect()
}

/// Reads the miners list; `None` for an odd length.
pub fn decode_uids(data: &[u8]) -> Option<Vec<u16>> {
    (data.len() % 2 == 0).then(|| data.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn records_round_trip() {
        let subnet = SubnetRecord {
            owner: [1; 32],
            tempo: 2,
            emission: 3,
            params: EpochParams::default(),
            created: 4,
            last_epoch: 5,
            epochs: 6,
            neurons: 7,
            total_stake: 8,
        };
        assert_eq!(SubnetRecord::decode(&subnet.encode()), Some(subnet));
        let neuron = NeuronRecord {
            hotkey: [2; 32],
            role: Role::Validator,
            stake: 9,
            payee: Some(10),
            registered: 11,
            last_update: 12,
            permit: true,
            nonce: 13,
            weights: vec![(1, 2), (3, 4)],
            bonds: vec![(5, 6)],
        };
        assert_eq!(NeuronRecord::decode(&neuron.encode()), Some(neuron.clone()));
        let no_payee = NeuronRecord { payee: None, ..neuron };
        assert_eq!(NeuronRecord::decode(&no_payee.encode()), Some(no_payee));
        let out =
            OutputRecord { slot: 1, active: true, dividend: 3, emission: 4, owed: 5, ..Default::default() };
        assert_eq!(OutputRecord::decode(&out.encode()), Some(out));
        assert_eq!(decode_uids(&encode_uids(&[1, 300])), Some(vec![1, 300]));
        assert_eq!(decode_uids(&[1]), None);
    }

    #[test]
    fn the_epoch_is_due_a_tempo_after_creation_then_after_each_epoch() {
        let mut s = SubnetRecord {
            owner: [0; 32],
            tempo: 3,
            emission: 0,
            params: EpochParams::default(),
            created: 10,
            last_epoch: 0,
            epochs: 0,
            neurons: 0,
            total_stake: 0,
        };
        assert!(!s.epoch_due(12));
        assert!(s.epoch_due(13));
        s.last_epoch = 13;
        s.epochs = 1;
        assert!(!s.epoch_due(15));
        assert!(s.epoch_due(16));
    }
}
