#!/usr/bin/env bash
# Runs one of fuzz/'s libFuzzer targets for SECONDS, coverage-guided, on the stable tool-chain (the
# instrumentation flags cargo-fuzz passes, without needing cargo-fuzz or a nightly). Crashes and
# the corpus go under target/fuzz-runs/NAME.
#
#   scripts/fuzz-target.sh decode_grandpa_message 600
#   scripts/fuzz-target.sh decode_network_message 120
set -euo pipefail
name="${1:?usage: scripts/fuzz-target.sh TARGET SECONDS (targets: ls fuzz/fuzz_targets)}"
seconds="${2:?usage: scripts/fuzz-target.sh TARGET SECONDS}"
root="$(cd "$(dirname "$0")/.." && pwd)"
[ -f "$root/fuzz/fuzz_targets/$name.rs" ] || { echo "no fuzz target $name in fuzz/fuzz_targets" >&2; exit 2; }
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "SECONDS must be a whole number, not $seconds" >&2; exit 2; }
host="$(rustc -vV | sed -n 's/^host: //p')"
out="$root/target/fuzz-runs/$name"
mkdir -p "$out/corpus"
# --target keeps the instrumentation off build scripts and proc macros (they would not link).
RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks" \
  cargo build --manifest-path "$root/fuzz/Cargo.toml" --release --target "$host" --bin "$name" \
  --target-dir "$root/target/fuzz-build"
cd "$out"
"$root/target/fuzz-build/$host/release/$name" corpus -max_total_time="$seconds" -max_len=65536 \
  -artifact_prefix="$out/" 2>&1 | grep -E "^#[0-9]+ +(DONE|NEW)|^==|panicked|Done [0-9]+ runs" | tail -5
