#!/usr/bin/env bash
# The explorer against any node speaking JIP-2 (another implementation's, say): serves the page for
# the node at RPC with `orrery explorer`, then drives it in headless Chromium through every main
# page (crates/cli/tests/explorer_browser.rs, `the_explorer_against_another_node`), printing what
# each page shows and writing screenshots to target/explorer-screenshots/foreign-*.png.
#
# Usage: scripts/explorer-against.sh ws://127.0.0.1:PORT
#   ORRERY  the orrery binary (default: target/debug/orrery, built here if missing)
#   PORT    the explorer's loopback port (default 21712)
set -euo pipefail
cd "$(dirname "$0")/.."
RPC="${1:?give the JIP-2 WebSocket URL of the node, e.g. ws://127.0.0.1:19800}"
ORRERY=${ORRERY:-target/debug/orrery}
PORT=${PORT:-21712}
[ -x "$ORRERY" ] || cargo build --locked -q -p orrery-cli
"$ORRERY" explorer --rpc "$RPC" --listen "127.0.0.1:$PORT" &
explorer=$!
trap 'kill $explorer 2>/dev/null || true' EXIT
ORRERY_EXPLORER_URL="http://127.0.0.1:$PORT/" \
  cargo test --locked -q -p orrery-cli --test explorer_browser -- --ignored --nocapture the_explorer_against_another_node
