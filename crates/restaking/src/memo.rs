//! Deferred transfers' memos (GP 0.7.2 §12.2; `W_T` = 128 octets): `E1(VERSION) ‖ E1(kind) ‖
//! fields`, the rest zero. A memo that does not read exactly so (other version, unknown kind,
//! non-zero octets after the fields) is refused and its transfer's amount sent back.
//!
//! In (to the service):
//!
//! | kind | memo | meaning |
//! |---|---|---|
//! | 0 | `1 ‖ 0` | fund the service's own balance (storage deposits); nothing credited |
//! | 1 | `1 ‖ 1 ‖ staker₃₂` | deposit: the amount, at [`crate::SHARES_PER_UNIT`], for `staker` |
//! | 2 | `1 ‖ 2 ‖ E4(id)` | create operator set `(source, id)`; the source service is its AVS |
//! | 3 | `1 ‖ 3 ‖ E4(avs) ‖ E4(id) ‖ operator₃₂ ‖ E16(wadToSlash)` | slash `operator` in set `(avs, id)` by `wadToSlash / 10¹⁸` of its allocation; only from `avs` |
//!
//! Out (from the service):
//!
//! | kind | memo | meaning |
//! |---|---|---|
//! | 128 | `1 ‖ 128 ‖ staker₃₂ ‖ E4(index) ‖ E16(shares)` | a completed withdrawal paid |
//! | 129 | `1 ‖ 129 ‖ E1(refusal)` | a refused transfer's amount sent back ([`crate::wire::Refusal`]) |

use crate::codec::Reader;
use crate::wire::{Key, OperatorSet, Refusal};
use crate::VERSION;

/// `W_T`, the memo size.
pub const MEMO_SIZE: usize = 128;

/// What a transfer to the service asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Memo {
    /// Funds the service's own balance.
    Fund,
    /// Deposits the transfer's amount for `staker`.
    Deposit { staker: Key },
    /// Creates operator set `(source, id)`.
    CreateOperatorSet { id: u32 },
    /// Slashes `operator` in `set` by `wad_to_slash` (in `(0, 10¹⁸]`).
    Slash { set: OperatorSet, operator: Key, wad_to_slash: u128 },
}

impl Memo {
    pub fn encode(&self) -> [u8; MEMO_SIZE] {
        let mut out = alloc::vec![VERSION];
        match self {
            Memo::Fund => out.push(0),
            Memo::Deposit { staker } => {
                out.push(1);
                out.extend_from_slice(staker);
            }
            Memo::CreateOperatorSet { id } => {
                out.push(2);
                out.extend_from_slice(&id.to_le_bytes());
            }
            Memo::Slash { set, operator, wad_to_slash } => {
                out.push(3);
                out.extend_from_slice(&set.avs.to_le_bytes());
                out.extend_from_slice(&set.id.to_le_bytes());
                out.extend_from_slice(operator);
                out.extend_from_slice(&wad_to_slash.to_le_bytes());
            }
        }
        let mut memo = [0; MEMO_SIZE];
        memo[..out.len()].copy_from_slice(&out);
        memo
    }

    /// Reads a memo; `None` unless it is exactly one of the layouts with zeros after.
    pub fn decode(memo: &[u8; MEMO_SIZE]) -> Option<Memo> {
        let mut r = Reader::new(memo);
        if r.u8()? != VERSION {
            return None;
        }
        let m = match r.u8()? {
            0 => Memo::Fund,
            1 => Memo::Deposit { staker: r.array()? },
            2 => Memo::CreateOperatorSet { id: r.u32()? },
            3 => Memo::Slash {
                set: OperatorSet { avs: r.u32()?, id: r.u32()? },
                operator: r.array()?,
                wad_to_slash: r.u128()?,
            },
            _ => return None,
        };
        r.rest().iter().all(|&b| b == 0).then_some(m)
    }
}

/// The memo of a completed withdrawal's payment.
pub fn withdrawal_paid(staker: &Key, index: u32, shares: u128) -> [u8; MEMO_SIZE] {
    let mut memo = [0; MEMO_SIZE];
    memo[0] = VERSION;
    memo[1] = 128;
    memo[2..34].copy_from_slice(staker);
    memo[34..38].copy_from_slice(&index.to_le_bytes());
    memo[38..54].copy_from_slice(&shares.to_le_bytes());
    memo
}

/// The memo of a refund.
pub fn refund(why: Refusal) -> [u8; MEMO_SIZE] {
    let mut memo = [0; MEMO_SIZE];
    memo[0] = VERSION;
    memo[1] = 129;
    memo[2] = why as u8;
    memo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memos_round_trip_and_are_laid_out_field_by_field() {
        let slash = Memo::Slash {
            set: OperatorSet { avs: 0x0102_0304, id: 5 },
            operator: [0xaa; 32],
            wad_to_slash: 250_000_000_000_000_000,
        };
        let m = slash.encode();
        assert_eq!(&m[..2], &[1, 3]);
        assert_eq!(&m[2..10], &[4, 3, 2, 1, 5, 0, 0, 0]);
        assert_eq!(&m[10..42], &[0xaa; 32]);
        // 25e16 = 0x0378_2DAC_E9D9_0000 little-endian, then zeros.
        assert_eq!(&m[42..50], &[0x00, 0x00, 0xd9, 0xe9, 0xac, 0x2d, 0x78, 0x03]);
        assert!(m[50..].iter().all(|&b| b == 0));
        for memo in [Memo::Fund, Memo::Deposit { staker: [7; 32] }, Memo::CreateOperatorSet { id: 9 }, slash]
        {
            assert_eq!(Memo::decode(&memo.encode()), Some(memo));
        }
        let mut trailing = Memo::Fund.encode();
        trailing[127] = 1;
        assert_eq!(Memo::decode(&trailing), None);
        let mut other_version = Memo::Fund.encode();
        other_version[0] = 2;
        assert_eq!(Memo::decode(&other_version), None);
        assert_eq!(Memo::decode(&[0; MEMO_SIZE]), None);
        let mut unknown = Memo::Fund.encode();
        unknown[1] = 4;
        assert_eq!(Memo::decode(&unknown), None);
    }
}
