//! Stream kinds (JAMNP-S "Protocols and streams"): the first byte the opener of a stream sends. Kinds
//! 0–127 are Unique Persistent (one per kind per connection, opened by the connection's initiator),
//! 128–255 Common Ephemeral (one request each).

/// A stream kind byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamKind(pub u8);

impl StreamKind {
    /// UP 0: block announcement.
    pub const BLOCK_ANNOUNCEMENT: Self = Self(0);
    /// CE 128: block request.
    pub const BLOCK_REQUEST: Self = Self(128);
    /// CE 129: state request.
    pub const STATE_REQUEST: Self = Self(129);
    /// CE 131: Safrole ticket, generating validator to proxy.
    pub const TICKET_TO_PROXY: Self = Self(131);
    /// CE 132: Safrole ticket, proxy to all current validators.
    pub const TICKET_TO_ALL: Self = Self(132);
    /// CE 133: work-package submission, builder to guarantor.
    pub const WORK_PACKAGE_SUBMISSION: Self = Self(133);
    /// CE 134: work-package sharing, guarantor to co-guarantor.
    pub const WORK_PACKAGE_SHARING: Self = Self(134);
    /// CE 135: guaranteed work-report distribution.
    pub const WORK_REPORT_DISTRIBUTION: Self = Self(135);
    /// CE 137: shard distribution, assurer to guarantor.
    pub const SHARD_DISTRIBUTION: Self = Self(137);
    /// CE 138: audit shard request, auditor to assurer.
    pub const AUDIT_SHARD_REQUEST: Self = Self(138);
    /// CE 139: segment-shard request, guarantor to assurer.
    pub const SEGMENT_SHARD_REQUEST: Self = Self(139);
    /// CE 141: assurance distribution.
    pub const ASSURANCE_DISTRIBUTION: Self = Self(141);
    /// CE 142: preimage announcement.
    pub const PREIMAGE_ANNOUNCEMENT: Self = Self(142);
    /// CE 143: preimage request.
    pub const PREIMAGE_REQUEST: Self = Self(143);
    /// CE 144: audit announcement.
    pub const AUDIT_ANNOUNCEMENT: Self = Self(144);
    /// CE 145: judgment publication.
    pub const JUDGMENT_PUBLICATION: Self = Self(145);
    /// CE 147: bundle request, auditor to guarantor.
    pub const BUNDLE_REQUEST: Self = Self(147);

    /// Unique Persistent (0–127) rather than Common Ephemeral.
    pub const fn is_unique_persistent(self) -> bool {
        self.0 < 128
    }

    /// The kinds JAMNP-S defines (simple.md @3a81108): UP 0 and CE 128, 129, 131–148.
    pub const fn is_defined(self) -> bool {
        matches!(self.0, 0 | 128 | 129 | 131..=148)
    }
}

impl std::fmt::Display for StreamKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pattern = if self.is_unique_persistent() { "UP" } else { "CE" };
        write!(f, "{pattern} {}", self.0)
    }
}

/// A set of stream kinds: those a node serves. Anything else a peer opens is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KindSet([u64; 4]);

impl KindSet {
    /// No kinds.
    pub const fn empty() -> Self {
        Self([0; 4])
    }

    /// The set of `kinds`.
    pub fn of(kinds: &[StreamKind]) -> Self {
        let mut set = Self::empty();
        for &kind in kinds {
            set.insert(kind);
        }
        set
    }

    /// The kinds this crate has messages for: UP 0, CE 128, 129, 131, 132.
    pub fn block_and_ticket() -> Self {
        Self::of(&[
            StreamKind::BLOCK_ANNOUNCEMENT,
            StreamKind::BLOCK_REQUEST,
            StreamKind::STATE_REQUEST,
            StreamKind::TICKET_TO_PROXY,
            StreamKind::TICKET_TO_ALL,
        ])
    }

    /// The kinds a node serves with this crate's messages: UP 0, CE 128, 129, 131–135, 137–139,
    /// 141–145 and 147 (block sync, tickets, guaranteeing, shards, assurances, preimages, audits). A
    /// driver adds the kinds it carries for other crates (GRANDPA's).
    pub fn node() -> Self {
        let mut set = Self::block_and_ticket();
        for kind in [
            StreamKind::WORK_PACKAGE_SUBMISSION,
            StreamKind::WORK_PACKAGE_SHARING,
            StreamKind::WORK_REPORT_DISTRIBUTION,
            StreamKind::SHARD_DISTRIBUTION,
            StreamKind::AUDIT_SHARD_REQUEST,
            StreamKind::SEGMENT_SHARD_REQUEST,
            StreamKind::ASSURANCE_DISTRIBUTION,
            StreamKind::PREIMAGE_ANNOUNCEMENT,
            StreamKind::PREIMAGE_REQUEST,
            StreamKind::AUDIT_ANNOUNCEMENT,
            StreamKind::JUDGMENT_PUBLICATION,
            StreamKind::BUNDLE_REQUEST,
        ] {
            set.insert(kind);
        }
        set
    }

    pub fn insert(&mut self, kind: StreamKind) {
        self.0[usize::from(kind.0 / 64)] |= 1 << (kind.0 % 64);
    }

    pub fn contains(&self, kind: StreamKind) -> bool {
        self.0[usize::from(kind.0 / 64)] & (1 << (kind.0 % 64)) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_and_defined_kinds() {
        assert!(StreamKind(0).is_unique_persistent());
        assert!(StreamKind(127).is_unique_persistent());
        assert!(!StreamKind(128).is_unique_persistent());
        assert!(StreamKind(0).is_defined() && StreamKind(148).is_defined());
        assert!(
            !StreamKind(1).is_defined() && !StreamKind(130).is_defined() && !StreamKind(149).is_defined()
        );
        assert_eq!(StreamKind(131).to_string(), "CE 131");
    }

    #[test]
    fn set_membership() {
        let set = KindSet::block_and_ticket();
        for k in [0u8, 128, 129, 131, 132] {
            assert!(set.contains(StreamKind(k)), "{k}");
        }
        for k in [1u8, 63, 64, 127, 130, 133, 255] {
            assert!(!set.contains(StreamKind(k)), "{k}");
        }
        assert!(KindSet::of(&[StreamKind(255)]).contains(StreamKind(255)));
    }

    #[test]
    fn node_kinds() {
        let set = KindSet::node();
        for k in [0u8, 128, 129, 131, 132, 133, 134, 135, 137, 138, 139, 141, 142, 143, 144, 145, 147] {
            assert!(set.contains(StreamKind(k)), "{k}");
        }
        for k in [1u8, 130, 136, 140, 146, 148, 149, 255] {
            assert!(!set.contains(StreamKind(k)), "{k}");
        }
    }
}
