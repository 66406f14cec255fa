//! Erasure coding for JAM's availability system, as GP 0.7.2 Appendix H defines it and the 0.7.2
//! `erasure` vectors pin down.
//!
//! A systematic Reed-Solomon code over GF(2^16) (field polynomial `x^16 + x^5 + x^3 + x^2 + 1`, words
//! and validator indices read in the paper's Cantor basis, §H.2) turns `n = data_shards` little-endian
//! 16-bit words into `total_shards` words, the data words first. The paper's numbers are 342 of 1,023
//! (`W_E = 684`-byte pieces); the `tiny` network of the vectors uses 2 of 6. Both come from
//! [`orrery_types::ChainSpec`], so one binary serves any spec.
//!
//! Which polynomial: §H.3 interpolates the data at points `0̃ .. ñ` with degree below `n` and evaluates
//! it at `ñ, (n+1)~, …`. The vectors instead use degree below `m = n.next_power_of_two()`, the data at
//! `0̃ .. ñ` and zero at `ñ .. m̃`, evaluated at `m̃, (m+1)~, …` (the construction of Lin, Han and Chung
//! that the paper cites, as `reed-solomon-simd`'s low-rate coder computes it). When `n` is a power of
//! two (`tiny`) the two agree; for `full` (`n = 342`, `m = 512`) every recovery chunk differs, and this
//! crate follows the vectors. `tests/paper.rs` shows both facts by direct interpolation.
//!
//! Data of `k` pieces is coded as `k` independent words per chunk (§H.1, eq. `erasurecoding`): chunk `i`
//! holds word `i` of every piece, so the first `data_shards` chunks are just the data cut into
//! `2k`-byte slices. [`ErasureCoder::encode`] is the bundle-level chunking
//! `C_⌈|b|/W_E⌉(P_W_E(b))` of §14.4 (zero-padding to whole pieces), and [`ErasureCoder::encode_segment`]
//! the per-segment `C_W_P` (`C_6` in `full`). [`ErasureCoder::recover`] is the paper's `R_k` and
//! [`ErasureCoder::reconstruct`] undoes the padding for a known length.
//!
//! The arithmetic is `reed-solomon-simd`'s; this crate maps between the paper's byte layout and the
//! library's (see `layout.rs`), codes all `k` words of a chunk in one library call, and checks its
//! inputs, so that chunks from the network give an [`Error`], never a panic. Callers that code many
//! large blobs pass a [`Workspace`] and output buffer to [`ErasureCoder::encode_into`] and
//! [`ErasureCoder::reconstruct_into`]; for bundles that reuse more than doubles encoding speed
//! (`docs/performance/erasure.md`).

mod layout;

use std::cell::RefCell;
use std::ops::Index;

use orrery_types::constants::SEGMENT_SIZE;
use orrery_types::ChainSpec;
use reed_solomon_simd::engine::DefaultEngine;
use reed_solomon_simd::rate::{LowRateDecoder, LowRateEncoder, RateDecoder, RateEncoder};

type Encoder = LowRateEncoder<DefaultEngine>;
type Decoder = LowRateDecoder<DefaultEngine>;

/// Why coding or recovery failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("unsupported shard counts: {data} data shards of {total} in all")]
    UnsupportedShardCounts { data: usize, total: usize },
    #[error("data of {len} bytes is not a whole number of {piece}-byte pieces")]
    UnalignedData { len: usize, piece: usize },
    #[error("coding {len} bytes into {total} chunks would overflow memory")]
    TooLarge { len: usize, total: usize },
    #[error("too few chunks: got {got}, need {need}")]
    TooFewChunks { got: usize, need: usize },
    #[error("chunk index {index} out of range: there are {total} chunks")]
    IndexOutOfRange { index: usize, total: usize },
    #[error("chunk index {index} given twice")]
    DuplicateIndex { index: usize },
    #[error("chunk {index} has {got} bytes, expected {expected}")]
    ChunkSize { index: usize, got: usize, expected: usize },
    #[error("chunk {index} has {got} bytes, but chunks are whole 2-byte words")]
    OddChunkSize { index: usize, got: usize },
    #[error("recovered data has non-zero bytes in the padding after its {len} bytes")]
    NonZeroPadding { len: usize },
    /// The library refused input this crate had already checked: a bug here, reported rather than
    /// turned into a panic.
    #[error("reed-solomon-simd: {0}")]
    Backend(#[from] reed_solomon_simd::Error),
}

