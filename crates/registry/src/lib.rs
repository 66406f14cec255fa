//! The `registry` service's protocol (issue 19): ERC-8004 "Trustless Agents" (ethereum/ERCs
//! `ERCS/erc-8004.md`) without the EVM: its three registries' data and rules as commands, what
//! refine hands to accumulate, and what accumulate keeps in storage. The service itself is
//! `services/registry`; this crate is shared by it (compiled for the PVM) and by the host code that
//! builds work items and memos and reads the service's storage (tests, tools).
//!
//! - Identity: agents with an owner, an agent URI and key/value metadata; owner-only updates and
//!   transfer of ownership.
//! - Reputation: feedback by a client on an agent (a value with decimals, two tags, an optional
//!   URI and hash), revocable by its author, responses appended by anyone, running sums per agent,
//!   per client and per tag, so a summary is one storage read.
//! - Validation: the owner asks a named validator about a request hash; the validator answers
//!   0–100 with an optional tag, as often as it likes; the latest answer and a per-agent summary
//!   are stored.
//!
//! Who acts is a [`wire::Principal`]: an Ed25519 key that signs a command in a work item, or a
//! service that sends the command in a transfer's memo (so that another service, the subnet demo's,
//! can give feedback). Encodings follow the Gray Paper's codec (GP 0.7.2 Appendix C): fixed-width
//! little-endian integers `E_n`, the compact natural `E` for lengths and counts, no padding. Every
//! payload, memo and refine output carries [`VERSION`]; anything else is refused.
//!
//! - [`wire`]: the commands, the payload, the memo, refine's verdicts, the [`wire::Refusal`]s and
//!   every cap on a length.
//! - [`store`]: the storage keys and records.
//!
//! What is not here: signature verification (the service verifies with `ed25519-zebra`, host code
//! signs with it); ERC-8004's operators (`approve`), `agentWallet` (reserved, not settable) and
//! the list reads (`getClients`, `readAllFeedback`, `getAgentValidations`): the accumulate logs
//! name every change for an indexer to build them.
#![no_std]

extern crate alloc;

/// The codec pieces the protocol is written in (`orrery-service-codec`).
pub use orrery_service_codec as codec;
pub mod store;
pub mod wire;

/// The protocol version: the octet after a memo's magic and the first of every payload and
/// refine output.
pub const VERSION: u8 = 1;
