//! From a linked guest ELF to a JAM service blob: polkavm-linker's `JamV1` program, its opcodes
//! renumbered to GP 0.7.2's, laid out as the paper's standard program `E(↕m, c)` (GP 0.7.2 §9.1
//! and eq. A.38), with JIP-6 metadata `m`.

use crate::BuildError;
use orrery_codec::natural;

/// `Z_P`, the PVM page size.
const PAGE: u32 = 4096;

/// The exports the invocations start at, by guest API. A service has refine at instruction 0
/// and accumulate at 5; an authorizer has is-authorized at 0 (GP 0.7.2 §B.1–B.4). The linker's
/// dispatch table puts a 5-octet jump to each export at the start of the code, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entries {
    /// `orrery-service-sdk`'s `refine!` and `accumulate!`.
    OrreryService,
    /// `orrery-service-sdk`'s `is_authorized!`.
    OrreryAuthorizer,
    /// Parity's `jam-pvm-common` `declare_service!`.
    ParityService,
    /// Parity's `jam-pvm-common` `declare_authorizer!`.
    ParityAuthorizer,
}

impl Entries {
    /// The export symbols, in dispatch-table order.
    pub fn exports(self) -> &'static [&'static str] {
        match self {
            Entries::OrreryService => &["orrery_refine", "orrery_accumulate"],
            Entries::OrreryAuthorizer => &["orrery_is_authorized"],
            Entries::ParityService => &["refine_ext", "accumulate_ext"],
            Entries::ParityAuthorizer => &["is_authorized_ext"],
        }
    }

    /// Which guest API a program's exports belong to.
    pub fn detect(exports: &[String]) -> Option<Entries> {
        let has = |name: &str| exports.iter().any(|e| e == name);
        [Entries::OrreryService, Entries::ParityService, Entries::OrreryAuthorizer, Entries::ParityAuthorizer]
            .into_iter()
            .find(|entries| entries.exports().iter().all(|e| has(e)))
    }

    /// What the blob is, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Entries::OrreryService => "service (orrery-service-sdk): refine at 0, accumulate at 5",
            Entries::OrreryAuthorizer => "authorizer (orrery-service-sdk): is-authorized at 0",
            Entries::ParityService => "service (jam-pvm-common): refine at 0, accumulate at 5",
            Entries::ParityAuthorizer => "authorizer (jam-pvm-common): is-authorized at 0",
        }
    }
}

/// JIP-6 program metadata: `[0] ⌢ E(↕name, ↕version, ↕license, ↕[↕author])`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    pub name: String,
    pub version: String,
    pub license: String,
    pub authors: Vec<String>,
}

fn put_string(s: &str, out: &mut Vec<u8>) {
    natural::encode_to(s.len() as u64, out);
    out.extend_from_slice(s.as_bytes());
}

fn take_natural(input: &mut &[u8]) -> Option<u64> {
    let (value, used) = natural::decode(input).ok()?;
    *input = &input[used..];
    Some(value)
}

fn take_string(input: &mut &[u8]) -> Option<String> {
    let len = usize::try_from(take_natural(input)?).ok()?;
    if len > input.len() {
        return None;
    }
    let (s, rest) = input.split_at(len);
    *input = rest;
    String::from_utf8(s.to_vec()).ok()
}

impl Metadata {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![0];
        put_string(&self.name, &mut out);
        put_string(&self.version, &mut out);
        put_string(&self.license, &mut out);
        natural::encode_to(self.authors.len() as u64, &mut out);
        for author in &self.authors {
            put_string(author, &mut out);
        }
        out
    }

    /// Reads JIP-6 metadata; `None` when `m` is in another format. Octets after the authors are
    /// ignored, as JIP-6 asks of readers.
    pub fn decode(m: &[u8]) -> Option<Metadata> {
        let (&first, mut rest) = m.split_first()?;
        if first != 0 {
            return None;
        }
        let name = take_string(&mut rest)?;
        let version = take_string(&mut rest)?;
        let license = take_string(&mut rest)?;
        let count = take_natural(&mut rest)?;
        // Each author takes at least one octet: a count beyond what is left is malformed.
        if count > rest.len() as u64 {
            return None;
        }
        let authors = (0..count).map(|_| take_string(&mut rest)).collect::<Option<Vec<_>>>()?;
        Some(Metadata { name, version, license, authors })
    }
}