/// The shard counts of one code: any `data_shards` of the `total_shards` chunks recover the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErasureCoder {
    data_shards: usize,
    total_shards: usize,
}

impl ErasureCoder {
    /// A code of `data_shards` out of `total_shards`: `0 < data_shards < total_shards` and
    /// `data_shards.next_power_of_two() + total_shards - data_shards <= 65536`, so that every point
    /// the code uses is a distinct element of the field.
    pub fn new(data_shards: usize, total_shards: usize) -> Result<Self, Error> {
        let unsupported = Error::UnsupportedShardCounts { data: data_shards, total: total_shards };
        if data_shards == 0 || total_shards <= data_shards {
            return Err(unsupported);
        }
        if !Encoder::supports(data_shards, total_shards - data_shards) {
            return Err(unsupported);
        }
        Ok(Self { data_shards, total_shards })
    }

    /// The code of a chain spec: `W_E / 2` data shards and one chunk per validator (GP 0.7.2 §H, I.4.4).
    pub fn for_spec(spec: &ChainSpec) -> Result<Self, Error> {
        Self::new(spec.erasure_data_shards(), usize::from(spec.validators_count))
    }

    /// How many chunks recover the data (342 in `full`).
    pub fn data_shards(&self) -> usize {
        self.data_shards
    }

    /// How many chunks encoding makes (1,023 in `full`).
    pub fn total_shards(&self) -> usize {
        self.total_shards
    }

    /// `W_E`: the bytes of one piece, the unit the data is padded to (684 in `full`).
    pub fn piece_size(&self) -> usize {
        2 * self.data_shards
    }

    /// The size of each chunk for data of `len` bytes once padded to whole pieces: two bytes per piece.
    pub fn chunk_len(&self, len: usize) -> usize {
        2 * len.div_ceil(self.piece_size())
    }

    /// Bundle-level chunking (GP 0.7.2 §14.4): `C_⌈|d|/W_E⌉(P_W_E(d))`, the data zero-padded to whole
    /// pieces and coded into [`total_shards`](Self::total_shards) chunks of [`chunk_len`](Self::chunk_len)
    /// bytes. Empty data gives empty chunks (`k = 0`).
    pub fn encode(&self, data: &[u8]) -> Result<Chunks, Error> {
        let mut out = Chunks::default();
        with_thread_workspace(self.chunk_len(data.len()), |workspace| {
            self.encode_into(workspace, data, &mut out)
        })?;
        Ok(out)
    }

    /// [`encode`](Self::encode) into `out`, reusing its memory and `workspace`'s: for callers that code
    /// many large blobs, where fresh buffers cost nearly as much as the coding. On error `out` holds no
    /// meaningful chunks.
    pub fn encode_into(&self, workspace: &mut Workspace, data: &[u8], out: &mut Chunks) -> Result<(), Error> {
        let chunk_len = self.chunk_len(data.len());
        let too_large = || Error::TooLarge { len: data.len(), total: self.total_shards };
        let size = chunk_len.checked_mul(self.total_shards).ok_or_else(too_large)?;
        if size > isize::MAX as usize {
            return Err(too_large());
        }
        out.chunk_len = chunk_len;
        out.count = self.total_shards;
        reuse_buffer(&mut out.bytes, size);
        if chunk_len == 0 {
            return Ok(());
        }
        let (originals, recovery) = out.bytes.split_at_mut(self.data_shards * chunk_len);
        self.extrapolate(workspace, data, originals, recovery, chunk_len)
    }

    /// `C_k(d)` (GP 0.7.2 eq. `erasurecoding`) for data that is already a whole number `k` of pieces.
    pub fn encode_pieces(&self, data: &[u8]) -> Result<Chunks, Error> {
        if data.len() % self.piece_size() != 0 {
            return Err(Error::UnalignedData { len: data.len(), piece: self.piece_size() });
        }
        self.encode(data)
    }

