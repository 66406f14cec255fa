//! Round trips under random erasures, and a clear error (never a panic) for every kind of bad input.

use orrery_erasure::{ErasureCoder, Error};
use orrery_types::constants::SEGMENT_SIZE;
use orrery_types::ChainSpec;
use proptest::prelude::*;
use proptest::sample::subsequence;

fn tiny() -> ErasureCoder {
    ErasureCoder::for_spec(&ChainSpec::tiny()).expect("tiny code")
}

fn full() -> ErasureCoder {
    ErasureCoder::for_spec(&ChainSpec::full()).expect("full code")
}

/// A code, a blob, and the indices of the chunks that survive: between `data_shards` and all of
/// them, in random order.
fn scenario() -> impl Strategy<Value = (ErasureCoder, Vec<u8>, Vec<usize>)> {
    let coders = prop_oneof![
        Just(tiny()),
        Just(full()),
        Just(ErasureCoder::new(3, 10).expect("3 of 10")),
        Just(ErasureCoder::new(10, 12).expect("10 of 12")),
    ];
    coders.prop_flat_map(|coder| {
        let all: Vec<usize> = (0..coder.total_shards()).collect();
        (
            Just(coder),
            prop::collection::vec(any::<u8>(), 0..3000),
            subsequence(all, coder.data_shards()..=coder.total_shards()).prop_shuffle(),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_sufficient_subset_reconstructs((coder, data, kept) in scenario()) {
        let chunks = coder.encode(&data).expect("encode");
        prop_assert_eq!(chunks.len(), coder.total_shards());
        prop_assert_eq!(chunks.chunk_len(), coder.chunk_len(data.len()));
        // Systematic: the data chunks are the zero-padded data.
        let mut padded = data.clone();
        padded.resize(coder.data_shards() * chunks.chunk_len(), 0);
        prop_assert_eq!(&chunks.as_bytes()[..padded.len()], &padded[..]);

        let given = || kept.iter().map(|&i| (i, &chunks[i]));
        prop_assert_eq!(coder.reconstruct(given(), data.len()).expect("reconstruct"), data);
        prop_assert_eq!(coder.recover(given()).expect("recover"), padded);
    }

    #[test]
    fn one_chunk_short_is_an_error((coder, data, kept) in scenario()) {
        let chunks = coder.encode(&data).expect("encode");
        let short = &kept[..coder.data_shards() - 1];
        let result = coder.reconstruct(short.iter().map(|&i| (i, &chunks[i])), data.len());
        prop_assert_eq!(result, Err(Error::TooFewChunks { got: coder.data_shards() - 1, need: coder.data_shards() }));
    }

    /// Whatever arrives from the network, the answer is a value or an error.
    #[test]
    fn arbitrary_chunks_never_panic(
        full_code in any::<bool>(),
        chunks in prop::collection::vec((0usize..1100, prop::collection::vec(any::<u8>(), 0..8)), 0..400),
        len in 0usize..5000,
    ) {
        let coder = if full_code { full() } else { tiny() };
        let _ = coder.recover(chunks.iter().map(|(i, c)| (*i, c)));
        if let Ok(data) = coder.reconstruct(chunks.iter().map(|(i, c)| (*i, c)), len) {
            prop_assert_eq!(data.len(), len);
        }
    }

    /// Enough distinct, well-sized chunks always decode, whatever their contents: any such set is
    /// consistent with exactly one codeword.
    #[test]
    fn arbitrary_well_formed_chunks_decode(
        chunks in prop::collection::btree_map(0usize..1023, prop::collection::vec(any::<u8>(), 6), 342..500),
    ) {
        let data = full().recover(chunks.iter().map(|(i, c)| (*i, c))).expect("recover");
        prop_assert_eq!(data.len(), 3 * 684);
    }
}

#[test]
fn segments_round_trip() {
    let segment: Box<[u8; SEGMENT_SIZE]> =
        Box::new(std::array::from_fn(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[2]));
    for coder in [tiny(), full()] {
        let chunks = coder.encode_segment(&segment).expect("encode");
        // W_P = W_G / W_E words per chunk: 6 in full (C_6), 1,026 in tiny.
        assert_eq!(chunks.chunk_len(), 2 * SEGMENT_SIZE / coder.piece_size());
        let last = coder.total_shards() - coder.data_shards()..coder.total_shards();
        let back = coder.reconstruct_segment(last.map(|i| (i, &chunks[i]))).expect("reconstruct");
        assert_eq!(back, segment);
    }
}

#[test]
fn empty_data_gives_empty_chunks() {
    let coder = full();
    let chunks = coder.encode(&[]).expect("encode");
    assert_eq!(chunks.len(), 1023);
    assert!(chunks.iter().all(<[u8]>::is_empty));
    let back = coder.reconstruct((0..342).map(|i| (i + 681, &chunks[i])), 0).expect("reconstruct");
    assert!(back.is_empty());
}

#[test]
fn bad_chunk_sets_are_errors() {
    let coder = tiny();
    let data = b"seven b";
    let chunks = coder.encode(data).expect("encode");
    assert_eq!(chunks.chunk_len(), 4);
    let c = |i: usize| chunks[i].to_vec();

    assert_eq!(coder.reconstruct([(2, c(2))], 7), Err(Error::TooFewChunks { got: 1, need: 2 }));
    assert_eq!(
        coder.reconstruct(Vec::<(usize, Vec<u8>)>::new(), 7),
        Err(Error::TooFewChunks { got: 0, need: 2 })
    );
    assert_eq!(coder.reconstruct([(3, c(3)), (3, c(3))], 7), Err(Error::DuplicateIndex { index: 3 }));
    assert_eq!(
        coder.reconstruct([(1, c(1)), (6, c(5))], 7),
        Err(Error::IndexOutOfRange { index: 6, total: 6 })
    );
    assert_eq!(
        coder.reconstruct([(1, c(1)), (4, c(4)[..2].to_vec())], 7),
        Err(Error::ChunkSize { index: 4, got: 2, expected: 4 })
    );
    // The length says 2-byte chunks, the chunks are 4 bytes.
    assert_eq!(
        coder.reconstruct([(1, c(1)), (4, c(4))], 3),
        Err(Error::ChunkSize { index: 1, got: 4, expected: 2 })
    );
    assert_eq!(
        coder.recover([(0, vec![1, 2, 3]), (5, vec![4, 5, 6])]),
        Err(Error::OddChunkSize { index: 0, got: 3 })
    );
    assert_eq!(
        coder.recover([(0, c(0)), (5, c(5)[..3].to_vec())]),
        Err(Error::ChunkSize { index: 5, got: 3, expected: 4 })
    );
    // Chunks of 8 bytes, which is 5 or 6 bytes of data, but the last data byte is not zero.
    assert_eq!(coder.reconstruct([(0, c(0)), (1, c(1))], 6), Err(Error::NonZeroPadding { len: 6 }));
}

#[test]
fn bad_shapes_and_lengths_are_errors() {
    for (data, total) in [(0, 5), (3, 3), (4, 2), (40_000, 70_000), (33_000, 65_537)] {
        assert_eq!(ErasureCoder::new(data, total), Err(Error::UnsupportedShardCounts { data, total }));
    }
    assert_eq!(full().encode_pieces(&[0; 100]), Err(Error::UnalignedData { len: 100, piece: 684 }));
    assert!(full().encode_pieces(&[0; 1368]).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Reused buffers and workspaces, holding whatever the previous blob left, give the same chunks
    /// and data as fresh calls.
    #[test]
    fn reuse_matches_fresh_calls(
        blobs in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..6000), 1..6),
        full_code in any::<bool>(),
    ) {
        let coder = if full_code { full() } else { tiny() };
        let mut workspace = orrery_erasure::Workspace::new();
        let mut chunks = orrery_erasure::Chunks::default();
        let mut data = Vec::new();
        for blob in blobs {
            coder.encode_into(&mut workspace, &blob, &mut chunks).expect("encode_into");
            prop_assert_eq!(&chunks, &coder.encode(&blob).expect("encode"));
            let last = coder.total_shards() - coder.data_shards()..coder.total_shards();
            coder
                .reconstruct_into(&mut workspace, last.map(|i| (i, &chunks[i])), blob.len(), &mut data)
                .expect("reconstruct_into");
            prop_assert_eq!(&data, &blob);
        }
    }
}