/// polkavm 0.37's `JamV1` instruction set is GP 0.7.2's with `sbrk` (101) left out, the ten
/// two-register bit operations that follow it numbered 101–110 instead of 102–111, and a one-octet
/// hint `unlikely` at 2 that GP 0.7.2 lacks. This renumbers a `JamV1` program's opcodes (the
/// positions the bitmask marks) into GP 0.7.2's. The hint becomes `fallthrough` (1), the paper's
/// one-octet no-op: the hint always starts a basic block, so ending the block before it moves no
/// control flow and no gas.
pub fn to_gp_opcodes(code: &[u8], bitmask: &[u8]) -> Vec<u8> {
    let mut out = code.to_vec();
    for (i, byte) in out.iter_mut().enumerate() {
        let marked = bitmask.get(i / 8).is_some_and(|b| b >> (i % 8) & 1 == 1);
        if !marked {
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

/// Which polkavm-linker turns the guest ELF into a program. Both emit the `JamV1` instruction set,
/// but not the same one:
///
/// - 0.37 (the workspace's polkavm) drops `sbrk` and numbers the bit operations after it 101–110;
///   [`to_gp_opcodes`] renumbers its output. Orrery's SDK never uses `sbrk`, and its committed
///   blobs (`services/`, `guests/`) are 0.37's, so they keep their octets and code hashes.
/// - 0.30, the linker of Parity's `jam-pvm-build` 0.1.28, numbers `JamV1` exactly as GP 0.7.2
///   §A.5 does (`sbrk` 101, bit operations 102–111; its table of 139 opcodes was compared entry
///   by entry with `orrery-pvm`'s when this was written) and keeps `sbrk`, which `jam-pvm-common` 0.1.28's allocator
///   (`picoalloc`) grows its heap with. Its output needs no renumbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linker {
    Polkavm037,
    Polkavm030,
}

impl Linker {
    pub fn describe(self) -> &'static str {
        match self {
            Linker::Polkavm037 => "polkavm-linker 0.37, opcodes renumbered to GP 0.7.2",
            Linker::Polkavm030 => "polkavm-linker 0.30, GP 0.7.2 numbering",
        }
    }
}

/// A program as polkavm-linker produced it, split into what the JAM layout needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    /// Which entries the dispatch table holds.
    pub entries: Entries,
    /// Which linker made it.
    pub linker: Linker,
    /// That linker's own container (`.polkavm`), for its version of polkavm's tools.
    pub polkavm: Vec<u8>,
    /// `o`: read-only data, padded to what the program declares.
    pub ro_data: Vec<u8>,
    /// `w`: initialised read-write data.
    pub rw_data: Vec<u8>,
    /// `z`: zeroed read-write pages after `w`.
    pub heap_pages: u16,
    /// `s`: the stack size.
    pub stack_size: u32,
    /// `c`: the GP program blob `E(|j|) ‖ E1(z) ‖ E(|c|) ‖ E_z(j) ‖ E(c) ‖ E(k)`.
    pub code: Vec<u8>,
    /// The number of octets of instructions in `c`.
    pub instructions_size: usize,
}

/// What the JAM layout takes from a linked program, whichever linker's container it came in.
struct Parts {
    exports: Vec<String>,
    ro_data: Vec<u8>,
    ro_data_size: u32,
    rw_data: Vec<u8>,
    rw_data_size: u32,
    stack_size: u32,
    code: Vec<u8>,
    bitmask: Vec<u8>,
    jump_table: Vec<u32>,
}

