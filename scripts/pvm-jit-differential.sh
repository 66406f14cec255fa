#!/usr/bin/env bash
# A long differential run of the recompiler (orrery-pvm-jit) against the interpreter on generated
# programs, both metering modes: CASES per mode (default 1,000,000) from stream SEED (default 1).
# The normal tests run 4000 per mode; this is the soak run the issue's count is taken from.
#
#   scripts/pvm-jit-differential.sh [CASES] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
CASES="${1:-1000000}"
SEED="${2:-1}"
echo "== ${CASES} generated programs per metering mode, seed ${SEED}"
ORRERY_JIT_DIFF_CASES="$CASES" ORRERY_JIT_DIFF_SEED="$SEED" \
  cargo test --release -p orrery-pvm-jit --test differential -- --nocapture
