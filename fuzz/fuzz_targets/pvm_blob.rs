//! Arbitrary bytes as a program blob and as a service blob: decoding and running must never panic,
//! hang or allocate beyond what the input justifies. The first input byte picks the entry point.

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use orrery_pvm::{invoke, Access, Exit, Machine, NoHost, Program};

fuzz_target!(|data: &[u8]| {
    let Some((&pc, blob)) = data.split_first() else { return };
    if let Ok(program) = Program::from_blob(blob) {
        let mut machine = Machine::new(Arc::new(program), u32::from(pc), 100_000);
        machine.memory.set_access(0x10000, 0x10000, Access::ReadWrite);
        for _ in 0..16 {
            if !matches!(machine.run(), Exit::HostCall(_) | Exit::PageFault(_)) {
                break;
            }
        }
    }
    let (used, _) = invoke(blob, u32::from(pc % 10), 100_000, &data[..data.len().min(64)], &mut NoHost);
    assert!(used <= 100_000);
});
