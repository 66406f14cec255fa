//! The messages of the audit streams (JAMNP-S @3a81108): CE 144 audit announcement and CE 145
//! judgment publication. What the signatures cover is GP 0.7.2 §17 (`orrery-audit`); the checks
//! that need chain state (the evidence against the block, the signer's place in the validator set)
//! are the node's.

use orrery_codec::{Decode, Decoder, Encode, Error};
use orrery_types::{CoreIndex, Ed25519Signature, Hash, HeaderHash, TimeSlot, ValidatorIndex};

use crate::message::MessageError;

/// Reports one announcement may name: one per core, and the full spec has 341 cores.
pub const MAX_ANNOUNCED_REPORTS: usize = 341;
/// No-shows one later-tranche evidence may list: one per validator of the full spec.
pub const MAX_NO_SHOWS: usize = 1023;

/// `Core Index ++ Work-Report Hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, orrery_codec::Encode, orrery_codec::Decode)]
pub struct AnnouncedReport {
    pub core: CoreIndex,
    pub report_hash: Hash,
}

/// `Announcement = len++[Core Index ++ Work-Report Hash] ++ Ed25519 Signature`.
#[derive(Debug, Clone, PartialEq, Eq, orrery_codec::Encode, orrery_codec::Decode)]
pub struct Announcement {
    pub reports: Vec<AnnouncedReport>,
    pub signature: Ed25519Signature,
}

/// `No-Show = Validator Index ++ Announcement` (of the previous tranche, unmatched by a judgment).
#[derive(Debug, Clone, PartialEq, Eq, orrery_codec::Encode, orrery_codec::Decode)]
pub struct NoShow {
    pub validator: ValidatorIndex,
    pub announcement: Announcement,
}

/// The evidence of an announcement: `s_0` for tranche 0; for a later tranche, per announced report
/// in order, `s_n(w) ++ len++[No-Show]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    First([u8; 96]),
    Subsequent(Vec<([u8; 96], Vec<NoShow>)>),
}

/// CE 144: `Header Hash ++ Tranche ++ Announcement`, then the evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditAnnouncement {
    pub block: HeaderHash,
    pub tranche: u8,
    pub announcement: Announcement,
    pub evidence: Evidence,
}

impl AuditAnnouncement {
    /// The two messages of the stream.
    pub fn encode(&self) -> (Vec<u8>, Vec<u8>) {
        let mut first = Vec::new();
        self.block.encode_to(&mut first);
        first.push(self.tranche);
        self.announcement.encode_to(&mut first);
        let mut second = Vec::new();
        match &self.evidence {
            Evidence::First(signature) => second.extend_from_slice(signature),
            Evidence::Subsequent(items) => {
                for (signature, no_shows) in items {
                    second.extend_from_slice(signature);
                    no_shows.encode_to(&mut second);
                }
            }
        }
        (first, second)
    }

    pub fn decode(first: &[u8], second: &[u8]) -> Result<Self, MessageError> {
        let mut d = Decoder::without_lengths(first);
        let block = d.array::<32>()?;
        let tranche = d.u8()?;
        let count = d.length()?;
        if count > MAX_ANNOUNCED_REPORTS {
            return Err(MessageError::TooMany { what: "CE 144 reports", count, cap: MAX_ANNOUNCED_REPORTS });
        }
        let reports = AnnouncedReport::decode_vec(&mut d, count)?;
        let signature = d.array::<64>()?;
        d.finish()?;
        let announcement = Announcement { reports, signature };

        let mut d = Decoder::without_lengths(second);
        let evidence = if tranche == 0 {
            Evidence::First(d.array::<96>()?)
        } else {
            let mut items = Vec::with_capacity(announcement.reports.len());
            for _ in &announcement.reports {
                let signature = d.array::<96>()?;
                let count = d.length()?;
                if count > MAX_NO_SHOWS {
                    return Err(MessageError::TooMany { what: "CE 144 no-shows", count, cap: MAX_NO_SHOWS });
                }
                let mut no_shows = Vec::new();
                for _ in 0..count {
                    let validator = d.u16()?;
                    let n = d.length()?;
                    if n > MAX_ANNOUNCED_REPORTS {
                        return Err(MessageError::TooMany {
                            what: "CE 144 no-show reports",
                            count: n,
                            cap: MAX_ANNOUNCED_REPORTS,
                        });
                    }
                    let reports = AnnouncedReport::decode_vec(&mut d, n)?;
                    let signature = d.array::<64>()?;
                    no_shows.push(NoShow { validator, announcement: Announcement { reports, signature } });
                }
                items.push((signature, no_shows));
            }
            Evidence::Subsequent(items)
        };
        d.finish()?;
        Ok(Self { block, tranche, announcement, evidence })
    }
}

