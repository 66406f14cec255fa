//! What a work item or a transfer's memo carries, and what refine makes of it.
//!
//! Payload: `E1(VERSION) ‖ E(n) ‖ n × (signer₃₂ ‖ E8(nonce) ‖ E(command) ‖ signature₆₄)`. The
//! Ed25519 signature is over [`signing_message`]: [`DOMAIN`] ‖ signer ‖ `E8(nonce)` ‖ `E(command)`,
//! so that a signature made for this protocol means nothing elsewhere, and the reverse; the nonce
//! must exceed the last one accepted from the signer, so a signed command cannot be replayed.
//!
//! Refine output: `E1(VERSION) ‖ E(n) ‖ n × verdict`, a verdict being
//! `0 ‖ signer ‖ E8(nonce) ‖ E(command)` (the signature checked and dropped, the bounds checked)
//! or `1 ‖ E1(reason)` ([`Refusal`]). A payload that does not decode gives one verdict,
//! [`Refusal::Malformed`].
//!
//! Memo: another service acts by a deferred transfer to the registry whose memo (`W_T` = 128
//! octets) is [`MEMO_MAGIC`] ‖ `E1(VERSION)` ‖ `E(command)` ‖ zeros ([`encode_memo`]). Its author is
//! the source service ([`Principal::Service`]): no signature, and no nonce (each transfer is a
//! distinct event of the chain). A memo without the magic is a plain payment.

use alloc::vec::Vec;

use crate::codec::{put_blob, put_natural, Reader};
use crate::VERSION;

/// The prefix of every signed message.
pub const DOMAIN: &[u8] = b"orrery/registry/v1";
/// The first octets of a memo that carries a command.
pub const MEMO_MAGIC: &[u8; 7] = b"erc8004";
/// `W_T`: a memo's length (GP 0.7.2 eq. I.4.4).
pub const MEMO_SIZE: usize = 128;
/// At most this many commands in one work item.
pub const MAX_COMMANDS: usize = 1024;
/// The longest URI (agent URI, endpoint, feedback, response and request URIs).
pub const MAX_URI: usize = 512;
/// The longest metadata key.
pub const MAX_METADATA_KEY: usize = 64;
/// The longest metadata value.
pub const MAX_METADATA_VALUE: usize = 1024;
/// At most this many metadata entries per agent.
pub const MAX_METADATA: usize = 32;
/// The longest tag (feedback `tag1`, `tag2`, a validation response's `tag`).
pub const MAX_TAG: usize = 32;
/// ERC-8004 "Giving Feedback": `valueDecimals` MUST be between 0 and 18.
pub const MAX_DECIMALS: u8 = 18;
/// ERC-8004 "Validation Response": a response is between 0 and 100.
pub const MAX_RESPONSE: u8 = 100;
/// The largest feedback magnitude, in units of 10⁻¹⁸ (about 7.9 · 10¹⁰ whole units): so that the
/// running sums (`i128`) of 2³¹ feedbacks cannot overflow.
pub const MAX_NORMALIZED: i128 = 1 << 96;
/// ERC-8004 "On-chain metadata": this key cannot be set by `setMetadata` or at registration.
pub const RESERVED_KEY: &[u8] = b"agentWallet";

/// Who acts: an Ed25519 key (a signed command) or a service (a command in a transfer's memo).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Principal {
    Key([u8; 32]),
    Service(u32),
}

/// `key:` and the key in hex, or `service:` and the id: how the service's logs name an author.
impl core::fmt::Display for Principal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Principal::Key(k) => {
                f.write_str("key:")?;
                k.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
            Principal::Service(id) => write!(f, "service:{id}"),
        }
    }
}

impl Principal {
    /// `0 ‖ key` or `1 ‖ E4(service id)`.
    pub fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Principal::Key(k) => {
                out.push(0);
                out.extend_from_slice(k);
            }
            Principal::Service(id) => {
                out.push(1);
                out.extend_from_slice(&id.to_le_bytes());
            }
        }
    }

    pub fn decode_from(r: &mut Reader<'_>) -> Option<Principal> {
        Some(match r.u8()? {
            0 => Principal::Key(r.array()?),
            1 => Principal::Service(r.u32()?),
            _ => return None,
        })
    }
}

