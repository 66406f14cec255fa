//! The `subnet-avs` service's protocol (issue 19's demo): the AVS rule that ties a subnet to
//! restaking and to the agent registry. The service is `services/subnet-avs`.
//!
//! The rule, applied to every epoch of one subnet once: a validator whose weights were far from
//! consensus (its validator trust, the share of its weight Yuma's clipping kept, below the
//! configured minimum) is slashed in `restaking` by `wadToSlash` of its allocation to the AVS's
//! operator set, the validator's hotkey being its operator key; every miner linked to an agent
//! of the `registry` gets feedback from the AVS with the incentive the epoch gave it.
//!
//! Nothing the rule acts on comes from whoever submits the work item: the epoch's results are read
//! from the subnet service's storage (a service may read any service's storage, GP 0.7.2
//! Appendix B.7, `read`), a link from miner to agent is accepted only when the registry's record
//! shows the agent owned by the miner's hotkey, and each epoch is judged once. So anyone may
//! submit the items. The configuration is the exception: the first `Setup` is kept, later ones
//! refused (a deployer sends it right after deploying).
//!
//! Payload: `E1(VERSION) ‖ E1(tag) ‖ fields`: `0` setup ([`Config`]'s encoding), `1` link
//! `E2(uid) ‖ E8(agent)`, `2` judge (no fields).

use alloc::vec::Vec;

use crate::codec::Reader;
use crate::store::{NeuronRecord, OutputRecord};
use crate::wire::Role;
use crate::VERSION;

/// `wadToSlash`'s unit: 10¹⁸ is everything allocated (EigenLayer's WAD).
pub const WAD: u128 = 1_000_000_000_000_000_000;

/// The incentive's fixed point: 65535 is all of it (subtensor's `u16` proportions).
pub const INCENTIVE_ONE: u16 = u16::MAX;

/// Where the AVS's configuration is kept ([`Config`]'s encoding).
pub const CONFIG_KEY: &[u8] = b"config";
/// The slot of the last epoch judged (`E4`).
pub const JUDGED_KEY: &[u8] = b"judged";

/// `"link" ‖ E2(uid)` → `E8(agent)`: the registry agent miner `uid` is.
pub fn link_key(uid: u16) -> Vec<u8> {
    let mut key = b"link".to_vec();
    key.extend_from_slice(&uid.to_le_bytes());
    key
}

/// Which services and which subnet the rule ties, and how hard it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// The `subnet` service and the subnet in it.
    pub subnet_service: u32,
    pub netuid: u16,
    /// The `restaking` service and the id of the operator set this AVS creates in it.
    pub restaking_service: u32,
    pub set_id: u32,
    /// The `registry` service.
    pub registry_service: u32,
    /// A validator whose validator trust is below this (of 65535) is slashed.
    pub min_validator_trust: u16,
    /// What each judged epoch slashes a validator below the minimum by, in `(0, 10¹⁸]`.
    pub wad_to_slash: u128,
}

impl Config {
    pub fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.subnet_service.to_le_bytes());
        out.extend_from_slice(&self.netuid.to_le_bytes());
        out.extend_from_slice(&self.restaking_service.to_le_bytes());
        out.extend_from_slice(&self.set_id.to_le_bytes());
        out.extend_from_slice(&self.registry_service.to_le_bytes());
        out.extend_from_slice(&self.min_validator_trust.to_le_bytes());
        out.extend_from_slice(&self.wad_to_slash.to_le_bytes());
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(36);
        self.encode_to(&mut out);
        out
    }

    fn decode_from(r: &mut Reader<'_>) -> Option<Self> {
        Some(Config {
            subnet_service: r.u32()?,
            netuid: r.u16()?,
            restaking_service: r.u32()?,
            set_id: r.u32()?,
            registry_service: r.u32()?,
            min_validator_trust: r.u16()?,
            wad_to_slash: r.u128()?,
        })
    }

    pub fn decode(data: &[u8]) -> Option<Self> {
        let mut r = Reader::new(data);
        let config = Self::decode_from(&mut r)?;
        r.is_empty().then_some(config)
    }

    /// Whether the numbers make sense: a slash restaking would take.
    pub fn is_valid(&self) -> bool {
        self.wad_to_slash > 0 && self.wad_to_slash <= WAD
    }
}

/// One work item's command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Setup(Config),
    /// Miner `uid` is registry agent `agent`.
    Link {
        uid: u16,
        agent: u64,
    },
    /// Judge the subnet's last epoch, if not judged yet.
    Judge,
}

impl Command {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = alloc::vec![VERSION];
        match self {
            Command::Setup(config) => {
                out.push(0);
                config.encode_to(&mut out);
            }
            Command::Link { uid, agent } => {
                out.push(1);
                out.extend_from_slice(&uid.to_le_bytes());
                out.extend_from_slice(&agent.to_le_bytes());
            }
            Command::Judge => out.push(2),
        }
        out
    }

    /// `None` for anything but exactly one command of this version.
    pub fn decode(data: &[u8]) -> Option<Self> {
        let mut r = Reader::new(data);
        if r.u8()? != VERSION {
            return None;
        }
        let command = match r.u8()? {
            0 => Command::Setup(Config::decode_from(&mut r)?),
            1 => Command::Link { uid: r.u16()?, agent: r.u64()? },
            2 => Command::Judge,
            _ => return None,
        };
        r.is_empty().then_some(command)
    }
}

