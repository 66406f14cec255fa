//! The `authorizer` guest: is-authorized accepts a work package when its authorization token
//! (fetch selector 9) equals its authorizer configuration (selector 8) and is not empty, and then
//! returns the trace `"authorized" ⌢ E2(c)`; otherwise it panics, which refuses the package.

#![no_std]

extern crate alloc;

use alloc::vec::Vec;

use orrery_service_sdk::entry::IsAuthorizedArgs;
use orrery_service_sdk::general::{fetch, Fetch};

fn is_authorized(args: IsAuthorizedArgs) -> Vec<u8> {
    let token = fetch(Fetch::AuthToken).unwrap_or_default();
    let config = fetch(Fetch::AuthConfig).unwrap_or_default();
    if token.is_empty() || token != config {
        panic!("the token does not match the configuration");
    }
    let mut trace = b"authorized".to_vec();
    trace.extend_from_slice(&args.core.to_le_bytes());
    trace
}

orrery_service_sdk::is_authorized!(is_authorized);
