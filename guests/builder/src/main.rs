//! `orrery-guest-builder target-json FILE`: writes polkavm-linker's 64-bit target spec for rustc 1.91+
//! with the two edits Debian's toolchain needs (SERVICE-TOOLCHAIN.md): `ld.lld-19` as the linker, and
//! no `only-cdylib`, since the guest is built as a staticlib and linked by hand.
//!
//! `orrery-guest-builder ELF OUT NAME EXPORT...`: links a guest ELF for the JamV1 instruction set with
//! the given exports at the start of the code (the first at pc 0, the second at pc 5, as JAM services
//! place refine and accumulate), and writes:
//! - `OUT.polkavm`: polkavm's own container, to run on the `polkavm` crate;
//! - `OUT.jam`: the JAM service blob `E(↕m) ‖ E3(|o|) ‖ E3(|w|) ‖ E2(z) ‖ E3(s) ‖ o ‖ w ‖ E4(|c|) ‖ c`
//!   with c = `E(|j|) ‖ E1(z_j) ‖ E(|c|) ‖ j ‖ code ‖ bitmask` and metadata m = NAME.

use polkavm_common::program::ProgramBlob;

const PAGE: u32 = 4096;

/// The general natural-number encoding of GP 0.7.2 Appendix C.
fn natural(x: u64, out: &mut Vec<u8>) {
    if x < 0x80 {
        out.push(x as u8);
        return;
    }
    let bits = 64 - x.leading_zeros() as usize;
    let l = (bits - 1) / 7;
    if l >= 8 {
        out.push(0xff);
        out.extend_from_slice(&x.to_le_bytes());
        return;
    }
    out.push((0xffu16 << (8 - l)) as u8 | (x >> (8 * l)) as u8);
    out.extend_from_slice(&x.to_le_bytes()[..l]);
}

fn fixed(x: u64, n: usize, what: &str, out: &mut Vec<u8>) {
    assert!(n == 8 || x < 1 << (8 * n), "{what} = {x} does not fit in {n} bytes");
    out.extend_from_slice(&x.to_le_bytes()[..n]);
}

/// polkavm 0.37's JamV1 instruction set is GP 0.7.2's with `sbrk` (101) removed, the ten
/// two-register bit operations after it renumbered 101..=110 (GP: 102..=111), and a no-op hint
/// `unlikely` at 2. This rewrites the opcodes of a JamV1 program into GP 0.7.2's numbering; the
/// hint becomes `fallthrough`, the only one-octet no-op GP 0.7.2 has (it also ends a basic block,
/// which moves no gas and no control flow: the hint starts a block).
fn to_gp_072_opcodes(code: &[u8], bitmask: &[u8]) -> Vec<u8> {
    let mut out = code.to_vec();
    for (i, byte) in out.iter_mut().enumerate() {
        if bitmask[i / 8] >> (i % 8) & 1 == 0 {
            continue;
        }
        *byte = match *byte {
            2 => 1,
            op @ 101..=110 => op + 1,
            op => op,
        };
    }
    out
}

fn target_json(out: &str) {
    let mut args = polkavm_linker::TargetJsonArgs::default();
    args.rustc_version = polkavm_linker::RustcVersion::Rustc_1_91;
    let path = polkavm_linker::target_json_path(args).expect("locating the target spec");
    let spec = std::fs::read_to_string(&path).expect("reading the target spec");
    let edited: String = spec
        .lines()
        .filter(|line| !line.contains("\"only-cdylib\""))
        .map(|line| line.replace("\"rust-lld\"", "\"ld.lld-19\""))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(edited.contains("ld.lld-19"), "the target spec no longer names rust-lld");
    std::fs::write(out, edited + "\n").expect("writing the target spec");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 3 && args[1] == "target-json" {
        target_json(&args[2]);
        return;
    }
    if args.len() < 5 {
        eprintln!("usage: {} ELF OUT NAME EXPORT...", args[0]);
        std::process::exit(2);
    }
    let elf = std::fs::read(&args[1]).expect("reading the ELF");
    let out = &args[2];
    let name = &args[3];
    let exports: Vec<Vec<u8>> = args[4..].iter().map(|e| e.as_bytes().to_vec()).collect();

    let mut config = polkavm_linker::Config::default();
    config.set_strip(true);
    config.set_dispatch_table(exports);
    let raw = polkavm_linker::program_from_elf(config, polkavm_linker::TargetInstructionSet::JamV1, &elf)
        .expect("linking the ELF");
    std::fs::write(format!("{out}.polkavm"), &raw).expect("writing the polkavm blob");

    let blob = ProgramBlob::parse(raw.into()).expect("parsing the polkavm blob");
    let ro = blob.ro_data().to_vec();
    let rw = blob.rw_data().to_vec();
    // The read-only section is P(|o|) long in the JAM layout: pad o if polkavm declares more.
    let mut o = ro;
    if blob.ro_data_size() > o.len().div_ceil(PAGE as usize) as u32 * PAGE {
        o.resize(blob.ro_data_size() as usize, 0);
    }
    // Zero-initialised read-write memory beyond w becomes z heap pages.
    let rw_pages = rw.len().div_ceil(PAGE as usize) as u32;
    let heap_pages = blob.rw_data_size().div_ceil(PAGE).saturating_sub(rw_pages);

    let code = to_gp_072_opcodes(blob.code(), blob.bitmask());
    let jump_table: Vec<u32> = blob.jump_table().iter().map(|pc| pc.0).collect();
    let entry_size =
        jump_table.iter().map(|&t| (32 - t.leading_zeros()).div_ceil(8)).max().unwrap_or(0) as usize;
    let mut c = Vec::new();
    natural(jump_table.len() as u64, &mut c);
    c.push(entry_size as u8);
    natural(code.len() as u64, &mut c);
    for target in &jump_table {
        fixed(u64::from(*target), entry_size, "jump target", &mut c);
    }
    c.extend_from_slice(&code);
    c.extend_from_slice(blob.bitmask());

    let mut p = Vec::new();
    natural(name.len() as u64, &mut p);
    p.extend_from_slice(name.as_bytes());
    fixed(o.len() as u64, 3, "|o|", &mut p);
    fixed(rw.len() as u64, 3, "|w|", &mut p);
    fixed(u64::from(heap_pages), 2, "z", &mut p);
    fixed(u64::from(blob.stack_size()), 3, "s", &mut p);
    p.extend_from_slice(&o);
    p.extend_from_slice(&rw);
    fixed(c.len() as u64, 4, "|c|", &mut p);
    p.extend_from_slice(&c);
    std::fs::write(format!("{out}.jam"), &p).expect("writing the JAM blob");
    eprintln!(
        "{out}.jam: {} bytes (code {} bytes, o {} bytes, w {} bytes, z {heap_pages}, s {})",
        p.len(),
        blob.code().len(),
        o.len(),
        rw.len(),
        blob.stack_size()
    );
}
