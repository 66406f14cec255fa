use std::collections::BTreeMap;

use proptest::prelude::*;

use crate::{
    decode_exact, natural, BitVec, Compact, Decode, Decoder, Describe, Encode, Error, Lengths, Value,
};

const TINY: Lengths = Lengths::new(6, 2, 12);

#[test]
fn natural_boundaries_match_the_paper() {
    // Hand-derived from the paper's formula: l is the smallest with x < 2^(7(l+1)).
    let cases: &[(u64, &[u8])] = &[
        (0, &[0x00]),
        (1, &[0x01]),
        (127, &[0x7f]),
        (128, &[0x80, 0x80]),
        (255, &[0x80, 0xff]),
        (0x3fff, &[0xbf, 0xff]),
        (0x4000, &[0xc0, 0x00, 0x40]),
        (0x1f_ffff, &[0xdf, 0xff, 0xff]),
        ((1 << 56) - 1, &[0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        (1 << 56, &[0xff, 0, 0, 0, 0, 0, 0, 0, 0x01]),
        (u64::MAX, &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    ];
    for &(value, bytes) in cases {
        let mut out = Vec::new();
        natural::encode_to(value, &mut out);
        assert_eq!(out, bytes, "encoding {value}");
        assert_eq!(natural::encoded_len(value), bytes.len());
        assert_eq!(natural::decode(bytes), Ok((value, bytes.len())), "decoding {value}");
    }
}

#[test]
fn non_canonical_naturals_are_rejected() {
    // 5 written with one extra byte, and 127 written with the 8-byte form.
    assert_eq!(natural::decode(&[0x80, 0x05]), Err(Error::NonCanonicalNatural));
    assert_eq!(natural::decode(&[0xff, 127, 0, 0, 0, 0, 0, 0, 0]), Err(Error::NonCanonicalNatural));
    assert_eq!(natural::decode(&[0xc0, 0xff, 0x3f]), Err(Error::NonCanonicalNatural));
}

#[test]
fn truncated_input_is_an_error() {
    assert!(matches!(natural::decode(&[]), Err(Error::UnexpectedEnd { .. })));
    assert!(matches!(natural::decode(&[0xc0, 0x00]), Err(Error::UnexpectedEnd { .. })));
    assert!(matches!(u32::decode_all(&[1, 2, 3]), Err(Error::UnexpectedEnd { .. })));
}

#[test]
fn lengths_beyond_the_input_are_rejected_before_allocating() {
    // A claimed length of 2^62 elements with nothing behind it.
    let bytes = [0xff, 0, 0, 0, 0, 0, 0, 0, 0x40];
    assert!(matches!(Vec::<u64>::decode_all(&bytes), Err(Error::LengthTooLarge { .. })));
    assert!(matches!(BitVec::decode_all(&bytes), Err(Error::LengthTooLarge { .. })));
}

#[test]
fn trailing_bytes_are_rejected_by_exact_decodes() {
    assert_eq!(u16::decode_all(&[1, 0, 9]), Err(Error::TrailingBytes(1)));
    let mut d = Decoder::without_lengths(&[1, 0, 9]);
    assert_eq!(u16::decode(&mut d), Ok(1));
    assert_eq!(d.remaining(), 1);
}

#[test]
fn fixed_integers_are_little_endian() {
    assert_eq!(0x0102_0304u32.encode(), [4, 3, 2, 1]);
    assert_eq!(0x0102u16.encode(), [2, 1]);
    assert_eq!(u64::decode_all(&[8, 7, 6, 5, 4, 3, 2, 1]), Ok(0x0102_0304_0506_0708));
}

#[test]
fn sequences_options_and_dictionaries() {
    assert_eq!(vec![1u8, 2, 3].encode(), [3, 1, 2, 3]);
    assert_eq!([1u8, 2, 3].encode(), [1, 2, 3]);
    assert_eq!(vec![0x0102u16].encode(), [1, 2, 1]);
    assert_eq!(Some(7u8).encode(), [1, 7]);
    assert_eq!(None::<u8>.encode(), [0]);
    assert!(matches!(Option::<u8>::decode_all(&[2, 7]), Err(Error::InvalidDiscriminator { .. })));

    let map = BTreeMap::from([(2u32, 20u8), (1u32, 10u8)]);
    let bytes = map.encode();
    assert_eq!(bytes, [2, 1, 0, 0, 0, 10, 2, 0, 0, 0, 20]);
    assert_eq!(BTreeMap::<u32, u8>::decode_all(&bytes), Ok(map));
    // The same pairs out of order, and a duplicated key.
    assert_eq!(
        BTreeMap::<u32, u8>::decode_all(&[2, 2, 0, 0, 0, 20, 1, 0, 0, 0, 10]),
        Err(Error::UnsortedKeys)
    );
    assert_eq!(
        BTreeMap::<u32, u8>::decode_all(&[2, 1, 0, 0, 0, 10, 1, 0, 0, 0, 10]),
        Err(Error::UnsortedKeys)
    );
}

#[test]
fn bit_sequences_pack_least_significant_first() {
    let bits = BitVec::from_bools([true, false, true, true, false, false, false, false, true]);
    assert_eq!(bits.encode(), [9, 0b0000_1101, 0b0000_0001]);
    assert_eq!(BitVec::decode_all(&[9, 0b0000_1101, 0b0000_0001]), Ok(bits.clone()));
    assert_eq!(BitVec::decode_all(&[9, 0b0000_1101, 0b0000_0011]), Err(Error::NonZeroPadding));
    assert_eq!(bits.count_ones(), 4);
}

#[derive(Debug, Clone, PartialEq, crate::Encode, crate::Decode, crate::Describe)]
#[allow(dead_code)]
struct Sample {
    slot: u32,
    #[codec(compact)]
    gas: u64,
    #[codec(len = validators_count)]
    keys: Vec<[u8; 2]>,
    #[codec(bits = cores_count)]
    cores: BitVec,
    #[codec(name = "payload")]
    data: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, crate::Encode, crate::Decode, crate::Describe)]
enum Outcome {
    Ok(Vec<u8>),
    OutOfGas,
    #[codec(index = 5)]
    Bad {
        #[codec(compact)]
        code: u32,
    },
}

#[test]
fn derived_structs_follow_declaration_order_and_attributes() {
    let sample = Sample {
        slot: 1,
        gas: 300,
        keys: vec![[1, 1], [2, 2], [3, 3], [4, 4], [5, 5], [6, 6]],
        cores: BitVec::from_bools([false, true]),
        data: vec![0xaa],
    };
    let bytes = sample.encode();
    let mut expected = vec![1, 0, 0, 0, 0x81, 0x2c];
    expected.extend([1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]);
    expected.extend([0b10, 1, 0xaa]);
    assert_eq!(bytes, expected);
    assert_eq!(decode_exact::<Sample>(&bytes, TINY), Ok(sample.clone()));
    assert_eq!(Sample::decode_all(&bytes), Err(Error::MissingLengths("Sample.keys")));
    let Value::Map(fields) = sample.describe() else { panic!("a struct describes as a map") };
    let names: Vec<_> = fields.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["slot", "gas", "keys", "cores", "payload"]);
    assert_eq!(fields[4].1, Value::Bytes(vec![0xaa]));
}

#[test]
fn derived_enums_use_natural_discriminators() {
    assert_eq!(Outcome::Ok(vec![9]).encode(), [0, 1, 9]);
    assert_eq!(Outcome::OutOfGas.encode(), [1]);
    assert_eq!(Outcome::Bad { code: 200 }.encode(), [5, 0x80, 200]);
    assert_eq!(Outcome::decode_all(&[5, 0x80, 200]), Ok(Outcome::Bad { code: 200 }));
    assert!(matches!(Outcome::decode_all(&[2]), Err(Error::InvalidDiscriminator { value: 2, .. })));
    assert_eq!(Outcome::OutOfGas.describe(), Value::variant("out_of_gas", Value::Null));
}

#[test]
fn compact_wrapper_checks_the_target_width() {
    assert_eq!(Compact(300u32).encode(), [0x81, 0x2c]);
    assert!(matches!(Compact::<u8>::decode_all(&[0x81, 0x2c]), Err(Error::NaturalOverflow { .. })));
}

proptest! {
    #[test]
    fn natural_roundtrip(x in any::<u64>()) {
        let mut out = Vec::new();
        natural::encode_to(x, &mut out);
        prop_assert_eq!(natural::decode(&out), Ok((x, out.len())));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode_exact::<Sample>(&bytes, TINY);
        let _ = Outcome::decode_all(&bytes);
        let _ = BTreeMap::<u32, Vec<u8>>::decode_all(&bytes);
        let _ = natural::decode(&bytes);
    }

    #[test]
    fn decoded_values_reencode_to_the_same_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(value) = decode_exact::<Sample>(&bytes, TINY) {
            prop_assert_eq!(value.encode(), bytes);
        }
    }
}
