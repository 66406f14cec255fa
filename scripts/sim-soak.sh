#!/usr/bin/env bash
# The simulator's long run (not a CI test): six dev validators on the tiny spec over a rough
# network (20–400 ms, 2% lost, 1% duplicated, 5% held back) with tickets and GRANDPA on, a
# validator crashed for an epoch every 200 slots and a 3-3 partition for two epochs every 500
# slots. Exits non-zero if any node finalized off its own final chain, two nodes finalized
# different blocks or state roots at a slot, or finality had not resumed by the end; prints the
# simulated slots per second, the finality lag and the run hash. Run it twice with one seed to see
# the same hash.
#
# Usage: scripts/sim-soak.sh [SLOTS] [SEED] [extra example args: --calm, --no-tickets]
#   SLOTS  simulated slots (default: 2000; about 6 s each of simulated time)
#   SEED   the seed (default: 1)
set -euo pipefail
cd "$(dirname "$0")/.."
SLOTS=${1:-2000}
SEED=${2:-1}
shift $(( $# < 2 ? $# : 2 ))
cargo run --release --locked -p orrery-sim --example soak -- --slots "$SLOTS" --seed "$SEED" "$@"
