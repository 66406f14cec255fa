//! The PVM invocations of GP 0.7.2 Appendix B: what a service's code is run with, and the host
//! calls it may make.
//!
//! Status: all three invocations with every host call they offer: is-authorized Ψ_I
//! ([`is_authorized::is_authorized`], §B.2), refine Ψ_R ([`refine::refine`], §B.3) and accumulate
//! Ψ_A ([`accumulate::accumulate`], §B.4). The general functions of §B.5 ([`general`]) are shared
//! by them as the paper shares them. Computing a whole work report (Ξ) from Ψ_I and Ψ_R is
//! `orrery-work-report`'s job.
//!
//! Guest code runs on [`Backend::current`] ([`backend`]): orrery-pvm-jit's recompiler on x86-64
//! Linux, orrery-pvm's interpreter elsewhere or when chosen (`ORRERY_PVM`, the CLI's `--pvm`);
//! the host calls are written once over [`orrery_pvm::Guest`] and drive either.
//!
//! The PVM (`orrery-pvm`) knows nothing of services: it stops at each `ecalli` and hands the call
//! to a [`orrery_pvm::Host`]. [`accumulate::AccumulateHost`], [`refine::RefineHost`] and
//! [`is_authorized::IsAuthorizedHost`] are the paper's dispatchers `F`, with the context pair
//! `(x, y)` for accumulation and `(m, e)` (inner machines, exports) for refinement. Every host
//! call charges its gas first
//! (10; `transfer` 10 plus the transfer's gas when it succeeds),
//! runs out of gas when it cannot, and otherwise gives the paper's result code in `ω7` or ends the
//! run with a panic when the memory it names is not accessible. A host call never panics the node.
//!
//! `log` (JIP-1) costs 10 and answers `WHAT`, like an unknown call: the `stf/accumulate` vectors'
//! gas counts need the 10, although their README says `log` is free.
//!
//! | index | call | paper | module | tests (`tests/host_calls.rs` unless noted) |
//! |---|---|---|---|---|
//! | 0 | `gas` | Ω_G | [`general::gas`] | `gas_reports_what_is_left_after_its_own_cost` |
//! | 1 | `fetch` | Ω_Y | [`general::fetch`] | `fetch_constants_entropy_and_inputs`, `fetch_out_of_range_and_unwritable` |
//! | 2 | `lookup` | Ω_L | [`general::lookup`] | `lookup_own_and_other_preimages` |
//! | 3 | `read` | Ω_R | [`general::read`] | `read_own_and_other_storage` |
//! | 4 | `write` | Ω_W | [`general::write`] | `write_sets_removes_and_counts`, `write_beyond_the_balance_is_full` |
//! | 5 | `info` | Ω_I | [`general::info`] | `info_encodes_the_account` |
//! | 6 | `historical_lookup` | Ω_H | `RefineHost::historical_lookup` | `historical_lookup_sees_preimages_as_of_the_anchor` (`tests/refine_host_calls.rs`) |
//! | 7 | `export` | Ω_E | `RefineHost::export` | `export_pads_counts_and_fills_up`; `exports_stop_at_the_package_limit`, `exports_are_dropped_when_the_code_panics` (`tests/refine.rs`) |
//! | 8 | `machine` | Ω_M | [`refine::machines::InnerMachines::machine`] | `machine_gives_the_least_free_index_and_rejects_bad_programs` |
//! | 9 | `peek` | Ω_P | [`refine::machines::InnerMachines::peek`] | `an_inner_machine_faults_is_given_a_page_poked_runs_and_halts`, `peek_poke_and_pages_answer_who_oob_and_huh` |
//! | 10 | `poke` | Ω_O | [`refine::machines::InnerMachines::poke`] | the same two |
//! | 11 | `pages` | Ω_Z | [`refine::machines::InnerMachines::pages`] | the same two |
//! | 12 | `invoke` | Ω_K | [`refine::machines::InnerMachines::invoke`] | `an_inner_machine_faults_is_given_a_page_poked_runs_and_halts`, `inner_machines_panic_and_run_out_of_gas` |
//! | 13 | `expunge` | Ω_X | [`refine::machines::InnerMachines::expunge`] | `machine_gives_the_least_free_index_and_rejects_bad_programs`, `an_inner_machine_faults_is_given_a_page_poked_runs_and_halts` |
//! | 14 | `bless` | Ω_B | `AccumulateHost::bless` | `bless_sets_every_privilege` |
//! | 15 | `assign` | Ω_A | `AccumulateHost::assign` | `assign_needs_the_cores_assigner` |
//! | 16 | `designate` | Ω_D | `AccumulateHost::designate` | `designate_needs_the_delegator` |
//! | 17 | `checkpoint` | Ω_C | `AccumulateHost::checkpoint` | `checkpoint_copies_x_to_y_and_reports_gas`; `checkpoint_keeps_state_through_a_panic` (`tests/accumulate.rs`) |
//! | 18 | `new` | Ω_N | `AccumulateHost::new_service` | `new_creates_funded_services`, `new_by_the_registrar_below_s` |
//! | 19 | `upgrade` | Ω_U | `AccumulateHost::upgrade` | `upgrade_changes_code_and_limits` |
//! | 20 | `transfer` | Ω_T | `AccumulateHost::transfer` | `transfer_checks_and_charges_its_gas` |
//! | 21 | `eject` | Ω_J | `AccumulateHost::eject` | `eject_only_expired_children` |
//! | 22 | `query` | Ω_Q | `AccumulateHost::query` | `query_packs_the_request_state` |
//! | 23 | `solicit` | Ω_S | `AccumulateHost::solicit` | `solicit_and_forget_walk_the_request_states` |
//! | 24 | `forget` | Ω_F | `AccumulateHost::forget` | `solicit_and_forget_walk_the_request_states` |
//! | 25 | `yield` | Ω_♉ | `AccumulateHost::yield_hash` | `yield_sets_the_output` |
//! | 26 | `provide` | Ω_♈ | `AccumulateHost::provide` | `provide_only_what_was_asked` |
//! | 100 | `log` | JIP-1 | [`general::log`] | `log_costs_like_an_unknown_call_and_keeps_the_message` |
//! | other | — | `WHAT` | | `unknown_calls_cost_gas_and_say_what` |
//!
//! Every accumulate call is also tested for a page fault in the memory it reads or writes
//! (`every_call_panics_on_inaccessible_memory`) and for running out of gas
//! (`every_call_runs_out_of_gas_below_its_cost`); every refine call likewise in
//! `tests/refine_host_calls.rs` (`calls_panic_on_the_callers_inaccessible_memory`, the panics of
//! each call's own test, `every_call_runs_out_of_gas_below_its_cost`), with `gas`, `fetch` (the
//! zero entropy, trace, imports, extrinsics; no inputs), `log` and accumulate-only calls
//! answering `WHAT` in `gas_fetch_log_and_other_calls_in_refine`.
//!
//! Which calls each invocation offers (anything else costs 10 and answers `WHAT`):
//!
//! | invocation | calls | tests |
//! |---|---|---|
//! | Ψ_I | `gas`, `fetch` (the package only) | `tests/is_authorized.rs` |
//! | Ψ_R | `gas`, `fetch`, 6–13 | `tests/refine.rs`, `tests/refine_host_calls.rs` |
//! | Ψ_A | 0–5, 14–26 | `tests/accumulate.rs`, `tests/host_calls.rs` |
//!
//! Ψ_R on real programs (`tests/refine.rs`): the vectors' test service refines "Hello " ⌢ payload,
//! whose accumulation then stores it; `guests/probe` calls every refine host call, including an
//! inner machine that faults, is given a page, is poked, makes a host call, is peeked, halts and is
//! expunged, and exports an imported segment; its other modes loop to the gas limit, panic, fault
//! and export past `W_X`; `guests/compute-service` hashes like the `blake2` crate. Ψ_I runs
//! `guests/authorizer` (`tests/is_authorized.rs`).
//!
//! Where Orrery departs from GP 0.7.2 for refinement, and why: the inner machines follow the
//! PVM's vector-backed conventions (see [`refine::machines`]), and refine and is-authorized
//! invocations are bounded by the resource guards of [`refine::guard`], which no program within
//! generous totals can notice.
//!
//! Ψ_A itself (`tests/accumulate.rs`): halting with a hash, with other output, panicking, page
//! faults, looping until the gas runs out, missing or undecodable code, and the arguments
//! `E(t, s, |i|)`; [`testing`] assembles the services those tests run.

#![forbid(unused_must_use)]

pub mod accumulate;
pub mod backend;
pub mod codes;
pub mod general;
pub mod inputs;
pub mod is_authorized;
pub mod memory;
pub mod refine;
pub mod testing;

pub use accumulate::{accumulate, AccumulateOutput, PartialState, ProgramCache, StateChanges};
pub use backend::{Backend, BackendError};
pub use inputs::{AccumulationInput, DeferredTransfer, OperandTuple};
pub use is_authorized::{is_authorized, AuthorizationOutput};
pub use orrery_pvm::ExitDetail;
pub use refine::{refine, RefineInputs, RefineOutput};
