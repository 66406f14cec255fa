//! What the hand-written program tests share.

use std::sync::Arc;

use orrery_pvm::Program;

/// Instructions (their bytes) laid out one after another, with a bitmask marking each start and
/// no jump table.
pub fn program(instructions: &[&[u8]]) -> Arc<Program> {
    let mut code = Vec::new();
    let mut starts = Vec::new();
    for ins in instructions {
        starts.push(code.len());
        code.extend_from_slice(ins);
    }
    let mut bitmask = vec![0u8; code.len().div_ceil(8)];
    for s in starts {
        bitmask[s / 8] |= 1 << (s % 8);
    }
    Arc::new(Program::from_parts(code, bitmask, vec![]).expect("a valid program"))
}