/// A client's feedback on an agent (ERC-8004 "Giving Feedback").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Feedback {
    pub agent: u64,
    /// A signed fixed-point value with `decimals` decimals (`int128`, `uint8` 0–18).
    pub value: i128,
    pub decimals: u8,
    /// Optional tags (empty: none), each at most [`MAX_TAG`] octets.
    pub tag1: Vec<u8>,
    pub tag2: Vec<u8>,
    /// Optional, logged not stored (as the ERC emits and does not store them).
    pub endpoint: Vec<u8>,
    pub uri: Vec<u8>,
    pub hash: Option<[u8; 32]>,
}

/// One command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Registers a new agent, owned by the author, with the next agent id (ERC-8004
    /// "Registration").
    Register { uri: Vec<u8>, metadata: Vec<(Vec<u8>, Vec<u8>)> },
    /// Sets the agent URI; owner only (ERC-8004 "Update agentURI").
    SetAgentUri { agent: u64, uri: Vec<u8> },
    /// Sets a metadata entry, an empty value removing it; owner only (ERC-8004 "On-chain metadata").
    SetMetadata { agent: u64, key: Vec<u8>, value: Vec<u8> },
    /// Gives the agent to another owner; owner only (ERC-721 transfer).
    TransferAgent { agent: u64, owner: Principal },
    /// Feedback by the author (the client), who must not own the agent.
    GiveFeedback(Feedback),
    /// Revokes the author's own feedback `index` (1-based) on `agent` (ERC-8004 "Revoking Feedback").
    RevokeFeedback { agent: u64, index: u64 },
    /// A response to `client`'s feedback `index`, by anyone (ERC-8004 "Appending Responses").
    AppendResponse { agent: u64, client: Principal, index: u64, uri: Vec<u8>, hash: Option<[u8; 32]> },
    /// Asks `validator` to validate the agent's work committed to by `hash`; owner only (ERC-8004
    /// "Validation Request"). `hash` identifies the request.
    RequestValidation { validator: Principal, agent: u64, uri: Vec<u8>, hash: [u8; 32] },
    /// The named validator's response (0–100) to request `request`, again and again if it likes
    /// (ERC-8004 "Validation Response").
    RespondValidation { request: [u8; 32], response: u8, uri: Vec<u8>, hash: Option<[u8; 32]>, tag: Vec<u8> },
}

/// Why a command was refused (its code is the octet after a refused verdict's 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Refine (or a memo): the payload does not decode (or has another version).
    Malformed = 1,
    /// Refine: the signer's key is not a valid Ed25519 point.
    BadKey = 2,
    /// Refine: the signature does not verify.
    BadSignature = 3,
    /// Accumulate: no agent has this id.
    UnknownAgent = 4,
    /// Accumulate: only the agent's owner may do this.
    NotOwner = 5,
    /// Accumulate: the agent's owner may not give it feedback (ERC-8004 "Giving Feedback").
    SelfFeedback = 6,
    /// Accumulate: the author (or the named client) has no feedback with this index on this agent.
    UnknownFeedback = 7,
    /// Accumulate: that feedback is already revoked.
    AlreadyRevoked = 8,
    /// Accumulate: no validation request has this hash.
    UnknownRequest = 9,
    /// Accumulate: the author is not the validator the request names.
    NotTheValidator = 10,
    /// Refine: a validation response above 100.
    ResponseOutOfRange = 11,
    /// Accumulate: the nonce is not above the last one accepted from this signer.
    StaleNonce = 12,
    /// Refine: a URI longer than [`MAX_URI`].
    UriTooLong = 13,
    /// Refine: a metadata key longer than [`MAX_METADATA_KEY`].
    KeyTooLong = 14,
    /// Refine: a metadata value longer than [`MAX_METADATA_VALUE`].
    ValueTooLong = 15,
    /// Refine or accumulate: more than [`MAX_METADATA`] entries for one agent.
    TooManyMetadata = 16,
    /// Refine: a tag longer than [`MAX_TAG`].
    TagTooLong = 17,
    /// Refine: `valueDecimals` above 18.
    BadDecimals = 18,
    /// Refine: the metadata key `agentWallet` (reserved), or an empty key.
    ReservedKey = 19,
    /// Accumulate: a validation request with this hash exists already.
    DuplicateRequest = 20,
    /// Refine: a feedback value beyond [`MAX_NORMALIZED`] once scaled to 18 decimals.
    ValueOutOfRange = 21,
    /// Accumulate: a running sum would overflow.
    SumOverflow = 22,
    /// Accumulate: the service's balance cannot pay for the storage the command would leave
    /// (GP 0.7.2 §9.3's threshold): refused whole rather than failing half-written.
    StorageFull = 23,
}

