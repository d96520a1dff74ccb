#!/usr/bin/env bash
# Runs every check and test wxdesk has, in the order CI needs them: formatting, lints, the UI's
# type check/lint/unit tests, the bindings drift check, every Rust test (with a real Secret
# Service), the end-to-end suite against the real app window under Xvfb, the fuzz smoke runs and
# the benchmarks in short mode. Installs what a fresh machine lacks first. .ci/run calls this.
#   scripts/test-all.sh            everything
#   WXDESK_SKIP_E2E=1 scripts/test-all.sh   everything but the window (quick local loop)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

step() { printf '\n\033[1m==> %s\033[0m  (%s)\n' "$*" "$(date +%T)"; }

step "machine setup"
eval "$(bash scripts/setup-system.sh | tail -n 1)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wxdesk-target}"
export CARGO_TERM_COLOR=never
export WXDESK_ARTIFACTS="${WXDESK_ARTIFACTS:-$CARGO_TARGET_DIR/e2e-artifacts}"
echo "node $(node --version), $(cargo --version), target dir $CARGO_TARGET_DIR"

step "ui: install dependencies (the lock file must come out unchanged)"
# npm install installs exactly the lock; a lock it rewrites means package.json and the lock
# disagree (or npm resolved differently on this machine): fail here instead of committing drift.
lock_before="$(sha256sum ui/package-lock.json)"
(cd ui && npm install --no-audit --no-fund --loglevel=error)
if [ "$(sha256sum ui/package-lock.json)" != "$lock_before" ]; then
  echo "npm install rewrote ui/package-lock.json; commit the lock npm writes (git diff ui/package-lock.json)" >&2
  exit 1
fi

step "rustfmt"
cargo fmt --all -- --check

step "ui: lint, type check, unit tests, build"
(cd ui && npm run lint && npm run typecheck && npm run test && npm run build)

step "typed bindings match the Rust commands"
cargo test -p wxdesk --test bindings_drift

step "clippy (warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "Rust tests (real Secret Service in a private D-Bus session, Python interop)"
# Tests that need the OS keychain or Python + PyPI are #[ignore]d for a plain `cargo test` (so
# they show as ignored, never as passed, where the environment lacks them); here the
# environment has them, so they run, and fail if it turns out not to.
WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh \
  cargo test --workspace --exclude wxdesk-e2e --exclude wxdesk-bench -- --include-ignored

if [ -z "${WXDESK_SKIP_E2E:-}" ]; then
  step "end-to-end: the real app under Xvfb through tauri-driver"
  # The e2e binary embeds ui/dist (custom-protocol); a plain debug build would load the dev server.
  cargo build -p wxdesk --features tauri/custom-protocol
  export WXDESK_APP_BIN="$CARGO_TARGET_DIR/debug/wxdesk"
  # Production mode's journey runs the relay and the simulator as processes of their own.
  cargo build -p wxdesk-relay -p wxdesk-sim --bins
  export WXDESK_RELAY_BIN="$CARGO_TARGET_DIR/debug/wxdesk-relay"
  export WXDESK_SIM_BIN="$CARGO_TARGET_DIR/debug/wxdesk-sim"
  WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh \
    xvfb-run -a -s "-screen 0 1280x800x24" \
    cargo test -p wxdesk-e2e --no-fail-fast -- --test-threads=1
  echo "screenshots: $WXDESK_ARTIFACTS"
fi

step "fuzz: the callback parser and decrypt_push (the stable harness; cargo-fuzz on top when installed)"
# libFuzzer prints a line per new coverage point; keep the log short unless something failed.
fuzz_log="$(mktemp)"
if FUZZ_SECS="${FUZZ_SECS:-15}" bash crates/wechat/fuzz/run.sh >"$fuzz_log" 2>&1; then
  grep -E '^(==|Done|#[0-9]+ +DONE)|stable smoke|test result' "$fuzz_log" || tail -n 5 "$fuzz_log"
  rm -f "$fuzz_log"
else
  cat "$fuzz_log"; rm -f "$fuzz_log"; exit 1
fi

if [ -f scripts/bench-all.sh ]; then
  step "benchmarks, short mode (proves they still run; figures live in bench/RESULTS.md)"
  WXDESK_BENCH_SHORT=1 bash scripts/bench-all.sh
fi

step "all checks passed"
