#!/bin/sh
# Rebuilds the guest programs' committed blobs (guests/*.jam and guests/*.polkavm) from source, with
# the route of ../shared/docs/SERVICE-TOOLCHAIN.md: Debian's rustc-web (1.96, /usr/bin) with
# build-std for the PolkaVM RISC-V target, ld.lld-19, and polkavm-linker 0.37 from crates.io.
#
# Needs, once per machine: apt-get install -y rustc-web cargo-web rust-web-src lld-19
# Network: crates.io only (for the guest's and the builder's dependencies).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
work="$here/target"
mkdir -p "$work"

# The host-side builder, with whatever cargo is first on PATH.
cargo build --quiet --release --manifest-path "$here/builder/Cargo.toml" --target-dir "$work/builder"
builder="$work/builder/release/orrery-guest-builder"
"$builder" target-json "$work/riscv64emac-unknown-none-polkavm.json"

build_guest() {
    name=$1
    shift
    RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 /usr/bin/cargo build --quiet --release \
        -Zbuild-std=core,alloc -Zjson-target-spec \
        --target "$work/riscv64emac-unknown-none-polkavm.json" \
        --manifest-path "$here/$name/Cargo.toml" --target-dir "$work/$name"
    lib=$(echo "$name" | tr - _)
    archive="$work/$name/riscv64emac-unknown-none-polkavm/release/liborrery_guest_$lib.a"
    ld.lld-19 --emit-relocs --unique --apply-dynamic-relocs --no-allow-shlib-undefined -Bsymbolic -shared \
        --discard-all --gc-sections --whole-archive "$archive" -o "$work/$name.elf"
    "$builder" "$work/$name.elf" "$here/$name" "orrery-guest-$name" "$@"
}

build_guest compute compute
# Services written with crates/service-sdk: refine at instruction 0, accumulate at 5; an authorizer
# has is-authorized at 0 (the SDK's entry macros export these names).
build_guest probe orrery_refine orrery_accumulate
build_guest compute-service orrery_refine orrery_accumulate
build_guest authorizer orrery_is_authorized