    /// The chunks of one exported segment: `C_W_P` of GP 0.7.2 §14.4 (`C_6` in `full`). Should a custom
    /// spec's pieces not divide a segment, the segment is zero-padded like a bundle.
    pub fn encode_segment(&self, segment: &[u8; SEGMENT_SIZE]) -> Result<Chunks, Error> {
        self.encode(segment)
    }

    /// `R_k` (GP 0.7.2 eq. `erasurecodinginv`): the `k` pieces (`W_E · k` bytes, padding included) from
    /// at least [`data_shards`](Self::data_shards) distinct chunks given with their indices. All chunks
    /// must have the same even size, and every one given is checked even if fewer would do; of a
    /// sufficient set, data chunks are used first since they need no arithmetic.
    pub fn recover<I, C>(&self, chunks: I) -> Result<Vec<u8>, Error>
    where
        I: IntoIterator<Item = (usize, C)>,
        C: AsRef<[u8]>,
    {
        let mut out = Vec::new();
        self.recover_inner(None, chunks, None, &mut out)?;
        Ok(out)
    }

    /// The original `len` bytes from at least [`data_shards`](Self::data_shards) distinct chunks: the
    /// inverse of [`encode`](Self::encode). Chunks must be [`chunk_len(len)`](Self::chunk_len) bytes, and
    /// the padding after `len` must come back zero, as encoding made it.
    pub fn reconstruct<I, C>(&self, chunks: I, len: usize) -> Result<Vec<u8>, Error>
    where
        I: IntoIterator<Item = (usize, C)>,
        C: AsRef<[u8]>,
    {
        let mut out = Vec::new();
        self.reconstruct_inner(None, chunks, len, &mut out)?;
        Ok(out)
    }

    /// [`reconstruct`](Self::reconstruct) into `out`, reusing its memory and `workspace`'s. On error
    /// `out` holds no meaningful data.
    pub fn reconstruct_into<I, C>(
        &self,
        workspace: &mut Workspace,
        chunks: I,
        len: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), Error>
    where
        I: IntoIterator<Item = (usize, C)>,
        C: AsRef<[u8]>,
    {
        self.reconstruct_inner(Some(workspace), chunks, len, out)
    }

    /// One exported segment from at least [`data_shards`](Self::data_shards) of its chunks.
    pub fn reconstruct_segment<I, C>(&self, chunks: I) -> Result<Box<[u8; SEGMENT_SIZE]>, Error>
    where
        I: IntoIterator<Item = (usize, C)>,
        C: AsRef<[u8]>,
    {
        let data = self.reconstruct(chunks, SEGMENT_SIZE)?;
        let mut segment = Box::new([0u8; SEGMENT_SIZE]);
        segment.copy_from_slice(&data);
        Ok(segment)
    }

    /// Writes the zero-padded `data` into `originals` (`data_shards` chunks: the code is systematic) and
    /// the words extrapolated from it into `recovery` (the other `total_shards - data_shards`), each
    /// chunk `chunk_len` (even, non-zero) bytes.
    fn extrapolate(
        &self,
        workspace: &mut Workspace,
        data: &[u8],
        originals: &mut [u8],
        recovery: &mut [u8],
        chunk_len: usize,
    ) -> Result<(), Error> {
        let recovery_count = self.total_shards - self.data_shards;
        let Workspace { encoder, shard, .. } = workspace;
        let encoder = match encoder {
            Some(encoder) => {
                encoder.reset(self.data_shards, recovery_count, chunk_len)?;
                encoder
            }
            None => encoder.insert(Encoder::new(
                self.data_shards,
                recovery_count,
                chunk_len,
                DefaultEngine::new(),
                None,
            )?),
        };
        shard.resize(chunk_len, 0);
        // Chunk by chunk, so that each is still in cache when it is rearranged for the library.
        for (i, chunk) in originals.chunks_exact_mut(chunk_len).enumerate() {
            let from = (i * chunk_len).min(data.len());
            let to = (from + chunk_len).min(data.len());
            if to - from == chunk_len {
                // A whole chunk of data: read it once for the output chunk and the shard.
                layout::to_library_copying(&data[from..to], shard, chunk);
            } else {
                chunk[..to - from].copy_from_slice(&data[from..to]);
                chunk[to - from..].fill(0);
                layout::to_library(chunk, shard);
            }
            encoder.add_original_shard(&*shard)?;
        }
        let result = encoder.encode()?;
        for (out, shard) in recovery.chunks_exact_mut(chunk_len).zip(result.recovery_iter()) {
            layout::to_paper(shard, out);
        }
        Ok(())
    }

