//! Every mutation kind, applied to blocks of a generated chain, is rejected by Orrery's import;
//! the valid blocks around them import.

use std::collections::BTreeMap;
use std::sync::Arc;

use orrery_fuzzer::{Config, Generator, Lane, Mutation, StepKind};
use orrery_testkit::tiny_import_context;

#[test]
fn every_mutation_kind_is_rejected_by_import() {
    // Every block mutated every way that applies, contests every epoch, a verdict in most blocks,
    // the first of them bad (two culprits), so the culprit mutations have something to alter
    // whatever the seed; reports in most blocks without a verdict, for the guarantee and
    // assurance mutations.
    let config = Config {
        mutation_ratio: 1.0,
        max_mutants: Mutation::ALL.len(),
        dispute_ratio: 0.6,
        fork_ratio: 0.0,
        first_verdict_bad: true,
        work_ratio: 0.9,
        ..Config::lane(Lane::Safrole, 1)
    };
    let mut generator = Generator::new(Arc::new(tiny_import_context()), config).unwrap();
    let mut rejected: BTreeMap<Mutation, usize> = BTreeMap::new();
    let mut blocks = 0;
    while blocks < 30 || rejected.len() < Mutation::ALL.len() {
        assert!(blocks < 60, "after {blocks} blocks, kinds seen: {rejected:?}");
        let step = generator.next_step().unwrap();
        match step.kind {
            StepKind::Mutant(kind) => {
                let rule = step.outcome.as_ref().err().unwrap_or_else(|| {
                    panic!(
                        "Orrery imports a mutant ({kind:?}) of the block at slot {}",
                        step.block.header.slot
                    )
                });
                // Only a parent no one has is refused before import looks at the block.
                if kind != Mutation::Parent {
                    assert_ne!(rule, "unknown parent");
                }
                *rejected.entry(kind).or_default() += 1;
            }
            _ => {
                assert!(step.outcome.is_ok());
                blocks += 1;
            }
        }
    }
    let counts = generator.counts();
    assert!(
        counts.tickets > 0
            && counts.ticket_sealed > 0
            && counts.verdicts > 0
            && counts.preimages > 0
            && counts.offenders > 0
            && counts.work.reports > 0
            && counts.work.assurances > 0,
        "{counts:?}"
    );
}
