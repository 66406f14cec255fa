//! Resource guards of one refine or is-authorized invocation: bounds the paper leaves out.
//!
//! GP 0.7.2 charges a flat 10 gas for host calls whose work grows with their arguments: `peek` and
//! `poke` copy up to 4 GiB, `pages` changes up to 2^20 pages, `machine` decodes a program of any
//! size, `fetch` and `historical_lookup` copy values of many megabytes, and `invoke` runs an inner
//! machine with whatever gas the caller names, none of it charged to the caller. Taken at their
//! word, 10 gas buys unbounded work, so a hostile work item could hold a guarantor for ever.
//!
//! Orrery keeps the paper's gas and results for every program that stays within generous totals,
//! and bounds the totals per invocation:
//!
//! | resource | bound | on excess |
//! |---|---|---|
//! | octets copied by `fetch`, `historical_lookup`, `peek`, `poke` | [`COPY_BUDGET`] (8 GiB) | the invocation panics |
//! | pages whose access `pages` sets | [`PAGE_BUDGET`] (2^24 pages, 64 GiB of address space) | the invocation panics |
//! | octets of inner programs `machine` decodes | [`PROGRAM_BUDGET`] (256 MiB) | the invocation panics |
//! | one inner program | [`MAX_INNER_PROGRAM`] (`W_C`, 4 MB) | the invocation panics |
//! | inner machines alive at once | [`MAX_INNER_MACHINES`] (32) | the invocation panics |
//! | gas used by inner machines, all `invoke`s together | the work item's refine gas limit | the inner run gets what is left and ends out of gas |
//!
//! Later revisions of the paper close the same holes by charging for the work (the inner machine's
//! gas capped at the caller's); until Orrery follows such a revision these guards apply. Each is a
//! pure function of the program's behaviour, so every node computes the same outcome.

/// The most octets the data-moving host calls may copy in one invocation.
pub const COPY_BUDGET: u64 = 1 << 33;
/// The most page-access changes `pages` may make in one invocation.
pub const PAGE_BUDGET: u64 = 1 << 24;
/// The most octets of inner-machine programs `machine` may decode in one invocation.
pub const PROGRAM_BUDGET: u64 = 1 << 28;
/// The longest program `machine` accepts: `W_C`, the longest a service's own code may be.
pub const MAX_INNER_PROGRAM: u64 = orrery_types::constants::MAX_SERVICE_CODE_SIZE as u64;
/// The most inner machines alive at once.
pub const MAX_INNER_MACHINES: usize = 32;

/// What is left of each budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    pub copy: u64,
    pub pages: u64,
    pub program: u64,
    /// The gas inner machines may still use.
    pub inner_gas: u64,
}

impl Budget {
    /// Full budgets, with `inner_gas` for the inner machines.
    pub fn new(inner_gas: u64) -> Self {
        Self { copy: COPY_BUDGET, pages: PAGE_BUDGET, program: PROGRAM_BUDGET, inner_gas }
    }

    /// Takes `amount` from `budget`; false, taking nothing, when less is left.
    pub fn take(budget: &mut u64, amount: u64) -> bool {
        match budget.checked_sub(amount) {
            Some(left) => {
                *budget = left;
                true
            }
            None => false,
        }
    }
}
