//! The service's storage: keys and records, encoded as the payload is (GP 0.7.2 Appendix C codec).
//! `E(p)` is a [`Principal`]'s encoding, `E(↕t)` a length-prefixed tag.
//!
//! | key | value |
//! |---|---|
//! | `"agents"` | `E8(count)`: agent ids `0..count` exist |
//! | `"agent" ‖ E8(id)` | [`AgentRecord`] |
//! | `"meta" ‖ E8(id) ‖ key` | the metadata value |
//! | `"nonce" ‖ key₃₂` | `E8`: the last nonce accepted from this signer |
//! | `"client" ‖ E8(id) ‖ E(p)` | [`ClientRecord`]: the client's last feedback index and its running sum |
//! | `"feedback" ‖ E8(id) ‖ E(p) ‖ E8(index)` | [`FeedbackRecord`] |
//! | `"summary" ‖ E8(id) ‖ E(↕tag1) ‖ E(↕tag2)` | [`Summary`] of the live feedback with these tags, an empty tag meaning any |
//! | `"request" ‖ hash` | [`RequestRecord`] |
//! | `"validation" ‖ E8(id)` | [`ValidationSummary`] |

use alloc::vec::Vec;

use crate::codec::{put_blob, Reader};
use crate::wire::Principal;

pub const AGENTS_KEY: &[u8] = b"agents";

fn key(prefix: &[u8], agent: u64) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.extend_from_slice(&agent.to_le_bytes());
    k
}

pub fn agent_key(agent: u64) -> Vec<u8> {
    key(b"agent", agent)
}

pub fn metadata_key(agent: u64, name: &[u8]) -> Vec<u8> {
    let mut k = key(b"meta", agent);
    k.extend_from_slice(name);
    k
}

pub fn nonce_key(signer: &[u8; 32]) -> Vec<u8> {
    let mut k = b"nonce".to_vec();
    k.extend_from_slice(signer);
    k
}

pub fn client_key(agent: u64, client: &Principal) -> Vec<u8> {
    let mut k = key(b"client", agent);
    client.encode_to(&mut k);
    k
}

pub fn feedback_key(agent: u64, client: &Principal, index: u64) -> Vec<u8> {
    let mut k = key(b"feedback", agent);
    client.encode_to(&mut k);
    k.extend_from_slice(&index.to_le_bytes());
    k
}

/// The key of the running sum over the agent's live feedback with these tags (empty: any).
pub fn summary_key(agent: u64, tag1: &[u8], tag2: &[u8]) -> Vec<u8> {
    let mut k = key(b"summary", agent);
    put_blob(&mut k, tag1);
    put_blob(&mut k, tag2);
    k
}

/// The summaries one feedback counts in: all of the agent's, its `tag1`'s, its `tag2`'s and its
/// pair's (ERC-8004 `getSummary` filters by either tag or both), each once.
pub fn summary_keys(agent: u64, tag1: &[u8], tag2: &[u8]) -> Vec<Vec<u8>> {
    let mut keys = alloc::vec![summary_key(agent, &[], &[])];
    for (t1, t2) in [(tag1, &[][..]), (&[][..], tag2), (tag1, tag2)] {
        let k = summary_key(agent, t1, t2);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys
}

pub fn request_key(hash: &[u8; 32]) -> Vec<u8> {
    let mut k = b"request".to_vec();
    k.extend_from_slice(hash);
    k
}

pub fn validation_key(agent: u64) -> Vec<u8> {
    key(b"validation", agent)
}

/// An agent (ERC-8004 "Identity Registry": the ERC-721 token, its owner and its `tokenURI`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentRecord {
    pub owner: Principal,
    /// The slot it was registered at.
    pub registered: u32,
    /// The slot of its last change (URI, metadata, owner).
    pub updated: u32,
    /// Its metadata entries, at most [`crate::wire::MAX_METADATA`].
    pub metadata: u8,
    pub uri: Vec<u8>,
}