// The two linkers are two versions of one crate: the same calls on different types.
macro_rules! link_and_split {
    ($linker:ident, $elf:expr, $exports:expr) => {{
        let mut config = $linker::Config::default();
        config.set_strip(true);
        config.set_dispatch_table($exports.iter().map(|e| e.as_bytes().to_vec()).collect());
        let raw = $linker::program_from_elf(config, $linker::TargetInstructionSet::JamV1, $elf)
            .map_err(|e| BuildError::Link(e.to_string()))?;
        let blob =
            $linker::ProgramBlob::parse(raw.clone().into()).map_err(|e| BuildError::Link(e.to_string()))?;
        let parts = Parts {
            exports: blob
                .exports()
                .map(|e| String::from_utf8_lossy(e.symbol().as_bytes()).into_owned())
                .collect(),
            ro_data: blob.ro_data().to_vec(),
            ro_data_size: blob.ro_data_size(),
            rw_data: blob.rw_data().to_vec(),
            rw_data_size: blob.rw_data_size(),
            stack_size: blob.stack_size(),
            code: blob.code().to_vec(),
            bitmask: blob.bitmask().to_vec(),
            jump_table: blob.jump_table().iter().map(|target| target.0).collect(),
        };
        (raw, parts)
    }};
}

fn link_with(linker: Linker, elf: &[u8], exports: &[&str]) -> Result<(Vec<u8>, Parts), BuildError> {
    Ok(match linker {
        Linker::Polkavm037 => link_and_split!(polkavm_linker, elf, exports),
        Linker::Polkavm030 => link_and_split!(polkavm_linker_030, elf, exports),
    })
}

fn fits(value: u64, octets: u32, what: &'static str) -> Result<u64, BuildError> {
    if value >> (8 * octets) != 0 {
        return Err(BuildError::TooLarge { what, value });
    }
    Ok(value)
}

/// Links a guest ELF with `linker`: once to find its exports and so its guest API, then with the
/// dispatch table that puts its entries where the invocations start.
pub fn link(elf: &[u8], linker: Linker) -> Result<Linked, BuildError> {
    let (_, probe) = link_with(linker, elf, &[])?;
    let entries = Entries::detect(&probe.exports).ok_or(BuildError::NoEntryPoints(probe.exports))?;

    let (raw, parts) = link_with(linker, elf, entries.exports())?;
    let mut ro_data = parts.ro_data;
    // The JAM layout maps P(|o|) read-only octets: pad o when the program declares more.
    let ro_size = parts.ro_data_size as usize;
    if ro_size > ro_data.len().div_ceil(PAGE as usize) * PAGE as usize {
        ro_data.resize(ro_size, 0);
    }
    let rw_data = parts.rw_data;
    let rw_pages = rw_data.len().div_ceil(PAGE as usize) as u32;
    let heap_pages = parts.rw_data_size.div_ceil(PAGE).saturating_sub(rw_pages);
    let heap_pages = u16::try_from(heap_pages)
        .map_err(|_| BuildError::TooLarge { what: "heap pages z", value: heap_pages.into() })?;

    let instructions = match linker {
        Linker::Polkavm037 => to_gp_opcodes(&parts.code, &parts.bitmask),
        Linker::Polkavm030 => parts.code,
    };
    let jump_table = parts.jump_table;
    let width = jump_table.iter().map(|&t| (32 - t.leading_zeros()).div_ceil(8)).max().unwrap_or(0);
    let mut code = Vec::with_capacity(instructions.len() * 9 / 8 + 4 * jump_table.len() + 16);
    natural::encode_to(jump_table.len() as u64, &mut code);
    code.push(width as u8);
    natural::encode_to(instructions.len() as u64, &mut code);
    for target in &jump_table {
        code.extend_from_slice(&target.to_le_bytes()[..width as usize]);
    }
    code.extend_from_slice(&instructions);
    code.extend_from_slice(&parts.bitmask);
    Ok(Linked {
        entries,
        linker,
        polkavm: raw,
        ro_data,
        rw_data,
        heap_pages,
        stack_size: parts.stack_size,
        code,
        instructions_size: instructions.len(),
    })
}

