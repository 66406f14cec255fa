//! The caps on what a node keeps and the weights of misbehaviour: every pool, queue and map is
//! bounded, per peer and in all, so no peer can make the node allocate without bound.

/// Connected peers (validators of three epochs plus builders and followers).
pub const MAX_PEERS: usize = 2048;
/// Blocks a peer is remembered to know (UP 0: do not announce a block back to who announced it).
pub const MAX_KNOWN_PER_PEER: usize = 1024;
/// Blocks we ask for in one CE 128 request.
pub const MAX_BLOCKS_PER_REQUEST: u32 = 64;
/// Blocks we serve in one CE 128 response, whatever the request asks.
pub const MAX_SERVED_BLOCKS: u32 = 128;
/// Our outstanding requests, in all (one per peer at most).
pub const MAX_REQUESTS: usize = 64;
/// A request of ours fails after this many slots without an answer.
pub const REQUEST_TIMEOUT_SLOTS: u64 = 2;
/// Blocks waiting for their parent.
pub const MAX_ORPHANS: usize = 1024;
/// An orphan whose ancestry has not come within this many slots is dropped.
pub const ORPHAN_TTL_SLOTS: u64 = 4;
/// Hashes of blocks that failed import, remembered so they are not fetched again.
pub const MAX_REJECTED: usize = 1024;
/// Announcements of blocks we do not know that one peer may make in one slot before each further
/// one counts as a flood.
pub const MAX_UNKNOWN_ANNOUNCEMENTS_PER_SLOT: u32 = 8;

/// Misbehaviour points past which a peer is disconnected.
pub const MISBEHAVIOUR_LIMIT: u32 = 100;
/// A message that breaks the protocol (undecodable, oversized, a response that does not match).
pub const BAD_MESSAGE: u32 = 25;
/// A block that fails import.
pub const INVALID_BLOCK: u32 = 25;
/// One announcement too many, or of a block the peer then does not serve.
pub const FLOOD: u32 = 5;
/// How long a disconnected peer is refused, in slots.
pub const BAN_SLOTS: u64 = 100;
/// Work-package requests (CE 134, 137, 143) of ours in flight to one peer.
pub const MAX_WORK_REQUESTS_PER_PEER: usize = 8;
/// Blocks whose audits are followed at once (unfinalized blocks that made reports available).
pub const MAX_AUDITED_BLOCKS: usize = 256;
/// Bundles a guarantor keeps for auditors (CE 147); each is at most `W_B`.
pub const MAX_KEPT_BUNDLES: usize = 64;
/// Guarantees whose signers are remembered (to fetch bundles from and to name culprits).
pub const MAX_REMEMBERED_GUARANTEES: usize = 1024;
/// Audit announcements and judgments kept until their block is imported.
pub const MAX_EARLY_AUDIT_MESSAGES: usize = 256;
/// Availability records (one per erasure root and shard index) kept in the store; past it the
/// oldest go first. A guarantor keeps `V` per package it guarantees, an assurer one per report.
pub const MAX_SHARD_RECORDS: usize = 65_536;
/// Our shards being fetched at once (one per report pending in `ρ`: at most `C` a block).
pub const MAX_SHARD_FETCHES: usize = 1024;
/// Rounds through a report's guarantors (one a slot) before we stop asking for its shard.
pub const MAX_SHARD_ROUNDS: u32 = 3;
/// Assurances pooled, over every anchor.
pub const MAX_ASSURANCES: usize = 8192;
/// Assurances held until their anchor block is imported.
pub const MAX_EARLY_ASSURANCES: usize = 1024;
/// Preimages pooled, and their total size.
pub const MAX_PREIMAGES: usize = 1024;
pub const MAX_PREIMAGE_BYTES: usize = 64 << 20;
/// Preimages asked for (CE 143) at once.
pub const MAX_WANTED_PREIMAGES: usize = 256;
/// The largest work package a guarantor takes (JAMNP-S CE 133: `CoreIndex ++ WorkPackage` is at
/// most 2 + 200 KiB), encoded, its extrinsics not counted.
pub const MAX_WORK_PACKAGE_SIZE: usize = 200 * 1024;
/// Packages of ours being shared and signed at once; a submission past it is refused.
pub const MAX_GUARANTOR_WORK: usize = 16;
/// With two signatures on our report, how long we wait for a third before distributing the
/// guarantee (JAMNP-S CE 135: "about 2 s"), in wall-clock milliseconds.
pub const THIRD_SIGNATURE_WAIT_MS: u64 = 2_000;
/// A package of ours with fewer than two signatures after this many slots is given up.
pub const GUARANTOR_WORK_TTL_SLOTS: u64 = 2;
/// Packages we guaranteed or are guaranteeing, remembered so a second submission (a builder
/// sends to every guarantor of the core) is not refined again.
pub const MAX_GUARANTEED_REMEMBERED: usize = 256;
/// Packages refined for peers (CE 133 submissions and CE 134 shares together) in one slot; more
/// are refused. Refining is bounded by gas, not cheap: this keeps a flood of packages from taking
/// the node's time (the paper asks guarantors to sign about two reports a slot).
pub const MAX_PEER_REFINES_PER_SLOT: u32 = 8;
/// Shard requests one audit keeps out at once while it rebuilds a bundle from assurers' shards.
pub const AUDIT_SHARD_REQUESTS: usize = 8;
