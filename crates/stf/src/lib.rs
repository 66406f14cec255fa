//! The JAM block state-transition function (GP 0.7.2 §4.2), one pure function per sub-transition.
//!
//! Each module takes the prior values of the state components it reads and the extrinsic (or
//! header field) that drives it, and returns the posterior values and any output, or an error
//! whose [`code`](disputes::DisputesError::code) is the conformance vectors' name for it. Nothing
//! here does I/O, and an error leaves nothing half-written: the caller keeps its prior state.
//! Composing the sub-transitions into a whole block, in the paper's order, is block import's job.
//!
//! | module | GP 0.7.2 | reads → writes |
//! |---|---|---|
//! | [`disputes`] | §10 | ψ, ρ, τ, κ, λ → ψ', ρ†, `H_o` |
//! | [`assurances`] | §11.2 | ρ†, κ → ρ‡, W |
//! | [`reports`] | §11.3–11.5 | ρ‡, κ', λ', η', ψ'_O, β†, α, δ → ρ', R |
//! | [`accumulate`] | §12.1–12.3 | δ, ι, φ, χ, ω, ξ, W → δ‡, ι', φ', χ', ω', ξ', θ', S |
//! | [`preimages`] | §12.4 | δ‡ → δ', π_S |
//! | [`authorizations`] | §8 | α, φ' → α' |
//! | [`history`] | §7 | β → β†, β' |
//! | [`statistics`] | §13 | π → π' |
//! | [`safrole`] | §6 | τ, η, κ, λ, γ, ι, ψ'_O, `E_T` → τ', η', κ', λ', γ', `H_e`, `H_w` |

#![forbid(unused_must_use)]

pub mod accumulate;
pub mod assignments;
pub mod assurances;
pub mod authorizations;
pub mod contexts;
pub mod disputes;
pub mod history;
pub mod preimages;
pub mod reports;
pub mod safrole;
pub mod statistics;
