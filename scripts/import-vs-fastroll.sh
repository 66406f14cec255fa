#!/usr/bin/env bash
# Block import per trace over the JAM conformance fuzzer protocol, Orrery against fastroll in the
# same run: for each round and trace, a fresh `fastroll fuzz` and a fresh `orrery fuzz-target`, both
# driven by the same `orrery fuzz-client` (one session each, every ImportBlock round trip timed).
# Prints one line per target, round and trace, and each round's ratio (fastroll mean / ours).
#
# Usage: FASTROLL=/path/to/fastroll scripts/import-vs-fastroll.sh [TRACE...]
#   FASTROLL  a fastroll binary (fastroll-jam/fastroll, built with `--features tiny,fuzz`; not ours,
#             so not in this repository)
#   ORRERY    the orrery binary (default: target/release/orrery; build it with
#             `cargo build --release -p orrery-cli`)
#   VECTORS   the vectors (default: ../shared/vectors/jam-0.7.2)
#   ROUNDS    rounds (default: 3)
# TRACE defaults to fallback safrole storage preimages. Run it on a quiet machine: both targets use
# the cores, and other work on them shows in the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${FASTROLL:?set FASTROLL to a fastroll binary}"
ORRERY=${ORRERY:-target/release/orrery}
VECTORS=${VECTORS:-../shared/vectors/jam-0.7.2}
ROUNDS=${ROUNDS:-3}
TRACES=("$@")
[ ${#TRACES[@]} -gt 0 ] || TRACES=(fallback safrole storage preimages)
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT

mean() { sed -n 's/.*import ms: mean \([0-9.]*\).*/\1/p'; }

for round in $(seq 1 "$ROUNDS"); do
  for trace in "${TRACES[@]}"; do
    "$FASTROLL" fuzz --socket "$dir/fastroll.sock" >/dev/null 2>&1 &
    fastroll=$!
    "$ORRERY" fuzz-target --socket "$dir/orrery.sock" >/dev/null 2>&1 &
    orrery=$!
    for _ in $(seq 50); do
      [ -S "$dir/fastroll.sock" ] && [ -S "$dir/orrery.sock" ] && break
      sleep 0.1
    done
    sleep 0.5 # both targets settled (the ring context is loaded at start)
    theirs=$("$ORRERY" fuzz-client --socket "$dir/fastroll.sock" "$VECTORS/traces/$trace" | tail -1)
    ours=$("$ORRERY" fuzz-client --socket "$dir/orrery.sock" "$VECTORS/traces/$trace" | tail -1)
    kill "$fastroll" "$orrery" 2>/dev/null || true
    wait "$fastroll" "$orrery" 2>/dev/null || true
    rm -f "$dir"/*.sock
    echo "round $round $trace fastroll: ${theirs#*: }"
    echo "round $round $trace orrery:   ${ours#*: }"
    echo "round $round $trace ratio: $(echo "$theirs" | mean) / $(echo "$ours" | mean)" |
      awk '{ printf "%s %s %s fastroll/orrery: %.2fx\n", $1, $2, $3, $5 / $7 }'
  done
done
