#!/usr/bin/env bash
# The README's test command, and what .ci/run runs: installs what the tests need and is missing, then
# runs every test of the workspace. Arguments go to `cargo test` (e.g. `scripts/test.sh -p orrery-pvm`).
#
# Needs: a stable Rust tool-chain (rustup; 1.85 or newer), Debian 12 or a Debian-like system for the
# guest tool-chain, and the JAM 0.7.2 vectors in ../shared/vectors/jam-0.7.2 (or ORRERY_VECTORS).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: no cargo on PATH: install a stable Rust tool-chain first (https://rustup.rs), then run this again" >&2
  exit 1
fi

vectors="${ORRERY_VECTORS:-../shared/vectors/jam-0.7.2}"
if [ ! -d "$vectors" ]; then
  echo "error: the JAM 0.7.2 conformance vectors are not at $vectors: put the shared/ folder beside this" \
    "repository (or set ORRERY_VECTORS to a copy of the vectors)" >&2
  exit 1
fi

# The service tests compile Rust guest code into PVM programs. That needs Debian's rustc/cargo 1.96
# with the library sources (build-std) and ld.lld-19, since rustup cannot fetch a nightly's rust-src
# here (docs/SERVICES.md, ../shared/docs/SERVICE-TOOLCHAIN.md). Installed once, only if missing.
# The explorer's browser tests (crates/cli/tests/explorer_browser.rs) drive Debian's headless
# Chromium through chromedriver; they fail, not skip, without them.
install() {
  local why=$1
  shift
  echo "== installing $* ($why)"
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: no apt-get: install Debian's $* (or their equivalents) by hand" >&2
    exit 1
  fi
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "error: installing $* needs root: run 'apt-get install -y $*' as root" >&2
      exit 1
    fi
    sudo="sudo"
  fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$@"
}
if [ ! -x /usr/bin/cargo ] || [ ! -x /usr/bin/rustc ] || [ ! -x /usr/bin/ld.lld-19 ] \
    || [ ! -d /usr/lib/rustlib/src/rust/library ]; then
  install "the service tests build Rust services into PVM code with it; see docs/SERVICES.md" \
    rustc-web cargo-web rust-web-src lld-19
fi
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  install "the explorer's browser tests drive headless Chromium" chromium chromium-driver
fi

echo "== cargo test --workspace --locked $*"
cargo test --workspace --locked "$@"
if [ $# -eq 0 ]; then
  # The recompiler sets the guest's GS base with `wrgsbase` where the kernel allows it (this
  # machine), else with a system call around each run: its tests again on the second path.
  echo "== ORRERY_JIT_GS_SYSCALL=1 cargo test --locked -p orrery-pvm-jit"
  ORRERY_JIT_GS_SYSCALL=1 cargo test --locked -p orrery-pvm-jit
fi