impl AgentRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.owner.encode_to(&mut out);
        out.extend_from_slice(&self.registered.to_le_bytes());
        out.extend_from_slice(&self.updated.to_le_bytes());
        out.push(self.metadata);
        put_blob(&mut out, &self.uri);
        out
    }

    pub fn decode(data: &[u8]) -> Option<Self> {
        let mut r = Reader::new(data);
        let record = AgentRecord {
            owner: Principal::decode_from(&mut r)?,
            registered: r.u32()?,
            updated: r.u32()?,
            metadata: r.u8()?,
            uri: r.blob()?.to_vec(),
        };
        r.is_empty().then_some(record)
    }
}

/// A running sum: how many live feedbacks and the sum of their values in units of 10⁻¹⁸
/// ([`crate::wire::normalized`]); ERC-8004 `getSummary` returns it with 18 decimals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub count: u64,
    pub sum: i128,
}

impl Summary {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.count.to_le_bytes().to_vec();
        out.extend_from_slice(&self.sum.to_le_bytes());
        out
    }

    pub fn decode(data: &[u8]) -> Option<Self> {
        let mut r = Reader::new(data);
        let s = Summary { count: r.u64()?, sum: r.i128()? };
        r.is_empty().then_some(s)
    }

    /// With one more feedback of `value`; `None` on overflow.
    pub fn with(self, value: i128) -> Option<Self> {
        Some(Summary { count: self.count.checked_add(1)?, sum: self.sum.checked_add(value)? })
    }

    /// Without one feedback of `value` (revoked): it was added, so this cannot overflow.
    pub fn without(self, value: i128) -> Self {
        Summary { count: self.count.saturating_sub(1), sum: self.sum.saturating_sub(value) }
    }
}

/// What one client has given one agent: its last feedback index (ERC-8004 `getLastIndex`,
/// 1-based, 0 for none) and the running sum of its live feedback.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientRecord {
    pub last_index: u64,
    pub summary: Summary,
}

impl ClientRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.last_index.to_le_bytes().to_vec();
        out.extend_from_slice(&self.summary.encode());
        out
    }

    pub fn decode(data: &[u8]) -> Option<Self> {
        let (head, tail) = data.split_at_checked(8)?;
        Some(ClientRecord {
            last_index: u64::from_le_bytes(head.try_into().ok()?),
            summary: Summary::decode(tail)?,
        })
    }
}

/// One feedback as the ERC stores it (value, decimals, tags, revoked), with its slot and the
/// number of responses appended to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedbackRecord {
    pub value: i128,
    pub decimals: u8,
    pub tag1: Vec<u8>,
    pub tag2: Vec<u8>,
    pub revoked: bool,
    pub responses: u64,
    pub slot: u32,
}

impl FeedbackRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.value.to_le_bytes().to_vec();
        out.push(self.decimals);
        put_blob(&mut out, &self.tag1);
        put_blob(&mut out, &self.tag2);
        out.push(self.revoked.into());
        out.extend_from_slice(&self.responses.to_le_bytes());
        out.extend_from_slice(&self.slot.to_le_bytes());
        out
    }

    pub fn decode(data: &[u8]) -> Option<Self> {
        let mut r = Reader::new(data);
        let record = FeedbackRecord {
            value: r.i128()?,
            decimals: r.u8()?,
            tag1: r.blob()?.to_vec(),
            tag2: r.blob()?.to_vec(),
            revoked: r.bool()?,
            responses: r.u64()?,
            slot: r.u32()?,
        };
        r.is_empty().then_some(record)
    }
}

/// A validation request and its latest response (ERC-8004 `getValidationStatus`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    pub validator: Principal,
    pub agent: u64,
    /// The slot it was requested at.
    pub requested: u32,
    /// The latest response, `None` before the first.
    pub response: Option<u8>,
    /// The latest response's hash (zeros: none) and tag.
    pub response_hash: [u8; 32],
    pub tag: Vec<u8>,
    /// The slot of the latest response (ERC-8004 `lastUpdate`), the request's before any.
    pub last_update: u32,
}

