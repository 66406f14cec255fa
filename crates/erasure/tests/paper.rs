//! GP 0.7.2 Appendix H worked from its own text, independently of `reed-solomon-simd`: field
//! arithmetic in the polynomial basis of `x^16 + x^5 + x^3 + x^2 + 1`, words and validator indices
//! read through the paper's Cantor basis table (§H.2), and plain Lagrange interpolation through the
//! data points `0̃ ..` evaluated at the remaining points (§H.3), arranged into chunks by eq.
//! `erasurecoding` (§H.1). It is checked against the vectors, and the crate against it for shapes
//! the vectors do not cover.

use orrery_erasure::ErasureCoder;
use proptest::prelude::*;

/// The reduction polynomial `x^16 + x^5 + x^3 + x^2 + 1`, without its `x^16` term.
const POLY_LOW: u32 = (1 << 5) | (1 << 3) | (1 << 2) | 1;

/// The paper's Cantor basis `v_0 .. v_15`, each as the powers of the generator `α` it sums (§H.2).
const CANTOR_BASIS: [&[u32]; 16] = [
    &[0],
    &[15, 13, 11, 10, 7, 6, 3, 1],
    &[13, 12, 11, 10, 3, 2, 1],
    &[12, 10, 9, 5, 4, 3, 2, 1],
    &[15, 14, 10, 8, 7, 1],
    &[15, 14, 13, 11, 10, 8, 5, 3, 2, 1],
    &[15, 12, 8, 6, 3, 2],
    &[14, 4, 1],
    &[14, 13, 11, 10, 7, 4, 3],
    &[12, 7, 6, 4, 3],
    &[14, 13, 11, 9, 6, 5, 4, 1],
    &[15, 13, 12, 11, 8],
    &[15, 14, 13, 12, 11, 10, 8, 7, 5, 4, 3],
    &[15, 14, 13, 12, 11, 9, 8, 5, 4, 2],
    &[15, 14, 13, 12, 11, 10, 9, 8, 5, 4, 3],
    &[15, 12, 11, 8, 4, 3, 2, 1],
];

/// GF(2^16) in the polynomial basis, with exp/log tables over the generator `α` and the map between
/// 16-bit words read in the Cantor basis and field elements.
struct Field {
    exp: Vec<u16>,
    log: Vec<u32>,
    from_word: Vec<u16>,
    to_word: Vec<u16>,
}

impl Field {
    fn get() -> &'static Field {
        static FIELD: std::sync::OnceLock<Field> = std::sync::OnceLock::new();
        FIELD.get_or_init(Field::new)
    }

    fn new() -> Self {
        let mut exp = vec![0u16; 65535];
        let mut log = vec![u32::MAX; 65536];
        let mut x: u32 = 1;
        for (i, slot) in exp.iter_mut().enumerate() {
            assert_eq!(log[x as usize], u32::MAX, "α must generate the multiplicative group");
            *slot = x as u16;
            log[x as usize] = i as u32;
            x <<= 1;
            if x & 0x1_0000 != 0 {
                x = (x & 0xffff) ^ POLY_LOW;
            }
        }
        let basis: Vec<u16> =
            CANTOR_BASIS.iter().map(|powers| powers.iter().fold(0u16, |acc, &p| acc | (1 << p))).collect();
        // m̃ = Σ m_j v_j over the bits of m (§H.2); linear, so the whole table follows from the basis.
        let from_word: Vec<u16> = (0..=u16::MAX)
            .map(|m| (0..16).filter(|j| m >> j & 1 == 1).fold(0u16, |acc, j| acc ^ basis[j]))
            .collect();
        let mut to_word = vec![0u16; 65536];
        let mut hit = vec![false; 65536];
        for (m, &e) in from_word.iter().enumerate() {
            assert!(!hit[e as usize], "the Cantor basis must be a basis");
            hit[e as usize] = true;
            to_word[e as usize] = m as u16;
        }
        Self { exp, log, from_word, to_word }
    }

    fn mul(&self, a: u16, b: u16) -> u16 {
        if a == 0 || b == 0 {
            return 0;
        }
        self.exp[((self.log[a as usize] + self.log[b as usize]) % 65535) as usize]
    }

    fn div(&self, a: u16, b: u16) -> u16 {
        assert_ne!(b, 0, "division by zero");
        if a == 0 {
            return 0;
        }
        self.exp[((self.log[a as usize] + 65535 - self.log[b as usize]) % 65535) as usize]
    }
}

