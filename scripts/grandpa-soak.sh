#!/usr/bin/env bash
# The GRANDPA network simulation over many seeds: six voters, loss, reordering and forks; every
# seed must finalize the longest chain's head at every voter and never two conflicting blocks.
#
# Usage: scripts/grandpa-soak.sh [SEEDS]
#   SEEDS  how many seeds (default: 5000; 3000 took 7 min on a shared 2-core machine at load 16)
set -euo pipefail
cd "$(dirname "$0")/.."
ORRERY_GRANDPA_SEEDS="${1:-5000}" cargo test --release --locked -p orrery-grandpa --test network -- \
    six_voters_finalize_the_longest_chain_and_agree_over_many_seeds --nocapture
