#!/usr/bin/env bash
# The explorer on a long chain (issue 17: first paint of the chain page under 1 s, of a block page
# under 200 ms, against a local node holding 100k blocks). Writes the dev chain's spec, has the dev
# validators author BLOCKS fallback-sealed blocks into a node database (the `long_chain` example;
# kept in DIR, so a second run reuses it), starts `orrery node run` on it as a follower with its
# RPC and explorer on loopback, and drives headless Chromium at the explorer
# (`first_paint_on_a_long_chain` in crates/cli/tests/explorer_browser.rs), printing each figure.
#
# Usage: scripts/explorer-long-chain.sh
#   BLOCKS   blocks in the chain (default 100000)
#   DIR      where the spec and database are kept (default target/long-chain)
#   ROUNDS   fresh page loads measured per page (default 5)
# Needs /usr/bin/chromium and /usr/bin/chromedriver (Debian's chromium, chromium-driver).
set -euo pipefail
cd "$(dirname "$0")/.."
BLOCKS=${BLOCKS:-100000}
DIR=${DIR:-target/long-chain}
ROUNDS=${ROUNDS:-5}
RPC=21900
EXPLORER=21901
QUIC=21902
VECTORS=../shared/vectors/jam-0.7.2
export ORRERY_SRS=$VECTORS/stf/safrole/zcash-srs-2-11-uncompressed.bin
export ORRERY_DEV_BASE=$VECTORS/traces/fallback/genesis.bin

cargo build --release --locked -q -p orrery-cli --bin orrery --example long_chain
mkdir -p "$DIR"
if [ ! -f "$DIR/spec.json" ]; then
  target/release/orrery chain-spec dev --validators 6 --out "$DIR/spec.json"
fi
have=0
[ -f "$DIR/blocks" ] && have=$(cat "$DIR/blocks")
if [ "$have" -lt "$BLOCKS" ]; then
  echo "authoring $((BLOCKS - have)) blocks into $DIR/db"
  start=$SECONDS
  target/release/examples/long_chain "$DIR/spec.json" "$ORRERY_SRS" "$DIR/db" $((BLOCKS - have)) > /dev/null
  echo "$BLOCKS" > "$DIR/blocks"
  echo "authored and imported in $((SECONDS - start)) s; database $(du -sh "$DIR/db" | cut -f1)"
fi

target/release/orrery node run --chain "$DIR/spec.json" --db "$DIR/db" --listen "127.0.0.1:$QUIC" \
  --rpc-port "$RPC" --explorer-port "$EXPLORER" > "$DIR/node.log" 2>&1 &
node=$!
trap 'kill $node 2>/dev/null; wait $node 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$RPC/health" > /dev/null && break
  sleep 0.5
done
echo "node: $(curl -sf "http://127.0.0.1:$RPC/health")"
ORRERY_EXPLORER_URL="http://127.0.0.1:$EXPLORER/" ORRERY_ROUNDS=$ROUNDS \
  cargo test --release --locked -q -p orrery-cli --test explorer_browser -- --ignored --nocapture \
  first_paint_on_a_long_chain
