//! The seal and the entropy source are checked beside the transition (early, from the prior
//! state, within an epoch; after Safrole at an epoch change). Whichever way they ran, a broken
//! block must be rejected for the rule a sequential check in the paper's order names: here,
//! blocks of the vectors' traces with their seal, entropy source, author or earlier header fields
//! changed, on a block inside an epoch sealed by fallback keys, on the first block of an epoch,
//! and on a block sealed by a ticket.

use orrery_import::formats::TraceStep;
use orrery_import::{import_block, BlockError, HeaderError, ImportContext, ImportOptions};
use orrery_state::TicketsOrKeys;
use orrery_testkit::{tiny_import_context, tiny_state, trace_step as step};
use orrery_types::Block;

fn context() -> ImportContext {
    let mut ctx = tiny_import_context();
    ctx.ring_roots_ahead = false;
    ctx
}

/// Imports `change(block)` onto the step's pre-state: the header error, or `None` if imported.
fn header_error(ctx: &ImportContext, step: &TraceStep, change: impl Fn(&mut Block)) -> Option<HeaderError> {
    let prior = tiny_state(&step.pre_state);
    let mut block = step.block.clone();
    change(&mut block);
    match import_block(ctx, &prior, &block, &ImportOptions::default()) {
        Ok(imported) => {
            assert_eq!(
                imported.state.root(),
                step.post_state.state_root,
                "an unchanged block imports as the trace says"
            );
            None
        }
        Err(BlockError::Header(e)) => Some(e),
        Err(e) => panic!("expected a header error, got {e}"),
    }
}

/// The checks every kind of block must pass; `wrong_author` is what the slot's sealing rule says
/// of a block by another validator.
fn check_verdicts(ctx: &ImportContext, step: &TraceStep, wrong_author: HeaderError) {
    use HeaderError::*;
    let validators = ctx.spec.validators_count;
    assert_eq!(header_error(ctx, step, |_| {}), None);
    // The proof part of the seal, then its output point.
    assert_eq!(header_error(ctx, step, |b| b.header.seal[40] ^= 1), Some(BadSeal));
    assert_eq!(header_error(ctx, step, |b| b.header.seal[3] ^= 1), Some(BadSeal));
    // The seal signs the unsigned header, the entropy source included: changing that breaks
    // the seal too, which is named first, and so is a seal broken alongside it. (A valid seal
    // over a bad entropy source needs the author's secret key, which the traces do not give.)
    assert_eq!(header_error(ctx, step, |b| b.header.entropy_source[40] ^= 1), Some(BadSeal));
    assert_eq!(
        header_error(ctx, step, |b| {
            b.header.seal[40] ^= 1;
            b.header.entropy_source[40] ^= 1;
        }),
        Some(BadSeal)
    );
    assert_eq!(
        header_error(ctx, step, |b| b.header.author_index = (b.header.author_index + 1) % validators),
        Some(wrong_author)
    );
    // Rules before the seal win over it, though changing the header breaks the seal too.
    assert!(matches!(
        header_error(ctx, step, |b| b.header.parent_state_root[0] ^= 1),
        Some(BadParentStateRoot { .. })
    ));
    assert_eq!(header_error(ctx, step, |b| b.header.extrinsic_hash[0] ^= 1), Some(BadExtrinsicHash));
    // An epoch marker where there is none (the one of the storage trace's first epoch change), or
    // none where there is one.
    let wrong_mark = match step.block.header.epoch_mark {
        Some(_) => None,
        None => self::step("storage", 12).block.header.epoch_mark,
    };
    assert!(wrong_mark.is_some() || step.block.header.epoch_mark.is_some());
    assert_eq!(header_error(ctx, step, |b| b.header.epoch_mark = wrong_mark.clone()), Some(EpochMark));
}

#[test]
fn a_block_inside_an_epoch_sealed_by_a_fallback_key() {
    let ctx = context();
    let step = step("storage", 5);
    let prior = tiny_state(&step.pre_state);
    assert_eq!(prior.state().timeslot / 12, step.block.header.slot / 12, "inside the prior state's epoch");
    assert!(matches!(prior.state().safrole.sealing_keys, TicketsOrKeys::Keys(_)));
    check_verdicts(&ctx, &step, HeaderError::UnexpectedAuthor);
}

#[test]
fn the_first_block_of_an_epoch() {
    let ctx = context();
    let step = step("storage", 12);
    let prior = tiny_state(&step.pre_state);
    assert!(prior.state().timeslot / 12 < step.block.header.slot / 12, "an epoch change");
    check_verdicts(&ctx, &step, HeaderError::UnexpectedAuthor);
}

#[test]
fn a_block_sealed_by_a_ticket() {
    let ctx = context();
    // The first block of the safrole trace inside an epoch sealed by tickets.
    let step = (1..=100)
        .map(|n| step("safrole", n))
        .find(|s| {
            let prior = tiny_state(&s.pre_state);
            let state = prior.state();
            state.timeslot / 12 == s.block.header.slot / 12
                && matches!(state.safrole.sealing_keys, TicketsOrKeys::Tickets(_))
        })
        .expect("the safrole trace has an epoch sealed by tickets");
    // Another author cannot make the ticket's VRF: its seal does not verify.
    check_verdicts(&ctx, &step, HeaderError::BadSeal);
}
