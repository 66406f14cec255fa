//! Orrery's conformance fuzzer (issue 14): seeded chains of valid and mutated blocks, each checked
//! against Orrery's own import (`orrery_import::import_block`) and sent to a fuzz target over the
//! fuzzer protocol v1 (`orrery-fuzz`), in the lanes of the JAM milestone-1 conformance criteria.
//!
//! - [`genesis`]: a dev genesis from the chain spec alone (tiny or full): empty σ at the spec's
//!   sizes, the first `V` JIP-5 dev keys as every validator set, entropy from the seed.
//! - [`chain`]: the [`chain::Generator`], which authors block after block with `orrery-author`,
//!   each by the validator that seals its slot, and queues the steps a fuzzer sends.
//! - [`mutate`]: the mutations, each breaking one rule of GP 0.7.2 that import must enforce.
//! - [`driver`]: the run against a target: handshake, `Initialize`, each step compared with
//!   Orrery's import; on a difference the target's state is asked for, the first differing keys
//!   listed, and the step written as a trace step in the vectors' format.
//!
//! Workloads generated (GP 0.7.2 section in brackets):
//! - epoch changes and skipped slots (§6.1), a slot whose fallback key is an offender's null key
//!   skipped too;
//! - fallback-sealed and ticket-sealed blocks (§6.5), with ticket contests (§6.7): each epoch's
//!   entrants a random subset of the validators (none, some, all; at most two in the mutations
//!   lane, at most eight on full), their ring proofs made once per contest and validator and
//!   cached, since they cost about a second each on tiny;
//! - disputes (§10): a verdict on a made-up report by a supermajority of `κ`, mostly wonky, and
//!   within a budget of `V/3` offenders (more would stall the chain; with reports on, `V` less a
//!   supermajority, so that reports can still become available) bad with two culprits or good
//!   with a fault (on tiny, one bad verdict only, or with reports on one fault), so offenders are
//!   marked and nulled at the next epoch change;
//! - preimages (§12.4): the dev genesis has two services that solicit 128 preimages each; a tenth
//!   of the blocks provide one to three of those still wanted (the workload ends when all are);
//! - work reports ([`work`]): packages for the dev chain's manager (service 0) and the services
//!   it deploys, refined for real (Ψ_I, Ψ_R in the PVM), anchored anywhere in the recent history
//!   with lookup anchors among the head's ancestors, guaranteed by two or three of the core's
//!   guarantors, assured by a supermajority (or, now and then, by too few) and accumulated:
//!   services created (`kv`, copies of the manager), upgraded (a copy to `kv`), retired and,
//!   `D` slots later, ejected; storage written and removed; transfers made (some failing on the
//!   receiver's memo gas); blobs solicited by the manager, provided by the preimage extrinsic and
//!   forgotten; validator key sets solicited, provided and designated (`ι`, then `γ_P`, then `κ`,
//!   with keys the genesis did not have: the safrole lane's validator management);
//! - forks: a valid sibling on the same parent at a later slot, the chain then continuing on
//!   either;
//! - mutants (mutations lane): up to five altered copies of a block sent before it, on its parent,
//!   every one of which must be rejected ([`mutate::Mutation`] lists the kinds).
//!
//! Not generated: reports that import or export segments or carry extrinsic blobs; privileged
//! changes other than `designate` (`bless`, `assign`); a lookup anchor that is no ancestor (the
//! outcome would depend on whether the target negotiated `feature-ancestry`).

#![forbid(unused_must_use)]

pub mod chain;
pub mod driver;
pub mod genesis;
pub mod mutate;
pub mod work;

pub use chain::{Config, Counts, GenerateError, Generator, Lane, Step, StepKind};
pub use driver::{run, Divergence, DriveError, Finding, Progress, Report, RunEvent, RunOptions};
pub use mutate::Mutation;
pub use work::WorkCounts;
