//! `registry`: ERC-8004 "Trustless Agents" (issue 19): an identity registry (agents with an owner,
//! a URI and metadata), a reputation registry (feedback by clients, revocable, with running sums)
//! and a validation registry (requests to a named validator, responses 0–100).
//!
//! The protocol is `orrery-registry`'s (`crates/registry`): refine checks each command's Ed25519
//! signature (with `ed25519-zebra`, compiled into the service: JAM has no signature host call) and
//! its bounds, and passes the verdicts on; accumulate checks each accepted command against the
//! state (agent known, author the owner, nonce fresh, ...) and applies it, or logs why not and
//! changes nothing. Another service acts by a transfer whose memo carries a command: the source
//! service is its author, and the memo's bounds are checked here, as refine checks a payload's.

#![no_std]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use orrery_registry::store::*;
use orrery_registry::wire::{
    decode_memo, decode_payload, decode_verdicts, encode_verdicts, normalized, signing_message, Command,
    Feedback, Principal, Refusal, Verdict, MAX_METADATA,
};
use orrery_service_sdk::accumulate::{inputs, Input, WorkResult};
use orrery_service_sdk::entry::{AccumulateArgs, RefineArgs};
use orrery_service_sdk::general::{read, Level, Service};
use orrery_service_sdk::log;
use orrery_service_sdk::storage::Batch;

fn verify(signer: &[u8; 32], nonce: u64, command: &Command, signature: &[u8; 64]) -> Result<(), Refusal> {
    let key = ed25519_zebra::VerificationKey::try_from(*signer).map_err(|_| Refusal::BadKey)?;
    key.verify(&ed25519_zebra::Signature::from_bytes(signature), &signing_message(signer, nonce, command))
        .map_err(|_| Refusal::BadSignature)
}

/// Refine: a verdict per command; a payload that does not decode is one `Malformed` verdict.
fn refine(args: RefineArgs<'_>) -> Vec<u8> {
    let verdicts: Vec<Verdict> = match decode_payload(args.payload) {
        None => alloc::vec![Verdict::Refused(Refusal::Malformed)],
        Some(commands) => commands
            .into_iter()
            .map(|s| {
                match verify(&s.signer, s.nonce, &s.command, &s.signature).and_then(|()| s.command.check()) {
                    Ok(()) => Verdict::Accepted { signer: s.signer, nonce: s.nonce, command: s.command },
                    Err(why) => Verdict::Refused(why),
                }
            })
            .collect(),
    };
    encode_verdicts(&verdicts)
}

fn get<T>(key: &[u8], decode: impl FnOnce(&[u8]) -> Option<T>) -> Option<T> {
    read(Service::Me, key).and_then(|v| decode(&v))
}

fn get_u64(key: &[u8]) -> u64 {
    get(key, |v| Some(u64::from_le_bytes(v.try_into().ok()?))).unwrap_or(0)
}

/// The agent, if it exists.
fn agent(id: u64) -> Result<AgentRecord, Refusal> {
    get(&agent_key(id), AgentRecord::decode).ok_or(Refusal::UnknownAgent)
}

/// The agent, if it exists and `author` owns it (ERC-8004: updates by the owner; operators are not
/// implemented).
fn owned(id: u64, author: &Principal) -> Result<AgentRecord, Refusal> {
    let record = agent(id)?;
    if record.owner != *author {
        return Err(Refusal::NotOwner);
    }
    Ok(record)
}

/// ERC-8004 "Reputation Registry / Giving Feedback": the agent must exist, the client must not be
/// its owner; the feedback gets the client's next index (1-based) and counts in the client's and
/// the tags' running sums. Every sum is computed before anything is written.
fn give_feedback(f: Feedback, author: Principal, slot: u32, b: &mut Batch) -> Result<String, Refusal> {
    let record = agent(f.agent)?;
    if record.owner == author {
        return Err(Refusal::SelfFeedback);
    }
    let value = normalized(f.value, f.decimals).ok_or(Refusal::ValueOutOfRange)?;
    let ckey = client_key(f.agent, &author);
    let mut client = get(&ckey, ClientRecord::decode).unwrap_or_default();
    client.last_index = client.last_index.checked_add(1).ok_or(Refusal::SumOverflow)?;
    client.summary = client.summary.with(value).ok_or(Refusal::SumOverflow)?;
    let summaries = summary_keys(f.agent, &f.tag1, &f.tag2)
        .into_iter()
        .map(|k| {
            let s = get(&k, Summary::decode).unwrap_or_default().with(value).ok_or(Refusal::SumOverflow)?;
            Ok((k, s))
        })
        .collect::<Result<Vec<_>, Refusal>>()?;
    let index = client.last_index;
    let feedback = FeedbackRecord {
        value: f.value,
        decimals: f.decimals,
        tag1: f.tag1,
        tag2: f.tag2,
        revoked: false,
        responses: 0,
        slot,
    };
    b.put(feedback_key(f.agent, &author, index), feedback.encode());
    b.put(&ckey[..], client.encode());
    for (k, s) in summaries {
        b.put(k, s.encode());
    }
    Ok(format!("agent {}: feedback {index} by {author}: {} (10^-{})", f.agent, f.value, f.decimals))
}