    fn reconstruct_inner<I, C>(
        &self,
        workspace: Option<&mut Workspace>,
        chunks: I,
        len: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), Error>
    where
        I: IntoIterator<Item = (usize, C)>,
        C: AsRef<[u8]>,
    {
        self.recover_inner(workspace, chunks, Some(self.chunk_len(len)), out)?;
        if out[len..].iter().any(|&b| b != 0) {
            return Err(Error::NonZeroPadding { len });
        }
        out.truncate(len);
        Ok(())
    }

    /// [`recover`](Self::recover) into `out`, with the chunk size fixed in advance when the data's
    /// length is known, in `workspace` or else the thread's.
    fn recover_inner<I, C>(
        &self,
        workspace: Option<&mut Workspace>,
        chunks: I,
        expected_len: Option<usize>,
        out: &mut Vec<u8>,
    ) -> Result<(), Error>
    where
        I: IntoIterator<Item = (usize, C)>,
        C: AsRef<[u8]>,
    {
        let chunks: Vec<(usize, C)> = chunks.into_iter().collect();
        let chunk_len = self.check_chunks(&chunks, expected_len)?;
        // Every byte is written below: present data chunks are copied, missing ones restored.
        reuse_buffer(out, self.data_shards * chunk_len);
        if chunk_len == 0 {
            return Ok(());
        }
        let mut have = 0;
        for (index, chunk) in &chunks {
            if *index < self.data_shards {
                out[index * chunk_len..][..chunk_len].copy_from_slice(chunk.as_ref());
                have += 1;
            }
        }
        // All data chunks present: recovery is their concatenation (the paper's first case).
        if have == self.data_shards {
            return Ok(());
        }
        let mut restore = |workspace: &mut Workspace| self.restore(workspace, &chunks, have, chunk_len, out);
        match workspace {
            Some(workspace) => restore(workspace),
            None => with_thread_workspace(chunk_len, restore),
        }
    }

    /// Writes the missing data chunks into `out` from checked `chunks`, of which `have` are data chunks.
    fn restore<C: AsRef<[u8]>>(
        &self,
        workspace: &mut Workspace,
        chunks: &[(usize, C)],
        have: usize,
        chunk_len: usize,
        out: &mut [u8],
    ) -> Result<(), Error> {
        let recovery_count = self.total_shards - self.data_shards;
        let Workspace { decoder, shard, .. } = workspace;
        let decoder = match decoder {
            Some(decoder) => {
                decoder.reset(self.data_shards, recovery_count, chunk_len)?;
                decoder
            }
            None => decoder.insert(Decoder::new(
                self.data_shards,
                recovery_count,
                chunk_len,
                DefaultEngine::new(),
                None,
            )?),
        };
        shard.resize(chunk_len, 0);
        for (index, chunk) in chunks {
            if *index < self.data_shards {
                layout::to_library(chunk.as_ref(), shard);
                decoder.add_original_shard(*index, &*shard)?;
            }
        }
        let recovery = chunks.iter().filter(|(index, _)| *index >= self.data_shards);
        for (index, chunk) in recovery.take(self.data_shards - have) {
            layout::to_library(chunk.as_ref(), shard);
            decoder.add_recovery_shard(index - self.data_shards, &*shard)?;
        }
        let result = decoder.decode()?;
        for (index, shard) in result.restored_original_iter() {
            layout::to_paper(shard, &mut out[index * chunk_len..][..chunk_len]);
        }
        Ok(())
    }

