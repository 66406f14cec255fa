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
//! The target advertises both features of the protocol: `feature-ancestry` (the lookup anchors of
//! guarantees are checked against the `Initialize` ancestry and the chain imported since, GP 0.7.2
//! eq. 11.35; without the feature that rule is skipped, as the protocol asks) and `feature-fork`
//! (a block is imported on whichever kept state its parent names).
//!
//! Every message from the other side is untrusted: a malformed one ends the session (the target
//! closes the connection, as the protocol's general rules say, and logs why), never a panic. An
//! invalid block, including one that does not decode inside a well-framed `import_block`, gets an
//! `Error` and the session goes on. Each connection is served on its own thread, so one stalled
//! or crashed session leaves the others (and the listener) running, within [`target::Limits`]:
//! a cap on sessions at once (a connection beyond it is closed), an idle time after which a
//! silent session is closed, a frame cap that is the protocol's largest legal message
//! ([`protocol::MAX_MESSAGE`], worked out from the GP's bounds), and a budget for the octets of
//! messages being read across sessions; a message's buffer grows with what arrives, never ahead
//! to what its length claims. A second target on a socket a live one listens on is refused.

#![forbid(unused_must_use)]

pub mod client;
pub mod protocol;
pub mod target;
