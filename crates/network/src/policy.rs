//! Connection policy as pure functions (JAMNP-S "Required connectivity", "Epoch transitions", "Grid
//! structure", "CE 131/132"): who dials whom, who announces blocks to whom, when the validator set
//! switches, where a validator listens, and which validator proxies a ticket.

use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};

use crate::identity::PeerKey;

/// The preferred initiator `P(a, b)` of the connection between validators with Ed25519 keys `a` and
/// `b`: `a` when `(a₃₁ > 127) ⊕ (b₃₁ > 127) ⊕ (a < b)`, else `b`.
///
/// The spec writes `a < b` on keys without defining the order. We read it as the lexicographic order of
/// the 32 octets (byte 0 first), the natural order of octet sequences; the XOR with the top bits of
/// the last byte then spreads the role evenly. UNCERTAIN: if another implementation orders keys as
/// little-endian integers, both sides may wait for the other's dial until the timeout (the spec's
/// fallback, see [`FALLBACK_DIAL_DELAY`]), so a disagreement costs time, not connectivity.
pub fn preferred_initiator<'k>(a: &'k PeerKey, b: &'k PeerKey) -> &'k PeerKey {
    if (a[31] > 127) ^ (b[31] > 127) ^ (a < b) {
        a
    } else {
        b
    }
}

/// How long the non-preferred side waits before dialling itself (the spec's "e.g. 5 seconds").
pub const FALLBACK_DIAL_DELAY: std::time::Duration = std::time::Duration::from_secs(5);

/// `W = ⌊√V⌋`, the width of the grid.
pub fn grid_width(validators: u16) -> u16 {
    let v = u32::from(validators);
    let mut w = (f64::from(v)).sqrt() as u32;
    // Correct any floating-point rounding so that w² ≤ V < (w+1)².
    while w * w > v {
        w -= 1;
    }
    while (w + 1) * (w + 1) <= v {
        w += 1;
    }
    w as u16
}

/// Whether validators `a` and `b` of the same epoch (of `validators` in all) are grid neighbours: same
/// row (`index / W`) or same column (`index % W`). A validator is not its own neighbour.
pub fn same_epoch_neighbours(a: u16, b: u16, validators: u16) -> bool {
    let w = grid_width(validators);
    a != b && a < validators && b < validators && w > 0 && (a / w == b / w || a % w == b % w)
}

/// Whether validators of different epochs are grid neighbours: they have the same index.
pub fn cross_epoch_neighbours(a: u16, b: u16) -> bool {
    a == b
}

/// The grid neighbours of `index` in its own epoch, ascending.
pub fn grid_neighbours(index: u16, validators: u16) -> Vec<u16> {
    (0..validators).filter(|&other| same_epoch_neighbours(index, other, validators)).collect()
}

/// `max(⌊E/30⌋, 1)`: slots that must pass after an epoch begins before connectivity changes apply.
pub fn epoch_change_delay(epoch_length: u32) -> u32 {
    (epoch_length / 30).max(1)
}

/// Whether the connectivity (and UP 0) changes of the epoch that began at slot `epoch_start` apply at
/// slot `now`: the epoch's first block is finalized and `max(⌊E/30⌋, 1)` slots have passed.
pub fn epoch_change_applies(
    first_block_finalized: bool,
    epoch_start: u32,
    now: u32,
    epoch_length: u32,
) -> bool {
    first_block_finalized && now.saturating_sub(epoch_start) >= epoch_change_delay(epoch_length)
}

/// The slot offset, after connectivity changes apply, at which tickets go to their proxies (CE 131):
/// `max(⌊E/60⌋, 1)`.
pub fn ticket_send_delay(epoch_length: u32) -> u32 {
    (epoch_length / 60).max(1)
}

/// The slot offset, after connectivity changes apply, at which proxies forward tickets (CE 132):
/// `max(⌊E/20⌋, 1)`.
pub fn ticket_forward_delay(epoch_length: u32) -> u32 {
    (epoch_length / 20).max(1)
}