/// ERC-8004 "Revoking Feedback": by its author only (the feedback is looked up under the author,
/// so another's index is unknown), once; it leaves the running sums.
fn revoke_feedback(id: u64, index: u64, author: Principal, b: &mut Batch) -> Result<String, Refusal> {
    agent(id)?;
    let fkey = feedback_key(id, &author, index);
    let mut feedback = get(&fkey, FeedbackRecord::decode).ok_or(Refusal::UnknownFeedback)?;
    if feedback.revoked {
        return Err(Refusal::AlreadyRevoked);
    }
    let value = normalized(feedback.value, feedback.decimals).ok_or(Refusal::ValueOutOfRange)?;
    let ckey = client_key(id, &author);
    let mut client = get(&ckey, ClientRecord::decode).ok_or(Refusal::UnknownFeedback)?;
    client.summary = client.summary.without(value);
    feedback.revoked = true;
    b.put(&fkey[..], feedback.encode());
    b.put(&ckey[..], client.encode());
    for k in summary_keys(id, &feedback.tag1, &feedback.tag2) {
        let s = get(&k, Summary::decode).unwrap_or_default().without(value);
        b.put(&k[..], s.encode());
    }
    Ok(format!("agent {id}: feedback {index} by {author} revoked"))
}

/// Checks `command` by `author` against the state and gathers its writes in `b`; on a refusal
/// nothing is gathered that the caller will write. What happened, for the log once written.
fn apply(command: Command, author: Principal, slot: u32, b: &mut Batch) -> Result<String, Refusal> {
    let done = match command {
        // ERC-8004 "Registration": the next id, owned by the caller, with its URI and metadata.
        Command::Register { uri, metadata } => {
            let id = get_u64(AGENTS_KEY);
            let mut written: Vec<&[u8]> = Vec::new();
            for (k, v) in &metadata {
                // An empty value sets nothing (as `SetMetadata` with one removes); a key given
                // twice keeps its last value and counts once.
                if !v.is_empty() && !written.contains(&k.as_slice()) {
                    written.push(k);
                }
            }
            let record =
                AgentRecord { owner: author, registered: slot, updated: slot, metadata: written.len() as u8, uri };
            for (k, v) in &metadata {
                if !v.is_empty() {
                    b.put(metadata_key(id, k), &v[..]);
                }
            }
            b.put(agent_key(id), record.encode());
            b.put(AGENTS_KEY, (id + 1).to_le_bytes());
            format!("agent {id} registered by {author}")
        }
        // ERC-8004 "Update agentURI".
        Command::SetAgentUri { agent, uri } => {
            let mut record = owned(agent, &author)?;
            record.uri = uri;
            record.updated = slot;
            b.put(agent_key(agent), record.encode());
            format!("agent {agent}: URI updated")
        }
        // ERC-8004 "On-chain metadata": at most `MAX_METADATA` entries (our cap); an empty value
        // removes the entry (our choice: the ERC has no removal).
        Command::SetMetadata { agent, key, value } => {
            let mut record = owned(agent, &author)?;
            let mkey = metadata_key(agent, &key);
            let exists = read(Service::Me, &mkey).is_some();
            if value.is_empty() {
                if exists {
                    b.remove(&mkey[..]);
                    record.metadata -= 1;
                }
            } else {
                if !exists && usize::from(record.metadata) >= MAX_METADATA {
                    return Err(Refusal::TooManyMetadata);
                }
                b.put(&mkey[..], &value[..]);
                record.metadata += u8::from(!exists);
            }
            record.updated = slot;
            b.put(agent_key(agent), record.encode());
            format!("agent {agent}: metadata set ({} octets)", value.len())
        }
        // ERC-721 transfer (ERC-8004 "Identity Registry": the owner can transfer ownership).
        Command::TransferAgent { agent, owner } => {
            let mut record = owned(agent, &author)?;
            record.owner = owner;
            record.updated = slot;
            b.put(agent_key(agent), record.encode());
            format!("agent {agent}: transferred to {owner}")
        }
        Command::GiveFeedback(f) => give_feedback(f, author, slot, b)?,
        Command::RevokeFeedback { agent, index } => revoke_feedback(agent, index, author, b)?,
        // ERC-8004 "Appending Responses": by anyone, on an existing feedback; the response's URI
        // and hash are logged, its count stored (`getResponseCount`).
        Command::AppendResponse { agent: id, client, index, uri, .. } => {
            agent(id)?;
            let fkey = feedback_key(id, &client, index);
            let mut feedback = get(&fkey, FeedbackRecord::decode).ok_or(Refusal::UnknownFeedback)?;
            feedback.responses = feedback.responses.saturating_add(1);
            b.put(&fkey[..], feedback.encode());
            format!("agent {id}: response to feedback {index} by {author} ({} octets)", uri.len())
        }
        // ERC-8004 "Validation Request": by the owner; the hash identifies the request (a second
        // request with the same hash is refused: our choice, so a response cannot be redirected).
        Command::RequestValidation { validator, agent, hash, .. } => {
            owned(agent, &author)?;
            let rkey = request_key(&hash);
            if read(Service::Me, &rkey).is_some() {
                return Err(Refusal::DuplicateRequest);
            }
            let vkey = validation_key(agent);
            let mut summary = get(&vkey, ValidationSummary::decode).unwrap_or_default();
            summary.requests += 1;
            let request = RequestRecord {
                validator,
                agent,
                requested: slot,
                response: None,
                response_hash: [0; 32],
                tag: Vec::new(),
                last_update: slot,
            };
            b.put(&rkey[..], request.encode());
            b.put(&vkey[..], summary.encode());
            format!("agent {agent}: validation requested of {validator}")
        }
        // ERC-8004 "Validation Response": by the named validator only, any number of times; the
        // latest response counts in the agent's summary.
        Command::RespondValidation { request, response, hash, tag, .. } => {
            let rkey = request_key(&request);
            let mut record = get(&rkey, RequestRecord::decode).ok_or(Refusal::UnknownRequest)?;
            if record.validator != author {
                return Err(Refusal::NotTheValidator);
            }
            let vkey = validation_key(record.agent);
            let mut summary = get(&vkey, ValidationSummary::decode).unwrap_or_default();
            match record.response {
                None => summary.responded += 1,
                Some(old) => summary.sum -= u64::from(old),
            }
            summary.sum += u64::from(response);
            record.response = Some(response);
            record.response_hash = hash.unwrap_or([0; 32]);
            record.tag = tag;
            record.last_update = slot;
            b.put(&rkey[..], record.encode());
            b.put(&vkey[..], summary.encode());
            format!("agent {}: validation response {response}", record.agent)
        }
    };
    Ok(done)
}

