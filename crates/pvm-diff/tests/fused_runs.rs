//! orrery-pvm fuses runs of `load_ind_u64` / `store_ind_u64` off one base register (register save
//! and restore) into one dispatch. These cases are made of such runs, with bases near page
//! boundaries, read-only and unmapped pages, low addresses, loads into the base, host calls between
//! runs and short gas, and must end exactly as on polkavm: exits, pc, gas, registers and memory.

use orrery_pvm_diff::{compare, polkavm_engine, run_orrery, Case, Region, Status, Verdict};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const LOAD_IND_U64: u8 = 130;
const STORE_IND_U64: u8 = 123;
const ADD_IMM_64: u8 = 149;
const ECALLI: u8 = 10;
const BASE: u32 = 0x2_0000;
const PAGES: u32 = 4;

fn case(rng: &mut Rng) -> Case {
    let mut code = Vec::new();
    let mut starts = Vec::new();
    let mut push = |code: &mut Vec<u8>, bytes: &[u8]| {
        starts.push(code.len());
        code.extend_from_slice(bytes);
    };
    let two_reg_imm = |op: u8, a: u8, b: u8, imm: i32| {
        let mut ins = vec![op, a | b << 4];
        ins.extend_from_slice(&imm.to_le_bytes());
        ins
    };
    for _ in 0..1 + rng.below(4) {
        let op = if rng.below(2) == 0 { LOAD_IND_U64 } else { STORE_IND_U64 };
        let base = 1 + rng.below(2) as u8;
        let step: i32 = match rng.below(4) {
            0 => 8,
            1 => -8,
            2 => 16,
            _ => rng.below(129) as i32 - 64,
        };
        let start = rng.below(512) as i32 - 256;
        for j in 0..2 + rng.below(10) as i32 {
            // Now and then a load into the base, which ends a fused run.
            let a = if rng.below(8) == 0 { base } else { rng.below(13) as u8 };
            push(&mut code, &two_reg_imm(op, a, base, start + j * step));
        }
        match rng.below(4) {
            0 => push(&mut code, &[ECALLI, rng.below(200) as u8]),
            1 => push(&mut code, &two_reg_imm(ADD_IMM_64, base, base, rng.below(64) as i32 - 32)),
            _ => {}
        }
    }
    push(&mut code, &[0]);
    let mut bitmask = vec![0u8; code.len().div_ceil(8)];
    for s in starts {
        bitmask[s / 8] |= 1 << (s % 8);
    }
    let mut regions = Vec::new();
    let mut memory = Vec::new();
    for page in 0..PAGES {
        let address = BASE + page * 4096;
        match rng.below(5) {
            0 => continue,
            1 => regions.push(Region { address, length: 4096, writable: false }),
            _ => regions.push(Region { address, length: 4096, writable: true }),
        }
        let offset = rng.below(4096 - 512) as u32;
        memory.push((address + offset, (0..512).map(|_| rng.next() as u8).collect()));
    }
    let mut regs = [0u64; 13];
    for r in &mut regs {
        *r = rng.next();
    }
    for r in [1, 2] {
        regs[r] = match rng.below(6) {
            // Near a page boundary, so that runs straddle it.
            0 | 1 => {
                u64::from(BASE + 4096 * (1 + rng.below(u64::from(PAGES) - 1)) as u32) - 64 + rng.below(128)
            }
            // Below 2^16: a panic.
            2 => 0xff00 + rng.below(0x80),
            _ => u64::from(BASE) + 256 + rng.below(u64::from(PAGES) * 4096 - 512),
        };
    }
    let gas = if rng.below(4) == 0 { rng.below(12) as i64 } else { 1000 };
    Case { code, bitmask, jump_table: vec![], regs, pc: 0, gas, regions, memory }
}

#[test]
fn fused_runs_end_exactly_as_on_polkavm() {
    let engine = polkavm_engine();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (mut same, mut faults_past_the_head, mut resumed) = (0, 0, 0);
    let mut exits = std::collections::BTreeSet::new();
    for _ in 0..4000 {
        let case = case(&mut rng);
        match compare(&engine, &case) {
            Ok(Verdict::Same) => {
                same += 1;
                let outcome = run_orrery(&case);
                let last = *outcome.exits.last().unwrap();
                if outcome.exits.len() > 1 {
                    resumed += 1;
                }
                exits.insert(format!("{last:?}").split('(').next().unwrap().to_owned());
                // A fault at an instruction that follows another load or store of its kind.
                if let (Status::PageFault(_), Some(pc)) = (last, outcome.pc) {
                    let pc = pc as usize;
                    if pc >= 6 && case.code[pc] == case.code[pc - 6] {
                        faults_past_the_head += 1;
                    }
                }
            }
            Ok(_) => {}
            Err(why) => panic!("{why}\n{case:?}"),
        }
    }
    println!("{same} compared, {faults_past_the_head} faults inside runs, {resumed} resumed");
    assert!(same > 3500, "only {same} cases compared");
    assert!(faults_past_the_head > 100, "only {faults_past_the_head} faults inside runs");
    assert!(resumed > 100, "only {resumed} cases resumed after a host call");
    for exit in ["Panic", "OutOfGas", "PageFault"] {
        assert!(exits.contains(exit), "no compared case ended with {exit}: {exits:?}");
    }
}