    /// Checks indices, sizes and count before any arithmetic; returns the common chunk size.
    fn check_chunks<C: AsRef<[u8]>>(
        &self,
        chunks: &[(usize, C)],
        expected_len: Option<usize>,
    ) -> Result<usize, Error> {
        let chunk_len = match (expected_len, chunks.first()) {
            (Some(len), _) => len,
            (None, Some((_, first))) => first.as_ref().len(),
            (None, None) => 0,
        };
        let mut seen = vec![false; self.total_shards];
        for (index, chunk) in chunks {
            let index = *index;
            let got = chunk.as_ref().len();
            if index >= self.total_shards {
                return Err(Error::IndexOutOfRange { index, total: self.total_shards });
            }
            if std::mem::replace(&mut seen[index], true) {
                return Err(Error::DuplicateIndex { index });
            }
            if got != chunk_len {
                return Err(Error::ChunkSize { index, got, expected: chunk_len });
            }
            // Words are two bytes: an odd size cannot have come from encoding.
            if got % 2 != 0 {
                return Err(Error::OddChunkSize { index, got });
            }
        }
        if chunks.len() < self.data_shards {
            return Err(Error::TooFewChunks { got: chunks.len(), need: self.data_shards });
        }
        Ok(chunk_len)
    }
}

/// Sizes `buffer` to `len` bytes whose contents the caller will overwrite. Memory already there is kept
/// as it is; a buffer too small is replaced by a fresh zeroed one, which the allocator can hand over
/// without writing it.
fn reuse_buffer(buffer: &mut Vec<u8>, len: usize) {
    if buffer.capacity() < len {
        *buffer = vec![0; len];
    } else {
        buffer.resize(len, 0);
    }
}

/// The coders' working space, kept between calls: building a coder allocates and zeroes all of it,
/// which costs about as much as coding a segment, and for a bundle tens of megabytes. It holds the
/// largest space it has needed until dropped (about 38 MB to encode and 75 MB to reconstruct a 12 MB
/// bundle in `full`).
#[derive(Default)]
pub struct Workspace {
    encoder: Option<Encoder>,
    decoder: Option<Decoder>,
    /// One chunk in the library's layout, on its way in.
    shard: Vec<u8>,
}

impl Workspace {
    pub fn new() -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("encoder", &self.encoder.is_some())
            .field("decoder", &self.decoder.is_some())
            .finish_non_exhaustive()
    }
}

// The calls without a workspace use the thread's for small shards (segments, small blobs), where
// building coders would dominate; a nested call on the same thread, which cannot borrow it, builds
// its own.
thread_local! {
    static THREAD_WORKSPACE: RefCell<Workspace> =
        const { RefCell::new(Workspace { encoder: None, decoder: None, shard: Vec::new() }) };
}

/// The thread's workspace is used only for shards of at most this many bytes, so that it never holds
/// more than about 2 MiB in `full`; larger calls build a workspace and drop it.
const KEEP_SHARD_BYTES: usize = 1024;

fn with_thread_workspace<T>(
    shard_bytes: usize,
    f: impl FnOnce(&mut Workspace) -> Result<T, Error>,
) -> Result<T, Error> {
    if shard_bytes > KEEP_SHARD_BYTES {
        return f(&mut Workspace::new());
    }
    THREAD_WORKSPACE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut workspace) => f(&mut workspace),
        Err(_) => f(&mut Workspace::new()),
    })
}

/// The chunks of one encoding, stored end to end: chunk `i` goes to validator `i`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chunks {
    chunk_len: usize,
    count: usize,
    bytes: Vec<u8>,
}

impl Chunks {
    /// How many chunks (`total_shards`).
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The size of every chunk in bytes.
    pub fn chunk_len(&self) -> usize {
        self.chunk_len
    }

    /// Chunk `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        (index < self.count).then(|| &self.bytes[index * self.chunk_len..][..self.chunk_len])
    }

    /// The chunks in index order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        (0..self.count).map(|i| &self.bytes[i * self.chunk_len..][..self.chunk_len])
    }

    /// All chunks end to end.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The chunks as separate vectors.
    pub fn to_vecs(&self) -> Vec<Vec<u8>> {
        self.iter().map(<[u8]>::to_vec).collect()
    }
}

impl Index<usize> for Chunks {
    type Output = [u8];
    fn index(&self, index: usize) -> &[u8] {
        match self.get(index) {
            Some(chunk) => chunk,
            None => panic!("chunk index {index} out of range: there are {} chunks", self.count),
        }
    }
}