impl Refusal {
    pub fn from_code(code: u8) -> Option<Refusal> {
        use Refusal::*;
        [
            Malformed,
            BadKey,
            BadSignature,
            UnknownAgent,
            NotOwner,
            SelfFeedback,
            UnknownFeedback,
            AlreadyRevoked,
            UnknownRequest,
            NotTheValidator,
            ResponseOutOfRange,
            StaleNonce,
            UriTooLong,
            KeyTooLong,
            ValueTooLong,
            TooManyMetadata,
            TagTooLong,
            BadDecimals,
            ReservedKey,
            DuplicateRequest,
            ValueOutOfRange,
            SumOverflow,
            StorageFull,
        ]
        .into_iter()
        .find(|r| *r as u8 == code)
    }
}

/// `value · 10^(18 − decimals)`: a feedback value in units of 10⁻¹⁸, how the running sums add
/// values of different decimals; `None` beyond [`MAX_NORMALIZED`] or for decimals above 18.
pub fn normalized(value: i128, decimals: u8) -> Option<i128> {
    let scale = 10i128.checked_pow(u32::from(MAX_DECIMALS.checked_sub(decimals)?))?;
    value.checked_mul(scale).filter(|v| v.unsigned_abs() <= MAX_NORMALIZED as u128)
}

fn put_hash(out: &mut Vec<u8>, hash: &Option<[u8; 32]>) {
    match hash {
        None => out.push(0),
        Some(h) => {
            out.push(1);
            out.extend_from_slice(h);
        }
    }
}

fn read_hash(r: &mut Reader<'_>) -> Option<Option<[u8; 32]>> {
    match r.u8()? {
        0 => Some(None),
        1 => Some(Some(r.array()?)),
        _ => None,
    }
}

fn read_vec(r: &mut Reader<'_>) -> Option<Vec<u8>> {
    r.blob().map(<[u8]>::to_vec)
}

fn cap(x: &[u8], max: usize, why: Refusal) -> Result<(), Refusal> {
    if x.len() > max {
        Err(why)
    } else {
        Ok(())
    }
}

fn check_metadata(key: &[u8], value: &[u8]) -> Result<(), Refusal> {
    cap(key, MAX_METADATA_KEY, Refusal::KeyTooLong)?;
    cap(value, MAX_METADATA_VALUE, Refusal::ValueTooLong)?;
    if key.is_empty() || key == RESERVED_KEY {
        return Err(Refusal::ReservedKey);
    }
    Ok(())
}