/// The index, in the next epoch's validator list, of a ticket's proxy: the last 4 bytes of the ticket's
/// VRF output as a big-endian integer, modulo the number of validators. `None` with no validators.
pub fn ticket_proxy_index(vrf_output: &[u8; 32], next_validators: u16) -> Option<u16> {
    let tail = u32::from_be_bytes([vrf_output[28], vrf_output[29], vrf_output[30], vrf_output[31]]);
    (next_validators > 0).then(|| (tail % u32::from(next_validators)) as u16)
}

/// A validator's endpoint from its 128-byte metadata (GP `safrole.tex`): the first 16 bytes are an IPv6
/// address, the next 2 a little-endian port. IPv4-mapped addresses (`::ffff:a.b.c.d`, how
/// implementations publish IPv4) become IPv4 socket addresses. `None` for the unspecified address or
/// port 0: nowhere to dial.
pub fn endpoint_from_metadata(metadata: &[u8; 128]) -> Option<SocketAddr> {
    let mut ip = [0u8; 16];
    ip.copy_from_slice(&metadata[..16]);
    let ip = Ipv6Addr::from(ip);
    let port = u16::from_le_bytes([metadata[16], metadata[17]]);
    if ip.is_unspecified() || port == 0 {
        return None;
    }
    Some(match ip.to_ipv4_mapped() {
        Some(v4) => SocketAddr::new(v4.into(), port),
        None => SocketAddr::V6(SocketAddrV6::new(ip, port, 0, 0)),
    })
}