impl RequestRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.validator.encode_to(&mut out);
        out.extend_from_slice(&self.agent.to_le_bytes());
        out.extend_from_slice(&self.requested.to_le_bytes());
        match self.response {
            None => out.push(0),
            Some(r) => out.extend_from_slice(&[1, r]),
        }
        out.extend_from_slice(&self.response_hash);
        put_blob(&mut out, &self.tag);
        out.extend_from_slice(&self.last_update.to_le_bytes());
        out
    }

    pub fn decode(data: &[u8]) -> Option<Self> {
        let mut r = Reader::new(data);
        let record = RequestRecord {
            validator: Principal::decode_from(&mut r)?,
            agent: r.u64()?,
            requested: r.u32()?,
            response: match r.u8()? {
                0 => None,
                1 => Some(r.u8()?),
                _ => return None,
            },
            response_hash: r.array()?,
            tag: r.blob()?.to_vec(),
            last_update: r.u32()?,
        };
        r.is_empty().then_some(record)
    }
}

/// An agent's validations: requests made, requests answered and the sum of their latest
/// responses (ERC-8004 validation `getSummary`: average = `sum / responded`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ValidationSummary {
    pub requests: u64,
    pub responded: u64,
    pub sum: u64,
}

impl ValidationSummary {
    pub fn encode(&self) -> Vec<u8> {
        [self.requests, self.responded, self.sum].iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    pub fn decode(data: &[u8]) -> Option<Self> {
        let mut r = Reader::new(data);
        let s = ValidationSummary { requests: r.u64()?, responded: r.u64()?, sum: r.u64()? };
        r.is_empty().then_some(s)
    }

    /// The average latest response, 0 when none (the ERC's `averageResponse`, rounded down).
    pub fn average(&self) -> u8 {
        self.sum.checked_div(self.responded).map_or(0, |a| a as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn records_round_trip() {
        let agent = AgentRecord {
            owner: Principal::Service(7),
            registered: 1,
            updated: 2,
            metadata: 3,
            uri: b"ipfs://x".to_vec(),
        };
        assert_eq!(AgentRecord::decode(&agent.encode()), Some(agent));
        let client = ClientRecord { last_index: 4, summary: Summary { count: 2, sum: -5 } };
        assert_eq!(ClientRecord::decode(&client.encode()), Some(client));
        assert_eq!(ClientRecord::decode(&[0; 7]), None);
        let feedback = FeedbackRecord {
            value: -32,
            decimals: 1,
            tag1: b"a".to_vec(),
            tag2: vec![],
            revoked: true,
            responses: 2,
            slot: 9,
        };
        assert_eq!(FeedbackRecord::decode(&feedback.encode()), Some(feedback));
        let request = RequestRecord {
            validator: Principal::Key([1; 32]),
            agent: 3,
            requested: 4,
            response: Some(100),
            response_hash: [2; 32],
            tag: b"soft".to_vec(),
            last_update: 5,
        };
        assert_eq!(RequestRecord::decode(&request.encode()), Some(request.clone()));
        let unanswered = RequestRecord { response: None, ..request };
        assert_eq!(RequestRecord::decode(&unanswered.encode()), Some(unanswered));
        let v = ValidationSummary { requests: 3, responded: 2, sum: 151 };
        assert_eq!(ValidationSummary::decode(&v.encode()), Some(v));
        // (100 + 51) / 2 = 75.5, rounded down.
        assert_eq!(v.average(), 75);
        assert_eq!(ValidationSummary::default().average(), 0);
    }

    /// The summary key worked by hand: "summary", E8(2), E(1) "a", E(0).
    #[test]
    fn a_feedback_counts_in_each_of_its_tag_summaries_once() {
        let mut want = b"summary".to_vec();
        want.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 0, 1, b'a', 0]);
        assert_eq!(summary_key(2, b"a", b""), want);
        assert_eq!(summary_keys(2, b"", b"").len(), 1);
        assert_eq!(summary_keys(2, b"a", b"").len(), 2);
        assert_eq!(summary_keys(2, b"", b"b").len(), 2);
        assert_eq!(summary_keys(2, b"a", b"b").len(), 4);
    }
}
