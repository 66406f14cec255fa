//! A ticket's attempt is a natural in the general encoding (GP 0.7.2 appendix C: `E(↕E_T)` and
//! `E(st_id, st_entryindex)` give it no fixed width). Every valid attempt is below `N` (2 or 3) and
//! takes one octet, as in the published vectors; from 128 up it takes two. Expected octets worked
//! by hand from the paper's general natural encoding: for `2^7 ≤ x < 2^14`, the octet
//! `2^8 − 2^7 + ⌊x / 2^8⌋` and then `x mod 2^8`.

use orrery_codec::{decode_exact, Encode};
use orrery_types::{ChainSpec, TicketBody, TicketEnvelope};

fn envelope(attempt: u8) -> TicketEnvelope {
    TicketEnvelope { attempt, signature: [0x11; 784] }
}

#[test]
fn a_valid_attempt_is_one_octet() {
    let bytes = envelope(2).encode();
    assert_eq!(bytes.len(), 1 + 784);
    assert_eq!(bytes[0], 2);
    let body = TicketBody { id: [7; 32], attempt: 1 }.encode();
    assert_eq!(body.len(), 33);
    assert_eq!(body[32], 1);
}

#[test]
fn an_attempt_from_128_up_is_two_octets() {
    // 200 = 0xc8: ⌊200 / 256⌋ = 0, so the octets 0x80, 0xc8.
    let bytes = envelope(200).encode();
    assert_eq!(&bytes[..2], &[0x80, 0xc8]);
    assert_eq!(bytes.len(), 2 + 784);
    // 127 is the largest one-octet natural.
    assert_eq!(envelope(127).encode()[0], 0x7f);
    assert_eq!(&envelope(128).encode()[..2], &[0x80, 0x80]);
    assert_eq!(&envelope(255).encode()[..2], &[0x80, 0xff]);
    let body = TicketBody { id: [7; 32], attempt: 255 }.encode();
    assert_eq!(&body[32..], &[0x80, 0xff]);
}

#[test]
fn two_octet_attempts_decode_back_and_wider_ones_are_refused() {
    let lengths = ChainSpec::tiny().lengths();
    let bytes = envelope(200).encode();
    assert_eq!(decode_exact::<TicketEnvelope>(&bytes, lengths).unwrap(), envelope(200));
    // 256 = 0x100: the octets 0x81, 0x00, a natural but not an attempt (an octet in Orrery).
    let mut wide = vec![0x81, 0x00];
    wide.extend_from_slice(&[0x11; 784]);
    assert!(decode_exact::<TicketEnvelope>(&wide, lengths).is_err());
}
