//! The file formats of the block-import traces (the vectors' `traces/schema.asn`): a state as
//! key/value pairs with its root, a trace step `{pre_state, block, post_state}`, and a genesis
//! `{header, state}`. The fuzzer protocol carries the same key/value pairs.

use orrery_codec::{decode_exact, Decode, Describe, Encode};
use orrery_state::StateKey;
use orrery_types::{Block, ChainSpec, Header, StateRoot};

/// One row of `T(σ)`.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct KeyValue {
    pub key: StateKey,
    pub value: Vec<u8>,
}

/// A state as its serialization, with the root its producer computed.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct RawState {
    pub state_root: StateRoot,
    pub keyvals: Vec<KeyValue>,
}

impl RawState {
    /// The pairs, as [`crate::ChainState::from_pairs`] takes them.
    pub fn pairs(&self) -> impl Iterator<Item = (&StateKey, &[u8])> + Clone + '_ {
        self.keyvals.iter().map(|kv| (&kv.key, kv.value.as_slice()))
    }
}

/// One step of a trace: a block with the states before and after it. A block the importer must
/// reject has a post-state equal to its pre-state.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct TraceStep {
    pub pre_state: RawState,
    pub block: Block,
    pub post_state: RawState,
}

/// The first state of a trace and the header it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct Genesis {
    pub header: Header,
    pub state: RawState,
}

/// What a block file holds: a trace step (its block, with the states around it) or a bare block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockFile {
    Step(Box<TraceStep>),
    Block(Box<Block>),
}

impl BlockFile {
    /// Reads a file's bytes as a trace step, else as an encoded block.
    pub fn decode(spec: &ChainSpec, bytes: &[u8]) -> Result<Self, orrery_codec::Error> {
        let lengths = spec.lengths();
        match decode_exact::<TraceStep>(bytes, lengths) {
            Ok(step) => Ok(Self::Step(Box::new(step))),
            Err(step_error) => match decode_exact::<Block>(bytes, lengths) {
                Ok(block) => Ok(Self::Block(Box::new(block))),
                Err(_) => Err(step_error),
            },
        }
    }

    pub fn block(&self) -> &Block {
        match self {
            Self::Step(step) => &step.block,
            Self::Block(block) => block,
        }
    }
}
