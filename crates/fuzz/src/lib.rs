//! The JAM conformance fuzzer protocol v1 (jam-conformance `fuzz-proto/`): a synchronous
//! request–response protocol over a Unix socket, in which a fuzzer hands a target a state and
//! blocks and compares the state roots it answers with.
//!
//! - [`protocol`]: the messages in the JAM codec and their length-prefixed framing.
//! - [`target`]: Orrery as a target (`orrery fuzz-target`): imports each block with
//!   `orrery-import` on the state its parent names, forks included, and answers with the posterior
//!   root or an error naming the broken rule.
//! - [`client`]: the fuzzer side, to drive any target with a trace folder or a recorded session
//!   (the protocol's example message pairs) and time each import.
//!
//! Every message from the other side is untrusted: a malformed one ends the session with an error,
//! never a panic, and no buffer grows past what actually arrived.

#![forbid(unused_must_use)]

pub mod client;
pub mod protocol;
pub mod target;