impl Command {
    /// `E(command)`: a tag octet (the variant's position, 0 to 8), then the fields in order, byte
    /// strings as `E(↕x)`, hashes as `0` or `1 ‖ hash`, integers `E_n` little-endian.
    pub fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Command::Register { uri, metadata } => {
                out.push(0);
                put_blob(out, uri);
                put_natural(out, metadata.len() as u64);
                for (k, v) in metadata {
                    put_blob(out, k);
                    put_blob(out, v);
                }
            }
            Command::SetAgentUri { agent, uri } => {
                out.push(1);
                out.extend_from_slice(&agent.to_le_bytes());
                put_blob(out, uri);
            }
            Command::SetMetadata { agent, key, value } => {
                out.push(2);
                out.extend_from_slice(&agent.to_le_bytes());
                put_blob(out, key);
                put_blob(out, value);
            }
            Command::TransferAgent { agent, owner } => {
                out.push(3);
                out.extend_from_slice(&agent.to_le_bytes());
                owner.encode_to(out);
            }
            Command::GiveFeedback(f) => {
                out.push(4);
                out.extend_from_slice(&f.agent.to_le_bytes());
                out.extend_from_slice(&f.value.to_le_bytes());
                out.push(f.decimals);
                put_blob(out, &f.tag1);
                put_blob(out, &f.tag2);
                put_blob(out, &f.endpoint);
                put_blob(out, &f.uri);
                put_hash(out, &f.hash);
            }
            Command::RevokeFeedback { agent, index } => {
                out.push(5);
                out.extend_from_slice(&agent.to_le_bytes());
                out.extend_from_slice(&index.to_le_bytes());
            }
            Command::AppendResponse { agent, client, index, uri, hash } => {
                out.push(6);
                out.extend_from_slice(&agent.to_le_bytes());
                client.encode_to(out);
                out.extend_from_slice(&index.to_le_bytes());
                put_blob(out, uri);
                put_hash(out, hash);
            }
            Command::RequestValidation { validator, agent, uri, hash } => {
                out.push(7);
                validator.encode_to(out);
                out.extend_from_slice(&agent.to_le_bytes());
                put_blob(out, uri);
                out.extend_from_slice(hash);
            }
            Command::RespondValidation { request, response, uri, hash, tag } => {
                out.push(8);
                out.extend_from_slice(request);
                out.push(*response);
                put_blob(out, uri);
                put_hash(out, hash);
                put_blob(out, tag);
            }
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_to(&mut out);
        out
    }

    /// Reads one command. Byte strings are copied only after the reader has them in full, so a
    /// forged length allocates nothing; their caps are [`Command::check`]'s.
    pub fn decode_from(r: &mut Reader<'_>) -> Option<Command> {
        Some(match r.u8()? {
            0 => {
                let uri = read_vec(r)?;
                // Each entry is at least two octets (two empty strings).
                let n = r.count(usize::MAX, 2)?;
                let metadata = (0..n).map(|_| Some((read_vec(r)?, read_vec(r)?))).collect::<Option<_>>()?;
                Command::Register { uri, metadata }
            }
            1 => Command::SetAgentUri { agent: r.u64()?, uri: read_vec(r)? },
            2 => Command::SetMetadata { agent: r.u64()?, key: read_vec(r)?, value: read_vec(r)? },
            3 => Command::TransferAgent { agent: r.u64()?, owner: Principal::decode_from(r)? },
            4 => Command::GiveFeedback(Feedback {
                agent: r.u64()?,
                value: r.i128()?,
                decimals: r.u8()?,
                tag1: read_vec(r)?,
                tag2: read_vec(r)?,
                endpoint: read_vec(r)?,
                uri: read_vec(r)?,
                hash: read_hash(r)?,
            }),
            5 => Command::RevokeFeedback { agent: r.u64()?, index: r.u64()? },
            6 => Command::AppendResponse {
                agent: r.u64()?,
                client: Principal::decode_from(r)?,
                index: r.u64()?,
                uri: read_vec(r)?,
                hash: read_hash(r)?,
            },
            7 => Command::RequestValidation {
                validator: Principal::decode_from(r)?,
                agent: r.u64()?,
                uri: read_vec(r)?,
                hash: r.array()?,
            },
            8 => Command::RespondValidation {
                request: r.array()?,
                response: r.u8()?,
                uri: read_vec(r)?,
                hash: read_hash(r)?,
                tag: read_vec(r)?,
            },
            _ => return None,
        })
    }

    /// The bounds a command must keep whatever the state: every length under its cap, decimals
    /// 0–18 and a value in range, a response 0–100, the reserved metadata key untouched.
    pub fn check(&self) -> Result<(), Refusal> {
        match self {
            Command::Register { uri, metadata } => {
                cap(uri, MAX_URI, Refusal::UriTooLong)?;
                if metadata.len() > MAX_METADATA {
                    return Err(Refusal::TooManyMetadata);
                }
                metadata.iter().try_for_each(|(k, v)| check_metadata(k, v))
            }
            Command::SetAgentUri { uri, .. } => cap(uri, MAX_URI, Refusal::UriTooLong),
            Command::SetMetadata { key, value, .. } => check_metadata(key, value),
            Command::TransferAgent { .. } | Command::RevokeFeedback { .. } => Ok(()),
            Command::GiveFeedback(f) => {
                cap(&f.tag1, MAX_TAG, Refusal::TagTooLong)?;
                cap(&f.tag2, MAX_TAG, Refusal::TagTooLong)?;
                cap(&f.endpoint, MAX_URI, Refusal::UriTooLong)?;
                cap(&f.uri, MAX_URI, Refusal::UriTooLong)?;
                if f.decimals > MAX_DECIMALS {
                    return Err(Refusal::BadDecimals);
                }
                normalized(f.value, f.decimals).map(|_| ()).ok_or(Refusal::ValueOutOfRange)
            }
            Command::AppendResponse { uri, .. } | Command::RequestValidation { uri, .. } => {
                cap(uri, MAX_URI, Refusal::UriTooLong)
            }
            Command::RespondValidation { response, uri, tag, .. } => {
                cap(uri, MAX_URI, Refusal::UriTooLong)?;
                cap(tag, MAX_TAG, Refusal::TagTooLong)?;
                if *response > MAX_RESPONSE {
                    return Err(Refusal::ResponseOutOfRange);
                }
                Ok(())
            }
        }
    }
}

