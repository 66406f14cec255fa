#!/usr/bin/env bash
# One `orrery fuzz` lane against a fuzz target binary: starts the target on a fresh socket, runs the
# lane against it (progress lines every few seconds, a summary at the end), stops the target.
# Divergences and findings are written as trace steps under OUT (replay one with
# `orrery import --genesis STEP STEP`).
#
# Usage: scripts/fuzz-lane.sh [LANE] [STEPS] [SEED]
#   LANE      happy, mutations or safrole (default: happy)
#   STEPS     blocks to send (default: 10000)
#   SEED      the seed (default: 0)
#   ORRERY    the orrery binary driving the lane (default: target/release/orrery; build it with
#             `cargo build --release -p orrery-cli`)
#   TARGET    the target command, run with `--socket SOCKET` appended (default: "$ORRERY fuzz-target
#             --spec $SPEC --idle 600": ten minutes of silence allowed, as a full-spec ticket
#             contest on a loaded machine can take minutes to generate);
#             e.g. TARGET="/path/to/fastroll fuzz" for fastroll built outside this repository with
#             `cargo build --release -p fastroll --features tiny,fuzz`)
#   SPEC      tiny or full (default: tiny)
#   OUT       where traces go (default: fuzz-out/LANE-SEED)
#   TIMEOUT   seconds before a silent target is reported as hung (default: 60)
#   KEEP_GOING  set (to anything) to go on past mutants the target accepts, counting them
#             (`orrery fuzz --keep-going`; a known bug of the target's then does not end a long run)
#   TARGET_LOG  where the target's output goes (default: a temporary file, its last lines printed
#             when the run fails; name a file to keep all of it, e.g. with RUST_LOG=info for fastroll)
set -euo pipefail
cd "$(dirname "$0")/.."
LANE=${1:-happy}
STEPS=${2:-10000}
SEED=${3:-0}
ORRERY=${ORRERY:-target/release/orrery}
SPEC=${SPEC:-tiny}
TARGET=${TARGET:-$ORRERY fuzz-target --spec $SPEC --idle 600}
OUT=${OUT:-fuzz-out/$LANE-$SEED}
TIMEOUT=${TIMEOUT:-60}
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
TARGET_LOG=${TARGET_LOG:-$dir/target.log}

# shellcheck disable=SC2086 # TARGET is a command with its arguments
$TARGET --socket "$dir/target.sock" >"$TARGET_LOG" 2>&1 &
target=$!
for _ in $(seq 600); do
  [ -S "$dir/target.sock" ] && break
  kill -0 "$target" 2>/dev/null || { echo "the target exited:"; cat "$TARGET_LOG"; exit 1; }
  sleep 0.1
done
status=0
"$ORRERY" fuzz --lane "$LANE" --spec "$SPEC" --steps "$STEPS" --seed "$SEED" --target "$dir/target.sock" \
  --out "$OUT" --timeout "$TIMEOUT" ${KEEP_GOING:+--keep-going} || status=$?
kill "$target" 2>/dev/null || true
wait "$target" 2>/dev/null || true
if [ "$status" -ne 0 ]; then
  echo "the target's log (last lines):"
  tail -20 "$TARGET_LOG"
fi
exit "$status"