/// What the rule does about one neuron after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Slash this validator's operator by the configured `wadToSlash`.
    Slash,
    /// Give this miner's agent feedback of `value` with [`FEEDBACK_DECIMALS`] decimals.
    Feedback {
        value: i128,
    },
    Nothing,
}

/// Feedback values are percentages with two decimals (ERC-8004's `value` with `decimals` 2).
pub const FEEDBACK_DECIMALS: u8 = 2;
/// The feedback's first tag.
pub const FEEDBACK_TAG: &[u8] = b"incentive";

/// The rule for one neuron. A validator is judged only when the epoch used weights of its own and
/// gave it a permit: an epoch without its weights (the first, before it set any) says nothing
/// about how far from consensus it is. Miners are judged only when linked (`linked`).
pub fn judge(config: &Config, neuron: &NeuronRecord, output: &OutputRecord, linked: bool) -> Verdict {
    match neuron.role {
        Role::Validator => {
            let judged = neuron.permit && output.active && !neuron.weights.is_empty();
            if judged && output.validator_trust < config.min_validator_trust {
                Verdict::Slash
            } else {
                Verdict::Nothing
            }
        }
        Role::Miner if linked => Verdict::Feedback { value: incentive_percent(output.incentive) },
        Role::Miner => Verdict::Nothing,
    }
}

/// The incentive as a percentage with two decimals, rounded down: 65535 is 100.00 (`10000`).
pub fn incentive_percent(incentive: u16) -> i128 {
    i128::from(incentive) * 10_000 / i128::from(INCENTIVE_ONE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn config() -> Config {
        Config {
            subnet_service: 65536,
            netuid: 0,
            restaking_service: 65537,
            set_id: 7,
            registry_service: 65538,
            min_validator_trust: 52428,
            wad_to_slash: WAD / 10,
        }
    }

    #[test]
    fn commands_round_trip_and_are_laid_out_as_documented() {
        for c in [Command::Setup(config()), Command::Link { uid: 3, agent: 9 }, Command::Judge] {
            assert_eq!(Command::decode(&c.encode()), Some(c));
        }
        assert_eq!(Command::Judge.encode(), vec![1, 2]);
        assert_eq!(Command::Link { uid: 3, agent: 9 }.encode(), vec![1, 1, 3, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
        // Setup: 4 + 2 + 4 + 4 + 4 + 2 + 16 octets after the version and tag.
        let setup = Command::Setup(config()).encode();
        assert_eq!(setup.len(), 2 + 36);
        assert_eq!(&setup[2..6], &65536u32.to_le_bytes());
        assert_eq!(&setup[22..38], &(WAD / 10).to_le_bytes());
        assert_eq!(Config::decode(&config().encode()), Some(config()));
    }

    #[test]
    fn bad_payloads_do_not_decode() {
        assert_eq!(Command::decode(&[]), None);
        assert_eq!(Command::decode(&[2, 2]), None, "another version");
        assert_eq!(Command::decode(&[1, 3]), None, "an unknown tag");
        assert_eq!(Command::decode(&[1, 2, 0]), None, "an octet too many");
        assert_eq!(Command::decode(&[1, 1, 3, 0]), None, "a link cut short");
        let mut setup = Command::Setup(config()).encode();
        setup.pop();
        assert_eq!(Command::decode(&setup), None);
        assert!(!Config { wad_to_slash: 0, ..config() }.is_valid());
        assert!(!Config { wad_to_slash: WAD + 1, ..config() }.is_valid());
        assert!(Config { wad_to_slash: WAD, ..config() }.is_valid());
    }

    fn neuron(role: Role, permit: bool, weights: Vec<(u16, u16)>) -> NeuronRecord {
        NeuronRecord {
            hotkey: [1; 32],
            role,
            stake: 1000,
            payee: None,
            registered: 1,
            last_update: 2,
            permit,
            nonce: 1,
            weights,
            bonds: vec![],
        }
    }

    #[test]
    fn the_rule_slashes_only_judged_validators_below_the_minimum() {
        let c = config();
        let out =
            |trust: u16| OutputRecord { active: true, validator_trust: trust, ..OutputRecord::default() };
        let v = neuron(Role::Validator, true, vec![(2, 65535)]);
        assert_eq!(judge(&c, &v, &out(52427), false), Verdict::Slash);
        assert_eq!(judge(&c, &v, &out(52428), false), Verdict::Nothing, "the minimum itself is enough");
        // No weights, no permit, or inactive: not judged, whatever the trust.
        assert_eq!(judge(&c, &neuron(Role::Validator, true, vec![]), &out(0), false), Verdict::Nothing);
        assert_eq!(
            judge(&c, &neuron(Role::Validator, false, vec![(2, 1)]), &out(0), false),
            Verdict::Nothing
        );
        let inactive = OutputRecord { active: false, ..out(0) };
        assert_eq!(judge(&c, &v, &inactive, false), Verdict::Nothing);
    }

    #[test]
    fn linked_miners_get_their_incentive_as_a_percentage() {
        let c = config();
        let m = neuron(Role::Miner, false, vec![]);
        let out = OutputRecord { incentive: 30582, ..OutputRecord::default() };
        // 30582 / 65535 = 0.466651…: 46.66 %.
        assert_eq!(judge(&c, &m, &out, true), Verdict::Feedback { value: 4666 });
        assert_eq!(judge(&c, &m, &out, false), Verdict::Nothing);
        assert_eq!(incentive_percent(65535), 10_000);
        assert_eq!(incentive_percent(0), 0);
        assert_eq!(incentive_percent(34951), 5333, "8/15 = 53.33 %");
    }
}
