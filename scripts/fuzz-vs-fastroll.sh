#!/usr/bin/env bash
# One `orrery fuzz` lane against fastroll (fastroll-jam/fastroll, Apache-2.0): builds fastroll's fuzz
# target in its own checkout if it is not built yet, then runs the lane with scripts/fuzz-lane.sh,
# fastroll as the target (`fastroll fuzz --socket SOCKET`). Fastroll is not ours: nothing of it is
# in this repository; its checkout lives outside it (docs/fuzzing.md says which commit was used).
#
# Usage: scripts/fuzz-vs-fastroll.sh FASTROLL_DIR [LANE] [STEPS] [SEED]
#   FASTROLL_DIR  a fastroll checkout (e.g. a worktree of the commit in docs/fuzzing.md)
#   LANE STEPS SEED, and ORRERY, SPEC, OUT, TIMEOUT: as scripts/fuzz-lane.sh (SPEC must be tiny:
#                 fastroll picks its spec at build time, and this builds it with `tiny`)
# Building fastroll needs libclang (RocksDB's bindings): `apt-get install -y libclang-dev clang`.
# The build is long (RocksDB from source: about 25 minutes on 2 shared cores) and runs under nice.
set -euo pipefail
cd "$(dirname "$0")/.."
FASTROLL_DIR=${1:?usage: scripts/fuzz-vs-fastroll.sh FASTROLL_DIR [LANE] [STEPS] [SEED]}
shift
if [ "${SPEC:-tiny}" != tiny ]; then
  echo "fastroll is built here with --features tiny: SPEC must be tiny" >&2
  exit 1
fi
bin="$FASTROLL_DIR/target/release/fastroll"
if [ ! -x "$bin" ]; then
  echo "building fastroll in $FASTROLL_DIR (cargo build --release -p fastroll --features tiny,fuzz)"
  (cd "$FASTROLL_DIR" && nice -n 10 cargo build --release -p fastroll --features tiny,fuzz)
fi
TARGET="$bin fuzz" exec scripts/fuzz-lane.sh "$@"
