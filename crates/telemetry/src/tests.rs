//! Encodings checked against bytes worked by hand from JIP-3's text (each test's comment lays
//! them out field by field), round trips of every event kind, and the decoder's refusals.

use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use orrery_codec::Lengths;

use crate::sink::{read_stream, Message, StreamError};
use crate::wire::Rng;
use crate::*;

/// The tiny spec's V, C and E, which is all the decoder takes from the parameters.
fn tiny() -> Lengths {
    Lengths::new(6, 2, 12)
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn rep(byte: &str, n: usize) -> String {
    byte.repeat(n)
}

/// Encodes at `at`, compares with `expected`, decodes back to the same event.
fn check(at: Timestamp, event: Event, expected: &str) {
    let bytes = event.encode(at);
    assert_eq!(bytes, hex(expected), "{}", event.name());
    assert_eq!(decode_event(&bytes, tiny()), Ok((at, event)));
}

const AT0: &str = "0000000000000000";

#[test]
fn disconnected_by_remote() {
    // Timestamp 0x0102030405060708 (E_8, little-endian), discriminator 27 = 0x1b, peer 32 × 0xaa,
    // Option<Connection Side>: 1 (Some) then 1 (Remote), Reason "bye": length 3 then the bytes.
    let expected = format!("0807060504030201 1b {} 01 01 03 627965", rep("aa", 32));
    check(
        0x0102_0304_0506_0708,
        Event::Disconnected {
            peer: [0xaa; 32],
            terminator: Some(ConnectionSide::Remote),
            reason: "bye".into(),
        },
        &expected,
    );
    // With no terminator the option is the single byte 0.
    let expected = format!("{AT0} 1b {} 00 00", rep("aa", 32));
    check(0, Event::Disconnected { peer: [0xaa; 32], terminator: None, reason: String::new() }, &expected);
}

#[test]
fn connecting_out_to_an_ipv4_peer() {
    // Discriminator 24 = 0x18, peer 32 × 0x11, 127.0.0.1 as IPv4-mapped IPv6 (10 zero bytes,
    // ff ff, 7f 00 00 01), port 40000 = 0x9c40 as E_2: 40 9c.
    let expected = format!("0100000000000000 18 {} 00000000000000000000ffff7f000001 409c", rep("11", 32));
    let address: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    check(1, Event::ConnectingOut { peer: [0x11; 32], address }, &expected);
}

#[test]
fn status_with_two_cores() {
    // u32 peers 3, validator peers 2, announcement streams 1, [u8; C=2] guarantees 4 5, u32 shards
    // 6, u64 shard bytes 0x0102, u32 preimages 7, u32 preimage bytes 8.
    let expected =
        format!("{AT0} 0a 03000000 02000000 01000000 0405 06000000 0201000000000000 07000000 08000000");
    check(
        0,
        Event::Status {
            peers: 3,
            validator_peers: 2,
            announcement_streams: 1,
            guarantees_by_core: PerCore(vec![4, 5]),
            shards: 6,
            shards_size: 0x0102,
            preimages: 7,
            preimages_size: 8,
        },
        &expected,
    );
}

#[test]
fn work_package_received_with_its_outline() {
    // 94 = 0x5e; Event ID 5 (E_8); core 1 (E_2); Work-Package Outline: size 100, hash 32 × 01,
    // anchor 32 × 02, lookup anchor slot 9, len++[prerequisite] = 1 then 32 × 03,
    // len++[Work-Item Outline] = 1 then: service 7, payload 4, refine gas 1000 = 0x3e8 (E_8),
    // accumulate gas 2000 = 0x7d0 (E_8), extrinsic bytes 0, len++[Import Spec] = 1 then root
    // 32 × 04 and index 2^15 + 1 = 0x8001 (01 80), exported segments 2 (E_2).
    let expected = format!(
        "{AT0} 5e 0500000000000000 0100 64000000 {} {} 09000000 01 {} 01 07000000 04000000 \
         e803000000000000 d007000000000000 00000000 01 {} 0180 0200",
        rep("01", 32),
        rep("02", 32),
        rep("03", 32),
        rep("04", 32)
    );
    let outline = WorkPackageOutline {
        size: 100,
        hash: [1; 32],
        anchor: [2; 32],
        lookup_anchor_slot: 9,
        prerequisites: vec![[3; 32]],
        items: vec![WorkItemOutline {
            service: 7,
            payload_size: 4,
            refine_gas: 1000,
            accumulate_gas: 2000,
            extrinsic_size: 0,
            imports: vec![ImportSpec { root: [4; 32], index: 0x8001 }],
            exports: 2,
        }],
    };
    check(0, Event::WorkPackageReceived { submission: 5, core: 1, outline }, &expected);
}

#[test]
fn distributing_assurance_bitfield_is_ceil_c_over_8_bytes() {
    // 126 = 0x7e; anchor 32 × 09; two cores: one byte, core 1 available = 0b10.
    let expected = format!("{AT0} 7e {} 02", rep("09", 32));
    let event = Event::DistributingAssurance { anchor: [9; 32], bitfield: CoreBits(vec![0b10]) };
    assert!(event.show().ends_with("bitfield=01000000"), "{}", event.show());
    check(0, event, &expected);
}

#[test]
fn ticket_transferred() {
    // 84 = 0x54; peer 32 × 07; sender Local = 0; CE 132 used = 1; epoch 3 (E_4); attempt 1 (one
    // byte); VRF output 32 × 08.
    let expected = format!("{AT0} 54 {} 00 01 03000000 01 {}", rep("07", 32), rep("08", 32));
    check(
        0,
        Event::TicketTransferred {
            peer: [7; 32],
            sender: ConnectionSide::Local,
            ce132: true,
            epoch: 3,
            attempt: 1,
            output: [8; 32],
        },
        &expected,
    );
}

#[test]
fn guarantee_discarded() {
    // 113 = 0x71; Guarantee Outline: report 32 × 05, slot 10, len++[Validator Index] = 2 then 1 and
    // 2 (E_2 each); reason 3 (too many guarantees, one byte).
    let expected = format!("{AT0} 71 {} 0a000000 02 0100 0200 03", rep("05", 32));
    let outline = GuaranteeOutline { report: [5; 32], slot: 10, guarantors: vec![1, 2] };
    check(0, Event::GuaranteeDiscarded { outline, reason: GuaranteeDiscardReason::TooMany }, &expected);
}

#[test]
fn preimage_announced() {
    // 191 = 0xbf; peer 32 × 01; announcer Remote = 1; service 16; hash 32 × 02; length 300 = 0x12c.
    let expected = format!("{AT0} bf {} 01 10000000 {} 2c010000", rep("01", 32), rep("02", 32));
    check(
        0,
        Event::PreimageAnnounced {
            peer: [1; 32],
            announcer: ConnectionSide::Remote,
            service: 16,
            hash: [2; 32],
            length: 300,
        },
        &expected,
    );
}

#[test]
fn block_executed_with_one_service() {
    // 47 = 0x2f; Event ID 2; len++ = 1; service 5; Accumulate Cost: 1 call, 0 transfers, 2 items,
    // total (gas 3, 4 ns), compile 5 ns, five zero Exec Costs (16 bytes each), transfer gas 6,
    // other host calls zero.
    let zeros = rep("00", 16);
    let expected = format!(
        "{AT0} 2f 0200000000000000 01 05000000 01000000 00000000 02000000 0300000000000000 \
         0400000000000000 0500000000000000 {zeros}{zeros}{zeros}{zeros}{zeros} 0600000000000000 {zeros}"
    );
    let cost = AccumulateCost {
        calls: 1,
        items: 2,
        total: ExecCost { gas: 3, ns: 4 },
        compile_ns: 5,
        transfer_gas: 6,
        ..AccumulateCost::default()
    };
    check(0, Event::BlockExecuted { started: 2, accumulated: vec![(5, cost)] }, &expected);
}

#[test]
fn sending_segment_shard_request() {
    // 162 = 0xa2; Event ID 1; assurer 32 × 03; CE 140 no = 0; len++ = 1 then import segment ID
    // 0x8001 (a proof page) and shard 5.
    let expected = format!("{AT0} a2 0100000000000000 {} 00 01 0180 0500", rep("03", 32));
    let event = Event::SendingSegmentShardRequest {
        submission: 1,
        assurer: [3; 32],
        ce140: false,
        shards: vec![(0x8001, 5)],
    };
    check(0, event, &expected);
}

#[test]
fn dropped_takes_count_ids() {
    // 0; the last dropped event's time 9; 3 dropped.
    let event = Event::Dropped { last: 9, count: 3 };
    assert_eq!(event.ids_taken(), 3);
    check(5, event, "0500000000000000 00 0900000000000000 0300000000000000");
}

#[test]
fn reason_is_cut_at_a_character_boundary_and_bounded_when_read() {
    // 100 × "é" is 200 bytes; 128 is the bound, a whole number of two-byte characters. The
    // length 128 in the general natural encoding: 2^7 <= 128 < 2^14, so 0x80 + 0 then 0x80.
    let bytes = Event::PeerMisbehaved { peer: [0; 32], reason: "é".repeat(100) }.encode(0);
    assert_eq!(&bytes[41..43], &[0x80, 0x80]);
    assert_eq!(bytes.len(), 43 + 128);
    let (_, back) = decode_event(&bytes, tiny()).unwrap();
    assert_eq!(back, Event::PeerMisbehaved { peer: [0; 32], reason: "é".repeat(64) });
    // 129 bytes claimed and present: refused by the bound, not read.
    let mut long = bytes[..41].to_vec();
    long.extend_from_slice(&[0x80, 0x81]);
    long.extend_from_slice(&[b'a'; 129]);
    assert!(matches!(decode_event(&long, tiny()), Err(DecodeError::Codec { .. })));
    // Not UTF-8.
    let mut bad = bytes[..41].to_vec();
    bad.extend_from_slice(&[1, 0xff]);
    assert!(matches!(decode_event(&bad, tiny()), Err(DecodeError::Codec { .. })));
}

fn parameters() -> Vec<u8> {
    // GP 0.7.2's fetch constants: C = 2 at byte 24 (E_2), E = 12 at 30 (E_4), V = 6 at 92 (E_2).
    let mut p = vec![0u8; PARAMETERS_LEN];
    p[24] = 2;
    p[30] = 12;
    p[92] = 6;
    p
}

fn info() -> NodeInfo {
    NodeInfo {
        parameters: parameters(),
        genesis: [1; 32],
        peer_id: [2; 32],
        address: "[::1]:9000".parse().unwrap(),
        recompiler: true,
        name: "orrery".into(),
        version: "0.1".into(),
        gp_version: "0.7.2".into(),
        note: String::new(),
    }
}

#[test]
fn node_information() {
    // Version 0; the 134 parameter bytes; genesis 32 × 01; peer 32 × 02; ::1 (15 zero bytes, 01)
    // port 9000 = 0x2328; flags 1 (E_4); "orrery", "0.1", "0.7.2" each length-prefixed; empty note.
    let expected = format!(
        "00 {} {} {} {}01 2823 01000000 06 6f72726572 79 03 302e31 05 302e372e32 00",
        hex_of(&parameters()),
        rep("01", 32),
        rep("02", 32),
        rep("00", 15)
    );
    let bytes = info().encode();
    assert_eq!(bytes, hex(&expected));
    let back = NodeInfo::decode(&bytes).unwrap();
    assert_eq!(back, info());
    assert_eq!(back.lengths(), tiny());
    // A later protocol version, a flag the JIP does not define, a byte left over.
    let mut v1 = bytes.clone();
    v1[0] = 1;
    assert_eq!(NodeInfo::decode(&v1), Err(DecodeError::Version(1)));
    let mut flags = bytes.clone();
    flags[1 + PARAMETERS_LEN + 64 + 18] = 3;
    assert_eq!(NodeInfo::decode(&flags), Err(DecodeError::Flags(3)));
    let mut long = bytes.clone();
    long.push(0);
    assert!(NodeInfo::decode(&long).is_err());
    for cut in 0..bytes.len() {
        assert!(NodeInfo::decode(&bytes[..cut]).is_err(), "cut at {cut}");
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn every_event_kind_round_trips_and_every_cut_is_refused() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    assert_eq!(DISCRIMINATORS.len(), 115);
    for &d in DISCRIMINATORS {
        for _ in 0..8 {
            let event = Event::sample(d, &mut r).expect("every listed discriminator has an event");
            assert_eq!(event.discriminator(), d);
            let at = r.draw();
            let bytes = event.encode(at);
            assert_eq!(bytes[8], d);
            assert_eq!(decode_event(&bytes, tiny()), Ok((at, event.clone())), "{}", event.name());
            for cut in 0..bytes.len() {
                assert!(decode_event(&bytes[..cut], tiny()).is_err(), "{} cut at {cut}", event.name());
            }
            let mut long = bytes.clone();
            long.push(0);
            assert!(decode_event(&long, tiny()).is_err(), "{} with a byte more", event.name());
            // Both renderings name the event.
            assert!(event.show().starts_with(event.name()));
            assert!(event.json(0, at).contains(&format!("\"kind\":{d},")));
        }
    }
}

#[test]
fn undefined_values_are_refused() {
    let zero = |d: u8| {
        let mut b = vec![0u8; 8];
        b.push(d);
        b
    };
    for d in [1, 14, 19, 29, 48, 59, 69, 79, 85, 89, 114, 132, 139, 154, 159, 179, 189, 200, 255] {
        assert_eq!(decode_event(&zero(d), tiny()), Err(DecodeError::UnknownEvent(d)));
    }
    // A bool of 2 (sync status changed).
    let mut b = zero(13);
    b.push(2);
    assert!(decode_event(&b, tiny()).is_err());
    // An Option tag of 2 (disconnected's terminator).
    let mut b = zero(27);
    b.extend_from_slice(&[0; 32]);
    b.extend_from_slice(&[2, 0]);
    assert!(decode_event(&b, tiny()).is_err());
    // A connection side of 2 (block announcement stream opened).
    let mut b = zero(60);
    b.extend_from_slice(&[0; 32]);
    b.push(2);
    assert!(decode_event(&b, tiny()).is_err());
    // A sequence claiming more elements than bytes (tickets generated).
    let mut b = zero(82);
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    assert!(decode_event(&b, tiny()).is_err());
}

fn stream(frames: &[Vec<u8>]) -> Vec<u8> {
    frames.iter().flat_map(|f| encode_frame(f)).collect()
}

fn read_all(bytes: &[u8], max_frame: usize) -> (Vec<Message>, Result<(), StreamError>) {
    let mut got = Vec::new();
    let stop = AtomicBool::new(false);
    let result =
        read_stream(&mut &bytes[..], max_frame, Duration::from_secs(1), &stop, |m, _| got.push(m.clone()));
    (got, result)
}

#[test]
fn a_stream_numbers_events_as_the_jip_says() {
    let bytes = stream(&[
        info().encode(),
        Event::SyncStatusChanged { synced: true }.encode(1),
        Event::Dropped { last: 3, count: 4 }.encode(2),
        Event::BestBlockChanged { slot: 7, hash: [7; 32] }.encode(4),
    ]);
    let (got, result) = read_all(&bytes, 1 << 20);
    result.unwrap();
    assert_eq!(got.len(), 4);
    assert_eq!(got[0], Message::Info(info()));
    let ids: Vec<u64> = got[1..]
        .iter()
        .map(|m| match m {
            Message::Event { id, .. } => *id,
            Message::Info(_) => u64::MAX,
        })
        .collect();
    // The dropped event has ID 1 and stands for IDs 1..=4, so the next event is 5.
    assert_eq!(ids, vec![0, 1, 5]);
    let line = crate::sink::line(3, &got[3], false);
    assert!(line.starts_with("[3] #5 ") && line.contains("best block changed slot=7"), "{line}");
    let json = crate::sink::line(3, &got[3], true);
    assert!(json.starts_with("{\"conn\":3,\"id\":5,") && json.contains("\"kind\":11"), "{json}");
}

#[test]
fn a_stream_stops_at_the_first_bad_frame() {
    let good = Event::SyncStatusChanged { synced: false }.encode(0);
    // A frame above the cap: refused before its content is read.
    let (got, result) = read_all(&stream(&[info().encode(), good.clone(), vec![0; 1001]]), 1000);
    assert_eq!(got.len(), 2);
    assert!(matches!(result, Err(StreamError::TooLarge { frame: 2, len: 1001, max: 1000 })), "{result:?}");
    // A length of 4 GiB with nothing behind it: refused by the cap, nothing allocated.
    let mut huge = stream(&[info().encode()]);
    huge.extend_from_slice(&u32::MAX.to_le_bytes());
    let (_, result) = read_all(&huge, 1 << 20);
    assert!(matches!(result, Err(StreamError::TooLarge { frame: 1, .. })));
    // An event with a discriminator the JIP does not define.
    let mut bad = good.clone();
    bad[8] = 14;
    let (got, result) = read_all(&stream(&[info().encode(), bad]), 1 << 20);
    assert_eq!(got.len(), 1);
    assert!(matches!(
        result,
        Err(StreamError::Malformed { frame: 1, source: DecodeError::UnknownEvent(14) })
    ));
    // The first frame is not node information.
    let (got, result) = read_all(&stream(std::slice::from_ref(&good)), 1 << 20);
    assert!(got.is_empty());
    assert!(matches!(result, Err(StreamError::Malformed { frame: 0, .. })));
    // The stream ends inside a frame.
    let whole = stream(&[info().encode(), good]);
    let (_, result) = read_all(&whole[..whole.len() - 1], 1 << 20);
    assert!(matches!(result, Err(StreamError::Truncated { frame: 1 })));
}