/// Writes what a command gathered, or nothing when the balance cannot pay for the storage; logs
/// what happened once it is written.
fn commit(b: Batch, done: String) -> Result<(), Refusal> {
    b.commit().map_err(|_| Refusal::StorageFull)?;
    log!(Level::Info, "{done}");
    Ok(())
}

/// A signed command: its nonce must exceed the signer's last (stored only when the command is
/// applied, so a refused command changes nothing).
fn apply_signed(signer: [u8; 32], nonce: u64, command: Command, slot: u32) -> Result<(), Refusal> {
    let nkey = nonce_key(&signer);
    if nonce <= get_u64(&nkey) {
        return Err(Refusal::StaleNonce);
    }
    let mut b = Batch::new();
    let done = apply(command, Principal::Key(signer), slot, &mut b)?;
    b.put(&nkey[..], nonce.to_le_bytes());
    commit(b, done)
}

/// A command in a memo from service `source`.
fn apply_memo(command: Command, source: u32, slot: u32) -> Result<(), Refusal> {
    let mut b = Batch::new();
    let done = apply(command, Principal::Service(source), slot, &mut b)?;
    commit(b, done)
}

fn accumulate(args: AccumulateArgs) -> Option<[u8; 32]> {
    for input in inputs(args.input_count) {
        match input {
            Input::Operand(operand) => {
                let WorkResult::Ok(output) = operand.result else {
                    log!(Level::Warn, "a work item failed in refine: nothing to apply");
                    continue;
                };
                let Some(verdicts) = decode_verdicts(&output) else {
                    log!(Level::Warn, "refine's output does not decode: nothing to apply");
                    continue;
                };
                for (i, verdict) in verdicts.into_iter().enumerate() {
                    let result = match verdict {
                        Verdict::Accepted { signer, nonce, command } => {
                            apply_signed(signer, nonce, command, args.slot)
                        }
                        Verdict::Refused(why) => Err(why),
                    };
                    if let Err(why) = result {
                        log!(Level::Warn, "command {i} refused: {why:?}");
                    }
                }
            }
            // A memo without the magic is a payment, which the host has credited already.
            Input::Transfer(t) => match decode_memo(&t.memo) {
                None => {}
                Some(command) => {
                    let source = t.source;
                    if let Err(why) = command.and_then(|c| apply_memo(c, source, args.slot)) {
                        log!(Level::Warn, "memo from service {source} refused: {why:?}");
                    }
                }
            },
        }
    }
    None
}

orrery_service_sdk::refine!(refine);
orrery_service_sdk::accumulate!(accumulate);
