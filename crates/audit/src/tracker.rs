//! What a validator has seen of one report's audit (GP 0.7.2 §17.3): `A_n(w)`, `J_⊤(w)`, `J_⊥(w)`,
//! and whether the report is audited (`U(w)`, eq. 17.10).

use std::collections::{BTreeMap, BTreeSet};

use orrery_types::{CoreIndex, Hash, ValidatorIndex};

/// One report's audit as seen by one validator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportAudit {
    pub core: CoreIndex,
    pub report_hash: Hash,
    /// `A_n(w)`: who announced it, per tranche.
    announced: BTreeMap<u8, BTreeSet<ValidatorIndex>>,
    /// `J_⊤(w)` and `J_⊥(w)`.
    positive: BTreeSet<ValidatorIndex>,
    negative: BTreeSet<ValidatorIndex>,
}

impl ReportAudit {
    pub fn new(core: CoreIndex, report_hash: Hash) -> Self {
        Self { core, report_hash, ..Self::default() }
    }

    /// Validator `v` announced it will audit at tranche `n` (its evidence already checked).
    pub fn announce(&mut self, tranche: u8, validator: ValidatorIndex) {
        self.announced.entry(tranche).or_default().insert(validator);
    }

    /// Validator `v` published a judgment (its signature already checked). A validator that
    /// judges both ways stays in both sets: it is a culprit for the disputes system.
    pub fn judge(&mut self, validator: ValidatorIndex, valid: bool) {
        if valid {
            self.positive.insert(validator);
        } else {
            self.negative.insert(validator);
        }
    }

    pub fn announced(&self, tranche: u8) -> impl Iterator<Item = ValidatorIndex> + '_ {
        self.announced.get(&tranche).into_iter().flatten().copied()
    }

    pub fn positive(&self) -> &BTreeSet<ValidatorIndex> {
        &self.positive
    }

    pub fn negative(&self) -> &BTreeSet<ValidatorIndex> {
        &self.negative
    }

    /// `m_n = |A_{n−1}(w) \ J_⊤(w)|`: the no-shows of the tranche before `n` (0 for tranche 0).
    pub fn no_shows(&self, tranche: u8) -> usize {
        match tranche.checked_sub(1) {
            None => 0,
            Some(previous) => self.announced(previous).filter(|v| !self.positive.contains(v)).count(),
        }
    }

    /// Whether a validator must judge it at any later tranche regardless of any draw: a negative
    /// judgment has been seen (§17.3: "the validator is always required to issue a judgment").
    pub fn must_audit(&self) -> bool {
        !self.negative.is_empty()
    }

    /// `U(w)`: no negative judgment and some tranche whose announcers all judged it valid, or
    /// positive judgments from more than two thirds of the `validators`.
    ///
    /// A tranche in which nobody announced does not count: the paper's `A_n(w) ⊂ J_⊤(w)` holds
    /// vacuously for it, which would make a report nobody looked at audited.
    pub fn audited(&self, validators: u16) -> bool {
        let supermajority = 3 * self.positive.len() > 2 * usize::from(validators);
        let some_tranche_complete = self.negative.is_empty()
            && self.announced.values().any(|a| !a.is_empty() && a.is_subset(&self.positive));
        supermajority || some_tranche_complete
    }

    /// More than a third of the validators judged it invalid: the block that carries it is to be
    /// disregarded (§17.3, last paragraphs; §10's bad verdict).
    pub fn judged_invalid(&self, validators: u16) -> bool {
        3 * self.negative.len() > usize::from(validators)
    }
}

/// `U(B)`: a block is audited when every report it made available is (eq. 17.11).
pub fn block_audited<'a>(reports: impl IntoIterator<Item = &'a ReportAudit>, validators: u16) -> bool {
    reports.into_iter().all(|r| r.audited(validators))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audited_when_a_tranche_is_fully_matched() {
        let mut r = ReportAudit::new(0, [1; 32]);
        assert!(!r.audited(6), "nobody announced: not audited");
        r.announce(0, 1);
        r.announce(0, 4);
        r.judge(1, true);
        assert!(!r.audited(6));
        assert_eq!(r.no_shows(1), 1);
        r.judge(4, true);
        assert!(r.audited(6));
        assert_eq!(r.no_shows(1), 0);
    }

    #[test]
    fn a_negative_judgment_needs_a_supermajority() {
        let mut r = ReportAudit::new(1, [2; 32]);
        r.announce(0, 0);
        r.judge(0, true);
        r.judge(3, false);
        assert!(!r.audited(6), "a tranche matched, but a negative judgment stands");
        assert!(r.must_audit());
        // 5 of 6 positive: more than two thirds (3·5 = 15 > 12).
        for v in [1, 2, 4, 5] {
            r.judge(v, true);
        }
        assert!(r.audited(6));
        // Exactly two thirds is not more: 4 of 6.
        let mut s = ReportAudit::new(1, [2; 32]);
        for v in [0, 1, 2, 3] {
            s.judge(v, true);
        }
        s.judge(5, false);
        assert!(!s.audited(6));
    }

    #[test]
    fn invalid_past_a_third() {
        let mut r = ReportAudit::new(0, [3; 32]);
        r.judge(0, false);
        r.judge(1, false);
        assert!(!r.judged_invalid(6), "2 of 6 is a third, not more");
        r.judge(2, false);
        assert!(r.judged_invalid(6));
    }

    #[test]
    fn a_block_is_audited_when_all_its_reports_are() {
        let mut a = ReportAudit::new(0, [1; 32]);
        let mut b = ReportAudit::new(1, [2; 32]);
        a.announce(0, 0);
        a.judge(0, true);
        assert!(!block_audited([&a, &b], 6));
        b.announce(1, 2);
        b.judge(2, true);
        assert!(block_audited([&a, &b], 6));
        assert!(block_audited([], 6), "no reports made available: audited");
    }
}
