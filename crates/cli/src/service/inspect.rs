//! `orrery service inspect BLOB`: what a service blob holds, without running it.

use orrery_pvm::{ArgKind, Opcode, Program, StandardProgram};
use orrery_service_build::Metadata;

use super::hex;

/// The metadata `m`, as JIP-6 when it is that, else as text or octets.
pub fn describe_metadata(m: &[u8]) -> String {
    if let Some(meta) = Metadata::decode(m) {
        let authors = if meta.authors.is_empty() { "none".to_owned() } else { meta.authors.join(", ") };
        return format!(
            "{} {} (license {}, authors {authors}; JIP-6)",
            meta.name,
            meta.version,
            if meta.license.is_empty() { "none" } else { &meta.license }
        );
    }
    match std::str::from_utf8(m) {
        Ok(text) if text.chars().all(|c| !c.is_control()) => format!("{text:?} (text)"),
        _ => format!("0x{} ({} octets)", hex(m), m.len()),
    }
}

/// The target of the `jump` at `pc`, if there is one: the dispatch table the linker puts at the
/// entry points.
fn jump_at(program: &Program, pc: u32) -> Option<u32> {
    let ins = program.instructions().find(|i| i.pc == pc)?;
    (ins.opcode == Opcode::Jump && ins.opcode.arg_kind() == ArgKind::OneOffset).then_some(ins.target??)
}

/// The entry points: each with its program counter, its name, and where its dispatch `jump` goes.
pub fn entry_points(program: &Program) -> Vec<(u32, &'static str, Option<u32>)> {
    let at0 = jump_at(program, 0);
    let at5 = jump_at(program, 5);
    match at5 {
        Some(_) => vec![(0, "refine", at0), (5, "accumulate", at5)],
        None => vec![(0, "is-authorized (an authorizer; a service would have accumulate at 5)", at0)],
    }
}

pub fn run(path: &std::path::Path, disassemble: bool, range: Option<(u32, u32)>) -> Result<(), String> {
    if let Some((from, to)) = range {
        if from >= to {
            return Err(format!(
                "--range {from} {to}: FROM must be below TO (program counters FROM up to, not including, TO)"
            ));
        }
    }
    let blob = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (metadata, program) = StandardProgram::from_service_code(&blob)
        .map_err(|e| format!("{}: not a service blob: {e}", path.display()))?;
    let code = program.program();
    outln!("{}: {} octets", path.display(), blob.len());
    outln!("code hash    0x{}", hex(&orrery_crypto::blake2b_256(&blob)));
    outln!("metadata     {}", describe_metadata(&metadata));
    outln!("read-only    {} octets", program.ro_data().len());
    outln!("read-write   {} octets, then {} heap pages", program.rw_data().len(), program.heap_pages());
    outln!("stack        {} octets", program.stack_size());
    let instructions = code.instructions().filter(|i| code.is_opcode_position(i.pc)).count();
    outln!("code         {} octets, {instructions} instructions", code.code().len());
    outln!("jump table   {} entries", code.jump_table().len());
    outln!("entry points");
    for (pc, name, target) in entry_points(code) {
        match target {
            Some(target) => outln!("  {pc:>4}  {name}: jump @{target}"),
            None => outln!("  {pc:>4}  {name}"),
        }
    }
    if let Some((from, to)) = range {
        let code_end = u32::try_from(code.code().len()).unwrap_or(u32::MAX);
        if !code.instructions().any(|i| (from..to).contains(&i.pc)) {
            return Err(format!(
                "--range {from} {to}: no instruction starts there (the code's program counters run from 0 to {})",
                code_end.saturating_sub(1)
            ));
        }
    }
    if disassemble {
        let (from, to) = range.unwrap_or((0, u32::MAX));
        outln!("disassembly (pc: instruction; > starts a basic block)");
        crate::out::text(&code.disassemble(from..to));
    }
    Ok(())
}
