//! The authorizer pools α and queues φ (GP 0.7.2 §8.2).

use orrery_codec::{Decode, Describe, Encode};
use orrery_types::constants::AUTH_QUEUE_SIZE;
use orrery_types::Hash;

/// `α`: per core, the authorizer hashes a work report may currently name (at most `O` each).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct AuthPools(#[codec(len = cores_count)] pub Vec<Vec<Hash>>);

/// One core's authorizer queue: exactly `Q` hashes, cycled through one per slot.
pub type AuthQueue = [Hash; AUTH_QUEUE_SIZE];

/// `φ`: per core, the queue that refills its pool.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct AuthQueues(#[codec(len = cores_count)] pub Vec<AuthQueue>);