/// `Guarantee = Slot ++ len++[Validator Index ++ Ed25519 Signature]` (2 or 3 signatures), sent with
/// a negative judgment.
#[derive(Debug, Clone, PartialEq, Eq, orrery_codec::Encode, orrery_codec::Decode)]
pub struct JudgedGuarantee {
    pub slot: TimeSlot,
    pub signatures: Vec<orrery_types::ValidatorSignature>,
}

/// CE 145: `Epoch Index ++ Validator Index ++ Validity ++ Work-Report Hash ++ Ed25519 Signature`,
/// then, if and only if the judgment is negative, the guarantee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgmentPublication {
    pub epoch: u32,
    pub validator: ValidatorIndex,
    pub valid: bool,
    pub report_hash: Hash,
    pub signature: Ed25519Signature,
    /// Present if and only if `valid` is false.
    pub guarantee: Option<JudgedGuarantee>,
}

impl JudgmentPublication {
    /// The stream's messages: one for a positive judgment, two for a negative one.
    pub fn encode(&self) -> Vec<Vec<u8>> {
        let mut first = Vec::with_capacity(4 + 2 + 1 + 32 + 64);
        self.epoch.encode_to(&mut first);
        self.validator.encode_to(&mut first);
        first.push(u8::from(self.valid));
        first.extend_from_slice(&self.report_hash);
        first.extend_from_slice(&self.signature);
        let mut messages = vec![first];
        if let Some(guarantee) = &self.guarantee {
            messages.push(guarantee.encode());
        }
        messages
    }