/// Where a code's words sit: the data at points `0̃ .. ñ`, zeros at `ñ .. m̃` (so the polynomial has
/// degree below `m`), and recovery word `j` at point `(m + j)~`. The paper's text is `m = n`.
#[derive(Clone, Copy)]
struct Points {
    data: usize,
    zeros_to: usize,
}

impl Points {
    /// §H.3 as written: degree below `n`, recovery at `n̄ .. total`.
    fn paper(n: usize) -> Self {
        Self { data: n, zeros_to: n }
    }
    /// What the vectors hold (see `vectors_pad_to_a_power_of_two`).
    fn vectors(n: usize) -> Self {
        Self { data: n, zeros_to: n.next_power_of_two() }
    }
}

/// A code worked out by Lagrange interpolation over the points of [`Points`].
struct Code {
    n: usize,
    total: usize,
    /// `coefficients[r][i]`: the Lagrange basis polynomial of data point `i` (over the points
    /// `0̃ .. m̃`) at recovery point `(m + r)~`, so that recovery word `r` is `Σ_i c[r][i] · m̃_i`.
    coefficients: Vec<Vec<u16>>,
}

impl Code {
    fn new(field: &Field, points: Points, total: usize) -> Self {
        let (n, m) = (points.data, points.zeros_to);
        // Validator i's word is the polynomial at ĩ = Σ i_j v_j (§H.2). Subtraction is XOR.
        let point = |i: usize| field.from_word[i];
        // ℓ_i(x) = Π_{j≠i} (x − x_j)/(x_i − x_j) = L(x) · w_i / (x − x_i), with L(x) = Π_j (x − x_j)
        // and w_i = 1 / Π_{j≠i} (x_i − x_j), over j < m. Points n..m carry zero, so only i < n matter.
        let weights: Vec<u16> = (0..n)
            .map(|i| {
                let product =
                    (0..m).filter(|&j| j != i).fold(1u16, |acc, j| field.mul(acc, point(i) ^ point(j)));
                field.div(1, product)
            })
            .collect();
        let coefficients = (0..total - n)
            .map(|r| {
                let x = point(m + r);
                let whole = (0..m).fold(1u16, |acc, j| field.mul(acc, x ^ point(j)));
                (0..n).map(|i| field.mul(field.div(whole, x ^ point(i)), weights[i])).collect()
            })
            .collect();
        Self { n, total, coefficients }
    }

    /// `C_k` of eq. `erasurecoding`: `data` is `k` pieces of `2n` bytes.
    fn encode(&self, field: &Field, data: &[u8]) -> Vec<Vec<u8>> {
        let n = self.n;
        assert_eq!(data.len() % (2 * n), 0);
        let k = data.len() / (2 * n);
        // split_2k gives n slices; word p of slice i is message word i of row p; chunk c is word c of
        // every row, in row order.
        let mut chunks = vec![vec![0u8; 2 * k]; self.total];
        for p in 0..k {
            let message: Vec<u16> = (0..n)
                .map(|i| u16::from_le_bytes([data[2 * k * i + 2 * p], data[2 * k * i + 2 * p + 1]]))
                .collect();
            for (i, &word) in message.iter().enumerate() {
                chunks[i][2 * p..2 * p + 2].copy_from_slice(&word.to_le_bytes());
            }
            for (r, row) in self.coefficients.iter().enumerate() {
                let value = row
                    .iter()
                    .zip(&message)
                    .fold(0u16, |acc, (&c, &m)| acc ^ field.mul(c, field.from_word[m as usize]));
                chunks[n + r][2 * p..2 * p + 2].copy_from_slice(&field.to_word[value as usize].to_le_bytes());
            }
        }
        chunks
    }
}