/// What the signer signs: [`DOMAIN`] ‖ signer ‖ `E8(nonce)` ‖ `E(command)`.
pub fn signing_message(signer: &[u8; 32], nonce: u64, command: &Command) -> Vec<u8> {
    let mut out = DOMAIN.to_vec();
    out.extend_from_slice(signer);
    out.extend_from_slice(&nonce.to_le_bytes());
    command.encode_to(&mut out);
    out
}

/// A command with its signer, nonce and signature, as a payload carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    pub signer: [u8; 32],
    pub nonce: u64,
    pub command: Command,
    pub signature: [u8; 64],
}

/// The payload of a work item: `E1(VERSION) ‖ E(n) ‖ n × (signer ‖ E8(nonce) ‖ E(command) ‖ signature)`.
pub fn encode_payload(commands: &[Signed]) -> Vec<u8> {
    let mut out = alloc::vec![VERSION];
    put_natural(&mut out, commands.len() as u64);
    for s in commands {
        out.extend_from_slice(&s.signer);
        out.extend_from_slice(&s.nonce.to_le_bytes());
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
    // The smallest signed command is a register with no URI and no metadata: 32 + 8 + 3 + 64 octets.
    let n = r.count(MAX_COMMANDS, 107)?;
    let commands = (0..n)
        .map(|_| {
            Some(Signed {
                signer: r.array()?,
                nonce: r.u64()?,
                command: Command::decode_from(&mut r)?,
                signature: r.array()?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    r.is_empty().then_some(commands)
}

/// Refine's judgement of one signed command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accepted { signer: [u8; 32], nonce: u64, command: Command },
    Refused(Refusal),
}

/// Refine's output: `E1(VERSION) ‖ E(n) ‖ n × verdict`.
pub fn encode_verdicts(verdicts: &[Verdict]) -> Vec<u8> {
    let mut out = alloc::vec![VERSION];
    put_natural(&mut out, verdicts.len() as u64);
    for v in verdicts {
        match v {
            Verdict::Accepted { signer, nonce, command } => {
                out.push(0);
                out.extend_from_slice(signer);
                out.extend_from_slice(&nonce.to_le_bytes());
                command.encode_to(&mut out);
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
                0 => Verdict::Accepted {
                    signer: r.array()?,
                    nonce: r.u64()?,
                    command: Command::decode_from(&mut r)?,
                },
                1 => Verdict::Refused(Refusal::from_code(r.u8()?)?),
                _ => return None,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    r.is_empty().then_some(verdicts)
}

/// A memo carrying `command` for another service to send with a transfer: [`MEMO_MAGIC`] ‖
/// `E1(VERSION)` ‖ `E(command)` ‖ zeros; `None` when the command needs more than the 120 octets
/// left.
pub fn encode_memo(command: &Command) -> Option<[u8; MEMO_SIZE]> {
    let mut out = MEMO_MAGIC.to_vec();
    out.push(VERSION);
    command.encode_to(&mut out);
    let mut memo = [0u8; MEMO_SIZE];
    memo.get_mut(..out.len())?.copy_from_slice(&out);
    Some(memo)
}

/// Reads a memo: `None` for a plain payment (no [`MEMO_MAGIC`]); `Malformed` when the version,
/// the command or the zero padding is wrong; otherwise the command, its bounds checked.
pub fn decode_memo(memo: &[u8; MEMO_SIZE]) -> Option<Result<Command, Refusal>> {
    let body = memo.strip_prefix(MEMO_MAGIC.as_slice())?;
    let mut r = Reader::new(body);
    let command = (|| {
        if r.u8()? != VERSION {
            return None;
        }
        let command = Command::decode_from(&mut r)?;
        r.rest().iter().all(|&b| b == 0).then_some(command)
    })();
    Some(command.ok_or(Refusal::Malformed).and_then(|c| c.check().map(|()| c)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn samples() -> Vec<Command> {
        vec![
            Command::Register { uri: b"ipfs://a".to_vec(), metadata: vec![(b"k".to_vec(), vec![1, 2])] },
            Command::SetAgentUri { agent: 3, uri: vec![] },
            Command::SetMetadata { agent: 3, key: b"name".to_vec(), value: b"x".to_vec() },
            Command::TransferAgent { agent: 1, owner: Principal::Service(9) },
            Command::GiveFeedback(Feedback {
                agent: 7,
                value: -32,
                decimals: 1,
                tag1: b"tradingYield".to_vec(),
                tag2: b"week".to_vec(),
                endpoint: vec![],
                uri: b"ipfs://f".to_vec(),
                hash: Some([4; 32]),
            }),
            Command::RevokeFeedback { agent: 7, index: 1 },
            Command::AppendResponse {
                agent: 7,
                client: Principal::Key([6; 32]),
                index: 1,
                uri: vec![],
                hash: None,
            },
            Command::RequestValidation {
                validator: Principal::Key([8; 32]),
                agent: 7,
                uri: b"u".to_vec(),
                hash: [9; 32],
            },
            Command::RespondValidation {
                request: [9; 32],
                response: 100,
                uri: vec![],
                hash: None,
                tag: b"hard".to_vec(),
            },
        ]
    }

    #[test]
    fn payloads_verdicts_and_memos_round_trip() {
        let signed: Vec<Signed> = samples()
            .into_iter()
            .enumerate()
            .map(|(i, command)| Signed { signer: [1; 32], nonce: i as u64, command, signature: [5; 64] })
            .collect();
        let payload = encode_payload(&signed);
        assert_eq!(decode_payload(&payload), Some(signed.clone()));
        let mut longer = payload.clone();
        longer.push(0);
        assert_eq!(decode_payload(&longer), None);
        assert_eq!(decode_payload(&payload[..payload.len() - 1]), None);
        let mut other_version = payload;
        other_version[0] = 2;
        assert_eq!(decode_payload(&other_version), None);

        // The smallest command alone (107 octets with its signer, nonce and signature).
        let smallest = Signed {
            signer: [1; 32],
            nonce: 1,
            command: Command::Register { uri: vec![], metadata: vec![] },
            signature: [5; 64],
        };
        let payload = encode_payload(core::slice::from_ref(&smallest));
        assert_eq!(payload.len(), 2 + 107);
        assert_eq!(decode_payload(&payload), Some(vec![smallest]));

        let mut verdicts: Vec<Verdict> = signed
            .into_iter()
            .map(|s| Verdict::Accepted { signer: s.signer, nonce: s.nonce, command: s.command })
            .collect();
        verdicts.push(Verdict::Refused(Refusal::BadSignature));
        assert_eq!(decode_verdicts(&encode_verdicts(&verdicts)), Some(verdicts));
        assert_eq!(decode_verdicts(&[VERSION, 1, 1, 99]), None);

        for c in samples() {
            let memo = encode_memo(&c).expect("fits");
            assert_eq!(decode_memo(&memo), Some(Ok(c)));
        }
        assert_eq!(decode_memo(&[0; MEMO_SIZE]), None);
        let mut bad = encode_memo(&samples()[5]).unwrap();
        bad[MEMO_SIZE - 1] = 1;
        assert_eq!(decode_memo(&bad), Some(Err(Refusal::Malformed)));
        bad = encode_memo(&samples()[5]).unwrap();
        bad[7] = 2;
        assert_eq!(decode_memo(&bad), Some(Err(Refusal::Malformed)));
        let long = Command::SetAgentUri { agent: 0, uri: vec![b'a'; 120] };
        assert_eq!(encode_memo(&long), None);
    }

    /// The memo the demo sends, worked by hand: "erc8004", version 1, tag 4, E8(agent 2),
    /// E16(value 87), decimals 0, tag1 "incentive" (E(9) then 9 octets), three empty strings, no
    /// hash, then zeros.
    #[test]
    fn a_feedback_memo_is_laid_out_field_by_field() {
        let c = Command::GiveFeedback(Feedback {
            agent: 2,
            value: 87,
            decimals: 0,
            tag1: b"incentive".to_vec(),
            tag2: vec![],
            endpoint: vec![],
            uri: vec![],
            hash: None,
        });
        let mut want = b"erc8004".to_vec();
        want.extend_from_slice(&[1, 4, 2, 0, 0, 0, 0, 0, 0, 0, 87]);
        want.extend_from_slice(&[0; 15]);
        want.extend_from_slice(&[0, 9]);
        want.extend_from_slice(b"incentive");
        want.extend_from_slice(&[0, 0, 0, 0]);
        want.resize(MEMO_SIZE, 0);
        assert_eq!(encode_memo(&c).unwrap().to_vec(), want);
        let msg = signing_message(&[3; 32], 5, &c);
        assert_eq!(&msg[..DOMAIN.len()], b"orrery/registry/v1");
        assert_eq!(&msg[DOMAIN.len()..DOMAIN.len() + 32], &[3; 32]);
        assert_eq!(&msg[DOMAIN.len() + 32..DOMAIN.len() + 40], &[5, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&msg[DOMAIN.len() + 40..], &want[8..8 + c.encode().len()]);
    }

    /// Hostile lengths: a URI length of 2^30 with five octets behind it, a command count of
    /// 1,024 with one command's octets, and 1,025 commands, each refused without allocating.
    #[test]
    fn forged_lengths_and_counts_do_not_decode() {
        let mut forged = vec![VERSION, 1];
        forged.extend_from_slice(&[1; 32]);
        forged.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
        forged.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0, 0]);
        // E(2^30) (GP eq. C.1): l = 4, prefix 256 − 2^4 = 0xf0, then E4(2^30).
        forged.extend_from_slice(&[0xf0, 0, 0, 0, 0x40]);
        forged.extend_from_slice(&[b'a'; 5]);
        assert_eq!(Reader::new(&[0xf0, 0, 0, 0, 0x40]).natural(), Some(1 << 30));
        assert_eq!(decode_payload(&forged), None);
        let one = Signed {
            signer: [1; 32],
            nonce: 1,
            command: Command::Register { uri: vec![], metadata: vec![] },
            signature: [0; 64],
        };
        let mut many = encode_payload(core::slice::from_ref(&one));
        many.splice(1..2, [0x84, 0x00]);
        assert_eq!(decode_payload(&many), None);
        let too_many = encode_payload(&vec![one; MAX_COMMANDS + 1]);
        assert_eq!(decode_payload(&too_many), None);
        // A register claiming 2^20 metadata entries (E: l = 2, prefix 256 − 2^6 + 2^20 / 2^16 =
        // 0xd0, then 00 00) in a few octets.
        assert_eq!(Reader::new(&[0xd0, 0, 0]).natural(), Some(1 << 20));
        assert_eq!(Reader::new(&[0x84, 0]).natural(), Some(1024));
        let mut r = Reader::new(&[0, 0, 0xd0, 0x00, 0x00, 0, 0]);
        assert_eq!(Command::decode_from(&mut r), None);
    }

    #[test]
    fn bounds_are_refused_by_name() {
        let uri = |n| vec![b'u'; n];
        assert_eq!(Command::SetAgentUri { agent: 0, uri: uri(MAX_URI) }.check(), Ok(()));
        assert_eq!(
            Command::SetAgentUri { agent: 0, uri: uri(MAX_URI + 1) }.check(),
            Err(Refusal::UriTooLong)
        );
        let meta = |k: &[u8], n| Command::SetMetadata { agent: 0, key: k.to_vec(), value: vec![0; n] };
        assert_eq!(meta(&[b'k'; 64], 1024).check(), Ok(()));
        assert_eq!(meta(&[b'k'; 65], 1).check(), Err(Refusal::KeyTooLong));
        assert_eq!(meta(b"k", 1025).check(), Err(Refusal::ValueTooLong));
        assert_eq!(meta(b"agentWallet", 1).check(), Err(Refusal::ReservedKey));
        assert_eq!(meta(b"", 1).check(), Err(Refusal::ReservedKey));
        let many = vec![(b"k".to_vec(), vec![]); MAX_METADATA + 1];
        assert_eq!(Command::Register { uri: vec![], metadata: many }.check(), Err(Refusal::TooManyMetadata));
        let fb = |value, decimals, tag1: Vec<u8>| {
            Command::GiveFeedback(Feedback {
                agent: 0,
                value,
                decimals,
                tag1,
                tag2: vec![],
                endpoint: vec![],
                uri: vec![],
                hash: None,
            })
        };
        assert_eq!(fb(9977, 2, vec![]).check(), Ok(()));
        assert_eq!(fb(1, 19, vec![]).check(), Err(Refusal::BadDecimals));
        assert_eq!(fb(0, 0, vec![0; 33]).check(), Err(Refusal::TagTooLong));
        // 2^96 / 10^18 ≈ 79,228,162,514.26: the largest whole value at 0 decimals is 79,228,162,514.
        assert_eq!(fb(79_228_162_514, 0, vec![]).check(), Ok(()));
        assert_eq!(fb(-79_228_162_515, 0, vec![]).check(), Err(Refusal::ValueOutOfRange));
        assert_eq!(fb(i128::MAX, 18, vec![]).check(), Err(Refusal::ValueOutOfRange));
        let respond = |response| Command::RespondValidation {
            request: [0; 32],
            response,
            uri: vec![],
            hash: None,
            tag: vec![],
        };
        assert_eq!(respond(100).check(), Ok(()));
        assert_eq!(respond(101).check(), Err(Refusal::ResponseOutOfRange));
        assert_eq!(normalized(-32, 1), Some(-3_200_000_000_000_000_000));
    }

    #[test]
    fn principals_display_as_the_logs_name_them() {
        let mut key = [0u8; 32];
        key[0] = 0xab;
        key[31] = 1;
        let want = alloc::format!("key:ab{}01", "00".repeat(30));
        assert_eq!(alloc::format!("{}", Principal::Key(key)), want);
        assert_eq!(alloc::format!("{}", Principal::Service(70000)), "service:70000");
    }

    #[test]
    fn every_refusal_code_reads_back() {
        for code in 0..=255u8 {
            if let Some(r) = Refusal::from_code(code) {
                assert_eq!(r as u8, code);
            }
        }
        assert_eq!(Refusal::from_code(22), Some(Refusal::SumOverflow));
        assert_eq!(Refusal::from_code(23), Some(Refusal::StorageFull));
        assert_eq!(Refusal::from_code(24), None);
        assert_eq!(Refusal::from_code(0), None);
    }
}
