//! Moving chunks between the paper's byte order and the order `reed-solomon-simd` reads.
//!
//! GP 0.7.2 §H reads a chunk as consecutive little-endian words: bytes `2j` and `2j + 1` are the low and
//! high halves of word `j`. `reed-solomon-simd` instead reads each 64-byte block of a shard as the 32 low
//! bytes of words `32c .. 32c + 32` followed by their 32 high bytes, and a final partial block of `m`
//! words as `m` low bytes followed by `m` high bytes. The code works word position by word position, so
//! mapping word `j` of the paper's chunk to word `j` of the library's shard, the same way in every
//! chunk, makes one library call code every word of the chunk at once.

const BLOCK: usize = 64;
const HALF: usize = BLOCK / 2;

/// Writes `paper` (the paper's order) into `shard` (the library's order). Both have the same even length.
#[inline]
pub(crate) fn to_library(paper: &[u8], shard: &mut [u8]) {
    debug_assert_eq!(paper.len(), shard.len());
    debug_assert_eq!(paper.len() % 2, 0);
    if paper.len() < BLOCK {
        return tail_to_library(paper, shard);
    }
    let whole = paper.len() / BLOCK * BLOCK;
    let (paper_blocks, paper_tail) = paper.split_at(whole);
    let (shard_blocks, shard_tail) = shard.split_at_mut(whole);
    for (src, dst) in paper_blocks.chunks_exact(BLOCK).zip(shard_blocks.chunks_exact_mut(BLOCK)) {
        block_to_library(src, dst);
    }
    tail_to_library(paper_tail, shard_tail);
}

/// One whole 64-byte block: 32 words become 32 low bytes, then 32 high bytes.
#[inline(always)]
fn block_to_library(src: &[u8], dst: &mut [u8]) {
    // Going through whole words and truncating lets the compiler use packing instructions; a byte
    // gather with stride two stays scalar and is several times slower.
    let mut words = [0u16; HALF];
    for (word, pair) in words.iter_mut().zip(src.chunks_exact(2)) {
        *word = u16::from_le_bytes([pair[0], pair[1]]);
    }
    let mut block = [0u8; BLOCK];
    for (t, &word) in words.iter().enumerate() {
        block[t] = word as u8;
        block[HALF + t] = (word >> 8) as u8;
    }
    dst.copy_from_slice(&block);
}

/// [`to_library`] that also copies `paper` into `copy` in the same pass, so that encoding reads the
/// data once for both the output chunk and the coder's shard.
#[inline]
pub(crate) fn to_library_copying(paper: &[u8], shard: &mut [u8], copy: &mut [u8]) {
    debug_assert_eq!(paper.len(), copy.len());
    if paper.len() < BLOCK {
        copy.copy_from_slice(paper);
        return tail_to_library(paper, shard);
    }
    let whole = paper.len() / BLOCK * BLOCK;
    let (paper_blocks, paper_tail) = paper.split_at(whole);
    let (shard_blocks, shard_tail) = shard.split_at_mut(whole);
    let (copy_blocks, copy_tail) = copy.split_at_mut(whole);
    for ((src, dst), out) in paper_blocks
        .chunks_exact(BLOCK)
        .zip(shard_blocks.chunks_exact_mut(BLOCK))
        .zip(copy_blocks.chunks_exact_mut(BLOCK))
    {
        out.copy_from_slice(src);
        block_to_library(src, dst);
    }
    copy_tail.copy_from_slice(paper_tail);
    tail_to_library(paper_tail, shard_tail);
}

/// A final partial block: `m` words become `m` low bytes, then `m` high bytes.
#[inline]
fn tail_to_library(paper: &[u8], shard: &mut [u8]) {
    let (lo, hi) = shard.split_at_mut(paper.len() / 2);
    for ((pair, lo), hi) in paper.chunks_exact(2).zip(lo).zip(hi) {
        *lo = pair[0];
        *hi = pair[1];
    }
}

/// Writes `shard` (the library's order) into `paper` (the paper's order): the inverse of [`to_library`].
#[inline]
pub(crate) fn to_paper(shard: &[u8], paper: &mut [u8]) {
    debug_assert_eq!(paper.len(), shard.len());
    debug_assert_eq!(paper.len() % 2, 0);
    if shard.len() < BLOCK {
        return tail_to_paper(shard, paper);
    }
    let whole = shard.len() / BLOCK * BLOCK;
    let (shard_blocks, shard_tail) = shard.split_at(whole);
    let (paper_blocks, paper_tail) = paper.split_at_mut(whole);
    for (src, dst) in shard_blocks.chunks_exact(BLOCK).zip(paper_blocks.chunks_exact_mut(BLOCK)) {
        // Building the block in a local array and storing it once lets the compiler use unpack
        // instructions.
        let src: &[u8; BLOCK] = src.try_into().expect("chunks_exact yields whole blocks");
        let mut block = [0u8; BLOCK];
        for t in 0..HALF {
            block[2 * t] = src[t];
            block[2 * t + 1] = src[HALF + t];
        }
        dst.copy_from_slice(&block);
    }
    tail_to_paper(shard_tail, paper_tail);
}

/// The inverse of [`tail_to_library`].
#[inline]
fn tail_to_paper(shard: &[u8], paper: &mut [u8]) {
    let (lo, hi) = shard.split_at(shard.len() / 2);
    for ((pair, lo), hi) in paper.chunks_exact_mut(2).zip(lo).zip(hi) {
        pair[0] = *lo;
        pair[1] = *hi;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The library's documented order, written out position by position for a shard of `len` bytes:
    /// where the low and high byte of each word live.
    fn library_positions(len: usize) -> Vec<(usize, usize)> {
        let whole = len / BLOCK * BLOCK;
        let tail_words = (len - whole) / 2;
        (0..len / 2)
            .map(|j| {
                if 2 * j < whole {
                    let (block, t) = (j / HALF, j % HALF);
                    (block * BLOCK + t, block * BLOCK + HALF + t)
                } else {
                    let t = j - whole / 2;
                    (whole + t, whole + tail_words + t)
                }
            })
            .collect()
    }

    #[test]
    fn words_land_where_the_library_reads_them() {
        for len in [2, 4, 12, 62, 64, 66, 126, 128, 130, 200, 4104] {
            let paper: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let mut shard = vec![0; len];
            to_library(&paper, &mut shard);
            for (j, (lo, hi)) in library_positions(len).into_iter().enumerate() {
                assert_eq!((shard[lo], shard[hi]), (paper[2 * j], paper[2 * j + 1]), "len {len} word {j}");
            }
            let mut back = vec![0; len];
            to_paper(&shard, &mut back);
            assert_eq!(back, paper, "len {len}");
            let (mut shard_too, mut copy) = (vec![0; len], vec![0; len]);
            to_library_copying(&paper, &mut shard_too, &mut copy);
            assert_eq!((shard_too, copy), (shard, paper), "copying, len {len}");
        }
    }
}