fn hex(value: &serde_json::Value) -> Vec<u8> {
    hex::decode(value.as_str().expect("hex string").trim_start_matches("0x")).expect("valid hex")
}

/// One vector, its data zero-padded to whole pieces as for a bundle.
struct VectorCase {
    spec: &'static str,
    size: usize,
    n: usize,
    total: usize,
    data: Vec<u8>,
    shards: Vec<Vec<u8>>,
}

fn vector_cases() -> Vec<VectorCase> {
    let root = orrery_testkit::vectors().join("erasure");
    let mut cases = Vec::new();
    for (spec, n, total) in [("tiny", 2, 6), ("full", 342, 1023)] {
        for size in [3, 32, 100, 4096, 4104, 10000] {
            let path = root.join(spec).join(format!("ec-{size}.json"));
            let json: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).expect("read vector")).expect("vector JSON");
            let mut data = hex(&json["data"]);
            data.resize(data.len().div_ceil(2 * n) * 2 * n, 0);
            let shards: Vec<Vec<u8>> = json["shards"].as_array().expect("shards").iter().map(hex).collect();
            cases.push(VectorCase { spec, size, n, total, data, shards });
        }
    }
    assert_eq!(cases.len(), 12);
    cases
}

/// Every vector is the polynomial of degree below `n.next_power_of_two()` through the data at
/// `0̃ .. ñ` and zero up to the power of two, evaluated from that power of two on: what
/// `reed-solomon-simd`'s low-rate FFT computes.
#[test]
fn vectors_pad_to_a_power_of_two() {
    let field = Field::get();
    let codes = [Code::new(field, Points::vectors(2), 6), Code::new(field, Points::vectors(342), 1023)];
    for VectorCase { spec, size, n, data, shards, .. } in vector_cases() {
        let code = codes.iter().find(|c| c.n == n).expect("code for the spec");
        assert_eq!(code.encode(field, &data), shards, "{spec}/ec-{size}");
    }
}

/// §H.3 as written (degree below `n`, recovery from `ñ` on) gives the `tiny` vectors, where `n = 2`
/// is already a power of two, but not the `full` ones: there the vectors, which win, differ from the
/// text in every recovery chunk.
#[test]
fn paper_text_matches_tiny_but_not_full() {
    let field = Field::get();
    let codes = [Code::new(field, Points::paper(2), 6), Code::new(field, Points::paper(342), 1023)];
    for VectorCase { spec, size, n, total, data, shards } in vector_cases() {
        let code = codes.iter().find(|c| c.n == n).expect("code for the spec");
        let paper = code.encode(field, &data);
        assert_eq!(paper[..n], shards[..n], "{spec}/ec-{size}: data chunks are the data either way");
        if spec == "tiny" {
            assert_eq!(paper, shards, "{spec}/ec-{size}");
        } else {
            let differing = (n..total).filter(|&i| paper[i] != shards[i]).count();
            // Zero data codes to zero either way; every vector has non-zero data.
            assert_eq!(differing, total - n, "{spec}/ec-{size}: recovery chunks that differ from the text");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The crate computes the vectors' construction for other shapes too: data shard counts that
    /// are and are not powers of two, more data than recovery shards, and chunks that straddle the
    /// library's 64-byte blocks.
    #[test]
    fn crate_matches_interpolation_for_other_shapes(
        (n, total) in prop_oneof![
            Just((2usize, 6usize)), Just((3, 7)), Just((3, 10)), Just((10, 12)), Just((16, 48)),
            Just((33, 40)), Just((100, 300)),
        ],
        pieces in 0usize..80,
        seed in any::<u64>(),
    ) {
        let data: Vec<u8> = (0..pieces * 2 * n)
            .map(|i| (seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(i as u32 % 64) ^ i as u64) as u8)
            .collect();
        let coder = ErasureCoder::new(n, total).expect("supported shape");
        let chunks = coder.encode_pieces(&data).expect("encode");
        let code = Code::new(Field::get(), Points::vectors(n), total);
        prop_assert_eq!(chunks.to_vecs(), code.encode(Field::get(), &data));
    }
}