/// The service blob `E(↕m) ‖ E3(|o|) ‖ E3(|w|) ‖ E2(z) ‖ E3(s) ‖ o ‖ w ‖ E4(|c|) ‖ c`
/// (GP 0.7.2 eq. A.38 behind the metadata prefix of §9.1).
pub fn service_blob(metadata: &[u8], linked: &Linked) -> Result<Vec<u8>, BuildError> {
    let mut out = Vec::new();
    natural::encode_to(metadata.len() as u64, &mut out);
    out.extend_from_slice(metadata);
    let o = fits(linked.ro_data.len() as u64, 3, "read-only data |o|")?;
    let w = fits(linked.rw_data.len() as u64, 3, "read-write data |w|")?;
    let s = fits(linked.stack_size.into(), 3, "stack size s")?;
    let c = fits(linked.code.len() as u64, 4, "code |c|")?;
    out.extend_from_slice(&o.to_le_bytes()[..3]);
    out.extend_from_slice(&w.to_le_bytes()[..3]);
    out.extend_from_slice(&linked.heap_pages.to_le_bytes());
    out.extend_from_slice(&s.to_le_bytes()[..3]);
    out.extend_from_slice(&linked.ro_data);
    out.extend_from_slice(&linked.rw_data);
    out.extend_from_slice(&c.to_le_bytes()[..4]);
    out.extend_from_slice(&linked.code);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_jip6() {
        let m = Metadata {
            name: "kv".into(),
            version: "0.1.0".into(),
            license: "Apache-2.0".into(),
            authors: vec!["A".into(), "B".into()],
        };
        // By hand: 0, ↕"kv", ↕"0.1.0", ↕"Apache-2.0", 2 authors ↕"A" ↕"B".
        let mut expected = vec![0, 2, b'k', b'v', 5];
        expected.extend_from_slice(b"0.1.0");
        expected.push(10);
        expected.extend_from_slice(b"Apache-2.0");
        expected.extend_from_slice(&[2, 1, b'A', 1, b'B']);
        assert_eq!(m.encode(), expected);
        assert_eq!(Metadata::decode(&expected), Some(m.clone()));
        // Trailing octets are ignored; truncation and other formats are not JIP-6.
        expected.push(9);
        assert_eq!(Metadata::decode(&expected), Some(m));
        assert_eq!(Metadata::decode(&expected[..6]), None);
        assert_eq!(Metadata::decode(b"orrery-guest-probe"), None);
        assert_eq!(Metadata::decode(&[0, 0, 0, 0, 0xff]), None);
    }

    #[test]
    fn opcodes_are_renumbered_only_where_the_bitmask_marks_them() {
        // Positions 0, 1, 3 are instructions (bitmask 0b1011): unlikely (2), and_inv (101 in
        // polkavm = 102 in GP), fallthrough; position 2 is an operand octet 101 that stays.
        let code = [2, 101, 101, 1];
        assert_eq!(to_gp_opcodes(&code, &[0b1011]), [1, 102, 101, 1]);
        // 110 (polkavm's last bit operation) becomes 111; 100 and 111+ are untouched.
        assert_eq!(to_gp_opcodes(&[110, 100, 111], &[0b111]), [111, 100, 111]);
    }

    #[test]
    fn entries_by_exports() {
        let names = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            Entries::detect(&names(&["orrery_accumulate", "orrery_refine"])),
            Some(Entries::OrreryService)
        );
        assert_eq!(Entries::detect(&names(&["refine_ext", "accumulate_ext"])), Some(Entries::ParityService));
        assert_eq!(Entries::detect(&names(&["is_authorized_ext"])), Some(Entries::ParityAuthorizer));
        assert_eq!(Entries::detect(&names(&["orrery_refine"])), None);
    }
}