/// The 128-byte metadata announcing `addr` (IPv4 as IPv4-mapped IPv6), the rest zero.
pub fn metadata_for_endpoint(addr: SocketAddr) -> [u8; 128] {
    let ip = match addr {
        SocketAddr::V4(v4) => v4.ip().to_ipv6_mapped(),
        SocketAddr::V6(v6) => *v6.ip(),
    };
    let mut metadata = [0u8; 128];
    metadata[..16].copy_from_slice(&ip.octets());
    metadata[16..18].copy_from_slice(&addr.port().to_le_bytes());
    metadata
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(first: u8, last: u8) -> PeerKey {
        let mut k = [0u8; 32];
        k[0] = first;
        k[31] = last;
        k
    }

    #[test]
    fn preferred_initiator_by_hand() {
        // Both top bits clear: a < b picks a.
        let (a, b) = (key(1, 0), key(2, 0));
        assert_eq!(preferred_initiator(&a, &b), &a);
        assert_eq!(preferred_initiator(&b, &a), &a);
        // One top bit set flips the choice: the greater key initiates.
        let (a, b) = (key(1, 200), key(2, 0));
        assert_eq!(preferred_initiator(&a, &b), &b);
        assert_eq!(preferred_initiator(&b, &a), &b);
        // Both set: back to the lesser key.
        let (a, b) = (key(1, 128), key(2, 255));
        assert_eq!(preferred_initiator(&a, &b), &a);
        // The order is over byte 0 first, not the last byte: here a[31] > b[31] but a < b.
        let (a, b) = (key(1, 100), key(2, 5));
        assert_eq!(preferred_initiator(&a, &b), &a);
    }

    #[test]
    fn preferred_initiator_is_symmetric() {
        // Both sides of every pair of the six dev validators pick the same initiator.
        let keys: Vec<PeerKey> =
            (0..6).map(|i| orrery_keys::ValidatorKeys::dev(i).ed25519_public()).collect();
        let mut initiated = [0; 6];
        for (i, a) in keys.iter().enumerate() {
            for (j, b) in keys.iter().enumerate().skip(i + 1) {
                let p = preferred_initiator(a, b);
                assert_eq!(p, preferred_initiator(b, a));
                initiated[if p == a { i } else { j }] += 1;
            }
        }
        assert_eq!(initiated.iter().sum::<i32>(), 15);
    }

    #[test]
    fn grid_width_is_integer_square_root() {
        for (v, w) in
            [(1, 1), (3, 1), (4, 2), (6, 2), (8, 2), (9, 3), (1023, 31), (1024, 32), (u16::MAX, 255)]
        {
            assert_eq!(grid_width(v), w, "V={v}");
        }
    }

    #[test]
    fn grid_of_six() {
        // W = 2: rows {0,1} {2,3} {4,5}; columns {0,2,4} {1,3,5}.
        assert_eq!(grid_neighbours(0, 6), [1, 2, 4]);
        assert_eq!(grid_neighbours(3, 6), [1, 2, 5]);
        assert_eq!(grid_neighbours(5, 6), [1, 3, 4]);
        assert!(!same_epoch_neighbours(0, 3, 6));
        assert!(!same_epoch_neighbours(2, 2, 6));
        assert!(!same_epoch_neighbours(0, 6, 6));
        assert!(cross_epoch_neighbours(4, 4) && !cross_epoch_neighbours(4, 5));
    }

    #[test]
    fn grid_of_full_spec() {
        // V = 1023, W = 31: 32 full-or-partial rows; validator 1000 is row 32, column 8.
        let n = grid_neighbours(1000, 1023);
        assert!(n.contains(&992) && n.contains(&1022) && n.contains(&8) && n.contains(&39));
        assert!(!n.contains(&1000) && !n.contains(&9));
        // Row 32 holds 992..=1022 (31 members, 30 others); column 8 holds 8, 39, ..., 970 (32 others
        // besides 1000).
        assert_eq!(n.len(), 30 + 32);
    }

    #[test]
    fn epoch_change_rule() {
        // Tiny (E = 12): one slot. Full (E = 600): 20 slots.
        assert_eq!(epoch_change_delay(12), 1);
        assert_eq!(epoch_change_delay(600), 20);
        assert!(!epoch_change_applies(true, 600, 619, 600));
        assert!(epoch_change_applies(true, 600, 620, 600));
        assert!(!epoch_change_applies(false, 600, 700, 600));
        assert!(!epoch_change_applies(true, 12, 12, 12));
        assert!(epoch_change_applies(true, 12, 13, 12));
        assert_eq!((ticket_send_delay(600), ticket_forward_delay(600)), (10, 30));
        assert_eq!((ticket_send_delay(12), ticket_forward_delay(12)), (1, 1));
    }

    #[test]
    fn ticket_proxy_reads_the_last_four_bytes_big_endian() {
        let mut out = [0u8; 32];
        out[28..].copy_from_slice(&[0, 0, 1, 2]); // 258
        assert_eq!(ticket_proxy_index(&out, 6), Some(0)); // 258 = 43·6
        assert_eq!(ticket_proxy_index(&out, 1023), Some(258));
        out[31] = 3; // 259
        assert_eq!(ticket_proxy_index(&out, 6), Some(1));
        assert_eq!(ticket_proxy_index(&out, 0), None);
    }

    #[test]
    fn metadata_endpoints() {
        let mut m = [0u8; 128];
        // ::ffff:127.0.0.1, port 40001 = 0x9c41 little-endian.
        m[10] = 0xff;
        m[11] = 0xff;
        m[12..16].copy_from_slice(&[127, 0, 0, 1]);
        m[16..18].copy_from_slice(&[0x41, 0x9c]);
        assert_eq!(endpoint_from_metadata(&m), Some("127.0.0.1:40001".parse().unwrap()));
        assert_eq!(metadata_for_endpoint("127.0.0.1:40001".parse().unwrap()), m);
        // A native IPv6 address stays IPv6.
        let v6: SocketAddr = "[2001:db8::7]:30333".parse().unwrap();
        let m6 = metadata_for_endpoint(v6);
        assert_eq!(&m6[..2], &[0x20, 0x01]);
        assert_eq!(&m6[16..18], &30333u16.to_le_bytes());
        assert_eq!(endpoint_from_metadata(&m6), Some(v6));
        assert_eq!(endpoint_from_metadata(&[0u8; 128]), None);
    }
}
