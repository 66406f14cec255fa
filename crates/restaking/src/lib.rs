//! The `restaking` service's protocol (issue 19): EigenLayer-style restaking with slashing. What a
//! work item carries, what a transfer's memo asks for, what refine hands to accumulate, and what
//! accumulate keeps in storage. The service itself is `services/restaking`; this crate is shared
//! by it (compiled for the PVM) and by host code that builds work items and transfers and reads the
//! service's storage (tests, tools, another service acting as an AVS).
//!
//! Encodings follow the Gray Paper's codec (GP 0.7.2 Appendix C): fixed-width little-endian
//! integers `E_n`, the compact natural `E` for counts, no padding. Every payload, refine output and
//! memo starts with [`VERSION`]; anything else is refused.
//!
//! Who acts, and how:
//! - stakers and operators are Ed25519 keys; their commands ([`wire::Command`]) go in work items,
//!   signed over [`wire::DOMAIN`] ‖ `E(command)`, each with a nonce above the signer's last;
//! - a deposit is a deferred transfer to the service (GP 0.7.2 §12.2) whose memo names
//!   the staker ([`memo::Memo::Deposit`]): the transfer's amount is the stake, so no signature is
//!   needed and a payer service can deposit for a staker;
//! - an AVS is a service: it creates operator sets and slashes by transfer memos
//!   ([`memo::Memo::CreateOperatorSet`], [`memo::Memo::Slash`]); the transfer's source service id,
//!   which the protocol sets (a deferred transfer's `s`), is the AVS's identity.
//!
//! The arithmetic is `orrery-restaking-math`'s (EigenLayer's, one strategy: the service's own
//! balance at [`SHARES_PER_UNIT`] shares per unit, as an EigenPod counts gwei in wei).
//!
//! - [`wire`]: signed commands, the payload, refine's verdicts, the refusals.
//! - [`memo`]: the transfer memos in and out.
//! - [`store`]: the storage keys and records, the append-only log of balance changes included.
//!
//! Not here: signature verification (the service verifies with `ed25519-zebra`), AVS-side
//! registrars (an operator registers itself to a set; the AVS decides whom to slash), rewards,
//! redistribution of slashed funds (they are burnt: kept by the service, counted in
//! [`store::Totals::slashed_shares`]), undelegation, several strategies.
#![no_std]

extern crate alloc;

/// The codec pieces the protocol is written in (`orrery-service-codec`).
pub use orrery_service_codec as codec;
pub mod memo;
pub mod store;
pub mod wire;

/// The protocol version: the first octet of every payload, refine output and memo.
pub const VERSION: u8 = 1;

/// Shares per unit of balance: a deposit of `a` units is `a · 10⁹` deposit shares, and a completed
/// withdrawal of `s` shares pays `⌊s / 10⁹⌋` units (what is left of the shares stays with the
/// service). At this rate EigenLayer's test amounts (`100e18` shares) are `100e9` units.
pub const SHARES_PER_UNIT: u128 = 1_000_000_000;

/// Slots a queued withdrawal stays slashable (`MIN_WITHDRAWAL_DELAY_BLOCKS`): 14 days of 6-second
/// slots (EigenLayer's is 14 days of 12-second blocks). Completion needs a later slot.
pub const MIN_WITHDRAWAL_DELAY: u32 = 201_600;

/// Slots a deallocation stays slashable (`DEALLOCATION_DELAY`), and an operator after leaving a
/// set: 14 days.
pub const DEALLOCATION_DELAY: u32 = 201_600;

/// Slots before a changed allocation delay applies (`ALLOCATION_CONFIGURATION_DELAY`): 17.5 days.
/// The delay given at registration applies at once.
pub const ALLOCATION_CONFIGURATION_DELAY: u32 = 252_000;