    /// Decodes the first message; `guarantee` is the second, which a negative judgment must have
    /// and a positive one must not.
    pub fn decode(first: &[u8], guarantee: Option<&[u8]>) -> Result<Self, MessageError> {
        let mut d = Decoder::without_lengths(first);
        let epoch = d.u32()?;
        let validator = d.u16()?;
        let valid = match d.u8()? {
            0 => false,
            1 => true,
            v => return Err(Error::InvalidDiscriminator { type_name: "Validity", value: v.into() }.into()),
        };
        let report_hash = d.array::<32>()?;
        let signature = d.array::<64>()?;
        d.finish()?;
        let guarantee = match (valid, guarantee) {
            (true, None) => None,
            (false, Some(bytes)) => {
                let mut d = Decoder::without_lengths(bytes);
                let slot = d.u32()?;
                let count = d.length()?;
                if !(2..=3).contains(&count) {
                    return Err(MessageError::TooMany {
                        what: "CE 145 guarantee signatures (2 or 3)",
                        count,
                        cap: 3,
                    });
                }
                let signatures = orrery_types::ValidatorSignature::decode_vec(&mut d, count)?;
                d.finish()?;
                Some(JudgedGuarantee { slot, signatures })
            }
            (true, Some(_)) => {
                return Err(MessageError::TooMany {
                    what: "CE 145 guarantee with a positive judgment",
                    count: 1,
                    cap: 0,
                })
            }
            (false, None) => {
                return Err(MessageError::TooMany {
                    what: "CE 145 negative judgment's guarantee",
                    count: 0,
                    cap: 1,
                })
            }
        };
        Ok(Self { epoch, validator, valid, report_hash, signature, guarantee })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn announcement(n: usize) -> Announcement {
        Announcement {
            reports: (0..n).map(|c| AnnouncedReport { core: c as u16, report_hash: [c as u8; 32] }).collect(),
            signature: [9; 64],
        }
    }

    #[test]
    fn tranche0_announcement_layout_by_hand() {
        let message = AuditAnnouncement {
            block: [1; 32],
            tranche: 0,
            announcement: announcement(1),
            evidence: Evidence::First([7; 96]),
        };
        let (first, second) = message.encode();
        let mut expected = vec![1; 32];
        expected.push(0); // tranche
        expected.push(1); // one report
        expected.extend_from_slice(&[0, 0]); // core 0, two octets little-endian
        expected.extend_from_slice(&[0; 32]);
        expected.extend_from_slice(&[9; 64]);
        assert_eq!(first, expected);
        assert_eq!(second, vec![7; 96]);
        assert_eq!(AuditAnnouncement::decode(&first, &second).unwrap(), message);
    }

    #[test]
    fn later_tranche_evidence_per_report() {
        let message = AuditAnnouncement {
            block: [2; 32],
            tranche: 2,
            announcement: announcement(2),
            evidence: Evidence::Subsequent(vec![
                ([3; 96], vec![NoShow { validator: 5, announcement: announcement(1) }]),
                ([4; 96], vec![]),
            ]),
        };
        let (first, second) = message.encode();
        // s_n ++ len ++ (validator 5 ++ announcement of one report), then s_n ++ len 0.
        assert_eq!(second.len(), 96 + 1 + (2 + 1 + 34 + 64) + 96 + 1);
        assert_eq!(second[96..99], [1, 5, 0]);
        assert_eq!(AuditAnnouncement::decode(&first, &second).unwrap(), message);
        // Evidence for one report too few, or trailing bytes: refused.
        assert!(AuditAnnouncement::decode(&first, &second[..second.len() - 97]).is_err());
        let mut long = second.clone();
        long.push(0);
        assert!(AuditAnnouncement::decode(&first, &long).is_err());
    }

    #[test]
    fn judgments_carry_a_guarantee_iff_negative() {
        let positive = JudgmentPublication {
            epoch: 7,
            validator: 3,
            valid: true,
            report_hash: [5; 32],
            signature: [6; 64],
            guarantee: None,
        };
        let messages = positive.encode();
        assert_eq!(messages.len(), 1);
        let mut expected = vec![7, 0, 0, 0, 3, 0, 1];
        expected.extend_from_slice(&[5; 32]);
        expected.extend_from_slice(&[6; 64]);
        assert_eq!(messages[0], expected);
        assert_eq!(JudgmentPublication::decode(&messages[0], None).unwrap(), positive);

        let signature = |v| orrery_types::ValidatorSignature { validator_index: v, signature: [v as u8; 64] };
        let negative = JudgmentPublication {
            valid: false,
            guarantee: Some(JudgedGuarantee { slot: 9, signatures: vec![signature(0), signature(1)] }),
            ..positive.clone()
        };
        let messages = negative.encode();
        assert_eq!(messages[1][..5], [9, 0, 0, 0, 2]);
        assert_eq!(JudgmentPublication::decode(&messages[0], Some(&messages[1])).unwrap(), negative);
        assert!(JudgmentPublication::decode(&messages[0], None).is_err());
        assert!(JudgmentPublication::decode(&positive.encode()[0], Some(&messages[1])).is_err());
        // One guarantor's signature is not a guarantee.
        let mut one = messages[1].clone();
        one[4] = 1;
        one.truncate(5 + 66);
        assert!(JudgmentPublication::decode(&messages[0], Some(&one)).is_err());
        // A validity byte of 2.
        let mut bad = messages[0].clone();
        bad[6] = 2;
        assert!(JudgmentPublication::decode(&bad, Some(&messages[1])).is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(first in proptest::collection::vec(proptest::num::u8::ANY, 0..400),
                                       second in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = AuditAnnouncement::decode(&first, &second);
            let _ = JudgmentPublication::decode(&first, Some(&second));
            let _ = JudgmentPublication::decode(&first, None);
        }
    }
}
