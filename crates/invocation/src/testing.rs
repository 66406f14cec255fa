//! Programs assembled by hand for tests and benchmarks: a few PVM instructions (GP 0.7.2 §A.5
//! encodings) and the service code blob that wraps them, with a fixed memory layout. Not for
//! production use; public so that other crates' tests can build services too.

/// The read-only page: 4096 octets of [`RO_BYTE`].
pub const RO: u32 = 0x10000;
pub const RO_BYTE: u8 = 0xab;
/// Four read-write heap pages (h = 2·Z_Z + Z(4096) = 0x30000).
pub const RW: u32 = 0x30000;
/// Nothing is mapped here.
pub const UNMAPPED: u32 = 0x50000;

/// Code with its opcode bitmask, one instruction at a time (GP 0.7.2 §A.5 encodings).
#[derive(Debug, Default, Clone)]
pub struct Asm {
    code: Vec<u8>,
    starts: Vec<usize>,
}

impl Asm {
    pub fn new() -> Self {
        Self::default()
    }

    fn op(&mut self, bytes: &[u8]) -> &mut Self {
        self.starts.push(self.code.len());
        self.code.extend_from_slice(bytes);
        self
    }

    /// `fallthrough` (1): ends a basic block.
    pub fn fallthrough(&mut self) -> &mut Self {
        self.op(&[1])
    }

    /// Five `fallthrough`s, so that the next instruction is at the accumulate entry, pc 5.
    pub fn to_entry(&mut self) -> &mut Self {
        for _ in 0..5 {
            self.fallthrough();
        }
        self
    }

    /// `trap` (0).
    pub fn trap(&mut self) -> &mut Self {
        self.op(&[0])
    }

    /// `ecalli n` (10) with a four-octet immediate.
    pub fn ecalli(&mut self, n: u32) -> &mut Self {
        let mut bytes = vec![10];
        bytes.extend_from_slice(&n.to_le_bytes());
        self.op(&bytes)
    }

    /// `load_imm_64 r, value` (20).
    pub fn load_imm64(&mut self, reg: u8, value: u64) -> &mut Self {
        let mut bytes = vec![20, reg];
        bytes.extend_from_slice(&value.to_le_bytes());
        self.op(&bytes)
    }

    /// `jump_ind r0, 0` (50): to ω0, which Y sets to the halt address.
    pub fn halt(&mut self) -> &mut Self {
        self.op(&[50, 0])
    }

    /// `jump 0` (40): to itself, for ever.
    pub fn jump_self(&mut self) -> &mut Self {
        self.op(&[40, 0])
    }

    /// `move_reg rd, ra` (100).
    pub fn move_reg(&mut self, rd: u8, ra: u8) -> &mut Self {
        self.op(&[100, rd | ra << 4])
    }

    /// `store_imm_u32 [address], value` (32): two four-octet immediates.
    pub fn store_imm_u32(&mut self, address: u32, value: u32) -> &mut Self {
        let mut bytes = vec![32, 4];
        bytes.extend_from_slice(&address.to_le_bytes());
        bytes.extend_from_slice(&value.to_le_bytes());
        self.op(&bytes)
    }

    /// `store_imm_u8 [address], value` (30): immediates of four and one octets.
    pub fn store_imm_u8(&mut self, address: u32, value: u8) -> &mut Self {
        // l_X = min(4, ν_{ı+1} mod 8) = 4, then ν_Y takes the rest (one octet).
        let mut bytes = vec![30, 4];
        bytes.extend_from_slice(&address.to_le_bytes());
        bytes.push(value);
        self.op(&bytes)
    }

    /// The program `E(|j|) ⌢ E1(z) ⌢ E(|c|) ⌢ c ⌢ k` with no jump table.
    pub fn program(&self) -> Vec<u8> {
        let mut bitmask = vec![0u8; self.code.len().div_ceil(8)];
        for &s in &self.starts {
            bitmask[s / 8] |= 1 << (s % 8);
        }
        let mut out = vec![0, 0];
        orrery_codec::natural::encode_to(self.code.len() as u64, &mut out);
        out.extend_from_slice(&self.code);
        out.extend_from_slice(&bitmask);
        out
    }

    /// A service code blob `E(↕m) ⌢ p`: no metadata; read-only data of one page of `RO_BYTE`, no
    /// read-write data, four heap pages and a one-page stack.
    pub fn service_blob(&self) -> Vec<u8> {
        let program = self.program();
        let ro = vec![RO_BYTE; 4096];
        let mut out = vec![0];
        out.extend_from_slice(&(ro.len() as u32).to_le_bytes()[..3]);
        out.extend_from_slice(&[0, 0, 0]);
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&4096u32.to_le_bytes()[..3]);
        out.extend_from_slice(&ro);
        out.extend_from_slice(&(program.len() as u32).to_le_bytes());
        out.extend_from_slice(&program);
        out
    }
}

/// An account holding `balance` whose code is `asm`'s blob: the blob is its code preimage (with no
/// request, so its footprint stays empty and the threshold is `B_S`).
pub fn service_with_code(balance: u64, asm: &Asm) -> orrery_state::ServiceAccount {
    let blob = asm.service_blob();
    let hash = orrery_crypto::blake2b_256(&blob);
    let mut account = orrery_state::ServiceAccount::new(orrery_state::ServiceInfo {
        balance,
        code_hash: hash,
        ..Default::default()
    });
    account.set_preimage(&hash, blob);
    account
}
