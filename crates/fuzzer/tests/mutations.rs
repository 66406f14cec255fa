//! Every mutation kind, applied to blocks of a generated chain, is rejected by Orrery's import;
//! the valid blocks around them import.

use std::collections::BTreeMap;
use std::sync::Arc;

use orrery_fuzzer::work::WorkConfig;
use orrery_fuzzer::{Config, Counts, Generator, Lane, Mutation, StepKind};
use orrery_testkit::tiny_import_context;

/// Runs `config` with every block mutated every way that applies until `wanted` kinds have been
/// rejected (at least 30 blocks, at most 60), each mutant checked rejected and each block
/// imported.
fn rejected_kinds(config: Config, wanted: &[Mutation]) -> (BTreeMap<Mutation, usize>, Counts) {
    let config = Config { mutation_ratio: 1.0, max_mutants: Mutation::ALL.len(), fork_ratio: 0.0, ..config };
    let mut generator = Generator::new(Arc::new(tiny_import_context()), config).unwrap();
    let mut rejected: BTreeMap<Mutation, usize> = BTreeMap::new();
    let mut blocks = 0;
    while blocks < 30 || !wanted.iter().all(|k| rejected.contains_key(k)) {
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
    (rejected, generator.counts())
}

#[test]
fn every_mutation_kind_is_rejected_by_import() {
    use Mutation::*;
    let work = [
        AssuranceAnchor,
        AssurancesOrder,
        GuaranteeSignature,
        GuaranteeSlot,
        GuarantorsOrder,
        GuaranteesOrder,
    ];
    let others: Vec<Mutation> = Mutation::ALL.into_iter().filter(|k| !work.contains(k)).collect();

    // Contests every epoch, a verdict in most blocks, the first of them bad (two culprits), so the
    // culprit mutations have something to alter whatever the seed. No reports: on tiny, a bad
    // verdict's two offenders would leave too few assurers for availability, so the work workload
    // does without bad verdicts.
    let config = Config {
        dispute_ratio: 0.6,
        first_verdict_bad: true,
        work: WorkConfig { ratio: 0.0, ..Config::lane(Lane::Safrole, 1).work },
        ..Config::lane(Lane::Safrole, 1)
    };
    let (mut rejected, counts) = rejected_kinds(config, &others);
    assert!(
        counts.tickets > 0
            && counts.ticket_sealed > 0
            && counts.verdicts > 0
            && counts.preimages > 0
            && counts.offenders > 0,
        "{counts:?}"
    );

    // Reports in most blocks, for the guarantee and assurance mutations.
    let config = Config {
        work: WorkConfig { ratio: 0.9, ..Config::lane(Lane::Happy, 1).work },
        ..Config::lane(Lane::Happy, 1)
    };
    let (with_work, counts) = rejected_kinds(config, &work);
    assert!(counts.work.reports > 0 && counts.work.assurances > 0, "{counts:?}");
    for (kind, n) in with_work {
        *rejected.entry(kind).or_default() += n;
    }
    assert_eq!(rejected.len(), Mutation::ALL.len(), "{rejected:?}");
}
